"""The Ecwid API as the sender sees it: URLs, headers, error bodies, outcomes.

Turns one HTTP answer (or one transport exception) into an `Answer`, and a
final `Answer` into a record's `Outcome` or the run's `RunStopped`. What to do
with an answer (retry, fail, stop) is decided by importer.policy.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:  # annotations only: the CLI and a dry run need no HTTP stack
    import httpx

from importer import policy
from importer.errors import RunStopped, UsageError
from importer.policy import Action
from importer.records import Code, Outcome, Status

DEFAULT_API_URL = "https://app.ecwid.com/api/v3"
CREATE_SCOPE = "create_customers"


def check_api_url(url: str) -> str:
    """The API base without a trailing slash; plain http:// only to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"--api-url must be an https:// URL, got {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"refusing plain http:// to {parts.hostname}: the token would travel unencrypted "
            "(http:// is allowed only to 127.0.0.1, ::1 or localhost)"
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def contacts_url(api_url: str, store_id: int, customer_id: int) -> str:
    return f"{api_url.rstrip('/')}/{store_id}/customers/{quote(str(customer_id))}/contacts"


def headers(token: str) -> dict[str, str]:
    # The token goes in this header only: never in the URL, where logs would keep it.
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}


_SURROUNDING = re.compile(r"^[\s\ufeff]+|[\s\ufeff]+$")  # whitespace and BOMs at either end


def clean_token(token: str, source: str = "") -> str:
    """The token without surrounding whitespace or a BOM (`$(cat token.txt)` of a CRLF file, a file
    saved by Notepad); UsageError if what is left holds a control or non-ASCII character, which would
    never authenticate. No message holds the token or any part of it."""
    token = _SURROUNDING.sub("", token)
    for position, char in enumerate(token, 1):
        if not (char.isascii() and char.isprintable()):
            kind = "a control character" if not char.isprintable() else "a character that is not ASCII"
            raise UsageError(
                f"the token{' ' + source if source else ''} holds {kind} (U+{ord(char):04X}) at position "
                f"{position} of {len(token)}: copy it again (the token is not shown)"
            )
    return token


MESSAGE_CHARS = 200  # a server's or an exception's text is cut to this in outcomes, logs and reports
_SPACES = re.compile(r"\s+")
TOKEN_RUN = 8  # this many of the token's characters in a row are never let out


def scrub(text: str, token: str, limit: int | None = MESSAGE_CHARS, *, one_line: bool = True) -> str:
    """The one way a server's or an exception's text enters an outcome, a log or a report: the token
    removed in every form it may take (as is, trimmed, escaped as `repr` writes it), then cut to
    `limit` characters, then any run of TOKEN_RUN or more of the token's characters masked, so no
    piece of it survives a cut, an echo that mangled it, or a form not foreseen here."""
    text = str(text)
    if token:
        forms = {token, _SURROUNDING.sub("", token), repr(token)[1:-1],
                 token.encode("unicode_escape").decode("ascii")}  # fmt: skip
        for form in sorted(filter(None, forms), key=len, reverse=True):
            text = text.replace(form, "***")
    if one_line:  # a page's layout would spill across log lines and CSV cells
        text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _mask_runs(text, token) if token else text


def _mask_runs(text: str, token: str) -> str:
    """Every run of TOKEN_RUN+ characters that also occurs in the token, as `*`s."""
    n = TOKEN_RUN
    pieces = {token[i:i + n] for i in range(len(token) - n + 1)}
    if not pieces:
        return text
    masked = bytearray(len(text))
    for i in range(len(text) - n + 1):
        if text[i:i + n] in pieces:
            masked[i:i + n] = b"\x01" * n
    if not any(masked):
        return text
    return "".join("*" if m else c for c, m in zip(text, masked))


class ScrubFilter(logging.Filter):
    """Belt and braces for logs: every record through a handler scrubbed (message and traceback alike),
    whatever logged it (httpx, a library, a message that forgot)."""

    def __init__(self, token: str):
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self._token, limit=None, one_line=False), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self._token, limit=None, one_line=False)
        return True


@contextlib.contextmanager
def scrubbed_logs(token: str):
    """While a run holds the token: every handler of the root logger scrubs what it writes."""
    handlers = list(logging.getLogger().handlers)
    scrubber = ScrubFilter(token)
    for handler in handlers:
        handler.addFilter(scrubber)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(scrubber)


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt came to."""

    action: Action
    status: int | None = None  # HTTP status; None when no answer came
    create_count: int | None = None
    error_code: str = ""  # Ecwid's errorCode, or our code when Ecwid gave none
    error: str = ""  # Ecwid's errorMessage, or what went wrong
    retry_after: float | None = None  # seconds, from the Retry-After header


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


def read_count(response: httpx.Response, field: str = "createCount") -> int | None:
    """The count a 2xx answer says (`createCount`, `updateCount`, `deleteCount`), or None when it says
    none: an empty body, `{}`, HTML from a proxy, a bool. The one rule for every write: an answer
    without a readable count says nothing about what happened, so the write is in doubt, never failed."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    count = body.get(field) if isinstance(body, dict) else None
    return count if type(count) is int and count >= 0 else None  # noqa: E721 - bool is not a count


def unreadable(response: httpx.Response, field: str = "createCount") -> str:
    """What a 2xx answer without a readable count held, for the row's message: to be scrubbed."""
    text = response.text.strip()
    if not text:
        return f"a {response.status_code} answer with an empty body instead of {field}"
    if text.startswith("<"):
        return f"a {response.status_code} answer in HTML instead of {field} (a proxy or captive portal?)"
    return f"a {response.status_code} answer without a readable {field}: {text}"


def is_json(response: httpx.Response) -> bool:
    """Whether the answer is a JSON document, as every answer of Ecwid's API is (a proxy's, a captive
    portal's, a gateway's error page is not): what tells that the API itself is being heard."""
    try:
        response.json()
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def read_answer(response: httpx.Response, token: str = "") -> Answer:
    status = response.status_code
    if 200 <= status < 300:
        count = read_count(response)
        if count is not None:
            return Answer(Action.SUCCESS, status, create_count=count)
        return Answer(
            Action.AMBIGUOUS, status, error_code=Code.AMBIGUOUS,
            error=f"{scrub(unreadable(response), token, limit=120)}: the contact may exist; checked in the store, "
                  "not resent blindly",
        )  # fmt: skip
    code, message = parse_error(response)
    action = policy.classify_status(status, code, message)
    return Answer(
        action,
        status,
        error_code=scrub(code, token, limit=60) or _our_code(status, action),
        error=scrub(message or f"HTTP {status} {response.reason_phrase}".strip(), token),
        retry_after=policy.parse_retry_after(response.headers.get("Retry-After")),
    )


def _our_code(status: int, action: Action) -> str:
    if action is Action.RETRY:
        return Code.RETRIES_EXHAUSTED
    if action is Action.STOP:
        return Code.HTTP_ERROR
    return {400: Code.REJECTED, 404: Code.CUSTOMER_NOT_FOUND}.get(status, Code.HTTP_ERROR)


def answer_for_exception(exc: httpx.TransportError, token: str = "") -> Answer:
    sent = policy.may_have_been_sent(exc)
    action = policy.classify_exception(exc, sent)
    detail = scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, token)
    if action is Action.AMBIGUOUS:
        return Answer(
            action, error_code=Code.AMBIGUOUS,
            error=f"no answer after the request was sent ({detail}): the contact may exist; not resent",
        )  # fmt: skip
    return Answer(action, error_code=Code.CONNECTION_ERROR, error=detail)


def to_outcome(answer: Answer, attempts: int) -> Outcome:
    """The record's final outcome after its last attempt."""
    if answer.action is Action.SUCCESS:
        status = Status.NOT_CREATED if answer.create_count == 0 else Status.CREATED
        return Outcome(status, answer.status, answer.create_count, attempts)
    error = answer.error
    if answer.action is Action.RETRY:
        error = f"gave up after {attempts} attempts: {error}"
    return Outcome(Status.FAILED, answer.status, answer.create_count, attempts, answer.error_code, error)


def stop_reason(answer: Answer, store_id: int, scope: str = "") -> RunStopped:
    """The one-line message saying what to fix, for an answer whose action is STOP.

    `scope`: the scope the request needed, when not the contact create's."""
    status, code, message = answer.status, answer.error_code, answer.error
    label = code if code != Code.HTTP_ERROR else f"HTTP {status}"
    if status == 402:
        if code.upper() == "STORE_IS_SUSPENDED":
            text = f"store {store_id} is suspended (STORE_IS_SUSPENDED)"
        else:
            text = f"the store's plan does not allow this ({label})"
    elif status == 404:
        text = f"store {store_id} not found ({label}): check --store-id and --api-url"
    elif code.upper() == "INSUFFICIENT_APP_SCOPE" or "scope" in message.lower():
        text = f"the token lacks the {scope or CREATE_SCOPE} scope ({label})"
    else:
        text = f"the token is invalid or revoked ({label})"
    return RunStopped(text, error_code=code, http_status=status)

