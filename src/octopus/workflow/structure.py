"""Check a workflow's graph and compile it to nested regions.

``compile_workflow(wf)`` reads a :class:`~octopus.workflow.model.Workflow` and returns its top
:class:`Region`: a DAG of items in topological order, where an item is a Task Block, a loop or
fan-out holding its body region, or a branch holding one region per path (its merge folded in).
Every later stage (analysis, sampling, simulation) walks this tree, so each instance has one
meaning.

Rules enforced (each violation is an :class:`~octopus.errors.InputError` naming the block):
ids are unique and flows name known blocks; the workflow is not empty; the flow graph is acyclic
(repetition is a ``loop``); every ``merge`` belongs to exactly one ``branch``; a branch's paths are
disjoint and each ends in its merge; bodies are properly nested; and no flow crosses the edge of a
body or path (a body connects to the rest of the graph only through its Control Block).

The checks run in stages, each relying on the ones before (references, then cycles, then
branch paths, then nesting, then flows across bodies). Every problem of the first failing stage
is reported, together, as :class:`~octopus.errors.InputErrors` (one line each).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from octopus.errors import InputError, raise_all
from octopus.workflow.model import (
    BranchBlock,
    FanoutBlock,
    LoopBlock,
    MergeBlock,
    TaskBlock,
    Workflow,
)

__all__ = ["BranchItem", "Item", "Region", "RepeatItem", "TaskItem", "compile_workflow"]


@dataclass(frozen=True, slots=True)
class TaskItem:
    block: TaskBlock


@dataclass(frozen=True, slots=True)
class RepeatItem:
    """A loop (``parallel`` False) or fan-out (``parallel`` True) and its body."""

    block: LoopBlock | FanoutBlock
    body: Region

    @property
    def parallel(self) -> bool:
        return isinstance(self.block, FanoutBlock)

    @property
    def per_iteration(self) -> bool:
        """A loop whose count is not known ahead: it fires a decision at entry and after every
        iteration (``count + 1`` per execution), each revealing one iteration or ending it."""
        return not self.parallel and not self.block.count_known


@dataclass(frozen=True, slots=True)
class BranchItem:
    """A branch, one region per path (in the order of ``block.paths``), and its merge."""

    block: BranchBlock
    paths: tuple[tuple[float, Region], ...]


Item = TaskItem | RepeatItem | BranchItem


@dataclass(frozen=True, slots=True)
class Region:
    """A DAG of items; ``preds[i]`` are the indices of item ``i``'s predecessors (all < i)."""

    items: tuple[Item, ...]
    preds: tuple[tuple[int, ...], ...]

    @property
    def sinks(self) -> list[int]:
        used = {p for ps in self.preds for p in ps}
        return [i for i in range(len(self.items)) if i not in used]


# An owner key: None for the top level, a CB id for a loop/fan-out body, (branch id, path index).
Owner = None | str | tuple[str, int]


def compile_workflow(wf: Workflow, source: str | Path | None = None) -> Region:
    """Check ``wf``'s structure and return its top region (see the module docstring)."""
    return _Compiler(wf, source).top()


class _Compiler:
    def __init__(self, wf: Workflow, source: str | Path | None):
        self.wf, self.source = wf, source
        self.problems: list[InputError] = []
        if not wf.blocks:
            self.fail(None, "the workflow has no blocks")
            self.stop_if_failed()
        self.by_id: dict = {}
        for b in wf.blocks:
            if b.id in self.by_id:
                self.fail(b.id, "duplicate id")
            else:
                self.by_id[b.id] = b
        self.succ: dict[str, list[str]] = defaultdict(list)
        self._check_references()
        self.stop_if_failed()
        self._check_acyclic()
        self.stop_if_failed()
        self.paths = {b.id: self._branch_paths(b) for b in self._of(BranchBlock)}
        self.stop_if_failed()
        self.owner = self._owners()
        self.stop_if_failed()
        self._check_flows()
        self.stop_if_failed()

    def fail(self, block: str | None, problem: str) -> None:
        """Record a problem; the stage goes on to find the others."""
        self.problems.append(
            InputError(self.source, f"block '{block}'" if block else None, problem))

    def stop_if_failed(self) -> None:
        """End of a stage: raise every problem found so far (later stages rely on this one)."""
        raise_all(self.problems)

    def _of(self, cls: type) -> list:
        return [b for b in self.wf.blocks if isinstance(b, cls)]

    def _check_references(self) -> None:
        for a, b in self.wf.edges:
            unknown = [end for end in (a, b) if end not in self.by_id]
            for end in unknown:
                self.fail(a if end == b else b, f"flow {a} -> {b} names unknown block '{end}'")
            if unknown:
                continue
            if isinstance(self.by_id[a], BranchBlock):
                self.fail(a, f"flow {a} -> {b}: a branch's successors are given by its paths")
            self.succ[a].append(b)
        merges: dict[str, str | None] = {m.id: None for m in self._of(MergeBlock)}
        for br in self._of(BranchBlock):
            merge = self.by_id.get(br.merge)
            if not isinstance(merge, MergeBlock):
                what = "unknown block" if merge is None else f"a {merge.type} block"
                self.fail(br.id, f"merge '{br.merge}' is {what}, not a merge")
            elif merges[br.merge] is not None:
                self.fail(br.merge, f"merge shared by branches '{merges[br.merge]}' and '{br.id}'")
            else:
                merges[br.merge] = br.id
            for head in br.paths:
                if head not in self.by_id:
                    self.fail(br.id, f"path starts at unknown block '{head}'")
                self.succ[br.id].append(head)  # an empty path leads to the merge itself
        for m, br in merges.items():
            if br is None:
                self.fail(m, "merge with no matching branch")
        for cb in self._of(LoopBlock) + self._of(FanoutBlock):
            for x in cb.body:
                if x not in self.by_id:
                    self.fail(cb.id, f"body names unknown block '{x}'")
                if x == cb.id:
                    self.fail(cb.id, "body contains its own control block")
        self.merge_of = {m: br for m, br in merges.items()}

    def _check_acyclic(self) -> None:
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        for root in self.by_id:
            if root in state:
                continue
            stack = [(root, iter(self.succ[root]))]
            state[root] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(nxt) == 1:  # reported, and not followed further
                    cycle = [n for n, _ in stack][[n for n, _ in stack].index(nxt) :] + [nxt]
                    self.fail(nxt, f"cycle {' -> '.join(cycle)}; express repetition as a loop")
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(self.succ[nxt])))

    def _branch_paths(self, br: BranchBlock) -> list[set[str]]:
        """Blocks on each path: reachable from its head without passing the merge."""
        seen_on: dict[str, str] = {}
        paths = []
        for head in br.paths:
            blocks: set[str] = set()
            queue = deque([] if head == br.merge else [head])
            while queue:
                x = queue.popleft()
                if x in blocks:
                    continue
                if x in seen_on:
                    self.fail(x, f"on two paths of branch '{br.id}' (from '{seen_on[x]}' and "
                              f"'{head}'); paths may only re-join at the merge")
                    continue
                blocks.add(x)
                seen_on[x] = head
                nexts = self.succ[x]
                if not nexts:
                    self.fail(x, f"path of branch '{br.id}' ends here without reaching "
                              f"merge '{br.merge}'")
                queue.extend(n for n in nexts if n != br.merge)
            paths.append(blocks)
        return paths

    def _owners(self) -> dict[str, Owner]:
        """Innermost body or path holding each block (bodies must nest properly)."""
        visiting: set[str] = set()

        @cache
        def inner(cb_id: str) -> frozenset[str]:
            if cb_id in visiting:
                self.fail(cb_id, "body contains its own control block")
                return frozenset()
            visiting.add(cb_id)
            cb = self.by_id[cb_id]
            direct = set(cb.body) if not isinstance(cb, BranchBlock) else set().union(
                *self.paths[cb_id]
            )
            closed = set(direct)
            for x in direct:
                blk = self.by_id[x]
                if isinstance(blk, LoopBlock | FanoutBlock | BranchBlock):
                    closed |= inner(x)
                if isinstance(blk, BranchBlock):
                    closed.add(blk.merge)
            visiting.discard(cb_id)
            return frozenset(closed)

        cbs = [b.id for b in self.wf.blocks if isinstance(b, LoopBlock | FanoutBlock | BranchBlock)]
        containers: dict[str, list[str]] = defaultdict(list)
        for cb in cbs:
            for x in inner(cb):
                containers[x].append(cb)
        owner: dict[str, Owner] = {}
        for x in self.by_id:
            chain = sorted(containers[x], key=lambda c: len(inner(c)))
            tangled = [(small, big) for small, big in zip(chain, chain[1:], strict=False)
                       if not (inner(small) < inner(big) and small in inner(big))]
            for small, big in tangled:
                self.fail(x, f"in the bodies of '{small}' and '{big}', which are not nested")
            if not tangled:
                owner[x] = self._owner_key(chain[0], x) if chain else None
        self.stop_if_failed()  # the merge check below needs every block's owner
        for m, br in self.merge_of.items():
            if owner[m] != owner[br]:
                self.fail(m, f"merge is not in the same body as its branch '{br}'")
        return owner

    def _owner_key(self, cb_id: str, x: str) -> Owner:
        """A loop/fan-out's id, or (branch id, path index) for a block on a branch path.

        A block whose innermost container is a branch lies on one of its paths: blocks nested
        deeper (in a loop on a path, say) have that loop as a smaller container.
        """
        if not isinstance(self.by_id[cb_id], BranchBlock):
            return cb_id
        return next((cb_id, i) for i, path in enumerate(self.paths[cb_id]) if x in path)

    def _check_flows(self) -> None:
        for a, b in self.wf.edges:
            oa, ob = self.owner[a], self.owner[b]
            if b in self.merge_of:
                br = self.merge_of[b]
                if not (isinstance(oa, tuple) and oa[0] == br):
                    self.fail(b, f"flow {a} -> {b} does not come from a path of branch '{br}'")
                continue
            if oa != ob:
                cb = _cb_of(oa) if oa is not None else _cb_of(ob)
                self.fail(a, f"flow {a} -> {b} crosses the edge of the body of '{cb}'; a body "
                          "connects to the rest of the graph only through its control block")

    def top(self) -> Region:
        region = self._region(None)
        if not region.items:
            self.fail(None, "the workflow has no blocks outside control-block bodies")
        return region

    def _region(self, key: Owner) -> Region:
        members = [b for b in self.wf.blocks if self.owner[b.id] == key
                   and not isinstance(b, MergeBlock)]
        index = {b.id: i for i, b in enumerate(members)}
        preds: dict[str, set[str]] = {b.id: set() for b in members}
        for a, b in self.wf.edges:
            src = self.merge_of.get(a, a)  # an edge out of a merge leaves its branch item
            if src in index and b in index:
                preds[b].add(src)
        order = _topological(list(index), preds)
        pos = {x: i for i, x in enumerate(order)}
        items = tuple(self._item(self.by_id[x]) for x in order)
        return Region(items, tuple(tuple(sorted(pos[p] for p in preds[x])) for x in order))

    def _item(self, blk) -> Item:
        if isinstance(blk, TaskBlock):
            return TaskItem(blk)
        if isinstance(blk, BranchBlock):
            return BranchItem(blk, tuple(
                (p, self._region((blk.id, i))) for i, p in enumerate(blk.paths.values())
            ))
        return RepeatItem(blk, self._region(blk.id))


def _cb_of(owner: Owner) -> str:
    return owner[0] if isinstance(owner, tuple) else str(owner)


def _topological(nodes: list[str], preds: dict[str, set[str]]) -> list[str]:
    """Kahn's order, ties broken by declaration order so the result is deterministic."""
    rank = {x: i for i, x in enumerate(nodes)}
    remaining = {x: len(preds[x]) for x in nodes}
    succs: dict[str, list[str]] = defaultdict(list)
    for x in nodes:
        for p in preds[x]:
            succs[p].append(x)
    ready = sorted((x for x in nodes if remaining[x] == 0), key=rank.__getitem__)
    order = []
    while ready:
        x = ready.pop(0)
        order.append(x)
        for s in succs[x]:
            remaining[s] -= 1
            if remaining[s] == 0:
                ready.append(s)
                ready.sort(key=rank.__getitem__)
    return order
