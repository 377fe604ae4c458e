"""--update against the sandbox over HTTP: exactly the rows whose fields changed are updated, once."""

from __future__ import annotations

import json

import httpx

from importer.runs.pipeline import run_import
from importer.sandbox import Sandbox, SandboxConfig

FAST = 60_000
HEADER = "customerId,type,contact,note,default,orderBy\n"
ROWS = {  # (customer, type, contact): note, default, orderBy as the file writes them
    (1, "email", "ann@example.com"): ("first", "true", "0"),
    (1, "phone", "+14155550100"): ("", "", "1"),
    (1, "phone", "+14155550101"): ("", "true", "2"),
    (2, "email", "bob@example.com"): ("b", "", ""),
    (2, "email", "bob@work.example.com"): ("", "", ""),
    (3, "email", "cy@example.com"): ("vip", "", "0"),
}


def _write(path, rows: dict) -> None:
    lines = [f'{c},{t},{v},"{n}",{d},{o}' for (c, t, v), (n, d, o) in rows.items()]
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")


def _import(sb: Sandbox, csv, tmp_path, **kw):
    options = dict(store_id=sb.store_id, token=sb.token, api_url=sb.api_url, report_dir=tmp_path / "reports",
                   rate=FAST, concurrency=4, quiet=True)  # fmt: skip
    return run_import([csv], **{**options, **kw})


def _store(sb: Sandbox) -> dict:
    return {(cid, c["contact"]): (c.get("note", ""), c["default"], c["orderBy"])
            for cid, items in sb.all_contacts().items() for c in items}  # fmt: skip


def _by_contact(result) -> dict:
    return {r.contact: r.outcome for r in result.records}


def test_update_changes_exactly_the_rows_whose_fields_differ_and_a_second_run_updates_nothing(tmp_path):
    csv = tmp_path / "contacts.csv"
    _write(csv, ROWS)
    with Sandbox(SandboxConfig(customers=3, rate_per_minute=None)) as sb:
        assert _import(sb, csv, tmp_path).counts == {"created": 6}
        changed = dict(ROWS)
        changed[(1, "email", "ann@example.com")] = ("first, moved to Berlin", "true", "0")  # note
        changed[(1, "phone", "+14155550100")] = ("", "true", "1")  # becomes the default phone ...
        changed[(1, "phone", "+14155550101")] = ("", "false", "2")  # ... instead of this one
        changed[(3, "email", "cy@example.com")] = ("vip", "", "5")  # order
        changed[(2, "email", "new@example.com")] = ("", "", "")  # a new row: created as usual
        _write(csv, changed)
        sb.reset_stats()
        first = _import(sb, csv, tmp_path, update=True)
        puts = [r for r in sb.requests if r.method == "PUT"]
        store = _store(sb)
        sb.reset_stats()
        second = _import(sb, csv, tmp_path, update=True)
        assert sb.stats.requests == 0  # compared with the journal in memory: nothing read, nothing sent
    assert first.counts == {"updated": 4, "created": 1, "skipped": 2} and first.exit_code == 0
    outcomes = _by_contact(first)
    assert {c for c, o in outcomes.items() if o.status == "updated"} == {
        "ann@example.com", "+14155550100", "+14155550101", "cy@example.com"}
    assert "note 'first' → 'first, moved to Berlin'" in outcomes["ann@example.com"].error
    assert len(puts) == 4 and all(r.status == 200 for r in puts)
    # the whole contact as the store had it, the note changed: right whether a PUT keeps unsent fields or not
    assert json.loads(next(r.body for r in puts if "moved" in r.body)) == {
        "type": "EMAIL", "contact": "ann@example.com", "handle": "", "note": "first, moved to Berlin",
        "default": True, "orderBy": 0}
    assert store[(1, "ann@example.com")] == ("first, moved to Berlin", True, 0)
    assert store[(1, "+14155550100")][1] is True and store[(1, "+14155550101")][1] is False
    assert store[(3, "cy@example.com")] == ("vip", False, 5)
    assert store[(2, "bob@example.com")][0] == "b"
    assert second.counts == {"skipped": 7} and second.exit_code == 0
    assert "results.csv" in first.summary["report_files"]
    assert "updated" in (first.report_path / "results.csv").read_text(encoding="utf-8-sig")


def test_update_reaches_contacts_made_elsewhere_and_keeps_hand_edits_the_source_did_not_make(tmp_path):
    csv = tmp_path / "contacts.csv"
    _write(csv, ROWS)
    with Sandbox(SandboxConfig(customers=3, rate_per_minute=None)) as sb:
        auth = {"Authorization": f"Bearer {sb.token}"}
        base = f"{sb.api_url}/{sb.store_id}/customers"
        # Bob's first email was added by hand before any import, with another note.
        httpx.post(f"{base}/2/contacts", json={"type": "EMAIL", "contact": "bob@EXAMPLE.com", "note": "old"},
                   headers=auth).raise_for_status()  # fmt: skip
        first = _import(sb, csv, tmp_path, update=True)
        assert _store(sb)[(2, "bob@EXAMPLE.com")][0] == "b"  # updated from the store's copy, not created twice
        # Someone edits Cy's note in Ecwid; the source still says "vip".
        cy = next(c for c in sb.contacts(3) if c["contact"] == "cy@example.com")
        httpx.put(f"{base}/3/contacts/{cy['id']}", json={"note": "vip, call first"}, headers=auth).raise_for_status()
        dry = _import(sb, csv, tmp_path, update=True, dry_run=True)
        sb.reset_stats()
        second = _import(sb, csv, tmp_path, update=True)
        store = _store(sb)
    assert first.counts == {"created": 5, "updated": 1}
    assert _by_contact(first)["bob@example.com"].status == "updated"
    # The dry run compares with the store: it says what it would update (Cy's note, edited by hand).
    would = {c: o.error for c, o in _by_contact(dry).items() if "would update" in o.error}
    assert list(would) == ["cy@example.com"] and "'vip, call first' → 'vip'" in would["cy@example.com"]
    assert dry.counts == {"valid": 1, "skipped": 5}
    # The real run compares with what was sent: the source did not change, so the hand edit stays.
    assert second.counts == {"skipped": 6} and store[(3, "cy@example.com")][0] == "vip, call first"
    assert sb.stats.requests == 1  # one read: Bob's contact is known only by the store


def test_update_needs_its_scope_and_says_so(tmp_path):
    csv = tmp_path / "contacts.csv"
    _write(csv, ROWS)
    scopes = frozenset({"read_customers", "create_customers"})
    with Sandbox(SandboxConfig(customers=3, rate_per_minute=None, scopes=scopes)) as sb:
        _import(sb, csv, tmp_path)
        _write(csv, {**ROWS, (3, "email", "cy@example.com"): ("vip!", "", "0")})
        result = _import(sb, csv, tmp_path, update=True)
    assert result.exit_code == 3 and "update_customers" in result.stopped.message
    assert result.counts == {"skipped": 5, "not_sent": 1}


def test_update_after_an_undo_and_a_new_import_puts_to_the_new_contact_at_once(tmp_path):
    from importer.runs.undo import run_undo

    csv = tmp_path / "contacts.csv"
    rows = {k: v for k, v in ROWS.items() if k[0] == 3}
    _write(csv, rows)
    with Sandbox(SandboxConfig(customers=3, rate_per_minute=None)) as sb:
        first = _import(sb, csv, tmp_path)
        run_undo(first.summary["run_id"], store_id=sb.store_id, token=sb.token, api_url=sb.api_url,
                 report_dir=tmp_path / "reports", rate=FAST, quiet=True)  # its read learns the contact's id
        assert _import(sb, csv, tmp_path).counts == {"created": 1}  # a new contact, a new id
        _write(csv, {(3, "email", "cy@example.com"): ("vip, now gold", "", "0")})
        sb.reset_stats()
        updated = _import(sb, csv, tmp_path, update=True)
        puts = [r for r in sb.requests if r.method == "PUT"]
        store = _store(sb)
    assert updated.counts == {"updated": 1}
    assert [r.status for r in puts] == [200]  # not first to the undone contact's id (404)
    assert store == {(3, "cy@example.com"): ("vip, now gold", False, 0)}
