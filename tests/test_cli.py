"""The `octopus` command as a whole: every command is registered, none imports torch, help and
usage errors are plain and short, and defaults agree with the library's."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from octopus import __version__
from octopus.arch import list_presets
from octopus.cli.main import app
from octopus.run import DEFAULT_SCHEDULER, RunSpec
from octopus.sched import scheduler_names


def test_every_command_is_registered():
    """--help lists the commands of every issue's CLI."""
    out = CliRunner().invoke(app, ["--help"]).stdout
    for name in ("workflows", "check", "analyze", "simulate", "evaluate", "sweep", "plot",
                 "autochunk-bench", "sram-study"):
        assert name in out, name


def test_loading_the_cli_does_not_import_torch():
    """Heavy imports are lazy: loading the command line leaves torch unimported."""
    code = "import sys, octopus.cli.main; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_autochunk_bench_rejects_an_unknown_family_before_running(tmp_path):
    """A family that does not exist exits 2 with one line, before any model is built."""
    result = CliRunner().invoke(app, ["autochunk-bench", "--family", "nope",
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "unknown family 'nope'" in result.stderr
    assert not (tmp_path / "r").exists()


def test_version():
    """--version prints the package version."""
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"octopus {__version__}"


def test_simulate_help_lists_schedulers_presets_and_the_default_without_type_tags():
    """--help names every scheduler and preset and the default scheduler, with no <bool>."""
    out = CliRunner().invoke(app, ["simulate", "--help"]).stdout
    flat = " ".join(out.split())
    for name in (*scheduler_names(), *list_presets()):
        assert name in flat, name
    assert f"[default: {DEFAULT_SCHEDULER}]" in flat
    assert "<bool>" not in out and "╭" not in out


def test_one_default_scheduler_everywhere():
    """simulate's default scheduler is the run spec's (and so the sweeps')."""
    assert RunSpec(workflow="x").scheduler.name == DEFAULT_SCHEDULER == "octopus"


@pytest.mark.parametrize("args, needle", [
    (["simulate", "--workflow", "face-recognition", "--bogus"], "No such option: --bogus"),
    (["simulate"], "Missing option '--workflow'"),
    (["simulate", "--workflow", "face-recognition", "--instances", "x"], "--instances"),
])
def test_usage_errors_are_one_line_with_exit_code_2(args, needle):
    """The installed command prints one error line (naming the command's --help), exit 2."""
    out = subprocess.run([sys.executable, "-c", "from octopus.cli.main import main; main()",
                          *args], capture_output=True, text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], out.stderr


def test_progress_off_a_terminal_prints_a_line_per_stage_and_quarter(capsys):
    """Not on a terminal, a stage prints when it starts, at each quarter and when it ends."""
    from octopus.cli.app import progress

    items = list(progress("runs")(iter(range(8)), 8, "stage 1 of 2: everything"))
    assert items == list(range(8))
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "runs (stage 1 of 2: everything): 8 to run"
    assert [line.split(": ")[-1] for line in lines[1:4]] == ["2/8 done", "4/8 done", "6/8 done"]
    assert lines[-1].startswith("runs (stage 1 of 2: everything): 8/8 done in ")
    assert list(progress("runs", quiet=True)(iter(range(3)), 3)) == [0, 1, 2]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("seconds, text", [(5380.0, "89.7 min"), (5.38, "5.38 s"),
                                           (0.0123, "12.3 ms"), (4.5e-6, "4.5 us"),
                                           (9000.0, "2.5 h"), (0.0, "0 s")])
def test_durations_print_with_a_readable_unit(seconds, text):
    """A duration reads 5.38 s, 12.3 ms or 89.7 min, never 5.38e+03 ms."""
    from octopus.cli.output import si_seconds

    assert si_seconds(seconds) == text


def test_analyze_prints_times_in_readable_units():
    """`octopus analyze` gives the critical path and bound in cycles and in s/ms, no e+ forms."""
    result = CliRunner().invoke(app, ["analyze", "protein-structure", "--arch", "chip"])
    assert result.exit_code == 0, result.stderr
    tail = result.stdout.split("critical path")[1]
    assert "e+" not in tail and (" ms " in tail or " s)" in tail)
