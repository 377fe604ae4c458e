"""Issue 22: what the one client (importer.ecwid.client) gives every run for free, seen by a user.

A page of the customer list that cannot be read for good (an error page echoing the request's headers,
the token among them) stops the run cleanly: exit 3, a report, the token nowhere. `undo` stops, once,
on an API that cannot be reached, as `import` does. A bug's last line names no token.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from cli_support import VALID, VALID_ROWS, cli, results, statuses, summary
from exactly_once_helpers import write_csv
from importer.runs.pipeline import run_import
from importer.runs.undo import run_undo
from importer.sandbox import Sandbox, SandboxConfig
from test_wire_unreachable import closed_port

TOKEN = "secret_0123456789abcdefECHOED"


class _EchoingList(BaseHTTPRequestHandler):
    """A store of 250 customers whose list's first page reads, and whose later pages are a proxy's error
    page echoing the request's headers."""

    def do_GET(self):  # noqa: N802 - http.server's name
        offset = int(parse_qs(urlsplit(self.path).query).get("offset", ["0"])[0])
        if offset == 0:
            self._answer(200, "application/json", json.dumps({"total": 250, "count": 0, "items": []}).encode())
        else:
            echoed = "".join(f"<li>{k}: {v}</li>" for k, v in self.headers.items())
            self._answer(400, "text/html", f"<html><body><h1>Bad Request</h1><ul>{echoed}</ul></body></html>".encode())

    def _answer(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def echoing_list():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingList)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


def test_a_customer_list_page_that_fails_for_good_stops_the_run_with_a_report(tmp_path, monkeypatch, capsys,
                                                                               echoing_list):  # fmt: skip
    monkeypatch.setenv("ECWID_TOKEN", TOKEN)
    run = cli(capsys, "import", VALID, "--api-url", echoing_list, "--store-id", "5", "--report-dir", tmp_path / "r",
              "--journal", tmp_path / "j.sqlite", "--retries", "1")  # fmt: skip
    assert run.code == 3, run.err
    assert "internal error" not in run.err and "Traceback" not in run.err
    assert any(line.startswith("ecwid-contacts: stopped: the store's customer list could not be read (offset")
               and "HTTP 400" in line for line in run.err_lines), run.err  # fmt: skip
    assert statuses(results(tmp_path / "r")) == {"not_sent": VALID_ROWS}
    assert summary(tmp_path / "r")["stopped_code"] == "customer-lookup-failed"
    written = run.out + run.err + "".join(p.read_text() for p in (tmp_path / "r").rglob("*.*") if p.suffix != ".xlsx")
    assert TOKEN not in written and TOKEN[8:20] not in written


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


def test_a_bugs_last_line_names_no_token(tmp_path, monkeypatch, capsys):
    from importer.runs import remote

    def broken(*args, **kwargs):
        raise RuntimeError(f"a bug holding the header: Authorization: Bearer {TOKEN}")

    monkeypatch.setattr(remote, "send", broken)
    monkeypatch.setenv("ECWID_TOKEN", TOKEN)
    run = cli(capsys, "import", VALID, "--api-url", "http://127.0.0.1:9/api/v3", "--store-id", "5",
              "--report-dir", tmp_path / "r", "--no-journal", "--verbose")  # fmt: skip
    assert run.code == 1
    assert "ecwid-contacts: internal error: RuntimeError: a bug holding the header: Authorization: Bearer ***" in run.err
    assert TOKEN not in run.err and TOKEN[8:20] not in run.err
