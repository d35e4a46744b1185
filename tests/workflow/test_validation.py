"""Every class of bad workflow input gets exit code 2 and one line naming file and block."""

import textwrap

import pytest
from typer.testing import CliRunner

from octopus.cli.main import app

GOOD = """
name: ok
blocks:
  - {id: a, type: task, kind: ai, work: {dist: constant, value: 10}}
  - {id: b, type: task, kind: general, work: {dist: normal, mean: 5, cv: 0.1}}
flows: [[a, b]]
"""

BAD = {
    "unknown-flow-target": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
        flows: [[a, nowhere]]
        """, "block 'a'", "unknown block 'nowhere'"),
    "cycle-not-a-loop": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: b, type: task, kind: ai, work: {dist: constant, value: 1}}
        flows: [[a, b, a]]
        """, "block 'a'", "cycle"),
    "merge-without-branch": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: m, type: merge}
        flows: [[a, m]]
        """, "block 'm'", "merge with no matching branch"),
    "probabilities-not-one": ("""
        name: x
        blocks:
          - {id: br, type: branch, merge: m, paths: {a: 0.5, b: 0.4}}
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: b, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: m, type: merge}
        flows: [[a, m], [b, m]]
        """, "block 'br'", "sum to 0.9"),
    "negative-parameter": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: normal, mean: -3, cv: 0.1}}
        """, "block 'a'", "work.mean"),
    "nan-parameter": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: lognormal, mean: .nan, cv: 0.1}}
        """, "block 'a'", "work.mean"),
    "negative-bytes": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}, output_bytes: -1}
        """, "block 'a'", "output_bytes"),
    "empty-workflow": ("""
        name: x
        blocks: []
        """, "", "no blocks"),
    "duplicate-id": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: a, type: task, kind: general, work: {dist: constant, value: 1}}
        """, "block 'a'", "duplicate id"),
    "unknown-field": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}, ouput_bytes: 3}
        """, "block 'a'", "unknown field"),
    "unknown-top-level-field": ("""
        name: x
        blokcs: []
        """, "blokcs", "unknown field"),
    "body-escapes-cb": ("""
        name: x
        blocks:
          - {id: L, type: loop, count: {dist: constant, value: 2}, body: [a]}
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: z, type: task, kind: ai, work: {dist: constant, value: 1}}
        flows: [[a, z]]
        """, "block 'a'", "crosses the edge of the body of 'L'"),
    "flow-into-body-from-outside": ("""
        name: x
        blocks:
          - {id: s, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: F, type: fanout, count: {dist: poisson, mean: 2}, body: [a]}
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
        flows: [[s, a]]
        """, "block 's'", "crosses the edge of the body of 'F'"),
    "path-misses-merge": ("""
        name: x
        blocks:
          - {id: br, type: branch, merge: m, paths: {a: 0.5, m: 0.5}}
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: m, type: merge}
        """, "block 'a'", "without reaching merge 'm'"),
    "unknown-dist": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: gamma, shape: 1}}
        """, "block 'a'", "work"),
    "not-yaml": ("name: [unclosed\n", "", "not valid YAML"),
}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_line(case, tmp_path, runner):
    """`octopus check` prints one line with the file, the block and the problem; exit code 2."""
    text, where, problem = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(textwrap.dedent(text))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and where in lines[0] and problem in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_good_file_passes_and_mixed_files_exit_2(tmp_path, runner):
    """All valid -> 0; one bad among good -> 2 with a message for the bad one only."""
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert runner.invoke(app, ["check", str(good)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nblocks: []\n")
    result = runner.invoke(app, ["check", str(good), str(bad)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.stderr and "good.yaml" not in result.stderr


def test_missing_file_and_unknown_builtin_exit_2(tmp_path, runner):
    """A missing file or unknown workflow name is a user error too."""
    assert runner.invoke(app, ["check", str(tmp_path / "nope.yaml")]).exit_code == 2
    result = runner.invoke(app, ["analyze", "no-such-workflow"])
    assert result.exit_code == 2 and "face-recognition" in result.stderr


MANY = {
    "fields": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}, output_bytes: -1}
          - {id: b, type: task, kind: ai, work: {dist: normal, mean: -3, cv: 0.1}}
          - {id: c, type: task, kind: ai, work: {dist: constant, value: 1}, ouput_bytes: 3}
        """, ["block 'a': output_bytes", "block 'b': work.mean", "block 'c': ouput_bytes"]),
    "references": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: l, type: loop, count: {dist: constant, value: 2}, body: [ghost]}
        flows: [[a, nowhere], [elsewhere, a]]
        """, ["block 'a': duplicate id", "unknown block 'nowhere'", "unknown block 'elsewhere'",
              "body names unknown block 'ghost'"]),
    "crossing-flows": ("""
        name: x
        blocks:
          - {id: a, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: l, type: loop, count: {dist: constant, value: 2}, body: [b, c]}
          - {id: b, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: c, type: task, kind: ai, work: {dist: constant, value: 1}}
          - {id: d, type: task, kind: ai, work: {dist: constant, value: 1}}
        flows: [[a, b], [c, d], [a, l]]
        """, ["flow a -> b crosses", "flow c -> d crosses"]),
}


@pytest.mark.parametrize("case", sorted(MANY))
def test_check_reports_every_problem_one_line_each(case, tmp_path, runner):
    """Independent problems of one file are all reported, one line each (exit code 2)."""
    text, needles = MANY[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(textwrap.dedent(text))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(needles), result.stderr
    for needle in needles:
        assert sum(needle in line for line in lines) == 1, (needle, lines)
    assert all(line.startswith(f"error: {path}: ") for line in lines)


def test_check_reports_every_file_and_unknown_torch_models(tmp_path, runner):
    """Two bad files, one with two unknown torch models: three lines, exit code 2."""
    first = tmp_path / "first.yaml"
    first.write_text("name: x\nblocks: []\n")
    second = tmp_path / "second.yaml"
    second.write_text(textwrap.dedent("""
        name: y
        blocks:
          - {id: a, type: task, kind: ai, torch_model: {name: resnet999, input_shape: [1]}}
          - {id: b, type: task, kind: ai, torch_model: {name: gpt, input_shape: [1, 2, 3]}}
        flows: [[a, b]]
        """))
    result = runner.invoke(app, ["check", str(first), str(second)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert "no blocks" in lines[0]
    assert "block 'a': torch_model" in lines[1] and "block 'b': torch_model" in lines[2]
