"""The page without a browser (httpx against the app): its key, its token, its limits, its results."""

from __future__ import annotations

import asyncio
import html
import json
import logging

import httpx
import pytest
from cli_support import SAMPLES, cli
from ui_support import KEY, WITH_MISTAKES, new_session

from importer.input.limits import MAX_COLUMNS
from importer.sandbox import Sandbox, SandboxConfig
from importer.ui.app import create_app
from importer.ui.session import Target

ROUTES = [("GET", "/"), ("POST", "/upload"), ("POST", "/remove"), ("POST", "/mapping"), ("GET", "/mapping.csv"),
          ("POST", "/send"), ("POST", "/stop"), ("POST", "/undo"), ("GET", "/events"),
          ("GET", "/files/check/x/results.csv"), ("GET", "/files/report/x/results.csv"), ("GET", "/static/ui.js"),
          ("GET", "/static/ui.css"), ("POST", "/options"), ("GET", "/no-such-page")]  # fmt: skip


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


async def _events(client) -> list[dict]:
    """The /events stream of the running job, to its end (the stream ends with the run)."""
    response = await client.get(f"/events?key={KEY}", timeout=60)
    return [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {\"")]


def _upload(name: str, data: str | bytes) -> dict:
    return {"files": (name, data.encode() if isinstance(data, str) else data)}


def test_every_route_needs_the_session_key(tmp_path):
    app = create_app(new_session(tmp_path), KEY)

    async def main():
        async with _client(app) as client:
            for method, path in ROUTES:
                for query in ("", "?key=", f"?key={KEY[:-1]}", f"?key={KEY}x", "?KEY=" + KEY):
                    response = await client.request(method, path + query)
                    assert response.status_code == 403, (method, path, query)
                    assert KEY not in response.text
                # The key from another host name (DNS rebinding) is refused too.
                other = await client.request(method, f"{path}?key={KEY}", headers={"Host": "evil.example:8000"})
                assert other.status_code == 403, (method, path)
            page = await client.get(f"/?key={KEY}")
            assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
            assert "default-src 'none'" in page.headers["content-security-policy"]

    asyncio.run(main())


def test_the_token_never_appears_in_a_page_or_an_event(tmp_path, caplog):
    token = "secret_page_test_token_4f7c2a"
    caplog.set_level(logging.DEBUG)
    people = [{"id": 1001, "email": "ana@example.com"}, {"id": 1002, "email": "bruno@example.com"},
              {"id": 1003, "email": "carla@example.com"}]  # the file's customers, as the store knows them
    with Sandbox(SandboxConfig(token=token, customers=people, rate_per_minute=None)) as sb:
        session = new_session(tmp_path, Target(store_id=sb.store_id, token=token, api_url=sb.api_url,
                                               source="ECWID_TOKEN"))  # fmt: skip
        app = create_app(session, KEY)

        async def main() -> list[str]:
            seen = []
            async with _client(app) as client:
                seen.append((await client.post(f"/upload?key={KEY}", files=_upload("crm.csv", WITH_MISTAKES))).text)
                seen.append((await client.get(f"/?key={KEY}")).text)
                sent = await client.post(f"/send?key={KEY}", data={"target": "store", "mode": "direct"})
                assert sent.status_code == 303
                events = await _events(client)
                seen.extend(json.dumps(e) for e in events)
                page = (await client.get(f"/?key={KEY}")).text
                seen.append(page)
                for path in ("/mapping.csv", "/static/ui.js"):
                    seen.append((await client.get(f"{path}?key={KEY}")).text)
                created = session.jobs.current.result.counts["created"]
                assert events[-1]["running"] is False and events[-1]["counts"] == {"created": created}
                assert [e["done"] for e in events] == sorted(e["done"] for e in events)
                assert "Store 1003: its token comes from ECWID_TOKEN" in page and "Done: 100 %" in page
            return seen

        seen = asyncio.run(main())
        session.close()
    assert sum(len(s) for s in seen) > 10_000
    assert not [s for s in seen if token in s]
    assert token not in caplog.text


def test_an_upload_over_the_limits_is_refused_with_the_clis_message(tmp_path, capsys, monkeypatch):
    wide = tmp_path / "wide.csv"
    wide.write_text("Customer ID," + ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n1001\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the CLI given the name alone names it so, as the page names an upload
    run = cli(capsys, "import", wide.name, "--dry-run", "--report-dir", tmp_path / "cli")
    assert run.code == 2
    message = run.err_lines[-1].removeprefix("ecwid-contacts: error: ")
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files=_upload("wide.csv", wide.read_bytes()))
            page = html.unescape((await client.get(f"/?key={KEY}")).text)
            assert message in page and "columns" in message
            # A body past the upload bound is refused as it arrives, and nothing of it is kept.
            monkeypatch.setattr("importer.ui.workspace.MAX_UPLOAD_BYTES", 1000)
            await client.post(f"/upload?key={KEY}", files=_upload("big.csv", "Customer ID,Email\n" + "1,a@b.c\n" * 500))
            page = html.unescape((await client.get(f"/?key={KEY}")).text)
            assert "the upload is larger than 1,000 bytes, the most the loader reads: not kept" in page
            assert [p.name for p in session.ws.files] == ["wide.csv"]

    asyncio.run(main())


def test_a_dry_run_through_the_page_gives_the_clis_results_csv(tmp_path, capsys, monkeypatch):
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".csv", ".xlsx"))
    monkeypatch.chdir(SAMPLES)  # the CLI given the names alone: its `file` column is the name, as the page's
    run = cli(capsys, "import", *(p.name for p in files), "--dry-run", "--report-dir", tmp_path / "cli", "--quiet")
    assert run.code in (0, 1), run.err
    (cli_results,) = (tmp_path / "cli").glob("*/results.csv")
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files=[("files", (p.name, p.read_bytes())) for p in files])
            folder = session.ws.result.report_path.name
            page = await client.get(f"/files/check/{folder}/results.csv?key={KEY}")
            return page.text

    page_lines = asyncio.run(main()).splitlines()
    cli_lines = cli_results.read_text(encoding="utf-8-sig").splitlines()
    header, *rows = cli_lines
    uploads = str(session.ws.uploads) + "/"
    assert page_lines[0].lstrip("\ufeff") == header and len(rows) > 100
    assert [line.replace(uploads, "") for line in page_lines[1:]] == rows


def test_a_sample_into_the_sandbox_in_two_actions(tmp_path):
    """Choose the files (one action: they are uploaded and checked), press Send: the report.
    (All of sample_data/ goes the same way; one file keeps the suite quick.)"""
    files = [SAMPLES / "contacts_valid.csv"]
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files=[("files", (p.name, p.read_bytes())) for p in files])
            await client.post(f"/send?key={KEY}", data={"target": "sandbox", "mode": "direct", "rate": "100000"})
            await _events(client)
            return html.unescape((await client.get(f"/?key={KEY}")).text)

    page = asyncio.run(main())
    result = session.jobs.current.result
    session.close()
    assert result.exit_code in (0, 1) and result.counts["created"] == 63
    assert "Done: 100 %" in page and f"Run {result.summary['run_id']}" in page
    assert (tmp_path / "reports" / result.summary["run_id"] / "results.csv").is_file()


@pytest.mark.parametrize("text", ["0", "-5", "fast", "inf"])
def test_a_bad_rate_is_said_in_the_page_and_nothing_starts(tmp_path, text):
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files=_upload("crm.csv", WITH_MISTAKES))
            await client.post(f"/send?key={KEY}", data={"target": "sandbox", "rate": text})
            return html.unescape((await client.get(f"/?key={KEY}")).text)

    page = asyncio.run(main())
    assert f"requests per minute: expected a positive number, got {text!r}" in page and session.jobs.current is None
