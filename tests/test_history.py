"""What the journal records for undo and --update (importer.journal.sent, importer.journal.undolist), and how contacts are compared
(importer.checks.contactfields): pure functions and a real SQLite journal, no HTTP."""

from __future__ import annotations

import pytest

from importer import journal as states
from importer.checks.contactfields import changed_since, differences, pick
from importer.journal import UPDATE, Journal
from importer.records import ContactRecord, Source

STORE = 1003


def _record(i: int, contact: str, **fields) -> ContactRecord:
    return ContactRecord(index=i, source=Source("a.csv", "", i + 2), customer_id=7, customer_email=None,
                         type="EMAIL", contact=contact, **fields)  # fmt: skip


@pytest.mark.parametrize(
    "wanted, have, changes",
    [
        ({"note": "vip"}, {"note": "vip"}, {}),
        ({"note": "vip"}, {}, {"note": "vip"}),
        ({}, {"note": "set by hand"}, {}),  # a blank cell clears nothing
        ({"default": False}, {}, {}),  # unset default is false
        ({"default": True, "orderBy": 2}, {"default": True, "orderBy": 1}, {"orderBy": 2}),
        ({"handle": "shop"}, {"handle": None}, {"handle": "shop"}),
    ],
)
def test_differences_are_the_fields_the_row_gives_that_the_baseline_lacks(wanted, have, changes):
    assert differences(wanted, have) == changes


@pytest.mark.parametrize(
    "item, changed",
    [
        ({"type": "EMAIL", "contact": "ann@example.com", "note": "x", "orderBy": 4}, []),  # orderBy: the store's
        ({"type": "EMAIL", "contact": "ann@EXAMPLE.com", "note": "x"}, []),  # the same value, written otherwise
        ({"type": "EMAIL", "contact": "ANN@example.com", "note": "x"}, []),  # a store that keeps emails in its case
        ({"type": "EMAIL", "contact": "ann@example.com", "note": "y"}, ["note"]),
        ({"type": "EMAIL", "contact": "ann@example.com", "note": "x", "handle": "ann"}, ["handle"]),
        ({"type": "EMAIL", "contact": "ann@example.com", "note": "x", "default": True}, ["default"]),
        ({"type": "EMAIL", "contact": "anne@example.com", "note": "x"}, ["contact"]),  # edited under our id
    ],
)
def test_changed_since_compares_what_was_sent_and_what_was_left_unset(item, changed):
    sent = {"type": "EMAIL", "contact": "ann@example.com", "note": "x"}
    assert changed_since(item, sent) == changed


def test_pick_prefers_our_id_then_an_unchanged_copy_then_the_newest():
    items = [{"id": 1, "type": "EMAIL", "contact": "a@example.com", "note": "mine"},
             {"id": 2, "type": "EMAIL", "contact": "a@EXAMPLE.com"},
             {"id": 3, "type": "EMAIL", "contact": "a@example.com", "note": "edited"}]  # fmt: skip
    sent = {"type": "EMAIL", "contact": "a@example.com"}
    assert pick(items, "EMAIL", "a@example.com", contact_id=3, sent=sent)["id"] == 3
    assert pick(items, "EMAIL", "a@example.com", sent=sent)["id"] == 2
    assert pick(items, "EMAIL", "a@example.com", sent=sent, taken={2})["id"] == 3
    assert pick(items, "PHONE", "a@example.com") is None


def test_a_journal_from_before_undo_opens_and_its_runs_are_kept_as_sent_unknown(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path, STORE, "old-run") as j:  # as an older version wrote it: no `sent`, no `undo_rows`
        j.note([("7", "EMAIL", "a@example.com")], states.CREATED)
    with Journal(path, STORE, "undo") as j:
        rows = j.undo_rows("old-run")
    assert [(r.key, r.state, r.body) for r in rows] == [(("7", "EMAIL", "a@example.com"), "pending", None)]


def test_intents_are_on_record_before_sending_and_never_replace_what_an_update_wrote(tmp_path):
    a, b = _record(0, "a@example.com", note="one"), _record(1, "b@example.com", note="one")
    with Journal(tmp_path / "j.sqlite", STORE, "run-1") as j:
        h = j
        h.record_intents([a, b])
        h.record_updates([(b.key, {"type": "EMAIL", "contact": "b@example.com", "note": "two"}, 55)])
        h.record_intents([replace_note(a, "three"), replace_note(b, "three")])
        sent = h.sent([a.key, b.key])
    assert sent[a.key].body["note"] == "three" and sent[a.key].contact_id is None
    assert (sent[b.key].body["note"], sent[b.key].origin) == ("two", UPDATE)
    assert sent[b.key].contact_id is None  # 55 was the contact the update reached: a new create is another


def test_reads_teach_the_journal_ids_and_a_new_default_demotes_the_old_on_record(tmp_path):
    a, b = _record(0, "a@example.com", default=True), _record(1, "b@example.com")
    with Journal(tmp_path / "j.sqlite", STORE, "run-1") as j:
        h = j
        h.record_intents([a, b])
        h.learn_ids(7, [{"id": 90, "type": "EMAIL", "contact": "A@example.com"},  # not ours: another value
                        {"id": 91, "type": "EMAIL", "contact": "a@EXAMPLE.com", "default": True},
                        {"id": 92, "type": "PHONE", "contact": "b@example.com"}])  # fmt: skip
        h.demote_defaults(b.key)
        sent = h.sent([a.key, b.key])
    assert sent[a.key].contact_id == 91 and sent[b.key].contact_id is None
    assert sent[a.key].body["default"] is False


def replace_note(record: ContactRecord, note: str) -> ContactRecord:
    from dataclasses import replace

    return replace(record, note=note)
