"""``octopus``: Discriminate Dual-Scheduling, Adaptive TBU Scheduling, Proactive Cluster
Scheduling and diffusion, one module each (``docs/schedulers.md``):

- :mod:`.dual`: which TBUs keep which blocks resident (replicas), and which are elastic;
- :mod:`.adaptive`: the group width and batch size of each dispatch, and the demand the replicas
  are re-planned from;
- :mod:`.proactive`: instance homes by predicted load, preloads of revealed work, diffusion of
  homes between neighbouring clusters;
- :mod:`.queues`: ready firings by block, most urgent first;
- :mod:`.scheduler`: the scheduler that wires them to the simulator's hooks.

Each mechanism is a boolean of :class:`OctopusConfig`; the evaluation's ablation flips each.
"""

from octopus.sched.octopus.config import OctopusConfig
from octopus.sched.octopus.scheduler import Octopus

__all__ = ["Octopus", "OctopusConfig"]
