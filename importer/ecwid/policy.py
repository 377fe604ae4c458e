"""The retry policy, in one place: constants and pure functions.

Like openai-python's `_should_retry` / `_calculate_retry_timeout`: nothing here
does I/O or sleeps, so every rule is checked with a table of cases
(tests/test_policy.py). The one client (importer.ecwid.client) and its answers
(importer.ecwid.answers) ask these functions what to do; the pacer (importer.ecwid.pacer)
applies pauses and slow-downs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random as _random
from collections.abc import Callable
from enum import StrEnum


# -- defaults (the CLI's --rate / --concurrency / --retries) -------------------
# A little under Ecwid's limit of 600 a minute: our clock and Ecwid's window never line up exactly,
# and a 429 costs a pause of several seconds for every worker.
DEFAULT_RATE = 590.0
# 590/min is ~10 requests a second; Ecwid answers in ~0.3-1 s, so ~8 in flight
# keep the pace without piling requests up behind a slow answer.
DEFAULT_CONCURRENCY = 8
DEFAULT_RETRIES = 5  # attempts per row after the first
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_GRACE_S = 5.0  # how long in-flight requests may finish after a stop

# -- doubt ----------------------------------------------------------------------
# A create whose answer was lost (a cut, a timeout, a run that died) may still be
# running at Ecwid and commit later, so the store's "absent" counts only once the
# request can no longer commit: this long after it left. Twice our own timeout: a
# request we gave up on after 30 s has had as long again, and the 60 s a gateway
# in front of an API commonly grants before it drops a request. It costs a wait of
# at most this long at the end of a run that lost answers (rows in doubt are set
# aside, never holding up the others), and a rerun right after a crash waits for
# the dead run's last requests. --settle-window S changes it.
SETTLE_WINDOW_S = 2 * DEFAULT_TIMEOUT_S
MAX_RESENDS = 2  # a row found absent after a lost answer is sent again at most this often

# -- an API gone away -------------------------------------------------------------
# When requests have gone out this long without one answer from the API (connection errors,
# timeouts, pages that are not the API's), the run stops as a Ctrl-C stops (importer.ecwid.liveness):
# twice our timeout, so one slow answer never stops a run, and a nightly job that lost the
# network stops in about a minute instead of grinding through every row's retries for hours.
UNREACHABLE_S = 2 * DEFAULT_TIMEOUT_S
# A spell this long with nothing asked of the API is the run's own (waiting out the settle window),
# not the API's silence: longer than any backoff (BACKOFF_MAX_S) or batch poll wait (15 s).
QUIET_S = 45.0

# -- backoff --------------------------------------------------------------------
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 30.0
JITTER = 0.25  # a wait is shortened by up to 25 %, so workers don't retry in step

# -- 429 ------------------------------------------------------------------------
DEFAULT_RETRY_AFTER_S = 10.0  # Ecwid's own client waits 10 s when Retry-After is missing
MAX_RETRY_AFTER_S = 60.0  # Ecwid's window is a minute; longer values are capped
SLOW_DOWN_FACTOR = 0.8  # each new 429 episode multiplies the pace by this; no recovery
MIN_RATE = 30.0  # requests a minute: slow-downs never go below this

# -- statuses -------------------------------------------------------------------
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
STOP_STATUSES = frozenset({401, 402, 403})  # 401 is undocumented: treated like 403


def _retry_errors() -> tuple[type[BaseException], ...]:
    """Raised before a single byte of the request left: safe to resend."""
    import httpx  # here, not at the top: a dry run and the CLI's start-up never load the HTTP stack

    return (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _not_sent_errors() -> tuple[type[BaseException], ...]:
    import httpx

    # UnsupportedProtocol: resending won't help. LocalProtocolError: h11 refused to write the
    # request (an illegal header value), so not a byte of it left.
    return (*_retry_errors(), httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class Action(StrEnum):
    """What to do with the answer to one attempt."""

    SUCCESS = "success"  # 2xx: read createCount
    RETRY = "retry"  # try again after a wait, while retries remain
    FAIL = "fail"  # final for this row
    STOP = "stop"  # final for the run: auth, scope, plan, store
    AMBIGUOUS = "ambiguous"  # the request may have been applied: never resend blindly


def is_store_not_found(error_code: str, message: str) -> bool:
    """A 404 for the store (stop the run), as opposed to "Customer #N not found" (fail the row)."""
    if error_code:
        return error_code.upper() == "STORE_NOT_FOUND"
    text = message.lower()
    return "store" in text and "customer" not in text


def classify_status(status: int, error_code: str = "", message: str = "", *, resend: bool = True,
                    ecwid_own: bool = True) -> Action:  # fmt: skip
    """`resend`: whether the request may go again though it may have been applied (see may_have_been_applied);
    `ecwid_own`: the answer is Ecwid's (a JSON document), not a gateway's or proxy's page."""
    if 200 <= status < 300:
        return Action.SUCCESS
    if status in RETRY_STATUSES:
        # A create answered so by something in front of Ecwid: the request may still be running behind it
        # and commit later, so it is a lost answer, settled in the store once it can no longer commit. Ecwid's
        # own answer (RETRY, `lost`) means it is done with the request: the store is checked before it goes again.
        if not (resend or ecwid_own) and may_have_been_applied(status):
            return Action.AMBIGUOUS
        return Action.RETRY
    if status in STOP_STATUSES:
        return Action.STOP
    if status == 404 and is_store_not_found(error_code, message):
        return Action.STOP
    return Action.FAIL


def may_have_been_applied(status: int) -> bool:
    """An error answer that may come after the request was carried out: a 5xx (or a 408) may be answered after
    the write was made; a 429 is a refusal before anything is done. A create so answered is never resent blindly."""
    return status in RETRY_STATUSES and status != 429


def may_have_been_sent(exc: BaseException) -> bool:
    """Whether the server may have received (and applied) the request."""
    return not isinstance(exc, _not_sent_errors())


def classify_exception(exc: BaseException, sent: bool) -> Action:
    if sent:
        return Action.AMBIGUOUS  # ReadTimeout, ReadError, WriteError, RemoteProtocolError, ...
    if isinstance(exc, _retry_errors()):
        return Action.RETRY
    return Action.FAIL  # e.g. UnsupportedProtocol, LocalProtocolError: retrying will not help


def retry_wait(
    attempt: int,
    retry_after: float | None = None,
    *,
    random: Callable[[], float] = _random.random,
    initial: float = BACKOFF_INITIAL_S,
    cap: float = BACKOFF_MAX_S,
) -> float:
    """Seconds to wait after the `attempt`-th failed attempt (1-based).

    The server's Retry-After wins (capped); otherwise exponential backoff,
    capped, shortened by a random jitter of up to JITTER.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_RETRY_AFTER_S)
    backoff = min(cap, initial * 2 ** max(attempt - 1, 0))
    return backoff * (1.0 - JITTER * random())


def parse_retry_after(header: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None if missing or garbage."""
    if header is None:
        return None
    text = header.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def rate_limit_pause(retry_after: float | None, default: float = DEFAULT_RETRY_AFTER_S) -> float:
    """How long every worker pauses after a 429: Retry-After, else a default; capped."""
    seconds = default if retry_after is None else retry_after
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def slowed_rate(rate: float) -> float:
    """The pace after a new 429 episode."""
    return max(MIN_RATE, rate * SLOW_DOWN_FACTOR) if rate > MIN_RATE else rate
