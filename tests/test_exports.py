"""Exports from other products: their contact columns are recognised, their text marks removed."""

from __future__ import annotations

import csv

import pytest

from importer.runs.pipeline import run_import


def _run(tmp_path, header: list[str], row: list[str], **options):
    path = tmp_path / "export.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row])
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r", **options)
    # a contact-like column left out (a fax) is said on a line of its own, `skipped` (issue 19)
    return result, {(r.type, r.contact) for r in result.records if r.outcome.error_code != "column-not-imported"}


@pytest.mark.parametrize(
    "header, row, expected",
    [
        (  # HubSpot
            ["Customer ID", "First Name", "Email", "Phone Number", "Mobile Phone Number", "Website URL"],
            ["1001", "Ann", "ann@example.com", "+1 415 555 0132", "+1 415 555 0199", "https://ann.example.com"],
            {("EMAIL", "ann@example.com"), ("PHONE", "+14155550132"), ("PHONE", "+14155550199"),
             ("URL", "https://ann.example.com")},
        ),
        (  # Outlook
            ["Customer ID", "First Name", "E-mail Address", "E-mail 2 Address", "Business Phone", "Home Phone",
             "Mobile Phone", "Business Fax", "Web Page"],
            ["1001", "Ann", "ann@example.com", "ann@work.example.com", "+44 20 7946 0018", "+44 20 7946 0019",
             "+44 7911 123456", "+44 20 7946 0000", "ann.example.com"],
            {("EMAIL", "ann@example.com"), ("EMAIL", "ann@work.example.com"), ("PHONE", "+442079460018"),
             ("PHONE", "+442079460019"), ("PHONE", "+447911123456"), ("URL", "https://ann.example.com")},
        ),
        (  # Google Contacts
            ["Customer ID", "Name", "E-mail 1 - Type", "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value",
             "Website 1 - Value"],
            ["1001", "Ann", "* Home", "ann@example.com", "Mobile", "+49 151 23456789", "https://ann.example.de"],
            {("EMAIL", "ann@example.com"), ("PHONE", "+4915123456789"), ("URL", "https://ann.example.de")},
        ),
        (  # a German shop
            ["Customer ID", "Name", "E-Mail-Adresse", "Telefon", "Mobil", "Handy", "Webseite"],
            ["1001", "Anna", "anna@example.de", "+49 30 1234567", "+49 151 23456789", "+49 160 1234567",
             "https://anna.example.de"],
            {("EMAIL", "anna@example.de"), ("PHONE", "+49301234567"), ("PHONE", "+4915123456789"),
             ("PHONE", "+491601234567"), ("URL", "https://anna.example.de")},
        ),
    ],
    ids=["hubspot", "outlook", "google-contacts", "german"],
)
def test_contact_columns_of_known_exports_are_imported(tmp_path, header, row, expected):
    result, contacts = _run(tmp_path, header, row)
    assert contacts == expected
    assert {k: n for k, n in result.counts.items() if k != "skipped"} == {"valid": len(expected)}
    ignored = result.summary["tables"][0]["ignored"]
    assert "Business Fax" not in result.summary["tables"][0]["columns"]  # a fax is not a phone to call
    assert all(h in header for h in ignored)


def test_shopify_apostrophes_mark_text_and_are_not_part_of_the_value(tmp_path):
    header = ["Customer ID", "First Name", "Email", "Phone", "Default Address Phone"]
    row = ["'7012345678901", "Ann", "ann@example.com", "'+14155550132", "'+14155550199"]
    result, contacts = _run(tmp_path, header, row)
    assert {r.customer_id for r in result.records} == {7012345678901}
    assert contacts == {("EMAIL", "ann@example.com"), ("PHONE", "+14155550132"), ("PHONE", "+14155550199")}
    assert result.counts == {"valid": 3}


def test_a_cell_with_several_values_gives_one_contact_each(tmp_path):
    header = ["Customer ID", "Name", "Phone 1 - Value", "E-mail 1 - Value"]
    row = ["1001", "Anna", "+49 171 2345678 ::: +49 30 1234567", "anna@example.de"]
    result, contacts = _run(tmp_path, header, row)
    assert [(r.source.row, r.type, r.contact) for r in result.records] == [
        (2, "PHONE", "+491712345678"), (2, "PHONE", "+49301234567"), (2, "EMAIL", "anna@example.de")]
    assert result.counts == {"valid": 3}


def test_several_values_in_every_cell_of_a_column(tmp_path):
    path = tmp_path / "google.csv"
    path.write_text("Customer ID,Phone 1 - Value\n1001,+49 171 2345678 ::: +49 30 1234567\n"
                    "1002,+49 171 2345679 ::: +49 30 1234568\n", encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert [(r.source.row, r.customer_id, r.contact) for r in result.records] == [
        (2, 1001, "+491712345678"), (2, 1001, "+49301234567"), (3, 1002, "+491712345679"), (3, 1002, "+49301234568")]
