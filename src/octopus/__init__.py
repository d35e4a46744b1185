"""Octopus: orchestrated AI workflows on scale-out spatial accelerators.

Subpackages, and the one way their dependencies point (a test reads the imports)::

    cli -> experiments -> run -> (sched -> sim -> workflow, arch)
                                 and (cost -> autochunk, models, workflow, arch)

- ``octopus.workflow``    the Orchestrated Workflow Graph as data: model, YAML format, analysis,
  sampling, built-ins
- ``octopus.arch``        the hardware model of a scale-out spatial architecture
- ``octopus.sim``         the event-driven simulator and its recorders
- ``octopus.sched``       schedulers, found by name in a registry
- ``octopus.autochunk``   the AutoChunk compiler pass for PyTorch (imports only torch)
- ``octopus.models``      model collections in plain torch
- ``octopus.cost``        torch modules as Task Blocks (called only by ``run``)
- ``octopus.run``         one home for a run: spec -> scenario -> result
- ``octopus.experiments`` evaluations, sweeps, studies and reports
- ``octopus.cli``         the ``octopus`` command
"""

__version__ = "0.1.0"
