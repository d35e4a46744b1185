"""Run the AutoChunk benchmark: ``python benchmarks/autochunk_bench.py [--quick] [--out DIR]``.

Writes ``results.csv``, ``max_seq_len.csv``, ``search_time.csv``, ``results.md`` and plots to
``reports/autochunk/`` (see :mod:`octopus.experiments.autochunk_bench`). ``--quick`` is the CI
smoke size.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: spin-waits skew timings

import argparse  # noqa: E402
import logging  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from octopus.experiments.autochunk_bench import run_benchmark  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke test")
    parser.add_argument("--out", default="reports/autochunk", help="output directory")
    parser.add_argument("--families", nargs="*", default=None, help="gpt vit evoformer unet")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--repeats", type=int, default=None, help="timed pairs per plan")
    parser.add_argument("--no-max-seq", action="store_true", help="skip the max-length search")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/autochunk_bench.py",
                                                             *(argv or sys.argv[1:])])
    report = run_benchmark(args.out, args.quick, families=args.families, threads=args.threads,
                           repeats=args.repeats, max_seq=not args.no_max_seq, command=command)
    print(Path(args.out, "results.md").read_text())
    print(f"wall time {report.wall_s:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
