"""The report's fast paths give the same bytes as the plain ones they stand in for."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from importer.records import ContactRecord, Outcome, RawContact, RecordError, Source, SourceTable, Status
from importer.report import BOM, REPORT_COLUMNS, _csv_row, escape_formula, result_row, write_report

# Characters that decide escaping, plus Unicode digits (Arabic-Indic, superscript) and csv's specials.
_tricky = st.lists(st.sampled_from([*"=@+-\t\r\n ().,\"'0159٣²aZ", "None"]), max_size=8).map("".join)
_any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
_cell = _tricky | _any_text


def _reference_escape(value: str) -> str:
    """escape_formula as first written: two checks, kept here as the rule's spec."""
    if value[:1] not in set("=@+-\t\r"):
        return value
    if value[0] in "+-" and re.fullmatch(r"[+-]?[\d\s().-]+", value) and any(ch.isdigit() for ch in value):
        return value
    return "'" + value


_signed = st.tuples(st.sampled_from("+-=@"), st.text(st.sampled_from("0٣²¹ ().-+a"), max_size=6)).map("".join)


@given(_signed | _cell)
@example("+²")  # isdigit but not a decimal digit: not a number to a spreadsheet
@example("-٣")
def test_escape_formula_matches_the_plain_rule(value):
    assert escape_formula(value) == _reference_escape(value)


@st.composite
def _records(draw):
    out = []
    for i in range(draw(st.integers(0, 12))):
        contact = draw(_cell)
        table = SourceTable(draw(st.sampled_from(["a.csv", "=b.csv", "c,d.xlsx"])), draw(_cell), ("id", "contact"), "long")
        source = Source(table.file, table.sheet, i + 2)
        status = draw(st.sampled_from([s for s in Status if s is not Status.PENDING]))
        out.append(
            ContactRecord(
                index=i,
                source=source,
                raw=RawContact(source, {}, ("1", contact), table, "contact") if draw(st.booleans()) else None,
                customer_id=draw(st.none() | st.integers(-5, 10**18)),
                customer_email=draw(st.none() | _cell),
                type=draw(_cell),
                contact=contact,
                handle=draw(st.none() | _cell),  # not a str by type, but csv writes None as ""
                source_contact=draw(_cell),
                errors=tuple(RecordError("invalid-email", draw(_cell), draw(_cell)) for _ in range(draw(st.integers(0, 2)))),
                outcome=Outcome(
                    status,
                    http_status=draw(st.none() | st.integers(100, 599)),
                    create_count=draw(st.none() | st.integers(0, 1)),
                    attempts=draw(st.integers(0, 3)),
                    error_code=draw(st.sampled_from(["", "rejected"])),
                    error=draw(_cell),
                ),
                duplicate_of=draw(st.none() | st.just(Source(draw(_cell), draw(_cell), 7))),
            )
        )
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records())
def test_results_csv_bytes_match_csv_writer_on_result_rows(tmp_path, records):
    folder = write_report(records, {}, report_dir=tmp_path, run_id="r")
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(_csv_row(result_row(r)) for r in records)
    assert (folder / "results.csv").read_bytes() == (BOM + expected.getvalue()).encode("utf-8")


_CORNERS = ["=5", "+5", "-5", "+٣", "+²", "@1", "+1 (2)", "--", "\t1", "a,b", 'x"y', "l\nm", "None", "", "plain"]


def test_results_csv_corner_cells_in_every_text_column(tmp_path):
    table = SourceTable("=f.csv", "", ("id", "contact"), "long")
    records = [
        ContactRecord(
            index=i,
            source=Source(table.file, value, i + 2),
            raw=None,
            customer_id=None,
            customer_email=value,
            type=value,
            contact=value,
            handle=value,
            source_contact=value,
            outcome=Outcome(Status.FAILED, error=value),
            duplicate_of=Source(value, "", 3),
        )
        for i, value in enumerate(_CORNERS)
    ]
    folder = write_report(records, {}, report_dir=tmp_path, run_id="r")
    expected = io.StringIO()
    csv.writer(expected).writerows([REPORT_COLUMNS, *(_csv_row(result_row(r)) for r in records)])
    assert (folder / "results.csv").read_bytes() == (BOM + expected.getvalue()).encode("utf-8")
    with open(folder / "results.csv", encoding="utf-8-sig", newline="") as f:
        contacts = [line["contact"] for line in csv.DictReader(f)]
    assert contacts[:4] == ["'=5", "+5", "-5", "+٣"]
