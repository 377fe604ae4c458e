"""The batch API's rules as pure pieces: its limits, when to poll a ticket, an inner request's id, an
inner answer read as a direct one. Used by importer.deliver.batch (the sender) and its tests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import httpx

from importer.ecwid.answers import Reply, reply_for
from importer.ecwid.policy import Action
from importer.errors import Code, UsageError
from importer.records import ContactRecord

MAX_SIZE = 500  # Ecwid's limit of inner requests per batch
DEFAULT_IN_FLIGHT = 4
# Ecwid remembers a deduplicationKey for an hour; resubmitting near its end could land just after
# it was forgotten (our clock and Ecwid's differ), so a batch is resubmitted only this long.
DEDUP_S = 3600.0 - 600.0
POLL_FIRST_S = 0.5  # the first poll of a ticket whose pace is unknown
POLL_MIN_S = 0.25
POLL_MAX_S = 15.0
POLL_FAILURES = 3  # polls failing for good (after the reads' own retries) before the run stops
# A ticket that makes no progress (status and completed requests unchanged) this long stops the run, its rows
# in doubt under the ticket (the next run polls it again): a stuck queue is never polled forever. --batch-timeout.
BATCH_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class BatchSettings:
    size: int = MAX_SIZE
    in_flight: int = DEFAULT_IN_FLIGHT  # batches submitted and not yet done
    parallel: bool = False  # allowParallelMode: Ecwid runs up to 100 inner requests at once
    dedup_s: float = DEDUP_S
    poll_first_s: float = POLL_FIRST_S
    poll_min_s: float = POLL_MIN_S
    poll_max_s: float = POLL_MAX_S
    timeout_s: float = BATCH_TIMEOUT_S  # --batch-timeout

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_SIZE or self.in_flight < 1:
            raise UsageError(f"a batch holds 1 to {MAX_SIZE} creates ({self.size}); at least one in flight ({self.in_flight})")


def poll_wait(remaining: int, per_s: float | None, previous: float | None, queued: bool,
              settings: BatchSettings = BatchSettings()) -> float:
    """Seconds until the next poll of a ticket: when its pace says it will be done, within bounds;
    doubling from `poll_first_s` while it waits in Ecwid's queue or its pace is unknown. A ticket's
    first poll (`previous` None) has no lower bound: the ticket ahead of it may have been done a while,
    and a fast Ecwid may be done with this one too."""
    if queued or not per_s:
        return settings.poll_first_s if previous is None else min(previous * 2, settings.poll_max_s)
    floor = 0.0 if previous is None else settings.poll_min_s
    return min(max(1.1 * remaining / per_s, floor), settings.poll_max_s)


def inner_id(record: ContactRecord) -> str:
    """The inner request's id: the same for the same row's contact in every run."""
    return hashlib.sha256("\x1f".join(record.key).encode()).hexdigest()[:16]


def inner_answer(item: dict, token: str, store_id: int) -> Reply:
    """An inner answer read as a direct one would be (a STOP's `stop` names `store_id`)."""
    status = item.get("httpStatusCode")
    if not isinstance(status, int):  # FAILED without a status: Ecwid's timeout
        return Reply(Action.AMBIGUOUS, error_code=Code.AMBIGUOUS, error="no answer within its batch")
    text = item.get("escapedHttpBody")
    if text is None and "httpBody" in item:
        text = json.dumps(item["httpBody"])
    return reply_for(httpx.Response(status, content=(text or "").encode("utf-8")), token=token, store_id=store_id)
