"""The ASGI app: Ecwid's customer-contact endpoints over a `SandboxState`.

Two layers. `_Gate`, a plain ASGI middleware outermost, sees every request as it
arrives on the wire: it counts requests in flight, applies the rate limit, the
injected latency and 5xx faults, cuts connections, and writes the request log.
Inside it, Starlette routes to the handlers (built by importer.sandbox.routing, which checks
store, token, plan and scope first); they check the body, then call the state. The batch
endpoints are importer.sandbox.batch.api's.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from importer.sandbox.batch import api as batchapi
from importer.sandbox.config import CREATE, READ, UPDATE, SandboxConfig
from importer.sandbox.contacts import check_contact_fields
from importer.sandbox.errors import ApiError, internal_error, wrong_parameter
from importer.sandbox.faults import BLANK_BODIES, echo_page
from importer.sandbox.routing import RequestContext, error_response, json_body, path_int, query_bool, query_int, route
from importer.sandbox.state import LoggedRequest, SandboxState, token_hash

MAX_LIMIT = 100  # customer search page size; Ecwid documents 100 as the maximum
DEFAULT_LIMIT = 10
LOGGED_BODY_CHARS = 1000  # enough to see what was sent; 100k rows stay small
WRITES = ("POST", "PUT", "DELETE")  # the requests `echo_rate` answers with a page echoing their headers
SORTS = ("NAME_ASC", "NAME_DESC", "EMAIL_ASC", "EMAIL_DESC")


def create_app(state_or_config: SandboxState | SandboxConfig | None = None) -> ASGIApp:
    """An ASGI app over the given state (or a fresh state from a config).

    The state is reachable as `app.state_obj` for tests using httpx.ASGITransport.
    """
    if isinstance(state_or_config, SandboxState):
        state = state_or_config
    else:
        state = SandboxState(state_or_config or SandboxConfig())
    routes = [
        route(state, "/api/v3/{store}/customers", GET=(READ, _search), POST=(CREATE, _create_customer)),
        route(state, "/api/v3/{store}/customers/{cid}", GET=(READ, _get_customer), DELETE=(UPDATE, _delete_customer)),
        route(state, "/api/v3/{store}/customers/{cid}/contacts", GET=(READ, _list_contacts),
              POST=(CREATE, _create_contact)),
        route(state, "/api/v3/{store}/customers/{cid}/contacts/{contact_id}", GET=(READ, _get_contact),
              PUT=(UPDATE, _update_contact), DELETE=(UPDATE, _delete_contact)),
        *batchapi.routes(state),
    ]
    inner = Starlette(routes=routes, exception_handlers={HTTPException: _http_exception})
    inner.router.redirect_slashes = False
    state.batches.attach(inner)  # a batch's inner requests run through these same routes
    return _Gate(inner, state)


# ---- the outer layer -------------------------------------------------------


class _Gate:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state_obj = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off under our server; be polite anyway
            return await self.app(scope, receive, send)
        state = self.state_obj
        seq, arrived, faults = state.begin()
        token = _bearer(scope)
        ctx = RequestContext(token, cut_drawn=faults.cut, commit_delay_s=faults.commit_delay_s)
        scope["sandbox"] = ctx
        body = bytearray()
        status: list[int] = []
        fault: str | None = None
        recorded = False

        def record() -> None:
            # Called just before the last byte of the answer leaves (or the
            # connection is cut), so a client that has its answer finds the
            # request in the log and no longer in flight.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            state.finish(
                LoggedRequest(
                    seq=seq,
                    method=scope["method"],
                    path=scope["path"],
                    query=_redacted_query(scope.get("query_string", b"")),
                    status=None if fault == "cut" else (status[0] if status else None),
                    token_hash=token_hash(token) if token else None,
                    time=arrived,
                    duration_s=state.clock() - arrived,
                    body=body.decode("utf-8", "replace"),
                    fault=fault,
                )
            )

        async def logging_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < LOGGED_BODY_CHARS:
                body.extend(message.get("body", b"")[: LOGGED_BODY_CHARS - len(body)])
            return message

        blank = BLANK_BODIES[state.faults.blank_body] if faults.blank else None

        async def guarded_send(message: Message) -> None:
            if ctx.cut_drawn and ctx.committed and message["type"].startswith("http.response"):
                return  # the answer to a cut create never leaves
            if blank is not None and ctx.committed:  # committed, then a 200 that says nothing
                if message["type"] == "http.response.start":
                    message = {**message, "status": 200, "headers": [
                        (b"content-type", blank[1].encode()), (b"content-length", str(len(blank[0])).encode())]}
                elif message["type"] == "http.response.body":
                    message = {"type": "http.response.body", "body": blank[0], "more_body": False}
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()
            await send(message)

        try:
            client = (scope.get("client") or ("?", 0))[0]
            refusal = state.admit(token, client, arrived)
            if refusal is not None:
                fault = "blocked" if refusal.blocked else "rate_limited"
                err = ApiError(429, "Too many requests, rate limit exceeded", "RATE_LIMITED",
                               retry_after=refusal.retry_after_header)
                await error_response(err)(scope, logging_receive, guarded_send)
                return
            if faults.latency_s > 0:
                await asyncio.sleep(faults.latency_s)
            if faults.echo and scope["method"] in WRITES:
                fault = "echo"
                page = echo_page(state.faults.echo_status, scope["method"], scope["path"], scope.get("headers", []))
                response = Response(page, state.faults.echo_status, media_type="text/html")
                await response(scope, logging_receive, guarded_send)
                return
            if faults.fail_status is not None:
                fault = "fail"
                await _fault_response(faults.fail_status)(scope, logging_receive, guarded_send)
                return
            await self.app(scope, logging_receive, guarded_send)
            if ctx.cut_drawn and ctx.committed:
                fault = "cut"
                record()
                await _cut_connection(send, receive)
        finally:
            record()


async def _cut_connection(send: Send, receive: Receive) -> None:
    """Drop the connection without a byte of answer.

    Under uvicorn, `send` is bound to the request cycle that owns the transport;
    closing it is what a dying server or proxy looks like to the client. (Raising
    instead would make uvicorn answer 500, which is not ambiguous.) In process, under
    httpx.ASGITransport, raise into the client what httpx raises when a socket is cut so.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    transport.close()
    # Wait until uvicorn notices, so it neither logs nor sends a fallback 500.
    with contextlib.suppress(asyncio.TimeoutError):
        async with asyncio.timeout(5):
            while (await receive())["type"] != "http.disconnect":
                pass


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None  # a ?token= parameter is ignored, as Ecwid does since 2025-03-20


def _redacted_query(raw: bytes) -> str:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() == "token" else v) for k, v in pairs], safe="*")


def _fault_response(status: int) -> Response:
    # Not all failures come from Ecwid's API code: a proxy answers 502 in HTML,
    # and a 503 may carry no body at all. Clients must survive every one.
    if status == 502:
        return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, media_type="text/html")
    if status == 503:
        return Response(b"", 503)
    return JSONResponse(internal_error().body(), status)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        err = ApiError(405, f"HTTP method {request.method} is not supported here", "METHOD_NOT_ALLOWED")
    else:
        err = ApiError(422, f"Wrong URL: {request.url.path}", "WRONG_URL")
    return error_response(err)


# ---- handlers --------------------------------------------------------------

async def _create_contact(state: SandboxState, request: Request, store_id: int) -> Response:
    cid = _customer_id(request)
    state.list_contacts(store_id, cid)  # 404 for an unknown customer before body errors
    fields = check_contact_fields(await json_body(request), partial=False)
    delay = request.scope["sandbox"].commit_delay_s
    if delay:  # a slow write: it commits even if the client has given up meanwhile
        await asyncio.sleep(delay)
    state.create_contact(store_id, cid, fields)
    request.scope["sandbox"].committed = True
    return JSONResponse({"createCount": 1})


async def _create_customer(state: SandboxState, request: Request, store_id: int) -> Response:
    body = await json_body(request)
    email = body.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise wrong_parameter("email must be an email address")
    billing = body.get("billingPerson")
    name = billing.get("name") if isinstance(billing, dict) else None
    if name is not None and not isinstance(name, str):
        raise wrong_parameter("billingPerson.name must be a string")
    # ASSUMPTION: Ecwid's docs don't say whether an email in use is refused; like the
    # customer list (several customers may share an email), the sandbox accepts it.
    new_id = state.create_customer(store_id, email.strip(), (name or "").strip())
    request.scope["sandbox"].committed = True
    return JSONResponse({"id": new_id})


async def _list_contacts(state: SandboxState, request: Request, store_id: int) -> Response:
    return JSONResponse({"items": state.list_contacts(store_id, _customer_id(request))})


async def _get_contact(state: SandboxState, request: Request, store_id: int) -> Response:
    return JSONResponse(state.get_contact(store_id, _customer_id(request), _contact_id(request)))


async def _update_contact(state: SandboxState, request: Request, store_id: int) -> Response:
    cid, contact_id = _customer_id(request), _contact_id(request)
    state.get_contact(store_id, cid, contact_id)  # 404s first
    fields = check_contact_fields(await json_body(request), partial=True)
    state.update_contact(store_id, cid, contact_id, fields)
    request.scope["sandbox"].committed = True  # a cut drawn for it loses the answer, not the change
    return JSONResponse({"updateCount": 1})


async def _delete_contact(state: SandboxState, request: Request, store_id: int) -> Response:
    state.delete_contact(store_id, _customer_id(request), _contact_id(request))
    request.scope["sandbox"].committed = True
    return JSONResponse({"deleteCount": 1})


async def _delete_customer(state: SandboxState, request: Request, store_id: int) -> Response:
    state.delete_customer(store_id, _customer_id(request))
    request.scope["sandbox"].committed = True
    return JSONResponse({"deleteCount": 1})


async def _get_customer(state: SandboxState, request: Request, store_id: int) -> Response:
    return JSONResponse(state.get_customer(store_id, _customer_id(request)))


async def _search(state: SandboxState, request: Request, store_id: int) -> Response:
    q = request.query_params
    offset = query_int(q.get("offset"), "offset", 0)
    limit = query_int(q.get("limit"), "limit", DEFAULT_LIMIT)
    if offset < 0:
        raise wrong_parameter("offset must be >= 0")
    # ASSUMPTION: the docs give 100 as the maximum but not what happens above
    # it; refusing is the strict reading (a client that passes here works
    # whether Ecwid refuses or clamps).
    if not 0 <= limit <= MAX_LIMIT:
        raise wrong_parameter(f"limit must be between 0 and {MAX_LIMIT}")
    sort_by = q.get("sortBy", "NAME_ASC")
    if sort_by not in SORTS:
        raise wrong_parameter(f"sortBy must be one of {', '.join(SORTS)}")
    total, items = state.search_customers(
        store_id,
        email=q.get("email"),
        exact_email=query_bool(q.get("useExactEmailMatch"), "useExactEmailMatch"),
        keyword=q.get("keyword"),
        name=q.get("name"),
        sort_by=sort_by,
        offset=offset,
        limit=limit,
    )
    return JSONResponse({"total": total, "count": len(items), "offset": offset, "limit": limit, "items": items})


# ---- request parsing -------------------------------------------------------


def _customer_id(request: Request) -> int:
    return path_int(request, "cid", lambda v: wrong_parameter(f"Customer id must be an integer, got '{v}'"))


def _contact_id(request: Request) -> int:
    return path_int(request, "contact_id", lambda v: wrong_parameter(f"Contact id must be an integer, got '{v}'"))
