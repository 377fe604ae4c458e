"""Ecwid's batch endpoints over the queue: `POST /batch`, `GET /batch`, `DELETE /batch`, `POST /batch/cancel-group`.

    routes(state)  # Starlette routes; importer.sandbox.app mounts them beside the contact routes

Each checks store and token as every route does (importer.sandbox.routing), with no scope:
ASSUMPTION: an inner request's scope is checked as it runs. Bodies and parameters are checked
here (400 WRONG_PARAMETER); the queue (importer.sandbox.batch.queue) does the rest; answers are the
tickets' JSON (importer.sandbox.batch.tickets).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from importer.sandbox.errors import wrong_parameter
from importer.sandbox.routing import query_bool, route
from importer.sandbox.batch.tickets import COMPLETED, IN_PROGRESS, QUEUED, InnerRequest

if TYPE_CHECKING:
    from importer.sandbox.state import SandboxState

MAX_REQUESTS = 500


def routes(state: SandboxState) -> list[Route]:
    return [
        route(state, "/api/v3/{store}/batch", GET=(None, _get), POST=(None, _submit), DELETE=(None, _delete)),
        route(state, "/api/v3/{store}/batch/cancel-group", POST=(None, _cancel_group)),
    ]


async def _submit(state: SandboxState, request: Request, store_id: int) -> Response:
    q = request.query_params
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise wrong_parameter("Request body is not valid JSON") from None
    if not isinstance(body, list) or not body:
        raise wrong_parameter("Request body must be a non-empty JSON array of requests")
    if len(body) > MAX_REQUESTS:
        raise wrong_parameter(f"A batch holds at most {MAX_REQUESTS} requests, got {len(body)}")
    context = request.scope["sandbox"]
    ticket, _ = state.batches.submit(
        store_id, context.token, [_inner(item) for item in body],
        parallel=query_bool(q.get("allowParallelMode"), "allowParallelMode", False),
        stop_on_failure=query_bool(q.get("stopOnFirstFailure"), "stopOnFirstFailure", True),
        group=q.get("groupId"), key=q.get("deduplicationKey"),
    )  # fmt: skip
    if state.batches.lose_answer():
        context.cut_drawn = True
    context.committed = True
    return JSONResponse({"ticket": ticket.ticket})


async def _get(state: SandboxState, request: Request, store_id: int) -> Response:
    q = request.query_params
    ticket_id = q.get("ticket") or q.get("ticketId")
    if ticket_id:
        ticket = state.batches.find(store_id, ticket_id)
        with state.lock:
            return JSONResponse(ticket.json(query_bool(q.get("escapedJson"), "escapedJson", False)))
    status = q.get("status")
    if status not in (None, QUEUED, IN_PROGRESS, COMPLETED):
        raise wrong_parameter("status must be QUEUED, IN_PROGRESS or COMPLETED")
    found = state.batches.listing(store_id, status)
    offset, limit = int(q.get("offset", 0)), int(q.get("limit", 100))
    with state.lock:
        items = [t.listed() for t in found[offset : offset + limit]]
    return JSONResponse({"total": len(found), "count": len(items), "offset": offset, "limit": limit, "items": items})


async def _delete(state: SandboxState, request: Request, store_id: int) -> Response:
    q = request.query_params
    ticket = state.batches.find(store_id, q.get("ticketId") or q.get("ticket", ""))
    if ticket.status != QUEUED:
        raise wrong_parameter(f"Ticket {ticket.ticket} is {ticket.status}: only a queued batch can be deleted")
    return JSONResponse({"deleteCount": state.batches.cancel([ticket])})


async def _cancel_group(state: SandboxState, request: Request, store_id: int) -> Response:
    group = request.query_params.get("groupId")
    if not group:
        raise wrong_parameter("groupId is required")
    tickets = [t for t in state.batches.listing(store_id, None) if t.group == group]
    return JSONResponse({"cancelledRequests": state.batches.cancel(tickets)})


def _inner(item: Any) -> InnerRequest:
    if not isinstance(item, dict):
        raise wrong_parameter("Each request must be a JSON object")
    path, method = item.get("path"), str(item.get("method", "GET")).upper()
    if not isinstance(path, str) or not path.startswith("/"):
        raise wrong_parameter("Each request needs a path starting with /")
    if method not in ("GET", "POST", "PUT", "DELETE"):
        raise wrong_parameter(f"Unsupported method {method}")
    return InnerRequest(str(item.get("id", "")), method, path, item.get("body"), None)
