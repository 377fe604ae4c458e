"""The Ecwid API as every run sees it: its URL checked, the scopes, the headers, the token cleaned and scrubbed.

    url = check_api_url(args.api_url)            # https://, or http:// to loopback only
    token = clean_token(raw, "in ECWID_TOKEN")   # UsageError for a token that could never authenticate
    text = scrub(server_text, token)             # the one way a server's text enters an outcome, log or report

The folder is the API's side of a run: the one client (importer.ecwid.client) makes every request;
importer.ecwid.answers reads each answer into a `Reply`, what to do with it (retry, fail, stop) is
importer.ecwid.policy's, the waits the client's retry loop's and importer.ecwid.pacer's; importer.ecwid.liveness
says whether the API is there; importer.ecwid.store reads the store; importer.ecwid.tickets and
importer.ecwid.batchpolicy are the batch API's.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from urllib.parse import urlsplit

from importer.errors import UsageError

DEFAULT_API_URL = "https://app.ecwid.com/api/v3"
CREATE_SCOPE = "create_customers"  # the scope each request needs: a 403 for lack of it names it
READ_SCOPE = "read_customers"
UPDATE_SCOPE = "update_customers"


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


def headers(token: str) -> dict[str, str]:
    # The token goes in this header only: never in the URL, where logs would keep it.
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}


_SURROUNDING = re.compile(r"^[\s\ufeff]+|[\s\ufeff]+$")  # whitespace and BOMs at either end


def clean_token(token: str, source: str = "") -> str:
    """The token without surrounding whitespace or a BOM (`$(cat token.txt)` of a CRLF file, a file
    saved by Notepad); UsageError if what is left holds a control or non-ASCII character, which would
    never authenticate. No message holds the token or any part of it."""
    token = _SURROUNDING.sub("", token)
    if token:
        _HELD.add(token)
    for position, char in enumerate(token, 1):
        if not (char.isascii() and char.isprintable()):
            kind = "a control character" if not char.isprintable() else "a character that is not ASCII"
            raise UsageError(
                f"the token{' ' + source if source else ''} holds {kind} (U+{ord(char):04X}) at position "
                f"{position} of {len(token)}: copy it again (the token is not shown)"
            )
    return token


_HELD: set[str] = set()  # every token this process was given: what `scrub_held` removes


def scrub_held(text: str) -> str:
    """`text` scrubbed of every token this process was given (clean_token), for a line written where no
    run's token is at hand: the CLI's last word on a bug of ours, the web page's."""
    held = sorted(_HELD, key=len, reverse=True)
    for token in held:  # every token's whole forms first: masking one's runs must not break another's
        text = _without(text, token)
    for token in held:
        text = _mask_runs(text, token)
    return text


MESSAGE_CHARS = 200  # a server's or an exception's text is cut to this in outcomes, logs and reports
_SPACES = re.compile(r"\s+")
TOKEN_RUN = 8  # this many of the token's characters in a row are never let out


def scrub(text: str, token: str, limit: int | None = MESSAGE_CHARS, *, one_line: bool = True) -> str:
    """The one way a server's or an exception's text enters an outcome, a log or a report: the token
    removed in every form it may take (as is, trimmed, escaped as `repr` writes it), then cut to
    `limit` characters, then any run of TOKEN_RUN or more of the token's characters masked, so no
    piece of it survives a cut, an echo that mangled it, or a form not foreseen here."""
    text = _without(str(text), token)
    if one_line:  # a page's layout would spill across log lines and CSV cells
        text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _mask_runs(text, token) if token else text


def _without(text: str, token: str) -> str:
    """The token's every form (as is, trimmed, escaped as `repr` writes it) as `***`."""
    if not token:
        return text
    forms = {token, _SURROUNDING.sub("", token), repr(token)[1:-1], token.encode("unicode_escape").decode("ascii")}
    for form in sorted(filter(None, forms), key=len, reverse=True):
        text = text.replace(form, "***")
    return text


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
