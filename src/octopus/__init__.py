"""Octopus: orchestrated AI workflows on scale-out spatial accelerators.

Subpackages (dependencies point down this list, never up):

- ``octopus.autochunk``  the AutoChunk compiler pass for PyTorch (stands alone)
- ``octopus.workflow``   the Orchestrated Workflow Graph: model, YAML format, analysis, sampling
- ``octopus.arch``       the hardware model of a scale-out spatial architecture
- ``octopus.sim``        the event-driven simulator
- ``octopus.sched``      schedulers, found by name in a registry
- ``octopus.cost``       torch modules as Task Blocks (the bridge to AutoChunk)
- ``octopus.experiments`` evaluations, sweeps and reports
- ``octopus.cli``        the ``octopus`` command
"""

__version__ = "0.1.0"
