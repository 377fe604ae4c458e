"""`ecwid-contacts columns FILE`, `import --help`, and every code of a row (issue 12's report part)."""

from __future__ import annotations

import os

from cli_support import cli, read_csv, results
from load_helpers import write_csv


def test_columns_shows_each_header_and_writes_a_mapping_that_imports_the_same(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "outlook.csv", ["Customer ID", "First Name", "E-mail 2 Address", "Company", "Kundenhandy"],
                     [["1001", "Ann", "ann@example.com", "Acme", "+4917112345678"]])  # fmt: skip
    shown = cli(capsys, "columns", path)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == "outlook.csv: wide layout (one customer per row, a column per contact kind)"
    # each reading with its reason (issue 19)
    assert "  E-mail 2 Address  -> EMAIL contact  (a known header)" in lines
    assert "  Kundenhandy       -> ignored  (words: kundenhandy: no word of a contact, customer, country or name)" in lines
    assert "  Company           -> ignored  (words: company: says which one, not what kind of contact)" in lines
    mapping = tmp_path / "outlook.mapping.csv"
    assert read_csv(mapping) == [
        {"header": "Customer ID", "field": "customerId"}, {"header": "First Name", "field": "firstName"},
        {"header": "E-mail 2 Address", "field": "EMAIL"}, {"header": "Company", "field": "ignore"},
        {"header": "Kundenhandy", "field": "ignore"},
    ]  # fmt: skip
    # The user edits one line and imports with it: the phone column is now used.
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("Kundenhandy,ignore", "Kundenhandy,PHONE"),
                       encoding="utf-8")  # fmt: skip
    run = cli(capsys, "import", path, "--dry-run", "--mapping", mapping, "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    assert [(r["type"], r["contact"]) for r in results(tmp_path / "r")] == [
        ("EMAIL", "ann@example.com"), ("PHONE", "+4917112345678")]
    # Run again with the edited mapping to see how it reads: the edited file is never overwritten, and the
    # command still does its job (a mapping is always written: the next free name)
    again = cli(capsys, "columns", path, "--mapping", mapping)
    assert again.code == 0, again.err
    assert "  Kundenhandy       -> PHONE contact  (the mapping)" in again.out.splitlines()
    assert "Kundenhandy,PHONE" in mapping.read_text(encoding="utf-8")
    assert again.out.splitlines()[-1] == ("Mapping written to outlook.mapping-2.csv: edit it, then import with "
                                          "--mapping outlook.mapping-2.csv")  # fmt: skip
    assert read_csv(tmp_path / "outlook.mapping-2.csv")[-1] == {"header": "Kundenhandy", "field": "PHONE"}
    named = cli(capsys, "columns", path, "--out", mapping)  # a path the user names: refused, not renamed
    assert named.code == 2 and "exists" in named.err and "Kundenhandy,PHONE" in mapping.read_text(encoding="utf-8")


def test_import_help_has_examples_columns_and_exit_codes(capsys):
    import pytest

    with pytest.raises(SystemExit) as done:
        cli(capsys, "import", "--help")
    out = capsys.readouterr().out
    assert done.value.code == 0
    for part in ("examples:", "--sandbox", "expected columns", "Customer ID", "exit codes:", "3  the run stopped"):
        assert part in out


def test_error_code_lists_every_code_of_a_row_first_one_first(tmp_path, capsys):
    path = write_csv(tmp_path / "c.csv", ["Customer ID", "Type", "Contact", "Default"], [
        ["abc", "PHONE", "+49 not a phone", "maybe"],
        ["1", "EMAIL", "ok@example.com", ""],
    ])  # fmt: skip
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    rows = results(tmp_path / "r")
    codes = rows[0]["error_code"].split(";")
    assert run.code == 1 and len(codes) == 3 and codes[0] == "invalid-customer-id"
    assert set(codes) == {"invalid-customer-id", "invalid-phone", "invalid-default"}
    assert rows[1]["error_code"] == "" and rows[1]["status"] == "valid"
    printed = [line for line in run.err_lines if line.startswith("Report: ")]
    assert len(printed) == 1 and all(f in printed[0] for f in ("results.csv", "errors.csv", "summary.json"))
    assert os.sep + " " in printed[0]


def test_columns_writes_the_mapping_even_for_a_file_the_import_refuses(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "crm.csv", ["Name", "Company", "Kundenhandy"], [["Ann", "Acme", "+4917112345678"]])
    shown = cli(capsys, "columns", path)
    assert shown.code == 1 and shown.out.splitlines()[0].startswith(
        "crm.csv: the import would refuse this file: no contact column")
    mapping = tmp_path / "crm.mapping.csv"
    text = mapping.read_text(encoding="utf-8")
    assert text.startswith("# crm.csv: the import would refuse it: no contact column")
    mapping.write_text(text.replace("Kundenhandy,ignore", "Kundenhandy,PHONE").replace("Name,customerName",
                       "Name,ignore") + "", encoding="utf-8")  # fmt: skip
    run = cli(capsys, "import", path, "--dry-run", "--mapping", mapping, "--report-dir", tmp_path / "r")
    rows = results(tmp_path / "r")
    assert [(r["type"], r["contact"], r["error_code"]) for r in rows] == [
        ("PHONE", "+4917112345678", "missing-customer-id")] and run.code == 1


def test_columns_says_why_a_column_is_left_out_or_read_as_a_label(tmp_path, capsys, monkeypatch):
    """A column left out by its values says so (not "a known header"); a wide Note is its contacts' note; Google's
    `… - Label` is its value column's note, and the mapping written imports the same."""
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "mixed.csv", ["E-mail 1 - Label", "E-mail 1 - Value", "Phone", "Web Site",
                                              "Date Created", "Note"],
                     [["* Home", "ann@example.com", "+4917112345678", "Main Website", "3/14/2024 10:22 AM", ""]])
    shown = cli(capsys, "columns", path)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert "  Web Site          -> ignored  (its values name no web address ('Main Website'))" in lines
    assert "  Date Created      -> ignored  (its values are not dates like 2025-03-26 11:07:12)" in lines
    assert "  Note              -> note  (a known header)" in lines  # the row's note wins over a label
    assert "  E-mail 1 - Label  -> note  (the label of the contact column beside it: its contacts' note where " \
           "filled)" in lines
    for mapping in ((), ("--mapping", tmp_path / "mixed.mapping.csv")):
        run = cli(capsys, "import", path, "--dry-run", *mapping, "--report-dir", tmp_path / "r", "--json")
        assert run.code == 0, run.err
    from importer.runs.pipeline import run_import

    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r2",
                        mapping=tmp_path / "mixed.mapping.csv")
    assert [(r.type, r.contact, r.note) for r in result.records] == [
        ("EMAIL", "ann@example.com", "Home"), ("PHONE", "+4917112345678", "")]
