"""The AutoChunk benchmark: ``python benchmarks/autochunk_bench.py [--quick] [--out DIR]``.

The same command as ``octopus autochunk-bench`` (see ``--help`` and
:mod:`octopus.experiments.autochunk_bench`): it writes ``results.csv``, ``max_seq_len.csv``,
``search_time.csv``, ``results.md`` and plots into ``--out`` (default ``runs/autochunk``; the
committed report is regenerated with ``--out reports/autochunk``). ``--quick`` is the CI smoke
size.
"""

from __future__ import annotations

import sys

from octopus.cli.main import main

if __name__ == "__main__":
    sys.argv = ["octopus", "autochunk-bench", *sys.argv[1:]]
    main()
