"""validate.py: invalid, duplicate and duplicate-default outcomes, one per row, in order.

Rows are written to small files and go the user's way: read_table, then validate on the frame.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.checks.contactfields import match_key
from importer.checks.validate import validate
from importer.input.table import Records, read_table
from importer.records import ContactRecord, Source, Status
from importer.errors import Code
from load_helpers import load_records, write_csv, write_xlsx

HEADERS = ("customerId", "type", "contact", "Is Default")


def run(*paths: str) -> list[ContactRecord]:
    return load_records(paths)


@pytest.fixture
def contacts(tmp_path):
    """rows -> the path of in/contacts.csv holding them (row 2 first)."""
    return lambda rows, headers=HEADERS: write_csv(tmp_path / "in" / "contacts.csv", headers, rows)


@pytest.fixture
def book(tmp_path):
    """rows -> the path of book.xlsx, sheet Contacts, holding them (row 2 first)."""
    return lambda rows: write_xlsx(tmp_path / "book.xlsx", "Contacts", HEADERS, rows)


def test_valid_and_invalid_outcomes(contacts):
    out = run(contacts([("1", "EMAIL", "a@shop.com", ""), ("x", "EMIAL", "a@shop.com", "")]))
    assert out[0].outcome.status == Status.VALID and out[0].outcome.error_code == ""
    assert out[1].outcome.status == Status.INVALID
    assert out[1].outcome.error_code.split(";")[0] == Code.INVALID_CUSTOMER_ID  # the first error's code first
    assert out[1].outcome.error == "; ".join(str(e) for e in out[1].errors)
    assert "customerId: " in out[1].outcome.error and "did you mean EMAIL?" in out[1].outcome.error


def test_duplicates_point_to_the_first(contacts, book):
    csv_path = contacts([
        ("1", "EMAIL", "Jane@Shop.com", ""),
        ("1", "email", "Jane@shop.COM", ""),  # same after normalization
        ("2", "EMAIL", "Jane@shop.com", ""),  # another customer: not a duplicate
        ("1", "PHONE", "+1 650 253 0000", ""),
    ])
    out = run(csv_path, book([("1", "EMAIL", "Jane@SHOP.com", "")]))
    assert [r.outcome.status for r in out] == [Status.VALID, Status.DUPLICATE, Status.VALID, Status.VALID,
                                               Status.DUPLICATE]
    assert out[1].duplicate_of == out[4].duplicate_of == Source(csv_path, "", 2)
    assert out[1].outcome.error_code == Code.DUPLICATE
    assert out[1].outcome.error == "same as row 2 (contacts.csv)"
    assert out[4].source == Source(str(Path(csv_path).parent.parent / "book.xlsx"), "Contacts", 2)


def test_an_email_repeated_in_another_case_is_a_duplicate(contacts):
    # Ecwid finds emails in any case: the local part's case differs here (the domain's is normalized away);
    # the lower-case spelling may come first, later, or not at all.
    out = run(contacts([
        ("1", "EMAIL", "Jane@shop.com", ""),
        ("1", "EMAIL", "jane@shop.com", ""),
        ("1", "EMAIL", "JANE@shop.com", ""),
        ("1", "EMAIL", "BOB@shop.com", ""),
        ("1", "EMAIL", "Bob@shop.com", ""),
        ("2", "EMAIL", "bob@shop.com", ""),  # another customer
    ]))
    assert [r.contact for r in out] == ["Jane@shop.com", "jane@shop.com", "JANE@shop.com", "BOB@shop.com",
                                        "Bob@shop.com", "bob@shop.com"]  # sent as written
    assert [r.outcome.status for r in out] == [Status.VALID, Status.DUPLICATE, Status.DUPLICATE, Status.VALID,
                                               Status.DUPLICATE, Status.VALID]
    assert [r.duplicate_of.row for r in out if r.duplicate_of] == [2, 2, 5]


def test_invalid_records_do_not_take_part_in_duplicates(contacts):
    out = run(contacts([("x", "EMAIL", "a@shop.com", ""), ("x", "EMAIL", "a@shop.com", ""),
                        ("1", "EMAIL", "a@shop.com", ""), ("1", "EMAIL", "a@shop.com", "")]))
    assert [r.outcome.status for r in out] == [Status.INVALID, Status.INVALID, Status.VALID, Status.DUPLICATE]
    assert out[3].duplicate_of == out[2].source  # the earliest valid row, not the earliest row


def test_rows_are_named_with_file_and_sheet():
    assert str(Source("book.xlsx", "Contacts", 12)) == "row 12 (book.xlsx, sheet Contacts)"
    assert str(Source("/tmp/a.csv", "", 3)) == "row 3 (a.csv)"


def test_duplicate_default_marks_every_conflicting_row_and_names_the_others(contacts, book):
    csv_path = contacts([
        ("1", "PHONE", "+16502530000", "yes"),
        ("1", "PHONE", "+442079460958", "true"),
        ("1", "PHONE", "+4930123456", "no"),
        ("1", "EMAIL", "a@shop.com", "yes"),  # another type: fine
        ("2", "PHONE", "+16502530000", "yes"),  # another customer: fine
    ])
    out = run(csv_path, book([("1", "PHONE", "+74951234567", "1")]))
    assert [r.outcome.status for r in out] == [Status.INVALID, Status.INVALID, Status.VALID, Status.VALID,
                                               Status.VALID, Status.INVALID]
    for i, others in [(0, ("row 3 (contacts.csv)", "row 2 (book.xlsx, sheet Contacts)")),
                      (1, ("row 2 (contacts.csv)", "row 2 (book.xlsx, sheet Contacts)")),
                      (5, ("row 2 (contacts.csv)", "row 3 (contacts.csv)"))]:
        assert out[i].outcome.error_code == Code.DUPLICATE_DEFAULT
        assert out[i].errors[-1].code == Code.DUPLICATE_DEFAULT
        assert out[i].errors[-1].column == "Is Default"
        assert all(o in out[i].outcome.error for o in others)
        assert str(out[i].source) not in out[i].outcome.error  # names the others, not itself


def test_a_repeated_default_row_is_a_duplicate_not_a_conflict(contacts):
    out = run(contacts([("1", "PHONE", "+16502530000", "yes"), ("1", "PHONE", "+1 650 253 0000", "yes")]))
    assert [r.outcome.status for r in out] == [Status.VALID, Status.DUPLICATE]


CUSTOMER_HEADERS = ("customerId", "Customer Email", "type", "contact", "Is Default")


def test_customers_by_email_and_by_id_are_never_the_same(contacts):
    out = run(contacts([
        ("5", "", "EMAIL", "a@shop.com", "yes"),
        ("", "Jane@Shop.com", "EMAIL", "a@shop.com", "yes"),  # by email: another customer than id 5
        ("", "jane@shop.COM", "EMAIL", "a@shop.com", ""),  # the same email: a duplicate
        ("", "bob@shop.com", "EMAIL", "a@shop.com", ""),
        ("6", "jane@shop.com", "EMAIL", "a@shop.com", "yes"),  # the id names the customer
    ], CUSTOMER_HEADERS))
    assert [r.outcome.status for r in out] == [Status.VALID, Status.VALID, Status.DUPLICATE, Status.VALID,
                                               Status.VALID]
    assert [r.customer_key for r in out] == ["5", "email:jane@shop.com", "email:jane@shop.com", "email:bob@shop.com",
                                             "6"]
    assert out[2].duplicate_of == out[1].source


def test_validate_sets_the_outcomes_in_the_frame(contacts):
    table = read_table([contacts([("1", "EMAIL", "a@shop.com", ""), ("1", "EMAIL", "a@shop.com", "")])])
    assert list(table.frame["status"]) == [Status.PENDING, Status.PENDING]
    assert validate(table) is table
    assert list(table.frame["status"]) == [Status.VALID, Status.DUPLICATE]


# ------------------------------------------------------------------ every row, one outcome

_rows = st.lists(
    st.tuples(st.sampled_from(["1", "2", "x", ""]), st.sampled_from(["", "", "Jane@Shop.com", "bob@shop.com", "nope"]),
              st.sampled_from(["EMAIL", "PHONE", "OOPS"]),
              st.sampled_from(["a@shop.com", "A@Shop.com", "A@SHOP.COM", "b@shop.com", "+16502530000",
                               "+1 650 253 0000", "+442079460958"]),
              st.sampled_from(["", "yes", "no"])),
    max_size=40,
)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@settings(max_examples=40, deadline=None)
@given(rows=_rows)
def test_one_outcome_per_row_in_order(scratch, rows):
    path = write_csv(scratch / "contacts.csv", CUSTOMER_HEADERS, rows)
    table = read_table([path])
    normalized = list(Records(table.frame.copy()))  # before validate: each row's own errors
    out = list(Records(validate(table).frame))
    assert len(out) == len(rows)
    assert [r.source.row for r in out] == list(range(2, len(rows) + 2))
    assert all(r.outcome.status in (Status.VALID, Status.INVALID, Status.DUPLICATE) for r in out)
    earliest: dict = {}  # key -> the first row without errors of its own
    for before, r in zip(normalized, out):
        assert (r.customer_key, r.type, r.contact) == (before.customer_key, before.type, before.contact)
        if before.errors:  # invalid first: takes no part in duplicates or defaults
            assert r.outcome.status == Status.INVALID and r.errors == before.errors
            assert r.outcome.error_code == ";".join(dict.fromkeys(e.code for e in before.errors))
            continue
        first = earliest.setdefault((r.customer_key, *match_key(r.type, r.contact)), r)  # emails in any case
        if first is not r:  # a duplicate points at the earliest valid row with its key
            assert r.outcome.status == Status.DUPLICATE and r.duplicate_of == first.source
            assert r.outcome.error == f"same as {first.source}"
        else:
            assert r.outcome.status in (Status.VALID, Status.INVALID) and r.duplicate_of is None
    # defaults: among the first rows of each key, one default per customer and type is valid; more are all invalid
    groups: dict = {}
    for r in earliest.values():
        if r.default:
            groups.setdefault((r.customer_key, r.type), []).append(r)
    for r in earliest.values():
        clash = [o for o in groups.get((r.customer_key, r.type), []) if o is not r] if r.default else []
        if not clash:
            assert r.outcome.status == Status.VALID and r.errors == ()
            continue
        assert r.outcome.status == Status.INVALID and r.outcome.error_code == Code.DUPLICATE_DEFAULT
        assert [e.code for e in r.errors] == [Code.DUPLICATE_DEFAULT]
        assert all(str(o.source) in r.errors[0].message for o in clash)
        assert str(r.source) not in r.errors[0].message
    valid = [r for r in out if r.outcome.status == Status.VALID]
    assert len({r.key for r in valid}) == len(valid)
