"""Issue 2 through the real command line: dry runs, bad files, usage errors, the report.

What a user checks: the exit code, the one line on stderr, the report files.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
from pathlib import Path

import pytest

from cli_support import LONG, SAMPLES, VALID, VALID_ROWS, cli, cli_process, read_csv, results, run_dir, statuses, summary

# contacts_long.csv's planted mistakes (sample_data/README.md): row -> (code, column named in the error)
PLANTED = {
    14: ("invalid-email", "Contact"),
    39: ("unknown-type", "Type"),
    58: ("phone-needs-region", "Contact"),
    76: ("missing-contact", "Contact"),
    90: ("invalid-customer-id", "Customer ID"),
    110: ("duplicate-default", "Default"),
    140: ("duplicate", ""),
    157: ("lost-digits", "Customer ID"),
}


@pytest.fixture(autouse=True)
def _no_ecwid_env(monkeypatch):
    for name in ("ECWID_TOKEN", "ECWID_STORE_ID", "ECWID_API_URL"):
        monkeypatch.delenv(name, raising=False)


# --- the samples -------------------------------------------------------------


def test_valid_sample_dry_run_exits_0_with_every_row_valid(tmp_path, capsys):
    run = cli(capsys, "import", VALID, "--dry-run", "--report-dir", tmp_path)
    assert run.code == 0, run.err
    rows = results(tmp_path)
    assert statuses(rows) == {"valid": VALID_ROWS}
    assert [int(r["row"]) for r in rows] == list(range(2, VALID_ROWS + 2))  # input order, Excel row numbers
    assert not (run_dir(tmp_path) / "errors.csv").exists()
    assert "Dry run: nothing was sent." in run.err
    assert f"{run_dir(tmp_path)}/ results.csv" in run.err  # the user is told where the report is


def test_long_sample_dry_run_reports_every_planted_mistake(tmp_path, capsys):
    run = cli(capsys, "import", LONG, "--dry-run", "--report-dir", tmp_path)
    assert run.code == 1, run.err
    rows = results(tmp_path)
    assert len(rows) == 190  # one line per record; the blank line 172 is skipped and counted
    assert all(r["row"] != "172" for r in rows)
    bad = {int(r["row"]): r for r in rows if r["status"] != "valid"}
    for row, (code, column) in PLANTED.items():
        assert bad[row]["error_code"] == code, (row, bad[row])
        assert bad[row]["error"].startswith(f"{column}: " if column else "same as row 139")
        assert bad[row]["status"] == ("duplicate" if code == "duplicate" else "invalid")
    # The duplicate default may be blamed on both defaults (the tool can't know which one the user meant).
    extra = {row: r["error_code"] for row, r in bad.items() if row not in PLANTED}
    assert extra in ({}, {109: "duplicate-default"})
    numbers = [int(r["row"]) for r in rows]
    assert numbers == sorted(numbers) and len(set(numbers)) == 190  # input order, one line per row
    assert "lost-digits" not in {r["error_code"] for r in rows if r["status"] == "valid"}

    errors = read_csv(run_dir(tmp_path) / "errors.csv")
    with open(LONG, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f))
    assert list(errors[0]) == [*header, "error"]  # the input's own columns, plus error
    invalid = sorted(row for row, r in bad.items() if r["status"] == "invalid")
    assert len(errors) == len(invalid)  # a duplicate is sent once, from its first row: not an error row
    assert [e["Customer ID"] for e in errors if e["error"].startswith("Customer ID")] == ["abc", "1.77737E+08"]
    assert any(e["Type"] == "EMIAL" for e in errors)
    s = summary(tmp_path)
    assert s["counts"] == {"valid": 190 - len(bad), "invalid": len(invalid), "duplicate": 1}
    assert s["blank_rows"] == 1 and s["exit_code"] == 1 and s["dry_run"] is True


def _fix(row: dict[str, str]) -> dict[str, str]:
    """What a person does to each errors.csv line of contacts_long.csv."""
    row = dict(row)
    row["Contact"] = row["Contact"].replace("@@", "@")
    if row["Type"] == "EMIAL":
        row["Type"] = "Email"
    if row["Contact"].startswith("("):
        row["Contact"] = "+1 " + row["Contact"]
    if not row["Contact"]:
        row["Contact"] = "+1 201 555 0199"
    if row["Customer ID"] == "abc":
        row["Customer ID"] = "1018"
    if row["Customer ID"] == "1.77737E+08":
        row["Customer ID"] = "177737165"
    if "default" in row["error"] and row["Note"] == "second default":
        row["Default"] = "FALSE"
    return row


def test_fixed_errors_csv_imports_again(tmp_path, capsys):
    first = tmp_path / "first"
    assert cli(capsys, "import", LONG, "--dry-run", "--report-dir", first).code == 1
    errors_csv = run_dir(first) / "errors.csv"
    lines = read_csv(errors_csv)
    fixed = tmp_path / "fixed.csv"
    with open(fixed, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, fieldnames=list(lines[0]))  # the error column stays, as a user leaves it
        writer.writeheader()
        writer.writerows(_fix(r) for r in lines)

    again = tmp_path / "again"
    run = cli(capsys, "import", fixed, "--dry-run", "--report-dir", again)
    assert run.code == 0, results(again)
    assert statuses(results(again)) == {"valid": len(lines)}

    # Unfixed, the same errors.csv fails the same rows again (its error column is ignored as input).
    unfixed = tmp_path / "unfixed"
    assert cli(capsys, "import", errors_csv, "--dry-run", "--report-dir", unfixed).code == 1
    assert statuses(results(unfixed)) == {"invalid": len(lines)}


# --- files that cannot be input -------------------------------------------------

OLE_HEADER = bytes.fromhex("d0cf11e0a1b11ae1")  # an encrypted .xlsx is an OLE/CFB container


def _bad_files(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "garbage.csv").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "corrupt.xlsx").write_bytes(os.urandom(4096))
    (tmp_path / "locked.xlsx").write_bytes(OLE_HEADER + bytes(4088))
    (tmp_path / "contacts.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "people.csv").write_text("Name,Age\nBob,42\n", "utf-8")
    (tmp_path / "twice.csv").write_text("Customer ID,Type,Contact,Contact\n1,Email,a@example.com,b@example.com\n", "utf-8")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("missing.csv", "not found"),
        ("folder.csv", "directory"),
        ("empty.csv", "empty"),
        ("garbage.csv", "binary"),
        ("corrupt.xlsx", "corrupt"),
        ("locked.xlsx", "password-protected"),
        ("contacts.pdf", "unsupported file type '.pdf'"),
        ("people.csv", "no contact column"),
        ("twice.csv", "duplicate columns 'Contact'"),
    ],
)
def test_bad_file_exits_2_with_one_line_naming_file_and_problem(tmp_path, capsys, name, problem):
    _bad_files(tmp_path)
    reports = tmp_path / "reports"
    run = cli(capsys, "import", tmp_path / name, "--dry-run", "--report-dir", reports)
    assert run.code == 2
    assert run.err_lines == [run.err.strip()], run.err  # exactly one line
    line = run.err_lines[0]
    assert line.startswith("ecwid-contacts: error: ") and name in line and problem in line
    assert "Traceback" not in run.err and run.out == ""
    assert not reports.exists()  # nothing was done: no half report to confuse


def test_bad_file_in_a_real_run_also_exits_2_before_any_send(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ECWID_TOKEN", "secret_unused")
    run = cli(capsys, "import", tmp_path / "missing.csv", "--store-id", "5", "--api-url", "http://127.0.0.1:9/api/v3",
              "--report-dir", tmp_path / "r")  # fmt: skip
    assert run.code == 2 and run.err_lines == [f"ecwid-contacts: error: {tmp_path / 'missing.csv'}: file not found"]


def test_second_file_bad_names_that_file(tmp_path, capsys):
    (tmp_path / "empty.csv").write_bytes(b"")
    run = cli(capsys, "import", VALID, tmp_path / "empty.csv", "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and len(run.err_lines) == 1 and "empty.csv: file is empty" in run.err


def test_verbose_bad_file_may_show_the_traceback_but_ends_with_the_message(tmp_path):
    (tmp_path / "corrupt.xlsx").write_bytes(os.urandom(4096))
    run = cli_process("import", tmp_path / "corrupt.xlsx", "--dry-run", "--verbose", "--report-dir", tmp_path / "r")
    assert run.code == 2
    assert run.err_lines[-1].startswith("ecwid-contacts: error: ") and "corrupt.xlsx" in run.err_lines[-1]


def test_header_only_file_says_nothing_to_import_and_exits_0(tmp_path, capsys):
    path = tmp_path / "header_only.csv"
    path.write_text("Customer ID,Type,Contact\n", "utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0
    assert "nothing to import" in run.err
    assert summary(tmp_path / "r")["total"] == 0


# --- usage errors -------------------------------------------------------------------

TOKEN = "secret_do_not_echo_4f9a1c"


@pytest.mark.parametrize(
    "args, env, message",
    [
        ((), {"ECWID_TOKEN": TOKEN}, "no store id"),
        (("--store-id", "5"), {}, "no token"),
        (("--store-id", "5", "--token", TOKEN), {}, "refusing --token"),
        (("--dry-run", "--token", TOKEN), {}, "refusing --token"),
        (("--dry-run", f"--token={TOKEN}"), {}, "refusing --token"),
        (("--store-id", "abc"), {"ECWID_TOKEN": TOKEN}, "--store-id: expected a positive integer, got 'abc'"),
        (("--store-id", "0"), {"ECWID_TOKEN": TOKEN}, "--store-id: expected a positive integer"),
        ((), {"ECWID_TOKEN": TOKEN, "ECWID_STORE_ID": "shop"}, "ECWID_STORE_ID must be a positive integer"),
        (("--store-id", "5", "--token-file", "/nonexistent/token"), {}, "cannot read the file given to --token-file"),
        (("--store-id", "5", "--token-file", TOKEN), {}, "its name is not shown"),  # the token typed as the path
        (("--store-id", "5", "--api-url", "http://api.example.com/api/v3"), {"ECWID_TOKEN": TOKEN}, "refusing plain http://"),
        ((), {"ECWID_TOKEN": TOKEN, "ECWID_STORE_ID": "5", "ECWID_API_URL": "http://10.0.0.1/api/v3"}, "refusing plain http://"),
        (("--dry-run", "--rate", "0"), {}, "--rate: expected a positive number"),
        (("--dry-run", "--concurrency", "-1"), {}, "--concurrency"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_and_never_echo_the_token(tmp_path, capsys, monkeypatch, args, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reports = tmp_path / "r"
    run = cli(capsys, "import", VALID, *args, "--report-dir", reports)
    assert run.code == 2
    assert message in run.err_lines[-1] and run.err_lines[-1].startswith("ecwid-contacts: error: ")
    assert TOKEN not in run.out + run.err
    assert "Traceback" not in run.err
    assert not reports.exists()  # nothing sent, nothing written


def test_sheet_with_only_text_files_stops_naming_the_option_and_the_files(tmp_path, capsys):
    run = cli(capsys, "import", VALID, LONG, "--sheet", "Customers", "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and len(run.err_lines) == 1, run.err
    assert run.err_lines[0] == (f"ecwid-contacts: error: --sheet 'Customers' picks a workbook's sheets, but {VALID}, "
                                f"{LONG} are text files (no sheets): leave --sheet out")  # fmt: skip
    assert not (tmp_path / "r").exists()
    # a workbook among the inputs: --sheet picks its sheets, as ever; the text file is read whole
    mixed = cli(capsys, "import", VALID, SAMPLES / "customers_wide.xlsx", "--sheet", "Customers", "--dry-run",
                "--report-dir", tmp_path / "m")  # fmt: skip
    assert mixed.code in (0, 1), mixed.err
    assert {(Path(t["file"]).name, t["sheet"]) for t in summary(tmp_path / "m")["tables"]} == {
        ("contacts_valid.csv", ""), ("customers_wide.xlsx", "Customers")}


def test_http_to_loopback_is_allowed(tmp_path, capsys, monkeypatch):
    # Nothing listens on port 9: the run gets as far as sending, so the URL was accepted.
    monkeypatch.setenv("ECWID_TOKEN", TOKEN)
    small = tmp_path / "one.csv"
    small.write_text("Customer ID,Type,Contact\n1,Email,a@example.com\n", "utf-8")
    run = cli(capsys, "import", small, "--store-id", "5", "--api-url", "http://127.0.0.1:9/api/v3", "--retries", "0",
              "--quiet", "--report-dir", tmp_path / "r")  # fmt: skip
    assert run.code in (1, 3), run.err
    assert "refusing" not in run.err
    assert statuses(results(tmp_path / "r")) in ({"failed": 1}, {"not_sent": 1})


# --- summary, --json, --quiet -------------------------------------------------------


def test_summary_json_and_json_on_stdout_are_the_same(tmp_path, capsys):
    run = cli(capsys, "import", LONG, "--dry-run", "--json", "--report-dir", tmp_path)
    assert run.code == 1
    printed = json.loads(run.out)  # stdout is pure JSON: nothing else on it
    written = summary(tmp_path)
    assert printed == written
    assert written["files"] == [str(LONG)]
    assert written["exit_code"] == 1 and written["dry_run"] is True
    assert written["total"] == 190 and sum(written["counts"].values()) == 190
    assert written["rows"] == 190 and written["blank_rows"] == 1
    assert set(written["report_files"]) >= {"results.csv", "errors.csv", "summary.json"}
    assert written["report_dir"] == str(run_dir(tmp_path))
    assert written["encodings"] == {str(LONG): "utf-8-sig"}
    assert isinstance(written["elapsed_s"], (int, float)) and written["started_at"] <= written["finished_at"]


def test_quiet_clean_run_prints_nothing(tmp_path, capsys):
    run = cli(capsys, "import", VALID, "--dry-run", "--quiet", "--report-dir", tmp_path)
    assert run.code == 0 and run.err == "" and run.out == ""
    assert statuses(results(tmp_path)) == {"valid": VALID_ROWS}


def test_quiet_json_prints_only_json(tmp_path, capsys):
    run = cli(capsys, "import", VALID, "--dry-run", "--quiet", "--json", "--report-dir", tmp_path)
    assert run.code == 0 and run.err == ""
    assert json.loads(run.out)["counts"] == {"valid": VALID_ROWS}


# --- CSV flavours ---------------------------------------------------------------------

CP1252_ROWS = [
    ("1001", "Email", "zoë.müller@example.com", "Zoë Müller – Straße"),
    ("1002", "Phone", "+49 30 1234567", "Büro €"),
]


def _write_cp1252_semicolon(path):
    text = "Customer ID;Type;Contact;Note\r\n" + "".join(";".join(r) + "\r\n" for r in CP1252_ROWS)
    path.write_bytes(text.encode("cp1252"))


def _write_utf16_tab(path):
    text = (
        "Customer ID\tType\tContact\tNote\r\n1003\tInstagram\t@anna.kowalska\tŁódź 東京\r\n"
        "1004\tWhatsApp\t+44 7400 123456\tΔ\r\n1005\tEmail\tłukasz.żak@example.com\t\r\n"
    )
    path.write_bytes(text.encode("utf-16"))  # with a BOM, as Excel's "Unicode Text"


@pytest.mark.parametrize(
    "write, name, expected, encoding",
    [
        (_write_cp1252_semicolon, "excel_windows.csv", [
            ("1001", "EMAIL", "zoë.müller@example.com", ""),
            ("1002", "PHONE", "+49301234567", ""),
        ], ("cp1252", "windows-1252")),
        (_write_utf16_tab, "unicode_text.txt", [
            ("1003", "INSTAGRAM", "https://www.instagram.com/anna.kowalska", "anna.kowalska"),
            ("1004", "WHATSAPP", "+447400123456", ""),
            ("1005", "EMAIL", "łukasz.żak@example.com", ""),
        ], ("utf-16", "utf-16-le", "utf_16")),
    ],
)  # fmt: skip
def test_csv_flavours_are_read_right(tmp_path, capsys, write, name, expected, encoding):
    path = tmp_path / name
    write(path)
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    rows = results(tmp_path / "r")
    assert [(r["customer_id"], r["type"], r["contact"], r["handle"]) for r in rows] == expected
    assert statuses(rows) == {"valid": len(expected)}
    assert summary(tmp_path / "r")["encodings"][str(path)] in encoding


def test_verbose_says_which_encoding_and_delimiter_were_chosen(tmp_path):
    cp, u16 = tmp_path / "a.csv", tmp_path / "b.txt"
    _write_cp1252_semicolon(cp)
    _write_utf16_tab(u16)
    run = cli_process("import", cp, u16, "--dry-run", "--verbose", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    lines = run.err.splitlines()
    assert any("a.csv" in line and "cp1252" in line and "';'" in line for line in lines), run.err
    assert any("b.txt" in line and "utf-16" in line and "'\\t'" in line for line in lines), run.err


def test_plain_http_is_refused_before_any_file_is_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ECWID_TOKEN", TOKEN)
    run = cli(capsys, "import", tmp_path / "huge_export_not_read.csv", "--store-id", "5",
              "--api-url", "http://api.example.com/api/v3", "--report-dir", tmp_path / "r")  # fmt: skip
    assert run.code == 2 and len(run.err_lines) == 1 and "refusing plain http://" in run.err


@pytest.mark.parametrize("where", ["file", "file/below"])
def test_unusable_report_dir_is_a_usage_error_before_anything_runs(tmp_path, capsys, monkeypatch, where):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("ECWID_TOKEN", TOKEN)
    # A real run: the report (and the journal beside it) must be writable before anything is sent.
    run = cli(capsys, "import", VALID, "--store-id", "5", "--api-url", "http://127.0.0.1:9/api/v3",
              "--report-dir", tmp_path / where)  # fmt: skip
    assert run.code == 2 and run.err_lines == [run.err.strip()], run.err
    assert "--report-dir" in run.err and "is not a directory" in run.err and "Traceback" not in run.err


def test_every_column_is_accounted_for_in_the_summary_and_on_the_terminal(tmp_path, capsys):
    path = tmp_path / "crm.csv"
    path.write_text("Customer ID,Name,Email,Company,Phone\n1001,Ann Lee,ann@example.com,Acme,+14155550132\n",
                    encoding="utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r", "--json")
    (table,) = json.loads(run.out)["tables"]
    assert table["columns"] == {"Customer ID": "customerId", "Email": "EMAIL", "Phone": "PHONE"}
    assert table["ignored"] == ["Name", "Company"]
    assert "Columns not imported (crm.csv): Name, Company" in run.err_lines


def test_a_mapping_entry_for_a_column_no_file_has_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "crm.csv"
    path.write_text("Kunde,Email\n1001,ann@example.com\n", encoding="utf-8")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Kunde": "customerId", "Handy": "PHONE"}), encoding="utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--mapping", mapping, "--report-dir", tmp_path / "r")
    assert run.code == 2 and run.err_lines == [run.err.strip()]
    assert "'Handy'" in run.err and "'Kunde', 'Email'" in run.err and not (tmp_path / "r").exists()


def test_a_semicolon_errors_csv_fixed_in_place_imports_again(tmp_path, capsys):
    # German Excel: ';' and cp1252. errors.csv comes back in the input's delimiter, and the
    # apostrophe that kept '@bruno_shop from running as a formula is not part of the handle.
    path = tmp_path / "kunden.csv"
    path.write_bytes("Customer ID;Type;Contact;Note\r\n1001;Email;jörg@example.de;Jörg\r\n"
                     "abc;Telegram;@bruno_shop;Bruno\r\n1003;Phone;+49 30 1234567;Büro\r\n".encode("cp1252"))
    first = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "one")
    errors = run_dir(tmp_path / "one") / "errors.csv"
    text = errors.read_text("utf-8-sig")
    assert first.code == 1 and text.splitlines()[0] == "Customer ID;Type;Contact;Note;error"
    assert text.splitlines()[1].startswith("abc;Telegram;'@bruno_shop;Bruno;")
    errors.write_text(text.replace("abc;", "1002;", 1), "utf-8-sig")  # the fix, made in place
    again = cli(capsys, "import", errors, "--dry-run", "--report-dir", tmp_path / "two")
    (row,) = results(tmp_path / "two")
    assert again.code == 0 and row["status"] == "valid"
    assert (row["customer_id"], row["contact"], row["handle"]) == ("1002", "https://t.me/bruno_shop", "bruno_shop")


def test_errors_csv_keeps_the_customer_key_even_when_its_contact_made_it(tmp_path, capsys):
    # --match-by email: the Email cell names the customer. Its contact is done (a repeat of row 2),
    # the phone is not: the line to fix keeps the email, or it would name no customer.
    path = tmp_path / "crm.csv"
    path.write_text("Email,Phone\nann@example.com,+1 415 555 0132\nann@example.com,not a phone\n", encoding="utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--match-by", "email", "--report-dir", tmp_path / "r")
    (line,) = read_csv(run_dir(tmp_path / "r") / "errors.csv")
    assert run.code == 1 and line["Email"] == "ann@example.com" and line["Phone"] == "not a phone"


# --- the README's transcripts, as a reader checks them -----------------------

README = (LONG.parent.parent / "README.md").read_text("utf-8")


def _transcript_after(command: str | int) -> list[str]:
    """The lines the README shows a command (its first `$ ` line, or the one at that index) printing: up to the
    next `$ ` line or fence."""
    lines = README.splitlines()
    start = (lines.index(command) if isinstance(command, str) else command) + 1
    shown = []
    for line in lines[start:]:
        if line.startswith(("$ ", "```")):
            break
        shown.append(line)
    return shown


def test_readme_dry_run_transcript_is_what_the_sample_prints(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = '$ ecwid-contacts import sample_data/contacts_long.csv --dry-run; echo "exit=$?"'
    run = cli(capsys, "import", LONG, "--dry-run")
    shown = _transcript_after(command)
    printed = run.err_lines + [f"exit={run.code}"]
    folder = run_dir(tmp_path / "reports")
    # the run id and timings differ; every line else is the README's
    assert [line.replace(folder.name, "RUN") for line in printed] == [
        line.replace(line.partition("reports/")[2].partition("/")[0], "RUN") if "reports/" in line else line
        for line in shown
    ]
    head = [line for line in _transcript_after(f"$ head -4 reports/{_readme_run_id(shown)}/errors.csv")]
    written = (folder / "errors.csv").read_text("utf-8-sig").splitlines()[:4]
    assert head == written


def _readme_run_id(shown: list[str]) -> str:
    return next(line for line in shown if line.startswith("Report: ")).split("/")[1]


def test_readme_transcripts_of_sending_runs_name_the_journal_first():
    """Every sending run names its journal on its first line (or says there is none), undo's too: a
    transcript that shows a sending run's output without it is not what the tool prints."""
    lines = README.splitlines()
    missing = []
    for i, line in enumerate(lines):
        if not (line.startswith("$ ") and ("ecwid-contacts import" in line or "ecwid-contacts undo" in line)):
            continue
        args = line.split("#")[0]
        if "import" in args and "--dry-run" in args:
            continue  # a dry import sends nothing and keeps no journal
        if "--sandbox" in args and "--journal" not in args:
            continue  # the embedded sandbox is new on every run: no journal unless --journal
        first = lines[i + 1]
        if first != "..." and not first.startswith("Journal: "):
            missing.append(f"README.md:{i + 1}: {line}")
    assert missing == []


def test_every_report_file_a_run_writes_is_named_in_the_readme(tmp_path, capsys):
    """Two files with other headers: their bad rows can't share one errors.csv; the README's Report section
    must name the second file a reader finds in the folder."""
    (tmp_path / "long.csv").write_text("Customer ID,Type,Contact\n1,Email,a@@example.com\n", "utf-8")
    (tmp_path / "wide.csv").write_text("Customer ID,Email\n2,b@@example.com\n", "utf-8")
    run = cli(capsys, "import", tmp_path / "long.csv", tmp_path / "wide.csv", "--dry-run",
              "--report-dir", tmp_path / "reports")  # fmt: skip
    assert run.code == 1, run.err
    written = sorted(p.name for p in run_dir(tmp_path / "reports").iterdir())
    assert written == ["errors-wide.csv", "errors.csv", "results.csv", "results.xlsx", "summary.json"]
    report_section = README.partition("\n## Report\n")[2].partition("\n## ")[0]
    for name in ("results.csv", "results.xlsx", "errors.csv", "errors-<file>[-<sheet>].csv", "summary.json"):
        assert f"`{name}`" in report_section, name


@pytest.mark.parametrize("argv", [
    ("import", "missing.csv", "--dry-run", "--verbose"),  # a bad file
    ("import", "missing.csv", "--dry-run", "--quiet", "--verbose"),  # a usage error
])  # fmt: skip
def test_verbose_never_turns_a_usage_error_or_bad_file_into_a_traceback(tmp_path, argv):
    run = cli_process(*argv, "--report-dir", tmp_path)
    assert run.code == 2, run.err
    assert "Traceback" not in run.err, run.err
    assert run.err_lines[-1].startswith("ecwid-contacts: error: "), run.err
    assert [line for line in run.err_lines if not line.startswith(("usage:", " "))] == run.err_lines[-1:]


def test_readme_transcripts_of_sending_runs_show_the_progress_and_the_journal_they_print():
    """What a sending run prints before its table: a `sent N/N rows` line when it sent anything, and
    `Continuing an earlier run` when its journal already had rows done (test_cli_send and test_nightly check
    that the CLI prints them; this checks that the README shows them)."""
    lines = README.splitlines()
    wrong = []
    for i, line in enumerate(lines):
        if not (line.startswith("$ ") and "ecwid-contacts import" in line) or "--dry-run" in line:
            continue
        shown = _transcript_after(i)
        if not shown or shown[0] == "...":
            continue
        table = next((n for n, said in enumerate(shown) if said.startswith(" status ")), len(shown))
        before, after = shown[:table], shown[table:]
        created = any(said.split()[:1] == ["created"] and said.split()[1] != "0" for said in after)
        if created and not any(said.startswith("sent ") for said in before):
            wrong.append(f"README.md:{i + 1}: rows created, no 'sent N/N rows' line")
        if any(said.startswith("Skipped: ") and "already-imported" in said for said in after) and not any(
            said.startswith("Continuing an earlier run") for said in before
        ):
            wrong.append(f"README.md:{i + 1}: rows already imported, no 'Continuing an earlier run' line")
    assert wrong == []


def test_readme_imports_of_the_sample_folder_name_only_files_the_import_reads():
    """`import sample_data/<glob>` as the README writes it, expanded as a shell would: every file it names must
    be one the import reads, or the command a reader copies stops at once (exit 2)."""
    from importer.input.files import TEXT_EXTENSIONS, WORKBOOK_EXTENSIONS

    root = LONG.parent.parent
    commands = re.findall(r"import ((?:sample_data/\S*\*\S* ?)+)", README)
    assert commands, "the README imports the sample folder somewhere"
    for patterns in commands:
        named = [Path(p) for pattern in patterns.split() for p in glob.glob(str(root / pattern))]
        assert named, patterns
        unread = [p.name for p in named if p.suffix.lower() not in TEXT_EXTENSIONS + WORKBOOK_EXTENSIONS]
        assert unread == [], f"import {patterns}: {unread}"
