"""The page's import options (httpx against the app): each reaches the run as the CLI's flag does."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import openpyxl
from cli_support import cli
from ui_support import KEY, new_session

from importer.sandbox import Sandbox, SandboxConfig
from importer.ui.app import create_app
from importer.ui.choices import REGIONS

LOCAL_PHONES = "Customer ID,Email,Mobile\n1001,ana@example.com,912345678\n1002,bruno@example.com,+351912345679\n"
NEW_PEOPLE = "Email,Mobile,First Name\nnia@example.com,+351912345670,Nia\nrui@example.com,+351912345671,Rui\n"


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


async def _page(client) -> str:
    return html.unescape((await client.get(f"/?key={KEY}")).text)


async def _sent(client, **form) -> None:
    """Send to the page's sandbox and wait for the run's end (its event stream ends with it)."""
    await client.post(f"/send?key={KEY}", data={"target": "sandbox", "rate": "100000", **form})
    await client.get(f"/events?key={KEY}", timeout=60)


def _rows(text: str) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    for row in rows:  # the page's copy of a file sits in its own folder: the same name, another path
        row["file"] = Path(row["file"]).name
    return rows


def _cli_rows(capsys, tmp_path, monkeypatch, name: str, text: str | None, *flags) -> list[dict]:
    folder = tmp_path / "cli-files"
    folder.mkdir(exist_ok=True)
    if text is not None:
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(folder)  # the CLI given the name alone: its `file` column is the name, as the page's
    report = tmp_path / f"cli-{len(list(tmp_path.glob('cli-*')))}"
    run = cli(capsys, "import", name, *flags, "--report-dir", report, "--quiet")
    assert run.code in (0, 1), run.err
    (results,) = report.glob("*/results.csv")
    return _rows(results.read_text(encoding="utf-8"))


def _undated(rows: list[dict]) -> list[dict]:
    """Rows with the run ids and times their messages name (another run's) left out."""
    when = re.compile(r"\d{8}-\d{6}-\w+|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}")
    return [{**r, "error": when.sub("…", r["error"])} for r in rows]


class _Controls(HTMLParser):
    """The form controls a person uses (not hidden, not buttons), and whether each has a label."""

    def __init__(self):
        super().__init__()
        self.controls, self.labelled_ids, self.open_labels = [], set(), 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            self.labelled_ids.add(a.get("for"))
        elif tag in ("input", "select") and a.get("type") not in ("hidden", "submit"):
            self.controls.append((a.get("name"), a.get("id"), self.open_labels > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1


def test_a_region_and_match_by_reach_the_check_as_the_clis_flags(tmp_path, capsys, monkeypatch):
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            empty = await _page(client)
            await client.post(f"/upload?key={KEY}", files={"files": ("crm.csv", LOCAL_PHONES.encode())})
            before = dict(session.ws.result.counts)
            await client.post(f"/options?key={KEY}", data={"phone_region": "PT", "match_by": "email"})
            page = await _page(client)
            folder = session.ws.result.report_path.name
            results = (await client.get(f"/files/check/{folder}/results.csv?key={KEY}")).text
            for bad, said in (({"phone_region": "XX"}, "--phone-region 'XX' is not a region code like US, DE or GB"),
                              ({"match_by": "name"}, "--match-by: expected id or email, got 'name'")):
                await client.post(f"/options?key={KEY}", data=bad)
                assert said in await _page(client)
            return empty, page, before, results

    empty, page, before, results = asyncio.run(main())
    assert before == {"valid": 3, "invalid": 1}  # 912345678: no +country code, no region
    assert session.ws.result.counts == {"valid": 4} and session.ws.choices.phone_region == "PT"
    assert "From a terminal: <code>ecwid-contacts import crm.csv --dry-run --phone-region PT --match-by email" in page
    assert "Portugal (PT)" in page and len(REGIONS) > 200 and "Portugal (PT)" not in empty  # the first load stays small
    rows = _rows(results)
    assert [r["contact"] for r in rows if r["type"] == "PHONE"] == ["+351912345678", "+351912345679"]
    assert {r["customer_email"] for r in rows} == {"ana@example.com", "bruno@example.com"}  # found by email
    assert {r["customer_id"] for r in rows} == {""}
    assert rows == _cli_rows(capsys, tmp_path, monkeypatch, "crm.csv", LOCAL_PHONES, "--dry-run",
                             "--phone-region", "PT", "--match-by", "email")  # fmt: skip
    # Every control a person uses has a label a screen reader says.
    controls = _Controls()
    controls.feed(page)
    names = {name for name, _, _ in controls.controls}
    assert {"phone_region", "match_by", "create_customers", "update"} <= names
    assert all(inside or id_ in controls.labelled_ids for _, id_, inside in controls.controls), controls.controls
    session.close()


def test_create_customers_creates_them_in_the_pages_sandbox_as_the_cli_does(tmp_path, capsys, monkeypatch):
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files={"files": ("people.csv", NEW_PEOPLE.encode())})
            await _sent(client, create_customers="yes")
            page = await _page(client)
            result = session.jobs.current.result
            link = f"/files/report/{result.report_path.name}/results.csv?key={KEY}"
            results = (await client.get(link)).text
            # Undo it from the page: its progress says what it deletes, not what it "created".
            await client.post(f"/undo?key={KEY}", data={"run_id": result.summary["run_id"], "target": "sandbox"})
            await client.get(f"/events?key={KEY}", timeout=60)
            checked = session.jobs.current.state()["line"]
            await client.post(f"/undo?key={KEY}", data={"run_id": result.summary["run_id"], "target": "sandbox",
                                                        "confirm": "yes"})  # fmt: skip
            events = (await client.get(f"/events?key={KEY}", timeout=60)).text
            return page, result, results, checked, events

    page, result, results, checked, events = asyncio.run(main())
    people = {c.email: c.name for c in session._sandbox.state.customers()}
    session.close()
    assert result.counts == {"created": 4} and result.summary["customers"]["created"] == 2
    assert people == {"nia@example.com": "Nia", "rui@example.com": "Rui"}  # made by the run, named by the file
    assert "--create-customers" in page and 'id="create-customers" name="create_customers" value="yes" checked' in page
    assert _rows(results) == _cli_rows(capsys, tmp_path, monkeypatch, "people.csv", NEW_PEOPLE, "--sandbox",
                                       "--create-customers")  # fmt: skip
    assert checked.startswith("checked 4/4 rows: 4 to delete, 0 kept, 0 failed")
    lines = [json.loads(e[6:])["line"] for e in events.splitlines() if e.startswith('data: {"')]
    assert lines[-1].startswith("undone 4/4 rows: 4 deleted, 0 kept, 0 failed") and "created" not in "".join(lines)


def test_update_changes_a_note_the_store_has_as_the_cli_does(tmp_path, capsys, monkeypatch):
    first = "Customer ID,Type,Contact,Note\n1001,email,ana@example.com,first buyer\n1001,phone,+351912345678,\n"
    changed = first.replace("first buyer", "VIP")
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files={"files": ("notes.csv", first.encode())})
            await _sent(client)
            await client.post(f"/upload?key={KEY}", files={"files": ("notes.csv", changed.encode())})
            await _sent(client)  # without --update: a changed note is said, not sent
            plain = session.jobs.current.result
            await _sent(client, update="yes")
            result = session.jobs.current.result
            link = f"/files/report/{result.report_path.name}/results.csv?key={KEY}"
            return plain, result, (await client.get(link)).text

    plain, result, results = asyncio.run(main())
    notes = {c["contact"]: c.get("note", "") for c in session._sandbox.state.contacts(1001)}
    session.close()
    assert plain.counts == {"skipped": 2} and result.counts == {"updated": 1, "skipped": 1}
    assert notes["ana@example.com"] == "VIP"
    # The CLI with the same flags, into a store holding the same customer: the same rows.
    with Sandbox(SandboxConfig(customers=[{"id": 1001, "email": "ana@example.com"}], rate_per_minute=None)) as sb:
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        store = ("--store-id", sb.store_id, "--api-url", sb.api_url, "--journal", tmp_path / "cli.sqlite")
        _cli_rows(capsys, tmp_path, monkeypatch, "notes.csv", first, *store)
        cli_rows = _cli_rows(capsys, tmp_path, monkeypatch, "notes.csv", changed, *store, "--update")
    assert [r["status"] for r in cli_rows] == ["updated", "skipped"] and _undated(_rows(results)) == _undated(cli_rows)


def test_the_sheets_of_a_workbook_are_picked_as_with_sheet(tmp_path, capsys, monkeypatch):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Shop A"
    first.append(["Customer ID", "Email"])
    first.append([1001, "ana@example.com"])
    second = book.create_sheet("Shop B")
    second.append(["Customer ID", "Email"])
    second.append([1002, "bruno@example.com"])
    second.append([1003, "carla@example.com"])
    path = tmp_path / "cli-files" / "shops.xlsx"
    path.parent.mkdir()
    book.save(path)
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files={"files": ("shops.xlsx", path.read_bytes())})
            both = await _page(client)
            await client.post(f"/options?key={KEY}", data={"sheet": "Shop B"})
            page = await _page(client)
            folder = session.ws.result.report_path.name
            results = (await client.get(f"/files/check/{folder}/results.csv?key={KEY}")).text
            await client.post(f"/options?key={KEY}", data={})
            return both, page, results, await _page(client)

    both, page, results, none = asyncio.run(main())
    session.close()
    assert session.ws.sheets_offered == ["Shop A", "Shop B"] and session.ws.choices.sheets == ("Shop B",)
    assert both.count('type="checkbox" name="sheet"') == 2 and "Sheets to read" in both
    assert "--dry-run --sheet 'Shop B'" in page and session.ws.result.counts == {"valid": 2}
    assert "choose at least one sheet to read" in none
    assert _rows(results) == _cli_rows(capsys, tmp_path, monkeypatch, "shops.xlsx", None, "--dry-run",
                                       "--sheet", "Shop B")  # fmt: skip


def test_a_workbook_whose_default_reading_is_refused_offers_its_sheets(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Raw"
    for row in (["Type", "Contact", "Phone"], ["EMAIL", "ana@example.com", "+14155550101"]):
        book.active.append(row)  # long and wide at once: the import refuses the default reading
    contacts = book.create_sheet("Contacts")
    for row in (["Customer ID", "Email"], [1002, "bruno@example.com"]):
        contacts.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)
    session = new_session(tmp_path)
    app = create_app(session, KEY)

    async def main():
        async with _client(app) as client:
            await client.post(f"/upload?key={KEY}", files={"files": ("book.xlsx", path.read_bytes())})
            refused = await _page(client)
            await client.post(f"/options?key={KEY}", data={"sheet": "Contacts"})
            return refused, await _page(client)

    refused, page = asyncio.run(main())
    session.close()
    assert "both long (Type, Contact) and wide columns" in refused and "Sheets to read" in refused
    assert refused.count('type="checkbox" name="sheet"') == 2 and session.ws.sheets_offered == ["Raw", "Contacts"]
    assert "--dry-run --sheet Contacts" in page and session.ws.error is None
    assert session.ws.result.counts == {"valid": 1}
