"""Seeded fault injection: server errors, cut connections, latency, late commits, answers that
say nothing (a create committed, then answered with an empty body, `{}` or an HTML page), and
error pages that echo the request's headers, the Authorization header among them (some proxies do).

Each request's faults come from its own RNG seeded with (seed, sequence number),
so the n-th request meets the same faults in every run with the same seed, and
turning latency on does not shift which requests fail.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


LATENCY_DISTS = ("fixed", "uniform", "exponential")


@dataclass(frozen=True)
class FaultSettings:
    """The faults, drawn from `seed` and each request's sequence number; SandboxConfig starts with them."""

    fail_rate: float = 0.0  # this share of requests is answered one of `fail_statuses` instead; nothing stored
    fail_statuses: tuple[int, ...] = (500, 502, 503)
    cut_rate: float = 0.0  # this share of writes commits, then its connection is dropped
    latency_ms: float = 0.0
    latency_dist: str = "fixed"  # fixed | uniform (0..2*mean) | exponential (mean)
    slow_start_s: float = 0.0  # for this long after start ...
    slow_start_ms: float = 0.0  # ... every answer takes this much longer
    late_commit_ms: float = 0.0  # creates commit this long after they arrive, while reads answer at once ...
    late_rate: float = 1.0  # ... this share of them (a client that times out first is left in doubt)
    blank_rate: float = 0.0  # this share of creates commit, then answer 200 with `blank_body` ...
    blank_body: str = "empty"  # ... one of BLANK_BODIES
    echo_rate: float = 0.0  # this share of writes (POST, PUT, DELETE) is answered `echo_status` with a page echoing its headers (the token too)
    echo_status: int = 400
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("fail_rate", "cut_rate", "late_rate", "blank_rate", "echo_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        if self.latency_dist not in LATENCY_DISTS:
            raise ValueError(f"latency_dist must be one of {LATENCY_DISTS}")
        if self.latency_ms < 0 or self.slow_start_ms < 0 or self.slow_start_s < 0 or self.late_commit_ms < 0:
            raise ValueError("latencies must be >= 0")
        if any(s < 500 or s > 599 for s in self.fail_statuses) or not self.fail_statuses:
            raise ValueError("fail_statuses must be 5xx codes")
        if self.blank_body not in BLANK_BODIES:
            raise ValueError(f"blank_body must be one of {', '.join(BLANK_BODIES)}")


# What a 200 that says nothing looks like: a gateway that lost the body, a `{}`, a proxy's page.
BLANK_BODIES = {
    "empty": (b"", "application/json"),
    "{}": (b"{}", "application/json"),
    "html": (b"<!DOCTYPE html><html><head><title>OK</title></head><body><p>Request accepted.</p></body></html>",
             "text/html; charset=utf-8"),
}


def echo_page(status: int, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    """A long error page that echoes the request's headers, the token's first character at offset 190, so
    a message cut at 200 characters before it is scrubbed keeps most of the token."""
    lines = [f"{name.decode('latin-1').title()}: {value.decode('latin-1')}" for name, value in headers]
    auth = next((line for line in lines if line.startswith("Authorization:")), "Authorization: (none)")
    others = "\n".join(line for line in lines if not line.startswith("Authorization:"))
    head = f"<html><head><title>{status} Error</title></head><body><h1>{status} Error</h1><pre>{method} {path}\n"
    lead = "Authorization: Bearer "
    head = head + "." * max(0, 190 - len(head) - len(lead))
    tail = f"\n{others}\n</pre><p>{'The proxy could not serve this request. ' * 40}</p></body></html>"
    return (head + (lead + auth.split(" ", 2)[-1] if auth.startswith(lead.rstrip()) else auth) + tail).encode()


@dataclass(frozen=True)
class FaultDraw:
    fail_status: int | None  # answer this 5xx instead of handling the request
    cut: bool  # if this is a create that commits, drop the connection instead of answering
    latency_s: float
    commit_delay_s: float = 0.0  # if this is a create: how long it takes to commit (client gone or not)
    blank: bool = False  # if this is a create that commits, answer 200 with a body that says nothing
    echo: bool = False  # answer an error page echoing the request's headers instead of handling it


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
    u_blank, u_echo = rng.random(), rng.random()  # drawn after the others: older seeds give the same faults
    return FaultDraw(status, u_cut < settings.cut_rate, latency_ms / 1000.0, late,
                     blank=u_blank < settings.blank_rate, echo=u_echo < settings.echo_rate)


def latency(mean_ms: float, dist: str, u: float) -> float:
    """A latency in ms from a uniform draw `u` in [0, 1); `dist` one of LATENCY_DISTS (FaultSettings checks it)."""
    if dist == "uniform":
        return 2.0 * mean_ms * u
    if dist == "exponential":
        return -mean_ms * math.log(1.0 - u)
    return mean_ms  # fixed
