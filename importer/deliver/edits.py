"""PUT and DELETE of one contact (and DELETE of a customer), paced and retried.

Unlike a create, these name what they change by id, so they are idempotent: sending one
again after a lost answer changes nothing more. Every retryable failure is retried,
answer or not, by the run's one client (importer.ecwid.client: the reader's pacer, retry
loop and liveness); a 404 after a lost answer means the first attempt did it. Needs `update_customers`.

    editor = ContactEditor(reader)
    done = await editor.delete(customer_id, contact_id)       # Edit("done" | "gone" | "failed", ...)
    done = await editor.update(customer_id, contact_id, {"note": "VIP"})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from importer.ecwid import UPDATE_SCOPE
from importer.ecwid.answers import count
from importer.ecwid.policy import Action
from importer.ecwid.store import StoreReader

__all__ = ["ContactEditor", "Edit", "UPDATE_SCOPE", "DONE", "GONE", "FAILED"]

DONE, GONE, FAILED = "done", "gone", "failed"


@dataclass(frozen=True)
class Edit:
    """What a PUT or DELETE came to: `done`, `gone` (nothing there to change), or `failed`."""

    result: str
    http_status: int | None = None
    attempts: int = 0
    detail: str = ""


class ContactEditor:
    def __init__(self, reader: StoreReader):
        self._api = reader.api  # the run's one client: its pacer, token, retry policy and liveness

    async def delete(self, customer_id: int, contact_id: int) -> Edit:
        return await self._edit("DELETE", f"/customers/{customer_id}/contacts/{contact_id}", None, "deleteCount")

    async def update(self, customer_id: int, contact_id: int, body: dict[str, Any]) -> Edit:
        return await self._edit("PUT", f"/customers/{customer_id}/contacts/{contact_id}", body, "updateCount")

    async def delete_customer(self, customer_id: int) -> Edit:
        return await self._edit("DELETE", f"/customers/{customer_id}", None, "deleteCount")

    async def _edit(self, method: str, path: str, body: dict | None, count_field: str) -> Edit:
        reply = await self._api.call(method, path, body, scope=UPDATE_SCOPE, meaning=count(count_field))
        if reply.action is Action.RETRY:
            return Edit(FAILED, reply.status, reply.attempts, f"gave up after {reply.attempts} attempts: {reply.detail}")
        if reply.action is Action.SUCCESS:
            # 0 after an attempt that may have done it (lost): that attempt did it
            if reply.value == 1 or (reply.value == 0 and reply.lost):
                return Edit(DONE, reply.status, reply.attempts)
            return Edit(FAILED, reply.status, reply.attempts, f"{method} {path}: answered {count_field} {reply.value}")
        if reply.status == 404:  # not there (any more): a lost DELETE of ours did it, or someone else did
            done = reply.lost and method == "DELETE"
            return Edit(DONE if done else GONE, reply.status, reply.attempts, reply.detail)
        return Edit(FAILED, reply.status, reply.attempts, reply.detail)
