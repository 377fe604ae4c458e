"""The page's routes: plain forms that post and come back to the page, a stream of progress events.

    app = create_app(session, key)      # a Starlette app; importer.ui.serve runs it on 127.0.0.1

Every request needs the session key in its URL (`?key=…`, a random value made when the
page starts and shown only in the address the command opens): another site open in the
same browser cannot drive the page (no CSRF), and another user of the machine cannot
guess it. The Host header must be the loopback name the page was opened by (no DNS
rebinding). No route returns the token: the page names where it came from instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from importer.errors import ImporterError
from importer.ui import workspace
from importer.ui.choices import Choices
from importer.ui.session import MODES, Session
from importer.ui.view import page_context

HERE = Path(__file__).parent
STATIC = {"ui.css": "text/css", "ui.js": "text/javascript"}
REPORT_FILE = re.compile(r"(results\.csv|results\.xlsx|errors(-[^/\\]+)?\.csv|summary\.json)")
RUN_ID = re.compile(r"[0-9A-Za-z._-]+")
HOSTS = ("127.0.0.1", "localhost")
EVENT_INTERVAL_S = 0.25
HEADERS = {  # nothing from elsewhere, no key leaking in a Referer, no framing by another site
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}  # fmt: skip


class _Guard:
    """ASGI middleware: 403 without the session key or from a host name that isn't loopback."""

    def __init__(self, app, key: str):
        self.app, self.key = app, key

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("key") or [""])[0]
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").rsplit(":", 1)[0]
        if not secrets.compare_digest(given.encode(), self.key.encode()) or host not in HOSTS:
            response = PlainTextResponse("403: this page needs the address `ecwid-contacts ui` printed (with its key)",
                                         status_code=403, headers=HEADERS)  # fmt: skip
            return await response(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(session: Session, key: str) -> _Guard:
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    def back(anchor: str) -> RedirectResponse:
        return RedirectResponse(f"/?key={key}#{anchor}", status_code=303)

    @contextlib.contextmanager
    def flashed():
        """An ImporterError (the CLI's one line) is said once in the page, not raised."""
        try:
            yield
        except ImporterError as exc:
            session.flash = str(exc)

    async def page(request: Request) -> Response:
        context = await run_in_threadpool(page_context, session, key, request.query_params)
        session.flash = ""
        return templates.TemplateResponse(request, "page.html", context)

    async def upload(request: Request) -> Response:
        with flashed():
            session.jobs.ensure_free()
            async with _bounded(request).form(max_files=workspace.MAX_FILES, max_fields=workspace.MAX_FILES) as form:
                for item in form.getlist("files"):
                    if hasattr(item, "read") and item.filename:
                        await run_in_threadpool(session.ws.add_upload, item.filename, _chunks(item.file))
            await run_in_threadpool(session.check)
        return back("columns")

    async def rechecked(step: str, change) -> Response:
        """A change to the files' reading: refused while a run goes, then the check again (errors flashed)."""
        with flashed():
            session.jobs.ensure_free()
            change()
            await run_in_threadpool(session.check)
        return back(step)

    async def remove(request: Request) -> Response:
        form = await _form(request)
        return await rechecked("files", lambda: session.ws.remove(form.get("name", "")))

    async def mapping(request: Request) -> Response:
        form = await _form(request, multi=True)

        def change() -> None:
            for header, field in zip(form.get("header", []), form.get("field", []), strict=False):
                session.ws.set_field(header, field)

        return await rechecked("columns", change)

    async def options(request: Request) -> Response:
        form = await _form(request, multi=True)

        def change() -> None:
            session.ws.choices = Choices.read(form, session.ws.sheets_offered, keep=session.ws.choices)

        return await rechecked("columns", change)

    async def mapping_csv(request: Request) -> Response:
        if not session.ws.tables:
            return PlainTextResponse("no columns yet: choose a file first", status_code=404)
        path = await run_in_threadpool(session.ws.mapping_template)
        return FileResponse(path, media_type="text/csv", filename=f"{session.ws.files[0].stem}.mapping.csv")

    async def send(request: Request) -> Response:
        form = await _form(request)
        with flashed():
            rate = _rate(form.get("rate", ""))
            mode = form.get("mode", "direct") if form.get("mode") in MODES else "direct"
            await run_in_threadpool(session.send, form.get("target", "sandbox"), mode=mode, rate=rate,
                                    create_customers="create_customers" in form, update="update" in form)  # fmt: skip
        return back("send")

    async def undo(request: Request) -> Response:
        form = await _form(request)
        with flashed():
            await run_in_threadpool(session.undo, form.get("run_id", ""), form.get("target", "sandbox"),
                                    dry_run=form.get("confirm") != "yes")  # fmt: skip
        return back("send")

    async def stop(request: Request) -> Response:
        session.stop()
        return back("send")

    async def events(request: Request) -> Response:
        return StreamingResponse(_event_stream(session, request), media_type="text/event-stream")

    async def report_file(request: Request) -> Response:
        run_id, name = request.path_params["run_id"], request.path_params["name"]
        base = session.ws.folder / "checks" if request.path_params["where"] == "check" else session.report_dir
        path = base / run_id / name
        if not (RUN_ID.fullmatch(run_id) and REPORT_FILE.fullmatch(name) and path.is_file()):
            return PlainTextResponse("no such report file", status_code=404)
        return FileResponse(path, filename=name)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(HERE / "static" / name, media_type=STATIC[name])

    routes = [
        Route("/", page), Route("/upload", upload, methods=["POST"]), Route("/remove", remove, methods=["POST"]),
        Route("/mapping", mapping, methods=["POST"]), Route("/mapping.csv", mapping_csv),
        Route("/options", options, methods=["POST"]),
        Route("/send", send, methods=["POST"]), Route("/stop", stop, methods=["POST"]),
        Route("/undo", undo, methods=["POST"]), Route("/events", events),
        Route("/files/{where:str}/{run_id:str}/{name:str}", report_file), Route("/static/{name:str}", static),
    ]  # fmt: skip
    session.flash = ""
    return _Guard(Starlette(routes=routes), key)


def _bounded(request: Request) -> Request:
    """The same request, refused (workspace.UploadRefused, the page says why) once its body passes the upload bound:
    counted as it arrives, so a body without a length cannot fill the disk either."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > workspace.MAX_UPLOAD_BYTES:
        raise workspace.too_big("the upload")
    seen = 0

    async def receive():
        nonlocal seen
        message = await request.receive()
        seen += len(message.get("body", b""))
        if seen > workspace.MAX_UPLOAD_BYTES:
            raise workspace.too_big("the upload")
        return message

    return Request(request.scope, receive)


def _chunks(file, size: int = 1 << 20):
    while chunk := file.read(size):
        yield chunk


async def _form(request: Request, *, multi: bool = False) -> dict:
    """A small urlencoded form (the page's own): read without a multipart parser, bounded."""
    body = await request.body()
    if len(body) > 1 << 20:
        return {}
    pairs = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return pairs if multi else {k: v[0] for k, v in pairs.items()}


def _rate(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ImporterError(f"requests per minute: expected a positive number, got {text!r}")
    return value


async def _event_stream(session: Session, request: Request):
    """Server-sent events: the run's numbers whenever they move (at most 4 a second), then `end`."""
    seen = -1
    while True:
        job = session.jobs.current
        if job is None:
            yield "event: end\ndata: {}\n\n"
            return
        running = job.running  # read first: the last state sent is one from after the run's end
        if job.version != seen:
            seen = job.version
            yield f"data: {json.dumps(job.state())}\n\n"
        if not running:
            yield "event: end\ndata: {}\n\n"
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(EVENT_INTERVAL_S)
