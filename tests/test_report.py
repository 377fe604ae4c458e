"""report.py: what a user finds in the run folder and on the terminal."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from importer.records import (
    ContactRecord,
    Outcome,
    RawContact,
    RecordError,
    Source,
    SourceTable,
    Status,
)
from importer.report import (
    REPORT_COLUMNS,
    ReportWriter,
    escape_formula,
    new_run_id,
    print_summary,
    write_report,
)

LONG = SourceTable("contacts.csv", "", ("customerId", "type", "contact"), "long")
WIDE = SourceTable("crm.xlsx", "Customers", ("Customer ID", "Name", "Email", "Phone", "Instagram"), "wide")


def table_record(table: SourceTable, row: int, cells: tuple, column: str, contact: str, outcome: Outcome) -> ContactRecord:
    """A record read from `column` of a row of `table`."""
    source = Source(table.file, table.sheet, row)
    return ContactRecord(
        index=row - 2,
        source=source,
        raw=RawContact(source, {}, cells, table, column),
        customer_id=1,
        customer_email=None,
        type="EMAIL",
        contact=contact,
        source_contact=contact,
        outcome=outcome,
    )


def long_record(i: int, status: Status, contact: str = "", *, table: SourceTable = LONG, **outcome) -> ContactRecord:
    contact = contact or f"user{i}@example.com"
    record = table_record(table, i + 2, (str(100 + i), "email", contact), "contact", contact, Outcome(status, **outcome))
    return replace(record, customer_id=100 + i)


def wide_records(row: int, cells: tuple[str, ...], results: dict[str, Outcome], *, errors=None) -> list[ContactRecord]:
    """One wide-layout row: a record per contact column in `results`, sharing `cells`."""
    source = Source(WIDE.file, WIDE.sheet, row)
    out = []
    for column, outcome in results.items():
        value = cells[WIDE.headers.index(column)]
        raw = RawContact(source, {}, cells, WIDE, column)
        out.append(
            ContactRecord(
                index=0,
                source=source,
                raw=raw,
                customer_id=int(cells[0]) if cells[0].isdigit() else None,
                customer_email=None,
                type=column.upper(),
                contact=value,
                source_contact=value,
                errors=tuple((errors or {}).get(column, ())),
                outcome=outcome,
            )
        )
    return out


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def read_dicts(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# --- results.csv -------------------------------------------------------------


def test_results_csv_has_one_line_per_record_in_input_order(tmp_path):
    records = [
        long_record(0, Status.CREATED, http_status=200, create_count=1, attempts=1),
        long_record(1, Status.FAILED, http_status=500, attempts=3, error_code="http-error", error="HTTP 500"),
        long_record(2, Status.NOT_SENT, error_code="run-stopped"),
    ]
    folder = write_report(records, {"counts": {}}, report_dir=tmp_path, run_id="r1")

    assert folder == tmp_path / "r1"
    assert (folder / "results.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    lines = read_csv(folder / "results.csv")
    assert tuple(lines[0]) == REPORT_COLUMNS
    rows = [dict(zip(lines[0], line)) for line in lines[1:]]
    assert [r["row"] for r in rows] == ["2", "3", "4"]
    assert {k: rows[0][k] for k in ("file", "sheet", "customer_id", "type", "contact", "status")} == {
        "file": "contacts.csv",
        "sheet": "",
        "customer_id": "100",
        "type": "EMAIL",
        "contact": "user0@example.com",
        "status": "created",
    }
    assert (rows[0]["http_status"], rows[0]["create_count"], rows[0]["attempts"]) == ("200", "1", "1")
    assert (rows[1]["status"], rows[1]["error_code"], rows[1]["error"]) == ("failed", "http-error", "HTTP 500")
    assert (rows[2]["http_status"], rows[2]["create_count"]) == ("", "")  # None stays empty


def test_results_show_normalized_contact_and_the_value_as_written(tmp_path):
    record = replace(long_record(0, Status.CREATED, "User0@Example.COM"), contact="user0@example.com")
    folder = write_report([record], {}, report_dir=tmp_path, run_id="r")
    row = read_dicts(folder / "results.csv")[0]
    assert (row["contact"], row["source_contact"]) == ("user0@example.com", "User0@Example.COM")


def test_duplicate_names_the_first_row(tmp_path):
    first = long_record(0, Status.CREATED)
    dup = long_record(1, Status.DUPLICATE, "user0@example.com")
    dup = replace(dup, duplicate_of=first.source)
    folder = write_report([first, dup], {}, report_dir=tmp_path, run_id="r")
    row = read_dicts(folder / "results.csv")[1]
    assert row["error_code"] == "duplicate"
    assert "contacts.csv, row 2" in row["error"]
    assert row["duplicate_of"] == "contacts.csv, row 2"
    assert not (folder / "errors.csv").exists()  # a duplicate is not an error to fix


def test_invalid_record_reports_its_errors(tmp_path):
    record = long_record(0, Status.INVALID, "not-an-email")
    record = replace(record, errors=(RecordError("invalid-email", "contact", "not an email address"),))
    folder = write_report([record], {}, report_dir=tmp_path, run_id="r")
    row = read_dicts(folder / "results.csv")[0]
    assert (row["status"], row["error_code"], row["error"]) == ("invalid", "invalid-email", "contact: not an email address")


# --- errors.csv --------------------------------------------------------------


def test_errors_csv_holds_failing_source_rows_in_the_input_columns(tmp_path):
    records = [
        long_record(0, Status.CREATED),
        long_record(1, Status.FAILED, error="HTTP 500"),
        long_record(2, Status.SKIPPED),
        long_record(3, Status.NOT_CREATED, error="createCount 0"),
        long_record(4, Status.VALID),
        long_record(5, Status.NOT_SENT),
    ]
    folder = write_report(records, {}, report_dir=tmp_path, run_id="r")
    lines = read_csv(folder / "errors.csv")
    assert lines[0] == [*LONG.headers, "error"]  # re-importable as it is
    assert [line[:3] for line in lines[1:]] == [list(records[i].raw.cells) for i in (1, 3, 5)]
    assert [line[3] for line in lines[1:]] == ["HTTP 500", "createCount 0", "not sent: the run stopped first"]


def test_no_errors_csv_when_everything_made_it(tmp_path):
    folder = write_report([long_record(0, Status.CREATED)], {}, report_dir=tmp_path, run_id="r")
    assert not (folder / "errors.csv").exists()


def test_wide_row_is_one_line_with_merged_errors_and_done_contacts_blanked(tmp_path):
    cells = ("7", "Ann", "ann@", "+14155550100", "@ann")
    records = wide_records(
        5,
        cells,
        {
            "Email": Outcome(Status.INVALID),
            "Phone": Outcome(Status.FAILED, http_status=500, error="HTTP 500 after 3 attempts"),
            "Instagram": Outcome(Status.CREATED, create_count=1),
        },
        errors={"Email": [RecordError("invalid-email", "Email", "invalid email: no domain")]},
    )
    ok_row = wide_records(6, ("8", "Bob", "bob@x.com", "", ""), {"Email": Outcome(Status.CREATED)})
    folder = write_report([*records, *ok_row], {}, report_dir=tmp_path, run_id="r")

    lines = read_dicts(folder / "errors.csv")
    assert len(lines) == 1  # one source row, once; Bob's row made it
    line = lines[0]
    assert (line["Customer ID"], line["Name"], line["Email"], line["Phone"]) == ("7", "Ann", "ann@", "+14155550100")
    assert line["Instagram"] == ""  # created: importing the line again must not send it twice
    assert line["error"] == "Email: invalid email: no domain; Phone: HTTP 500 after 3 attempts"


def test_wide_row_repeated_customer_error_is_written_once(tmp_path):
    bad_id = RecordError("invalid-customer-id", "Customer ID", "not a customer id")
    records = wide_records(
        3,
        ("x7", "Ann", "ann@x.com", "+14155550100", ""),
        {"Email": Outcome(Status.INVALID), "Phone": Outcome(Status.INVALID)},
        errors={"Email": [bad_id], "Phone": [bad_id]},
    )
    folder = write_report(records, {}, report_dir=tmp_path, run_id="r")
    (line,) = read_dicts(folder / "errors.csv")
    assert line["error"] == "Customer ID: not a customer id"
    assert (line["Email"], line["Phone"]) == ("ann@x.com", "+14155550100")


def test_wide_cell_with_one_failed_contact_of_two_is_kept(tmp_path):
    cells = ("7", "Ann", "", "(415) 555-0100 / 555-0101", "")
    created, failed = (
        wide_records(4, cells, {"Phone": outcome})[0] for outcome in (Outcome(Status.CREATED), Outcome(Status.FAILED))
    )
    folder = write_report([created, failed], {}, report_dir=tmp_path, run_id="r")
    (line,) = read_dicts(folder / "errors.csv")
    assert (line["Phone"], line["error"]) == ("(415) 555-0100 / 555-0101", "Phone: failed")


def test_wide_row_split_across_write_calls_is_still_one_line(tmp_path):
    records = wide_records(
        3,
        ("7", "Ann", "ann@x.com", "+14155550100", ""),
        {"Email": Outcome(Status.FAILED, error="timeout"), "Phone": Outcome(Status.SKIPPED)},
    )
    with ReportWriter(tmp_path, "r") as writer:
        writer.write(records[:1])
        writer.write(records[1:])
        folder = writer.finish({})
    (line,) = read_dicts(folder / "errors.csv")
    assert (line["Email"], line["Phone"], line["error"]) == ("ann@x.com", "", "Email: timeout")


def test_tables_with_other_headers_get_their_own_errors_file(tmp_path):
    same = SourceTable("more.csv", "", LONG.headers, "long")
    other = SourceTable("other.xlsx", "Q3 2026", ("id", "kind", "value", "note"), "long")
    records = [
        long_record(0, Status.FAILED, error="a"),
        long_record(1, Status.FAILED, error="b", table=same),
        table_record(other, 2, ("1", "email", "c@x.com", "vip"), "value", "c@x.com", Outcome(Status.FAILED, error="c")),
    ]
    summary: dict = {}
    folder = write_report(records, summary, report_dir=tmp_path, run_id="r")
    assert [line[3] for line in read_csv(folder / "errors.csv")[1:]] == ["a", "b"]
    assert read_csv(folder / "errors-other-Q3_2026.csv") == [
        ["id", "kind", "value", "note", "error"],
        ["1", "email", "c@x.com", "vip", "c"],
    ]
    assert summary["report_files"] == ["results.csv", "results.xlsx", "errors.csv", "errors-other-Q3_2026.csv", "summary.json"]
    assert summary["error_rows"] == 3


def test_errors_csv_imported_again_reuses_its_error_column(tmp_path):
    table = SourceTable("errors.csv", "", (*LONG.headers, "error"), "long")
    record = long_record(0, Status.FAILED, error="still failing", table=table)
    raw = RawContact(record.source, {}, ("100", "email", "a@x.com", "old error"), table, "contact")
    record = replace(record, raw=raw)
    folder = write_report([record], {}, report_dir=tmp_path, run_id="r")
    assert read_csv(folder / "errors.csv") == [[*LONG.headers, "error"], ["100", "email", "a@x.com", "still failing"]]


def test_record_without_source_file_uses_the_report_columns(tmp_path):
    record = long_record(0, Status.FAILED, error="boom")
    record = replace(record, source=Source("api", "", 1), raw=None, customer_id=5, type="PHONE", contact="+14155550100")
    folder = write_report([record], {}, report_dir=tmp_path, run_id="r")
    (line,) = read_dicts(folder / "errors.csv")
    assert (line["customer_id"], line["type"], line["contact"], line["error"]) == ("5", "PHONE", "+14155550100", "boom")


def test_excel_typed_cells_are_written_as_text(tmp_path):
    table = SourceTable("b.xlsx", "S", ("id", "email", "vip", "since"), "long")
    cells = ("1", "a@", True, dt.datetime(2026, 1, 31))
    record = table_record(table, 2, cells, "email", "a@", Outcome(Status.INVALID, error="bad"))
    folder = write_report([record], {}, report_dir=tmp_path, run_id="r")
    assert read_csv(folder / "errors.csv")[1] == ["1", "a@", "TRUE", "2026-01-31", "bad"]


# --- CSV injection -----------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd", "'-2+3+cmd"),
        ("-2+3", "'-2+3"),  # Excel computes it
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("+", "'+"),
        ("+1 (415) 555-0100", "+1 (415) 555-0100"),
        ("+14155550100", "+14155550100"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("-5", "-5"),
        ("-1.5", "-1.5"),
        ("a=1", "a=1"),
        ("user@example.com", "user@example.com"),
        ("", ""),
    ],
)
def test_escape_formula(value, expected):
    assert escape_formula(value) == expected


def test_csv_reports_escape_formulas_but_keep_phones(tmp_path):
    contacts = ["=HYPERLINK(\"http://x\")", "+14155550100", "@SUM(A1)"]
    records = [long_record(i, Status.FAILED, c, error="-bad +answer") for i, c in enumerate(contacts)]
    folder = write_report(records, {}, report_dir=tmp_path, run_id="r")
    results = read_dicts(folder / "results.csv")
    assert [r["contact"] for r in results] == ["'=HYPERLINK(\"http://x\")", "+14155550100", "'@SUM(A1)"]
    assert [r["error"] for r in results] == ["'-bad +answer"] * 3
    errors = read_csv(folder / "errors.csv")
    assert [line[2] for line in errors[1:]] == ["'=HYPERLINK(\"http://x\")", "+14155550100", "'@SUM(A1)"]


# --- results.xlsx ------------------------------------------------------------


def test_xlsx_stores_text_as_text(tmp_path):
    values = ["0012", "=1+2", "+14155550100", "bad\x01char"]
    records = [long_record(i, Status.CREATED, v, http_status=200) for i, v in enumerate(values)]
    folder = write_report(records, {}, report_dir=tmp_path, run_id="r")

    sheet = load_workbook(folder / "results.xlsx").active
    rows = list(sheet.iter_rows(values_only=False))
    assert tuple(c.value for c in rows[0]) == REPORT_COLUMNS
    contact = REPORT_COLUMNS.index("contact")
    cells = [row[contact] for row in rows[1:]]
    assert [c.value for c in cells] == ["0012", "=1+2", "+14155550100", "bad\ufffdchar"]
    assert all(c.data_type == "s" for c in cells)  # "=1+2" is text, not a formula
    row_cell = rows[1][REPORT_COLUMNS.index("row")]
    assert (row_cell.value, rows[1][REPORT_COLUMNS.index("http_status")].value) == (2, 200)


@pytest.mark.parametrize("as_list", [True, False])
def test_xlsx_skipped_above_threshold_with_a_note(tmp_path, as_list):
    records = [long_record(i, Status.CREATED) for i in range(5)]
    summary: dict = {"notes": ["earlier note"]}
    with ReportWriter(tmp_path, "r", xlsx_max_rows=3) as writer:
        writer.write(records if as_list else iter(records))
        folder = writer.finish(summary)
    assert not (folder / "results.xlsx").exists()
    assert len(read_csv(folder / "results.csv")) == 6
    assert summary["notes"][0] == "earlier note"
    assert "results.xlsx not written" in summary["notes"][1]
    assert "results.xlsx" not in summary["report_files"]


# --- summary.json and interruption -------------------------------------------


def test_summary_json_round_trips_with_report_fields(tmp_path):
    summary = {
        "counts": {Status.CREATED: 2, "failed": 1},
        "total": 3,
        "files": [Path("a.csv")],
        "started": dt.datetime(2026, 11, 26, 21, 45, 1),
        "exit_code": 1,
        "rate": 590.5,
    }
    records = [long_record(0, Status.CREATED), long_record(1, Status.CREATED), long_record(2, Status.FAILED)]
    folder = write_report(records, summary, report_dir=tmp_path, run_id="r")
    loaded = json.loads((folder / "summary.json").read_text("utf-8"))
    assert loaded == {
        "counts": {"created": 2, "failed": 1},
        "total": 3,
        "files": ["a.csv"],
        "started": "2026-11-26T21:45:01",
        "exit_code": 1,
        "rate": 590.5,
        "report_dir": str(folder),
        "report_files": ["results.csv", "results.xlsx", "errors.csv", "summary.json"],
        "error_rows": 1,
    }
    assert not list(folder.glob("*.tmp"))


def test_interrupted_run_leaves_complete_results_csv(tmp_path):
    def records():
        yield long_record(0, Status.CREATED)
        yield long_record(1, Status.FAILED, error="x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), ReportWriter(tmp_path, "r") as writer:
        writer.write(records())
    assert [line[2] for line in read_csv(tmp_path / "r" / "results.csv")] == ["row", "2", "3"]
    assert read_csv(tmp_path / "r" / "errors.csv")[1][-1] == "x"


# --- terminal ----------------------------------------------------------------


def test_print_summary_matches_the_documented_table(tmp_path):
    out = io.StringIO()
    summary = {
        "counts": {"invalid": 12, "created": 180, "duplicate": 3, "failed": 0},
        "total": 195,
        "blank_rows": 3,
    }
    print_summary(summary, Path("reports/20261126-214501-3f2a"), stream=out)
    assert out.getvalue() == (
        " status       rows\n"
        " created       180\n"
        " duplicate       3\n"
        " invalid        12\n"
        " total         195   (3 blank rows skipped)\n"
        "Report: reports/20261126-214501-3f2a/results.csv\n"
    )


def test_print_summary_explains_ambiguous_and_dry_run():
    out = io.StringIO()
    summary = {"counts": {"valid": 1_234_567}, "total": 1_234_567, "dry_run": True, "ambiguous": 2}
    print_summary(summary, Path("r"), stream=out)
    text = out.getvalue()
    assert " valid      1234567\n" in text
    assert "Dry run: nothing was sent." in text
    assert re.search(r"^2 sent without a clear answer .*may exist in the store", text, re.M)


def test_new_run_id_is_sortable_and_random_suffixed():
    early = new_run_id(dt.datetime(2026, 11, 26, 21, 45, 1))
    late = new_run_id(dt.datetime(2026, 11, 26, 21, 45, 2))
    assert re.fullmatch(r"20261126-214501-[0-9a-f]{4}", early)
    assert early < late
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", new_run_id())


# --- general rule ------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_status = st.sampled_from([s for s in Status if s is not Status.PENDING])


@st.composite
def _records(draw):
    n = draw(st.integers(0, 25))
    out = []
    for i in range(n):
        contact = draw(_text)
        table = SourceTable(draw(st.sampled_from(["a.csv", "b.xlsx"])), "", ("customerId", "contact"), "long")
        source = Source(table.file, table.sheet, i + 2)
        out.append(
            ContactRecord(
                index=i,
                source=source,
                raw=RawContact(source, {}, ("1", contact), table, "contact") if draw(st.booleans()) else None,
                customer_id=draw(st.none() | st.integers(0, 10**12)),
                customer_email=draw(st.none() | _text),
                type=draw(_text),
                contact=contact,
                source_contact=contact,
                outcome=Outcome(draw(_status), http_status=draw(st.none() | st.integers(100, 599)), error=draw(_text)),
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records())
def test_results_csv_maps_records_one_to_one(tmp_path, records):
    run = new_run_id()
    folder = write_report(records, {}, report_dir=tmp_path, run_id=run)
    lines = read_dicts(folder / "results.csv")
    assert len(lines) == len(records)
    for line, record in zip(lines, records):
        assert (line["file"], line["row"], line["status"]) == (record.source.file, str(record.source.row), record.outcome.status)
        assert line["contact"] == escape_formula(record.contact)
    failing = sum(r.outcome.status in {"invalid", "failed", "not_created", "not_sent"} for r in records)
    errors = [line for path in folder.glob("errors*.csv") for line in read_csv(path)[1:]]
    assert len(errors) == failing  # long layout: every failing row once


def test_print_summary_of_an_empty_run():
    out = io.StringIO()
    print_summary({"counts": {}, "total": 0}, Path("r"), stream=out)
    assert out.getvalue() == " status       rows\n total           0\nReport: r/results.csv\n"
