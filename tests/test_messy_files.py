"""Messy files nobody wrote a preset for (tests/messy_files.py builds them): each read with no flags, every
contact stored right or on a line of its own with a clear code; none wrong, none lost.

Every case is read in a dry run (what each contact would be sent as); a few go on to the sandbox, where what
matters is the store's side (Google's primary marker is the customer's default). The score of all of them,
sent to the sandbox, before and after: `python tests/messy_files.py`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from cli_support import cli, results, summary
from messy_exports import EXPORTS
from messy_files import CASES, Messy, customers_file, outcome, score

from importer.input.encoding import legacy_encoding
from importer.rules.phones import phone
from importer.rules.text import parse_bool
from importer.runs.pipeline import run_import


@pytest.mark.parametrize("case", CASES + EXPORTS, ids=[c.name for c in CASES + EXPORTS])
def test_a_messy_file_reads_right_with_no_flags(case: Messy, tmp_path):
    result = run_import([case.build(tmp_path)], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    stored, lines = outcome(result, case.customers)
    assert stored == case.stored
    assert lines == case.lines
    assert all(any(note.endswith(said) for note in result.summary["notes"]) for said in case.said), result.summary["notes"]
    assert score(case, stored, lines) == {"right": len(case.stored) + len(case.lines), "wrong": 0, "reported": 0,
                                          "lost": 0}


SENT = ["Google Contacts (older layout): '* ' on the primary value", "Google Contacts: '* Home' label marks the primary",
        "csv: Kind / Value / Primary with Ja, Nein, 1, x"]


@pytest.mark.parametrize("case", [c for c in CASES if c.name in SENT], ids=SENT)
def test_sent_to_the_sandbox_each_contact_lands_as_read(case: Messy, tmp_path):
    result = run_import([case.build(tmp_path)], sandbox=True, sandbox_customers=customers_file(case, tmp_path),
                        quiet=True, rate=600_000, report_dir=tmp_path / "r")
    assert outcome(result) == (case.stored, case.lines)
    defaults = {(r.customer_id, r.type) for r in result.records if r.default and r.outcome.status == "created"}
    assert len(defaults) == sum(1 for r in result.records if r.default and r.outcome.status == "created")


def test_the_command_says_what_it_left_out_and_skipped(tmp_path, capsys):
    """`import FILE` alone, as a user runs it: a workbook with an instructions sheet and a column of numbers with
    no header; each number on a line of results.csv, the sheet named once."""
    case = next(c for c in CASES if c.name == "xlsx: an instructions sheet before the data")
    path = case.build(tmp_path)
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert run.err_lines.count(f"Note: {path}:Anleitung: sheet skipped: no cell under 'Spalte B: E-Mail-Adresse des "
                               "Kunden' is a contact (pick it with --sheet)") == 1
    assert [(r["row"], r["type"], r["status"]) for r in results(tmp_path / "r")] == [("2", "EMAIL", "valid"),
                                                                                    ("2", "PHONE", "valid")]
    blank = next(c for c in CASES if c.name == "csv: an empty header cell over phone numbers")
    run = cli(capsys, "import", blank.build(tmp_path), "--dry-run", "--report-dir", tmp_path / "r2")
    (left,) = [r for r in results(tmp_path / "r2") if r["status"] == "skipped"]
    assert (left["row"], left["source_contact"], left["error_code"]) == ("2", "+49 170 1234567", "column-not-imported")
    assert "column '(no header: column C)' is not imported (the column has no header)" in left["error"]
    assert "(no header: column C)" in summary(tmp_path / "r2")["tables"][0]["ignored"]


def test_the_primary_marker_names_one_default_per_type_on_a_row(tmp_path):
    # two starred emails on one row: which is the primary is not certain, so neither is sent as the default
    path = tmp_path / "google.csv"
    path.write_text("Name,E-mail 1 - Value,E-mail 2 - Value,Phone 1 - Value\n"
                    "Anna,* anna@example.de,* anna.w@example.de,* +49 170 1234567\n", encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert [(r.contact, r.default) for r in result.records] == [
        ("anna@example.de", None), ("anna.w@example.de", None), ("+491701234567", True)]
    assert result.records[0].customer_email == "anna@example.de"  # the star is no part of the customer's key


@pytest.mark.parametrize("cell, expected", [
    ("Ja", True), ("nein", False), ("x", True), ("X", True), ("✓", True), ("oui", True), ("Non", False),
    ("Sí", True), ("wahr", True), ("FALSCH", False), ("tak", True), ("nee", False),
])  # fmt: skip
def test_a_default_cell_as_people_tick_it(cell, expected):
    assert parse_bool(cell) == (expected, None)


@pytest.mark.parametrize("written, encoding", [
    ("Köln", "cp1252"), ("Büro Köln", "cp1252"), ("Noël", "cp1252"), ("Hélène", "cp1252"), ("Åsa", "cp1252"),
    ("Köln", "mac_roman"), ("Büro Köln", "mac_roman"), ("Zoë", "mac_roman"), ("Señor", "mac_roman"),
    ("Garçon très élevé", "mac_roman"), ("Müller, José, Ñandú", "cp1252"), ("“Café” – 5 €, Größe", "cp1252"),
    ("Иванов Сергей", "cp1251"), ("山田太郎", "cp932"),
])  # fmt: skip
def test_a_short_legacy_file_is_read_in_its_own_code_page(written, encoding):
    """One word of the file is not ASCII: its letters must make words (a cp1252 `Köln` is no Chinese, a Mac
    `Büro` no `BŸro`)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "k.csv"
        path.write_bytes(f"Kundennummer;E-Mail;Notiz\n1001;anna@example.de;{written}\n1002;b@example.com;later\n"
                         .encode(encoding))
        assert legacy_encoding(str(path)) == encoding


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["030 1234567", "+49 170 1234567", "(415) 555-0132", "06 12 34 56 78", "0171 2345678"]),
       st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=1, max_size=8),
       st.sampled_from(["{n} ({w})", "{n} {w}", "{w}: {n}", "{n} / {w}: {n}", "{n}, {w}"]))
def test_a_number_with_a_word_beside_it_is_never_sent_as_another_number(number, word, form):
    """phonenumbers reads letters as a keypad's digits (FAX = 329): a word beside a number makes it invalid, or it is
    a label or an extension the rules know, and then the number is the one written."""
    written = form.format(n=number, w=word)
    e164, problem = phone(written, "DE" if "(415)" not in number else "US")
    if problem is None:
        assert e164.split(" ext. ")[0] == phone(number, "DE" if "(415)" not in number else "US")[0], written
