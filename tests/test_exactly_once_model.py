"""Any interleaving of outcomes leaves the journal and the store consistent.

A record's life is a script of events at a fake store: a create answered, refused
(503), refused so that the run stops (403), applied with its answer cut off, lost before it arrived, a read that fails,
and the process dying at any of those points (its queued journal writes lost with
it). The real Journal, the real engine and the real sender run against it, run
after run, until a final run meets no more trouble. Throughout: the store never
holds a contact twice, the journal never claims a contact the store lacks, and
never forgets one the store has. At the end: each contact exactly once, and the
journal says created.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from importer import journal as states
from importer.deliver.engine import Engine
from importer.deliver.send import DirectChannel, SendConfig
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReadError, StoreReader
from importer.errors import RunStopped
from importer.journal import Journal
from importer.records import ContactRecord, Outcome, Source, Status

API, STORE, TOKEN = "http://127.0.0.1:9/api/v3", 1003, "secret_model_token"
POST_EVENTS = ["ok", "503", "403", "cut", "lost", "crash-before", "crash-after"]
GET_EVENTS = ["ok", "503", "403", "crash"]  # 403: the run stops while it checks the store


class Crash(Exception):
    """The process dies here."""


class FakeStore:
    """Ecwid's contacts endpoints, doing what the script says, then behaving."""

    def __init__(self, script: list[tuple[str, str]]):
        self.script = list(script)  # (method, event), consumed in order of matching method
        self.contacts: dict[int, list[dict]] = {}

    def _event(self, method: str) -> str:
        for i, (m, event) in enumerate(self.script):
            if m == method:
                del self.script[i]
                return event
        return "ok"

    def handle(self, request: httpx.Request) -> httpx.Response:
        cid = int(request.url.path.split("/")[-2])
        event = self._event(request.method)
        if event == "503":
            return httpx.Response(503, json={"errorMessage": "busy"})
        if event == "403":  # the run stops; the rows it did not send are not in doubt
            return httpx.Response(403, json={"errorMessage": "token revoked", "errorCode": "INVALID_API_TOKEN"})
        if request.method == "GET":
            if event == "crash":
                raise Crash
            return httpx.Response(200, json={"items": list(self.contacts.get(cid, []))})
        if event in ("ok", "cut", "crash-after"):
            self.contacts.setdefault(cid, []).append(json.loads(request.content))
        if event == "cut":
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        if event == "lost":
            raise httpx.ReadTimeout("timed out")  # it never arrived, but the client cannot know
        if event.startswith("crash"):
            raise Crash
        return httpx.Response(200, json={"createCount": 1})

    def count(self) -> Counter:
        return Counter((str(cid), c["type"], c["contact"]) for cid, items in self.contacts.items() for c in items)


def _records(n: int) -> list[ContactRecord]:
    return [
        ContactRecord(
            index=i, source=Source("f.csv", "", i + 2), customer_id=1 + i % 2, customer_email=None,
            type="EMAIL", contact=f"p{i}@example.com", outcome=Outcome(Status.VALID),
        )  # fmt: skip
        for i in range(n)
    ]


async def _no_sleep(_: float) -> None:
    return None


async def _run(journal: Journal, store: FakeStore, records: list[ContactRecord], skip_existing: bool) -> dict:
    config = SendConfig(api_url=API, store_id=STORE, token=TOKEN, rate_per_minute=None, concurrency=1,
                        retries=2, backoff_s=0.0, quiet=True)  # fmt: skip
    results: dict[int, ContactRecord] = {}
    async with httpx.AsyncClient(transport=httpx.MockTransport(store.handle)) as http:
        pacer = Pacer(None)
        reader = StoreReader(http, api_url=API, store_id=STORE, token=TOKEN, pacer=pacer, retries=2, sleep=_no_sleep)
        # The fake store commits before it answers (or never): no window to wait out.
        engine = Engine(journal, reader, results, settle_s=0.0, quiet=True, sleep=_no_sleep)
        channel = DirectChannel(config, client=http, pacer=pacer, sleep=_no_sleep)
        to_send = await engine.prepare(list(records))
        try:  # skip what the customer has already, as importer.customers.instore does before the engine sends
            to_send = [r for r in to_send if not (skip_existing and await _held(reader, r))]
        except RunStopped as exc:
            engine.give_up(exc, channel)
            return results
        await engine.run(to_send, channel)
    return results


async def _held(reader: StoreReader, record: ContactRecord) -> bool:
    """Whether the store has it; a read that fails: not sent (as a store check that failed)."""
    try:
        return await reader.has_contact(record)
    except StoreReadError:
        return True


def _check_consistent(path, store: FakeStore, records: list[ContactRecord]) -> dict:
    held = store.count()
    assert max(held.values(), default=0) <= 1, f"stored twice: {held}"
    with Journal(path, STORE, "inspect") as j:
        entries = j.lookup(r.key for r in records)
    for r in records:
        state = entries[r.key].state if r.key in entries else None
        if state == states.CREATED:
            assert held[r.key] == 1, f"{r.key}: the journal says created, the store lacks it"
        if held[r.key]:
            # Any other state would let the next run resend it without a look at the store.
            assert state in (states.SENDING, states.CREATED), f"{r.key}: in the store, journal says {state}"
    return entries


@pytest.fixture(scope="module")
def shm(tmp_path_factory):
    """Journals in memory-backed files where there are some: this test is about logic, not disks."""
    base = Path("/dev/shm")
    if base.is_dir():
        with tempfile.TemporaryDirectory(dir=base) as d:
            yield d
    else:
        yield tmp_path_factory.mktemp("model")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 3),
    script=st.lists(
        st.one_of(st.tuples(st.just("POST"), st.sampled_from(POST_EVENTS)),
                  st.tuples(st.just("GET"), st.sampled_from(GET_EVENTS))),
        max_size=12,
    ),  # fmt: skip
    lose_queued=st.lists(st.booleans(), min_size=8, max_size=8),
    skip_existing=st.lists(st.booleans(), min_size=8, max_size=8),
)
# A stop must not clear the doubt about rows it never reached (row 1 here, stored by a run that died).
@example(n=2, script=[("POST", "503")] * 3 + [("POST", "crash-after"), ("GET", "ok"), ("POST", "403")],
         lose_queued=[False] * 8, skip_existing=[False] * 8)  # fmt: skip
def test_any_interleaving_ends_with_each_contact_once(shm, n, script, lose_queued, skip_existing):
    path = Path(tempfile.mkdtemp(dir=shm)) / "journal.sqlite"
    store = FakeStore(script)
    records = _records(n)
    for run in range(8):
        if not store.script:
            break
        journal = Journal(path, STORE, f"run-{run}")
        try:
            asyncio.run(_run(journal, store, records, skip_existing[run]))
        except Crash:
            journal._pending.clear()  # died before the queued outcomes were committed
        if lose_queued[run]:
            journal._pending.clear()  # killed after its last answer, before its last commit
        journal.close()
        _check_consistent(path, store, records)
    store.script.clear()
    with Journal(path, STORE, "final") as journal:  # the plain rerun, meeting no trouble
        final = asyncio.run(_run(journal, store, records, skip_existing=False))
    entries = _check_consistent(path, store, records)
    assert store.count() == Counter(r.key for r in records)
    assert all(entries[r.key].state == states.CREATED for r in records)
    assert {r.outcome.status for r in final.values()} <= {Status.CREATED, Status.SKIPPED}
