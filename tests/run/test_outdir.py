"""What ``--out`` may replace (only an earlier output of the same kind), what is refused (one
line, exit 2, before any work, nothing touched) and what an interrupted command leaves behind
(nothing: its staging directory is removed on an exception, on SIGTERM, and after ``kill -9``
by the next command writing beside it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from octopus.cli.main import app
from octopus.errors import InputError
from octopus.run import RunSpec, execute
from octopus.run.outdir import MARKER, StagedDirectory, check_target, remove_stale_stages

SIMULATE = ["simulate", "--workflow", "face-recognition", "--instances", "2"]
EVALUATE = ["evaluate", "--quick", "--arch", "chip"]
CLI = [sys.executable, "-c", "from octopus.cli.main import main; main()"]


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for anything but a regular file)."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
            for p in folder.rglob("*")}


@pytest.fixture
def place(tmp_path, monkeypatch, make_fifo) -> Path:
    """A working directory holding the user's files: a file, a folder of files, a named pipe,
    a symbolic link."""
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "main.py").write_text("print('hello')\n")
    make_fifo(tmp_path / "queue.pipe")
    (tmp_path / "link").symlink_to(tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", [SIMULATE, EVALUATE], ids=["simulate", "evaluate"])
@pytest.mark.parametrize("out, needle", [
    (".", "is the current directory or one of its parents"),
    ("", "is the current directory or one of its parents"),  # typer reads '' as '.'
    ("..", "is the current directory or one of its parents"),
    ("project", "holds files Octopus did not write"),
    ("notes.txt", "exists and is a file"),
    ("/dev/null", "exists and is a device"),
    ("queue.pipe", "exists and is a named pipe"),
    ("link", "exists and is a symbolic link"),
    ("/proc/octopus-out", "cannot create a directory in /proc"),
    ("notes.txt/run", "Not a directory"),
])
def test_out_refuses_what_octopus_did_not_write(command, out, needle, place):
    """Anything at --out but nothing, an empty folder or an earlier output of the same command
    is refused with one line and exit 2, and every file stays as it was."""
    before = _tree(place)
    result = CliRunner().invoke(app, [*command, "--out", out])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
    assert _tree(place) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_out_in_a_read_only_folder_is_refused_before_any_work(tmp_path):
    """A folder without write permission is refused up front, not after the run."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = CliRunner().invoke(app, [*EVALUATE, "--out", str(folder / "report")])
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 2 and "cannot create a directory in" in result.stderr
    assert list(folder.iterdir()) == []


def test_a_marker_that_is_a_pipe_is_not_read(tmp_path, make_fifo):
    """A folder whose .octopus is a named pipe is the user's: refused, without blocking."""
    (tmp_path / "out").mkdir()
    make_fifo(tmp_path / "out" / MARKER)
    with pytest.raises(InputError, match="files Octopus did not write"):
        check_target(tmp_path / "out", "run")


def test_an_earlier_run_is_replaced_and_an_empty_folder_used(tmp_path):
    """What --out may replace: nothing, an empty folder, an earlier output of the same kind."""
    spec = RunSpec(workflow="face-recognition", instances=2)
    (tmp_path / "empty").mkdir()
    for out in ("new", "empty", "new"):
        execute(spec, out_dir=tmp_path / out)
        assert (tmp_path / out / MARKER).read_text() == "run\n"
    with pytest.raises(InputError, match="holds a 'run' output"):
        check_target(tmp_path / "new", "evaluation")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "new"]


# --- nothing left behind ---------------------------------------------------------------------


def test_a_failure_while_setting_up_a_run_leaves_no_stage(tmp_path, monkeypatch):
    """An exception while the run directory is being set up removes its staging directory."""
    import octopus.run.directory as directory

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(directory, "ChromeTraceWriter", broken)
    with pytest.raises(OSError, match="No space"):
        execute(RunSpec(workflow="face-recognition", instances=2), out_dir=tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_staging_leaves_no_stage(tmp_path, monkeypatch):
    """Should making the stage shareable fail, the stage goes too, and the error names the
    target."""

    def broken(self, mode):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", broken)
    with pytest.raises(InputError, match="Operation not permitted"):
        StagedDirectory(tmp_path / "r", "run")
    assert list(tmp_path.iterdir()) == []


def test_a_signal_just_after_the_stage_is_made_leaves_no_stage(tmp_path, monkeypatch):
    """A termination signal handled the moment the stage directory exists (the CLI raises on
    SIGTERM) removes it: its name is known before it is made."""
    real_mkdir = os.mkdir

    def interrupted(path, mode=0o777, *args, **kwargs):
        real_mkdir(path, mode, *args, **kwargs)
        if ".stage-" in os.fspath(path):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "mkdir", interrupted)
    with pytest.raises(KeyboardInterrupt):
        StagedDirectory(tmp_path / "r", "run")
    assert list(tmp_path.iterdir()) == []


def _start_long_run(out: Path) -> tuple[subprocess.Popen, Path]:
    """``octopus simulate`` of a long run into ``out``; returns it once its stage exists."""
    proc = subprocess.Popen([*CLI, *SIMULATE[:3], "--instances", "50000", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        stages = list(out.parent.glob(f".{out.name}.*.stage-*"))
        if stages:
            return proc, stages[0]
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no staging directory appeared: {proc.communicate()[1]}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_removes_the_staging_directory(signum, tmp_path):
    """A terminated run (timeout, a closed terminal) removes its stage and exits 128 + signal."""
    proc, stage = _start_long_run(tmp_path / "run")
    try:
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum, err
    assert err.strip() == f"terminated ({signal.Signals(signum).name})"
    assert list(tmp_path.iterdir()) == []


def test_the_stage_of_a_killed_run_is_removed_by_the_next_run_beside_it(tmp_path):
    """``kill -9`` cannot be caught: the next command writing into that folder removes the
    stage (and a stage of a live process is left alone)."""
    proc, stage = _start_long_run(tmp_path / "run")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert stage.exists()
    alive = tmp_path / f".other.{os.getppid()}.stage-abc123"
    alive.mkdir()
    execute(RunSpec(workflow="face-recognition", instances=2), out_dir=tmp_path / "next")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["next", alive.name])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_the_stage_of_a_killed_process_not_yet_reaped_is_removed(tmp_path):
    """A process killed with ``-9`` stays a zombie until its parent waits for it (a sweep
    worker under a slow init): it will never write again, so its stage is stale."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    state = Path(f"/proc/{proc.pid}/stat")
    deadline = time.monotonic() + 30
    while state.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.01)
    stage = tmp_path / f".run.{proc.pid}.stage-abc123"
    stage.mkdir()
    try:
        remove_stale_stages(tmp_path)
        assert not stage.exists()
    finally:
        proc.wait()


def test_a_half_replaced_earlier_output_of_a_dead_run_is_removed(tmp_path):
    """The "-old" folder a run renames its predecessor to while publishing is removed too, if
    the run died right then."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    old = tmp_path / f".run.{dead.pid}.stage-x1y2-old"
    old.mkdir()
    remove_stale_stages(tmp_path)
    assert list(tmp_path.iterdir()) == []
