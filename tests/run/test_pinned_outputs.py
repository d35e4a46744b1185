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
    ("face-recognition", "chip", 12, 300.0, "clairvoyant", "d281522ebb88d81a2ac3b6c7"),
    ("face-recognition", "chip", 12, 300.0, "octopus", "b404a2e7b28f101b017c4767"),
    ("llm-agent", "chip", 6, None, "greedy", "a34fd6e8f36975fe2eca0e85"),
    ("llm-agent", "chip", 6, None, "static", "514c21eccd7eccd3529636e3"),
    ("llm-agent", "chip", 6, None, "affinity", "ec1595727e9435584e6f876f"),
    ("llm-agent", "chip", 6, None, "locality", "c2192cea1b604188d183184e"),
    ("llm-agent", "chip", 6, None, "reactive", "554df3199dcacf0b1617aac0"),
    ("llm-agent", "chip", 6, None, "clairvoyant", "377c5481950d6318f5f8e0a3"),
    ("llm-agent", "chip", 6, None, "octopus", "27ab038c6a74ad4ee3e0265c"),
    ("mix", "chip", 14, 200.0, "greedy", "8b02d89277d9a133fd069c0b"),
    ("mix", "chip", 14, 200.0, "static", "8fdca2a67ed24bfb2dba706e"),
    ("mix", "chip", 14, 200.0, "affinity", "0fd7d2e8fade0c00dac62161"),
    ("mix", "chip", 14, 200.0, "locality", "8e6afe12c5e243bbf68f29a8"),
    ("mix", "chip", 14, 200.0, "reactive", "cda0247e39608779e24db131"),
    ("mix", "chip", 14, 200.0, "clairvoyant", "a153b0efeb9a50d51d8e3503"),
    ("mix", "chip", 14, 200.0, "octopus", "c4caccc57d369c781270947f"),
    ("video-analytics", "wafer", 10, None, "greedy", "5abb6d4a22ce8ef9d9c9bddf"),
    ("video-analytics", "wafer", 10, None, "static", "485e0013c43d5461d07c2aae"),
    ("video-analytics", "wafer", 10, None, "affinity", "eddafddad2cbd42484c4f4aa"),
    ("video-analytics", "wafer", 10, None, "locality", "3c88a0da7bc5edc8f8f49613"),
    ("video-analytics", "wafer", 10, None, "reactive", "254870d0f2c730a0c35a93a7"),
    ("video-analytics", "wafer", 10, None, "clairvoyant", "fca902e23ff2072aed3d992d"),
    ("video-analytics", "wafer", 10, None, "octopus", "c0f4ef12477dcaa736574fbd"),
    ("mix", "wafer", 14, 2000.0, "greedy", "641c7fe134ff2212edf27414"),
    ("mix", "wafer", 14, 2000.0, "static", "3cd933751ba73f81878eeb2b"),
    ("mix", "wafer", 14, 2000.0, "affinity", "03b7872ef06565332e6cb6ab"),
    ("mix", "wafer", 14, 2000.0, "locality", "db1889b4030315870faf832b"),
    ("mix", "wafer", 14, 2000.0, "reactive", "abc571cb535ee415fc0f359b"),
    ("mix", "wafer", 14, 2000.0, "clairvoyant", "bd0ff9a137a8c7ec73d4b411"),
    ("mix", "wafer", 14, 2000.0, "octopus", "de47b7dc9c7388c2377ae0ca"),
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
