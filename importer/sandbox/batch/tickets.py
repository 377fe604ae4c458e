"""A batch ticket and its inner requests as Ecwid shows them: states, and the JSON of `GET /batch`.

    ticket = Ticket("ab12…", 1, store_id, token, [InnerRequest("1", "POST", "/customers/1/contacts", body, None)],
                    parallel=False, stop_on_failure=True, group=None, key=None, submitted_at=0.0)
    ticket.json(escaped=False)  # {"status": …, "totalRequests": …, "completedRequests": …, "responses": […]}

Plain data: the queue (importer.sandbox.batch.queue) changes them under the sandbox's lock, and
the batch endpoints (importer.sandbox.batch.api) render them under it.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from dataclasses import dataclass, field
from typing import Any

QUEUED, IN_PROGRESS, COMPLETED = "QUEUED", "IN_PROGRESS", "COMPLETED"
FAILED, NOT_EXECUTED = "FAILED", "NOT_EXECUTED"


@dataclass
class InnerRequest:
    id: str
    method: str
    path: str
    body: Any
    fault: str | None  # drawn at submit: fail | lost | skip | blank (importer.sandbox.batch.queue)
    state: str = QUEUED  # QUEUED (not run yet), then COMPLETED | FAILED | NOT_EXECUTED
    status: int | None = None
    answer: str = ""

    def json(self, escaped: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.state}
        if self.status is not None:
            out["httpStatusCode"] = self.status
            out["httpStatusLine"] = f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}"
            if escaped:
                out["escapedHttpBody"] = self.answer
            else:
                try:
                    out["httpBody"] = json.loads(self.answer) if self.answer else None
                except ValueError:
                    out["httpBody"] = self.answer
        return out


@dataclass
class Ticket:
    ticket: str
    seq: int
    store_id: int
    token: str = field(repr=False)
    inner: list[InnerRequest]
    parallel: bool
    stop_on_failure: bool
    group: str | None
    key: str | None
    submitted_at: float
    status: str = QUEUED
    cancelled: bool = False

    @property
    def completed(self) -> int:
        return sum(1 for r in self.inner if r.state != QUEUED)

    def json(self, escaped: bool) -> dict[str, Any]:
        return {
            "status": self.status, "totalRequests": len(self.inner), "completedRequests": self.completed,
            "responses": [r.json(escaped) for r in self.inner if r.state != QUEUED],
        }  # fmt: skip

    def listed(self) -> dict[str, Any]:
        """The ticket as a line of `GET /batch`'s listing."""
        return {"ticket": self.ticket, "status": self.status, "totalRequests": len(self.inner),
                "completedRequests": self.completed}  # fmt: skip
