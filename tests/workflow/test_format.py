"""The YAML format: round trip, builder equivalence, JSON Schema, documented example."""

import json
from pathlib import Path

import jsonschema
import pytest

from octopus.errors import load_yaml_mapping
from octopus.workflow import (
    Normal,
    Poisson,
    WorkflowBuilder,
    builtin_names,
    load_builtin,
    load_workflow,
    save_workflow,
)
from octopus.workflow.schema import SCHEMA_PATH, workflow_schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", builtin_names())
def test_round_trip_load_save_load_is_equal(name, tmp_path):
    """load -> save -> load gives an equal model."""
    wf = load_builtin(name)
    save_workflow(wf, tmp_path / "wf.yaml")
    assert load_workflow(tmp_path / "wf.yaml") == wf


def test_builder_produces_the_same_model_as_yaml(tmp_path):
    """The Python builder and the YAML loader agree block for block."""
    built = (WorkflowBuilder("faces", "demo")
             .task("detect", "ai", Normal(mean=8e9, cv=0.1), output_bytes=200_000)
             .fanout("per_face", Poisson(mean=3), ["embed"])
             .task("embed", "ai", 1e9)
             .flow("detect", "per_face").build())
    (tmp_path / "faces.yaml").write_text("""
name: faces
description: demo
blocks:
  - {id: detect, type: task, kind: ai, work: {dist: normal, mean: 8.0e9, cv: 0.1},
     output_bytes: 200000}
  - {id: per_face, type: fanout, count: {dist: poisson, mean: 3}, body: [embed]}
  - {id: embed, type: task, kind: ai, work: {dist: constant, value: 1.0e9}}
flows: [[detect, per_face]]
""")
    assert load_workflow(tmp_path / "faces.yaml") == built


def test_shipped_schema_is_current():
    """The packaged schema.json equals the schema generated from the model."""
    assert json.loads(SCHEMA_PATH.read_text()) == workflow_schema()


@pytest.mark.parametrize("name", builtin_names())
def test_builtins_and_examples_satisfy_the_schema(name):
    """Every built-in (as written on disk) validates against the JSON Schema."""
    from octopus.workflow.builtin import _dir

    doc = load_yaml_mapping(_dir() / f"{name}.yaml")
    jsonschema.validate(doc, workflow_schema())


def test_annotated_example_loads():
    """The example in examples/ (referenced by docs/workflow-format.md) is valid."""
    wf = load_workflow(ROOT / "examples" / "workflow.yaml")
    assert wf.name and len(wf.blocks) >= 5
    assert "examples/workflow.yaml" in (ROOT / "docs" / "workflow-format.md").read_text()
