"""Helpers shared by the sandbox tests (no tests here)."""

from __future__ import annotations

from typing import Any

import httpx

from importer.sandbox import Sandbox


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def contacts_url(sb: Sandbox, customer_id: int) -> str:
    return f"{sb.api_url}/{sb.store_id}/customers/{customer_id}/contacts"


def create(client: httpx.Client, sb: Sandbox, customer_id: int, body: dict[str, Any] | None = None,
           token: str | None = None) -> httpx.Response:
    body = body if body is not None else {"contact": "a@example.com", "type": "EMAIL"}
    return client.post(contacts_url(sb, customer_id), json=body, headers=auth(token or sb.token))
