"""Any export imports right with no flags (issue 19): each product's export, as it writes it, imported with
nothing but `--sandbox --sandbox-customers FILE` into a sandbox holding its customers."""

from __future__ import annotations

import pytest
from exports_catalog import EXPORTS, Export, write
from exports_catalog_more2 import MORE
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.mapping.headers import looks_like_header, reading_of
from importer.rules.words import read_header, words
from importer.runs.pipeline import run_import


_RESULTS: dict[str, object] = {}  # product -> its import's result: each export is imported once per session


def _imported(export: Export, tmp_path_factory):
    if export.product not in _RESULTS:
        folder = tmp_path_factory.mktemp(export.product.replace(" ", ""))
        path, customers = write(export, folder)
        _RESULTS[export.product] = run_import([path], sandbox=True, sandbox_customers=customers, quiet=True,
                                              rate=600_000, report_dir=folder / "r")  # fmt: skip
    return _RESULTS[export.product]


def _outcome(result):
    stored = {(r.customer_id, r.type, r.contact, r.note) for r in result.records if r.outcome.status == "created"}
    lines = {(r.source.row, r.type, r.outcome.error_code or ";".join(e.code for e in r.errors))
             for r in result.records if r.outcome.status != "created"}
    assert all(r.outcome.status == "skipped" for r in result.records if r.outcome.error_code == "column-not-imported")
    return stored, lines


ALL = EXPORTS + MORE


@pytest.mark.parametrize("export", ALL, ids=[e.product for e in ALL])
def test_an_export_imports_right_with_no_flags(export, tmp_path_factory):
    result = _imported(export, tmp_path_factory)
    stored, lines = _outcome(result)
    assert stored == export.stored
    assert lines == export.lines
    created = [r for r in result.records if r.outcome.status == "created"]
    assert len(created) == len({(r.customer_id, r.type, r.contact.lower()) for r in created})  # none stored twice
    assert set(result.summary["tables"][0]["ignored"]) == export.left_out
    assert result.summary["tables"][0]["preset"] == export.preset


def test_the_exports_together_meet_the_targets(tmp_path_factory):
    """≥90 % of the contacts whose customer is in the store stored right; none wrong; none stored twice;
    none neither stored nor on a line of results.csv (each cell of a contact column is a record)."""
    right = wanted = 0
    for export in ALL:
        result = _imported(export, tmp_path_factory)
        stored, _ = _outcome(result)
        assert not stored - export.stored, export.product  # nothing stored that should not be
        right += len(stored & export.stored)
        wanted += len(export.stored) + sum(code not in ("duplicate", "customer-ambiguous", "column-not-imported")
                                           for _, _, code in export.lines)
    assert right / wanted >= 0.9, (right, wanted)


_SEPARATORS = st.sampled_from([" ", "_", "-", ".", "/", ":", " - ", "__", ""])
_CASES = st.sampled_from([str.lower, str.upper, str.title, lambda w: w[:1].upper() + w[1:]])
_HEADERS = sorted({h for e in ALL for h in e.header if words(h)}  # a blank header has no words to respell
                  | {"Person - Phone - Mobile", "billing_phone", "Address 1 - Country", "Business Country/Region",
                     "Secondary Email", "Téléphone portable"})


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_HEADERS), _SEPARATORS, _CASES)
def test_a_header_reads_the_same_with_other_separators_or_case(header, separator, case):
    parts = [w for w in words(header)]
    if separator == "":  # camelCase: the words are told apart by their capitals
        respelled = parts[0] + "".join(w[:1].upper() + w[1:] for w in parts[1:])
    else:
        respelled = separator.join(case(w) for w in parts)
    assert read_header(respelled).target == read_header(header).target, respelled
    assert words(read_header(respelled).note) == words(read_header(header).note), respelled  # accents: words drop them


def test_a_header_row_is_told_from_a_title_or_a_data_row():
    assert looks_like_header(["Person - Name", "Person - Email - Work", "Person - Phone - Mobile"])
    assert looks_like_header(["Customer ID", "Type", "Contact"])
    assert not looks_like_header(["Ann", "ann@example.com", "+49 171 2345678"])
    assert not looks_like_header(["Contacts export", "", ""])
    assert not looks_like_header(["Generated 2024-03-01 by Zoho CRM"])


def test_every_header_the_aliases_knew_reads_as_before():
    # a few of today's aliases, each read as it was (the aliases come before the words)
    assert [reading_of(h) for h in ("Customer ID", "Customer Email", "Mobile Phone Number", "Business Fax",
                                    "Kundenhandy", "Web Page", "Country/Region", "Name")] == [
        "customerId", "customerEmail", "PHONE", None, None, "URL", "country", "customerName"]


def test_phone_region_fills_only_rows_whose_country_is_blank(tmp_path):
    # Wix's Spanish mobiles with --phone-region FR (the advice a user may follow): the row's country wins
    path = tmp_path / "wix.csv"
    path.write_text("Email 1,Phone 1,Address 1 - Country\njose@example.es,629 03 24 28,Spain\n"
                    "ana@example.fr,06 12 34 56 78,\n", encoding="cp1252")
    result = run_import([path], dry_run=True, quiet=True, phone_region="FR", report_dir=tmp_path / "r")
    assert [(r.type, r.contact) for r in result.records] == [
        ("EMAIL", "jose@example.es"), ("PHONE", "+34629032428"), ("EMAIL", "ana@example.fr"), ("PHONE", "+33612345678")]


def test_phone_needs_region_names_the_country_column_and_the_option(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Email,Phone,Billing Country,Shipping Country\na@example.de,0171 2345678,,DE\n", encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    (error,) = [e for r in result.records for e in r.errors]
    assert error.code == "phone-needs-region" and "the row's 'Billing Country' is blank" in error.message
    assert "'Shipping Country' with --country-column" in error.message
    assert any("'Billing Country', not 'Shipping Country'" in n for n in result.summary["notes"])


@pytest.mark.parametrize("written, region, parts", [
    ("030 1234567 / 0171 2345678", "DE", ["030 1234567", "0171 2345678"]),
    ("+49 30 1234567; +49 171 2345678", None, ["+49 30 1234567", "+49 171 2345678"]),
    ("0171 2345678 or 030 1234567", "DE", ["0171 2345678", "030 1234567"]),
    ("030 / 43224299", "DE", None),  # the area code written apart: one number
    ("+49 30 1234567, evenings", None, None),  # a part that is no number: the cell stays whole
])
def test_several_numbers_split_only_where_each_part_is_a_number(written, region, parts):
    from importer.rules.phones import several_numbers

    assert several_numbers(written, region) == parts


def test_an_extension_goes_to_the_note_and_several_numbers_give_a_contact_each(tmp_path):
    path = tmp_path / "zoho.csv"
    path.write_text("Email,Work Phone,Phone,Mailing Country\n"
                    "a@example.de,030 43224299 ext. 204,\"030 1234567\n0171 2345678\",Germany\n"
                    "b@example.de,030 43224299 Durchwahl 12,030 / 43224299,Germany\n", encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert [(r.source.row, r.contact, r.note) for r in result.records if r.type == "PHONE"] == [
        (2, "+493043224299", "Work, ext. 204"), (2, "+49301234567", ""), (2, "+491712345678", ""),
        (3, "+493043224299", "Work, ext. 12"), (3, "+493043224299", "")]
    # the same number twice for one customer, with another note: the second is a duplicate, sent once
    assert [r.outcome.status for r in result.records if r.source.row == 3] == ["valid", "valid", "duplicate"]


def test_a_header_row_may_hold_a_year_but_not_a_row_of_data():
    assert looks_like_header(["Email", "Phone", "Name", "2024"])
    assert not looks_like_header(["1001", "EMAIL", "ann@example.com"])
    assert not looks_like_header(["1001", "1002", "Phone", "12.50"])


def test_a_party_type_and_a_postal_address_beside_contact_columns_do_not_make_a_long_file(tmp_path):
    # Capsule CRM: `Type` is Person/Organisation, `Address` is postal; the contacts are in their own columns
    path = tmp_path / "capsule.csv"
    path.write_text("Type,Name,Email Address,Phone Number,Mobile,Website,Address,Country\n"
                    "Person,Ann Lee,ann@example.com,020 7946 0018,07911 123456,www.acme.co.uk,1 High St,UK\n",
                    encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert [(r.type, r.contact, r.note) for r in result.records] == [
        ("EMAIL", "ann@example.com", ""), ("PHONE", "+442079460018", ""), ("PHONE", "+447911123456", "Mobile"),
        ("URL", "https://www.acme.co.uk", "")]


@pytest.mark.parametrize("header, target, note", [
    ("Email ID", "EMAIL", ""), ("Contact No", "PHONE", ""), ("Mob. No", "PHONE", ""), ("DDINumber", "PHONE", ""),
    ("Telefon Assistent", None, ""), ("E-Mail-Typ", None, ""), ("Country Calling Code", None, ""),
    ("Card Address Country", "country", ""), ("N° client", "customerId", ""), ("Codice cliente", "customerId", ""),
    ("Klantnummer", "customerId", ""), ("MobilePhone", "PHONE", "Mobile"), ("MobileNumber", "PHONE", "Mobile"),
    ("mobile", "PHONE", "Mobile"),
])  # fmt: skip
def test_headers_as_other_products_and_people_write_them(header, target, note):
    from importer.mapping.headers import column_note

    assert reading_of(header) == target
    assert column_note(header, "PHONE") == note or target != "PHONE"


@pytest.mark.parametrize("written, country, e164", [
    ("p:+4915112345678", "", "+4915112345678"),  # Meta's lead ads
    ("Phone: (650) 555-3311", "US", "+16505553311"),  # QuickBooks' contact list
    ("020 7946 0018", "England", "+442079460018"), ("06 12345678", "Holland", "+31612345678"),
    ("06 12345678", "The Netherlands", "+31612345678"), ("0171 2345678 | 030 1234567", "Germany", "+491712345678 +49301234567"),
])  # fmt: skip
def test_values_as_other_products_and_people_write_them(written, country, e164, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text(f'Email,Phone,Country\nAnna Müller <a@example.com>,"{written}",{country}\n', encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert [r.contact for r in result.records if r.type == "PHONE"] == e164.split()
    assert [r.contact for r in result.records if r.type == "EMAIL"] == ["a@example.com"]  # a display name dropped


@pytest.mark.parametrize("written, parts", [
    ("a@x.com; b@y.com", ["a@x.com", "b@y.com"]), ("a@x.com, b@y.com", ["a@x.com", "b@y.com"]),
    ("a@x.com\nb@y.com", ["a@x.com", "b@y.com"]), ("a@x.com / b@y.com", ["a@x.com", "b@y.com"]),
    ("a@x.com; evenings only", None),  # a part that is no address: the cell stays whole (one invalid-email)
    ("a@x.com", None),
])
def test_several_emails_split_only_where_each_part_is_an_address(written, parts):
    from importer.rules.emails import several_emails

    assert several_emails(written) == parts


def test_a_cell_of_several_emails_gives_a_contact_each_and_names_the_customer_by_the_first(tmp_path):
    path, customers = tmp_path / "emails.csv", tmp_path / "customers.csv"
    path.write_text('Email,Phone\n"Ann@Example.com; ann.work@example.com",+4915112345678\n'
                    '"bob@example.com, tom@example.com",+4915112345679\n"carl@example.com\ncarl@work.example",\n'
                    '"dora@example.com / d@x",\n', encoding="utf-8")
    customers.write_text("id,email\n1,ann@example.com\n2,bob@example.com\n3,tom@example.com\n4,carl@example.com\n"
                         "5,dora@example.com\n", encoding="utf-8")
    result = run_import([path], sandbox=True, sandbox_customers=customers, quiet=True, rate=600_000,
                        report_dir=tmp_path / "r")
    assert [(r.source.row, r.customer_id, r.contact, r.outcome.status, r.outcome.error_code or
             ";".join(e.code for e in r.errors)) for r in result.records] == [
        (2, 1, "Ann@example.com", "created", ""), (2, 1, "ann.work@example.com", "created", ""),
        (2, 1, "+4915112345678", "created", ""),
        # two store customers named by one row's emails: never guessed
        (3, None, "bob@example.com", "invalid", "customer-ambiguous"),
        (3, None, "tom@example.com", "invalid", "customer-ambiguous"),
        (3, None, "+4915112345679", "invalid", "customer-ambiguous"),
        (4, 4, "carl@example.com", "created", ""), (4, 4, "carl@work.example", "created", ""),  # a line break
        (5, None, "dora@example.com / d@x", "invalid", "invalid-customer-email;invalid-email")]  # not all addresses
