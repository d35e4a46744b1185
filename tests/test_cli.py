"""The `octopus` command as a whole: every command is registered and none imports torch."""

import subprocess
import sys

from typer.testing import CliRunner

from octopus.cli.main import app


def test_every_command_is_registered():
    """--help lists the commands of every issue's CLI."""
    out = CliRunner().invoke(app, ["--help"]).stdout
    for name in ("workflows", "check", "analyze", "simulate", "evaluate", "sweep", "plot",
                 "autochunk-bench"):
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
