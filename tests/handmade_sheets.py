"""Hand-made sheets nobody exported: what a small business owner or an office assistant keeps in Excel, in six
languages, each built here as they make it (issue 24's files are in tests/test_tablefind.py, file-level mess in
tests/messy_files.py: these are new layouts).

A title and a `Stand:`/`As of` line over the header, the table from column B or C, a merged banner, a frozen
header, a group row (`Kontakt` over `E-Mail | Telefon | Mobil`), region headings and subtotals inside the table,
a signature below, comments to the right, two tables side by side or one under the other, a sheet per region,
a `Hinweise` column of free text, numbers typed with spaces, slashes and parentheses, `n/a`/`-`/`keine`/`—` as
blanks, a customer on several rows or known only by name and email, hidden old rows, a date column, a `Typ`
column in the sheet's language, `Ja`/`Nein` defaults.

Each case is a `Messy` (tests/messy_files.py): the file, the store's customers, every contact stored and every
other contact on its own line. `python tests/handmade_sheets.py` prints the score of each case sent to the
sandbox with no flags (right / wrong / reported / lost); tests/test_handmade_sheets.py asserts each exactly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from messy_files import ALL3, Messy, book, text
from openpyxl.styles import Font, PatternFill

E, P = "EMAIL", "PHONE"
DORA = (1004, "dora@example.it")
ANNA_ = ("", 1001)  # column A left empty: the table starts in column B


def _banner(wb, sheet) -> None:
    sheet.merge_cells("B1:E1")  # the shop's name over the table, as a logo's banner
    sheet.freeze_panes = "B5"


def _group(wb, sheet) -> None:
    sheet.merge_cells("C2:D2")
    sheet.merge_cells("E2:G2")
    sheet.freeze_panes = "A4"


def _struck(wb, sheet) -> None:
    for cell in sheet[3]:
        cell.font = Font(strike=True)  # "no longer a customer": only the eye can read it
    for cell in sheet[4]:
        cell.fill = PatternFill("solid", fgColor="FFFF0000")  # red: "check this one"


def _old_hidden(wb, sheet) -> None:
    sheet.row_dimensions[4].hidden = True  # an old number, hidden rather than deleted


def _private_business(wb, sheet) -> None:
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:E1")


def _regions(wb, sheet) -> None:
    south = wb.create_sheet("Süd")
    for row in (["Kundennr.", "E-Mail", "Telefon"], [1002, "bert@example.com", "+1 415 555 0132"]):
        south.append(row)
    west = wb.create_sheet("West")
    for row in (["Kundennr.", "E-Mail", "Telefon"], [1003, "cleo@example.fr", "+33 6 12 34 56 78"]):
        west.append(row)


CASES = [
    Messy("de: title, Stand line, table from column B, signature below", book("kundenliste_b.xlsx", [
        ["", "Kundenliste Blumen Müller"], ["", "Stand: 01.12.2024"], [],
        ["", "Kundennr.", "Name", "E-Mail", "Telefon"],
        ["", 1001, "Anna Schmidt", "anna@example.de", "+49 170 1234567"],
        ["", 1002, "Bert Miller", "bert@example.com", "+1 415 555 0132"], [],
        ["", "Erstellt von: M. Weber, 02.12.2024"]]),
        {(5, 1001, E, "anna@example.de", "", None), (5, 1001, P, "+491701234567", "", None),
         (6, 1002, E, "bert@example.com", "", None), (6, 1002, P, "+14155550132", "", None)}),
    Messy("en: merged banner, As of line, frozen header", book("customers_banner.xlsx", [
        ["", "GREEN LEAF FLOWERS LTD"], ["", "Customer contacts — as of 1 Dec 2024"], [],
        ["", "Customer ID", "Customer", "Email", "Phone"],
        ["", 1001, "Anna", "anna@example.de", "+49 170 1234567"],
        ["", 1003, "Cleo", "cleo@example.fr", "+33 6 12 34 56 78"]], _banner),
        {(5, 1001, E, "anna@example.de", "", None), (5, 1001, P, "+491701234567", "", None),
         (6, 1003, E, "cleo@example.fr", "", None), (6, 1003, P, "+33612345678", "", None)}),
    Messy("de: group row 'Kontakt' over E-Mail | Telefon | Mobil, from column B", book("gruppen.xlsx", [
        [], ["", "Kunde", "", "Kontakt"],
        ["", "Kundennr.", "Name", "E-Mail", "Telefon", "Mobil"],
        ["", 1001, "Anna", "anna@example.de", "+49 30 1234567", "+49 170 1234567"],
        ["", 1002, "Bert", "bert@example.com", "+1 415 555 0132", ""]], _group),
        {(4, 1001, E, "anna@example.de", "", None), (4, 1001, P, "+49301234567", "", None),
         (4, 1001, P, "+491701234567", "Mobil", None), (5, 1002, E, "bert@example.com", "", None),
         (5, 1002, P, "+14155550132", "", None)}),
    Messy("de: region headings and subtotals inside the table, Gesamt below", book("regionen.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon"], ["Region Nord"],
        [1001, "anna@example.de", "+49 170 1234567"], [1002, "bert@example.com", "+1 415 555 0132"],
        ["Zwischensumme Nord", 2], ["Region Süd"], [1003, "cleo@example.fr", "+33 6 12 34 56 78"],
        ["Zwischensumme Süd", 1], [], ["Gesamt", 3]]),
        {(3, 1001, E, "anna@example.de", "", None), (3, 1001, P, "+491701234567", "", None),
         (4, 1002, E, "bert@example.com", "", None), (4, 1002, P, "+14155550132", "", None),
         (7, 1003, E, "cleo@example.fr", "", None), (7, 1003, P, "+33612345678", "", None)}),
    Messy("de: two tables one under the other, each with its title", book("filialen.xlsx", [
        ["Filiale Nord"], ["Kundennr.", "E-Mail", "Telefon"], [1001, "anna@example.de", "+49 170 1234567"], [],
        ["Filiale Süd"], ["Kundennr.", "E-Mail", "Telefon"], [1002, "bert@example.com", "+1 415 555 0132"]]),
        {(3, 1001, E, "anna@example.de", "", None), (3, 1001, P, "+491701234567", "", None),
         (7, 1002, E, "bert@example.com", "", None), (7, 1002, P, "+14155550132", "", None)}),
    Messy("de: a sheet per region", book("regionen_blaetter.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon"], [1001, "anna@example.de", "+49 170 1234567"]], _regions, title="Nord"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (2, 1002, E, "bert@example.com", "", None), (2, 1002, P, "+14155550132", "", None),
         (2, 1003, E, "cleo@example.fr", "", None), (2, 1003, P, "+33612345678", "", None)}),
    Messy("de: a Hinweise column of free text holding an email and a phone", book("hinweise.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon", "Hinweise"],
        [1001, "anna@example.de", "+49 170 1234567", "privat: anna.privat@example.de, abends"],
        [1002, "bert@example.com", "+1 415 555 0132", "Büro: +1 415 555 0199"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("de: numbers typed with spaces, slashes, parentheses; a Land column", book("nummern.xlsx", [
        ["Kundennr.", "Land", "Telefon", "Mobil"],
        [1001, "Deutschland", "030 / 123 45 67", "0049 (0)170 123 45 67"],
        [1002, "USA", "(415) 555-0132", "415.555.0199"],
        [1003, "Frankreich", "01 23 45 67 89", "06-12-34-56-78"]]),
        {(2, 1001, P, "+49301234567", "", None), (2, 1001, P, "+491701234567", "Mobil", None),
         (3, 1002, P, "+14155550132", "", None), (3, 1002, P, "+14155550199", "Mobil", None),
         (4, 1003, P, "+33123456789", "", None), (4, 1003, P, "+33612345678", "Mobil", None)}),
    Messy("de: n/a, -, keine, —, k.A. written for nothing", book("leer.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon", "Mobil"],
        [1001, "anna@example.de", "n/a", "-"], [1002, "keine", "+1 415 555 0132", "—"],
        [1003, "cleo@example.fr", "k.A.", "./."]]),
        {(2, 1001, E, "anna@example.de", "", None), (3, 1002, P, "+14155550132", "", None),
         (4, 1003, E, "cleo@example.fr", "", None)}),
    Messy("en: one customer on several rows, known by name and email only", book("by_email.xlsx", [
        ["Name", "Email", "Phone", "Notes"],
        ["Anna Schmidt", "anna@example.de", "+49 170 1234567", "mobile"],
        ["Anna Schmidt", "Anna@Example.de", "+49 30 1234567", "office"],
        ["Bert Miller", "bert@example.com", "+1 415 555 0132", ""]]),
        {(2, 1001, E, "anna@example.de", "mobile", None), (2, 1001, P, "+491701234567", "mobile", None),
         (3, 1001, P, "+49301234567", "office", None),
         (4, 1002, E, "bert@example.com", "", None), (4, 1002, P, "+14155550132", "", None)},
        {(3, E, "duplicate")}),  # the same address, in capitals: Anna's twice
    Messy("de: struck-through and red rows (meaning only the eye reads)", book("durchgestrichen.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon"], [1001, "anna@example.de", "+49 170 1234567"],
        [1002, "bert@example.com", "+1 415 555 0132"], [1003, "cleo@example.fr", "+33 6 12 34 56 78"]], _struck),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None),
         (4, 1003, E, "cleo@example.fr", "", None), (4, 1003, P, "+33612345678", "", None)}),
    Messy("de: a hidden old row", book("alt_versteckt.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon"], [1001, "anna@example.de", "+49 170 1234567"],
        [1002, "bert@example.com", "+1 415 555 0132"], [1002, "", "+1 415 555 0100"]], _old_hidden),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None),
         (4, 1002, P, "+14155550100", "", None)}),
    Messy("de: a date column and a Typ column of customer kinds", book("datum_typ.xlsx", [
        ["Kundennr.", "Kunde seit", "Typ", "E-Mail", "Telefon"],
        [1001, dt.datetime(2020, 3, 1), "Stammkunde", "anna@example.de", "+49 170 1234567"],
        [1002, dt.datetime(2023, 7, 15), "Firma", "bert@example.com", "+1 415 555 0132"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("fr: titre, au 01/12/2024, N° client, Courriel, Téléphone, Portable", book("clients.xlsx", [
        ["Liste des clients"], ["au 01/12/2024"], ["N° client", "Nom", "Courriel", "Téléphone", "Portable"],
        [1003, "Cleo Martin", "cleo@example.fr", "01 23 45 67 89", "+33 6 12 34 56 78"],
        [1001, "Anna", "anna@example.de", "+49 30 1234567", "non renseigné"]]),
        {(4, 1003, E, "cleo@example.fr", "", None), (4, 1003, P, "+33612345678", "Portable", None),
         (5, 1001, E, "anna@example.de", "", None), (5, 1001, P, "+49301234567", "", None)},
        {(4, P, "phone-needs-region")}),
    Messy("es: Nº cliente, Correo electrónico, Teléfono, Móvil, Total", book("clientes.xlsx", [
        ["Clientes tienda"], [], ["Nº cliente", "Nombre", "Correo electrónico", "Teléfono", "Móvil"],
        [1001, "Anna", "anna@example.de", "+49 30 1234567", "+49 170 1234567"],
        [1002, "Bert", "bert@example.com", "+1 415 555 0132", "—"], [], ["Total clientes", 2]]),
        {(4, 1001, E, "anna@example.de", "", None), (4, 1001, P, "+49301234567", "", None),
         (4, 1001, P, "+491701234567", "Móvil", None), (5, 1002, E, "bert@example.com", "", None),
         (5, 1002, P, "+14155550132", "", None)}),
    Messy("it: Codice cliente, Email, Telefono, Cellulare, from column C", book("clienti.xlsx", [
        [], [], ["", "", "Codice cliente", "Email", "Telefono", "Cellulare"],
        ["", "", 1004, "dora@example.it", "+39 02 1234 5678", "+39 347 123 4567"],
        ["", "", 1001, "anna@example.de", "+49 30 1234567", ""]]),
        {(4, 1004, E, "dora@example.it", "", None), (4, 1004, P, "+390212345678", "", None),
         (4, 1004, P, "+393471234567", "Cellulare", None), (5, 1001, E, "anna@example.de", "", None),
         (5, 1001, P, "+49301234567", "", None)}, customers=[*ALL3, DORA]),
    Messy("nl: Klantnummer, E-mailadres, Telefoonnummer, Mobiel, opmerking rechts", book("klanten.xlsx", [
        ["Klantenlijst per 1-12-2024"], ["Klantnummer", "E-mailadres", "Telefoonnummer", "Mobiel", "", "",
                                         "let op: nog controleren"],
        [1001, "anna@example.de", "+49 30 1234567", "+49 170 1234567", "", "", "nummer klopt niet?"],
        [1002, "bert@example.com", "+1 415 555 0132", ""]]),
        {(3, 1001, E, "anna@example.de", "", None), (3, 1001, P, "+49301234567", "", None),
         (3, 1001, P, "+491701234567", "Mobiel", None), (4, 1002, E, "bert@example.com", "", None),
         (4, 1002, P, "+14155550132", "", None)}),
    Messy("csv ;: title and Stand lines, a Bemerkung column, a signature", text("kunden_stand.csv",
        "Kundenliste;;;\nStand: 01.12.2024;;;\n;;;\nKundennr.;E-Mail;Telefon;Bemerkung\n"
        "1001;anna@example.de;+49 170 1234567;ruft lieber an\n1002;bert@example.com;+1 415 555 0132;\n"
        ";;;\nErstellt von M. Weber;;;\n", encoding="cp1252"),
        {(5, 1001, E, "anna@example.de", "ruft lieber an", None),
         (5, 1001, P, "+491701234567", "ruft lieber an", None),
         (6, 1002, E, "bert@example.com", "", None), (6, 1002, P, "+14155550132", "", None)}),
    Messy("csv: same customer twice with the same phone; a row with a typo", text("twice.csv",
        "Customer ID,Email,Phone\n1001,anna@example.de,+49 170 1234567\n1001,anna@example.de,+49 170 1234567\n"
        "1002,bert@@example.com,+1 415 555 0132\n"),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (4, 1002, P, "+14155550132", "", None)},  # the row's id names the customer: its phone is good
        {(3, E, "duplicate"), (3, P, "duplicate"), (4, E, "invalid-email")}),
    Messy("de: group row Privat | Geschäftlich over E-Mail | Telefon, twice", book("privat_geschaeftlich.xlsx", [
        ["", "Privat", "", "Geschäftlich"], ["Kundennr.", "E-Mail", "Telefon", "E-Mail", "Telefon"],
        [1001, "anna@example.de", "+49 170 1234567", "anna@firma.de", "+49 30 1234567"]], _private_business),
        {(3, 1001, E, "anna@example.de", "Privat", None), (3, 1001, P, "+491701234567", "Privat", None),
         (3, 1001, E, "anna@firma.de", "Geschäftlich", None), (3, 1001, P, "+49301234567", "Geschäftlich", None)}),
    Messy("de: Tel. privat, Tel. geschäftlich, Handy; Kd-Nr", book("telefone.xlsx", [
        ["Kd-Nr", "E-Mail-Adresse", "Tel. privat", "Tel. geschäftlich", "Handy"],
        [1001, "anna@example.de", "+49 30 1234567", "+49 30 7654321", "+49 170 1234567"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+49301234567", "privat", None),
         (2, 1001, P, "+49307654321", "geschäftlich", None), (2, 1001, P, "+491701234567", "Handy", None)}),
    Messy("de: a name's second row with no email: whose phone is it?", book("namen.xlsx", [
        ["Name", "E-Mail", "Telefon"], ["Anna Schmidt", "anna@example.de", "+49 170 1234567"],
        ["Anna Schmidt", "", "+49 30 1234567"], ["Bert", "bert@example.com", ""]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (4, 1002, E, "bert@example.com", "", None)}, {(3, P, "missing-customer-id")}),
    Messy("de: a mobile number typed as a number (0 lost), no country", book("zahl.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon"], [1001, "anna@example.de", 1701234567]]),
        {(2, 1001, E, "anna@example.de", "", None)}, {(2, P, "phone-needs-region")}),
    Messy("de: the shop's own numbers K-1001: customers by email", book("k_nummern.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon"], ["K-1001", "anna@example.de", "+49 170 1234567"],
        ["K-1002", "bert@example.com", "+1 415 555 0132"]]),
        {(2, 1001, E, "anna@example.de", "", None), (2, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None)}),
    Messy("de: a number and the email of someone else on the id's row", book("falsch.xlsx", [
        ["Kundennr.", "E-Mail", "Telefon"], [1001, "bert@example.com", "+49 170 1234567"]]),
        set(), {(2, E, "customer-mismatch"), (2, P, "customer-mismatch")}),
]


# Refused with exit 2 and a message that says why (what a right import would store, for the score): two tables side
# by side share their headers' words; `Art` + `Kontakt` is not read as type + value (`Kontakt` is as often a person).
REFUSED = [
    Messy("en: two tables side by side (North | South)", book("side_by_side.xlsx", [
        ["North", "", "", "", "South"],
        ["Customer ID", "Email", "Phone", "", "Customer ID", "Email", "Phone"],
        [1001, "anna@example.de", "+49 170 1234567", "", 1002, "bert@example.com", "+1 415 555 0132"],
        ["", "", "", "", 1003, "cleo@example.fr", "+33 6 12 34 56 78"]]),
        {(3, 1001, E, "anna@example.de", "", None), (3, 1001, P, "+491701234567", "", None),
         (3, 1002, E, "bert@example.com", "", None), (3, 1002, P, "+14155550132", "", None),
         (4, 1003, E, "cleo@example.fr", "", None), (4, 1003, P, "+33612345678", "", None)}),
    Messy("de: one contact a row, Art in German, Standard Ja/Nein", book("art_standard.xlsx", [
        ["Kundennr.", "Art", "Kontakt", "Standard"],
        [1001, "E-Mail", "anna@example.de", "Ja"], [1001, "Handy", "+49 170 1234567", "Nein"],
        [1001, "Festnetz", "+49 30 1234567", "Ja"], [1002, "WhatsApp", "+1 415 555 0132", "Nein"]]),
        {(2, 1001, E, "anna@example.de", "", True), (3, 1001, P, "+491701234567", "Handy", False),
         (4, 1001, P, "+49301234567", "Festnetz", True), (5, 1002, "WHATSAPP", "+14155550132", "", False)}),
]
REFUSAL = {"en: two tables side by side (North | South)": "duplicate columns 'Customer ID' and 'Customer ID'",
           "de: one contact a row, Art in German, Standard Ja/Nein": "no contact column"}


if __name__ == "__main__":  # `python tests/handmade_sheets.py` (PYTHONPATH=an older importer/ for its score)
    from messy_files import print_scores

    print_scores(CASES + REFUSED)
