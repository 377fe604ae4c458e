"""What one exchange with Ecwid came to, read as pure functions: a `Reply`.

    reply = reply_for(response, token=token, meaning=count("createCount"), resend=False, store_id=1003)
    reply = reply_for_exception(exc, token=token, resend=True)

A caller says only what a 2xx means (`Meaning`: a JSON document, a count, a new id, a ticket); the
rest is the API's and the same for every request: the status's action (importer.ecwid.policy), Ecwid's
errorCode and errorMessage, Retry-After, the stop a 401/402/403 or a missing store means, and what a
lost or unreadable answer means. That last depends on `resend`: whether a request that may have been
applied may go again (a read, a PUT or DELETE by id; a create made safe by its caller: the batch's
deduplication key, the customer search before a customer's create). When it may, a lost answer is
retried, marked `lost`; when it may not (a contact's create), it is AMBIGUOUS: checked in the store.
A create's error answer that may come after its write (a 5xx, a 408: policy.may_have_been_applied) is
Ecwid's own (a JSON document, `foreign` says "") or not: Ecwid's is done with the request, so it is
retried, marked `lost`, and its sender checks the store before it goes again (`confirmed` when found,
`in_doubt` when the check fails); any other (a gateway's 502 page: its backend may still commit) is AMBIGUOUS.
Every text in a Reply is scrubbed of the token (importer.ecwid.scrub).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx

from importer.ecwid import CREATE_SCOPE, scrub
from importer.ecwid.policy import (Action, classify_exception, classify_status, may_have_been_applied,
                                   may_have_been_sent, parse_retry_after)  # fmt: skip
from importer.errors import Code, RunStopped
from importer.records import Outcome, Status


@dataclass(frozen=True, slots=True)
class Reply:
    """What one request came to (or, from `EcwidClient.call`, its last attempt)."""

    action: Action
    status: int | None = None  # HTTP status; None when no answer came
    value: Any = None  # what the 2xx meant (the caller's Meaning): a document, a count, an id, a ticket
    error_code: str = ""  # our code (a stop's: Ecwid's errorCode, or ours when it gave none)
    error: str = ""  # Ecwid's errorMessage, or what went wrong
    detail: str = ""  # the whole of it on one line: "HTTP 500 CODE message", "ReadTimeout: …"
    retry_after: float | None = None  # seconds, from the Retry-After header
    lost: bool = False  # it (or, from `call`, an earlier attempt) may have been applied without saying so
    attempts: int = 1
    stop: RunStopped | None = None  # action STOP: why the run stops


@dataclass(frozen=True)
class Meaning:
    """What a 2xx answer means: `read(response)` is the value, None when the answer does not say it;
    `missing(response)` says what it held instead (scrubbed by the reader)."""

    read: Callable[[httpx.Response], Any]
    missing: Callable[[httpx.Response], str]


def json_body(response: httpx.Response) -> Any:
    """The answer's JSON document; None when it is not one (empty, HTML from a proxy, cut short)."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def json_int(response: httpx.Response, field: str, minimum: int = 0) -> int | None:
    """The one "int from a JSON body" reader: `field` of the answer's object when it is an int of at
    least `minimum` (a bool is not a count, nor an id), else None."""
    body = json_body(response)
    value = body.get(field) if isinstance(body, dict) else None
    return value if type(value) is int and value >= minimum else None  # noqa: E721 - bool is not an int here


def unreadable(response: httpx.Response, field: str) -> str:
    """What a 2xx answer without a readable `field` held, for the row's message: to be scrubbed."""
    text = response.text.strip()
    if not text:
        return f"a {response.status_code} answer with an empty body instead of {field}"
    if text.startswith("<"):
        return f"a {response.status_code} answer in HTML instead of {field} (a proxy or captive portal?)"
    return f"a {response.status_code} answer without a readable {field}: {text}"


def count(field: str) -> Meaning:
    """`createCount`, `updateCount`, `deleteCount`: an answer without a readable count says nothing about
    what happened, so the write is in doubt (or sent again, when it may be), never failed."""
    return Meaning(lambda r: json_int(r, field), lambda r: unreadable(r, field))


def _ticket(response: httpx.Response) -> str | None:
    body = json_body(response)
    ticket = body.get("ticket") if isinstance(body, dict) else None
    return ticket if isinstance(ticket, str) and ticket else None


DOCUMENT = Meaning(json_body, lambda r: "the answer is not JSON")  # a read: not the API's answer, try again
NEW_ID = Meaning(lambda r: json_int(r, "id", 1), lambda r: f"a {r.status_code} answer without the new customer's id")
TICKET = Meaning(_ticket, lambda r: f"a {r.status_code} answer without a ticket")
CREATED = count("createCount")


NOT_ECWID = "the answer is not Ecwid's"


def foreign(response: httpx.Response) -> str:
    """"" for an answer of Ecwid's API (a JSON document); else what it is instead."""
    if 300 <= response.status_code < 400:
        where = httpx.URL(response.headers.get("location", "")).host or "elsewhere"
        return f"{NOT_ECWID}: a redirect to {where} (a proxy or captive portal?)"
    try:
        response.json()
        return ""
    except (ValueError, UnicodeDecodeError):
        pass
    text = response.text.lstrip()[:200].lower()
    if "html" in response.headers.get("content-type", "").lower() or text.startswith("<"):
        return f"{NOT_ECWID}: HTML from a proxy or captive portal?"
    if not text:
        return f"{NOT_ECWID}: an empty {response.status_code} answer"
    return f"{NOT_ECWID}: a {response.status_code} answer that is not JSON"


def parse_error(response: httpx.Response) -> tuple[str, str]:
    """(errorCode, errorMessage) from an error body; either may be "" (body empty or not JSON)."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return "", response.text.strip()  # whole: the caller scrubs it, then cuts it (scrub())
    if not isinstance(body, dict):
        return "", ""
    code, message = body.get("errorCode"), body.get("errorMessage")
    return (str(code) if code else ""), (str(message) if message else "")


def reply_for(response: httpx.Response, *, token: str = "", meaning: Meaning = CREATED, resend: bool = False,
              store_id: int = 0, scope: str = CREATE_SCOPE) -> Reply:  # fmt: skip
    """One HTTP answer, read. `resend`: see the module docstring."""
    status = response.status_code
    if 200 <= status < 300:
        value = meaning.read(response)
        if value is not None:
            return Reply(Action.SUCCESS, status, value)
        said = meaning.missing(response)
        if resend:  # it says nothing: it may have been done; sending it again is harmless
            text = scrub(said, token)
            return Reply(Action.RETRY, status, error_code=Code.RETRIES_EXHAUSTED, error=text, detail=text, lost=True)
        return Reply(
            Action.AMBIGUOUS, status, error_code=Code.AMBIGUOUS, detail=scrub(said, token), lost=True,
            error=f"{scrub(said, token, limit=120)}: the contact may exist; checked in the store, not resent blindly",
        )  # fmt: skip
    code, message = parse_error(response)
    not_ecwid = foreign(response)
    action = classify_status(status, code, message, resend=resend, ecwid_own=not not_ecwid)
    if action is Action.AMBIGUOUS:  # a gateway's page for a create: its backend may still commit
        return Reply(
            action, status, error_code=Code.AMBIGUOUS, detail=scrub(f"HTTP {status} {message}".strip(), token),
            error=f"HTTP {status} that is not Ecwid's answer ({not_ecwid.removeprefix(NOT_ECWID + ': ')}): the "
                  "contact may exist; checked in the store, not resent blindly", lost=True,
        )  # fmt: skip
    said = message or f"HTTP {status} {response.reason_phrase}".strip()
    # A row's code is ours, stable whatever Ecwid says (its errorCode leads the message); a stop's is Ecwid's own.
    ecwid_code = scrub(code, token, limit=60)
    reply = Reply(
        action, status,
        error_code=(ecwid_code if action is Action.STOP else "") or _our_code(status, action),
        error=scrub(f"{code}: {said}" if code and action is not Action.STOP else said, token),
        detail=scrub(f"HTTP {status} {code} {message}".strip(), token),
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        lost=may_have_been_applied(status),  # a create's is checked in the store before it goes again
    )  # fmt: skip
    if action is Action.STOP:
        return replace(reply, stop=stop_reason(reply, store_id, scope))
    return reply


def _our_code(status: int, action: Action) -> str:
    if action is Action.RETRY:
        return Code.RETRIES_EXHAUSTED
    if action is Action.STOP:
        return Code.HTTP_ERROR
    return {400: Code.REJECTED, 404: Code.CUSTOMER_NOT_FOUND}.get(status, Code.HTTP_ERROR)


def reply_for_exception(exc: httpx.TransportError, *, token: str = "", resend: bool = False) -> Reply:
    """No answer: a connection refused, a timeout, a cut. Whether it may have reached Ecwid decides."""
    sent = may_have_been_sent(exc)
    detail = scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, token)
    if resend:  # a read, an edit by id, a create made safe by its caller: whatever happened, again
        return Reply(Action.RETRY, error_code=Code.CONNECTION_ERROR, error=detail, detail=detail, lost=sent)
    action = classify_exception(exc, sent)
    if action is Action.AMBIGUOUS:
        return Reply(
            action, error_code=Code.AMBIGUOUS, detail=detail, lost=True,
            error=f"no answer after the request was sent ({detail}): the contact may exist; not resent",
        )  # fmt: skip
    return Reply(action, error_code=Code.CONNECTION_ERROR, error=detail, detail=detail)


def to_outcome(reply: Reply, attempts: int) -> Outcome:
    """A contact create's final outcome after its last attempt."""
    if reply.action is Action.SUCCESS:  # `error`: how it is known, when not by its answer (confirmed_after)
        status = Status.NOT_CREATED if reply.value == 0 else Status.CREATED
        return Outcome(status, reply.status, reply.value, attempts, error=reply.error)
    error = reply.error
    if reply.action is Action.RETRY:
        error = f"gave up after {attempts} attempts: {error}"
    return Outcome(Status.FAILED, reply.status, None, attempts, reply.error_code, error)


def confirmed(reply: Reply) -> Reply:
    """A create answered `reply` (Ecwid's own 5xx: it may have been applied), whose contact the store had when
    checked before it went again: created, once."""
    return Reply(Action.SUCCESS, reply.status, error=f"confirmed in the store after {reply.detail}: created once, "
                                                     "not sent again")  # fmt: skip


def in_doubt(reply: Reply, why: str) -> Reply:
    """A create answered `reply` (it may have been applied) whose store check could not be made (`why`): in
    doubt, settled in the store later, never resent blindly."""
    return Reply(Action.AMBIGUOUS, reply.status, error_code=Code.AMBIGUOUS, detail=reply.detail, lost=True,
                 error=f"{reply.detail}: the contact may exist; {why}")  # fmt: skip


def stop_reason(reply: Reply, store_id: int, scope: str = CREATE_SCOPE) -> RunStopped:
    """The one-line message saying what to fix, for an answer whose action is STOP; `scope`: the one the
    request needed (a 403 for lack of it names it)."""
    status, code, message = reply.status, reply.error_code, reply.error
    label = code if code != Code.HTTP_ERROR else f"HTTP {status}"
    if status == 402:
        if code.upper() == "STORE_IS_SUSPENDED":
            text = f"store {store_id} is suspended (STORE_IS_SUSPENDED)"
        else:
            text = f"the store's plan does not allow this ({label})"
    elif status == 404:
        text = f"store {store_id} not found ({label}): check --store-id and --api-url"
    elif code.upper() == "INSUFFICIENT_APP_SCOPE" or "scope" in message.lower():
        text = f"the token lacks the {scope} scope ({label})"
    else:
        text = f"the token is invalid or revoked ({label})"
    return RunStopped(text, error_code=code, http_status=status)
