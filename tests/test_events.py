"""A run's events and its stop (importer.events): what the page watches, and its Stop button."""

from __future__ import annotations

import threading

from cli_support import VALID, VALID_ROWS

from importer.records import Status
from importer.events import Stop
from importer.runs.pipeline import run_import


def test_events_count_every_row_and_a_stop_ends_the_run_as_ctrl_c(tmp_path):
    stop, events = Stop(), []

    def on_event(event):
        events.append(event)
        if event["counts"].get("created", 0) >= 5 if event["event"] == "progress" else False:
            stop.set()  # the page's Stop button: from whatever thread the page runs in

    result = run_import([VALID], sandbox=True, report_dir=tmp_path, quiet=True, rate=3000, concurrency=2,
                        on_event=on_event, stop=stop)  # fmt: skip
    assert result.exit_code == 3 and result.stopped.error_code == "interrupted"
    counts = result.counts
    assert counts["created"] >= 5 and counts["not_sent"] >= 1 and sum(counts.values()) == VALID_ROWS
    progress = [e for e in events if e["event"] in ("progress", "closed")]
    done = [e["done"] for e in progress]
    assert done == sorted(done) and progress[-1]["event"] == "closed"
    assert progress[-1]["counts"] == {s: n for s, n in counts.items() if s in (Status.CREATED, Status.NOT_SENT)}
    assert progress[-1]["total"] == VALID_ROWS and "not sent" in progress[-1]["line"]


def test_a_stop_set_from_another_thread_before_the_send_sends_nothing(tmp_path):
    stop = Stop()
    setter = threading.Thread(target=stop.set)
    setter.start()
    setter.join()
    called = []
    stop.on_set(lambda: called.append(1))  # already set: called at once
    result = run_import([VALID], sandbox=True, report_dir=tmp_path, quiet=True, stop=stop)
    assert result.exit_code == 3 and result.counts == {"not_sent": VALID_ROWS} and called == [1]

