"""A second, independent Ecwid emulator for the end-to-end checks (tests/test_emulator.py).

    with Emulator(customers=[Customer(177737165, "Ana.Costa@Example.com", contacts=[...])]) as em:
        em.api_url, em.store_id, em.token              # what `import --api-url --store-id` and ECWID_TOKEN take
        em.fail("POST", "/contacts", 429, retry_after="1")   # the next matching request answers so, once
        em.stored()                                    # Counter of (customer id, type, contact) the store holds

Written only from /work/shared/ecwid-api.md and the endpoint's own page, never from importer/sandbox, so it
cannot share that sandbox's quirks. Where the docs allow several shapes it takes the ones a sandbox is least
likely to: numeric ids far from 1..n, unknown extra fields in every answer, customer list items WITHOUT
`contacts` (only GET /customers/{id} and /contacts give them), a page limit clamped to 100 (`count` is this
page, `total` all), contacts newest first, customer emails kept in their own case and matched ignoring case,
`email=` without `useExactEmailMatch=true` a substring search, a 404 body with `errorMessage` only, a
repeated contact and a repeated customer email both accepted (so a duplicate sent shows in the store),
a new default demoting the old one, and the batch API exactly as documented (a JSON array, `ticket`,
QUEUED, then IN_PROGRESS with the responses so far, then COMPLETED; `escapedHttpBody`, stopOnFirstFailure
true unless told false, deduplicationKey). Options of `reset` vary it further: emails and phones kept in
the store's own writing, shorter pages, scopes, a new customer given its email as a contact; `fail` and
`slow` inject errors (before or after the write) and lost answers, in direct and batch requests alike.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TYPES = {"EMAIL", "PHONE", "FACEBOOK", "INSTAGRAM", "TWITTER", "YOUTUBE", "TIKTOK", "PINTEREST", "VK",
         "FB_MESSENGER", "WHATSAPP", "TELEGRAM", "VIBER", "URL", "OTHER"}  # fmt: skip
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}"  # Ecwid's: 2025-03-26 11:07:12 +0000
ALL_SCOPES = frozenset({"read_customers", "create_customers", "update_customers"})


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


@dataclass
class Customer:
    id: int
    email: str
    name: str = ""
    contacts: list[dict] = field(default_factory=list)  # {type, contact[, handle, note, default, orderBy]}


@dataclass
class Fault:
    method: str
    path_re: str
    status: int
    headers: dict[str, str]
    body: str
    times: int
    delay: float = 0.0  # > 0: no error answer; the request is done normally, its answer this late
    commit_first: bool = False  # with delay: done at once, answered late (else: done and answered late)


class Store:
    """The store's state and every documented endpoint as one function: (method, path, query, body) -> answer."""

    def __init__(self, customers: list[Customer], *, rewrite: bool = False, page_max: int = 100,
                 email_contact: bool = False):  # fmt: skip
        self.lock = threading.Lock()
        self.rewrite = rewrite  # keep emails lowercased and phones spaced, as a store that formats them would
        self.page_max = page_max  # the longest page of customers, whatever `limit` asks
        self.email_contact = email_contact  # a new customer gets its email as an EMAIL contact
        self.put_replaces = False  # a PUT of a contact replaces it whole (the API facts don't say which)
        self.faults: list[Fault] = []
        self.ids = itertools.count(900_000_000_001, 7)  # contact and customer ids: big, not 1..n
        self.customers: dict[int, dict] = {}
        self.log: list[tuple[str, str, dict, Any]] = []
        self.tickets: dict[str, dict] = {}
        self.dedup: dict[str, str] = {}
        for c in customers:
            self.customers[c.id] = self.new_customer(c.id, c.email, c.name)
            for body in c.contacts:
                self.add_contact(c.id, body)

    def new_customer(self, cid: int, email: str, name: str) -> dict:
        return {"id": cid, "email": email, "registered": stamp(), "updated": stamp(), "customerGroupId": 0,
                "customerGroupName": "General", "totalOrderCount": 0, "lang": "en", "acceptMarketing": False,
                "billingPerson": {"name": name, "companyName": "", "countryCode": "PT"}, "contacts": []}  # fmt: skip

    def add_contact(self, cid: int, body: dict) -> dict:
        contacts = self.customers[cid]["contacts"]
        for c in contacts if body.get("default") else ():
            c["default"] = c["default"] and c["type"] != body["type"]  # one default of a type: the new one wins
        order = body.get("orderBy")
        value = rewritten(body["type"], body["contact"]) if self.rewrite else body["contact"]
        contact = {"id": next(self.ids), "contact": value, "handle": body.get("handle", ""),
                   "note": body.get("note", ""), "type": body["type"], "default": bool(body.get("default", False)),
                   "orderBy": order if isinstance(order, int) else len(contacts),
                   "timestamp": body.get("timestamp") or stamp(), "source": "API"}  # fmt: skip
        contacts.append(contact)
        return contact

    def fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.search(fault.path_re, path):
                fault.times -= 1
                return fault
        return None

    def answer(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        self.log.append((method, path, query, body))
        parts = path.strip("/").split("/")
        if parts[0] == "customers":
            return self.customers_api(method, parts[1:], query, body)
        return 404, {"errorMessage": f"Resource not found: {path}", "errorCode": "WRONG_URL"}

    def customers_api(self, method: str, parts: list[str], query: dict, body: Any) -> tuple[int, Any]:
        if not parts:
            if method == "GET":
                return 200, self.search(query)
            if method == "POST":
                if not isinstance(body, dict) or not body.get("email"):
                    return 400, {"errorMessage": "Customer email is required", "errorCode": "WRONG_PARAMETER"}
                cid = next(self.ids)
                name = (body.get("billingPerson") or {}).get("name", "")
                self.customers[cid] = self.new_customer(cid, body["email"], name)
                given = body.get("contacts") or []
                if self.email_contact and not any(c.get("type") == "EMAIL" for c in given):
                    given = [{"type": "EMAIL", "contact": body["email"], "default": True}, *given]
                for contact in given:
                    self.add_contact(cid, contact)
                return 200, {"id": cid}
            return 405, {"errorMessage": "Method not allowed", "errorCode": "METHOD_NOT_ALLOWED"}
        customer = self.customers.get(int(parts[0])) if parts[0].isdigit() else None
        if customer is None:
            return 404, {"errorMessage": f"Customer #{parts[0]} not found"}  # no errorCode: the docs allow it
        contacts = customer["contacts"]
        if len(parts) == 1:
            if method == "GET":
                return 200, {**customer, "contacts": shown(contacts)}
            if method == "DELETE":
                del self.customers[customer["id"]]
                return 200, {"deleteCount": 1}
        elif parts[1] == "contacts" and len(parts) == 2:
            if method == "GET":
                return 200, {"items": shown(contacts), "total": len(contacts)}
            if method == "POST":
                problem = self.contact_problem(body)
                if problem:
                    return 400, {"errorMessage": problem, "errorCode": "WRONG_PARAMETER"}
                self.add_contact(customer["id"], body)
                return 200, {"createCount": 1}
        elif parts[1] == "contacts" and len(parts) == 3:
            found = [c for c in contacts if str(c["id"]) == parts[2]]
            if not found:
                return 404, {"errorMessage": f"Contact #{parts[2]} not found"}
            if method == "GET":
                return 200, shown(found)[0]
            if method == "DELETE":
                contacts.remove(found[0])
                return 200, {"deleteCount": 1}
            if method == "PUT":
                if not isinstance(body, dict):
                    return 400, {"errorMessage": "Request body is not JSON", "errorCode": "WRONG_PARAMETER"}
                for c in contacts if body.get("default") else ():
                    c["default"] = c["default"] and c["type"] != body.get("type", found[0]["type"])
                if self.put_replaces:  # every field not sent goes back to unset
                    found[0].update({k: v for k, v in found[0].items() if k in ("id", "timestamp")} | {
                        "contact": "", "type": "", "handle": "", "note": "", "default": False, "orderBy": 0})
                found[0].update({k: v for k, v in body.items() if k in found[0] and k != "id"})
                return 200, {"updateCount": 1}
        return 405, {"errorMessage": "Method not allowed", "errorCode": "METHOD_NOT_ALLOWED"}

    @staticmethod
    def contact_problem(body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("contact"), str) or not body["contact"]:
            return "Field 'contact' is required"
        if body.get("type") not in TYPES:
            return f"Unknown contact type: {body.get('type')}"
        if "orderBy" in body and not isinstance(body["orderBy"], int | type(None)):
            return "Field 'orderBy' must be a number"
        if body.get("timestamp") is not None and not re.fullmatch(STAMP, str(body["timestamp"])):
            return f"Wrong timestamp format: {body['timestamp']}"
        return None

    def search(self, query: dict) -> dict:
        items = list(self.customers.values())
        if "email" in query:
            wanted = query["email"].lower()
            exact = query.get("useExactEmailMatch") == "true"
            items = [c for c in items if (c["email"].lower() == wanted if exact else wanted in c["email"].lower())]
        offset = int(query.get("offset", 0))
        limit = min(int(query.get("limit", 100)), self.page_max)  # Ecwid's page is at most 100, whatever is asked
        page = [{k: v for k, v in c.items() if k != "contacts"} for c in items[offset : offset + limit]]
        return {"total": len(items), "count": len(page), "offset": offset, "limit": limit, "items": page,
                "sortBy": "REGISTERED_DATE_DESC"}  # fmt: skip

    def run_batch(self, ticket: dict, n: int) -> None:
        """Run a ticket's next n requests, in order, as documented: a failure stops the rest unless told not to."""
        for inner in ticket["requests"][len(ticket["responses"]) :][:n]:
            rid = inner.get("id")
            if ticket["stopped"]:
                ticket["responses"].append({"id": rid, "status": "NOT_EXECUTED"})
                continue
            fault = self.fault(inner.get("method", "GET"), inner.get("path", ""))
            if fault and not fault.delay:
                if fault.commit_first:
                    self.answer(inner.get("method", "GET"), inner.get("path", ""), {}, inner.get("body"))
                status, answer = fault.status, json.loads(fault.body or "null")
            else:
                status, answer = self.answer(inner.get("method", "GET"), inner.get("path", ""), {}, inner.get("body"))
            text = json.dumps(answer)
            done = {"id": rid, "status": "COMPLETED" if status < 400 else "FAILED", "httpStatusCode": status,
                    "httpStatusLine": f"HTTP/1.1 {status}"}  # fmt: skip
            done.update({"escapedHttpBody": text} if ticket["escaped"] else {"httpBody": answer})
            ticket["responses"].append(done)
            ticket["stopped"] = status >= 400 and ticket["stop"]


class Emulator:
    """The Store behind HTTP on a loopback port: auth, store id, scopes, content type, faults, the batch API."""

    def __init__(self, customers: list[Customer] = (), **options):
        self.token = "secret_emulatorToken0123456789abcdef"
        methods = ["GET", "POST", "PUT", "DELETE"]
        self.app = Starlette(routes=[Route("/api/v3/{rest:path}", self.handle, methods=methods)])
        self.reset(customers, **options)

    def reset(self, customers: list[Customer] = (), *, store_id: int = 31337001, scopes=ALL_SCOPES,
              rewrite: bool = False, queued_polls: int = 1, page_max: int = 100,
              per_poll: int = 500, email_contact: bool = False) -> Emulator:  # fmt: skip
        """A new store behind the same server (a server per test costs more than the test)."""
        self.queued_polls = queued_polls  # polls of a ticket answered QUEUED before it runs
        self.per_poll = per_poll  # inner requests run between two polls
        self.store = Store(list(customers), rewrite=rewrite, page_max=page_max, email_contact=email_contact)
        self.store_id = store_id
        self.scopes = set(scopes)
        self.requests: list[tuple[str, str]] = []  # (method, path after /api/v3/{storeId}) of every HTTP request
        return self

    def fail(self, method: str, path_re: str, status: int, *, retry_after: str | None = None, body: Any = None,
             times: int = 1, commit: bool = False) -> None:  # fmt: skip
        """The next `times` requests whose path matches path_re (re.search) answer `status`, doing nothing
        (`commit`: done all the same, as a 5xx after the write)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        text = body if isinstance(body, str) else json.dumps(body or {"errorMessage": "Injected", "errorCode": "X"})
        self.store.faults.append(Fault(method, path_re, status, headers, text, times, commit_first=commit))

    def slow(self, method: str, path_re: str, delay: float, *, commit_first: bool, times: int = 1) -> None:
        """The next `times` matching requests are done and answered `delay` s late (commit_first: done at once)."""
        self.store.faults.append(Fault(method, path_re, 0, {}, "", times, delay, commit_first))

    async def handle(self, request: Request) -> Response:
        store, _, rest = request.path_params["rest"].partition("/")
        path = "/" + rest
        self.requests.append((request.method, path))
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.token}":
            return error(403, "Invalid access token", "INVALID_API_TOKEN")
        if store != str(self.store_id):
            return error(404, f"Store #{store} not found", "STORE_NOT_FOUND")
        raw = await request.body()
        with self.store.lock:
            fault = self.store.fault(request.method, path)
        if fault and not fault.delay:
            if fault.commit_first:
                self.respond(request, path, raw)
            return Response(fault.body, fault.status, fault.headers, media_type="application/json")
        if fault and not fault.commit_first:
            await asyncio.sleep(fault.delay)
        answer = self.respond(request, path, raw)
        if fault and fault.commit_first:
            await asyncio.sleep(fault.delay)
        return answer

    def respond(self, request: Request, path: str, raw: bytes) -> Response:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return error(400, "Request body is not valid JSON", "WRONG_PARAMETER")
        if request.method in ("POST", "PUT") and "json" not in request.headers.get("content-type", ""):
            return error(415, "Unsupported Media Type", None)
        scope = self.scope_for(request.method, path)
        if scope and scope not in self.scopes:
            return error(403, f"Missing scope {scope}", "INSUFFICIENT_APP_SCOPE")
        query = dict(request.query_params)
        with self.store.lock:
            if path.rstrip("/") == "/batch":
                return self.batch(request.method, query, body)
            status, answer = self.store.answer(request.method, path, query, body)
        return JSONResponse(answer, status)

    @staticmethod
    def scope_for(method: str, path: str) -> str | None:
        if path.startswith("/batch"):
            return None
        if method == "GET":
            return "read_customers"
        return "create_customers" if method == "POST" else "update_customers"

    def batch(self, method: str, query: dict, body: Any) -> Response:
        tickets = self.store.tickets
        if method == "POST":
            if not isinstance(body, list) or not 1 <= len(body) <= 500:
                return error(400, "Batch body must be a JSON array of 1..500 requests", "WRONG_PARAMETER")
            key = query.get("deduplicationKey")
            if key in self.store.dedup:
                return JSONResponse({"ticket": self.store.dedup[key]})
            ticket = f"tkt-{len(tickets) + 1:04d}-{self.store_id}"
            tickets[ticket] = {"requests": body, "responses": [], "polls": 0, "escaped": False, "stopped": False,
                               "stop": query.get("stopOnFirstFailure", "true") != "false"}  # fmt: skip
            if key:
                self.store.dedup[key] = ticket
            return JSONResponse({"ticket": ticket})
        if method == "GET":
            t = tickets.get(query.get("ticket") or query.get("ticketId") or "")
            if t is None:
                return error(404, "Ticket not found", "TICKET_NOT_FOUND")
            t["polls"] += 1
            t["escaped"] = query.get("escapedJson") == "true"
            if t["polls"] <= self.queued_polls:  # seen QUEUED before it runs
                return JSONResponse({"status": "QUEUED", "totalRequests": len(t["requests"]), "completedRequests": 0})
            self.store.run_batch(t, self.per_poll)
            status = "COMPLETED" if len(t["responses"]) == len(t["requests"]) else "IN_PROGRESS"
            return JSONResponse({"status": status, "totalRequests": len(t["requests"]),
                                 "completedRequests": len(t["responses"]), "responses": t["responses"]})  # fmt: skip
        return error(405, "Method not allowed", "METHOD_NOT_ALLOWED")

    # -- what a test reads afterwards ------------------------------------------------------------------------
    def contacts(self, cid: int) -> list[dict]:
        with self.store.lock:
            return [dict(c) for c in self.store.customers[cid]["contacts"]]

    def stored(self) -> Counter:
        with self.store.lock:
            return Counter((cid, c["type"], c["contact"]) for cid, cu in self.store.customers.items()
                           for c in cu["contacts"])  # fmt: skip

    def customers_by_email(self, email: str) -> list[int]:
        with self.store.lock:
            return [cid for cid, c in self.store.customers.items() if c["email"].lower() == email.lower()]

    def posts(self, suffix: str = "/contacts") -> int:
        return sum(1 for m, p in self.requests if m == "POST" and p.endswith(suffix))

    def __enter__(self) -> Emulator:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.api_url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v3"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            time.sleep(0.01)  # uvicorn says when it listens only by this flag
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def rewritten(ctype: str, value: str) -> str:
    """A store's own writing: ann@example.com, +351 912 345 678."""
    if ctype == "EMAIL":
        return value.lower()
    return re.sub(r"^(\+\d{3})(\d{3})(\d{3})(\d+)$", r"\1 \2 \3 \4", value) if ctype == "PHONE" else value


def shown(contacts: list[dict]) -> list[dict]:
    """Contacts as answered: newest first, a field left empty not there at all."""
    return [{k: v for k, v in c.items() if v not in ("", None)} for c in reversed(contacts)]


def error(status: int, message: str, code: str | None) -> JSONResponse:
    return JSONResponse({"errorMessage": message, **({"errorCode": code} if code else {})}, status)
