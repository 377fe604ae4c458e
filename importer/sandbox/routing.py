"""What every route of the sandbox's API shares: Ecwid's checks before a handler, error answers, parsed values.

    routes = [route(state, "/api/v3/{store}/customers", GET=(READ, search), POST=(CREATE, create))]
    async def search(state, request, store_id): ...   # a Handler; raise ApiError to answer an error

`route` gives each method its own scope (None: any working token); before the handler runs,
the store id is parsed (404 STORE_NOT_FOUND) and `SandboxState.authorize` checks store,
token, plan and scope. An `ApiError` raised anywhere in that becomes Ecwid's JSON error answer.
The contact routes (importer.sandbox.app) and the batch routes (importer.sandbox.batch.api) are
built with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from importer.sandbox.contacts import parse_json_object
from importer.sandbox.errors import ApiError, wrong_parameter

if TYPE_CHECKING:
    from importer.sandbox.state import SandboxState


@dataclass
class RequestContext:
    """`scope["sandbox"]`: what the gate (importer.sandbox.app) or a batch's runner tells a request's handlers."""

    token: str | None
    cut_drawn: bool = False  # a write that commits loses its answer
    commit_delay_s: float = 0.0
    committed: bool = False  # set by a handler once its write is stored


Handler = Callable[["SandboxState", Request, int], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def route(state: SandboxState, path: str, **methods: tuple[str | None, Handler]) -> Route:
    """A path whose methods may need different scopes: method -> (scope, handler)."""
    endpoints = {m: endpoint(state, scope, handler) for m, (scope, handler) in methods.items()}
    return Route(path, by_method(endpoints), methods=list(endpoints))


def endpoint(state: SandboxState, scope_name: str | None, handler: Handler) -> Endpoint:
    """Wrap a handler with Ecwid's checks and error rendering."""

    async def wrapped(request: Request) -> Response:
        try:
            store_id = path_int(request, "store", lambda v: ApiError(404, f"Store #{v} not found", "STORE_NOT_FOUND"))
            state.authorize(store_id, request.scope["sandbox"].token, scope_name)
            return await handler(state, request, store_id)
        except ApiError as err:
            return error_response(err)

    return wrapped


def by_method(endpoints: dict[str, Endpoint]) -> Endpoint:
    """One Starlette endpoint for a path whose methods need different scopes."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method  # Starlette adds HEAD
        return await endpoints[method](request)

    return dispatch


def error_response(err: ApiError) -> Response:
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


async def json_body(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, f"Unsupported content type '{media_type}', expected application/json")
    return parse_json_object(await request.body())


def path_int(request: Request, name: str, error: Callable[[str], ApiError]) -> int:
    raw = request.path_params[name]
    if not raw.isdigit():
        raise error(raw)
    return int(raw)


def query_int(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise wrong_parameter(f"{name} must be an integer") from None


def query_bool(raw: str | None, name: str, default: bool = False) -> bool:
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise wrong_parameter(f"{name} must be true or false")
    return raw.lower() == "true"
