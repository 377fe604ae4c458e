"""Hand-made sheets nobody exported (tests/handmade_sheets.py builds them): each read with no flags, in a dry run
and sent to a sandbox seeded with its customers; every contact stored right or on a line of its own with a clear
code, none wrong, none lost, no line of the report that holds no contact. The score before and after:
`python tests/handmade_sheets.py` (PYTHONPATH=an older importer/ for the before).
"""

from __future__ import annotations

import pytest
from cli_support import cli, results, summary
from handmade_sheets import CASES, REFUSAL, REFUSED
from messy_files import Messy, customers_file, outcome

from importer.rules.nothing import says_nothing_text
from importer.runs.pipeline import run_import


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hand_made_sheet_reads_right_with_no_flags(case: Messy, tmp_path):
    """A dry run; one whose contacts depend on the store's customers is checked against them (`--dry-run
    --sandbox-customers FILE`), as a dry run with a token checks them against the store."""
    store = {"sandbox_customers": customers_file(case, tmp_path)} if any("customer-" in c for *_, c in case.lines) \
        else {}
    result = run_import([case.build(tmp_path)], dry_run=True, quiet=True, report_dir=tmp_path / "r", **store)
    assert outcome(result, case.customers) == (case.stored, case.lines)


# Sent: one of each kind of layout (all of them: `python tests/handmade_sheets.py`); the rest are read the same way.
SENT = [c for c in CASES if c.name.startswith(("en: one customer", "csv: same customer", "de: region headings",
                                                "de: group row Privat"))]


@pytest.mark.parametrize("case", SENT, ids=[c.name for c in SENT])
def test_sent_to_the_sandbox_each_contact_lands_on_its_customer(case: Messy, tmp_path):
    result = run_import([case.build(tmp_path)], sandbox=True, sandbox_customers=customers_file(case, tmp_path),
                        quiet=True, rate=600_000, report_dir=tmp_path / "r")
    assert outcome(result) == (case.stored, case.lines)


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_a_sheet_it_cannot_read_for_sure_is_refused_with_the_reason(case: Messy, tmp_path, capsys):
    run = cli(capsys, "import", case.build(tmp_path), "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2
    assert REFUSAL[case.name] in run.err and "Traceback" not in run.err


def test_subtotals_inside_the_table_are_named_not_reported(tmp_path, capsys):
    case = next(c for c in CASES if c.name.startswith("de: region headings and subtotals"))
    path = case.build(tmp_path)
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert f"Note: {path}:Kontakte: row 5 skipped (subtotals inside the table, no contact in them: " \
           "'Zwischensumme Nord | 2')" in run.err_lines
    assert {r["row"] for r in results(tmp_path / "r")} == {"3", "4", "7"}
    assert any("row 5 skipped (subtotals" in note for note in summary(tmp_path / "r")["notes"])


def test_a_subtotal_holding_a_contact_stays_a_row(tmp_path):
    """`Total Wine | info@totalwine.com` inside the table is a customer's row, never skipped."""
    path = tmp_path / "t.csv"
    path.write_text("Name,Email\nTotal Wine,info@totalwine.com\nAnna,anna@example.de\n", "utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert [(r.source.row, r.contact) for r in result.records] == [(2, "info@totalwine.com"), (3, "anna@example.de")]


def test_a_column_all_dates_is_read_not_a_crash(tmp_path, capsys):
    case = next(c for c in CASES if c.name.startswith("de: a date column"))
    run = cli(capsys, "import", case.build(tmp_path), "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert "Kunde seit" in summary(tmp_path / "r")["tables"][0]["ignored"]


def test_customer_beside_customer_id_is_the_name_not_a_second_key(tmp_path, capsys):
    case = next(c for c in CASES if c.name.startswith("en: merged banner"))
    run = cli(capsys, "import", case.build(tmp_path), "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert {r["customer_id"] for r in results(tmp_path / "r")} == {"1001", "1003"}
    assert "Customer" in summary(tmp_path / "r")["tables"][0]["ignored"]


@pytest.mark.parametrize("cell", ["n/a", "N/A", "-", "—", "–", "keine", "k.A.", "k. A.", "./.", "n.v.t.", "none",
                                  "non renseigné", "néant", "nessuno", "geen"])
def test_a_word_for_nothing_is_a_blank_cell(cell):
    assert says_nothing_text(cell)


@pytest.mark.parametrize("cell", ["", "  ", "keine Angabe, 0170 1234567", "0170 1234567", "a@b.de", "x", "no@no.de",
                                  "-49 170 1234567", "NA 555"])
def test_a_cell_with_anything_in_it_is_read(cell):
    assert not says_nothing_text(cell)


@pytest.mark.parametrize("cell, said", [("nil", False), ("na", False), ("none", False), ("-", True), ("./.", True),
                                        ("—", True)])
def test_in_a_column_of_handles_only_a_dash_says_nothing(cell, said):
    """`nil` may be someone's Instagram name; a dash is nobody's."""
    assert says_nothing_text(cell, words=False) is said


def test_a_row_of_only_words_for_nothing_is_missing_its_contact(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text("Kundennr.;E-Mail;Telefon\n1001;-;n/a\n1002;bert@example.com;—\n", "utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert outcome(result, [])[1] == {(2, "", "missing-contact")}
    assert [(r.source.row, r.contact) for r in result.records if r.outcome.status == "valid"] == [
        (3, "bert@example.com")]
    assert f"{path}: 3 contact cells read as blank for what they say: '-', 'n/a', '—'" in result.summary["notes"]
