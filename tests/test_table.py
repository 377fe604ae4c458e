"""The run's table: every record once, with Excel's row numbers, in one process, from any caller."""

from __future__ import annotations

import csv
import multiprocessing
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import importer.input.textfile
from importer.records import ContactRecord, Status
from importer.report import REPORT_COLUMNS
from importer.runs.pipeline import run_import

from cli_support import cli


def _ghost_csv(path: Path, rows: int = 2000) -> Path:
    """A cell that ends in a quote early on (`size 5"`, legal for Excel and Python's csv), quoted cells with
    commas, quotes and line breaks, blank lines, and a note of many lines across the file's middle."""
    lines = ["Customer ID,Type,Contact,Note"]
    for i in range(rows):
        note = ["plain", '"with, comma"', '"two\r\nlines"', '"say ""hi"""', "", 'size 5"'][i % 6]
        contact = f"u{i}@example.com" if i % 3 != 1 else f"+1 650-253-{i % 10000:04d}"
        lines.append(f'{100 + i // 4},{["Email", "Phone", "EMIAL"][i % 3]},{contact},{note}')
        if i % 37 == 0:
            lines.append("")
        if i == rows // 2:
            lines.append('1,Email,long@example.com,"' + "a line, 2,Email,ghost@example.com\r\n" * 25 + '"')
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def _excel_rows(path: Path) -> list[tuple[int, str]]:
    """(row number as Excel shows it, contact) of every non-blank record after the header, by Python's csv."""
    with open(path, encoding="utf-8", newline="") as f:
        records = list(enumerate(csv.reader(f), 1))
    return [(n, r[2]) for n, r in records[1:] if any(c.strip() for c in r)]


@pytest.mark.parametrize("chunk_rows", [7, 100, 100_000])
def test_every_record_once_with_excels_row_numbers(tmp_path, monkeypatch, chunk_rows):
    monkeypatch.setattr(importer.input.textfile, "CHUNK_ROWS", chunk_rows)  # chunk ends inside quoted cells too
    path = _ghost_csv(tmp_path / "ghost.csv")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    expected = _excel_rows(path)
    got = [(r.source.row, r.source_contact) for r in result.records]
    assert got == expected
    assert not any("ghost@" in c for _, c in got)  # lines of the note are not rows
    assert result.summary["rows"] == len(expected) and result.summary["blank_rows"] == 2000 // 37 + 1
    assert sum(result.counts.values()) == len(expected)


def test_result_frame_has_the_reports_columns_and_rows(tmp_path):
    path = _ghost_csv(tmp_path / "c.csv", rows=60)
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    frame = result.frame
    assert isinstance(frame, pd.DataFrame) and tuple(frame.columns[: len(REPORT_COLUMNS)]) == REPORT_COLUMNS
    with open(result.report_path / "results.csv", encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    assert len(frame) == len(lines) == len(result.records)
    assert frame["row"].tolist() == [int(line["row"]) for line in lines]
    assert frame["status"].astype(str).tolist() == [line["status"] for line in lines]
    assert (frame["status"] == "invalid").sum() == result.counts["invalid"] == 20  # EMIAL every third row
    record = result.records[1]
    assert isinstance(record, ContactRecord) and record.type == "PHONE" and record.contact.startswith("+1650253")
    assert record.outcome.status is Status.VALID and list(result.records)[1] == record


def _dry_run(args: tuple[str, str]) -> tuple[int, dict, bytes, bytes]:
    path, report_dir = args
    result = run_import([path], dry_run=True, quiet=True, report_dir=report_dir)
    return (result.exit_code, result.counts, (result.report_path / "results.csv").read_bytes(),
            (result.report_path / "errors.csv").read_bytes())


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    # More rows than the old two-process reader needed (32,768) to start a child.
    return _ghost_csv(tmp_path_factory.mktemp("big") / "big.csv", rows=40_000)


@pytest.fixture(scope="module")
def cli_run(big_csv, tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("cli")
    done = subprocess.run([sys.executable, "-m", "importer", "import", str(big_csv), "--dry-run", "--quiet",
                           "--report-dir", str(report_dir)], capture_output=True, text=True)
    (run,) = report_dir.iterdir()
    return done.returncode, (run / "results.csv").read_bytes(), (run / "errors.csv").read_bytes()


def test_run_import_in_a_pool_worker_gives_the_clis_results(big_csv, cli_run, tmp_path):
    # A Pool worker is a daemonic process: it may not start children of its own.
    with multiprocessing.get_context("fork").Pool(1) as pool:
        code, counts, results, errors = pool.map(_dry_run, [(str(big_csv), str(tmp_path))])[0]
    assert (code, results, errors) == cli_run
    assert counts["invalid"] > 0 and sum(counts.values()) == results.count(b"\r\n") - 1


def test_run_import_in_a_thread_gives_the_clis_results(big_csv, cli_run, tmp_path):
    out = []
    worker = threading.Thread(target=lambda: out.append(_dry_run((str(big_csv), str(tmp_path)))))
    worker.start()
    worker.join()
    code, _, results, errors = out[0]
    assert (code, results, errors) == cli_run


def test_a_file_ending_inside_a_quoted_cell_is_refused_with_its_row(tmp_path, capsys):
    path = tmp_path / "cut.csv"
    path.write_text('Customer ID,Type,Contact\n1,Email,a@example.com\n2,Email,"trunc@example.co', encoding="utf-8")
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and run.err_lines == [run.err.strip()]
    assert "row 3" in run.err and "quoted cell is never closed" in run.err and not (tmp_path / "r").exists()


def test_text_is_never_type_inferred(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Customer ID,Type,Contact,Note\n0012,Email,a@example.com,NA\n12,Other,null,0012\n",
                    encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    first, second = result.records
    assert (first.customer_id, first.note) == (12, "NA")
    assert (second.contact, second.note) == ("null", "0012")


@pytest.mark.parametrize("chunk_rows", [2, 100_000])
def test_a_row_with_cells_only_past_the_header_is_reported_not_skipped(tmp_path, monkeypatch, chunk_rows):
    monkeypatch.setattr(importer.input.textfile, "CHUNK_ROWS", chunk_rows)  # the long row comes in a later chunk
    path = tmp_path / "past.csv"
    path.write_text("Customer ID,Email\n1,a@example.com\n2,b@example.com\n\n,,stray@example.com\n"
                    "3,c@example.com,extra\n", encoding="utf-8")
    result = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "r")
    assert [(r.source.row, r.outcome.status.value) for r in result.records] == [
        (2, "valid"), (3, "valid"), (5, "invalid"), (6, "valid")]
    assert result.summary["blank_rows"] == 1 and result.records[2].outcome.error_code.split(";")[0] == "missing-customer-id"


@pytest.mark.parametrize("chunk_rows", [3, 100_000])
def test_limit_reads_the_first_n_data_rows_only(tmp_path, monkeypatch, chunk_rows, capsys):
    monkeypatch.setattr(importer.input.textfile, "CHUNK_ROWS", chunk_rows)
    path = _ghost_csv(tmp_path / "big.csv", rows=300)
    full = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "full")
    trial = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "trial", limit=40)
    assert [r.source for r in trial.records] == [r.source for r in full.records][:40]
    assert trial.summary["rows"] == 40 and trial.summary["blank_rows"] == 2  # lines 3 and 40 of the file
    assert any("--limit 40" in note for note in trial.summary["notes"])
    run = cli(capsys, "import", path, "--dry-run", "--limit", "0", "--report-dir", tmp_path / "bad")
    assert run.code == 2


def test_limit_counts_across_files_and_sheets(tmp_path):
    first = _ghost_csv(tmp_path / "a.csv", rows=10)
    second = _ghost_csv(tmp_path / "b.csv", rows=10)
    full = run_import([first, second], dry_run=True, quiet=True, report_dir=tmp_path / "full")
    trial = run_import([first, second], dry_run=True, quiet=True, report_dir=tmp_path / "r", limit=15)
    assert [r.source for r in trial.records] == [r.source for r in full.records][:15]
    assert {r.source.file for r in trial.records} == {str(first), str(second)}  # 11 rows of a.csv, 4 of b.csv
