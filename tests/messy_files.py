"""Messy files nobody wrote a preset for: the file-level mess real users bring, each built here as it is made.

Excel's typed cells (phone numbers as numbers, ids as 1001.0, dates, booleans, a fraction in a phone cell),
several sheets (instructions or drop-down lists beside the data), merged group rows, columns with no header;
text files with `sep=;`, `;` and decimal commas, tab, `|`, UTF-16, Windows-1252 and Mac Roman, quoted line
breaks, trailing empty columns, duplicate or empty header cells, a header in two rows, `="…"` cells; one
contact per row with other words for the type (`Kind`, `Channel`, `Medium`; `Telefon`, `Courriel`, `Móvil`)
and defaults as Ja/x/TRUE; Google Contacts' `* ` primary marker; exports of products no catalog has
(tests/messy_exports.py: Mailchimp, Shopify's older layout, a Salesforce report, Nimble, Close, Streak, Notion,
an Excel template).

Each `Messy` is one file, the store's customers, and what an import with no flags must do:

    stored  {(row, customer id, TYPE, contact as sent, note, default)}   every contact created
    lines   {(row, TYPE, code)}                                            every other contact, on its own line

`score(case, result)` counts right / wrong / reported / lost contacts; `python tests/messy_files.py` prints the
score of every case (tests/test_messy_files.py asserts each case exactly).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from load_helpers import write_ods

E, P, W = "EMAIL", "PHONE", "WHATSAPP"
_TYPES = {"EMAIL", "PHONE", "WHATSAPP", "VIBER", "TELEGRAM", "URL", "OTHER", "FACEBOOK", "INSTAGRAM", "TWITTER",
          "YOUTUBE", "TIKTOK", "PINTEREST", "VK", "FB_MESSENGER"}
ANNA, BERT, CLEO = (1001, "anna@example.de"), (1002, "bert@example.com"), (1003, "cleo@example.fr")
ALL3 = [ANNA, BERT, CLEO]


@dataclass(frozen=True)
class Messy:
    name: str
    build: Callable[[Path], Path]  # writes the file into a folder; its path
    stored: set[tuple]
    lines: set[tuple] = field(default_factory=set)
    customers: list[tuple[int, str]] = field(default_factory=lambda: list(ALL3))
    said: tuple[str, ...] = ()  # what the run's notes must say (summary.json's notes, the terminal's Note: lines)


def text(name: str, content: str | list[list[str]], encoding: str = "utf-8", delimiter: str = ","):
    def build(folder: Path) -> Path:
        path = folder / name
        if isinstance(content, str):
            path.write_bytes(content.encode(encoding))
        else:
            with open(path, "w", encoding=encoding, newline="") as f:
                csv.writer(f, delimiter=delimiter).writerows(content)
        return path
    return build


def book(name: str, rows: list[list], setup: Callable | None = None, title: str = "Kontakte"):
    def build(folder: Path) -> Path:
        wb = openpyxl.Workbook()
        sheet = wb.active
        sheet.title = title
        for row in rows:
            sheet.append([None if v == "" else v for v in row])
        if setup:
            setup(wb, sheet)
        wb.save(folder / name)
        return folder / name
    return build


def ods(name: str, rows: list[list]):
    def build(folder: Path) -> Path:
        return write_ods(folder / name, rows, sheet="Kunden")
    return build


def _instructions(wb, sheet) -> None:
    notes = wb.create_sheet("Anleitung", 0)
    for line in ("So füllen Sie die Liste aus", "Spalte A: Kundennummer aus Ecwid", "Spalte B: E-Mail-Adresse des Kunden",
                 "Spalte C: Telefon mit Ländervorwahl, z. B. +49 170 1234567", "Bei Fragen: support@example.com"):
        notes.append([line])


def _drop_down_lists(wb, sheet) -> None:
    lists = wb.create_sheet("Listen")
    for value in ("Typen", "Email", "Phone", "WhatsApp"):
        lists.append([value])


def _hidden(wb, sheet) -> None:
    sheet.column_dimensions["C"].hidden = True  # tidied away, not deleted
    sheet.auto_filter.ref = "A1:D3"
    sheet.row_dimensions[3].hidden = True  # filtered out


def _merged_phone_header(wb, sheet) -> None:
    sheet.insert_cols(1)  # the table starts in column B
    sheet.merge_cells("D1:E1")  # `Telefon` over both numbers


def _group_row(wb, sheet) -> None:
    sheet.insert_rows(1)
    sheet["A1"], sheet["C1"] = "Kunde", "Kontaktdaten"
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:D1")


LONG_NOTES = ("Kundennummer;Typ;Wert;Notiz\n1001;Telefon;+49 170 1234567;Büro Köln\n"
              "1001;E-Mail;anna@example.de;privat, nur abends\n1002;Mobil;+1 415 555 0132;Café Zur Post\n")
LONG_NOTES_STORED = {(2, 1001, P, "+491701234567", "Büro Köln", None), (3, 1001, E, "anna@example.de",
                     "privat, nur abends", None), (4, 1002, P, "+14155550132", "Café Zur Post", None)}

CASES = [
    # ------------------------------------------------------------ Excel's typed cells
    Messy("xlsx: phones as number cells (+ and leading 0 lost)", book("numbers.xlsx", [
        ["Customer ID", "Email", "Phone", "Country"], [1001, "anna@example.de", 491701234567, "Germany"],
        [1002, "bert@example.com", 4155550132, "US"], [1003, "cleo@example.fr", 612345678, "France"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None),
         (4, 1003, E, "cleo@example.fr", "", None), (4, 1003, P, "+33612345678", "", None)}),
    Messy("xlsx: ids and phones as floats (1001.0)", book("floats.xlsx", [
        ["Customer ID", "Email", "Phone", "Country"], [1001.0, "anna@example.de", 1701234567.0, "DE"],
        [1002.0, "bert@example.com", 14155550132.0, "US"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("xlsx: a phone typed with dots became a decimal number", book("decimal.xlsx", [  # 030.12345670
        ["Customer ID", "Email", "Phone", "Country"], [1001, "anna@example.de", 30.1234567, "DE"]]),
        {(2, 1001, E, "anna@example.de", "", None)}, {(2, P, "invalid-phone")}),
    Messy("xlsx: a date cell in the phone column", book("dates.xlsx", [
        ["Customer ID", "Email", "Created", "Phone", "Country"],
        [1001, "anna@example.de", dt.datetime(2024, 3, 1), "0170 1234567", "DE"],
        [1002, "bert@example.com", dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 1), "US"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None)}, {(3, P, "invalid-phone")}),
    Messy("xlsx: one contact per row, default as TRUE/FALSE cells, Ja, x", book("long.xlsx", [
        ["Customer ID", "Type", "Contact", "Default"], [1001, "email", "anna@example.de", True],
        [1001, "phone", "+491701234567", False], [1002, "Telefon", "+14155550132", "Ja"],
        [1003, "Courriel", "cleo@example.fr", "x"]]),
        {(2, 1001, E, "anna@example.de", "", True), (3, 1001, P, "+491701234567", "", False),
         (4, 1002, P, "+14155550132", "", True), (5, 1003, E, "cleo@example.fr", "", True)}),
    Messy("xlsx: an instructions sheet before the data", book("anleitung.xlsx", [
        ["Kundennummer", "E-Mail", "Telefon"], [1001, "anna@example.de", "+49 170 1234567"]], _instructions),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None)}),
    Messy("xlsx: a sheet of drop-down lists after the data", book("lists.xlsx", [
        ["Customer ID", "Type", "Contact"], [1001, "Email", "anna@example.de"]], _drop_down_lists),
        {(2, 1001, E, "anna@example.de", "", None)}),
    Messy("xlsx: a hidden column and a row hidden by a filter", book("hidden.xlsx", [
        ["Customer ID", "Email", "Old Phone", "Phone"], [1001, "anna@example.de", "+49 170 7654321", "+49 170 1234567"],
        [1002, "bert@example.com", "", "+1 415 555 0132"]], _hidden),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491707654321", "", None),
         (2, 1001, P, "+491701234567", "", None), (3, 1002, E, "bert@example.com", "", None),
         (3, 1002, P, "+14155550132", "", None)},
        said=("hidden.xlsx:Kontakte: column C hidden in Excel was read",
              "hidden.xlsx:Kontakte: row 3 hidden in Excel (a filter?) was read")),
    Messy("xlsx: formulas a script wrote, never computed", book("formulas.xlsx", [
        ["Customer ID", "Email", "Phone", "Country"], [1001, "anna@example.de", '="+49 170 1234567"', "DE"],
        [1002, '=LOWER("BERT@EXAMPLE.COM")', "", "US"]]),
        {(2, 1001, E, "anna@example.de", "", None)}, {(3, "", "missing-contact")},
        said=("formulas.xlsx:Kontakte: 2 cells hold formulas with no saved value (the file was never opened in "
              "Excel), read as blank: open it in Excel and save it",)),
    Messy("xlsx: merged group cells above the header", book("grouped.xlsx", [
        ["Kundennummer", "Name", "E-Mail", "Mobil"], [1001, "Anna", "anna@example.de", "0170 1234567"]],
        _group_row), {(3, 1001, E, "anna@example.de", "", None)}, {(3, P, "phone-needs-region")}),
    Messy("xlsx: a header cell merged over two columns of numbers", book("merged.xlsx", [
        ["Kundennummer", "E-Mail", "Telefon", "", "Land"], [1001, "anna@example.de", "0170 1234567", "030 1234567", "DE"]],
        _merged_phone_header),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (2, 1001, P, "+49301234567", "", None)}),
    Messy("xlsx: a column of numbers with no header", book("noheader.xlsx", [
        ["Customer ID", "Email", "", "Notes"], [1001, "anna@example.de", "+49 170 1234567", "VIP"],
        [1002, "bert@example.com", "+1 415 555 0132", ""]]),
        {(2, 1001, E, "anna@example.de", "VIP", None), (3, 1002, E, "bert@example.com", "", None)},
        {(2, P, "column-not-imported"), (3, P, "column-not-imported")}),  # a wide Notes cell: its row's note
    Messy(".ods: number cells", ods("kunden.ods", [
        ["Kundennummer", "E-Mail", "Telefon", "Land"], [1001, "anna@example.de", 491701234567, "Deutschland"],
        [1003, "cleo@example.fr", 612345678, "Frankreich"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1003, E, "cleo@example.fr", "", None), (3, 1003, P, "+33612345678", "", None)}),
    # ------------------------------------------------------------ text files
    Messy("csv: Excel's sep=; line, decimal commas", text("sep.csv",
        "sep=;\nKunden-Nr.;E-Mail;Umsatz;Telefon;Land\n1001;anna@example.de;1.234,56;0170 1234567;DE\n"
        "1002;bert@example.com;12,50;(415) 555-0132;USA\n"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),  # Excel hides sep=
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("csv: phones as number cells shown with thousands separators", text("thousands.csv",
        'Kundennummer;E-Mail;Telefon;Land\n1001;anna@example.de;491.701.234.567;DE\n'
        '1002;bert@example.com;"4,155,550,132";US\n'),  # the first was +49 491 701234567 (Leer), a wrong number
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("csv: phones Excel wrote in scientific notation", text("sci.csv",
        "Customer ID,Email,Phone,Country\n1001,anna@example.de,4.91702E+11,DE\n1002,bert@example.com,+1 415 555 0132,US\n"),
        {(2, 1001, E, "anna@example.de", "", None), (3, 1002, E, "bert@example.com", "", None),
         (3, 1002, P, "+14155550132", "", None)}, {(2, P, "lost-digits")}),
    Messy("txt: UTF-16 tab-separated", text("export.txt",
        "Customer ID\tEmail\tPhone\tCountry\n1001\tanna@example.de\t+49 170 1234567\tDE\n", "utf-16"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None)}),
    Messy("csv: | separated, BOM", text("pipe.csv",
        "\ufeffCustomer ID|Email|Phone\n1002|bert@example.com|+1 415 555 0132\n"),
        {(2, 1002, E, "bert@example.com", "", None), (2, 1002, P, "+14155550132", "", None)}),
    Messy("csv: quoted line breaks (a note, two numbers in a cell)", text("breaks.csv",
        'Customer ID,Type,Contact,Note\n1001,Phone,"+49 170 1234567","Büro\nab 9 Uhr"\n'
        '1002,Email,bert@example.com,\n'), {(2, 1001, P, "+491701234567", "Büro\nab 9 Uhr", None),
                                          (3, 1002, E, "bert@example.com", "", None)}),
    Messy("csv: Windows-1252, umlauts in notes", text("cp1252.csv", LONG_NOTES, "cp1252"), LONG_NOTES_STORED),
    Messy("csv: Mac Roman, umlauts in notes", text("macroman.csv", LONG_NOTES, "mac_roman"), LONG_NOTES_STORED),
    Messy("csv: Windows-1252, one umlaut in the file", text("one.csv",
        "Kundennummer;E-Mail;Notiz\n1001;anna@example.de;Köln\n1002;bert@example.com;call after 5\n", "cp1252"),
        {(2, 1001, E, "anna@example.de", "Köln", None), (3, 1002, E, "bert@example.com", "call after 5", None)}),
    Messy("csv: Mac Roman, one word with accents", text("mac-one.csv",
        "Kundennummer;E-Mail;Notiz\n1003;cleo@example.fr;Hélène\n", "mac_roman"),
        {(2, 1003, E, "cleo@example.fr", "Hélène", None)}),
    Messy("csv: Latin-1 French headers", text("latin1.csv",
        "Identifiant client;Courriel;Téléphone;Pays\n1003;cleo@example.fr;06 12 34 56 78;France\n", "latin-1"),
        {(2, 1003, E, "cleo@example.fr", "", None), (2, 1003, P, "+33612345678", "", None)}),
    Messy("csv: trailing empty columns", text("trailing.csv",
        "Customer ID,Email,Phone,,,\n1001,anna@example.de,+49 170 1234567,,,\n1002,bert@example.com,,,,\n"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None)}),
    Messy("csv: duplicate header names", text("dup.csv",
        "Customer ID,Email,Phone,Phone,Email\n1001,anna@example.de,+49 170 1234567,+49 30 1234567,anna.work@example.de\n"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (2, 1001, P, "+49301234567", "", None), (2, 1001, E, "anna.work@example.de", "", None)}),
    Messy("csv: an empty header cell over phone numbers", text("blank.csv",
        "Customer ID,Email,,Country\n1001,anna@example.de,+49 170 1234567,DE\n"),
        {(2, 1001, E, "anna@example.de", "", None)}, {(2, P, "column-not-imported")}),
    Messy("csv: emails past the header's last column", text("past.csv",
        "Customer ID,Email,\n1001,anna@example.de,anna.privat@example.de\n1002,bert@example.com,\n"),
        {(2, 1001, E, "anna@example.de", "", None), (3, 1002, E, "bert@example.com", "", None)},
        {(2, E, "column-not-imported")}),
    Messy("csv: a header in two rows", text("tworows.csv",
        "Customer,,Phone,Phone\nID,Email,Mobile,Work\n1001,anna@example.de,+49 170 1234567,+49 30 1234567\n"),
        {(3, 1001, E, "anna@example.de", "", None), (3, 1001, P, "+491701234567", "Mobile", None),
         (3, 1001, P, "+49301234567", "Work", None)}),
    Messy("csv: words beside the numbers (a fax, a note)", text("words.csv",
        "Customer ID,Email,Phone,Country\n1001,anna@example.de,030 1234567 (Fax),DE\n"
        "1002,bert@example.com,Tel: (415) 555-0132 / Fax: (415) 555-0199,US\n1003,cleo@example.fr,T. 01 42 68 53 00,FR\n"),
        {(2, 1001, E, "anna@example.de", "", None), (3, 1002, E, "bert@example.com", "", None),
         (4, 1003, E, "cleo@example.fr", "", None), (4, 1003, P, "+33142685300", "", None)},
        {(2, P, "invalid-phone"), (3, P, "invalid-phone")}),  # were +49301234567329 (FAX dialled) and a fax
    Messy("csv: =\"…\" cells (keep as text)", text("formula.csv",
        'Customer ID,Email,Phone\n="1002",="bert@example.com",="+14155550132"\n'),
        {(2, 1002, E, "bert@example.com", "", None), (2, 1002, P, "+14155550132", "", None)}),
    Messy("csv: Excel for Mac (Mac Roman, CR line ends)", text("mac.csv",
        "Customer ID;E-Mail;Telefon;Land\r1001;anna@example.de;0170 1234567;Deutschland\r"
        "1002;bert@example.com;(415) 555-0132;USA\r", "mac_roman"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("csv: full-width digits (a Japanese keyboard)", text("wide.csv",
        "Customer ID,Email,Phone,Country\n１００１,anna@example.de,＋４９ １７０ １２３４５６７,\n"
        "1002,bert@example.com,（４１５）５５５－０１３２,US\n"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("csv: header cells with line breaks", text("breaks-header.csv",
        'Customer ID,"E-Mail\nAdresse","Telefon\n(mobil)",Land\n1001,anna@example.de,0170 1234567,DE\n'),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "mobil", None)}),
    # ------------------------------------------------------------ one contact per row, other words
    Messy("csv: Kind / Value / Primary with Ja, Nein, 1, x", text("kind.csv",
        "Customer ID,Kind,Value,Primary\n1001,Telefon,+49 170 1234567,Ja\n1001,Courriel,anna@example.de,Nein\n"
        "1002,Móvil,+1 415 555 0132,1\n1003,E-mail,cleo@example.fr,x\n"),
        {(2, 1001, P, "+491701234567", "", True), (3, 1001, E, "anna@example.de", "", False),
         (4, 1002, P, "+14155550132", "", True), (5, 1003, E, "cleo@example.fr", "", True)}),
    Messy("csv: Channel / Contact / Is default", text("channel.csv",
        "Customer ID,Channel,Contact,Is default\n1001,Phone,+49 170 1234567,TRUE\n1001,Email,anna@example.de,FALSE\n"
        "1002,Mobile,+1 415 555 0132,yes\n"),
        {(2, 1001, P, "+491701234567", "", True), (3, 1001, E, "anna@example.de", "", False),
         (4, 1002, P, "+14155550132", "", True)}),
    Messy("csv: Medium / Value, customers by email", text("medium.csv",
        "Email,Medium,Value\nanna@example.de,Telefon,+49 170 1234567\nbert@example.com,Courriel,bert.b@example.com\n"),
        {(2, 1001, P, "+491701234567", "", None), (3, 1002, E, "bert.b@example.com", "", None)}),
    Messy("csv: a Value column beside Email, no type column", text("value.csv",
        "Customer ID,Email,Value\n1001,anna@example.de,+49 170 1234567\n1002,bert@example.com,bert2@example.com\n"),
        {(2, 1001, E, "anna@example.de", "", None), (3, 1002, E, "bert@example.com", "", None)},
        {(2, P, "column-not-imported"), (3, E, "column-not-imported")}),
    Messy("csv: type words of other languages", text("types.csv", "Customer ID,Type,Contact,Country\n" + "".join(
        f"1001,{t},{v},DE\n" for t, v in [("Tel.", "030 1234567"), ("Festnetz", "030 1234568"), ("Fax", "030 1234569"),
                                          ("Fixe", "030 1234570"), ("Portable", "0170 1234567"), ("WhatsApp", "0170 1234569"),
                                          ("Handy", "0170 1234560"), ("Mail privat", "a2@example.de"), ("Telefax", "030 1234573")])),
        {(2, 1001, P, "+49301234567", "", None), (3, 1001, P, "+49301234568", "", None),
         (5, 1001, P, "+49301234570", "", None), (6, 1001, P, "+491701234567", "", None),
         (7, 1001, W, "+491701234569", "", None), (8, 1001, P, "+491701234560", "", None),
         (9, 1001, E, "a2@example.de", "", None)}, {(4, "Fax", "unknown-type"), (10, "Telefax", "unknown-type")}),
    # ------------------------------------------------------------ Google Contacts' primary marker
    Messy("Google Contacts (older layout): '* ' on the primary value", text("google.csv",
        "Name,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value\n"
        "Anna,Home,* anna@example.de ::: anna2@example.de,Mobile,+49 170 1234567 ::: * +49 30 1234567\n"),
        {(2, 1001, E, "anna@example.de", "Home", True), (2, 1001, E, "anna2@example.de", "Home", None),
         (2, 1001, P, "+491701234567", "Mobile", None), (2, 1001, P, "+49301234567", "Mobile", True)}),
    Messy("Google Contacts: '* Home' label marks the primary", text("google2.csv",
        "Name,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value\n"
        "Anna,Work,anna.w@example.de,* Home,anna@example.de,* Mobile,+49 170 1234567 ::: +49 30 1234567\n"),
        {(2, 1001, E, "anna.w@example.de", "Work", None), (2, 1001, E, "anna@example.de", "Home", True),
         (2, 1001, P, "+491701234567", "Mobile", True), (2, 1001, P, "+49301234567", "Mobile", None)}),
]


def customers_file(case: Messy, folder: Path) -> Path:
    path = folder / "store-customers.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "email", "name"], *[[i, e, e.split("@")[0]] for i, e in case.customers]])
    return path


def outcome(result, customers: list[tuple[int, str]] | None = None) -> tuple[set[tuple], set[tuple]]:
    """(the contacts created, every other record as (row, TYPE, code)) of an import's result. With `customers`, a
    dry run's: its valid contacts, each with the id of the store's customer its email names where it has no id."""
    done = "created" if customers is None else "valid"
    ids = {email.lower(): i for i, email in customers or []}
    named: dict[int, int] = {}  # row -> the store's customer its emails name first (the key column's, then others)
    for r in sorted(result.records, key=lambda r: not r.customer_email):
        for email in (r.customer_email, r.contact if r.type == "EMAIL" else None):
            if email and email.lower() in ids:
                named.setdefault(r.source.row, ids[email.lower()])
    stored = {(r.source.row, r.customer_id or named.get(r.source.row), r.type, r.contact, r.note, r.default)
              for r in result.records if r.outcome.status == done}
    lines = {(r.source.row, r.type, r.outcome.error_code or ";".join(e.code for e in r.errors))
             for r in result.records if r.outcome.status != done}
    return stored, lines


def score(case: Messy, stored: set[tuple], lines: set[tuple]) -> dict[str, int]:
    """Each contact the file holds is right (stored as it should be, or on the line it should be), reported (not
    stored, but on a line with a code), or lost (neither); a contact stored that should not be is wrong."""
    said = {(row, kind if kind in _TYPES else "?") for row, kind, code in lines if code}  # "Fax": a type unread
    right = len(stored & case.stored) + len(lines & case.lines)
    wrong = len(stored - case.stored)
    missed = [(c[0], c[2]) for c in case.stored - stored] + [(row, kind) for row, kind, _ in case.lines - lines]
    reported = sum(1 for m in missed if m in said or (m[0], "?") in said)
    return {"right": right, "wrong": wrong, "reported": reported, "lost": len(missed) - reported}


def print_scores(cases: list[Messy]) -> dict[str, int]:
    """Each case sent to a sandbox seeded with its customers, with no flags: its score printed, and the total. A file
    refused (exit 2) counts its contacts as reported; a traceback (a crash) as lost. Noise: lines reported that hold
    no contact of the file, or a contact that is fine (a subtotal row, `n/a` reported as invalid)."""
    import tempfile

    from importer.errors import InputError
    from importer.runs.pipeline import run_import

    total = dict.fromkeys(("right", "wrong", "reported", "lost", "noise", "exit 2", "crash"), 0)
    with tempfile.TemporaryDirectory() as tmp:
        for n, case in enumerate(cases):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            path = case.build(folder)
            everything = len(case.stored) + len(case.lines)
            try:
                result = run_import([path], sandbox=True, sandbox_customers=customers_file(case, folder), quiet=True,
                                    rate=600_000, report_dir=folder / "r")
            except InputError as e:
                total["exit 2"] += 1
                counts = {"right": 0, "wrong": 0, "reported": everything, "lost": 0}
                print(f"{case.name:60} exit 2: {e}")
            except Exception as e:  # noqa: BLE001 - an older importer/ scored as it was
                total["crash"] += 1
                counts = {"right": 0, "wrong": 0, "reported": 0, "lost": everything}
                print(f"{case.name:60} crash: {type(e).__name__}: {e}")
            else:
                stored, lines = outcome(result)
                missed = {(c[0], c[2]) for c in case.stored - stored} | {(r, k) for r, k, _ in case.lines - lines}
                counts = {**score(case, stored, lines),
                          "noise": sum(1 for r, k, _ in lines - case.lines if (r, k) not in missed)}
                print(f"{case.name:60} " + " ".join(f"{k} {v}" for k, v in counts.items()))
            for k, v in counts.items():
                total[k] += v
    print("TOTAL", " ".join(f"{k} {v}" for k, v in total.items()))
    return total


if __name__ == "__main__":  # the score of every case: `python tests/messy_files.py` (PYTHONPATH=an older importer/)
    from messy_exports import EXPORTS

    print_scores(CASES + EXPORTS)
