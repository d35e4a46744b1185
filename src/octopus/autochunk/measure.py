"""Measure the peak activation memory of one call, for tests and benchmarks.

Three meters, all returning bytes allocated *during* the call above what was live before it
(inputs and parameters are not counted; outputs still alive at the end are):

- :func:`profiler_peak_bytes`: the allocator-level truth on CPU. Runs the call under the PyTorch
  profiler with ``profile_memory=True`` and takes the maximum running sum of its ``[memory]``
  events sorted by time; kernel-internal buffers are included.
- :func:`dispatch_peak_bytes`: a :class:`LiveStorageMode` that sums the bytes of storages created
  by aten ops and still referenced. Works on real and on fake tensors (prediction without running);
  blind to buffers a kernel allocates and frees inside itself.
- :func:`cuda_peak_bytes`: ``torch.cuda.max_memory_allocated`` minus the bytes allocated before.

None of them modifies the callable. They raise whatever the call raises.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = [
    "LiveStorageMode",
    "PeakReading",
    "cross_checked_peak",
    "cuda_peak_bytes",
    "dispatch_peak_bytes",
    "peak_bytes",
    "profiler_peak_bytes",
]


def profiler_peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated on CPU while ``fn()`` runs, from the profiler's memory events."""
    gc.collect()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = fn()
    del out
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_ns())
    running = peak = 0
    for event in events:
        if event.device_type() != torch.autograd.DeviceType.CPU:
            continue
        running += event.nbytes()
        peak = max(peak, running)
    return peak


class LiveStorageMode(TorchDispatchMode):
    """Track storages created by aten ops; ``peak_bytes`` is the maximum of their live sum.

    A storage counts from the op that creates it until it is garbage collected. Storages that
    exist before the mode is entered (inputs, parameters) are never counted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live_bytes = 0
        self.peak_bytes = 0
        self._seen: set[int] = set()
        self.ignore: set[int] = set()  # storage keys never counted (e.g. fake parameters)

    def _release(self, key: int, nbytes: int) -> None:
        self._seen.discard(key)
        self.live_bytes -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        before = {_storage_key(t) for t in tree_flatten((args, kwargs))[0] if _is_tensor(t)}
        out = func(*args, **kwargs)
        for t in tree_flatten(out)[0]:
            if not _is_tensor(t):
                continue
            key = _storage_key(t)
            if key in before or key in self._seen or key in self.ignore:
                continue
            storage = t.untyped_storage()
            nbytes = storage.nbytes()
            self._seen.add(key)
            self.live_bytes += nbytes
            weakref.finalize(storage, self._release, key, nbytes)
        self.peak_bytes = max(self.peak_bytes, self.live_bytes)
        self.after_op(func, args, kwargs, out)
        return out

    def after_op(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """Hook for subclasses, called after each op is counted. Does nothing here."""


def _is_tensor(x: object) -> bool:
    return isinstance(x, torch.Tensor)


def _storage_key(t: torch.Tensor) -> int:
    return t.untyped_storage()._cdata


def dispatch_peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak live bytes of storages created while ``fn()`` runs (see :class:`LiveStorageMode`)."""
    gc.collect()
    with LiveStorageMode() as mode:
        out = fn()
    del out
    return mode.peak_bytes


def cuda_peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated on the current CUDA device while ``fn()`` runs."""
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    del out
    return peak


def peak_bytes(fn: Callable[[], Any], device: torch.device | str = "cpu") -> int:
    """Peak activation bytes of ``fn()`` on ``device``: profiler on CPU, CUDA stats on GPU."""
    if torch.device(device).type == "cuda":
        return cuda_peak_bytes(fn)
    return profiler_peak_bytes(fn)


@dataclass(frozen=True)
class PeakReading:
    """Two readings of one call's peak: the allocator's and the live-storage count's."""

    allocator_bytes: int
    live_storage_bytes: int

    @property
    def kernel_internal_bytes(self) -> int:
        """What kernels allocated internally (seen by the allocator, not by dispatch)."""
        return self.allocator_bytes - self.live_storage_bytes


def cross_checked_peak(fn: Callable[[], Any]) -> PeakReading:
    """Run ``fn`` twice on CPU: under the profiler and under :class:`LiveStorageMode`."""
    return PeakReading(profiler_peak_bytes(fn), dispatch_peak_bytes(fn))
