"""The ``octopus`` command: :func:`main` runs :data:`~octopus.cli.app.app` with every command.

Bad input, usage errors included, prints one ``error:`` line per problem and exits with code 2.
SIGTERM and SIGHUP (``timeout``, a closed terminal, a job scheduler) end the command the way
Ctrl-C does: as an exception, so a half-written output's staging directory is removed, then
exit code 128 + the signal number.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

import typer

from octopus.cli import (  # noqa: F401  (each module registers its commands)
    autochunk,
    calibrate,
    evaluate,
    plot,
    simulate,
    sram,
    sweep,
    workflows,
)
from octopus.cli.app import app

__all__ = ["Terminated", "app", "main"]


class Terminated(BaseException):
    """A termination signal arrived (a ``BaseException``, like ``KeyboardInterrupt``, so that
    ``except Exception`` does not swallow it)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def main() -> None:
    """Entry point: run the app; a usage error (an unknown option, a missing argument) is one
    line naming the command's ``--help``, with exit code 2."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Terminated as exc:
        print(f"terminated ({signal.Signals(exc.signum).name})", file=sys.stderr)
        sys.exit(128 + exc.signum)
    except Exception as exc:  # click's usage errors (typer may vendor click: no import)
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `octopus`: the help, as usage
            print(exc.format_message())
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
