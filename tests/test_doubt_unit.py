"""The settle window on a fake clock: when rows in doubt are read, and what a stop leaves."""

from __future__ import annotations

import asyncio

import httpx

from fakeclock import FakeClock
from importer.deliver.doubt import EARLIER, LOST, DoubtBook
from importer.ecwid.pacer import Pacer
from importer.ecwid.store import StoreReader
from send_helpers import make_records

API = "http://127.0.0.1:9/api/v3"


class Store:
    """GET /customers/{id}/contacts on the fake clock: a create of `commits_at` lands then."""

    def __init__(self, clock: FakeClock, records, commits_at: float, status: int = 200):
        self.clock, self.records, self.commits_at, self.status = clock, records, commits_at, status
        self.reads: list[tuple[float, int]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        cid = int(request.url.path.split("/")[-2])
        self.reads.append((self.clock(), cid))
        if self.status != 200:
            return httpx.Response(self.status, json={"errorMessage": "no", "errorCode": "INSUFFICIENT_APP_SCOPE"})
        landed = self.clock() >= self.commits_at
        items = [{"type": r.type, "contact": r.contact} for r in self.records if r.customer_id == cid and landed]
        return httpx.Response(200, json={"items": items})


def _settle(book: DoubtBook, store: Store, clock: FakeClock, *, cancel_at: float | None = None):
    async def main():
        async with httpx.AsyncClient(transport=httpx.MockTransport(store.handle)) as http:
            reader = StoreReader(http, api_url=API, store_id=1003, token="secret_t", pacer=Pacer(None), retries=1,
                                 sleep=clock.sleep)  # fmt: skip
            cancel = asyncio.Event()

            async def stop():
                await clock.sleep(cancel_at - clock())
                cancel.set()

            jobs = [book.settle(reader, cancel)] + ([stop()] if cancel_at is not None else [])
            return (await clock.run(*jobs))[0]

    return asyncio.run(main())


def _book(clock: FakeClock, settle_s: float, records, sent_at: float) -> DoubtBook:
    book = DoubtBook(settle_s, wall=clock, sleep=clock.sleep)
    for r in records:
        book.add(r, sent_at, LOST)
    return book


def test_an_absent_read_counts_only_after_the_window_so_a_late_commit_is_found():
    clock = FakeClock(start=1000.0)
    records = make_records(4, customers=2)
    store = Store(clock, records, commits_at=1030.0)  # the creates sent at 1000 land 30 s later
    checked = _settle(_book(clock, 60.0, records, sent_at=1000.0), store, clock)
    assert [t for t, _ in store.reads] == [1060.0, 1060.0]  # one read per customer, at the deadline
    assert len(checked.found) == 4 and not checked.absent and checked.stopped is None


def test_a_window_shorter_than_the_commit_would_have_said_absent():
    clock = FakeClock(start=1000.0)
    records = make_records(2, customers=1)
    store = Store(clock, records, commits_at=1030.0)
    checked = _settle(_book(clock, 10.0, records, sent_at=1000.0), store, clock)
    assert store.reads == [(1010.0, 1)] and len(checked.absent) == 2  # why the window must outlast a commit


def test_rows_are_read_as_each_deadline_passes():
    clock = FakeClock(start=1000.0)
    records = make_records(2, customers=2)
    book = DoubtBook(5.0, wall=clock, sleep=clock.sleep)
    book.add(records[0], 1000.0, EARLIER)
    book.add(records[1], 1003.0, LOST)
    store = Store(clock, records, commits_at=0.0)
    checked = _settle(book, store, clock)
    assert store.reads == [(1005.0, 1), (1008.0, 2)] and len(checked.found) == 2
    assert book.counts == {EARLIER: 1, LOST: 1}


def test_ctrl_c_while_waiting_leaves_every_row_in_doubt_unread():
    clock = FakeClock(start=1000.0)
    records = make_records(3)
    book = _book(clock, 60.0, records, sent_at=1000.0)
    store = Store(clock, records, commits_at=0.0)
    checked = _settle(book, store, clock, cancel_at=1020.0)
    assert checked.stopped is not None and checked.stopped.error_code == "interrupted"
    assert store.reads == [] and len(book) == 3 and not (checked.found or checked.absent)


def test_a_403_on_the_check_stops_and_leaves_the_rows_in_doubt():
    clock = FakeClock(start=1000.0)
    records = make_records(3, customers=1)
    book = _book(clock, 1.0, records, sent_at=1000.0)
    checked = _settle(book, Store(clock, records, commits_at=0.0, status=403), clock)
    assert "read_customers" in checked.stopped.message
    assert len(book) == 3 and not (checked.found or checked.absent or checked.unchecked)


def test_a_store_that_cannot_be_read_leaves_the_row_unchecked_not_absent():
    clock = FakeClock(start=1000.0)
    records = make_records(1)
    book = _book(clock, 1.0, records, sent_at=1000.0)
    checked = _settle(book, Store(clock, records, commits_at=0.0, status=503), clock)
    assert checked.stopped is None and not checked.absent
    assert [why for _, why in checked.unchecked] == ["the store could not be checked: GET /customers/1/contacts: "
                                                     "HTTP 503 INSUFFICIENT_APP_SCOPE no"]  # fmt: skip
