"""Directories that commands write: staged beside the target, published whole, and never
replacing anything Octopus did not write.

A command writes its output (a run, a report, a benchmark) into a hidden staging directory next
to the target, ``.<name>.<pid>.stage-<random>``, and moves it into place only when complete, so
a failed or interrupted command leaves nothing half-written. A published directory holds a
marker file, :data:`MARKER`, naming its *kind* (``run``, ``evaluation``, ...). The target may be
absent, an empty directory, or a directory of the same kind with its marker; anything else
(a directory of the user's files, a file, a device, a pipe, a symbolic link, the current
directory or one of its parents, an empty path, or a place where no directory can be created)
is refused with an :class:`~octopus.errors.InputError` before any work starts. Nothing at the
target is opened for reading but the marker of a directory, and only when it is a regular file.

A staging directory is removed when the command fails or is interrupted (an exception,
Ctrl-C, or SIGTERM, which the CLI turns into an exception). One left behind by a process that
no longer runs (killed with ``-9``) is removed by the next command writing beside it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import tempfile
from pathlib import Path
from types import TracebackType

from octopus.errors import InputError, file_kind, read_text_file

__all__ = ["MARKER", "StagedDirectory", "check_target", "remove_stale_stages"]

MARKER = ".octopus"
"""The marker file in every directory Octopus publishes; it holds the directory's kind."""

# A staging directory, or (suffix -old) an earlier output being replaced by one.
_STAGE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.stage-[A-Za-z0-9_]+(-old)?$")


def check_target(target: str | Path, kind: str) -> Path:
    """``target`` as a path this command may (re)place with a directory of ``kind``.

    Leaves nothing behind, but makes sure a directory can be created beside ``target`` (by
    creating and removing one).

    Raises:
        InputError: ``target`` is empty, the current directory or one of its parents, not a
            directory, a directory that holds something other than Octopus output of
            ``kind``, or in a place where no directory can be created (read-only, missing
            permission, under a file).
    """
    path = _check_existing(target, kind)
    _check_writable(path)
    return path


def _check_existing(target: str | Path, kind: str) -> Path:
    """What :func:`check_target` checks but the probe: what is at ``target`` may be replaced."""
    if str(target).strip() == "":
        raise InputError(None, "output directory", "empty path")
    path = Path(target)
    here = Path.cwd().resolve()
    if path.resolve() == here or path.resolve() in here.parents:
        raise InputError(path, None, "is the current directory or one of its parents; name a "
                                     "new directory to write into")
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise InputError(path, None, f"cannot inspect ({exc.strerror})") from None
    if not stat.S_ISDIR(mode):
        raise InputError(path, None, f"exists and is {file_kind(mode)}, not a directory Octopus "
                                     "wrote; choose another path or remove it")
    found = _kind_of(path)
    try:
        if found == kind or (found is None and not any(path.iterdir())):
            return path
    except OSError as exc:
        raise InputError(path, None, f"cannot list its files ({exc.strerror})") from None
    held = f"a '{found}' output" if found else "files Octopus did not write"
    raise InputError(path, None, f"exists and holds {held}; a {kind} replaces only an earlier "
                                 f"{kind}: choose another path or remove it")


def _check_writable(path: Path) -> None:
    """Raise unless a directory can be made in the nearest existing folder above ``path``."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    try:
        probe = tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.stage-", dir=parent)
    except OSError as exc:
        raise InputError(path, None, f"cannot create a directory in {parent} "
                                     f"({exc.strerror})") from None
    os.rmdir(probe)


def remove_stale_stages(parent: Path) -> None:
    """Remove staging directories in ``parent`` whose process is no longer running."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = _STAGE.match(entry.name)
        if m and entry.is_dir() and not _alive(int(m["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


class StagedDirectory:
    """Build a directory of ``kind`` at ``target`` (see the module doc).

    Write into :attr:`path`; :meth:`publish` moves it onto ``target`` (replacing an earlier
    output of the same kind), :meth:`discard` drops it. As a context manager, an exception
    discards; publishing stays explicit.

    Raises:
        InputError: ``target`` may not be written (:func:`check_target`), at construction.
    """

    def __init__(self, target: str | Path, kind: str):
        self.target = _check_existing(target, kind)
        self.kind = kind
        parent = self.target.parent
        # Named before it exists, so that a signal handled just after it is made (the CLI
        # raises on SIGTERM) finds a path to remove: tempfile.mkdtemp may be interrupted after
        # its mkdir, before it returns the name.
        self.path = parent / f".{self.target.name}.{os.getpid()}.stage-{secrets.token_hex(8)}"
        self._done = False
        try:
            parent.mkdir(parents=True, exist_ok=True)
            remove_stale_stages(parent)
            self.path.mkdir(mode=0o700)
            self.path.chmod(0o755)  # an output is for sharing
        except FileExistsError:  # 64 random bits taken: not ours to remove
            self._done = True
            raise InputError(self.target, None, f"{self.path} exists") from None
        except OSError as exc:
            self.discard()
            raise InputError(self.target, None, f"cannot create a directory in {parent} "
                                                f"({exc.strerror})") from None
        except BaseException:
            self.discard()
            raise

    def publish(self) -> Path:
        """Move the staged directory onto the target; returns the target.

        Raises:
            InputError: the target changed meanwhile into something not ours to replace.
        """
        (self.path / MARKER).write_text(self.kind + "\n")
        _check_existing(self.target, self.kind)
        if self.target.exists():
            old = self.path.with_name(self.path.name + "-old")
            self.target.rename(old)
            self.path.rename(self.target)
            shutil.rmtree(old)
        else:
            self.path.rename(self.target)
        self._done = True
        return self.target

    def discard(self) -> None:
        """Remove the staged directory (nothing is published). Idempotent."""
        if not self._done:
            self._done = True
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> StagedDirectory:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.discard()


def _kind_of(path: Path) -> str | None:
    """The kind a directory's marker names, or None (no marker, or not one Octopus wrote: a
    pipe or device named like it is not read)."""
    try:
        return read_text_file(path / MARKER, max_bytes=256).strip() or None
    except InputError:
        return None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` may still write: it exists and is not a zombie."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but not been reaped (a killed worker whose parent, or an init
    that reaps slowly, has not waited for it yet): its ``/proc`` state is ``Z``. False where
    there is no ``/proc`` to tell."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat_line[stat_line.rfind(")") + 2:][:1] == "Z"  # the state follows "(comm) "
