"""PUT and DELETE of one contact (and DELETE of a customer), paced and retried.

Unlike a create, these name what they change by id, so they are idempotent: sending one
again after a lost answer changes nothing more. Every retryable failure is retried,
answer or not, through the run's one retry loop (the reader's: same pacer, same policy);
a 404 after a lost answer means the first attempt did it. Needs `update_customers`.

    editor = ContactEditor(reader)
    done = await editor.delete(customer_id, contact_id)       # Edit("done" | "gone" | "failed", ...)
    done = await editor.update(customer_id, contact_id, {"note": "VIP"})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from importer import ecwid, policy
from importer.policy import Action
from importer.store import StoreReader

__all__ = ["ContactEditor", "Edit", "UPDATE_SCOPE", "DONE", "GONE", "FAILED"]

UPDATE_SCOPE = "update_customers"
DONE, GONE, FAILED = "done", "gone", "failed"


@dataclass(frozen=True)
class Edit:
    """What a PUT or DELETE came to: `done`, `gone` (nothing there to change), or `failed`."""

    result: str
    http_status: int | None = None
    attempts: int = 0
    detail: str = ""


@dataclass(frozen=True)
class _Try:
    """One attempt, as the reader's retry loop reads it."""

    action: Action
    status: int | None = None
    retry_after: float | None = None
    result: str = FAILED
    detail: str = ""


class ContactEditor:
    def __init__(self, reader: StoreReader):
        self._reader = reader  # its client, pacer, token and retry policy: one of each per run

    async def delete(self, customer_id: int, contact_id: int) -> Edit:
        return await self._edit("DELETE", f"/customers/{customer_id}/contacts/{contact_id}", None, "deleteCount")

    async def update(self, customer_id: int, contact_id: int, body: dict[str, Any]) -> Edit:
        return await self._edit("PUT", f"/customers/{customer_id}/contacts/{contact_id}", body, "updateCount")

    async def delete_customer(self, customer_id: int) -> Edit:
        return await self._edit("DELETE", f"/customers/{customer_id}", None, "deleteCount")

    async def _edit(self, method: str, path: str, body: dict | None, count_field: str) -> Edit:
        state = {"attempts": 0, "lost": False}  # lost: an earlier attempt may have done it
        last = await self._reader.retry_loop()(self._attempt, method, path, body, count_field, state)
        if last.action is Action.RETRY:
            return Edit(FAILED, last.status, state["attempts"], f"gave up after {state['attempts']} attempts: {last.detail}")
        return Edit(last.result, last.status, state["attempts"], last.detail)

    async def _attempt(self, method: str, path: str, body: dict | None, count_field: str, state: dict) -> _Try:
        state["attempts"] += 1
        try:
            response, sent_at = await self._reader.request(method, path, body)
        except httpx.TransportError as exc:
            state["lost"] = state["lost"] or policy.may_have_been_sent(exc)
            return _Try(Action.RETRY, detail=self._reader.scrub(f"{type(exc).__name__}: {exc}"))
        status = response.status_code
        if 200 <= status < 300:
            count = ecwid.read_count(response, count_field)
            if count is None:  # it says nothing: it may have been done; sending it again is harmless
                state["lost"] = True
                return _Try(Action.RETRY, status, detail=self._reader.scrub(ecwid.unreadable(response, count_field)))
            if count == 1 or (count == 0 and state["lost"]):
                return _Try(Action.SUCCESS, status, result=DONE)
            return _Try(Action.FAIL, status, detail=f"{method} {path}: answered {count_field} {count}")
        code, message = ecwid.parse_error(response)
        retry_after = policy.parse_retry_after(response.headers.get("Retry-After"))
        detail = self._reader.scrub(f"HTTP {status} {code} {message}".strip())
        if status == 429:
            self._reader.rate_limited(retry_after, sent_at)
        action = policy.classify_status(status, code, message)
        if action is Action.STOP:
            raise self._reader.stop_error(status, code, message, UPDATE_SCOPE)
        if action is Action.RETRY:
            state["lost"] = state["lost"] or status != 429  # a 5xx may come after the change was made
            return _Try(Action.RETRY, status, retry_after, detail=detail)
        if status == 404:  # not there (any more): a lost DELETE of ours did it, or someone else did
            done = state["lost"] and method == "DELETE"
            return _Try(Action.SUCCESS, status, result=DONE if done else GONE, detail=detail)
        return _Try(Action.FAIL, status, detail=detail)

