"""Parameters of ``octopus``: a switch per mechanism (the ablation flips each) and their knobs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from octopus.sched.base import SchedulerConfig

__all__ = ["OctopusConfig"]


class OctopusConfig(SchedulerConfig):
    """``octopus``'s mechanisms (``docs/schedulers.md``) and their parameters."""

    name: Literal["octopus"] = "octopus"
    dual: bool = Field(default=True, description="Discriminate Dual-Scheduling on: resident "
                       "replicas for stable and large blocks, an elastic pool for the rest")
    adaptive: bool = Field(default=True, description="Adaptive TBU Scheduling on: group width "
                           "and batch size per dispatch, replicas re-planned from observed demand")
    proactive: bool = Field(default=True, description="Proactive Cluster Scheduling on: homes "
                            "by predicted load, configurations preloaded when work is revealed")
    diffusion: bool = Field(default=True, description="diffusion load balancing of instance "
                            "homes between neighbouring clusters on")
    stable_cv: float = Field(
        default=0.0, ge=0, description="a top-level block whose work CV is at most this is "
        "stable and gets replicas (measured: replicas for merely steady blocks cost goodput on "
        "chip, so by default only constant-work ones)")
    reserve_share: float = Field(
        default=0.25, gt=0, le=1, description="most of the machine's TBUs replicas may take "
        "(measured on chip: 0.75 left too few elastic TBUs to widen on, and cut SLO attainment "
        "at 10-50% load on video-analytics from 0.93-0.82 to 0.75-0.27)")
    min_efficiency: float = Field(
        default=0.5, ge=0, le=1, description="the widths a block may take: those on which its "
        "mean firing keeps at least this share of the best efficiency (TBU-cycles) of any "
        "width, the group's ring exchange counted (measured, goodput / capacity, 3 seeds, "
        "0 -> 0.5: chip-4 face-recognition 0.07 -> 0.31, driving-perception 0.06 -> 0.29; "
        "wafer driving-perception 0 -> 0.62, speech-assistant 0.05 -> 0.20; 0.3 gained less)")
    crowded_efficiency: float = Field(
        default=0.7, ge=0, le=1, description="while other ready firings wait, the share of "
        "the best efficiency a width must keep (memory-bound blocks, which batch, keep "
        "min_efficiency): a lone firing may go wide for latency, one among others takes no "
        "width that wastes TBUs they could use (measured, goodput / capacity, 3 seeds, 0.5 -> "
        "0.7: driving-perception chip-4 0.25 -> 0.59, wafer 0.73 -> 1.0; mix wafer 0.19 -> "
        "0.25; 0.8 cost speech-assistant chip-4 0.23 -> 0.12)")
    deadline_scale: float = Field(
        default=5.0, ge=0, description="with adaptive, ready firings run earliest deadline "
        "first, an instance's deadline its arrival plus this many times its expected latency "
        "floor (the SLO a serving system is held to; the evaluation's is 5x the floor); 0: "
        "oldest instance first (measured, chip, 3 seeds: speech-assistant 0 -> 0.15 of "
        "capacity, the other built-ins within their intervals)")
    replan_cycles: int = Field(
        default=50_000_000, ge=1, description="cycles between re-plans of the replicas")
    ewma_alpha: float = Field(
        default=0.5, gt=0, le=1, description="weight of the latest window's demand in a re-plan")
    diffusion_period_cycles: int = Field(
        default=2_000_000, ge=1, description="cycles between diffusion rounds")
    diffusion_alpha: float = Field(
        default=0.2, gt=0, le=0.5, description="fraction of a neighbour gap moved per round")
