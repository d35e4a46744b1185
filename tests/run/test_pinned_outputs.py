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
    ("face-recognition", "chip", 12, 300.0, "greedy", "38bcd1b4c720389daee4e0f0"),
    ("face-recognition", "chip", 12, 300.0, "static", "62401aa6ddb69d6359890664"),
    ("face-recognition", "chip", 12, 300.0, "affinity", "707edf0f307e823e1495ffff"),
    ("face-recognition", "chip", 12, 300.0, "locality", "7a828c68a39b2d040fe62fb3"),
    ("face-recognition", "chip", 12, 300.0, "reactive", "7ec3ab611c96f2fa2fb4d932"),
    ("face-recognition", "chip", 12, 300.0, "clairvoyant", "b52f42f29f09eaeb8cbc20ad"),
    ("face-recognition", "chip", 12, 300.0, "octopus", "79edb0895b468793039f68bf"),
    ("llm-agent", "chip", 6, None, "greedy", "aa6892415b2deb6238064a6c"),
    ("llm-agent", "chip", 6, None, "static", "21279991edddd2ce12bc0065"),
    ("llm-agent", "chip", 6, None, "affinity", "45c6b00a5832a15723be7247"),
    ("llm-agent", "chip", 6, None, "locality", "3563a1eba7dc1e19e4909b46"),
    ("llm-agent", "chip", 6, None, "reactive", "ed09521cf75422c105d97fbf"),
    ("llm-agent", "chip", 6, None, "clairvoyant", "e4c7b778d8365e68c8ac848a"),
    ("llm-agent", "chip", 6, None, "octopus", "c25f5dd2350a8d4177921e8c"),
    ("mix", "chip", 14, 200.0, "greedy", "d2f5da3891890af797a5f481"),
    ("mix", "chip", 14, 200.0, "static", "56b4c993047ec7c55d27a84d"),
    ("mix", "chip", 14, 200.0, "affinity", "ccd954d98090da03ae07f060"),
    ("mix", "chip", 14, 200.0, "locality", "c5d3f17cb017c2f8276b2356"),
    ("mix", "chip", 14, 200.0, "reactive", "e23b41b3199e0f25ecf17d44"),
    ("mix", "chip", 14, 200.0, "clairvoyant", "bfb4bdeaf8c2e1e724c919f5"),
    ("mix", "chip", 14, 200.0, "octopus", "2b4d5edf80795f176c911982"),
    ("video-analytics", "wafer", 10, None, "greedy", "1815207de620988a98dca449"),
    ("video-analytics", "wafer", 10, None, "static", "6d33ed3dfd78f3263c277edd"),
    ("video-analytics", "wafer", 10, None, "affinity", "5b09ca879f2639f746e6c9d6"),
    ("video-analytics", "wafer", 10, None, "locality", "8529cd8ada6614e8ce9fcaba"),
    ("video-analytics", "wafer", 10, None, "reactive", "254870d0f2c730a0c35a93a7"),
    ("video-analytics", "wafer", 10, None, "clairvoyant", "fca902e23ff2072aed3d992d"),
    ("video-analytics", "wafer", 10, None, "octopus", "8ef069d050bd2f296b7171ec"),
    ("mix", "wafer", 14, 2000.0, "greedy", "b1595f8c6e3945378f71449f"),
    ("mix", "wafer", 14, 2000.0, "static", "39eba4998ec118967d49021a"),
    ("mix", "wafer", 14, 2000.0, "affinity", "e38749a1c8be719924ca06f4"),
    ("mix", "wafer", 14, 2000.0, "locality", "c423c6b3141854e79c080ea0"),
    ("mix", "wafer", 14, 2000.0, "reactive", "291f382abe431aa46ef806c5"),
    ("mix", "wafer", 14, 2000.0, "clairvoyant", "7e81a534bcd640290bec1f69"),
    ("mix", "wafer", 14, 2000.0, "octopus", "aeff8432c0e2491b0f7e215f"),
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
