"""importer.report: what a user finds in the run folder and on the terminal, written from the run's table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from unittest import mock

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import importer.report.results as results
from importer.records import RecordError, Source, Status
from importer.report import (
    REPORT_COLUMNS,
    XLSX_MAX_ROWS,
    escape_formula,
    new_run_id,
    print_summary,
    results_frame,
    write_report,
)
from importer.report.results import escape_column
from table_helpers import LONG_HEADERS, long_sheet, make_table, record, sheet, synthetic_table, wide_sheet

CONTACTS = long_sheet("contacts.csv", [(str(100 + i), "email", f"user{i}@example.com") for i in range(6)])


def long_table(*statuses: str | dict, sheets=(CONTACTS,)):
    """Records of CONTACTS' lines 0, 1, ...: a status, or a dict of frame fields (status included)."""
    records = []
    for line, given in enumerate(statuses):
        fields = {"customer_id": 100 + line, **({"status": given} if isinstance(given, str) else given)}
        records.append(record(0, line, **fields))
    return make_table(list(sheets), records)


def report(table, tmp_path: Path) -> Path:
    return write_report(table, {}, report_dir=tmp_path, run_id="r")


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def read_dicts(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# --- results.csv -------------------------------------------------------------


def test_results_csv_has_one_line_per_record_in_input_order(tmp_path):
    table = long_table(
        {"status": "created", "http_status": 200, "create_count": 1, "attempts": 1},
        {"status": "failed", "http_status": 500, "attempts": 3, "error_code": "http-error", "error": "HTTP 500"},
        {"status": "not_sent", "error_code": "run-stopped"},
    )
    folder = write_report(table, {"counts": {}}, report_dir=tmp_path, run_id="r1")

    assert folder == tmp_path / "r1"
    data = (folder / "results.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    assert data.count(b"\r\n") == 4 and data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
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
    assert (rows[2]["http_status"], rows[2]["create_count"]) == ("", "")  # <NA> stays empty


def test_results_csv_bytes(tmp_path):
    table = long_table({"status": "created", "http_status": 200, "create_count": 1, "attempts": 1,
                        "customer_id": 123456789012345678, "error": 'a, "b"\nc'})  # fmt: skip
    folder = report(table, tmp_path)
    assert (folder / "results.csv").read_bytes().decode("utf-8").split("\r\n")[1:] == [
        'contacts.csv,,2,123456789012345678,,EMAIL,user0@example.com,,user0@example.com,created,200,1,1,,'
        '"a, ""b""\nc",',
        "",
    ]


def test_results_show_normalized_contact_and_the_value_as_written(tmp_path):
    table = long_table({"status": "created", "contact": "user0@example.com", "source_contact": "User0@Example.COM"})
    row = read_dicts(report(table, tmp_path) / "results.csv")[0]
    assert (row["contact"], row["source_contact"]) == ("user0@example.com", "User0@Example.COM")


def test_duplicate_names_the_first_row(tmp_path):
    dup = long_sheet("dup.csv", [("1", "email", "a@x.com"), ("1", "email", "A@x.com")])
    first = Source("dup.csv", "", 2)
    table = make_table([dup], [
        record(0, 0, status="created"),
        record(0, 1, status="duplicate", contact="a@x.com", error_code="duplicate", error=f"same as {first}",
               duplicate_of=first),
    ])  # fmt: skip
    folder = report(table, tmp_path)
    row = read_dicts(folder / "results.csv")[1]
    assert (row["error_code"], row["error"]) == ("duplicate", "same as row 2 (dup.csv)")
    assert row["duplicate_of"] == "row 2 (dup.csv)"
    assert not (folder / "errors.csv").exists()  # a duplicate is not an error to fix


def test_invalid_record_reports_its_errors(tmp_path):
    bad = RecordError("invalid-email", "contact", "not an email address")
    table = long_table({"status": "invalid", "contact": "not-an-email", "errors": (bad,),
                        "error_code": "invalid-email", "error": str(bad)})  # fmt: skip
    folder = report(table, tmp_path)
    row = read_dicts(folder / "results.csv")[0]
    assert (row["status"], row["error_code"]) == ("invalid", "invalid-email")
    assert row["error"] == "contact: not an email address"
    assert read_dicts(folder / "errors.csv")[0]["error"] == "contact: not an email address"


def test_results_frame_holds_plain_values():
    first = Source("b.xlsx", "Q3", 9)
    table = long_table({"status": "duplicate", "contact": "=1+2", "duplicate_of": first, "customer_email": "a@x.com"},
                       {"status": "valid", "customer_id": None})  # fmt: skip
    frame = results_frame(table)
    assert tuple(frame.columns) == REPORT_COLUMNS
    assert frame["contact"].tolist()[0] == "=1+2"  # escaping is the CSV's business
    assert frame["duplicate_of"].tolist() == ["row 9 (b.xlsx, sheet Q3)", ""]
    assert frame["customer_email"].tolist() == ["a@x.com", ""]
    assert frame["customer_id"].isna().tolist() == [False, True]
    assert frame["status"].tolist() == ["duplicate", "valid"]


def test_empty_table_gives_a_header_only_report(tmp_path):
    summary: dict = {}
    folder = write_report(make_table([CONTACTS], []), summary, report_dir=tmp_path, run_id="r")
    assert read_csv(folder / "results.csv") == [list(REPORT_COLUMNS)]
    assert summary["report_files"] == ["results.csv", "results.xlsx", "summary.json"]
    assert summary["error_rows"] == 0


# --- errors.csv --------------------------------------------------------------


def test_errors_csv_holds_failing_source_rows_in_the_input_columns(tmp_path):
    table = long_table(
        "created", {"status": "failed", "error": "HTTP 500"}, "skipped",
        {"status": "not_created", "error": "createCount 0"}, "valid", "not_sent",
    )  # fmt: skip
    lines = read_csv(report(table, tmp_path) / "errors.csv")
    assert lines[0] == [*LONG_HEADERS, "error"]  # imports again as it is
    assert [line[:3] for line in lines[1:]] == [list(CONTACTS.cells.iloc[i]) for i in (1, 3, 5)]
    assert [line[3] for line in lines[1:]] == ["HTTP 500", "createCount 0", "not sent: the run stopped first"]


def test_no_errors_csv_when_everything_made_it(tmp_path):
    assert not (report(long_table("created", "valid"), tmp_path) / "errors.csv").exists()


CRM = wide_sheet("crm.xlsx", [
    ("7", "Ann", "ann@", "+14155550100", "@ann"),
    ("8", "Bob", "bob@x.com", "", ""),
    ("x7", "Cy", "cy@x.com", "+14155550101", ""),
    ("9", "Di", "", "(415) 555-0100 / 555-0101", ""),
], name="Customers")  # fmt: skip


def test_wide_row_is_one_line_with_merged_errors_and_done_contacts_blanked(tmp_path):
    bad = RecordError("invalid-email", "Email", "invalid email: no domain")
    table = make_table([CRM], [
        record(0, 0, column="Email", status="invalid", errors=(bad,)),
        record(0, 0, column="Phone", status="failed", http_status=500, error="HTTP 500 after 3 attempts"),
        record(0, 0, column="Instagram", status="created", create_count=1),
        record(0, 1, column="Email", status="created"),
    ])  # fmt: skip
    lines = read_dicts(report(table, tmp_path) / "errors.csv")
    assert len(lines) == 1  # one source row, once; Bob's row made it
    line = lines[0]
    assert (line["Customer ID"], line["Name"], line["Email"], line["Phone"]) == ("7", "Ann", "ann@", "+14155550100")
    assert line["Instagram"] == ""  # created: importing the line again must not send it twice
    assert line["error"] == "Email: invalid email: no domain; Phone: HTTP 500 after 3 attempts"


def test_wide_row_repeated_customer_error_is_written_once(tmp_path):
    bad_id = RecordError("invalid-customer-id", "Customer ID", "not a customer id")
    table = make_table([CRM], [record(0, 2, column=c, status="invalid", errors=(bad_id,)) for c in ("Email", "Phone")])
    (line,) = read_dicts(report(table, tmp_path) / "errors.csv")
    assert line["error"] == "Customer ID: not a customer id"
    assert (line["Email"], line["Phone"]) == ("cy@x.com", "+14155550101")


def test_wide_cell_with_one_failed_contact_of_two_is_kept(tmp_path):
    table = make_table([CRM], [record(0, 3, column="Phone", status=s, contact=c)
                               for s, c in (("created", "+14155550100"), ("failed", "+14155550101"))])  # fmt: skip
    (line,) = read_dicts(report(table, tmp_path) / "errors.csv")
    assert (line["Phone"], line["error"]) == ("(415) 555-0100 / 555-0101", "Phone: failed")


def test_wide_row_whose_records_are_apart_in_the_frame_is_still_one_line(tmp_path):
    table = make_table([CRM], [
        record(0, 0, column="Email", status="failed", error="timeout"),
        record(0, 1, column="Email", status="created"),
        record(0, 0, column="Phone", status="skipped"),
    ])  # fmt: skip
    (line,) = read_dicts(report(table, tmp_path) / "errors.csv")
    assert (line["Email"], line["Phone"], line["error"]) == ("ann@", "", "Email: timeout")


def test_tables_with_other_headers_get_their_own_errors_file(tmp_path):
    more = long_sheet("more.csv", [("5", "email", "b@x.com")])
    other = sheet("other.xlsx", ("id", "kind", "value", "note"), [("1", "email", "c@x.com", "vip")], name="Q3 2026")
    table = make_table([CONTACTS, more, other], [
        record(0, 0, status="failed", error="a"),
        record(1, 0, status="failed", error="b"),
        record(2, 0, column="value", status="failed", error="c"),
    ])  # fmt: skip
    summary: dict = {}
    folder = write_report(table, summary, report_dir=tmp_path, run_id="r")
    assert [line[3] for line in read_csv(folder / "errors.csv")[1:]] == ["a", "b"]
    assert read_csv(folder / "errors-other-Q3_2026.csv") == [
        ["id", "kind", "value", "note", "error"],
        ["1", "email", "c@x.com", "vip", "c"],
    ]
    assert summary["report_files"] == [
        "results.csv", "results.xlsx", "errors.csv", "errors-other-Q3_2026.csv", "summary.json",
    ]  # fmt: skip
    assert summary["error_rows"] == 3


def test_errors_csv_imported_again_reuses_its_error_column(tmp_path):
    again = long_sheet("errors.csv", [("100", "email", "a@x.com", "old error")], headers=(*LONG_HEADERS, "error"))
    table = make_table([again], [record(0, 0, status="failed", error="still failing")])
    assert read_csv(report(table, tmp_path) / "errors.csv") == [
        [*LONG_HEADERS, "error"], ["100", "email", "a@x.com", "still failing"],
    ]  # fmt: skip


def test_excel_typed_cells_are_written_as_text(tmp_path):
    rows = [("1", "a@", True, dt.datetime(2026, 1, 31), dt.datetime(2026, 2, 1, 9, 30)), ("2", "b@", False, None)]
    typed = sheet("b.xlsx", ("id", "email", "vip", "since", "seen"), rows, name="S")
    table = make_table([typed], [record(0, i, column="email", status="invalid", error="bad") for i in (0, 1)])
    assert read_csv(report(table, tmp_path) / "errors.csv")[1:] == [
        ["1", "a@", "TRUE", "2026-01-31", "2026-02-01 09:30:00", "bad"],
        ["2", "b@", "FALSE", "", "", "bad"],
    ]


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


def _reference_escape(value: str) -> str:
    """The rule as first written, two plain checks: the spec escape_formula's shortcuts must keep."""
    if value[:1] not in set("=@+-\t\r"):
        return value
    if value[0] in "+-" and re.fullmatch(r"[+-]?[\d\s().-]+", value) and any(ch.isdigit() for ch in value):
        return value
    return "'" + value


# Characters that decide escaping, plus Unicode digits (Arabic-Indic, superscript) and csv's specials.
_tricky = st.lists(st.sampled_from([*"=@+-\t\r\n ().,\"'0159٣²aZé", "None"]), max_size=8).map("".join)
_text = _tricky | st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)


@given(st.tuples(st.sampled_from("+-=@"), st.text(st.sampled_from("0٣²¹ ().-+a"), max_size=6)).map("".join) | _text)
@example("+²")  # isdigit but not a decimal digit: not a number to a spreadsheet
@example("-٣")
def test_escape_formula_keeps_the_plain_rule(value):
    assert escape_formula(value) == _reference_escape(value)


@given(st.lists(st.none() | _text, max_size=12), st.integers(0, 3))
@example(["+14155550100", "-0", "+123\n", "+١٢", "=1", "+", "\t12", "+1\x0b2", "+1 (415) 555-0100"], 0)
@example(["+14155550100", None, "-2.5", "+49 151-2345678"], 2)  # every cell that could start a formula is kept
def test_escape_column_is_escape_formula_on_each_cell(values, cut):
    column = pa.array(["", "x", *values], pa.large_string()).slice(cut)  # sliced: an offset into the buffers
    expected = [None if v is None else escape_formula(v) for v in column.to_pylist()]
    assert escape_column(column).to_pylist() == expected


def test_csv_reports_escape_formulas_but_keep_phones(tmp_path):
    contacts = ['=HYPERLINK("http://x")', "+14155550100", "@SUM(A1)"]
    cells = long_sheet("c.csv", [("1", "email", c) for c in contacts])
    table = make_table([cells], [record(0, i, status="failed", error="-bad +answer") for i in range(3)])
    folder = report(table, tmp_path)
    rows = read_dicts(folder / "results.csv")
    assert [r["contact"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "+14155550100", "'@SUM(A1)"]
    assert [r["error"] for r in rows] == ["'-bad +answer"] * 3
    errors = read_csv(folder / "errors.csv")
    assert [line[2] for line in errors[1:]] == ["'=HYPERLINK(\"http://x\")", "+14155550100", "'@SUM(A1)"]
    assert [line[3] for line in errors[1:]] == ["'-bad +answer"] * 3


_CORNERS = [
    "=5", "+5", "-5", "+٣", "+²", "@1", "+1 (2)", "--", "\t1", "a,b", 'x"y', "l\nm", "c\rd", "None", "", "plain",
]  # fmt: skip


def test_results_csv_corner_cells_in_every_text_column(tmp_path):
    cells = long_sheet("=f.csv", [("1", "email", v) for v in _CORNERS])
    table = make_table([cells], [
        record(0, i, status="failed", customer_email=v, type=v, handle=v, error=v, duplicate_of=Source(v, "", 3))
        for i, v in enumerate(_CORNERS)
    ])  # fmt: skip
    table.frame["sheet"] = pd.Series(_CORNERS, dtype="str")
    folder = report(table, tmp_path)
    frame = results_frame(table)
    expected = io.StringIO()
    csv.writer(expected).writerows([REPORT_COLUMNS, *map(_escaped_row, frame.itertuples(index=False))])
    assert (folder / "results.csv").read_bytes() == ("\ufeff" + expected.getvalue()).encode("utf-8")
    assert [line["contact"] for line in read_dicts(folder / "results.csv")][:4] == ["'=5", "+5", "-5", "+٣"]


def _escaped_row(values) -> list:
    """A results_frame row as csv.writer should get it: text escaped, <NA> as None."""
    return [
        None if v is pd.NA else escape_formula(v) if name in results.TEXT_COLUMNS else v
        for name, v in zip(REPORT_COLUMNS, values)
    ]


# --- the general rule ----------------------------------------------------------

_status = st.sampled_from([s.value for s in Status if s is not Status.PENDING])


@st.composite
def _tables(draw):
    n = draw(st.integers(0, 10))
    written = [draw(_text) for _ in range(n)]
    src = [long_sheet(draw(st.sampled_from(["a.csv", "=b.csv", "c,d.xlsx"])), [("1", "x", w) for w in written])]
    records = [
        record(0, i, status=draw(_status), contact=draw(_text), source_contact=w, type=draw(_text),
               handle=draw(_text), customer_id=draw(st.none() | st.integers(-5, 10**18)),
               customer_email=draw(st.none() | _text), http_status=draw(st.none() | st.integers(100, 599)),
               create_count=draw(st.none() | st.integers(0, 1)), attempts=draw(st.integers(0, 3)),
               error_code=draw(st.sampled_from(["", "rejected"])), error=draw(_text),
               errors=tuple(RecordError("invalid-email", draw(_text), draw(_text))
                            for _ in range(draw(st.integers(0, 2)))),
               duplicate_of=draw(st.none() | st.builds(Source, _text, _text, st.integers(2, 9))))
        for i, w in enumerate(written)
    ]  # fmt: skip
    table = make_table(src, records)
    table.frame["sheet"] = pd.Series([draw(_text) for _ in range(n)], dtype="str")
    dtype = draw(st.sampled_from(["str", "category", "object"]))  # read_table's frame has categoricals
    text = ("file", "sheet", "type", "contact", "handle", "source_contact", "customer_email", "status", "error_code",
            "error", "source_column")  # fmt: skip
    for name in text:
        table.frame[name] = table.frame[name].astype(dtype)
    return table


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=_tables(), chunk=st.integers(2, 8))
def test_every_frame_row_is_one_results_line_with_its_values(tmp_path, table, chunk):
    # lines written a few at a time (slices of the columns); results.xlsx left out, for speed
    with mock.patch.object(results, "CSV_CHUNK_ROWS", chunk), mock.patch.object(results, "XLSX_MAX_ROWS", -1):
        folder = write_report(table, {}, report_dir=tmp_path, run_id=new_run_id())
    frame = results_frame(table)
    assert frame["contact"].tolist() == table.frame["contact"].tolist()
    assert frame["duplicate_of"].tolist() == ["" if s is None else str(s) for s in table.frame["duplicate_of"]]
    lines = read_dicts(folder / "results.csv")
    assert [line["status"] for line in lines] == table.frame["status"].tolist()
    for line, values in zip(lines, frame.itertuples(index=False)):
        assert list(line.values()) == ["" if v is None else str(v) for v in _escaped_row(values)]
    expected = io.StringIO()
    csv.writer(expected).writerows([REPORT_COLUMNS, *map(_escaped_row, frame.itertuples(index=False))])
    assert (folder / "results.csv").read_bytes() == ("\ufeff" + expected.getvalue()).encode("utf-8")
    failing = table.frame["status"].isin(["invalid", "failed", "not_created", "not_sent"]).sum()
    errors = [line for path in folder.glob("errors*.csv") for line in read_csv(path)[1:]]
    assert len(errors) == failing  # long layout: every failing row once


# --- results.xlsx ------------------------------------------------------------


def test_xlsx_stores_text_as_text(tmp_path):
    values = ["0012", "=1+2", "+14155550100", "bad\x01char"]
    cells = long_sheet("x.csv", [("1", "email", v) for v in values])
    big_id = 123456789012345678
    table = make_table([cells], [record(0, i, status="created", http_status=200, customer_id=big_id) for i in range(4)])
    sheet_ = load_workbook(report(table, tmp_path) / "results.xlsx").active
    rows = list(sheet_.iter_rows(values_only=False))
    assert tuple(c.value for c in rows[0]) == REPORT_COLUMNS
    contact = REPORT_COLUMNS.index("contact")
    contacts = [row[contact] for row in rows[1:]]
    assert [c.value for c in contacts] == ["0012", "=1+2", "+14155550100", "bad\ufffdchar"]
    assert all(c.data_type == "s" for c in contacts)  # "=1+2" is text, not a formula
    first = {name: cell.value for name, cell in zip(REPORT_COLUMNS, rows[1])}
    assert (first["row"], first["http_status"], first["customer_id"]) == (2, 200, str(big_id))  # past 15 digits: text
    assert (first["handle"], first["create_count"]) == (None, None)


def test_xlsx_has_a_filter_fitted_widths_coloured_statuses_and_a_sheet_of_the_rows_to_fix(tmp_path):
    cells = long_sheet("crm.csv", [("1", "email", f"person{i}@example.com") for i in range(4)])
    statuses = ["created", "invalid", "failed", "duplicate"]
    table = make_table([cells], [record(0, i, status=s, error_code="x" if s in ("invalid", "failed") else "")
                                 for i, s in enumerate(statuses)])  # fmt: skip
    book = load_workbook(report(table, tmp_path) / "results.xlsx")
    assert book.sheetnames == ["results", "to fix"]
    results_, to_fix = book["results"], book["to fix"]
    status = REPORT_COLUMNS.index("status")
    assert [r[status] for r in results_.iter_rows(min_row=2, values_only=True)] == statuses
    assert [r[status] for r in to_fix.iter_rows(min_row=2, values_only=True)] == ["invalid", "failed"]
    assert [r[2] for r in to_fix.iter_rows(min_row=2, values_only=True)] == [3, 4]  # their Excel rows
    last = results_.cell(row=1, column=len(REPORT_COLUMNS)).column_letter
    assert results_.auto_filter.ref == f"A1:{last}5" and results_.freeze_panes == "A2"
    widths = {name: results_.column_dimensions[chr(ord("A") + k)].width for k, name in enumerate(REPORT_COLUMNS[:8])}
    assert widths["contact"] == len("person0@example.com") + 2 and widths["row"] == len("row") + 2
    rules = {rule.formula[0]: rule.dxf.fill.fgColor.rgb[-6:] for cf in results_.conditional_formatting for rule in cf.rules}
    assert rules['"created"'] == "C6EFCE" and rules['"failed"'] == "FFC7CE"


def test_xlsx_skipped_above_its_limit_with_a_note(tmp_path):
    summary: dict = {"notes": ["earlier note"]}
    folder = write_report(synthetic_table(XLSX_MAX_ROWS + 1), summary, report_dir=tmp_path, run_id="r")
    assert not (folder / "results.xlsx").exists()
    with open(folder / "results.csv", "rb") as f:
        assert sum(1 for _ in f) == XLSX_MAX_ROWS + 2
    assert summary["notes"] == [
        "earlier note", "results.xlsx not written: 50,001 records is more than 50,000; results.csv has every line",
    ]  # fmt: skip
    assert summary["report_files"] == ["results.csv", "errors.csv", "summary.json"]


# --- summary.json and the terminal ------------------------------------------------


def test_summary_json_round_trips_with_report_fields(tmp_path):
    summary = {
        "counts": {Status.CREATED: 2, "failed": 1},
        "total": 3,
        "files": [Path("a.csv")],
        "started": dt.datetime(2026, 11, 26, 21, 45, 1),
        "exit_code": 1,
        "rate": 590.5,
    }
    folder = write_report(long_table("created", "created", "failed"), summary, report_dir=tmp_path, run_id="r")
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


def test_print_summary_matches_the_documented_table():
    out = io.StringIO()
    summary = {"counts": {"invalid": 12, "created": 180, "duplicate": 3, "failed": 0}, "total": 195, "blank_rows": 3,
               "report_files": ["results.csv", "results.xlsx", "errors-crm.csv", "summary.json"]}
    print_summary(summary, Path("reports/20261126-214501-3f2a"), stream=out)
    assert out.getvalue() == (
        " status       rows\n"
        " created       180\n"
        " duplicate       3\n"
        " invalid        12\n"
        " total         195   (3 blank rows skipped)\n"
        "Report: reports/20261126-214501-3f2a/ results.csv, results.xlsx, errors-crm.csv, summary.json\n"
    )


def test_print_summary_explains_ambiguous_dry_run_and_notes():
    out = io.StringIO()
    summary = {"counts": {"valid": 1_234_567}, "total": 1_234_567, "dry_run": True, "ambiguous": 2, "notes": ["n1"]}
    print_summary(summary, Path("r"), stream=out)
    text = out.getvalue()
    assert " valid      1234567\n" in text
    assert "Dry run: nothing was sent." in text
    assert re.search(r"^2 sent without a clear answer .*may exist in the store", text, re.M)
    assert "Note: n1\n" in text


def test_print_summary_of_an_empty_run():
    out = io.StringIO()
    print_summary({"counts": {}, "total": 0}, Path("r"), stream=out)
    assert out.getvalue() == " status       rows\n total           0\nReport: r/results.csv\n"


def test_new_run_id_is_sortable_and_random_suffixed():
    early = new_run_id(dt.datetime(2026, 11, 26, 21, 45, 1))
    late = new_run_id(dt.datetime(2026, 11, 26, 21, 45, 2))
    assert re.fullmatch(r"20261126-214501-[0-9a-f]{4}", early)
    assert early < late
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", new_run_id())
