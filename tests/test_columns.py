"""columns.py and the batch path: the same records, outcomes and report as row by row."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.columns import RecordTable
from importer.load import RowBatch, _plan, contacts
from importer.normalize import Normalizer
from importer.records import Code, Status
from importer.report import write_report
from importer.validate import validate, validate_table

log = logging.getLogger("test")

# Small pools, so that rows repeat (duplicates), clash (duplicate defaults) and go wrong.
CUSTOMER_IDS = ["177000021", "177000022", "12", "3.0", "0", "-5", "abc", "", "1.77737E+08", " 42 "]
TYPES = ["Email", "EMAIL", "Phone", "mobile", "Instagram", "Facebook", "Website", "WhatsApp", "Other", "EMIAL", "", "x"]
CONTACTS = [
    "ana@example.com", "Ana@Example.COM", "bad@@example", "+1 650-253-0000", "+16502530000", "+44 20 7946 0958",
    "650-253-0000", "@shop_name", "shop_name", "https://www.instagram.com/shop_name/", "https://facebook.com/my.page",
    "https://instagram.com/other", "https://shop.example.com/about", "www.shop.example.com", "1.6502E+10", "",
    "  ana@example.com\u00a0", "x" * 1100, "tel:+16502530000", "https://wa.me/16502530000",
]  # fmt: skip
HANDLES = ["", "", "own_handle", "h" * 300]
NOTES = ["", "", "a note", "n" * 1100]
DEFAULTS = ["", "", "TRUE", "FALSE", "yes", "maybe", True, False]
ORDERS = ["", "", "1", "2.0", "-1", "first"]
STAMPS = ["", "2025-03-26 11:07:12", "2025-03-26T11:07:12+02:00", "yesterday", dt.datetime(2024, 1, 2, 3, 4, 5)]

LONG = ["Customer ID", "Type", "Contact", "Handle", "Note", "Default", "Order", "Timestamp"]
POOLS = [CUSTOMER_IDS, TYPES, CONTACTS, HANDLES, NOTES, DEFAULTS, ORDERS, STAMPS]
WIDE = ["Customer ID", "Email", "Phone", "Instagram"]
WIDE_POOLS = [CUSTOMER_IDS, CONTACTS, CONTACTS, CONTACTS]
BY_EMAIL = ["Customer Email", "Type", "Contact"]
BY_EMAIL_POOLS = [["jane@example.com", "JANE@example.com", "not-an-email", ""], TYPES, CONTACTS]


def _rows(pools: list[list], max_size: int = 40) -> st.SearchStrategy[list[tuple]]:
    return st.lists(st.tuples(*(st.sampled_from(p) for p in pools)), min_size=1, max_size=max_size)


def _batches(headers: list[str], rows: list[tuple], *, sizes: int = 1, sheet: str = "") -> list[RowBatch]:
    """The rows as `sizes` consecutive batches of one table (row numbers from 2)."""
    plan = _plan("in/contacts.csv", sheet, headers, {}, log)
    step = max(1, -(-len(rows) // sizes))
    return [
        RowBatch(plan, list(range(2 + start, 2 + start + len(rows[start : start + step]))), rows[start : start + step])
        for start in range(0, len(rows), step)
    ]


def _both_ways(batches: list[RowBatch], region: str | None = None):
    """(the batch path's table, the row path's validated records)."""
    table = RecordTable()
    batch_normalizer = Normalizer(phone_region=region)
    for batch in batches:
        batch_normalizer.add_batch(batch, table)
    validate_table(table)
    row_normalizer = Normalizer(phone_region=region)
    raws = [raw for batch in batches for raw in contacts(batch)]
    return table, validate([row_normalizer(raw, i) for i, raw in enumerate(raws)])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows(POOLS), sizes=st.integers(1, 3), region=st.sampled_from([None, "US"]))
def test_batch_path_gives_the_row_paths_records(rows, sizes, region):
    table, expected = _both_ways(_batches(LONG, rows, sizes=sizes), region)
    assert list(table) == expected
    assert len(table) == len(rows)  # long layout: one record per source row, each with one outcome
    assert all(r.outcome.status not in (Status.PENDING,) for r in table)


@settings(max_examples=60, deadline=None)
@given(rows=_rows(WIDE_POOLS, 15))
def test_wide_tables_take_the_row_path_with_the_same_result(rows):
    table, expected = _both_ways(_batches(WIDE, rows, sizes=2))
    assert list(table) == expected


@settings(max_examples=60, deadline=None)
@given(rows=_rows(BY_EMAIL_POOLS, 15))
def test_customer_email_tables_take_the_row_path_with_the_same_result(rows):
    table, expected = _both_ways(_batches(BY_EMAIL, rows))
    assert list(table) == expected


def test_only_the_missing_columns_differ_from_a_full_table():
    """A table with just the three needed columns is still batch-normalized like the row path."""
    rows = [("1", "Email", "a@example.com"), ("1", "Email", "a@example.com"), ("x", "Phone", "12")]
    table, expected = _both_ways(_batches(["Customer ID", "Type", "Contact"], rows))
    assert list(table) == expected
    assert [r.outcome.status for r in table] == [Status.VALID, Status.DUPLICATE, Status.INVALID]
    assert table[1].duplicate_of == table[0].source
    assert {e.code for e in table[2].errors} == {Code.INVALID_CUSTOMER_ID, Code.PHONE_NEEDS_REGION}


def test_duplicate_defaults_are_marked_in_the_table():
    rows = [("7", "Email", "a@example.com", "TRUE"), ("7", "Email", "b@example.com", "yes")]
    table, expected = _both_ways(_batches(["Customer ID", "Type", "Contact", "Default"], rows))
    assert list(table) == expected
    assert [r.outcome.error_code for r in table] == [Code.DUPLICATE_DEFAULT, Code.DUPLICATE_DEFAULT]
    assert "row 3" in table[0].outcome.error and "row 2" in table[1].outcome.error


def test_record_table_is_a_sequence_of_records():
    rows = [("1", "Email", f"u{i}@example.com") for i in range(5)]
    table, expected = _both_ways(_batches(["Customer ID", "Type", "Contact"], rows))
    assert len(table) == 5
    assert table[-1] == expected[-1] and table[1:3] == expected[1:3]
    assert [r.index for r in table] == [0, 1, 2, 3, 4]
    assert table == expected and table != expected[:4]
    with pytest.raises(IndexError):
        table[5]
    assert RecordTable(expected) == expected  # built from records, it gives them back
    with pytest.raises(ValueError, match="no raw row"):
        RecordTable().append(expected[0].__class__(0, expected[0].source, None, 1, None, "EMAIL", "a@b.co"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows(POOLS, 25))
def test_report_from_the_table_is_the_report_from_its_records(tmp_path_factory, rows):
    table, _ = _both_ways(_batches(LONG, rows, sizes=2))
    a, b = tmp_path_factory.mktemp("table"), tmp_path_factory.mktemp("list")
    write_report(table, {"run_id": "r"}, report_dir=a, run_id="r")
    write_report(list(table), {"run_id": "r"}, report_dir=b, run_id="r")
    names = sorted(p.name for p in (a / "r").iterdir())
    assert names == sorted(p.name for p in (b / "r").iterdir())
    for name in names:
        if name.endswith(".xlsx"):  # a zip stamps its members with the time: compare the cells
            assert _cells(a / "r" / name) == _cells(b / "r" / name)
        elif name != "summary.json":  # it holds its own folder's path
            assert (a / "r" / name).read_bytes() == (b / "r" / name).read_bytes(), name


def _cells(path) -> list[tuple]:
    from openpyxl import load_workbook

    return list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))


def test_a_big_report_written_by_two_processes_is_the_same(tmp_path, monkeypatch):
    """results.csv from a forked writer (the second half) equals the one written in one process."""
    import os

    import importer.report as report

    rows = [(str(100 + i % 7), ["Email", "Phone", "EMIAL"][i % 3], f"u{i}@example.com" if i % 3 != 1 else "+1 650-253-0000")
            for i in range(3000)]
    table, _ = _both_ways(_batches(["Customer ID", "Type", "Contact"], rows, sizes=3))
    write_report(table, {"run_id": "r"}, report_dir=tmp_path / "one", run_id="r")
    forks = []
    real_fork = os.fork

    def counted_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(report, "FORK_MIN_LINES", 100)
    monkeypatch.setattr(report, "_can_fork", lambda: True)
    monkeypatch.setattr(os, "fork", counted_fork)
    write_report(table, {"run_id": "r"}, report_dir=tmp_path / "two", run_id="r")
    assert len(forks) == 1
    for name in ("results.csv", "errors.csv"):
        assert (tmp_path / "one" / "r" / name).read_bytes() == (tmp_path / "two" / "r" / name).read_bytes()
    assert not list((tmp_path / "two" / "r").glob("*.part"))


def _contacts_csv(path, rows: int = 600):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Customer ID", "Type", "Contact", "Default"])
        for i in range(rows):
            kind = i % 5
            contact = [f"u{i}@example.com", "+1 650-253-0000", f"@shop{i % 40}", "bad@@mail", "https://shop.example.com"][kind]
            w.writerow([100 + i // 3, ["Email", "Phone", "Instagram", "Email", "Website"][kind], contact, "TRUE" if kind == 0 else ""])
    return path


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 50 rows, a worker from the second batch: the pool path on a small file."""
    import importer.load
    import importer.normalize
    import importer.pipeline

    monkeypatch.setattr(importer.load, "BATCH_ROWS", 50)
    monkeypatch.setattr(importer.pipeline, "PARALLEL_AFTER_BATCHES", 1)
    # pytest may run helper threads; the child process only works out values
    monkeypatch.setattr(importer.normalize.threading, "active_count", lambda: 1)
    submitted = []
    real_submit = importer.normalize.ValuePool.submit

    def counted(self, pairs, region):
        result = real_submit(self, pairs, region)
        submitted.append(not isinstance(result, list))  # True: a worker has it
        return result

    monkeypatch.setattr(importer.normalize.ValuePool, "submit", counted)
    return submitted


def test_values_from_a_worker_process_give_the_same_run(tmp_path, small_batches):
    from importer.pipeline import run_import

    path = _contacts_csv(tmp_path / "c.csv")
    here = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "here", jobs=0)
    assert not any(small_batches)  # jobs=0: no worker
    small_batches.clear()
    there = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "there", jobs=1)
    assert small_batches and all(small_batches)  # every batch after the first went to the worker
    assert list(there.records) == list(here.records)
    assert here.counts == there.counts and here.counts["invalid"] == 120
    for name in ("results.csv", "errors.csv"):
        assert (there.report_path / name).read_bytes() == (here.report_path / name).read_bytes()


def test_a_worker_that_dies_changes_nothing_but_the_time(tmp_path, small_batches, monkeypatch):
    import os

    import importer.normalize
    from importer.pipeline import run_import

    parent, real = os.getpid(), importer.normalize.contact_values

    def dies_in_the_worker(pairs, region):
        if os.getpid() != parent:
            os._exit(1)
        return real(pairs, region)

    # sent to the worker by name, as the real one is
    dies_in_the_worker.__module__, dies_in_the_worker.__qualname__ = "importer.normalize", "contact_values"
    monkeypatch.setattr(importer.normalize, "contact_values", dies_in_the_worker)
    path = _contacts_csv(tmp_path / "c.csv")
    broken = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "broken", jobs=1)
    assert small_batches[0]  # the first went to the worker, which died
    here = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "here", jobs=0)
    assert list(broken.records) == list(here.records)


@pytest.fixture
def split_small(monkeypatch):
    """Files over 1,000 bytes are read in two parts; returns, per part, whether the child delivered it."""
    import importer.load
    import importer.pipeline

    monkeypatch.setattr(importer.load, "SPLIT_MIN_BYTES", 1000)
    monkeypatch.setattr(importer.pipeline.threading, "active_count", lambda: 1)  # see small_batches
    joined = []
    real_join = importer.pipeline._PartReader.join

    def join(self):
        got = real_join(self)
        joined.append(got is not None)
        return got

    monkeypatch.setattr(importer.pipeline._PartReader, "join", join)
    return joined


def _awkward_csv(path, rows: int = 400, extra: str = ""):
    """Quoted cells with commas, quotes and line breaks, CRLF, blank lines: a record boundary is not a line."""
    lines = ["Customer ID,Type,Contact,Note"]
    for i in range(rows):
        note = ['plain', '"with, comma"', '"two\r\nlines"', '"say ""hi"""', ""][i % 5]
        lines.append(f'{100 + i // 4},{["Email", "Phone", "EMIAL"][i % 3]},'
                     f'{f"u{i}@example.com" if i % 3 != 1 else "+1 650-253-0000"},{note}{extra if i == rows - 3 else ""}')
        if i % 37 == 0:
            lines.append("")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def _same_runs(a, b) -> None:
    assert list(a.records) == list(b.records)
    assert (a.summary["rows"], a.summary["blank_rows"]) == (b.summary["rows"], b.summary["blank_rows"])
    for name in ("results.csv", "errors.csv"):
        assert (a.report_path / name).read_bytes() == (b.report_path / name).read_bytes()


def test_a_big_file_read_by_two_processes_gives_the_same_run(tmp_path, split_small):
    from importer.pipeline import run_import

    path = _awkward_csv(tmp_path / "c.csv")
    one = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "one", jobs=0)
    assert split_small == []
    two = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "two", jobs=1)
    assert split_small == [True]
    _same_runs(one, two)
    assert one.records[-1].source.row == 400 + 1 + 11  # header, 400 rows, 11 blank lines


def test_a_stray_quote_keeps_the_file_in_one_process(tmp_path, split_small):
    from importer.load import _split_offset
    from importer.pipeline import run_import

    path = _awkward_csv(tmp_path / "c.csv", extra=' 5" screen')
    assert _split_offset(str(path), "utf-8", ",") is None
    one = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "one", jobs=0)
    two = run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / "two", jobs=1)
    assert split_small == []
    _same_runs(one, two)


def test_a_bad_byte_in_the_second_part_is_reported_as_in_one_process(tmp_path, split_small):
    from importer.errors import InputError
    from importer.pipeline import run_import

    path = _awkward_csv(tmp_path / "c.csv")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4] + b"\xff" + data[len(data) * 3 // 4 :])
    errors = []
    for jobs in (0, 1):
        with pytest.raises(InputError) as caught:
            run_import([path], dry_run=True, quiet=True, report_dir=tmp_path / str(jobs), jobs=jobs, encoding="utf-8")
        errors.append(str(caught.value))
    assert split_small == [False]  # the child gave up; this process read the part and said why
    assert errors[0] == errors[1] and f"not valid utf-8 text at byte {len(data) * 3 // 4}" in errors[0]


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
@pytest.mark.parametrize("middle_in_a_quoted_cell", [False, True])
def test_the_split_is_a_record_boundary_whatever_the_chunk_size(tmp_path, monkeypatch, chunk, middle_in_a_quoted_cell):
    import csv
    import io

    import importer.load

    monkeypatch.setattr(importer.load, "SPLIT_MIN_BYTES", 1000)
    monkeypatch.setattr(importer.load, "CHUNK_BYTES", chunk)
    path = _awkward_csv(tmp_path / "c.csv", rows=40 if middle_in_a_quoted_cell else 400)
    if middle_in_a_quoted_cell:  # a note of many lines, with the file's middle in it
        path.write_bytes(path.read_bytes() + b'1,Email,a@example.com,"' + b"a line\r\n" * 400 + b'"\r\n'
                         + b"2,Email,b@example.com,\r\n" * 20)
    data = path.read_bytes()
    at = importer.load._split_offset(str(path), "utf-8", ",")
    assert at is not None and len(data) // 2 <= at < len(data)

    def records(b: bytes) -> list[list[str]]:
        return list(csv.reader(io.StringIO(b.decode("utf-8"), newline="")))

    assert records(data[:at]) + records(data[at:]) == records(data)
