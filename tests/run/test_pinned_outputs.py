"""Pinned outputs: small runs give byte-for-byte the files they gave when pinned.

Speed work (issue 16) must not change what a run computes. Each case is a run written to a
directory; the pin is a SHA-256 of its ``summary.json``, ``firings.csv``, ``tbus.csv`` and
``trace.json``, in that order (the first 24 hex digits). A change that is *meant* to change a
model or a scheduler's decisions re-pins the cases it changes, saying why in its commit;
``python tests/run/test_pinned_outputs.py`` prints the table of the current code.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from octopus.run import RunSpec, execute

FILES = ("summary.json", "firings.csv", "tbus.csv", "trace.json")
SEED = 3

# (workflow, arch, instances, rate_per_s or None for a closed batch, scheduler, pin)
PINS = [
    ("face-recognition", "chip", 12, 300.0, "greedy", "a0dae12db014b3497449d6bb"),
    ("face-recognition", "chip", 12, 300.0, "static", "73fc27c876a436825ff35b48"),
    ("face-recognition", "chip", 12, 300.0, "affinity", "93118d6757f18655f1cfb9f1"),
    ("face-recognition", "chip", 12, 300.0, "locality", "6e3cddadad623005c49b76ee"),
    ("face-recognition", "chip", 12, 300.0, "reactive", "a08fc317351de4d02daf2e1f"),
    ("face-recognition", "chip", 12, 300.0, "clairvoyant", "fdb3bc15e984b77a956fbdd6"),
    ("face-recognition", "chip", 12, 300.0, "octopus", "f723719e6c52a4c563de3c41"),
    ("llm-agent", "chip", 6, None, "greedy", "3cfa433f597bb25e5ba90acc"),
    ("llm-agent", "chip", 6, None, "static", "6fca4831ca7ddbf6d82c4d71"),
    ("llm-agent", "chip", 6, None, "affinity", "a87e79776d3636cc6761888e"),
    ("llm-agent", "chip", 6, None, "locality", "1f71af832553ba7cfd35e890"),
    ("llm-agent", "chip", 6, None, "reactive", "f182b382b54963c760d25c32"),
    ("llm-agent", "chip", 6, None, "clairvoyant", "58084d6f5ba4af666abc44db"),
    ("llm-agent", "chip", 6, None, "octopus", "25df0236582575c35b4c7727"),
    ("mix", "chip", 14, 200.0, "greedy", "ff4ad9ce5e18c5b05ba72713"),
    ("mix", "chip", 14, 200.0, "static", "40e90d9a23a24ef0ab0abe12"),
    ("mix", "chip", 14, 200.0, "affinity", "c78b15ca5546bf2b2b089470"),
    ("mix", "chip", 14, 200.0, "locality", "f110c2fd0e42f8a97f9d9f7e"),
    ("mix", "chip", 14, 200.0, "reactive", "a4f9af47826a58688805f2bf"),
    ("mix", "chip", 14, 200.0, "clairvoyant", "1927d527499a68a7fd332609"),
    ("mix", "chip", 14, 200.0, "octopus", "1f54f36facdb188553684974"),
    ("video-analytics", "wafer", 10, None, "greedy", "5abb6d4a22ce8ef9d9c9bddf"),
    ("video-analytics", "wafer", 10, None, "static", "8835cdeaf998b85b0a8797ad"),
    ("video-analytics", "wafer", 10, None, "affinity", "eddafddad2cbd42484c4f4aa"),
    ("video-analytics", "wafer", 10, None, "locality", "3c88a0da7bc5edc8f8f49613"),
    ("video-analytics", "wafer", 10, None, "reactive", "254870d0f2c730a0c35a93a7"),
    ("video-analytics", "wafer", 10, None, "clairvoyant", "fca902e23ff2072aed3d992d"),
    ("video-analytics", "wafer", 10, None, "octopus", "8ef069d050bd2f296b7171ec"),
    ("mix", "wafer", 14, 2000.0, "greedy", "e39062b1b4c510d8ca7d3928"),
    ("mix", "wafer", 14, 2000.0, "static", "9895e998ca3bf7448844d58c"),
    ("mix", "wafer", 14, 2000.0, "affinity", "7d70f25913d8643d2d3b24dd"),
    ("mix", "wafer", 14, 2000.0, "locality", "fedf8b6c134e503b527d1c1f"),
    ("mix", "wafer", 14, 2000.0, "reactive", "4fe5fa648aff3d6768168a75"),
    ("mix", "wafer", 14, 2000.0, "clairvoyant", "52d07997da0c11e09339f13e"),
    ("mix", "wafer", 14, 2000.0, "octopus", "e5e9cc31c97af30a866f5360"),
]


def run_digest(tmp: Path, workflow: str, arch: str, instances: int, rate: float | None,
               scheduler: str) -> str:
    """The pin of one run, written under ``tmp``."""
    out = tmp / f"{workflow}-{arch}-{scheduler}"
    execute(RunSpec(workflow=workflow, arch=arch, scheduler=scheduler, instances=instances,
                    seed=SEED, rate_per_s=rate), out_dir=out)
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((out / name).read_bytes())
    return digest.hexdigest()[:24]


@pytest.mark.parametrize(("workflow", "arch", "instances", "rate", "scheduler", "pin"), PINS,
                         ids=[f"{p[0]}-{p[1]}-{p[4]}" for p in PINS])
def test_a_run_writes_the_files_it_wrote_when_pinned(tmp_path, workflow, arch, instances, rate,
                                                     scheduler, pin):
    """The same spec and seed give the same summary, firings, per-TBU table and trace."""
    assert run_digest(tmp_path, workflow, arch, instances, rate, scheduler) == pin


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for case in PINS:
            row = (*case[:5], run_digest(Path(tmp), *case[:5]))
            print(f"    {row!r},".replace("'", '"'))  # the table's own quoting: paste as is
