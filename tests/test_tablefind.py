"""Spreadsheets as people make them (issue 24): the table found where it is.

Each file is built here the way a person makes it: a title and a blank row above the header, a row of
merged group cells, an export's banner lines, totals and "Exported by" notes below the table, two exports
pasted one under the other, notes in a column to the right. What a user checks: every contact read with
the row Excel shows, nothing reported that isn't a row, and the rows skipped named on the terminal and in
summary.json.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_support import cli, read_csv, run_dir, summary
from importer.runs.pipeline import ImportOptions, run_import
from load_helpers import load_with_stats
from load_helpers import write_ods as ods

EMAILS = ["anna@example.com", "bert@example.com", "cleo@example.com"]


def dry(path: Path, tmp_path: Path, **kw):
    return run_import([str(path)], ImportOptions(dry_run=True, report_dir=tmp_path / "r", quiet=True, **kw))


def read(result) -> list[tuple[int, str, str]]:
    """(Excel row, contact as written, status) of every record."""
    return [(r.source.row, r.source_contact, r.outcome.status.value) for r in result.records]


def workbook(path: Path, rows: list[list], title: str = "Sheet", merge: tuple[str, ...] = ()) -> Path:
    """`rows` from row 1 ([] is a blank row); cells merged as in `merge` (A1:B1)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for number, row in enumerate(rows, 1):
        for column, value in enumerate(row, 1):
            if value is not None and value != "":
                sheet.cell(number, column, value)
    for cells in merge:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def kundenliste(path: Path) -> Path:
    return workbook(path, [
        ["Kundenliste Dezember 2026"],
        [],
        ["Customer ID", "Name", "E-Mail", "Telefon"],
        [1001, "Anna", EMAILS[0], "+49 171 2345678"],
        [1002, "Bert", EMAILS[1], ""],
        [1003, "Cleo", EMAILS[2], "+49 171 2345679"],
        [],
        ["Summe", "", 3, 2],
    ], title="Kunden")  # fmt: skip


def test_kundenliste_title_above_and_summe_below(tmp_path, capsys):
    path = kundenliste(tmp_path / "kundenliste.xlsx")
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    rows = read_csv(run_dir(tmp_path / "r") / "results.csv")
    assert [(r["row"], r["source_contact"], r["status"]) for r in rows] == [
        ("4", EMAILS[0], "valid"), ("4", "+49 171 2345678", "valid"), ("5", EMAILS[1], "valid"),
        ("6", EMAILS[2], "valid"), ("6", "+49 171 2345679", "valid")]  # fmt: skip
    assert f"Note: {path}:Kunden: header on row 3; rows 1-2 skipped (a title)" in run.err_lines
    assert f"Note: {path}:Kunden: row 8 below the table skipped (notes: 'Summe | 3 | 2')" in run.err_lines
    (table,) = summary(tmp_path / "r")["tables"]
    assert table["header_row"] == 3
    assert table["skipped"] == [{"rows": [1], "what": "title", "text": "'Kundenliste Dezember 2026'"},
                                {"rows": [8], "what": "notes below", "text": "'Summe | 3 | 2'"}]


def test_errors_csv_of_such_a_file_imports_again_as_it_is(tmp_path):
    path = workbook(tmp_path / "kundenliste.xlsx", [
        ["Kundenliste Dezember 2026"], [],
        ["Customer ID", "E-Mail"], [1001, EMAILS[0]], [1002, "bert@@example.com"], [],
        ["Exported by Maria, 2026-12-01"],
    ])  # fmt: skip
    first = dry(path, tmp_path)
    assert read(first) == [(4, EMAILS[0], "valid"), (5, "bert@@example.com", "invalid")]
    errors = first.report_path / "errors.csv"
    lines = read_csv(errors)
    assert [(r["Customer ID"], r["E-Mail"]) for r in lines] == [("1002", "bert@@example.com")]
    errors.write_text(errors.read_text("utf-8-sig").replace("bert@@", "bert@"), "utf-8")
    again = dry(errors, tmp_path / "again")
    assert read(again) == [(2, EMAILS[1], "valid")]
    assert again.summary["tables"][0]["header_row"] == 1 and again.summary["tables"][0]["skipped"] == []


def test_merged_group_cells_above_the_header(tmp_path, capsys):
    path = workbook(tmp_path / "grouped_header.xlsx", [
        ["Customer", "", "Contact details", ""],
        ["Customer ID", "Name", "Email", "Phone"],
        [1, "Ann", EMAILS[0], "+14155550101"],
        [2, "Bert", EMAILS[1], ""],
    ], merge=("A1:B1", "C1:D1"))  # fmt: skip
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert f"Note: {path}:Sheet: header on row 2; row 1 skipped (a group row)" in run.err_lines
    (table,) = summary(tmp_path / "r")["tables"]
    assert table["columns"] == {"Customer ID": "customerId", "Email": "EMAIL", "Phone": "PHONE"}
    result = dry(path, tmp_path)
    assert read(result) == [(3, EMAILS[0], "valid"), (3, "+14155550101", "valid"), (4, EMAILS[1], "valid")]


def test_an_exports_banner_lines_and_a_blank_line_before_the_header(tmp_path, capsys):
    path = tmp_path / "export_banner.csv"
    path.write_text("Export contacts\nGenerated 2026-12-01 10:15\n\nCustomer ID;Email;Phone\n"
                    f"1;{EMAILS[0]};+14155550101\n2;{EMAILS[1]};\n", "utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert f"Note: {path}: header on row 4; rows 1-3 skipped (2 title lines)" in run.err_lines
    assert [(r["row"], r["source_contact"]) for r in read_csv(run_dir(tmp_path / "r") / "results.csv")] == [
        ("5", EMAILS[0]), ("5", "+14155550101"), ("6", EMAILS[1])]
    assert summary(tmp_path / "r")["tables"][0]["skipped"] == [
        {"rows": [1, 2], "what": "title", "text": "'Export contacts'"}]
    assert read(dry(path, tmp_path / "trial", limit=1)) == [(5, EMAILS[0], "valid"), (5, "+14155550101", "valid")]


def test_notes_after_a_blank_row_are_not_rows_but_a_line_inside_the_table_is(tmp_path, capsys):
    path = workbook(tmp_path / "with_notes.xlsx", [
        ["Customer ID", "Email"],
        [1, EMAILS[0]],
        ["Exported by Maria"],  # inside the table (no blank row above): a row, reported
        [2, EMAILS[1]],
        [],
        ["Total: 2 customers"],
        ["Exported by Maria on 2026-12-01 14:03"],
    ])  # fmt: skip
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 1
    rows = read_csv(run_dir(tmp_path / "r") / "results.csv")
    assert [(r["row"], r["status"]) for r in rows] == [("2", "valid"), ("3", "invalid"), ("4", "valid")]
    assert (f"Note: {path}:Sheet: rows 6-7 below the table skipped (notes: 'Total: 2 customers'; "
            "'Exported by Maria on 2026-12-01 14:03')") in run.err_lines
    assert summary(tmp_path / "r")["tables"][0]["skipped"][0]["rows"] == [6, 7]


def test_a_header_repeated_in_the_middle_and_a_second_table_with_its_own_header(tmp_path, capsys):
    path = tmp_path / "pasted_twice.csv"
    path.write_text(f"Customer ID,Email\n1,{EMAILS[0]}\n2,{EMAILS[1]}\nCustomer ID,Email\n3,{EMAILS[2]}\n"
                    "Customer ID,Phone,Email\n4,+14155550104,dora@example.com\ncustomer_id,phone,email\n"
                    "5,+14155550105,\n", "utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert f"Note: {path}: row 4 repeats the header: skipped" in run.err_lines
    assert f"Note: {path}: a second table from row 6, with its own header ('Customer ID', 'Phone', 'Email')" \
        in run.err_lines
    assert f"Note: {path}: row 8 repeats the header: skipped" in run.err_lines
    rows = read_csv(run_dir(tmp_path / "r") / "results.csv")
    assert [(r["row"], r["customer_id"], r["type"], r["source_contact"]) for r in rows] == [
        ("2", "1", "EMAIL", EMAILS[0]), ("3", "2", "EMAIL", EMAILS[1]), ("5", "3", "EMAIL", EMAILS[2]),
        ("7", "4", "PHONE", "+14155550104"), ("7", "4", "EMAIL", "dora@example.com"), ("9", "5", "PHONE", "+14155550105"),
    ]  # fmt: skip
    tables = summary(tmp_path / "r")["tables"]
    assert [(t["header_row"], list(t["columns"])) for t in tables] == [
        (1, ["Customer ID", "Email"]), (6, ["Customer ID", "Phone", "Email"])]
    assert [s["rows"] for t in tables for s in t["skipped"]] == [[4], [8]]


def test_a_header_on_row_5_under_a_logos_empty_rows(tmp_path):
    path = workbook(tmp_path / "logo.xlsx", [[], [], [], [], ["Customer ID", "Email"], [1, EMAILS[0]], [2, EMAILS[1]]])
    result = dry(path, tmp_path)
    assert read(result) == [(6, EMAILS[0], "valid"), (7, EMAILS[1], "valid")]
    assert f"{path}:Sheet: header on row 5; rows 1-4 blank" in result.summary["notes"]


def test_an_ods_with_a_title(tmp_path):
    path = ods(tmp_path / "kontakte.ods", [["Kontakte"], [], ["Customer ID", "Email"], ["1", EMAILS[0]],
                                           ["2", EMAILS[1]]])
    result = dry(path, tmp_path)
    assert read(result) == [(4, EMAILS[0], "valid"), (5, EMAILS[1], "valid")]
    assert f"{path}:Kontakte: header on row 3; rows 1-2 skipped (a title)" in result.summary["notes"]


def test_a_utf16_unicode_text_file_with_a_banner(tmp_path):
    path = tmp_path / "unicode.txt"
    text = f"Kundenexport, 1.12.2026\r\n\r\nCustomer ID\tE-Mail\r\n1\t{EMAILS[0]}\r\n2\tzoë@example.com\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    result = dry(path, tmp_path)
    assert read(result) == [(4, EMAILS[0], "valid"), (5, "zoë@example.com", "valid")]
    assert result.summary["encodings"][str(path)] == "utf-16"
    assert result.summary["tables"][0]["header_row"] == 3


def test_notes_in_a_column_right_of_the_table(tmp_path, capsys):
    path = workbook(tmp_path / "right.xlsx", [
        ["Customer ID", "Email", "", "", "Stand: 1.12.2026"],
        [1, EMAILS[0], "", "", "VIP"],
        [2, EMAILS[1]],
        ["", "", "", "", "checked by Tom"],
        [3, EMAILS[2]],
    ])  # fmt: skip
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    rows = read_csv(run_dir(tmp_path / "r") / "results.csv")
    assert [(r["row"], r["source_contact"], r["status"]) for r in rows] == [
        ("2", EMAILS[0], "valid"), ("3", EMAILS[1], "valid"), ("5", EMAILS[2], "valid")]
    assert (f"Note: {path}:Sheet: row 4 skipped (notes beside the table, right of its columns: 'checked by Tom')"
            in run.err_lines)


def test_a_totals_row_with_numbers_right_under_the_table(tmp_path):
    path = workbook(tmp_path / "totals.xlsx", [
        ["Customer ID", "Email", "Orders", "Spent"],
        [1, EMAILS[0], 2, 10.5],
        [2, EMAILS[1], 1, 4],
        ["Gesamt", "", 3, 14.5],
    ])  # fmt: skip
    result = dry(path, tmp_path)
    assert read(result) == [(2, EMAILS[0], "valid"), (3, EMAILS[1], "valid")]
    assert result.summary["tables"][0]["skipped"] == [{"rows": [4], "what": "notes below", "text": "'Gesamt | 3 | 14.5'"}]


def test_header_row_option_and_no_header_in_the_first_rows(tmp_path, capsys):
    path = tmp_path / "odd.csv"
    path.write_text("Liste\n\nKunde,Adresse\n1,a@example.com\n", "utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and len(run.err_lines) == 1
    assert "none of rows 1, 3-4 reads as a header: name it with --header-row N" in run.err
    mapping = tmp_path / "m.json"
    mapping.write_text('{"Kunde": "customerId", "Adresse": "EMAIL"}', "utf-8")
    found = dry(path, tmp_path / "m", mapping=mapping)  # a mapping's words are header words too
    assert read(found) == [(4, "a@example.com", "valid")] and found.summary["tables"][0]["header_row"] == 3
    said = dry(path, tmp_path / "h", mapping=mapping, header_row=3)
    assert read(said) == read(found)
    blank = cli(capsys, "import", path, "--dry-run", "--header-row", "2", "--report-dir", tmp_path / "r")
    assert blank.code == 2 and "--header-row 2: row 2 is blank" in blank.err and len(blank.err_lines) == 1
    past = cli(capsys, "import", path, "--dry-run", "--header-row", "9", "--report-dir", tmp_path / "r")
    assert past.code == 2 and "--header-row 9: the data ends on row 4" in past.err


def test_columns_shows_the_header_row_found_and_the_rows_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = kundenliste(tmp_path / "kundenliste.xlsx")
    run = cli(capsys, "columns", path)
    assert run.code == 0, run.err
    assert "  header on row 3; rows 1-2 skipped (a title)" in run.out.splitlines()
    assert "E-Mail" in (tmp_path / "kundenliste.mapping.csv").read_text("utf-8")


@pytest.mark.parametrize("rows_above", [0, 19])
def test_the_header_is_looked_for_in_the_first_20_rows_that_hold_something(tmp_path, rows_above):
    lines = [f"line {i}" for i in range(rows_above)] + ["Customer ID,Email", f"1,{EMAILS[0]}"]
    path = tmp_path / "deep.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert read(dry(path, tmp_path)) == [(rows_above + 2, EMAILS[0], "valid")]
    path.write_text("\n".join(["one more"] + lines) + "\n", "utf-8")
    if rows_above == 19:  # row 21: past the rows looked at
        with pytest.raises(Exception, match="none of rows 1-20 reads as a header"):
            dry(path, tmp_path / "deeper")


def test_a_last_row_that_starts_like_a_total_but_holds_a_contact_is_a_row(tmp_path):
    path = workbook(tmp_path / "wine.xlsx", [["Company", "Email"], ["Acme", EMAILS[0]], ["Total Wine", "info@totalwine.com"]])
    result = dry(path, tmp_path, match_by="email")
    assert [row for row, _, _ in read(result)] == [2, 3] and result.summary["tables"][0]["skipped"] == []


_TITLES = ["Kundenliste Dezember 2026", "Export contacts", "Generated 2026-12-01 10:15", ""]
_NOTES = ["Total: 3 customers", "Summe,,3", "Exported by Maria on 2026-12-01", "Acme Inc.", "Grand Totals (3 records)"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.lists(st.sampled_from(_TITLES), max_size=4),
       data=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=10),  # (blank line before, phone)
       repeats=st.sets(st.integers(1, 9), max_size=2), notes=st.lists(st.sampled_from(_NOTES), max_size=3))
def test_every_contact_with_its_row_and_nothing_else(tmp_path, titles, data, repeats, notes):
    """Whatever is above the header, repeated inside the table or noted below it: the rows read are exactly
    the data rows, each at the row Excel shows, and every other line that holds something is named."""
    lines, expected, named = list(titles), [], [n for n, t in enumerate(titles, 1) if t]
    lines.append("Customer ID,Email,Phone")
    for i, (gap, phone) in enumerate(data):
        if i in repeats:
            lines.append("Customer ID,Email,Phone")
            named.append(len(lines))
        if gap and i:
            lines.append("")
        lines.append(f"{100 + i},c{i}@example.com,{f'+141555501{i:02d}' if phone else ''}")
        expected += [(len(lines), f"c{i}@example.com")] + ([(len(lines), f"+141555501{i:02d}")] if phone else [])
    if notes:
        lines.append("")
        named += range(len(lines) + 1, len(lines) + 1 + len(notes))
        lines += notes
    path = tmp_path / "made.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    records, stats = load_with_stats(path)  # the loader alone: no report to write, many examples
    assert [(r.source.row, r.source_contact, r.ok) for r in records] == [(row, c, True) for row, c in expected]
    (table,) = stats.tables
    assert sorted(r for rows, _, _ in table.skipped for r in rows) == named
    assert table.header_row == len(titles) + 1


def test_a_group_row_that_reads_as_a_header_gives_way_to_the_fuller_header_under_it(tmp_path):
    path = workbook(tmp_path / "phones.xlsx", [
        ["", "", "Phone", ""],
        ["Customer ID", "Name", "Mobile", "Work"],
        [1, "Ann", "+14155550101", "+14155550102"],
        [],
        ["Maria Schmidt", "Vertrieb"],  # a signature: no value a row would hold
    ], merge=("C1:D1",))  # fmt: skip
    result = dry(path, tmp_path)
    assert read(result) == [(3, "+14155550101", "valid"), (3, "+14155550102", "valid")]
    assert [r.note for r in result.records] == ["Mobile", "Work"]  # the phone's kind, from its header
    (table,) = result.summary["tables"]
    assert table["columns"] == {"Customer ID": "customerId", "Mobile": "PHONE", "Work": "PHONE"}  # Work: by its group
    assert [(s["rows"], s["what"]) for s in table["skipped"]] == [
        ([1], "group row"), ([5], "notes below")]


def _sheets_as_people_make_them(folder: Path) -> list[tuple[Path, list[tuple[int, str]], list[tuple[list[int], str]]]]:
    """(file, every contact as (Excel row, as written), the rows skipped as (rows, what)) of hand-made sheets:
    a logo's empty rows, German/French/Spanish headers, group rows, totals and notes below, an empty list."""
    spanish = folder / "clientes.csv"
    spanish.write_bytes("Exportación de clientes\nGenerado el 01/12/2026 10:00\n\nNº cliente;Correo electrónico;"
                        "Móvil;País\n1006;c6@example.com;629 03 24 28;España\n\nTotal: 1 cliente\n".encode("cp1252"))
    return [
        (workbook(folder / "kunden.xlsx", [
            [], [], [], ["Kundennummer", "Name", "E-Mail", "Mobil", "Land", "", "Stand: 01.12.2026"],
            [1001, "Anna", "c1@example.com", "0171 2345678", "Deutschland"],
            [1002, "Bert", "c2@example.com", "0664 1234567", "Österreich"], [], ["Summe", "", 2, 2]]),
         [(5, "c1@example.com"), (5, "0171 2345678"), (6, "c2@example.com"), (6, "0664 1234567")],
         [([4], "notes beside the header"), ([8], "notes below")]),
        (workbook(folder / "clients.xlsx", [
            ["Liste des clients 2026"], [], ["Client", "", "Coordonnées", ""],
            ["N° client", "Nom", "Courriel", "Portable"], [1004, "Dupont", "c4@example.com", "+33 6 12 34 56 78"],
            [], ["Total", 1], ["Exporté par Marie le 01/12/2026"]], merge=("A1:D1", "A3:B3", "C3:D3")),
         [(5, "c4@example.com"), (5, "+33 6 12 34 56 78")],
         [([1], "title"), ([3], "group row"), ([7, 8], "notes below")]),
        (spanish, [(5, "c6@example.com"), (5, "629 03 24 28")], [([1, 2], "title"), ([7], "notes below")]),
        (workbook(folder / "empty.xlsx", [["Customer ID", "Email", "Phone"], [], ["Total: 0"]]), [],
         [([3], "notes below")]),
        (workbook(folder / "typ.xlsx", [  # "Typ" (a customer's type) beside "Kontakt" (a person): one customer a row
            ["Kundennummer", "Typ", "Kontakt", "E-Mail", "Telefon"], [1008, "Firma", "Herr Maier", "c8@example.com",
                                                                      "+49 30 1234567"]]),
         [(2, "c8@example.com"), (2, "+49 30 1234567")], []),
        (workbook(folder / "verteiler.xlsx", [  # a title that reads as a header itself: the fuller one below wins
            ["Newsletter E-Mails 2026"], [], ["Kundennummer", "E-Mail", "Telefon"], [1007, "c7@example.com", ""]]),
         [(4, "c7@example.com")], [([1], "title")]),
    ]  # fmt: skip


def test_hand_made_sheets_every_contact_with_its_row_and_no_line_that_is_not_a_row(tmp_path):
    for path, contacts, skipped in _sheets_as_people_make_them(tmp_path):
        result = dry(path, tmp_path / path.stem)
        assert read(result) == [(row, c, "valid") for row, c in contacts], path.name
        (table,) = result.summary["tables"]
        assert [(s["rows"], s["what"]) for s in table["skipped"]] == skipped, path.name
        assert "customerId" in table["columns"].values(), path.name  # Kundennummer, N° client, Nº cliente


def test_section_headings_inside_the_table_are_named_not_rows(tmp_path, capsys):
    """`Nord` alone in the first cell right above its rows is a heading (named, in summary.json too); a line
    that starts like a note (`Exported by`) or holds a value stays a row, reported."""
    path = workbook(tmp_path / "regions.xlsx", [
        ["Name", "Email"],
        ["Nord"],
        ["Anna", EMAILS[0]],
        ["Region: Süd"],
        ["Bert", EMAILS[1]],
        ["Exported by Maria"],  # a note's start inside the table: a row, reported
        ["Cleo", EMAILS[2]],
        ["Dora"],  # a last line, nothing under it: a row (missing its contact)
    ])  # fmt: skip
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    rows = read_csv(run_dir(tmp_path / "r") / "results.csv")
    assert [(r["row"], r["contact"], r["status"]) for r in rows] == [
        ("3", EMAILS[0], "valid"), ("5", EMAILS[1], "valid"), ("6", "", "invalid"), ("7", EMAILS[2], "valid"),
        ("8", "", "invalid")]
    assert f"Note: {path}:Sheet: rows 2, 4 skipped (section headings above their rows: 'Nord'; 'Region: Süd')" \
        in run.err_lines
    assert {"rows": [2, 4], "what": "section headings", "text": "'Nord'; 'Region: Süd'"} in \
        summary(tmp_path / "r")["tables"][0]["skipped"]
