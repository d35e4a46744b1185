"""Input files, for every loader (workflows, architectures, sweep specs, results CSVs): only
regular UTF-8 files under the size cap are read, a repeated YAML key is an error naming the key
and its lines, and YAML goes through the C parser with the same results as PyYAML's loader."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from octopus.arch import PRESET_DIR
from octopus.cli.main import app
from octopus.errors import MAX_INPUT_BYTES, InputError, load_yaml, read_text_file, yaml_loader

WORKFLOW = """name: tiny
blocks:
  - {id: a, type: task, kind: ai, work: {dist: constant, value: 1000}}
"""
ARCH = (PRESET_DIR / "chip.yaml").read_text()
SWEEP = "base: {workflow: face-recognition, instances: 2}\ngrid: {seed: [0, 1]}\n"
RESULTS = "point,seed,makespan_cycles\na,0,10\nb,1,12\n"


def _command(kind: str, path: Path, tmp_path: Path) -> list[str]:
    """The command that reads ``path`` as a file of ``kind``."""
    return {
        "workflow": ["check", str(path)],
        "arch": ["simulate", "--workflow", "face-recognition", "--instances", "2",
                 "--arch", str(path)],
        "sweep": ["sweep", str(path), "--out", str(tmp_path / "sweep-out")],
        "results": ["plot", str(path), "--x", "seed", "--y", "makespan_cycles",
                    "--out", str(tmp_path / "plot.png")],
    }[kind]


def _one_error_line(args: list[str]) -> str:
    """Run the CLI; expect exit 2 and one ``error:`` line on stderr; return that line."""
    result = CliRunner().invoke(app, args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --- repeated keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind, text, key, lines", [
    ("workflow", WORKFLOW + "name: other\n", "name", (4, 1)),
    ("workflow", WORKFLOW.replace("value: 1000}", "value: 1000, value: 5}"), "value", (3, 3)),
    ("arch", ARCH + "clock_hz: 2.0e+9\n", "clock_hz", (None, None)),
    ("sweep", SWEEP + "base: {workflow: recommendation}\n", "base", (3, 1)),
])
def test_a_repeated_yaml_key_is_an_error_naming_the_key_and_lines(kind, text, key, lines,
                                                                   tmp_path):
    """Every YAML loader refuses a key given twice in one mapping (no "last one wins")."""
    path = tmp_path / "input.yaml"
    path.write_text(text)
    line = _one_error_line(_command(kind, path, tmp_path))
    assert f"duplicate key '{key}'" in line, line
    second, first = lines
    if second is None:  # the arch preset's own length decides the line numbers
        first = next(i for i, t in enumerate(ARCH.splitlines(), 1) if t.startswith(key + ":"))
        second = len(text.splitlines())
    assert f"line {second}:" in line and f"first on line {first})" in line, line


def test_keys_a_merge_brings_in_may_be_overridden():
    """``<<: *anchor`` then a key of the anchor's is an override, not a repeated key."""
    assert load_yaml("b: &b {x: 1, y: 2}\nc: {<<: *b, y: 3}\n")["c"] == {"x": 1, "y": 3}


# --- which files are read --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["workflow", "arch", "sweep", "results"])
@pytest.mark.parametrize("encoding, needle", [("latin-1", "byte 0xe9"), ("utf-16", "UTF-16")])
def test_a_file_not_in_utf8_is_one_line_naming_the_encoding(kind, encoding, needle, tmp_path):
    """Latin-1 or UTF-16 text is reported as not UTF-8, in one line, by every loader."""
    text = {"workflow": WORKFLOW, "arch": ARCH, "sweep": SWEEP, "results": RESULTS}[kind]
    path = tmp_path / "input.txt"
    path.write_bytes(("# café\n" + text).encode(encoding))
    line = _one_error_line(_command(kind, path, tmp_path))
    assert "not UTF-8" in line and needle in line and str(path) in line, line


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    """UTF-8 with a byte-order mark (as some editors save it) reads normally."""
    path = tmp_path / "wf.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + WORKFLOW.encode())
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("kind", ["workflow", "arch", "sweep", "results"])
@pytest.mark.parametrize("what", ["device", "directory", "pipe"])
def test_only_regular_files_are_read(kind, what, tmp_path, make_fifo):
    """A device (/dev/zero), a directory or a named pipe is refused in one line, unread."""
    path = {"device": lambda: Path("/dev/zero"), "directory": lambda: tmp_path,
            "pipe": lambda: make_fifo(tmp_path / "pipe.yaml")}[what]()
    line = _one_error_line(_command(kind, path, tmp_path))
    expected = {"device": "is a device", "directory": "is a directory",
                "pipe": "is a named pipe"}[what]
    assert f"{expected}, not a regular file" in line, line


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path):
    """A (sparse) file one byte over the cap is refused naming the limit."""
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:
        fh.truncate(MAX_INPUT_BYTES + 1)
    line = _one_error_line(["check", str(path)])
    assert "larger than 64 MiB, the limit for an input file" in line, line
    with pytest.raises(InputError, match="larger than"):
        read_text_file(path)


# --- the C parser, same results --------------------------------------------------------------


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_yaml_is_parsed_by_libyaml_when_pyyaml_has_it():
    """The loader every input goes through uses PyYAML's C parser."""
    assert issubclass(yaml_loader(), yaml.CSafeLoader)


SAMPLES = [
    "a: 1", "", "- 1\n- x", "a: &x [1, 2]\nb: *x", "a: !!str 1", "--- a\n--- b",
    "a: {b: 1e9, c: .inf, d: 0x10, e: 2001-12-14, f: yes, g: ~, h: '1', i: 1_000, j: -1.5e-3}",
    "? [1, 2]\n: x", "x: &s 5\ny: *s", "b: &b {x: 1}\no: {<<: *b, y: 2}", "[1, 2",
    "{1: a, 1.0: b}", "a: [1, {b: [c, d]}]\ne: |\n  text\n", "a: 4.0e9\nb: 1e-3\nc: 1.0e+9",
]


@pytest.mark.parametrize("text", SAMPLES + [p.read_text() for p in sorted(
    [*PRESET_DIR.glob("*.yaml"), *(PRESET_DIR.parents[1] / "workflow" / "builtins").glob(
        "*.yaml")])])
def test_fast_reading_gives_what_the_full_loader_gives(text):
    """Documents built from parser events equal PyYAML's loader's (or fail the same way)."""

    def outcome(read):
        try:
            return "ok", read(text)
        except yaml.YAMLError as exc:
            return type(exc).__name__, str(exc).splitlines()[0]

    assert outcome(load_yaml) == outcome(lambda t: yaml.load(t, Loader=yaml_loader()))


def test_input_errors_survive_pickling():
    """An input error raised in a worker process reaches the caller whole (the backends pickle
    what a job raises): the same one line, or the same lines."""
    import pickle

    from octopus.errors import InputError, InputErrors

    one = InputError("spec.yaml", "seed", "must be at least 0")
    back = pickle.loads(pickle.dumps(one))
    assert (str(back), back.source, back.where, back.problem) == (
        str(one), "spec.yaml", "seed", "must be at least 0")
    several = InputErrors([one, InputError(None, "instances", "too many")])
    assert str(pickle.loads(pickle.dumps(several))) == str(several)
