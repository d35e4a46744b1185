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
    ("face-recognition", "chip", 12, 300.0, "greedy", "ef4e6f305a35139034ff2491"),
    ("face-recognition", "chip", 12, 300.0, "static", "c828021e757b6ed1c44bc12a"),
    ("face-recognition", "chip", 12, 300.0, "affinity", "6eda073e303e867896166f54"),
    ("face-recognition", "chip", 12, 300.0, "locality", "2b09f892bfab577877a75034"),
    ("face-recognition", "chip", 12, 300.0, "reactive", "b2b860f207f4b1d5e346f601"),
    ("face-recognition", "chip", 12, 300.0, "clairvoyant", "79843294b77e71c1618eec96"),
    ("face-recognition", "chip", 12, 300.0, "octopus", "82c0d65e6ddf5943eeee8bad"),
    ("llm-agent", "chip", 6, None, "greedy", "aa6892415b2deb6238064a6c"),
    ("llm-agent", "chip", 6, None, "static", "a6f9659b9c322f8f270a8abe"),
    ("llm-agent", "chip", 6, None, "affinity", "45c6b00a5832a15723be7247"),
    ("llm-agent", "chip", 6, None, "locality", "3563a1eba7dc1e19e4909b46"),
    ("llm-agent", "chip", 6, None, "reactive", "9511478ecb8bee60690e9aff"),
    ("llm-agent", "chip", 6, None, "clairvoyant", "b89e094525d117afc30b9402"),
    ("llm-agent", "chip", 6, None, "octopus", "1e1fd14c65a7a1dda888b819"),
    ("mix", "chip", 14, 200.0, "greedy", "65e9c4457bd3578289fc9177"),
    ("mix", "chip", 14, 200.0, "static", "3eae295106f93e8e4c2abd4a"),
    ("mix", "chip", 14, 200.0, "affinity", "4f78ee6e8ebaaa54b960c444"),
    ("mix", "chip", 14, 200.0, "locality", "ffe6d1f3e9a37762901f38f8"),
    ("mix", "chip", 14, 200.0, "reactive", "29286a6780d144ac026a5e26"),
    ("mix", "chip", 14, 200.0, "clairvoyant", "47be460f061b3e28adc7c6ca"),
    ("mix", "chip", 14, 200.0, "octopus", "d714add16ee1a360579f7f06"),
    ("video-analytics", "wafer", 10, None, "greedy", "1815207de620988a98dca449"),
    ("video-analytics", "wafer", 10, None, "static", "365f4de975d161a6b81bd2a0"),
    ("video-analytics", "wafer", 10, None, "affinity", "5b09ca879f2639f746e6c9d6"),
    ("video-analytics", "wafer", 10, None, "locality", "8529cd8ada6614e8ce9fcaba"),
    ("video-analytics", "wafer", 10, None, "reactive", "254870d0f2c730a0c35a93a7"),
    ("video-analytics", "wafer", 10, None, "clairvoyant", "fca902e23ff2072aed3d992d"),
    ("video-analytics", "wafer", 10, None, "octopus", "9d49bbe44080ed8deef6ca99"),
    ("mix", "wafer", 14, 2000.0, "greedy", "a0ba4931c23e233001fa7950"),
    ("mix", "wafer", 14, 2000.0, "static", "39eba4998ec118967d49021a"),
    ("mix", "wafer", 14, 2000.0, "affinity", "0ca11208aed841e0cbc5704a"),
    ("mix", "wafer", 14, 2000.0, "locality", "679a17c6b0b8ee1bdd3df90a"),
    ("mix", "wafer", 14, 2000.0, "reactive", "291f382abe431aa46ef806c5"),
    ("mix", "wafer", 14, 2000.0, "clairvoyant", "12f795b277a3efefbca3ab5f"),
    ("mix", "wafer", 14, 2000.0, "octopus", "f7413990de0973186748ad4e"),
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
            print(f"    {(*case[:5], run_digest(Path(tmp), *case[:5]))!r},")
