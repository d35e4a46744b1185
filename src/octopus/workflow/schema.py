"""The JSON Schema of the workflow YAML format, generated from the pydantic model.

The shipped copy is ``octopus/workflow/schema.json`` (for editors and other tools); regenerate it
with ``python -m octopus.workflow.schema`` after changing the model. A test keeps the two equal.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from octopus.workflow.model import Workflow

__all__ = ["SCHEMA_PATH", "workflow_schema"]

SCHEMA_PATH = Path(str(resources.files("octopus.workflow") / "schema.json"))


def workflow_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every workflow file satisfies."""
    schema = Workflow.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Octopus workflow (OWG)", **schema}


if __name__ == "__main__":
    SCHEMA_PATH.write_text(json.dumps(workflow_schema(), indent=2) + "\n")
