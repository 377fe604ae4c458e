"""`undo RUN_ID` against the sandbox over HTTP: what a run created goes, nothing else does."""

from __future__ import annotations

import signal

import httpx
import pytest

from cli_support import read_csv
from exactly_once_helpers import start_cli, stored, wait_for, write_csv
from importer.errors import UsageError
from importer.runs.pipeline import run_import
from importer.runs.undo import run_undo
from importer.sandbox import Sandbox, SandboxConfig

FAST = 60_000  # requests a minute: the pacer never waits unless the sandbox says 429


def _common(sb: Sandbox, tmp_path) -> dict:
    return dict(store_id=sb.store_id, token=sb.token, api_url=sb.api_url, report_dir=tmp_path / "reports",
                rate=FAST, concurrency=6, quiet=True)  # fmt: skip


def _import(sb: Sandbox, csv, tmp_path, **kw):
    return run_import([csv], **{**_common(sb, tmp_path), **kw})


def _undo(sb: Sandbox, run_id: str, tmp_path, **kw):
    return run_undo(run_id, **{**_common(sb, tmp_path), **kw})


def _post(sb: Sandbox, cid: int, body: dict) -> None:
    url = f"{sb.api_url}/{sb.store_id}/customers/{cid}/contacts"
    httpx.post(url, json=body, headers={"Authorization": f"Bearer {sb.token}"}).raise_for_status()


def _put(sb: Sandbox, cid: int, contact_id: int, body: dict) -> None:
    url = f"{sb.api_url}/{sb.store_id}/customers/{cid}/contacts/{contact_id}"
    httpx.put(url, json=body, headers={"Authorization": f"Bearer {sb.token}"}).raise_for_status()


def _snapshot(sb: Sandbox) -> set:
    """The store's contacts without their ids and timestamps: what a person would compare. (Not orderBy: the
    files here send none, and the store numbers contacts in the order they arrive, concurrently.)"""
    return {(cid, c["type"], c["contact"], c.get("handle", ""), c.get("note", ""), c.get("default"))
            for cid, items in sb.all_contacts().items() for c in items}  # fmt: skip


def test_import_undo_import_gives_the_store_of_one_import(tmp_path):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(60))
    with Sandbox(SandboxConfig(customers=20, rate_per_minute=None)) as sb:
        first = _import(sb, csv, tmp_path)
        once = _snapshot(sb)
        undo = _undo(sb, first.summary["run_id"], tmp_path)
        assert stored(sb) == {}  # every contact the run created is gone
        again = _import(sb, csv, tmp_path)
        assert _snapshot(sb) == once and stored(sb) == expected
    assert first.counts == {"created": 60}
    assert undo.exit_code == 0 and undo.counts == {"deleted": 60} and undo.summary["already_gone"] == 0
    assert again.counts == {"created": 60}  # the journal let the same file send those rows again
    lines = read_csv(undo.report_path / "results.csv")
    assert [int(r["row"]) for r in lines] == list(range(2, 62))  # the rows of the file, in its order
    assert {r["status"] for r in lines} == {"deleted"}
    assert (undo.report_path / "summary.json").exists() and not (undo.report_path / "errors.csv").exists()


def test_undo_leaves_other_runs_and_hand_made_contacts_and_keeps_changed_ones(tmp_path):
    first_csv, second_csv = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(first_csv, range(0, 30), customers=5)
    theirs = write_csv(second_csv, range(30, 50), customers=5)
    with Sandbox(SandboxConfig(customers=5, rate_per_minute=None)) as sb:
        _post(sb, 1, {"type": "EMAIL", "contact": "by.hand@example.com", "note": "mine"})
        first = _import(sb, first_csv, tmp_path)
        # Made by hand after the run, with a value it sent (the store then holds it twice; an import
        # would not: it skips a contact the customer has).
        _post(sb, 5, {"type": "EMAIL", "contact": "person4@EXAMPLE.com", "note": "mine too"})
        second = _import(sb, second_csv, tmp_path)
        # A person edits one of the first run's contacts, and deletes another.
        edited = next(c for c in sb.contacts(2) if c["contact"] == "Person1@example.com")
        _put(sb, 2, edited["id"], {"note": "called, prefers phone"})
        gone = next(c for c in sb.contacts(3) if c["contact"] == "Person2@example.com")
        httpx.delete(f"{sb.api_url}/{sb.store_id}/customers/3/contacts/{gone['id']}",
                     headers={"Authorization": f"Bearer {sb.token}"}).raise_for_status()  # fmt: skip
        dry = _undo(sb, first.summary["run_id"], tmp_path, dry_run=True)
        assert len(stored(sb)) == 2 + 30 + 20 - 1  # a dry run deletes nothing
        undo = _undo(sb, first.summary["run_id"], tmp_path)
        left = stored(sb)
        forced = _undo(sb, first.summary["run_id"], tmp_path, force=True)
        after_force = stored(sb)
    assert second.counts == {"created": 20}
    assert dry.counts == {"valid": 28, "kept": 1, "deleted": 1}
    assert undo.counts == {"deleted": 29, "kept": 1} and undo.exit_code == 1
    assert undo.summary["already_gone"] == 1
    by_contact = {r["contact"]: r for r in read_csv(undo.report_path / "results.csv")}
    assert by_contact["Person1@example.com"]["status"] == "kept"
    assert by_contact["Person1@example.com"]["error_code"] == "changed-since"
    assert "note" in by_contact["Person1@example.com"]["error"]
    assert by_contact["Person2@example.com"]["error_code"] == "already-gone"
    assert [r["contact"] for r in read_csv(undo.report_path / "errors.csv")] == ["Person1@example.com"]
    # The second run's contacts, the hand-made ones and the edited one are all still there, once each.
    hand = {(1, "EMAIL", "by.hand@example.com"): 1, (5, "EMAIL", "person4@EXAMPLE.com"): 1}
    assert left == {**theirs, **hand, (2, "EMAIL", "Person1@example.com"): 1}
    assert [c.get("note") for c in sb.contacts(5) if c["contact"] == "person4@EXAMPLE.com"] == ["mine too"]
    # --force deletes the edited one too; what the first undo did is reported, not done again.
    assert forced.counts == {"deleted": 30} and forced.exit_code == 0
    assert after_force == {**theirs, **hand}


def test_undo_of_a_run_the_journal_does_not_know_is_a_usage_error(tmp_path):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(3))
    with Sandbox(SandboxConfig(customers=20, rate_per_minute=None)) as sb:
        _import(sb, csv, tmp_path)
        with pytest.raises(UsageError, match="not in the journal"):
            _undo(sb, "20200101-000000-0000", tmp_path)
        assert len(stored(sb)) == 3


def test_undo_killed_with_kill_9_then_rerun_deletes_each_contact_once_and_reports_every_row(tmp_path, monkeypatch):
    rows = 240
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(rows))
    reports = tmp_path / "reports"
    with Sandbox(SandboxConfig(customers=40, rate_per_minute=None)) as sb:
        run_id = _import(sb, csv, tmp_path).summary["run_id"]
        sb.set_fault(latency_ms=10, latency_dist="uniform")  # so the kill lands while DELETEs are in flight
        sb.reset_stats()
        args = ["undo", run_id, "--api-url", sb.api_url, "--store-id", str(sb.store_id), "--report-dir", str(reports),
                "--quiet", "--rate", "60000", "--concurrency", "4"]  # fmt: skip
        proc = start_cli(sb, args)
        wait_for(lambda: _deletes(sb) >= 60 or proc.poll() is not None)
        assert proc.poll() is None, "the undo finished before it could be killed: the test proved nothing"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
        wait_for(lambda: sb.stats.in_flight == 0)  # a DELETE that arrived before the kill still completes
        partial = rows - len(stored(sb))
        assert 60 <= partial < rows
        rerun = _undo(sb, run_id, tmp_path)
        deletes = [r for r in sb.requests if r.method == "DELETE" and r.status == 200]
        assert stored(sb) == {}
    assert len(deletes) == rows  # each contact deleted by exactly one DELETE, across both undos
    assert rerun.exit_code == 0 and rerun.counts == {"deleted": rows}
    lines = read_csv(rerun.report_path / "results.csv")
    assert len(lines) == rows and all(r["error_code"] != "already-gone" for r in lines)
    # What the killed undo deleted is reported as its work (finished, or its answer lost), not as already gone.
    assert sum("deleted by undo run" in r["error"] or "earlier attempt" in r["error"] for r in lines) == partial


def _deletes(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.method == "DELETE")


def test_customers_the_run_created_are_listed_and_deleted_only_when_asked_and_empty(tmp_path):
    csv = tmp_path / "crm.csv"
    csv.write_text("Customer Email,Type,Contact\n"
                   "new.one@example.com,phone,+14155550100\nnew.one@example.com,email,alt.one@example.com\n"
                   "new.two@example.com,phone,+14155550101\n"
                   "customer1@example.com,phone,+14155550102\n", encoding="utf-8")  # fmt: skip
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=None)) as sb:
        first = _import(sb, csv, tmp_path, create_customers=True)
        ids = {c.email: c.id for c in sb.state.customers()}
        _post(sb, ids["new.two@example.com"], {"type": "EMAIL", "contact": "two.by.hand@example.com"})
        listed = _undo(sb, first.summary["run_id"], tmp_path)
        assert len(sb.state.customers()) == 3 and stored(sb) == {(ids["new.two@example.com"], "EMAIL",
                                                                   "two.by.hand@example.com"): 1}
        deleting = _undo(sb, first.summary["run_id"], tmp_path, delete_customers=True)
        left = {c.email for c in sb.state.customers()}
        again = _import(sb, csv, tmp_path, create_customers=True)
    assert first.counts == {"created": 4} and first.summary["customers"]["created"] == 2
    assert listed.counts == {"deleted": 4} and listed.exit_code == 0
    assert {c["email"]: c["status"] for c in listed.summary["customers"]} == {
        "new.one@example.com": "kept", "new.two@example.com": "kept"}  # listed, not deleted, without the flag
    # new.two holds a contact someone else added: kept; new.one is empty: deleted. Customer 1 was never the run's.
    assert {c["email"]: c["status"] for c in deleting.summary["customers"]} == {
        "new.one@example.com": "deleted", "new.two@example.com": "kept"}
    assert left == {"customer1@example.com", "new.two@example.com"}
    # The journal forgot the deleted customer's id: the next run creates it again rather than use a dead id.
    assert again.counts == {"created": 4} and again.summary["customers"]["created"] == 1


def test_deletes_whose_answers_are_lost_or_fail_are_retried_and_each_contact_goes_once(tmp_path):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(40), customers=40)
    with Sandbox(SandboxConfig(customers=40, rate_per_minute=None, seed=3)) as sb:
        run_id = _import(sb, csv, tmp_path).summary["run_id"]
        sb.set_fault(cut_rate=0.25, fail_rate=0.1)  # DELETEs done then cut, and 5xx answers
        undo = _undo(sb, run_id, tmp_path, retries=8, concurrency=20)
        stats = sb.stats
        assert stored(sb) == {}
    assert stats.cuts > 3 and stats.faults > 3  # the trouble really happened
    assert undo.exit_code == 0 and undo.counts == {"deleted": 40}
    assert undo.summary["already_gone"] == 0  # a DELETE retried after a lost answer is ours, not "already gone"


def test_once_a_read_learnt_its_id_undo_does_not_take_a_look_alike_for_the_contact_the_run_created(tmp_path):
    csv = tmp_path / "contacts.csv"
    write_csv(csv, range(2), customers=1)  # customer 1: Person0@example.com, Person1@example.com
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=None)) as sb:
        run_id = _import(sb, csv, tmp_path).summary["run_id"]
        assert _undo(sb, run_id, tmp_path, dry_run=True).counts == {"valid": 2}  # a read: the journal learns ids
        # Someone deletes the run's Person0 and adds the same address again by hand.
        ours = next(c for c in sb.contacts(1) if c["contact"] == "Person0@example.com")
        httpx.delete(f"{sb.api_url}/{sb.store_id}/customers/1/contacts/{ours['id']}",
                     headers={"Authorization": f"Bearer {sb.token}"}).raise_for_status()  # fmt: skip
        _post(sb, 1, {"type": "EMAIL", "contact": "Person0@example.com"})
        undo = _undo(sb, run_id, tmp_path)
        left = stored(sb)
    assert undo.counts == {"deleted": 2} and undo.summary["already_gone"] == 1
    assert left == {(1, "EMAIL", "Person0@example.com"): 1}  # the one added by hand stays


def test_a_run_made_after_an_undo_of_the_same_contacts_is_undone_too(tmp_path):
    csv = tmp_path / "five.csv"
    write_csv(csv, range(5), customers=5)
    with Sandbox(SandboxConfig(customers=5, rate_per_minute=None)) as sb:
        first = _undo(sb, _import(sb, csv, tmp_path).summary["run_id"], tmp_path)  # the undo's read learns the ids
        again = _import(sb, csv, tmp_path)
        dry = _undo(sb, again.summary["run_id"], tmp_path, dry_run=True)
        second = _undo(sb, again.summary["run_id"], tmp_path)
        left = stored(sb)
    assert first.counts == {"deleted": 5} and again.counts == {"created": 5}
    assert dry.counts == {"valid": 5} and dry.summary["already_gone"] == 0
    assert second.counts == {"deleted": 5} and second.summary["already_gone"] == 0
    assert left == {}  # the second run's contacts are gone from the store, not only marked deleted


def test_undo_summary_has_the_rate_used_the_files_and_why_it_stopped_like_an_import_summary(tmp_path):
    import json

    csv = tmp_path / "five.csv"
    write_csv(csv, range(5), customers=5)
    with Sandbox(SandboxConfig(customers=5, rate_per_minute=None)) as sb:
        run = _import(sb, csv, tmp_path)
        refused = _undo(sb, run.summary["run_id"], tmp_path, token="secret_wrong_token_19ab")
        undo = _undo(sb, run.summary["run_id"], tmp_path)
    imported = json.loads((run.report_path / "summary.json").read_text(encoding="utf-8"))
    written = json.loads((undo.report_path / "summary.json").read_text(encoding="utf-8"))
    stopped = json.loads((refused.report_path / "summary.json").read_text(encoding="utf-8"))
    shared = ("files", "rate_per_minute", "concurrency", "retries", "requests", "rate_limited",
              "achieved_rate_per_minute", "stopped", "stopped_code", "exit_code", "elapsed_s", "report_files")
    assert [k for k in shared if k in imported and k not in written] == []
    assert written["files"] == [str(csv)] == imported["files"]
    assert written["rate_per_minute"] == imported["rate_per_minute"] == FAST
    assert written["achieved_rate_per_minute"] > 0 and written["stopped_code"] is None
    assert refused.exit_code == 3 and stopped["stopped_code"] == refused.stopped.error_code == "INVALID_API_TOKEN" and stopped["exit_code"] == 3


def test_a_contact_updated_then_undone_and_imported_again_is_undone_again(tmp_path):
    csv = tmp_path / "one.csv"
    with Sandbox(SandboxConfig(customers=1, rate_per_minute=None)) as sb:
        csv.write_text("customerId,type,contact,note\n1,email,a@example.com,one\n", encoding="utf-8")
        first = _import(sb, csv, tmp_path)
        csv.write_text("customerId,type,contact,note\n1,email,a@example.com,two\n", encoding="utf-8")
        updated = _import(sb, csv, tmp_path, update=True)  # the journal keeps the id the update reached
        _undo(sb, first.summary["run_id"], tmp_path)
        again = _import(sb, csv, tmp_path)
        undo = _undo(sb, again.summary["run_id"], tmp_path)
        left = stored(sb)
    assert updated.counts == {"updated": 1} and again.counts == {"created": 1}
    assert undo.counts == {"deleted": 1} and undo.summary["already_gone"] == 0 and left == {}
