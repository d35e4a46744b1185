"""The package's dependency rule, read from the imports of every module (function-level imports
included):

    cli -> experiments -> run -> (sched -> sim -> workflow, arch)
                                 and (cost -> autochunk, models, workflow, arch)

A package may import the packages its arrows reach; nothing below ``run`` imports ``cost`` (a run
resolves torch-defined blocks in one place, ``run.resolve``; above it, only the cost-model studies
of ``experiments`` use ``cost`` directly); nothing imports ``cli``; ``autochunk`` imports only
torch and the standard library, ``models`` those and the optional model libraries (not even
``octopus.errors``); the top-level modules (``errors``, ``rng``) import no package.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "octopus"
ARROWS = {
    "cli": {"experiments"},
    "experiments": {"run"},
    "run": {"sched", "cost"},
    "sched": {"sim"},
    "sim": {"workflow", "arch"},
    "cost": {"autochunk", "models", "workflow", "arch"},
    "workflow": set(),
    "arch": set(),
    "autochunk": set(),
    "models": set(),
}
BASE = {"errors", "rng", "__init__"}  # top-level modules every layer may use
STANDALONE = {"autochunk": {"torch"}, "models": {"torch", "transformers", "diffusers"}}
COST_USERS = {"cost", "run", "experiments"}


@cache
def reach(package: str) -> frozenset[str]:
    """Every package ``package`` may import (its arrows, followed; ``cost`` only from
    :data:`COST_USERS`)."""
    out = set(ARROWS[package])
    for p in ARROWS[package]:
        out |= reach(p)
    if package not in COST_USERS:
        out.discard("cost")
    return frozenset(out)


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def unit(path: Path) -> str:
    """The layer a source file belongs to: its subpackage, or its own name at the top."""
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports(path: Path) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in the file."""
    package = list(path.relative_to(SRC.parent).parts[:-1])  # e.g. ["octopus", "sim"]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return out


def test_every_layer_is_known():
    """Each subpackage and top-level module has a place in the rule."""
    assert {unit(p) for p in modules()} <= set(ARROWS) | BASE


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_arrows(path):
    """Every import of octopus code stays inside the module's layer or what its arrows reach,
    and the stand-alone layers import nothing but torch and the standard library."""
    me = unit(path)
    for line, name in imports(path):
        top = name.split(".")[0]
        where = f"{path.relative_to(SRC)}:{line} imports {name}"
        if top == "octopus":
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 else "__init__"
            if me in STANDALONE:
                assert target == me, where
            elif me in BASE:
                assert target in BASE, where
            else:
                assert target == me or target in BASE or target in reach(me), where
        elif me in STANDALONE:
            assert top in STANDALONE[me] or top in sys.stdlib_module_names \
                or top == "__future__", where


def test_nothing_imports_the_cli_and_nothing_below_run_imports_cost():
    """The two named rules, stated on their own."""
    for path in modules():
        for line, name in imports(path):
            if name.startswith("octopus.cli"):
                assert unit(path) == "cli", f"{path}:{line} imports {name}"
            if name.startswith("octopus.cost"):
                assert unit(path) in COST_USERS, f"{path}:{line} imports {name}"
