"""Records and a collector shared by the sender tests; a stand-in server for answers the sandbox never gives."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from importer.records import ContactRecord, Outcome, Source, Status


def make_records(n: int, customers: int = 10, start: int = 0) -> list[ContactRecord]:
    return [
        ContactRecord(
            index=i,
            source=Source("contacts.csv", "", i + 2),
            customer_id=1 + i % customers,
            customer_email=None,
            type="EMAIL",
            contact=f"person{i}@example.com",
            outcome=Outcome(Status.VALID),
        )
        for i in range(start, start + n)
    ]


@dataclass
class Collector:
    """on_result: every record it was called with, in call order."""

    seen: list[ContactRecord] = field(default_factory=list)

    def __call__(self, record: ContactRecord) -> None:
        self.seen.append(record)

    def by_index(self) -> dict[int, ContactRecord]:
        out = {r.index: r for r in self.seen}
        assert len(out) == len(self.seen), "a record was reported twice"
        return out

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.seen:
            counts[r.outcome.status] = counts.get(r.outcome.status, 0) + 1
        return counts


class QuietHTTPServer(ThreadingHTTPServer):
    """A test's own HTTP server in a thread. A client that hangs up mid-answer (a run that stopped, its other
    requests abandoned) is no error of the server's: said nowhere, where socketserver would print its traceback
    to the stderr the test reads as the tool's. Any other error is still printed."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
