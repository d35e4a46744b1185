"""User-facing input errors shared by every loader, and the one way input files are read.

A loader that rejects input raises :class:`InputError`; the CLI prints its one-line message and
exits with code 2. A loader that finds several independent problems raises them together as
:class:`InputErrors` (one line each). Nothing else in the package catches them, so library users
get the exception.

Every input file (workflows, architectures, sweep specs, results CSVs) is read by
:func:`read_text_file`: only a regular file (a directory, a device or a pipe is refused without
a blocking read), of at most :data:`MAX_INPUT_BYTES`, in UTF-8. YAML is read by
:func:`yaml_loader`: the C parser when PyYAML has it, YAML 1.2 floats, no repeated keys.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["MAX_INPUT_BYTES", "DuplicateKeyError", "InputError", "InputErrors", "file_kind",
           "load_yaml_mapping", "parse_yaml_value", "raise_all", "read_text_file",
           "validation_message", "validation_messages", "yaml_loader"]

MAX_INPUT_BYTES = 64 * 2**20
"""The largest input file read: 64 MiB (the largest built-in workflow is under 4 KiB)."""


class InputError(ValueError):
    """Bad user input: ``str(error)`` is one line naming the source, the field and the problem."""

    def __init__(self, source: str | Path | None, where: str | None, problem: str):
        self.source = str(source) if source is not None else None
        self.where = where
        self.problem = problem
        parts = [p for p in (self.source, where) if p]
        super().__init__(": ".join([*parts, problem]))

    @property
    def problems(self) -> tuple[InputError, ...]:
        """Every problem this error reports, one line each (here: itself)."""
        return (self,)

    def __reduce__(self) -> tuple:
        # Rebuilt from its parts, so an error raised in a worker process reaches the caller.
        return (InputError, (self.source, self.where, self.problem))


class InputErrors(InputError):
    """Several independent problems found in one input; ``str(error)`` has one line each.

    Its ``source``, ``where`` and ``problem`` are the first problem's."""

    def __init__(self, problems: Sequence[InputError]):
        if not problems:
            raise ValueError("InputErrors needs at least one problem")
        self._problems = tuple(p for e in problems for p in e.problems)
        first = self._problems[0]
        super().__init__(first.source, first.where, first.problem)

    @property
    def problems(self) -> tuple[InputError, ...]:
        return self._problems

    def __reduce__(self) -> tuple:
        return (InputErrors, (self._problems,))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self._problems)


def raise_all(problems: Sequence[InputError]) -> None:
    """Raise the one problem, or all of them as :class:`InputErrors`; nothing when empty."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputErrors(problems)


def read_text_file(path: str | Path, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The text of a regular UTF-8 file of at most ``max_bytes`` (a leading byte-order mark is
    dropped). A directory, device, pipe or socket is refused without reading from it.

    Raises:
        InputError: the file is missing or unreadable, not a regular file, larger than
            ``max_bytes``, or not UTF-8 (naming the line of the first bad byte).
    """
    path = Path(path)
    try:
        kind = file_kind(path.stat().st_mode)
        if kind == "a file":
            # O_NONBLOCK: should the path turn into a pipe after the check, open() still returns.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as fh:
                kind = file_kind(os.fstat(fd).st_mode)
                data = fh.read(max_bytes + 1) if kind == "a file" else b""
    except OSError as exc:
        raise InputError(path, None, f"cannot read file ({exc.strerror})") from None
    if kind != "a file":
        raise InputError(path, None, f"is {kind}, not a regular file")
    if len(data) > max_bytes:
        raise InputError(path, None, f"larger than {max_bytes // 2**20} MiB, the limit for an "
                                     "input file")
    return _decoded(path, data)


def file_kind(mode: int) -> str:
    """What an ``st_mode`` is, in words: ``'a file'``, ``'a directory'``, ``'a named pipe'``..."""
    for test, name in ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _decoded(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, None, "not UTF-8 text: UTF-16 (it starts with a UTF-16 "
                                     "byte-order mark); save the file as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(path, f"line {line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                                               "save the file as UTF-8") from None


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping (which files: :func:`read_text_file`; the
    YAML rules: :func:`yaml_loader`).

    Raises:
        InputError: the file cannot be read (see :func:`read_text_file`), is not YAML, repeats
            a key (naming the key and both lines), or is not a mapping.
    """
    path = Path(path)
    text = read_text_file(path)
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        if not isinstance(exc, DuplicateKeyError):
            problem = f"not valid YAML ({problem})"
        raise InputError(path, where, problem) from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a mapping at the top level")
    return data


def parse_yaml_value(text: str) -> Any:
    """Read one value (e.g. from ``--set key=value``) with the same rules as config files.

    Raises:
        yaml.YAMLError: ``text`` is not YAML.
    """
    return load_yaml(text)


def load_yaml(text: str) -> Any:
    """The one YAML document in ``text``, as :func:`yaml_loader` reads it.

    Plain documents (no tags, no merge keys: every workflow, architecture and sweep spec we
    ship) are built straight from the parser's events, several times faster than PyYAML's node
    graph; anything else is left to the loader itself. Both give the same data.

    Raises:
        yaml.YAMLError: not YAML, several documents, or a repeated key (:class:`DuplicateKeyError`).
    """
    try:
        return _from_events(text)
    except _NotPlain:
        return yaml.load(text, Loader=yaml_loader())


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names a key twice (YAML forbids it; PyYAML alone keeps the last value)."""


@cache
def yaml_loader() -> type:
    """The loader of every YAML input.

    Safe (plain data only); the C parser when PyYAML was built with libyaml
    (``yaml.CSafeLoader``: a 5 MB workflow reads in seconds, not a minute); YAML 1.2 floats
    (``4.0e9`` and ``1e-3`` are numbers, not strings: PyYAML's YAML 1.1 rules need a dot and a
    signed exponent); and a key repeated in one mapping raises :class:`DuplicateKeyError`
    naming the key and both lines (keys a merge ``<<: *anchor`` brings in may be overridden).
    """
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            _check_unique_keys(self, node)
            return super().construct_mapping(node, deep=deep)

    exponent = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", exponent, list("-+0123456789."))
    return Loader


class _NotPlain(Exception):
    """The document uses a YAML feature :func:`_from_events` leaves to the full loader."""


def _from_events(text: str) -> Any:
    """Build the document from parser events: scalars resolved and constructed by the loader's
    own rules (cached: workflows repeat their keys and small values), containers and aliases
    by hand, repeated keys refused."""
    loader = yaml_loader()(text)
    scalar = _scalar_builder()
    anchors: dict[str, Any] = {}
    open_: list[_Open] = []
    root, documents = None, 0
    try:
        while not isinstance(event := loader.get_event(), yaml.StreamEndEvent):
            kind = type(event)
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.tag is not None:
                    raise _NotPlain
                open_.append(_Open({} if kind is yaml.MappingStartEvent else []))
                if event.anchor:
                    anchors[event.anchor] = open_[-1].container
                continue
            if kind is yaml.ScalarEvent:
                if event.tag not in (None, "!"):
                    raise _NotPlain
                value = scalar(event.value, event.implicit)
                if event.anchor:
                    anchors[event.anchor] = value
            elif kind is yaml.AliasEvent:
                value = anchors[event.anchor]
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = open_.pop().container
            else:  # document boundaries
                documents += kind is yaml.DocumentStartEvent
                if documents > 1:
                    raise _NotPlain  # the loader reports "expected a single document"
                continue
            if open_:
                open_[-1].add(value, event)
            else:
                root = value
    finally:
        loader.dispose()
    return root


class _Open:
    """A mapping or sequence being built; a mapping's key waits here for its value."""

    __slots__ = ("container", "key", "lines")

    def __init__(self, container: dict | list):
        self.container = container
        self.key: Any = _NO_KEY
        self.lines: dict[Any, int] = {}  # key -> 0-based line where it first appeared

    def add(self, value: Any, event: Any) -> None:
        container = self.container
        if type(container) is list:
            container.append(value)
        elif self.key is _NO_KEY:
            try:
                first = self.lines.setdefault(value, event.start_mark.line)
            except TypeError:
                raise _NotPlain from None  # an unhashable key: the loader reports it
            if value in container:
                raise DuplicateKeyError(None, None, f"duplicate key {value!r} (first on line "
                                        f"{first + 1})", event.start_mark)
            self.key = value
        else:
            container[self.key] = value
            self.key = _NO_KEY


_NO_KEY = object()


@cache
def _scalar_builder() -> Any:
    loader = yaml_loader()("")

    @functools.lru_cache(maxsize=1 << 14)
    def scalar(value: str, implicit: tuple[bool, bool]) -> Any:
        tag = loader.resolve(yaml.ScalarNode, value, implicit)
        if tag not in loader.yaml_constructors or tag == "tag:yaml.org,2002:merge":
            raise _NotPlain
        return loader.yaml_constructors[tag](loader, yaml.ScalarNode(tag, value))

    return scalar


def _check_unique_keys(loader: Any, node: Any) -> None:
    """Raise :class:`DuplicateKeyError` at the second occurrence of a key of ``node``."""
    if not isinstance(node, yaml.MappingNode):
        return
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            seen = key in first_line
        except TypeError:  # an unhashable key: the constructor reports it
            continue
        if seen:
            raise DuplicateKeyError(
                None, None, f"duplicate key {key!r} (first on line {first_line[key] + 1})",
                key_node.start_mark)
        first_line[key] = key_node.start_mark.line


def validation_message(exc: Any) -> tuple[str, str]:
    """Turn a pydantic ``ValidationError`` into ``(field path, problem)`` for its most telling
    error: an unknown field (a typo explains the "missing" errors it causes) or else the first."""
    errors = exc.errors()
    first = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    return _described(first)


def validation_messages(exc: Any) -> list[tuple[str, str]]:
    """Every error of a pydantic ``ValidationError`` as ``(field path, problem)``, except a
    missing field beside an unknown one in the same mapping (the typo explains it)."""
    errors = exc.errors()
    typo_parents = {tuple(e["loc"][:-1]) for e in errors if e.get("type") == "extra_forbidden"}
    return [_described(e) for e in errors
            if not (e.get("type") == "missing" and tuple(e["loc"][:-1]) in typo_parents)]


def _described(error: dict[str, Any]) -> tuple[str, str]:
    loc = ".".join(str(p) for p in error.get("loc", ()) if not str(p).startswith("function-"))
    msg = error.get("msg", "invalid value")
    if error.get("type") == "extra_forbidden":
        msg = "unknown field (check the spelling)"
    return loc or "<root>", msg.removeprefix("Value error, ")
