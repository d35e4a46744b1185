"""The ``octopus`` command. Bad input prints one line to stderr and exits with code 2."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from octopus.errors import InputError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Orchestrated AI workflows on scale-out spatial accelerators.",
    pretty_exceptions_enable=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an :class:`InputError` into its one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper


from octopus.cli import autochunk as _autochunk  # noqa: E402,F401
from octopus.cli import evaluate as _evaluate  # noqa: E402,F401
from octopus.cli import plot as _plot  # noqa: E402,F401
from octopus.cli import simulate as _simulate  # noqa: E402,F401
from octopus.cli import sweep as _sweep  # noqa: E402,F401
from octopus.cli import workflows as _workflows  # noqa: E402,F401  (registers commands)
