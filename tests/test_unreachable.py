"""Issue 21 (the wire): an unreachable API stops the run, once, clearly.

At the start (a closed port, a server answering HTML as a captive portal does): exit 3, one line saying
why, and the report with every row `not_sent`. Mid-run (the API goes away while rows are being sent):
the run stops within the liveness window, as a Ctrl-C stops; the rerun continues, creating nothing twice.
`undo` stops, once, on an API that cannot be reached, as `import` does. Then the liveness pieces alone.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from cli_support import VALID, VALID_ROWS, cli, results, statuses, summary
from exactly_once_helpers import cli_args, run_main, stored, wait_for, write_csv
from importer.ecwid import policy
from importer.ecwid.liveness import Liveness, foreign
from importer.runs.pipeline import run_import
from importer.runs.undo import run_undo
from importer.sandbox import Sandbox, SandboxConfig
from send_helpers import QuietHTTPServer

FAST = ("--rate", "100000")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Portal(BaseHTTPRequestHandler):
    """A captive portal: every request answered 200 with its login page."""

    def do_GET(self):  # noqa: N802 - http.server's name
        page = b"<!DOCTYPE html><html><body><h1>Welcome to Hotel WiFi</h1><form>Log in</form></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def portal():
    server = QuietHTTPServer(("127.0.0.1", 0), _Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


def _start(capsys, monkeypatch, tmp_path, api_url: str):
    monkeypatch.setenv("ECWID_TOKEN", "secret_0123456789abcdef")
    return cli(capsys, "import", VALID, "--api-url", api_url, "--store-id", "5", "--report-dir", tmp_path / "r",
               "--journal", tmp_path / "j.sqlite", "--retries", "1")  # fmt: skip


def test_a_closed_port_at_the_start_stops_with_one_line_and_a_report_of_rows_not_sent(tmp_path, monkeypatch, capsys):
    from importer.runs import remote

    monkeypatch.setattr(remote, "READS_NOTE_S", 0.0)  # any read "took long": said only if the store answered
    api_url = f"http://127.0.0.1:{closed_port()}/api/v3"
    run = _start(capsys, monkeypatch, tmp_path, api_url)
    assert run.code == 3, run.err
    assert f"ecwid-contacts: stopped: cannot reach {api_url}: connection refused" in run.err_lines
    assert "reading the store took" not in run.err  # no store was read: the API was never there
    assert "internal error" not in run.err and "Traceback" not in run.err
    assert statuses(results(tmp_path / "r")) == {"not_sent": VALID_ROWS}
    done = summary(tmp_path / "r")
    assert (done["exit_code"], done["stopped_code"]) == (3, "api-unreachable")


def test_an_html_page_instead_of_the_api_at_the_start_is_named_for_what_it_is(tmp_path, monkeypatch, capsys, portal):
    run = _start(capsys, monkeypatch, tmp_path, portal)
    assert run.code == 3, run.err
    assert "ecwid-contacts: stopped: the answer is not Ecwid's: HTML from a proxy or captive portal?" in run.err_lines
    assert statuses(results(tmp_path / "r")) == {"not_sent": VALID_ROWS}


@pytest.mark.parametrize("gone", ["html-502", "timeouts"])
def test_the_api_going_away_mid_run_stops_within_the_window_and_the_rerun_creates_nothing_twice(
    tmp_path, monkeypatch, capsys, gone
):
    monkeypatch.setattr(policy, "UNREACHABLE_S", 0.5)
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(30))
    args = ["--journal", str(tmp_path / "j.sqlite"), "--concurrency", "2", "--timeout", "0.2", *FAST]
    with Sandbox(SandboxConfig(rate_per_minute=None, customers=20, latency_ms=5)) as sb:
        def go_away() -> None:  # once a few rows are in, every request meets the fault
            wait_for(lambda: sb.stats.creates_committed >= 5)
            if gone == "timeouts":  # no create is answered in time; each still commits, later: rows in doubt
                sb.set_fault(late_commit_ms=600)
            else:
                sb.set_fault(fail_rate=1.0, fail_statuses=(502,))  # a gateway's HTML page, and nothing stored

        threading.Thread(target=go_away, daemon=True).start()
        code, first, err = run_main(sb, cli_args(sb, csv, tmp_path / "r1", *args), monkeypatch, capsys)
        assert code == 3, err
        assert first["stopped_code"] == "api-unreachable"
        assert "no answer from" in err and "for 0.5 s" in err
        assert first["send_s"] < 10
        # creates that may commit later (a timeout; a gateway's page, whose backend may still commit): kept in
        # doubt, checked by the rerun; a create answered by a gateway's page is never sent again in this run
        assert first["ambiguous"] > 0
        if gone == "timeouts":
            assert first["counts"].get("not_sent", 0) > 0  # stopped, not ground through every row's retries
        sb.set_fault(late_commit_ms=0, fail_rate=0.0)
        monkeypatch.setattr(policy, "UNREACHABLE_S", 60.0)  # a loaded machine's slow answer must not stop the rerun
        wait_for(lambda: sb.stats.in_flight == 0)  # the network is back; the late creates have committed
        code, again, err = run_main(sb, cli_args(sb, csv, tmp_path / "r2", *args), monkeypatch, capsys)
        assert code == 0, err
        assert stored(sb) == expected  # every contact once
        if gone == "timeouts":
            assert again["in_doubt"]["found_in_store"] > 0


def test_undo_stops_once_when_the_api_cannot_be_reached(tmp_path):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(6), customers=3)
    with Sandbox(SandboxConfig(customers=3, rate_per_minute=None)) as sb:
        first = run_import([csv], store_id=sb.store_id, token=sb.token, api_url=sb.api_url,
                           report_dir=tmp_path / "r", quiet=True)  # fmt: skip
        store_id, token = sb.store_id, sb.token
    assert first.counts == {"created": 6}
    api_url = f"http://127.0.0.1:{closed_port()}/api/v3"
    undo = run_undo(first.summary["run_id"], store_id=store_id, token=token, api_url=api_url,
                    report_dir=tmp_path / "u", retries=1, quiet=True)  # fmt: skip
    assert undo.exit_code == 3
    assert undo.stopped is not None and undo.stopped.error_code == "api-unreachable"
    assert undo.stopped.message == f"cannot reach {api_url}: connection refused"


def test_liveness_with_a_fake_clock():
    now = [0.0]
    live = Liveness("https://api.example/v3", window_s=60, clock=lambda: now[0])
    live.sent()
    live.heard()
    for now[0] in (100, 130):  # a request and its retry, both refused
        live.sent()
        live.missed("connection refused")
    now[0] = 159.9
    assert live.gone() is None and live.unreachable() is None  # heard once: only the window stops it
    now[0] = 160
    assert "no answer from https://api.example/v3 for 60 s (last: connection refused)" in live.gone().message
    live.heard()
    assert live.gone() is None
    live.sent()
    live.missed("no answer in time (ReadTimeout)")  # a lost answer; then the run waits out the settle window
    now[0] = 300
    assert live.gone() is None  # nothing was asked meanwhile: our silence, not the API's
    live.sent()
    now[0] = 359
    assert live.gone() is None
    now[0] = 360
    assert live.gone() is not None  # a request out for the whole window, unanswered


def test_what_is_not_the_apis_answer():
    import httpx

    assert foreign(httpx.Response(200, json={"items": []})) == ""
    assert foreign(httpx.Response(403, json={"errorCode": "INVALID_API_TOKEN"})) == ""
    assert "HTML" in foreign(httpx.Response(200, text="<html><body>login</body></html>"))
    assert "redirect to portal.example" in foreign(httpx.Response(302, headers={"location": "http://portal.example/"}))
    assert "empty 503" in foreign(httpx.Response(503))
