"""Reading files into the run's table: every Excel CSV flavour, workbooks, layouts, mappings and bad files.

Each test reads files the way a run does (read_table, then validate) and checks what a
user sees: the records and their Excel row numbers, the cells as written, the errors and
the column they name, the encoding and delimiter chosen, what was counted and skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.errors import Code, InputError
from importer.input.table import LoadStats, read_table
from importer.input.textfile import sniff_delimiter
from importer.mapping.headers import read_mapping
from importer.records import Status
from load_helpers import cells_as_written, load_records, load_table, load_with_stats, records_of

LONG_HEADER = ["Customer ID", "Type", "Contact", "Note"]
ACCENTED = [
    ["1001", "EMAIL", "jose@example.com", "José Müller"],
    ["1002", "PHONE", "+33 1 23 45 67 89", "François Ñandú, Zoë"],
]


def write_text(path, rows, *, encoding="utf-8", delimiter=",", newline="\r\n"):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(paths, **kw):
    return load_with_stats(paths, **kw)


def contacts(records):
    return [(r.source.row, r.customer_id, r.type, r.contact) for r in records]


def codes(record):
    return [(e.code, e.column) for e in record.errors]


def source_columns(table):
    return table.frame["source_column"].astype(str).tolist()


# ------------------------------------------------------------------ Excel's text flavours


@pytest.mark.parametrize(
    "flavour, encoding, delimiter, chosen",
    [
        ("CSV UTF-8", "utf-8-sig", ",", "utf-8-sig"),
        ("CSV (Windows)", "cp1252", ",", "cp1252"),
        ("CSV European", "cp1252", ";", "cp1252"),
        ("Unicode Text", "utf-16", "\t", "utf-16"),  # Python writes the LE BOM on LE machines
        ("UTF-16 big-endian with BOM", "utf-16-be", "\t", "utf-16"),
        ("plain UTF-8 pipes", "utf-8", "|", "utf-8"),
    ],
)
def test_excel_text_flavours_read_the_same(tmp_path, flavour, encoding, delimiter, chosen):
    name = "unicode.txt" if "Unicode" in flavour else "export.csv"
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows([LONG_HEADER, *ACCENTED])
    text = buf.getvalue()
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        raw = text.encode(encoding)
    (tmp_path / name).write_bytes(raw)

    table, stats = load_table([tmp_path / name])
    records = records_of(table)

    assert [(r.customer_id, r.type, r.source_contact, r.note) for r in records] == [
        (1001, "EMAIL", "jose@example.com", "José Müller"),
        (1002, "PHONE", "+33 1 23 45 67 89", "François Ñandú, Zoë"),
    ]
    assert [r.contact for r in records] == ["jose@example.com", "+33123456789"]
    assert all(r.outcome.status is Status.VALID for r in records)
    assert [r.source.row for r in records] == [2, 3]
    assert [cells_as_written(table, r) for r in records] == [tuple(row) for row in ACCENTED]
    assert stats.encodings == {str(tmp_path / name): chosen}
    assert stats.delimiters[str(tmp_path / name)] == delimiter
    assert stats.tables[0].headers == tuple(LONG_HEADER)  # no BOM left on "Customer ID"


def test_utf16_without_bom_is_recognised(tmp_path):
    path = tmp_path / "nobom.txt"
    path.write_bytes("Customer ID\tType\tContact\r\n1\tEMAIL\tzoë@x.co\r\n".encode("utf-16-le"))
    (record,), stats = run([path])
    assert record.contact == "zoë@x.co" and stats.encodings[str(path)] == "utf-16-le"


def test_encoding_choice_is_logged(tmp_path, caplog):
    path = write_text(tmp_path / "w.csv", [LONG_HEADER, *ACCENTED], encoding="cp1252")
    with caplog.at_level(logging.INFO, logger="importer"):
        run([path])
    assert any("cp1252" in m and "w.csv" in m for m in caplog.messages)


def test_cyrillic_legacy_text_is_not_read_as_cp1252(tmp_path):
    rows = [LONG_HEADER] + [[str(1000 + i), "EMAIL", f"u{i}@example.com", "Иван Петров, заказ доставлен в Москву"] for i in range(20)]
    path = write_text(tmp_path / "ru.csv", rows, encoding="cp1251")
    records, stats = run([path])
    assert stats.encodings[str(path)] in ("cp1251", "windows-1251")
    assert records[0].note == "Иван Петров, заказ доставлен в Москву"


def test_encoding_and_delimiter_options_override_detection(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Customer ID:Type:Contact\n1:EMAIL:café@b.co\n", encoding="latin-1")
    records, stats = run([path], encoding="latin-1", delimiter=":")
    assert records[0].source_contact == "café@b.co"
    assert stats.encodings[str(path)] == "iso8859-1"
    tabbed = tmp_path / "tabbed.csv"
    tabbed.write_text("Customer ID\tType\tContact\n1\tEMAIL\ta,b@c.co\n")
    assert run([tabbed], delimiter="tab")[0][0].source_contact == "a,b@c.co"


@pytest.mark.parametrize("directive", ["sep=;", "SEP=|"])
def test_excels_sep_line_names_the_delimiter_and_is_not_a_row(tmp_path, directive):
    """Excel reads the first line "sep=;" as the delimiter and hides it: the header is Excel's row 1, the
    rows' numbers are the ones Excel shows, and nothing calls the line a title."""
    d = directive[-1]
    path = tmp_path / "excel.csv"
    path.write_text(f"{directive}\r\nCustomer ID{d}Type{d}Contact{d}Note\r\n1{d}EMAIL{d}a@x.co{d}1,5\r\n\r\n"
                    f"2{d}EMAIL{d}b@@x.co{d}\r\n", encoding="utf-8")
    records, stats = run([path])
    assert [(r.source.row, r.contact, r.note) for r in records] == [(2, "a@x.co", "1,5"), (4, "b@@x.co", "")]
    assert stats.delimiters[str(path)] == d
    assert not any("title" in note for note in stats.notes)


def test_semicolon_file_with_decimal_commas_is_not_misread(tmp_path):
    # Excel in Germany/France: ';' between cells, ',' in decimals. csv.Sniffer picks ','.
    rows = [["Customer ID", "Type", "Contact", "Spent, EUR"]] + [
        [str(i), "EMAIL", f"u{i}@x.com", f"{i},50"] for i in range(5)
    ]
    path = write_text(tmp_path / "eu.csv", rows, delimiter=";", encoding="cp1252")
    assert csv.Sniffer().sniff(path.read_text("cp1252")).delimiter == ","  # the trap is real
    table, stats = load_table([path])
    records = records_of(table)
    assert stats.delimiters[str(path)] == ";"
    assert (records[1].customer_id, records[1].type, records[1].contact, records[1].note) == (1, "EMAIL", "u1@x.com", "")
    assert cells_as_written(table, records[1]) == ("1", "EMAIL", "u1@x.com", "1,50")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1,5;2;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('a;b\n"x;y;z";1\n"p\nq;r";2\n', ";"),  # counts outside quotes, records not lines
        ("a,b;c;d\n1,2;3;4\n5;6;7\n", ";"),  # the most consistent wins
        ("Customer ID\n1\n", ","),  # one column: the default
        ("Export, 2026-12-01\n\nID\tEmail\n1\ta@b.co\n2\tc@d.co\n", "\t"),  # a banner's comma sets nothing (issue 24)
    ],
)
def test_sniff_delimiter(text, expected):
    assert sniff_delimiter(text) == expected


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_quoted_cells_blank_lines_and_row_numbers(tmp_path, newline):
    text = newline.join(
        [
            "",  # a blank line before the header: Excel shows the header on row 2
            "Customer ID,Type,Contact,Note",
            '1001,EMAIL,a@example.com,"said ""hi"", twice"',
            '1002,PHONE,+4915123456789,"line one' + newline + "line two" + newline + 'line three"',
            "",
            ",,,",
            "1003,EMAIL,c@example.com,",
            "   ,  ,\u00a0, ",
            "1004,URL,https://example.com/a,b",
            "",
        ]
    )
    path = tmp_path / "q.csv"
    path.write_bytes(text.encode())
    records, stats = run([path])
    assert contacts(records) == [
        (3, 1001, "EMAIL", "a@example.com"),
        (4, 1002, "PHONE", "+4915123456789"),  # three lines, one row
        (7, 1003, "EMAIL", "c@example.com"),
        (9, 1004, "URL", "https://example.com/a"),
    ]
    assert records[0].note == 'said "hi", twice'
    assert records[1].note == newline.join(["line one", "line two", "line three"])
    assert all(r.ok for r in records)
    assert (stats.rows, stats.blank_rows) == (4, 3)


def test_values_are_cleaned_but_never_type_inferred(tmp_path):
    path = write_text(
        tmp_path / "t.csv",
        [["Customer ID", "Type", "Contact", "Note", "Default", "Order"],
         ["0012", " EMAIL ", "\u00a0a@b.co\u00a0", "NA", "null", "007"],
         ["1.77737E+08", "PHONE", "+49 1512 3456789", "N/A", "FALSE", "1.0"]],
    )
    table, _ = load_table([path])
    first, second = records_of(table)
    # normalized values are cleaned (spaces and NBSPs trimmed) ...
    assert (first.customer_id, first.type, first.contact, first.order_by) == (12, "EMAIL", "a@b.co", 7)
    # ... but "NA", "N/A" and "null" are text, not missing values
    assert (first.note, second.note) == ("NA", "N/A")
    assert codes(first) == [(Code.INVALID_DEFAULT, "Default")]  # "null" is not blank
    assert second.default is False
    # an id Excel wrote in scientific notation is refused, not read as a number
    assert codes(second) == [(Code.LOST_DIGITS, "Customer ID")]
    assert second.customer_id is None and second.outcome.error_code == Code.LOST_DIGITS
    # the cells stay as written
    assert cells_as_written(table, first) == ("0012", " EMAIL ", "\u00a0a@b.co\u00a0", "NA", "null", "007")
    assert cells_as_written(table, second) == ("1.77737E+08", "PHONE", "+49 1512 3456789", "N/A", "FALSE", "1.0")


def test_short_rows_are_padded_and_cells_past_the_header_dropped(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("Customer ID,Type,Contact,Note\n1,EMAIL,a@x.co\n2,EMAIL,b@x.co,hi,extra,more\n")
    table, stats = load_table([path])
    short, wide = records_of(table)
    assert (short.source.row, short.note, short.ok) == (2, "", True)
    assert (wide.source.row, wide.note, wide.ok) == (3, "hi", True)
    assert cells_as_written(table, short) == ("1", "EMAIL", "a@x.co", "")
    assert cells_as_written(table, wide) == ("2", "EMAIL", "b@x.co", "hi")
    assert stats.rows == 2


def test_header_only_file_yields_nothing(tmp_path):
    path = write_text(tmp_path / "h.csv", [LONG_HEADER])
    records, stats = run([path])
    assert records == [] and stats.rows == 0 and len(stats.tables) == 1


def test_several_files_are_chained_in_order(tmp_path):
    a = write_text(tmp_path / "a.csv", [LONG_HEADER, ["1", "EMAIL", "a@x.co", ""]])
    b = write_text(tmp_path / "b.csv", [LONG_HEADER, ["2", "EMAIL", "b@x.co", ""]], delimiter=";")
    records, stats = run([a, b])
    assert [(r.source.file, r.source.row, r.customer_id) for r in records] == [(str(a), 2, 1), (str(b), 2, 2)]
    assert [t.file for t in stats.tables] == [str(a), str(b)]


# ------------------------------------------------------------------ headers and layouts


@pytest.mark.parametrize(
    "headers",
    [
        ["Customer ID", "Type", "Contact"],
        ["customer_id", "contact_type", "contact_value"],
        ["customerId", "TYPE", "value"],
        ["CUSTOMER-ID", "Kind", "Address"],
        ["Client ID", "Channel", "Contact"],
        ["customer.id", "type", "contact"],
    ],
)
def test_header_aliases(tmp_path, headers):
    path = write_text(tmp_path / "h.csv", [headers + ["Notes", "Is Default", "Sort Order", "Created At"],
                                           ["7", "EMAIL", "a@b.co", "hi", "yes", "2", "2024-01-02"]])
    table, stats = load_table([path])
    (record,) = records_of(table)
    assert (record.customer_id, record.type, record.contact, record.note, record.default, record.order_by,
            record.timestamp) == (7, "EMAIL", "a@b.co", "hi", True, 2, "2024-01-02 00:00:00 +0000")
    assert record.ok
    assert stats.tables[0].layout == "long"
    assert source_columns(table) == [headers[2]]


def test_errors_name_the_column_as_written(tmp_path):
    path = write_text(tmp_path / "h.csv", [["client id", "channel", "value", "primary"], ["x", "EMAIL", "nope", "maybe"]])
    (record,) = load_records([path])
    assert codes(record) == [(Code.INVALID_CUSTOMER_ID, "client id"), (Code.INVALID_EMAIL, "value"),
                             (Code.INVALID_DEFAULT, "primary")]
    assert record.outcome.status is Status.INVALID and record.outcome.error_code.split(";")[0] == Code.INVALID_CUSTOMER_ID


def test_unknown_headers_are_ignored_but_kept_in_cells(tmp_path):
    path = write_text(tmp_path / "u.csv", [["Customer ID", "Segment", "Type", "Contact"], ["7", "VIP", "EMAIL", "a@b.co"]])
    table, stats = load_table([path])
    (record,) = records_of(table)
    assert "Segment" not in stats.tables[0].field_of
    assert record.ok and record.note == ""
    assert cells_as_written(table, record) == ("7", "VIP", "EMAIL", "a@b.co")


def test_long_layout_reads_a_lone_email_column_as_the_customers_email(tmp_path):
    path = write_text(tmp_path / "e.csv", [["Email", "Type", "Contact"], ["C@shop.com", "PHONE", "+4915123456789"]])
    (record,) = load_records([path])
    assert (record.customer_id, record.customer_email, record.type, record.contact) == (
        None, "c@shop.com", "PHONE", "+4915123456789")
    assert record.ok


def test_long_row_with_empty_contact_is_still_a_record(tmp_path):
    path = write_text(tmp_path / "m.csv", [LONG_HEADER, ["1001", "EMAIL", "", "no contact"]])
    table, _ = load_table([path])
    (record,) = records_of(table)
    assert (record.source.row, record.customer_id, record.type, record.contact, record.note) == (
        2, 1001, "EMAIL", "", "no contact")
    assert codes(record) == [(Code.MISSING_CONTACT, "Contact")]
    assert source_columns(table) == ["Contact"]


def test_wide_rows_expand_into_one_record_per_contact_cell(tmp_path):
    header = ["Customer ID", "Name", "Email", "Phone", "Mobile", "WhatsApp", "Instagram", "Website", "Notes"]
    path = write_text(tmp_path / "w.csv", [
        header,
        ["2001", "Ann", "ann@x.co", "+14155550100", "", "+14155550101", "@ann", "ann.example.com", "vip"],
        ["2002", "Bob", "", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", "", ""],
        ["2003", "Cy", "", "", "+4915123456789", "", "", "", ""],
    ])
    table, stats = load_table([path])
    records = records_of(table)
    assert [(r.source.row, r.type, r.source_contact, column) for r, column in zip(records, source_columns(table))] == [
        (2, "EMAIL", "ann@x.co", "Email"),
        (2, "PHONE", "+14155550100", "Phone"),
        (2, "WHATSAPP", "+14155550101", "WhatsApp"),
        (2, "INSTAGRAM", "@ann", "Instagram"),
        (2, "URL", "ann.example.com", "Website"),
        (3, "", "", ""),  # no contact: still reported (missing-contact)
        (5, "PHONE", "+4915123456789", "Mobile"),
    ]
    assert all(r.customer_id == 2001 and r.note == "vip" and r.ok for r in records[:5])
    assert [r.contact for r in records[:5]] == [
        "ann@x.co", "+14155550100", "+14155550101", "https://www.instagram.com/ann", "https://ann.example.com"]
    assert records[5].customer_id == 2002 and [e.code for e in records[5].errors] == [Code.MISSING_CONTACT]
    assert records[6].customer_id == 2003 and records[6].ok
    assert len({cells_as_written(table, r) for r in records[:5]}) == 1  # one row's cells
    assert stats.tables[0].layout == "wide"
    assert stats.tables[0].field_of["Email"] == "EMAIL"  # the contact kind, not customerEmail
    assert (stats.rows, stats.blank_rows) == (3, 1)


@pytest.mark.parametrize("blank", [" ", "\u00a0", "  \t"])
def test_wide_cells_holding_only_spaces_are_not_contacts(tmp_path, blank):
    # Exports pad empty cells; a column where most cells are the same padding is common.
    rows = [[str(3000 + i), f"u{i}@x.co", blank, blank if i % 2 else "+14155550100"] for i in range(6)]
    path = write_text(tmp_path / "pad.csv", [["Customer ID", "Email", "Phone", "Mobile"], *rows])
    records, stats = run([path])
    assert [(r.source.row, r.type) for r in records] == [
        (2, "EMAIL"), (2, "PHONE"), (3, "EMAIL"), (4, "EMAIL"), (4, "PHONE"), (5, "EMAIL"), (6, "EMAIL"), (6, "PHONE"),
        (7, "EMAIL")]
    assert all(r.ok for r in records) and stats.rows == 6


@pytest.mark.parametrize(
    "header, kind",
    [("E-mail", "EMAIL"), ("Email Address", "EMAIL"), ("Phone 2", "PHONE"), ("Cell Phone", "PHONE"),
     ("Telephone", "PHONE"), ("Tel", "PHONE"), ("Telegram", "TELEGRAM"), ("Facebook", "FACEBOOK"),
     ("Messenger", "FB_MESSENGER"), ("X", "TWITTER"), ("Twitter", "TWITTER"), ("TikTok", "TIKTOK"),
     ("YouTube", "YOUTUBE"), ("Pinterest", "PINTEREST"), ("VKontakte", "VK"), ("Viber", "VIBER"),
     ("Homepage", "URL"), ("URL", "URL"), ("Other", "OTHER")],
)
def test_wide_column_kinds(tmp_path, header, kind):
    path = write_text(tmp_path / "k.csv", [["Customer ID", header], ["1", "v"]])
    table, stats = load_table([path])
    (record,) = records_of(table)
    assert (record.type, record.source_contact) == (kind, "v")
    assert stats.tables[0].field_of[header] == kind and source_columns(table) == [header]


def test_wide_layout_uses_a_bare_id_column_as_the_customer(tmp_path):
    path = write_text(tmp_path / "id.csv", [["ID", "Email"], ["5", "a@b.co"]])
    (record,) = load_records([path])
    assert record.customer_id == 5 and record.ok


def test_long_layout_does_not_guess_that_id_is_the_customer(tmp_path, caplog):
    path = write_text(tmp_path / "id.csv", [["ID", "Type", "Contact"], ["5", "EMAIL", "a@b.co"]])
    with caplog.at_level(logging.WARNING, logger="importer"):
        (record,) = load_records([path])
    assert record.customer_id is None
    assert codes(record) == [(Code.MISSING_CUSTOMER, "customerId")]
    assert any("no customer column" in m for m in caplog.messages)


# ------------------------------------------------------------------ mapping


def test_mapping_json_renames_and_adds_wide_columns(tmp_path):
    mapping_file = tmp_path / "map.json"
    mapping_file.write_text(json.dumps({"Kundennummer": "customerId", "Handynummer": "PHONE", "ID": "ignore"}))
    mapping = read_mapping(mapping_file)
    assert mapping == {"Kundennummer": "customerId", "Handynummer": "PHONE", "ID": ""}
    path = write_text(tmp_path / "de.csv", [["ID", "Kundennummer", "Handynummer", "E-Mail"], ["9", "1001", "+4915123456789", "k@x.de"]])
    records = load_records([path], mapping=mapping)
    assert [(r.customer_id, r.type, r.contact) for r in records] == [
        (1001, "PHONE", "+4915123456789"), (1001, "EMAIL", "k@x.de")]


def test_mapping_csv_with_header_row_and_loose_spelling(tmp_path):
    mapping_file = tmp_path / "map.csv"
    mapping_file.write_text("header,field\nKunde,customer_id\nArt,Type\nWert,contact\nMessenger Link,fb_messenger\n")
    assert read_mapping(mapping_file) == {"Kunde": "customerId", "Art": "type", "Wert": "contact",
                                          "Messenger Link": "FB_MESSENGER"}


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("m.json", "[1, 2]", "JSON object"),
        ("m.json", "{not json", "invalid JSON"),
        ("m.json", '{"A": "colour"}', "unknown field"),
        ("m.csv", "A,customerId,extra\n", "two columns"),
    ],
)
def test_bad_mapping_file(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match=problem):
        read_mapping(path)
    with pytest.raises(InputError, match="not found"):
        read_mapping(tmp_path / "missing.json")


# ------------------------------------------------------------------ workbooks


@pytest.fixture
def workbook(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["Customer ID", "Name", "Email", "Phone", "Notes"])
    ws.append([177737165.0, "Ann", "ann@x.co", 4915123456789, "0012"])
    ws.append([])
    ws.append([1002, "Bob", "bob@x.co", None, "NA"])
    ws2 = wb.create_sheet("Long")
    ws2.append(["Customer ID", "Type", "Contact", "Default", "Timestamp", "Order"])
    ws2.append(["1003", "EMAIL", "c@x.co", True, dt.datetime(2024, 5, 6, 7, 8, 9), 2.5])
    ws2.append(["1003", "PHONE", "+14155550100", False, dt.date(2024, 5, 6), 3])
    hidden = wb.create_sheet("Archive")
    hidden.append(["Customer ID", "Email"])
    hidden.append(["9", "old@x.co"])
    hidden.sheet_state = "hidden"
    wb.create_sheet("Empty")
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def test_workbook_reads_visible_sheets_with_typed_cells(workbook):
    table, stats = load_table([workbook])
    records = records_of(table)
    assert [(r.source.sheet, r.source.row, r.type, r.source_contact) for r in records] == [
        ("Customers", 2, "EMAIL", "ann@x.co"),
        ("Customers", 2, "PHONE", "4915123456789"),
        ("Customers", 4, "EMAIL", "bob@x.co"),
        ("Long", 2, "EMAIL", "c@x.co"),
        ("Long", 3, "PHONE", "+14155550100"),
    ]
    assert str(records[0].source) == "row 2 (book.xlsx, sheet Customers)"
    assert records[0].customer_id == 177737165  # a number cell: no ".0"
    assert records[0].note == "0012" and records[2].note == "NA"  # text cells stay text
    assert records[3].default is True and records[4].default is False
    assert records[3].timestamp == "2024-05-06 07:08:09 +0000"
    assert records[4].timestamp == "2024-05-06 00:00:00 +0000"
    assert codes(records[3]) == [(Code.INVALID_ORDER_BY, "Order")]  # 2.5 keeps its digits
    assert records[4].order_by == 3 and records[4].ok
    written = cells_as_written(table, records[3])
    assert written[3] is True and written[4] == dt.datetime(2024, 5, 6, 7, 8, 9) and written[5] == "2.5"
    assert cells_as_written(table, records[0])[0] == "177737165"
    assert stats.hidden_sheets == [f"{workbook}:Archive"]
    assert [(t.sheet, t.layout) for t in stats.tables] == [("Customers", "wide"), ("Long", "long")]
    assert (stats.rows, stats.blank_rows) == (4, 1)


def test_hidden_sheet_is_logged(workbook, caplog):
    with caplog.at_level(logging.INFO, logger="importer"):
        run([workbook])
    assert any("Archive" in m and "hidden" in m for m in caplog.messages)


def test_sheet_option_picks_sheets_even_hidden_ones(workbook):
    records = load_records([workbook], sheets=["archive", "Long"])
    assert [(r.source.sheet, r.source_contact) for r in records] == [
        ("Archive", "old@x.co"), ("Long", "c@x.co"), ("Long", "+14155550100")]


def test_unknown_sheet_names_the_available_ones(workbook):
    with pytest.raises(InputError, match="no sheet 'Nope'; sheets: Customers, Long, Archive, Empty"):
        run([workbook], sheets=["Nope"])


def test_row_numbers_when_the_sheet_starts_below_row_one(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"], ws["C3"] = "Customer ID", "Email"
    ws["B4"], ws["C4"] = 1, "a@x.co"
    ws["B6"], ws["C6"] = 2, "b@x.co"
    wb.save(tmp_path / "low.xlsx")
    table, stats = load_table([tmp_path / "low.xlsx"])
    records = records_of(table)
    assert [(r.source.row, r.customer_id, r.contact) for r in records] == [(4, 1, "a@x.co"), (6, 2, "b@x.co")]
    assert [cells_as_written(table, r)[-2:] for r in records] == [("1", "a@x.co"), ("2", "b@x.co")]
    assert stats.blank_rows == 1


def test_notes_sheet_beside_data_is_skipped_with_a_warning(tmp_path, caplog):
    wb = openpyxl.Workbook()
    wb.active.title = "Read me"
    wb.active.append(["This export was made on Monday"])
    data = wb.create_sheet("Data")
    data.append(["Customer ID", "Email"])
    data.append([1, "a@x.co"])
    wb.save(tmp_path / "b.xlsx")
    with caplog.at_level(logging.WARNING, logger="importer"):
        records, _ = run([tmp_path / "b.xlsx"])
    assert [r.source.sheet for r in records] == ["Data"]
    assert any("Read me" in m for m in caplog.messages)
    with pytest.raises(InputError, match="no contact column"):
        run([tmp_path / "b.xlsx"], sheets=["Read me"])


def test_empty_workbook_and_only_hidden_data(tmp_path):
    wb = openpyxl.Workbook()
    wb.save(tmp_path / "empty.xlsx")
    with pytest.raises(InputError, match="every visible sheet is empty"):
        run([tmp_path / "empty.xlsx"])
    wb.active.append(["Customer ID", "Email"])
    wb.create_sheet("Shown")
    wb.active.sheet_state = "hidden"
    wb.active = 1
    wb.save(tmp_path / "hidden.xlsx")
    with pytest.raises(InputError, match=r"hidden: Sheet; pick one with --sheet"):
        run([tmp_path / "hidden.xlsx"])


def test_tab_separated_text_saved_as_xls_is_read_as_text(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("Customer ID\tType\tContact\n1\tEMAIL\ta@x.co\n")
    (record,), stats = run([path])
    assert record.contact == "a@x.co" and stats.delimiters[str(path)] == "\t"


# ------------------------------------------------------------------ bad files


def bad(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("empty.csv", b"", "file is empty"),
        ("spaces.csv", b"  \r\n\r\n \t ", "file is empty"),
        ("commas.csv", b",,,\r\n,,\r\n", "only blank lines"),
        ("nul.csv", b"Customer ID,Type,Contact\n1,EMAIL,\x00\x01\x02garbage\x00\xff\n", "binary data"),
        ("random.csv", bytes(range(1, 9)) * 400 + bytes(range(0x80, 0x100)) * 20, "binary data|cannot decode"),
        ("zip.csv", b"PK\x03\x04" + b"\x00" * 100, "is a workbook"),
        ("corrupt.xlsx", b"PK\x03\x04 this is not a zip", "cannot read workbook: is it password-protected or corrupt?"),
        ("encrypted.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "cannot read workbook: is it password-protected or corrupt?"),
        ("page.xls", "<html><body><table><tr><td>x</td></tr></table></body></html>", "HTML page"),
        ("data.json", '{"a": 1}', "unsupported file type '.json': use .csv, .tsv, .txt, .xlsx, .xlsm, .xls or .ods"),
        ("noext", "a,b\n", "unsupported file type"),
        ("names.csv", "Name,Company,City\nAnn,Acme,Paris\n",
         "no contact column: expected Type and Contact columns, or columns like Email, Phone, Instagram .*found: 'Name', 'Company', 'City'"),
        ("typeonly.csv", "Customer ID,Type\n1,EMAIL\n", "no contact column"),
        ("dup.csv", "Customer ID,customer_id,Type,Contact\n1,1,EMAIL,a@b.co\n", "duplicate columns 'Customer ID' and 'customer_id'"),
        ("mixed.csv", "Customer ID,Type,Contact,Email,Phone\n1,Retail,Ann,a@b.co,+14155550100\n",
         "both long .Type, Contact. and wide columns .'Type', 'Contact', 'Email', 'Phone'."),
        ("twonotes.csv", "Customer ID,Notes,Comment,Type,Contact\n1,a,b,EMAIL,a@b.co\n", "'Notes' and 'Comment' are all read as note"),
        ("unclosed.csv", 'Customer ID,Type,Contact,Note\n1,EMAIL,a@b.co,ok\n2,EMAIL,b@b.co,"never closed\n3,EMAIL,c@b.co,x\n',
         "row 3: a quoted cell is never closed"),
    ],
)
def test_bad_files_raise_input_error(tmp_path, name, content, problem):
    path = bad(tmp_path, name, content)
    with pytest.raises(InputError, match=problem) as e:
        run([path])
    assert str(path) in str(e.value)
    assert "\n" not in e.value.problem
    assert e.value.exit_code == 2


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        run([tmp_path / "nope.csv"])
    with pytest.raises(InputError, match="is a directory"):
        run([tmp_path])


def test_a_bad_later_file_fails_before_any_file_is_read(tmp_path):
    good = write_text(tmp_path / "a.csv", [LONG_HEADER, ["1", "EMAIL", "a@x.co", ""]])
    stats = LoadStats()
    with pytest.raises(InputError, match="typo.csv: file not found"):
        read_table([str(good), str(tmp_path / "typo.csv")], stats=stats)
    assert stats.tables == [] and stats.encodings == {}  # the good file was not read first


def test_duplicate_unmapped_or_wide_headers_are_fine(tmp_path):
    path = write_text(tmp_path / "d.csv", [["Customer ID", "Tag", "Tag", "Phone", "Phone"], ["1", "a", "b", "+1 415 555 0100", "+1 415 555 0101"]])
    records = load_records([path])
    assert [(r.contact, r.source_contact) for r in records] == [
        ("+14155550100", "+1 415 555 0100"), ("+14155550101", "+1 415 555 0101")]


def test_mapping_resolves_ambiguous_columns(tmp_path):
    path = write_text(tmp_path / "twonotes.csv", [["Customer ID", "Notes", "Comment", "Type", "Contact"], ["1", "a", "b", "EMAIL", "x@y.co"]])
    (record,) = load_records([path], mapping={"Comment": "ignore"})
    assert record.note == "a" and record.ok


# ------------------------------------------------------------------ property: row numbers

cell_text = st.text(alphabet=st.sampled_from(list("ab1 @.,;|\"\n\t\u00a0é")), max_size=8)
# A data row names its customer: a line of one text cell after a blank row is a note below the table (issue 24).
data_row = st.tuples(st.integers(1, 999).map(str), cell_text, cell_text, cell_text).map(list)
blank_row = st.sampled_from([[], ["", "", "", ""], [" ", "", "\u00a0", ""]])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(data_row, blank_row), max_size=25), newline=st.sampled_from(["\r\n", "\n"]))
def test_every_row_keeps_its_excel_row_number(tmp_path, rows, newline):
    path = tmp_path / "p.csv"
    write_text(path, [LONG_HEADER, *rows], newline=newline)
    table, stats = load_table([path])

    expected = [(number, tuple(row)) for number, row in enumerate(rows, 2) if any(c.strip() for c in row)]
    assert [(r.source.row, cells_as_written(table, r)) for r in records_of(table)] == expected
    assert stats.rows + stats.blank_rows == len(rows)
    assert stats.rows == len(expected)
