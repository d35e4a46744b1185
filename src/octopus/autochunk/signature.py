"""How a user's call maps onto a captured graph's placeholders, and its outputs back.

A captured graph takes a flat list of values (its placeholders, in order). :class:`CallSpec`
records how to get that list from the call the user makes (positional and keyword inputs, bound
to ``forward``'s signature or flattened as a pytree) and how to rebuild the model's own output
structure (``ModelOutput``, dataclass, dict, tuple) from the graph's flat outputs. It also records
what the graph was compiled for, so a call with other shapes is caught instead of silently
computing on the compiled sizes (:meth:`CallSpec.mismatch`).

Nothing here mutates a graph; :class:`InputMismatchError` is raised for calls whose structure
(which inputs are given) differs from the compiled one.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._pytree import TreeSpec, tree_flatten, tree_unflatten

__all__ = ["CallSpec", "InputMismatchError", "Leaf", "split_inputs"]


class InputMismatchError(ValueError):
    """A compiled module was called with inputs other than those it was compiled for."""


@dataclass(frozen=True)
class Leaf:
    """What one placeholder was compiled for: a tensor's shape, dtype and device, or a value."""

    name: str
    shape: tuple[int, ...] | None = None
    dtype: torch.dtype | None = None
    device: str | None = None
    value: Any = None

    @classmethod
    def of(cls, name: str, x: Any) -> Leaf:
        """The leaf describing ``x`` (a tensor by its metadata, anything else by value)."""
        if isinstance(x, torch.Tensor):
            return cls(name, tuple(int(s) for s in x.shape), x.dtype, x.device.type)
        return cls(name, value=x)

    def accepts(self, x: Any) -> bool:
        """Whether ``x`` matches what this leaf was compiled for."""
        if self.shape is None:
            return not isinstance(x, torch.Tensor) and _same_value(x, self.value)
        return (isinstance(x, torch.Tensor) and tuple(x.shape) == self.shape
                and x.dtype == self.dtype and x.device.type == self.device)

    def describe(self) -> str:
        """``input_ids (1, 512) int64`` or ``use_cache=False``."""
        if self.shape is None:
            return f"{self.name}={self.value!r}"
        return f"{self.name} {self.shape} {str(self.dtype).removeprefix('torch.')}"


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - values without a plain equality never match
        return a is b


@dataclass(frozen=True)
class CallSpec:
    """How a call becomes the graph's flat inputs and the graph's outputs become the result.

    Attributes:
        leaves: one :class:`Leaf` per placeholder, as compiled.
        signature: for a graph traced from ``forward`` (fx route): its signature; placeholders
            are its parameters in order, missing ones take their defaults.
        in_spec: for a graph whose placeholders are the pytree leaves of ``(args, kwargs)``
            (dynamo route): the spec of that pair.
        out_spec: pytree spec rebuilding the output from the graph's flat output (``None``: the
            graph already returns the structure).
    """

    leaves: tuple[Leaf, ...]
    signature: inspect.Signature | None = None
    in_spec: TreeSpec | None = None
    out_spec: TreeSpec | None = None

    def flatten(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Any]:
        """The graph's flat inputs for ``forward(*args, **kwargs)``.

        Raises:
            InputMismatchError: the call gives other inputs than those compiled (missing,
                unexpected or differently nested).
        """
        if self.signature is not None:
            try:
                bound = self.signature.bind(*args, **kwargs)
            except TypeError as e:
                raise InputMismatchError(f"cannot bind the call to forward{self.signature}: "
                                         f"{e}") from None
            bound.apply_defaults()
            return list(bound.arguments.values())
        if self.in_spec is None:
            if kwargs:
                raise InputMismatchError("this compiled graph takes positional inputs only")
            return list(args)
        order = _kwarg_order(self.in_spec)
        if order is not None and set(order) == set(kwargs):
            kwargs = {k: kwargs[k] for k in order}  # the compiled order, whatever the call's
        flat, spec = tree_flatten((tuple(args), dict(kwargs)))
        if spec != self.in_spec:
            raise InputMismatchError(
                f"compiled for inputs {self.describe()}; the call passes another structure "
                f"({len(args)} positional, keywords {sorted(kwargs)})")
        return flat

    def unflatten(self, out: Any) -> Any:
        """The model's own output structure from the graph's output."""
        if self.out_spec is None:
            return out
        return tree_unflatten(list(out), self.out_spec)

    def mismatch(self, flat: Sequence[Any]) -> str | None:
        """Why ``flat`` differs from the compiled leaves (``None`` when it matches)."""
        if len(flat) != len(self.leaves):
            return f"{len(flat)} inputs given, compiled for {len(self.leaves)}"
        bad = [f"{leaf.name}: got {Leaf.of(leaf.name, x).describe().split(' ', 1)[-1]}"
               for leaf, x in zip(self.leaves, flat, strict=True) if not leaf.accepts(x)]
        return "; ".join(bad) or None

    def describe(self) -> str:
        """The compiled inputs, e.g. ``input_ids (1, 512) int64, use_cache=False``."""
        return ", ".join(leaf.describe() for leaf in self.leaves)

    def key(self, flat: Sequence[Any]) -> tuple:
        """A hashable key of the shapes and values of ``flat`` (for per-shape caches)."""
        return tuple(Leaf.of("", x) if isinstance(x, torch.Tensor) else ("value", repr(x))
                     for x in flat)


def _kwarg_order(in_spec: TreeSpec) -> list[str] | None:
    """Keys of the kwargs dict of an ``(args, kwargs)`` spec, in compiled order."""
    try:
        kw = in_spec.child(1) if hasattr(in_spec, "child") else in_spec.children_specs[1]
        return list(kw.context)
    except (AttributeError, IndexError, TypeError):
        return None


def split_inputs(example_inputs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``(args, kwargs)`` from example inputs given as a tuple/list, a mapping or one tensor."""
    if isinstance(example_inputs, Mapping):
        return (), dict(example_inputs)
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,), {}
    return tuple(example_inputs), {}
