"""Design-space sweeps: a YAML spec expanded into points, each run once into its own directory,
results streamed into one CSV. Re-running a sweep skips the points already finished.

A spec (format in ``docs/sweeps.md``)::

    name: scaling
    base: {workflow: face-recognition, arch: chip, instances: 20}   # defaults of every point
    grid: {scheduler: [greedy, octopus], seed: [0, 1]}              # cartesian product
    points:                                                         # explicit list
      - {arch.chip.clusters_x: 1, arch.chip.clusters_y: 1}
      - {arch.chip.clusters_x: 2, arch.chip.clusters_y: 2}

The points are every grid combination times every ``points`` entry (either may be left out),
each merged over ``base``. Keys, everywhere: the fields of :class:`~octopus.run.RunSpec`
(:data:`PARAMS`: ``workflow``, ``dynamicity_cv``, ``arch``, ``scheduler``, ``instances``,
``seed``, ``rate_per_s``, ``arrival_cv``, ``slo_cycles``, ``warmup_instances``,
``sram_policy``), ``scheduler.<param>`` (a field of the scheduler's
config) and ``arch.<dotted field>`` (an architecture override). Workflow and architecture files
are found relative to the spec file.

Layout of the output directory ``DIR``: ``sweep.yaml`` (the spec), ``results.csv`` (one row per
finished point: the ``point`` id, every parameter, ``clusters``, then :data:`METRICS`) and
``points/<id>/`` (the point's run directory; its ``summary.json`` marks it finished).
"""

from __future__ import annotations

import csv
import fcntl
import functools
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from octopus.arch import apply_overrides
from octopus.errors import (
    InputError,
    load_yaml_mapping,
    parse_yaml_value,
    raise_all,
    read_text_file,
    validation_message,
)
from octopus.experiments.backends import Backend
from octopus.run import DEFAULT_SCHEDULER, RunResult, RunSpec, check_target, execute, resolve
from octopus.run.outdir import MARKER, remove_stale_stages
from octopus.sim import BUCKETS

__all__ = ["MAX_SWEEP_POINTS", "METRICS", "PARAMS", "PointResult", "SweepPlan", "SweepPoint",
           "SweepReport", "SweepSpec", "load_sweep", "parse_assignments", "plan_sweep", "run_point",
           "run_sweep", "spec_fields"]

# Every RunSpec field but the overrides mapping (its keys are the arch.* settings).
PARAMS = tuple(f for f in RunSpec.model_fields if f != "arch_overrides")
PREFIXES = ("scheduler.", "arch.")
DERIVED = ("clusters",)
METRICS = ("tbus", "makespan_cycles", "makespan_s", "lower_bound_cycles", "bound_ratio",
           "throughput_instances_per_s", "latency_p50_cycles", "latency_p99_cycles",
           "latency_mean_cycles", "slo_attainment", "utilization",
           *(f"idle_{b}_fraction" for b in BUCKETS),
           "reconfigurations", "migrations", "task_firings", "control_firings", "noc_bytes",
           "noc_byte_hops", "noc_d2d_byte_hops", "noc_wait_cycles", "offchip_bytes",
           "offchip_weight_bytes", "offchip_wait_cycles", "weight_loads", "mean_group_width",
           "mean_batch_size")
VALID_KEYS = ", ".join([*PARAMS, "scheduler.<param>", "arch.<dotted field>"])
MAX_SWEEP_POINTS = 100_000
"""Most points in one sweep (planning checks each, about 0.2 ms a point; a sweep of more runs
is better split)."""

Scalar = str | bool | int | float | None


# --- keys and --set ------------------------------------------------------------------------------
def _key_problem(key: str) -> str | None:
    """Why ``key`` is not a sweep/--set key, or None when it is one."""
    if key in PARAMS:
        return None
    for prefix in PREFIXES:
        if key.startswith(prefix) and key != prefix and ".." not in key and not key.endswith("."):
            return None
    return f"unknown key '{key}' (valid: {VALID_KEYS})"


def spec_fields(settings: Mapping[str, Any], source: str | None = None,
                allowed: Iterable[str] = PARAMS) -> dict[str, Any]:
    """Turn flat settings into :class:`~octopus.run.RunSpec` arguments: ``scheduler`` and the
    ``scheduler.<param>`` keys become the ``scheduler`` mapping (the default scheduler when only
    parameters are given), ``arch.<field>`` keys the ``arch_overrides``. Values are not checked
    here (the spec checks them).

    ``allowed`` limits the plain (non-prefixed) keys.

    Raises:
        InputError: a key that is neither an allowed field nor ``scheduler.*``/``arch.*``.
    """
    allowed = set(allowed)
    fields: dict[str, Any] = {}
    sched: dict[str, Any] = {}
    arch: dict[str, Any] = {}
    for key, value in settings.items():
        if (key in PARAMS and key not in allowed) or _key_problem(key):
            valid = ", ".join([*(k for k in PARAMS if k in allowed), "scheduler.<param>",
                               "arch.<dotted field>"])
            raise InputError(source, key, f"unknown key (valid: {valid})")
        if key.startswith("scheduler."):
            sched[key.removeprefix("scheduler.")] = value
        elif key.startswith("arch."):
            arch[key.removeprefix("arch.")] = value
        else:
            fields[key] = value
    if sched:
        fields["scheduler"] = {"name": fields.get("scheduler", DEFAULT_SCHEDULER), **sched}
    if arch:
        fields["arch_overrides"] = arch
    return fields


def parse_assignments(items: Sequence[str], source: str | None = None) -> dict[str, Any]:
    """Parse ``key=value`` strings; values are YAML scalars (``8``, ``0.5``, ``1e9``, ``true``,
    ``greedy``; an empty value is null), read like values in config files.

    Raises:
        InputError: no ``=``, an empty or repeated key, or a value that is not a YAML scalar.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(source, item, "expected key=value")
        if key in out:
            raise InputError(source, key, "set twice")
        try:
            value = parse_yaml_value(text)
        except yaml.YAMLError:
            raise InputError(source, key, f"cannot read value {text!r}") from None
        if isinstance(value, list | dict):
            raise InputError(source, key, f"expected a single value, got {text!r}")
        out[key] = value
    return out


# --- the spec ------------------------------------------------------------------------------------
class SweepSpec(BaseModel):
    """A sweep as written in YAML (keys checked, values checked later by :func:`plan_sweep`)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="name of the sweep (informative)")
    description: str | None = Field(default=None, description="what the sweep is for")
    base: dict[str, Scalar] = Field(default_factory=dict,
                                    description="settings shared by every point (defaults)")
    grid: dict[str, list[Scalar]] | None = Field(
        default=None, description="axes: key -> list of values; every combination is a point")
    points: list[dict[str, Scalar]] | None = Field(
        default=None, description="explicit points, each a mapping of settings")

    @field_validator("base")
    @classmethod
    def _base_keys(cls, base: dict[str, Scalar]) -> dict[str, Scalar]:
        _check_keys(base)
        return base

    @field_validator("grid")
    @classmethod
    def _grid_axes(cls, grid: dict[str, list[Scalar]] | None) -> dict[str, list[Scalar]] | None:
        if grid is None:
            return None
        if not grid:
            raise ValueError("empty grid (give at least one axis: key -> list of values)")
        _check_keys(grid)
        for key, values in grid.items():
            if not values:
                raise ValueError(f"axis '{key}' has no values")
        return grid

    @field_validator("points")
    @classmethod
    def _point_list(cls, points: list[dict[str, Scalar]] | None) -> list[dict[str, Scalar]] | None:
        if points is None:
            return None
        if not points:
            raise ValueError("empty list of points")
        for i, point in enumerate(points):
            if not point:
                raise ValueError(f"point {i + 1} is empty")
            _check_keys(point)
        return points

    @model_validator(mode="after")
    def _something_to_run(self) -> SweepSpec:
        if self.grid is None and self.points is None:
            raise ValueError("nothing to sweep: give grid: (axes) and/or points: (a list)")
        both = sorted(set(self.grid or {}) & {k for p in self.points or [] for k in p})
        if both:
            raise ValueError(f"set both by grid and by points: {', '.join(both)}")
        if self.size > MAX_SWEEP_POINTS:
            axes = " x ".join(str(len(v)) for v in (self.grid or {}).values())
            made = " x ".join(p for p in (axes, f"{len(self.points)} points" if self.points
                                          else "") if p)
            raise ValueError(f"{made} make {self.size:,} points, over the limit of "
                             f"{MAX_SWEEP_POINTS:,} per sweep; split it")
        return self

    @property
    def size(self) -> int:
        """How many points the spec makes (grid combinations times explicit points)."""
        return math.prod(len(v) for v in (self.grid or {}).values()) * len(self.points or [{}])


def _check_keys(mapping: Mapping[str, Any]) -> None:
    for key in mapping:
        problem = _key_problem(str(key))
        if problem:
            raise ValueError(problem)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep spec file (keys and structure; values by :func:`plan_sweep`).

    Raises:
        InputError: unreadable file, bad YAML, unknown keys, empty grid or points, wrong types.
    """
    data = load_yaml_mapping(path)
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        where, problem = validation_message(exc)
        parts = where.split(".")
        if parts[0] in ("base", "grid", "points") and parts[-1] in _SCALAR_NAMES:
            # a list or mapping where a value goes: pydantic names each member of the union
            where, problem = ".".join(parts[:-1]), _SCALAR_PROBLEM
        raise InputError(path, None if where == "<root>" else where, problem) from None


_SCALAR_NAMES = ("str", "bool", "int", "float", "none")
_SCALAR_PROBLEM = "expected a single value (text, number, true/false or null)"


# --- planning: every point resolved and checked before anything runs ----------------------------
@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: its parameters as written (the CSV columns), its spec and size."""

    id: str  # hash of the run fields and the point's own scheduler./arch. settings, as resolved
    params: dict[str, Any]
    spec: RunSpec  # file paths made absolute, so workers may run anywhere the files are
    clusters: int


@dataclass(frozen=True)
class SweepPlan:
    """Every point of a sweep, in spec order, and the parameter columns of ``results.csv``."""

    points: tuple[SweepPoint, ...]
    param_columns: tuple[str, ...]
    spec: SweepSpec | None = None

    @property
    def columns(self) -> list[str]:
        return ["point", *self.param_columns, *DERIVED, *METRICS]


def plan_sweep(spec: SweepSpec, source: str | Path | None = None) -> SweepPlan:
    """Expand ``spec`` into points and resolve every one (:func:`octopus.run.resolve`: its
    workflow, architecture with overrides, scheduler with parameters). Workflow and
    architecture files are found relative to the spec file's folder (``source``; the current
    directory without one). Nothing runs and nothing is written.

    Raises:
        InputError: any bad value, naming the point (1-based, with its settings) and the key.
    """
    source = str(source) if source is not None else None
    root = Path(source).parent if source is not None else Path()
    combos = _combinations(spec)
    arch_keys = sorted({k for c in combos for k in (spec.base | c) if k.startswith("arch.")})
    sched_keys = sorted({k for c in combos for k in (spec.base | c) if k.startswith("scheduler.")})
    for key in arch_keys:  # unknown architecture fields: once per key, not once per point
        try:
            apply_overrides({}, {key.removeprefix("arch."): None})
        except InputError as exc:
            raise InputError(source, key, exc.problem) from None
    points: list[SweepPoint] = []
    seen: dict[str, int] = {}
    for i, combo in enumerate(combos):
        label = f"point {i + 1} of {len(combos)}" + (
            f" ({', '.join(f'{k}={v}' for k, v in combo.items())})" if combo else "")
        settings = spec.base | combo
        try:
            written = RunSpec.checked(source, **spec_fields(settings, source))
            run = _rooted(written, root)
            scenario = resolve(run)
        except InputError as exc:
            raise_all([InputError(source, label, f"arch.{e.where}: {e.problem}"
                                  if e.source == "overrides"
                                  else str(e).removeprefix(f"{source}: "))
                       for e in exc.problems])

        def value(key: str, scenario=scenario) -> Any:
            if key.startswith("scheduler."):
                return getattr(scenario.spec.scheduler, key.removeprefix("scheduler."), None)
            return _dotted(scenario.arch, key.removeprefix("arch."))

        fields = written.model_dump(mode="json", include=set(PARAMS))
        params: dict[str, Any] = {k: fields[k] for k in PARAMS}
        params["scheduler"] = written.scheduler.name
        # The id covers only the point's own keys, so adding points never changes it.
        params |= {k: value(k) for k in sorted(settings) if "." in k}
        pid = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()) \
            .hexdigest()[:12]
        if pid in seen:
            raise InputError(source, label, f"the same run as point {seen[pid] + 1}")
        seen[pid] = i
        for key in (*sched_keys, *arch_keys):  # columns other points set: resolved or blank
            params.setdefault(key, value(key))
        chip = scenario.arch.chip
        points.append(SweepPoint(pid, params, run, chip.clusters_x * chip.clusters_y))
    return SweepPlan(tuple(points), (*PARAMS, *sched_keys, *arch_keys), spec)


def _rooted(run: RunSpec, root: Path) -> RunSpec:
    """``run`` with its workflow and architecture files as absolute paths, relative ones taken
    from ``root`` (workers may run in another directory, or on another machine)."""
    update = {field: str((root / getattr(run, field)).resolve())
              for field in ("workflow", "arch")
              if isinstance(getattr(run, field), str) and _is_file(getattr(run, field))}
    return run.model_copy(update=update) if update else run


def _combinations(spec: SweepSpec) -> list[dict[str, Any]]:
    """The grid's cartesian product times the explicit points (each a dict of settings)."""
    grid = spec.grid or {}
    combos = [dict(zip(grid, values, strict=True))
              for values in itertools.product(*grid.values())]
    return [c | p for c in combos for p in (spec.points or [{}])]


def _dotted(model: Any, path: str) -> Any:
    for part in path.split("."):
        model = getattr(model, part)
    return model


def _is_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name


# --- running ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PointResult:
    """What a worker sends back: the result, or the error that stopped the point."""

    id: str
    result: RunResult | None
    error: str | None = None


def run_point(point: SweepPoint, root: str) -> PointResult:
    """Run ``point`` into ``root/points/<id>/`` (no trace). Never raises: an error is returned,
    and the point's directory is then left absent (runs are staged, see RunFiles)."""
    try:
        out = Path(root) / "points" / point.id
        return PointResult(point.id, execute(point.spec, out_dir=out, trace=False))
    except Exception as exc:  # a failed point must not stop the others
        return PointResult(point.id, None, f"{type(exc).__name__}: {exc}")


@dataclass
class SweepReport:
    """How a :func:`run_sweep` call went."""

    total: int
    skipped: int  # finished before this call
    ran: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # point id -> error
    results: Path = Path("results.csv")


def result_row(point: SweepPoint, result: RunResult) -> dict[str, Any]:
    """The ``results.csv`` row of a finished point."""
    flat = result.to_dict()
    for key, value in result.idle_breakdown.items():
        flat[f"idle_{key}"] = value
    return {"point": point.id, **point.params, "clusters": point.clusters,
            **{m: flat[m] for m in METRICS}}


def run_sweep(plan: SweepPlan, out_dir: str | Path, backend: Backend,
              progress: Callable[[Iterable, int], Iterable] | None = None) -> SweepReport:
    """Run every point of ``plan`` not yet finished in ``out_dir``; stream ``results.csv``.

    ``results.csv`` is first rebuilt from the points already finished (so it always matches
    ``points/``), then one row is appended and flushed per point as it finishes. Leftover staging
    directories of interrupted points are removed. ``progress(iterable, total)`` may wrap the
    result stream (e.g. a tqdm bar over the points still to run).

    Raises:
        InputError: ``out_dir`` holds something other than a sweep (see
            :func:`~octopus.run.check_target`), or another sweep is writing into it.
    """
    out = check_target(out_dir, "sweep")
    points_dir = out / "points"
    points_dir.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("sweep\n")
    lock = (out / ".lock").open("w")
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(out, None, "another sweep is writing into this directory") from None
        remove_stale_stages(points_dir)  # points killed mid-run
        if plan.spec is not None:
            (out / "sweep.yaml").write_text(yaml.safe_dump(
                plan.spec.model_dump(exclude_none=True), sort_keys=False))
        done = {p.id: s for p in plan.points if (s := _finished(points_dir / p.id)) is not None}
        results = out / "results.csv"
        tmp = out / ".results.csv.tmp"
        with tmp.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, plan.columns)
            writer.writeheader()
            writer.writerows(result_row(p, done[p.id]) for p in plan.points if p.id in done)
        os.replace(tmp, results)
        report = SweepReport(len(plan.points), len(done), results=results)
        todo = [p for p in plan.points if p.id not in done]
        by_id = {p.id: p for p in todo}
        with results.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, plan.columns)
            root = str(out.resolve())  # workers' working directory may differ from ours
            stream: Iterable[PointResult] = backend.map(
                functools.partial(run_point, root=root), todo)
            if progress is not None:
                stream = progress(stream, len(todo))
            for res in stream:
                if res.result is None:
                    report.failed[res.id] = res.error or "failed"
                    continue
                writer.writerow(result_row(by_id[res.id], res.result))
                fh.flush()
                report.ran += 1
        return report
    finally:
        lock.close()


def _finished(run_dir: Path) -> RunResult | None:
    """The result of a finished run directory, or None (absent or unreadable)."""
    try:
        return RunResult.from_dict(json.loads(read_text_file(run_dir / "summary.json")))
    except (InputError, ValueError, TypeError):
        return None
