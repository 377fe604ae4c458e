"""Each phone in its own country (issue 12): a row's country column, digits that lost their +, phone labels."""

from __future__ import annotations

import csv
import json

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.cli import main
from importer.errors import Code, InputError
from importer.rules import country
from importer.rules.phones import phone
from importer.runs.pipeline import run_import
from load_helpers import load_records, write_csv, write_xlsx


def _run(path, tmp_path, **options):
    return run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "reports", **options)


def _by_email(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in result.records:
        out.setdefault(r.customer_email, []).append(r)
    return out


def _results_csv(result) -> list[dict[str, str]]:
    with open(result.report_path / "results.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ exports with a country per row

def test_hubspot_export_reads_each_phone_in_its_rows_country(tmp_path):
    path = write_csv(tmp_path / "hubspot.csv",
                     ["First Name", "Email", "Phone Number", "Mobile Phone Number", "Country/Region"], [
                         ["Ann", "ann@example.com", "(415) 555-0132", "", "United States"],
                         ["Bernd", "bernd@example.de", "030 1234567", "0171 2345678", "Germany"],
                         ["Claire", "claire@example.fr", "01 23 45 67 89", "06 12 34 56 78", "France"],
                         ["Declan", "declan@example.ie", "", "087 123 4567", "Ireland"],
                         ["Elena", "elena@example.es", "", "34612345678", "Spain"],  # Excel dropped its +
                         ["Frank", "frank@example.de", "4917112345678", "", "DE"],  # Excel dropped its +
                     ])
    result = _run(path, tmp_path, match_by="email")
    phones = {email: [(r.contact, r.note) for r in rows if r.type == "PHONE"] for email, rows in _by_email(result).items()}
    assert phones == {
        "ann@example.com": [("+14155550132", "")],
        "bernd@example.de": [("+49301234567", ""), ("+491712345678", "Mobile")],
        "claire@example.fr": [("+33123456789", ""), ("+33612345678", "Mobile")],
        "declan@example.ie": [("+353871234567", "Mobile")],
        "elena@example.es": [("+34612345678", "Mobile")],
        "frank@example.de": [("+4917112345678", "")],
    }
    assert result.counts == {"valid": 14}
    table = result.summary["tables"][0]
    assert table["columns"]["Country/Region"] == "country"
    assert "Country/Region" not in table["ignored"]
    lines = _results_csv(result)
    assert [(line["contact"], line["source_contact"]) for line in lines if line["customer_email"] == "elena@example.es"
            and line["type"] == "PHONE"] == [("+34612345678", "34612345678")]


def test_with_one_region_for_the_whole_file_every_number_was_german(tmp_path):
    """The issue's run: --phone-region DE, no country column. A US number written as at home is not made German by
    it any more than before, but digits that lost their + are read with their country code first."""
    path = write_csv(tmp_path / "crm.csv", ["Customer ID", "Phone"], [
        ["1", "4917112345678"], ["2", "0171 2345678"], ["3", "4921123456"]])
    records = load_records(path, phone_region="DE")
    assert [(r.contact, r.errors) for r in records] == [
        ("+4917112345678", ()), ("+491712345678", ()), ("+4921123456", ())]


def test_workbook_number_cells_that_lost_their_plus(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", "Customers", ["Customer ID", "Phone", "Country"], [
        [1, 4917112345678, "Deutschland"],
        [2, 34612345678, "España"],
        [3, 4155550132, "USA"],
        [4, 33612345678, "Frankreich"],
        [5, 447911123456, "UK"],
        [6, 34612345678, "DE"],  # a Spanish mobile, or 03461 2345678 in Merseburg that lost its 0
        [7, 3212345678, "US"],  # (321) 234-5678 as Americans write it; +32 12 34 56 78 is Belgian
    ])
    records = load_records(path)
    assert [r.contact for r in records[:5]] == [
        "+4917112345678", "+34612345678", "+14155550132", "+33612345678", "+447911123456"]
    assert all(r.ok for r in records[:5])
    ambiguous = records[5]
    assert [e.code for e in ambiguous.errors] == [Code.PHONE_AMBIGUOUS]
    assert "+34612345678" in ambiguous.errors[0].message and "+4934612345678" in ambiguous.errors[0].message
    assert (records[6].contact, records[6].ok) == ("+13212345678", True)


def test_german_cp1252_file_with_land(tmp_path):
    text = ("Customer ID;Name;Telefon;Handy;Land\r\n"
            "1;Jörg Müller;030 1234567;0171 2345678;Deutschland\r\n"
            "2;Anna Gruber;01 234567;0664 1234567;Österreich\r\n"
            "3;Lukas Meier;044 123 45 67;079 123 45 67;Schweiz\r\n")
    path = tmp_path / "kunden.csv"
    path.write_bytes(text.encode("cp1252"))
    records = load_records(path)
    assert [(r.customer_id, r.contact, r.note) for r in records] == [
        (1, "+49301234567", ""), (1, "+491712345678", "Handy"),
        (2, "+431234567", ""), (2, "+436641234567", "Handy"),
        (3, "+41441234567", ""), (3, "+41791234567", "Handy"),
    ]
    assert all(r.ok for r in records)


# ------------------------------------------------------------------ the country cell

def test_unknown_country_is_an_error_of_the_numbers_that_need_it(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Phone", "Email", "Country"], [
        ["1", "0171 2345678", "a@example.com", "Atlantis"],
        ["2", "+49 171 2345678", "", "Atlantis"],  # a +country code needs no country
        ["3", "0171 2345678", "", ""],  # blank: --phone-region
    ])
    records = load_records(path, phone_region="DE")
    first, email, second, third = records
    assert [(e.code, e.column) for e in first.errors] == [(Code.UNKNOWN_COUNTRY, "Country")]
    assert "'Atlantis'" in first.errors[0].message
    assert email.ok and email.contact == "a@example.com"
    assert (second.contact, second.ok) == ("+491712345678", True)
    assert (third.contact, third.ok) == ("+491712345678", True)


def test_blank_country_without_phone_region_needs_a_region(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Phone", "Country"], [["1", "0171 2345678", ""]])
    (record,) = load_records(path)
    assert [e.code for e in record.errors] == [Code.PHONE_NEEDS_REGION]


def test_country_column_option_names_the_column(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Phone", "Country", "Wohnsitz"], [
        ["1", "0171 2345678", "US", "Deutschland"]])
    (record,) = load_records(path, country_column="wohnsitz")
    assert (record.contact, record.ok) == ("+491712345678", True)
    result = _run(path, tmp_path, country_column="Wohnsitz")
    assert result.summary["tables"][0]["columns"]["Wohnsitz"] == "country"
    assert "Country" in result.summary["tables"][0]["ignored"]


def test_country_column_missing_from_the_file_is_a_usage_error(tmp_path, capsys):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Phone"], [["1", "+49 171 2345678"]])
    with pytest.raises(InputError, match="'Staat'.*--country-column.*'Customer ID', 'Phone'"):
        load_records(path, country_column="Staat")
    code = main(["import", str(path), "--dry-run", "--country-column", "Staat", "--report-dir", str(tmp_path / "r")])
    assert code == 2
    assert "'Customer ID', 'Phone'" in capsys.readouterr().err


def test_cli_dry_run_writes_the_numbers_read_in_each_rows_country(tmp_path, capsys):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Mobile", "Pays"], [
        ["1", "06 12 34 56 78", "France"], ["2", "087 123 4567", "Irlande"], ["3", "(415) 555-0132", "États-Unis"]])
    code = main(["import", str(path), "--dry-run", "--json", "--quiet", "--report-dir", str(tmp_path / "r")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    with open(tmp_path / "r" / summary["run_id"] / "results.csv", encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    assert [(line["contact"], line["status"]) for line in lines] == [
        ("+33612345678", "valid"), ("+353871234567", "valid"), ("+14155550132", "valid")]
    assert summary["tables"][0]["columns"]["Pays"] == "country"


@pytest.mark.parametrize("cell, region", [
    ("DE", "DE"), ("de", "DE"), ("DEU", "DE"), ("Germany", "DE"), ("Deutschland", "DE"), ("Allemagne", "DE"),
    ("Alemania", "DE"), ("España", "ES"), ("Espagne", "ES"), ("États-Unis", "US"), ("Etats-Unis", "US"),
    ("USA", "US"), ("U.S.A.", "US"), ("United States of America", "US"), ("Vereinigte Staaten", "US"),
    ("UK", "GB"), ("United Kingdom", "GB"), ("Royaume-Uni", "GB"), ("Ireland", "IE"), ("Éire", "IE"),
    ("Österreich", "AT"), ("Schweiz", "CH"), ("Suisse", "CH"), ("Czech Republic", "CZ"), ("Česko", "CZ"),
    ("Korea, Republic of", "KR"), ("South Korea", "KR"), ("Россия", "RU"), ("Holland", "NL"),
    ("Atlantis", None), ("Kongo", None),  # Kongo: either Congo in some languages, so neither
])
def test_country_cells(cell, region):
    found, problem = country(cell)
    assert found == region
    assert (problem is None) == (region is not None)
    if problem:
        assert problem[0] == Code.UNKNOWN_COUNTRY and repr(cell) in problem[1]


# ------------------------------------------------------------------ phone columns and their labels

@pytest.mark.parametrize("header, note", [
    ("Phone", ""), ("Phone Number", ""), ("Telefon", ""), ("Téléphone", ""), ("Teléfono", ""), ("Phone 1 - Value", ""),
    ("Default Address Phone", ""), ("Mobile", "Mobile"), ("Mobile Phone Number", "Mobile"), ("Business Phone", "Business"),
    ("Home Phone", "Home"), ("Other Phone", "Other"), ("Mobil", "Mobil"), ("Handy", "Handy"), ("Portable", "Portable"),
    ("Móvil", "Móvil"), ("Celular", "Celular"), ("Cell", "Cell"),
])
def test_phone_columns_and_the_note_their_label_gives(tmp_path, header, note):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", header, "Business Fax", "Fax"],
                     [["1", "+49 171 2345678", "+49 30 1234567", "+49 30 7654321"]])
    result = _run(path, tmp_path)
    said = [r for r in result.records if r.outcome.error_code == "column-not-imported"]
    assert [(r.type, r.contact, r.note) for r in result.records if r not in said] == [("PHONE", "+491712345678", note)]
    assert set(result.summary["tables"][0]["ignored"]) == {"Business Fax", "Fax"}
    # a fax is not a phone to call: not imported, but each number is said on a line of its own (issue 19)
    assert {(r.errors[0].column, r.outcome.status) for r in said} == {("Business Fax", "skipped"), ("Fax", "skipped")}


def test_a_note_cell_wins_over_the_label(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Mobile", "Note"],
                     [["1", "+49 171 2345678", "evenings only"], ["2", "+49 171 2345679", ""]])
    assert [r.note for r in load_records(path)] == ["evenings only", "Mobile"]


# ------------------------------------------------------------------ the rule, as properties

def _examples() -> list[str]:
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.append(f"{number.country_code}{phonenumbers.national_significant_number(number)}")
    return found


_EXAMPLES = _examples()
_REGIONS = ["US", "DE", "FR", "GB", "IE", "ES", "IT", "PL", "AT", "CH", "NL", "BR", "IN", "AU", "RU", "JP"]


@st.composite
def _digits(draw) -> str:
    """Digits as Excel leaves them: an international number without its + (real plans, random tails), or a
    national number without its separators (and sometimes without its leading 0)."""
    if draw(st.booleans()):
        digits = draw(st.sampled_from(_EXAMPLES))
    else:
        region = draw(st.sampled_from(_REGIONS))
        number = phonenumbers.example_number_for_type(region, draw(st.sampled_from(
            [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])))
        written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        digits = "".join(c for c in written if c.isdigit()).lstrip("0") or "1"
    keep = draw(st.integers(min_value=max(1, len(digits) - 4), max_value=len(digits)))
    tail = draw(st.text(alphabet="0123456789", max_size=len(digits) - keep + 1))
    return digits[:keep] + tail


def _readings(digits: str, region: str) -> tuple[str | None, str | None]:
    def valid(text, r):
        try:
            n = phonenumbers.parse(text, r)
        except phonenumbers.NumberParseException:
            return None
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_valid_number(n) \
            else None

    return valid("+" + digits, None), valid(digits, region)


@settings(max_examples=600, deadline=None)
@given(_digits(), st.sampled_from(_REGIONS))
@example("4917112345678", "DE")
@example("34612345678", "DE")
@example("4155550132", "US")
@example("3212345678", "US")
@example("481519115", "PL")  # two Polish numbers, both written as Poles write them
def test_digits_only_are_one_of_their_readings_or_ambiguous(digits, region):
    sent, problem = phone(digits, region)
    international, national = _readings(digits, region)
    if problem is None:
        assert sent in (international, national)
        assert phonenumbers.is_valid_number(phonenumbers.parse(sent))  # what is sent reads back valid
        assert phone(sent, region) == (sent, None)  # normalizing twice is normalizing once
        if international is not None and sent != international:  # a valid international reading set aside:
            assert sent.startswith(f"+{phonenumbers.country_code_for_region(region)}")  # only for the row's own
            assert not digits.startswith(str(phonenumbers.country_code_for_region(region)))  # not its own code
    elif problem[0] == Code.PHONE_AMBIGUOUS:
        assert None not in (international, national) and international != national
        assert international in problem[1] and national in problem[1]
    else:
        assert problem[0] == Code.INVALID_PHONE and international is None and national is None


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_EXAMPLES), st.sampled_from(_REGIONS + [None]),
       st.sampled_from(["+{}", "+{} ", "'+{}", "tel:+{}"]))
def test_a_number_with_its_country_code_never_changes_country(digits, region, form):
    sent, problem = phone(form.format(digits), region)
    if problem is None:
        assert sent == phone("+" + digits, None)[0]
        assert phonenumbers.parse(sent).country_code == phonenumbers.parse("+" + digits).country_code


def test_formatted_national_writing_is_read_in_the_region():
    assert phone("(415) 555-0132", "US") == ("+14155550132", None)
    assert phone("0171 2345678", "DE") == ("+491712345678", None)
    assert phone("4917112345678", "DE") == ("+4917112345678", None)
    assert phone("4917112345678.0", "DE") == ("+4917112345678", None)  # a workbook's number cell
    assert phone("34612345678", "DE")[1][0] == Code.PHONE_AMBIGUOUS
    assert phone("34612345678", "ES") == ("+34612345678", None)


def test_csv_reader_sees_the_country_column_of_a_long_file(tmp_path):
    path = write_csv(tmp_path / "long.csv", ["customerId", "type", "contact", "country"], [
        ["1", "PHONE", "0171 2345678", "DE"], ["2", "WHATSAPP", "06 12 34 56 78", "FR"], ["3", "VIBER", "087 123 4567", "IE"]])
    assert [(r.type, r.contact) for r in load_records(path)] == [
        ("PHONE", "+491712345678"), ("WHATSAPP", "+33612345678"), ("VIBER", "+353871234567")]

