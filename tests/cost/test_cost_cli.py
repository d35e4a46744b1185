"""`octopus simulate` and torch: no import for plain workflows, the --sram-policy option."""

import subprocess
import sys

from costkit import ROOT, torch_workflow


def test_simulate_on_plain_workflows_never_imports_torch():
    """`octopus simulate` on a workflow without torch blocks leaves torch unimported."""
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom octopus.cli.main import app\n"
            "r = CliRunner().invoke(app, ['simulate', '--workflow', 'face-recognition', "
            "'--instances', '5', '--sram-policy', 'autochunk'])\n"
            "assert r.exit_code == 0, r.output\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_bad_sram_policy_on_the_command_line_exits_2():
    """--sram-policy rejects an unknown policy with a one-line error naming the option."""
    from typer.testing import CliRunner

    from octopus.cli.main import app

    r = CliRunner().invoke(app, ["simulate", "--workflow", "face-recognition",
                                 "--sram-policy", "bogus", "--instances", "2"])
    assert r.exit_code == 2 and "--sram-policy" in r.output



def test_simulate_says_what_it_profiles_on_a_cold_cache(tmp_path):
    """A torch-defined workflow with nothing cached prints a line per model it profiles (and
    per plan it makes) instead of staying silent; a warm cache prints none."""
    from typer.testing import CliRunner

    from octopus.cli.main import app

    path = torch_workflow(tmp_path, "encoder", "[1, 512]")
    args = ["simulate", "--workflow", str(path), "--instances", "2", "--arch", "chip"]
    cold = CliRunner().invoke(app, args)
    assert cold.exit_code == 0, cold.stderr
    assert "profiling torch model encoder [1, 512] (float32)" in cold.stderr
    warm = CliRunner().invoke(app, args)
    assert warm.exit_code == 0 and "profiling" not in warm.stderr
