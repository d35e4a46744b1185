"""Property-based: random valid workflows sample, analyse and round-trip without disagreement."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopus.workflow import (
    Capacity,
    batch_lower_bound,
    expected_firings,
    instance_critical_path,
    iter_instances,
    load_workflow,
    save_workflow,
)
from octopus.workflow.builder import WorkflowBuilder

dists = st.one_of(
    st.builds(lambda v: {"dist": "constant", "value": v}, st.integers(0, 5)),
    st.builds(lambda m: {"dist": "poisson", "mean": m}, st.floats(0, 4)),
    st.builds(lambda lo, d: {"dist": "uniform", "low": lo, "high": lo + d},
              st.integers(0, 3), st.integers(0, 3)),
    st.builds(lambda m, c: {"dist": "normal", "mean": m, "cv": c},
              st.floats(0.5, 4), st.floats(0, 1)),
)


@st.composite
def workflows(draw):
    """A random structured workflow: a chain of segments, each a task or a nested CB."""
    b = WorkflowBuilder("random")
    counter = iter(range(10_000))

    def task() -> str:
        i = f"t{next(counter)}"
        b.task(i, draw(st.sampled_from(["ai", "general"])), draw(st.integers(1, 1000)),
               output_bytes=draw(st.integers(0, 64)))
        return i

    def segment(depth: int) -> tuple[str, str, list[str]]:
        """Emit a segment; return (first id, last id, all ids)."""
        choice = draw(st.integers(0, 3 if depth < 2 else 0))
        if choice == 0:
            t = task()
            return t, t, [t]
        if choice in (1, 2):
            cb = f"c{next(counter)}"
            first, last, ids = chain(depth + 1)
            (b.loop if choice == 1 else b.fanout)(cb, draw(dists), ids)
            return cb, cb, [cb, *ids]
        br, m = f"b{next(counter)}", f"m{next(counter)}"
        n_paths = draw(st.integers(1, 3))
        weights = [draw(st.integers(1, 5)) for _ in range(n_paths)]
        paths, ids = {}, [br, m]
        for w in weights:
            if draw(st.booleans()) and m not in paths:
                paths[m] = w
                continue
            first, last, inner = chain(depth + 1)
            paths[first] = w
            b.flow(last, m)
            ids += inner
        total = sum(paths.values())
        b.branch(br, m, {k: v / total for k, v in paths.items()})
        b.merge(m)
        return br, m, ids

    def chain(depth: int) -> tuple[str, str, list[str]]:
        parts = [segment(depth) for _ in range(draw(st.integers(1, 3)))]
        for (_, last, _), (first, _, _) in zip(parts, parts[1:], strict=False):
            b.flow(last, first)
        return parts[0][0], parts[-1][1], [i for p in parts for i in p[2]]

    chain(0)
    return b.build()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wf=workflows(), seed=st.integers(0, 2**32 - 1))
def test_random_workflows_round_trip_sample_and_bound(wf, seed, tmp_path_factory):
    """Round trip is exact; sampled firing counts are finite; the batch bound holds its parts."""
    path = tmp_path_factory.mktemp("wf") / "wf.yaml"
    save_workflow(wf, path)
    assert load_workflow(path) == wf
    expected = expected_firings(wf)
    assert all(math.isfinite(v) and v >= 0 for v in expected.values())
    insts = list(iter_instances(wf, 20, seed))
    cap = Capacity.from_rates(2, 10.0, 5.0, control_cycles=3)
    bound = batch_lower_bound(insts, cap)
    assert bound >= max(instance_critical_path(i, cap) for i in insts)
    for inst in insts:
        for k, f in enumerate(inst.firings):
            assert all(p < k for p in f.preds)  # topological order
            assert f.block_id in expected
