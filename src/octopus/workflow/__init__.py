"""The Orchestrated Workflow Graph: model, YAML format, builder, analysis, sampling, built-ins."""

from octopus.workflow.analysis import (
    BlockTiming,
    Capacity,
    MakespanBound,
    batch_lower_bound,
    expected_critical_path,
    expected_firings,
    expected_lower_bound,
    expected_work,
    instance_critical_path,
)
from octopus.workflow.builder import WorkflowBuilder
from octopus.workflow.builtin import builtin_names, find_workflow, load_builtin
from octopus.workflow.distributions import (
    Constant,
    Empirical,
    Geometric,
    LogNormal,
    Normal,
    Poisson,
    Uniform,
)
from octopus.workflow.dynamicity import with_dynamicity
from octopus.workflow.io import load_workflow, parse_workflow, save_workflow, workflow_to_dict
from octopus.workflow.limits import MAX_COUNT, MAX_INSTANCE_FIRINGS, MAX_WORK, check_limits
from octopus.workflow.mix import MIX_NAME, mix_workflow
from octopus.workflow.model import TaskBlock, TorchModel, Workflow
from octopus.workflow.sampling import Firing, Instance, iter_instances, sample_instance
from octopus.workflow.structure import compile_workflow

__all__ = [
    "MAX_COUNT",
    "MAX_INSTANCE_FIRINGS",
    "MAX_WORK",
    "MIX_NAME",
    "BlockTiming",
    "Capacity",
    "Constant",
    "Empirical",
    "Firing",
    "Geometric",
    "Instance",
    "LogNormal",
    "MakespanBound",
    "Normal",
    "Poisson",
    "TaskBlock",
    "TorchModel",
    "Uniform",
    "Workflow",
    "WorkflowBuilder",
    "batch_lower_bound",
    "builtin_names",
    "check_limits",
    "compile_workflow",
    "expected_critical_path",
    "expected_firings",
    "expected_lower_bound",
    "expected_work",
    "find_workflow",
    "instance_critical_path",
    "iter_instances",
    "load_builtin",
    "load_workflow",
    "mix_workflow",
    "parse_workflow",
    "sample_instance",
    "save_workflow",
    "with_dynamicity",
    "workflow_to_dict",
]
