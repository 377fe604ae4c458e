"""validate.py: invalid, duplicate and duplicate-default outcomes, one per record, in order."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.normalize import Normalizer
from importer.records import Code, RawContact, Source, SourceTable, Status
from importer.validate import describe, validate

HEADERS = {"customerId": "customerId", "type": "type", "contact": "contact", "Is Default": "default"}
CSV = SourceTable("in/contacts.csv", "", tuple(HEADERS), "long", HEADERS)
XLSX = SourceTable("book.xlsx", "Contacts", tuple(HEADERS), "long", HEADERS)

normalize = Normalizer()


def rec(row: int, customer: str, type_: str, contact: str, default: str = "", table: SourceTable = CSV):
    fields = {"customerId": customer, "type": type_, "contact": contact}
    if default:
        fields["default"] = default
    raw = RawContact(Source(table.file, table.sheet, row), fields, tuple(fields.values()), table)
    return normalize(raw, row - 2)


def test_valid_and_invalid_outcomes():
    out = validate([rec(2, "1", "EMAIL", "a@shop.com"), rec(3, "x", "EMIAL", "a@shop.com")])
    assert out[0].outcome.status == Status.VALID and out[0].outcome.error_code == ""
    assert out[1].outcome.status == Status.INVALID
    assert out[1].outcome.error_code == Code.INVALID_CUSTOMER_ID  # the first error's code
    assert out[1].outcome.error == "; ".join(str(e) for e in out[1].errors)
    assert "customerId: " in out[1].outcome.error and "did you mean EMAIL?" in out[1].outcome.error


def test_duplicates_point_to_the_first():
    records = [
        rec(2, "1", "EMAIL", "Jane@Shop.com"),
        rec(3, "1", "email", "Jane@shop.COM"),  # same after normalization
        rec(4, "2", "EMAIL", "Jane@shop.com"),  # another customer: not a duplicate
        rec(5, "1", "PHONE", "+1 650 253 0000"),
        rec(6, "1", "EMAIL", "Jane@SHOP.com", table=XLSX),
    ]
    out = validate(records)
    assert [r.outcome.status for r in out] == [Status.VALID, Status.DUPLICATE, Status.VALID, Status.VALID,
                                               Status.DUPLICATE]
    assert out[1].duplicate_of == out[4].duplicate_of == Source("in/contacts.csv", "", 2)
    assert out[1].outcome.error_code == Code.DUPLICATE
    assert out[1].outcome.error == "same as row 2 (contacts.csv)"


def test_invalid_records_do_not_take_part_in_duplicates():
    out = validate([rec(2, "x", "EMAIL", "a@shop.com"), rec(3, "x", "EMAIL", "a@shop.com"),
                    rec(4, "1", "EMAIL", "a@shop.com")])
    assert [r.outcome.status for r in out] == [Status.INVALID, Status.INVALID, Status.VALID]


def test_describe_names_the_sheet():
    assert describe(Source("book.xlsx", "Contacts", 12)) == "row 12 (book.xlsx, sheet Contacts)"
    assert describe(Source("/tmp/a.csv", "", 3)) == "row 3 (a.csv)"


def test_duplicate_default_marks_every_conflicting_row_and_names_the_others():
    records = [
        rec(2, "1", "PHONE", "+16502530000", "yes"),
        rec(3, "1", "PHONE", "+442079460958", "true"),
        rec(4, "1", "PHONE", "+4930123456", "no"),
        rec(5, "1", "EMAIL", "a@shop.com", "yes"),  # another type: fine
        rec(6, "2", "PHONE", "+16502530000", "yes"),  # another customer: fine
        rec(7, "1", "PHONE", "+74951234567", "1", table=XLSX),
    ]
    out = validate(records)
    assert [r.outcome.status for r in out] == [Status.INVALID, Status.INVALID, Status.VALID, Status.VALID,
                                               Status.VALID, Status.INVALID]
    for i, others in [(0, ("row 3 (contacts.csv)", "row 7 (book.xlsx, sheet Contacts)")),
                      (1, ("row 2 (contacts.csv)", "row 7 (book.xlsx, sheet Contacts)")),
                      (5, ("row 2 (contacts.csv)", "row 3 (contacts.csv)"))]:
        assert out[i].outcome.error_code == Code.DUPLICATE_DEFAULT
        assert out[i].errors[-1].column == "Is Default"
        assert all(o in out[i].outcome.error for o in others)
        assert describe(out[i].source) not in out[i].outcome.error  # names the others, not itself


def test_a_repeated_default_row_is_a_duplicate_not_a_conflict():
    out = validate([rec(2, "1", "PHONE", "+16502530000", "yes"), rec(3, "1", "PHONE", "+1 650 253 0000", "yes")])
    assert [r.outcome.status for r in out] == [Status.VALID, Status.DUPLICATE]


def test_the_list_is_updated_in_place_and_records_stay_frozen():
    # In place, so a million records are not held twice; the records themselves are new objects.
    first = rec(2, "1", "EMAIL", "a@shop.com")
    records = [first]
    out = validate(records)
    assert out is records and records[0].outcome.status == Status.VALID
    assert first.outcome.status == Status.PENDING


_rows = st.lists(
    st.tuples(st.sampled_from(["1", "2", "x"]), st.sampled_from(["EMAIL", "PHONE", "OOPS"]),
              st.sampled_from(["a@shop.com", "b@shop.com", "+16502530000", "+442079460958"]),
              st.sampled_from(["", "yes", "no"])),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(_rows)
def test_one_outcome_per_record_in_order(rows):
    records = [rec(i + 2, *row) for i, row in enumerate(rows)]
    out = validate(list(records))
    assert [r.source for r in out] == [r.source for r in records]
    assert [replace(r, outcome=records[i].outcome, errors=records[i].errors, duplicate_of=None) for i, r in
            enumerate(out)] == records
    assert all(r.outcome.status in (Status.VALID, Status.INVALID, Status.DUPLICATE) for r in out)
    # never two valid records with the same key, nor two valid defaults per customer and type
    valid = [r for r in out if r.outcome.status == Status.VALID]
    assert len({r.key for r in valid}) == len(valid)
    defaults = [(r.customer_key, r.type) for r in valid if r.default]
    assert len(set(defaults)) == len(defaults)
    for r in out:
        if r.outcome.status == Status.DUPLICATE:
            first = next(x for x in out if x.source == r.duplicate_of)
            assert first.key == r.key and first.source.row < r.source.row


def _rules_one_by_one(errors, customer_ids, customer_emails, types, contacts, defaults):
    """The rules as first written, row by row: the reference for validate._rules."""
    seen, duplicates, defaults_at = {}, {}, {}
    for i, contact in enumerate(contacts):
        if errors[i]:
            continue
        customer = customer_ids[i] if customer_ids[i] is not None else f"email:{customer_emails[i] or ''}"
        key = (customer, types[i], contact)
        if key in seen:
            duplicates[i] = seen[key]
            continue
        seen[key] = i
        if defaults[i]:
            defaults_at.setdefault((customer, types[i]), []).append(i)
    return duplicates, {k: v for k, v in defaults_at.items() if len(v) > 1}


_column_rows = st.lists(st.tuples(
    st.booleans(),  # has errors
    st.sampled_from([1, 2, None]), st.sampled_from(["a@x.co", None, ""]),
    st.sampled_from(["EMAIL", "PHONE"]), st.sampled_from(["c1", "c2", "c3"]), st.sampled_from([None, True, False]),
), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_column_rows)
def test_rules_match_the_row_by_row_reference(rows):
    from importer.validate import _rules

    columns = [list(c) for c in zip(*rows)] if rows else [[]] * 6
    columns[0] = [("error",) if e else () for e in columns[0]]
    duplicates, conflicts = _rules(*columns)
    expected_duplicates, expected_conflicts = _rules_one_by_one(*columns)
    assert duplicates == expected_duplicates
    assert {k: sorted(v) for k, v in conflicts.items()} == expected_conflicts
