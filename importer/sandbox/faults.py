"""Seeded fault injection: server errors, cut connections, latency, late commits.

Each request's faults come from its own RNG seeded with (seed, sequence number),
so the n-th request meets the same faults in every run with the same seed, and
turning latency on does not shift which requests fail.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultSettings:
    fail_rate: float = 0.0
    fail_statuses: tuple[int, ...] = (500, 502, 503)
    cut_rate: float = 0.0
    latency_ms: float = 0.0
    latency_dist: str = "fixed"
    slow_start_s: float = 0.0
    slow_start_ms: float = 0.0
    late_commit_ms: float = 0.0  # a create commits this long after it arrived; reads answer at once
    late_rate: float = 1.0  # ... this share of creates
    seed: int = 0


@dataclass(frozen=True)
class FaultDraw:
    fail_status: int | None  # answer this 5xx instead of handling the request
    cut: bool  # if this is a create that commits, drop the connection instead of answering
    latency_s: float
    commit_delay_s: float = 0.0  # if this is a create: how long it takes to commit (client gone or not)


def draw(settings: FaultSettings, seq: int, elapsed_s: float) -> FaultDraw:
    """The faults for request number `seq`, `elapsed_s` after the sandbox started."""
    rng = random.Random(f"{settings.seed}:{seq}")
    # Always draw the same numbers in the same order, whatever is switched on.
    u_fail, u_status, u_cut, u_latency, u_late = (rng.random() for _ in range(5))
    status = None
    if u_fail < settings.fail_rate:
        status = settings.fail_statuses[int(u_status * len(settings.fail_statuses))]
    latency_ms = latency(settings.latency_ms, settings.latency_dist, u_latency)
    if elapsed_s < settings.slow_start_s:
        latency_ms += settings.slow_start_ms
    late = settings.late_commit_ms / 1000.0 if u_late < settings.late_rate else 0.0
    return FaultDraw(status, u_cut < settings.cut_rate, latency_ms / 1000.0, late)


def latency(mean_ms: float, dist: str, u: float) -> float:
    """A latency in ms from a uniform draw `u` in [0, 1)."""
    if dist == "fixed":
        return mean_ms
    if dist == "uniform":
        return 2.0 * mean_ms * u
    if dist == "exponential":
        return -mean_ms * math.log(1.0 - u)
    raise ValueError(f"unknown latency distribution {dist!r}")
