"""Build workflows in Python; the result is the same model the YAML format loads.

Example::

    from octopus.workflow import WorkflowBuilder, Normal, Poisson

    b = WorkflowBuilder("faces")
    b.task("detect", "ai", Normal(mean=8e9, cv=0.1), output_bytes=200_000)
    b.fanout("per_face", Poisson(mean=3), body=["embed"])
    b.task("embed", "ai", 1e9)
    b.flow("detect", "per_face")
    wf = b.build()          # checked like a YAML file; raises InputError on a bad graph
"""

from __future__ import annotations

from typing import Any

from octopus.workflow.distributions import Constant
from octopus.workflow.io import parse_workflow
from octopus.workflow.model import Workflow

__all__ = ["WorkflowBuilder"]


class WorkflowBuilder:
    """Accumulates blocks and flows; :meth:`build` validates them into a :class:`Workflow`."""

    def __init__(self, name: str, description: str = ""):
        self._doc: dict[str, Any] = {"name": name, "description": description,
                                     "blocks": [], "flows": []}

    def _add(self, **block: Any) -> WorkflowBuilder:
        self._doc["blocks"].append({k: v for k, v in block.items() if v is not None})
        return self

    def task(self, id: str, kind: str, work: Any, *, input_bytes: int = 0, output_bytes: int = 0,
             config_bytes: int = 0, model: str | None = None) -> WorkflowBuilder:
        """A Task Block; ``work`` is a distribution or a number (a constant)."""
        return self._add(id=id, type="task", kind=kind, work=_dist(work), input_bytes=input_bytes,
                         output_bytes=output_bytes, config_bytes=config_bytes, model=model)

    def branch(self, id: str, merge: str, paths: dict[str, float]) -> WorkflowBuilder:
        """A branch whose ``paths`` map each first block (or ``merge``) to its probability."""
        return self._add(id=id, type="branch", merge=merge, paths=dict(paths))

    def merge(self, id: str) -> WorkflowBuilder:
        return self._add(id=id, type="merge")

    def loop(self, id: str, count: Any, body: list[str], *, count_known: bool = False
             ) -> WorkflowBuilder:
        """A loop; ``count_known`` when its count is known at entry (one decision reveals
        every iteration) rather than decided one iteration at a time."""
        return self._add(id=id, type="loop", count=_dist(count), body=list(body),
                         count_known=count_known)

    def fanout(self, id: str, count: Any, body: list[str]) -> WorkflowBuilder:
        return self._add(id=id, type="fanout", count=_dist(count), body=list(body))

    def flow(self, *chain: str) -> WorkflowBuilder:
        """Task Flows along ``chain``: ``flow("a", "b", "c")`` adds a -> b and b -> c."""
        self._doc["flows"].append(list(chain))
        return self

    def build(self) -> Workflow:
        return parse_workflow(self._doc, source=f"<builder {self._doc['name']}>")


def _dist(value: Any) -> Any:
    if isinstance(value, int | float):
        return Constant(value=value)
    return value
