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
    ("llm-agent", "chip", 6, None, "greedy", "a34fd6e8f36975fe2eca0e85"),
    ("llm-agent", "chip", 6, None, "static", "8b953a54d0acf0e3d34c7f6d"),
    ("llm-agent", "chip", 6, None, "affinity", "ec1595727e9435584e6f876f"),
    ("llm-agent", "chip", 6, None, "locality", "9cca4c041ba8e862b11d775c"),
    ("llm-agent", "chip", 6, None, "reactive", "98304d070106b4cf7db46de7"),
    ("llm-agent", "chip", 6, None, "clairvoyant", "257ecbcdd52d06c8bb59a556"),
    ("llm-agent", "chip", 6, None, "octopus", "cdb579329de7e2048b3d6b9b"),
    ("mix", "chip", 14, 200.0, "greedy", "0ccbca1f44e356e3b4a27d08"),
    ("mix", "chip", 14, 200.0, "static", "322211b5dffe4847c8fa67fd"),
    ("mix", "chip", 14, 200.0, "affinity", "d801077a112928d2972aa94b"),
    ("mix", "chip", 14, 200.0, "locality", "22ea4b56b270c61cbe3444b4"),
    ("mix", "chip", 14, 200.0, "reactive", "c102cef1ac3ae99f6f93335b"),
    ("mix", "chip", 14, 200.0, "clairvoyant", "070db43dcce1d12edabdf95a"),
    ("mix", "chip", 14, 200.0, "octopus", "acd313971ec9849da35b9e45"),
    ("video-analytics", "wafer", 10, None, "greedy", "5abb6d4a22ce8ef9d9c9bddf"),
    ("video-analytics", "wafer", 10, None, "static", "8835cdeaf998b85b0a8797ad"),
    ("video-analytics", "wafer", 10, None, "affinity", "eddafddad2cbd42484c4f4aa"),
    ("video-analytics", "wafer", 10, None, "locality", "3c88a0da7bc5edc8f8f49613"),
    ("video-analytics", "wafer", 10, None, "reactive", "254870d0f2c730a0c35a93a7"),
    ("video-analytics", "wafer", 10, None, "clairvoyant", "fca902e23ff2072aed3d992d"),
    ("video-analytics", "wafer", 10, None, "octopus", "8ef069d050bd2f296b7171ec"),
    ("mix", "wafer", 14, 2000.0, "greedy", "c52864acc2a97cdd3928d650"),
    ("mix", "wafer", 14, 2000.0, "static", "625044fcd3a76af09f582b5c"),
    ("mix", "wafer", 14, 2000.0, "affinity", "a3deee07b8b2b0680430a6d4"),
    ("mix", "wafer", 14, 2000.0, "locality", "fba87f7bca500aff1a45479e"),
    ("mix", "wafer", 14, 2000.0, "reactive", "f82a35e5e50829af57c8d2b0"),
    ("mix", "wafer", 14, 2000.0, "clairvoyant", "cd4e5dc76c6df5725e6c8ec3"),
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
