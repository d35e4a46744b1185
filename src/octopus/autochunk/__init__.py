"""AutoChunk: cut inference activation memory by running the peak regions of a graph in chunks.

Stands alone: imports nothing else from ``octopus``. Three lines::

    from octopus.autochunk import autochunk
    fast = autochunk(model.eval(), (x,), memory_budget="30%")   # or bytes, or "2GiB"
    y = fast(x); print(fast.plan.explain()); print(fast.code)

Inputs may be keywords (``autochunk(model, {"input_ids": ids}, "30%")``); the result is called
like the model and returns its output structure. Library code fx cannot trace is captured through
``torch._dynamo.export``. Teach it an op with :func:`register_rule`. Or use
``torch.compile(model, backend="autochunk", options={"memory_budget": 0.3}, dynamic=False)``
(an installed package declares the backend as a ``torch_dynamo_backends`` entry point, so a
fresh process needs no import; from a source tree, importing this package registers it).
"""

from .api import (
    BudgetError,
    PerShape,
    autochunk,
    autochunk_backend,
    compile_graph,
    parse_budget,
    plan_graph,
    simulate_peak_bytes,
)
from .capture import CaptureError, annotate, capture, prepare
from .codegen import ChunkedModule, generate
from .cost import CostModel
from .measure import (
    LiveStorageMode,
    PeakReading,
    cross_checked_peak,
    dispatch_peak_bytes,
    peak_bytes,
    profiler_peak_bytes,
)
from .plan import ChunkPlan, ChunkRegion
from .rules import DimMap, pointwise_rule, register_rule
from .signature import CallSpec, InputMismatchError

__all__ = [
    "BudgetError",
    "CallSpec",
    "CaptureError",
    "ChunkPlan",
    "ChunkRegion",
    "ChunkedModule",
    "CostModel",
    "DimMap",
    "InputMismatchError",
    "LiveStorageMode",
    "PeakReading",
    "PerShape",
    "annotate",
    "autochunk",
    "autochunk_backend",
    "capture",
    "compile_graph",
    "cross_checked_peak",
    "dispatch_peak_bytes",
    "generate",
    "parse_budget",
    "peak_bytes",
    "plan_graph",
    "pointwise_rule",
    "prepare",
    "profiler_peak_bytes",
    "register_rule",
    "simulate_peak_bytes",
]
