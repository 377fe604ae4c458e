"""Issue 15, "never garbled, never down": files that once garbled a run's data or took the machine down.

Each hostile file is built here, small on disk. The runs that could run away go through the
CLI in a child process under an address-space limit (a runaway dies there, not the machine)
and their peak memory is checked (`ru_maxrss` of that child, from `os.wait4`): each ends
with its exit code and one line naming the limit, well inside MEMORY_MIB.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import struct
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli_support import ROOT, Run, child_env, cli, results, summary
from importer.errors import InputError
from importer.input import encoding
from importer.input import limits
from importer.input.bookcheck import _SheetExtent, check_workbook
from load_helpers import load_with_stats

posix = pytest.mark.skipif(os.name != "posix", reason="setrlimit, wait4, FIFOs and /dev are POSIX")

MEMORY_MIB = 450  # peak RSS of a hostile run: an import of a small file is about 150
ADDRESS_SPACE = 3 << 30  # where a runaway stops: MemoryError, a failed test, not a swapping machine


@dataclass
class Bounded(Run):
    peak_mib: float = 0.0  # the child's peak RSS


def bounded(tmp_path: Path, *argv: object) -> Bounded:
    """`python -m importer ARGV` in a child process with at most ADDRESS_SPACE of memory; its peak RSS."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    err_path = tmp_path / "stderr.txt"
    with open(err_path, "wb") as err, open(os.devnull, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "importer", *map(str, argv)], stdout=out, stderr=err,
                                env=child_env(), cwd=ROOT, preexec_fn=limit)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / (1 << 20)
    return Bounded(proc.returncode, "", err_path.read_text("utf-8", "replace"), peak)


def dry(tmp_path: Path, path: Path, *more: object) -> Bounded:
    return bounded(tmp_path, "import", path, "--dry-run", "--report-dir", tmp_path / "r", *more)


def refused(run: Bounded, *words: str) -> None:
    """Exit 2, one line that says why, no traceback, within the memory bound."""
    assert run.code == 2, run.err
    assert len(run.err_lines) == 1 and "Traceback" not in run.err, run.err
    for word in words:
        assert word in run.err_lines[0], run.err_lines[0]
    assert run.peak_mib < MEMORY_MIB, run.peak_mib


# ------------------------------------------------------------------ workbooks built byte by byte

_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(path: Path, sheet_xml: str | bytes, shared: str | None = None, where: str = "worksheets/sheet1.xml") -> Path:
    """A minimal .xlsx: one sheet (Sheet1) as given, at xl/`where`, and shared strings if any."""
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          f'<Override PartName="/xl/{where}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
             if shared else '') + '</Types>')
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook {_MAIN} xmlns:r="{_REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    book_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="{where}"/>'
                 + (f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>' if shared else '')
                 + '</Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", book_rels)
        z.writestr(f"xl/{where}", sheet_xml)
        if shared:
            z.writestr("xl/sharedStrings.xml", shared)
    return path


def sheet(cells: list[tuple[str, str]], dimension: str | None = None) -> str:
    """Sheet XML of inline-string cells [(reference, text)], rows in order."""
    rows: dict[int, list[str]] = {}
    for ref, text in cells:
        rows.setdefault(int(re.sub("[A-Z]", "", ref)), []).append(
            f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = "".join(f'<row r="{r}">{"".join(c)}</row>' for r, c in sorted(rows.items()))
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_MAIN}>{dim}<sheetData>{body}</sheetData></worksheet>'


CONTACTS = [("A1", "Customer ID"), ("B1", "Email"), ("A2", "1001"), ("B2", "ann@example.com")]


def declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size a zip declares for `member` (local header and central directory)."""
    data = bytearray(path.read_bytes())
    # (signature, where the uncompressed size is, where the name's length is, where the name starts)
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + length_at)[0]
            if data[at + name_at : at + name_at + length] == member.encode():
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def ods(path: Path, rows_xml: str) -> Path:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="Contacts">{rows_xml}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def ods_row(cells: list[str], repeat: int = 1, cell_repeat: int = 1) -> str:
    r = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    c = f' table:number-columns-repeated="{cell_repeat}"' if cell_repeat > 1 else ""
    return (f"<table:table-row{r}>" + "".join(
        f'<table:table-cell office:value-type="string"{c}><text:p>{v}</text:p></table:table-cell>' for v in cells)
        + "</table:table-row>")


# LibreOffice ends every sheet so: an empty row repeated to the last row, which is no extent.
ODS_TAIL = ('<table:table-row table:number-rows-repeated="1048570">'
            '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')


# ------------------------------------------------------------------ decoding by evidence

ZOE = [f"{1000 + i},Email,zoë{i}@example.com" for i in range(199)]


def test_one_stray_byte_in_a_utf8_file_spoils_its_row_not_the_file(tmp_path, capsys):
    """The issue's file: 199 lines of zoë…@example.com and one caf\\xe9@… (once read as hp_roman8)."""
    path = tmp_path / "zoe.csv"
    data = ("Customer ID,Type,Contact\n" + "\n".join(ZOE) + "\n").encode() + b"2000,Email,caf\xe9@example.com\n"
    path.write_bytes(data)
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 1
    rows = results(tmp_path / "r")
    assert [r["contact"] for r in rows[:2]] == ["zoë0@example.com", "zoë1@example.com"]  # UTF-8, not garbled
    assert {r["status"] for r in rows[:-1]} == {"valid"}
    last, at = rows[-1], data.index(b"\xe9")
    assert (last["row"], last["status"], last["error_code"]) == ("201", "invalid", "bad-encoding")
    assert f"at byte {at:,} (e9)" in last["error"] and last["error"].startswith("Contact: ")
    said = summary(tmp_path / "r")
    assert said["encodings"] == {str(path): "utf-8"}
    assert f"{path}: read as UTF-8, but 1 line has bytes that are not UTF-8: its row is invalid (bad-encoding)" in said["notes"]


def test_bad_bytes_are_placed_in_their_own_rows_and_columns(tmp_path):
    """Bytes in a quoted multi-line cell, two in one row, a U+FFFD written in the file (not bad), a blank line."""
    rows = [b"Customer ID,Type,Contact,Note", *[f"{i + 1},Email,zo\u00eb{i}@x.co,caf\u00e9".encode() for i in range(60)],
            b"", b'7,Email,a@x.co,"two\nlines \xff here"', b"8,Email,b@x.co,\xef\xbf\xbd written",
            b"9,Email,c\xc3@x.co,x\x80\x81"]
    path = tmp_path / "m.csv"
    data = b"\n".join(rows) + b"\n"
    path.write_bytes(data)
    records, stats = load_with_stats(path)
    bad = {r.source.row: [(e.code, e.column, e.message) for e in r.errors] for r in records if r.errors}
    assert list(bad) == [63, 65]  # 62 is blank; the note of row 63 spans two lines; 64 has a U+FFFD as written
    at = data.index(b"\xff")
    assert bad[63][0][:2] == ("bad-encoding", "Note") and f"byte {at:,} (ff)" in bad[63][0][2]
    assert bad[65][0][:2] == ("bad-encoding", "Contact") and "3 such places" in bad[65][0][2]
    assert stats.encodings[str(path)] == "utf-8"
    first, _ = load_with_stats(path, limit=62)  # read no further than row 63
    assert [(r.source.row, r.errors[0].message) for r in first if r.errors] == [(63, bad[63][0][2])]


@pytest.mark.parametrize("utf8, stray, verdict", [
    (199, 1, "utf-8"), (40, 2, "utf-8"), (0, 30, "cp1252"), (1, 60, "cp1252"), (10, 10, "mixed"), (3, 1, "mixed"),
])
def test_which_evidence_wins(tmp_path, utf8, stray, verdict):
    path = tmp_path / "e.csv"
    lines = [f"{1000 + i},Email,zo\u00eb{i}@x.co".encode() for i in range(utf8)]
    lines += [f"{2000 + i},Email,jos\u00e9{i}@x.co".encode("cp1252") for i in range(stray)]
    path.write_bytes(b"Customer ID,Type,Contact\n" + b"\n".join(lines) + b"\n")
    if verdict == "mixed":
        with pytest.raises(InputError, match=f"mixed encodings: {utf8} lines are UTF-8 and {stray} ha(s|ve) bytes"):
            load_with_stats(path)
        records, stats = load_with_stats(path, encoding="utf-8")  # what the message offers
        assert sum(r.errors[0].code == "bad-encoding" for r in records if r.errors) == stray
        return
    records, stats = load_with_stats(path)
    assert stats.encodings[str(path)] == verdict
    assert sum(bool(r.errors) for r in records) == (stray if verdict == "utf-8" else 0)


def test_a_mixed_file_is_refused_with_one_line(tmp_path, capsys):
    path = tmp_path / "two.csv"
    data = "Customer ID,Type,Contact\n1,Email,zoë@x.co\n".encode() + b"2,Email,jos\xe9@x.co\n"
    path.write_bytes(data)
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and run.err_lines == [run.err.strip()]
    assert "mixed encodings: 1 line is UTF-8 and 1 has bytes that are not" in run.err
    at = data.index(b"\xe9")
    assert f"(the first at byte {at}: e9)" in run.err and "--encoding utf-8" in run.err


def test_legacy_text_is_read_only_in_a_common_code_page(tmp_path):
    western = "José Müller, Ñandú, Zoë, François, Ærøskøbing, Straße".encode("cp1252")
    for name, body, expected in [
        ("w.csv", western, {"cp1252"}),
        ("ru.csv", "Пётр Иванов, Москва, улица Льва Толстого".encode("cp1251"), {"cp1251"}),
        ("gr.csv", "Αθήνα, Θεσσαλονίκη, Γιώργος Παπαδόπουλος".encode("cp1253"), {"cp1253", "iso8859_7"}),
    ]:
        path = tmp_path / name
        path.write_bytes(b"Customer ID,Type,Contact,Note\n" + b"\n".join(
            b"%d,Email,a%d@x.co,%s" % (i + 1, i, body) for i in range(20)) + b"\n")
        chosen = load_with_stats(path)[1].encodings[str(path)]
        assert chosen in expected
        assert codecs.lookup(chosen).name in {codecs.lookup(c).name for c in encoding.COMMON}


def test_a_byte_order_mark_says_utf8_even_with_a_bad_byte(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"Customer ID,Type,Contact\n1,Email,a@x.co\n2,Email,b\xe9@x.co\n")
    records, stats = load_with_stats(path)
    assert stats.encodings[str(path)] == "utf-8-sig"
    assert [(r.source.row, [e.code for e in r.errors]) for r in records] == [(2, []), (3, ["bad-encoding"])]


def test_bad_sequences_are_found_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 7)
    monkeypatch.setattr(encoding, "WINDOW_BYTES", 4)
    data = "zoë € 😀 ".encode() * 5 + b"\xe9 " + "ü".encode() + b"\xf0\x9f\x98" + b" \xef\xbf\xbd " + "x\u00e9".encode()
    path = tmp_path / "b.txt"
    path.write_bytes(data)
    assert encoding.bad_sequences(path) == [(data.index(b"\xe9 "), b"\xe9"), (data.index(b"\xf0\x9f\x98 "), b"\xf0\x9f\x98")]
    assert [at for at, _ in encoding.replacements(path)] == sorted(
        [data.index(b"\xe9 "), data.index(b"\xf0\x9f\x98 "), data.index(b"\xef\xbf\xbd")])
    assert encoding.utf8_evidence(path) == encoding.Evidence(good=0, bad=1)  # one line
    lines = ["zoë €\n".encode()] * 5 + [b"caf\xe9\n", b"plain\n", "ü".encode() + b" \xf0\x9f\x98\n", "😀".encode()]
    path.write_bytes(b"".join(lines))
    assert encoding.utf8_evidence(path) == encoding.Evidence(good=6, bad=2)


def test_a_blob_of_bad_bytes_weighs_one_line(tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(b"Customer ID,Type,Contact,Note\n" + b"".join(
        f"{i},Email,a{i}@x.co,Zoë\n".encode() for i in range(1, 41)) + b"41,Email,b@x.co," + bytes(range(128, 256)) * 8
        + b"\n")
    records, stats = load_with_stats(path)
    assert stats.encodings[str(path)] == "utf-8"
    assert [(r.source.row, r.errors[0].code) for r in records if r.errors] == [(42, "bad-encoding")]


def test_a_file_cut_off_inside_a_quoted_cell_is_an_error_with_its_row(tmp_path, capsys):
    """The issue's `"trunc@example.co`: the file ends inside the quote."""
    path = tmp_path / "cut.csv"
    path.write_bytes(b'Customer ID,Type,Contact\n1,Email,a@example.com\n\n2,Email,"trunc@example.co')
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and run.err_lines == [run.err.strip()]
    assert "row 4: a quoted cell is never closed" in run.err


# ------------------------------------------------------------------ bounded text


@posix
def test_a_line_of_millions_of_fields_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "wide.csv"
    with open(path, "wb") as f:
        f.write(b"Customer ID,Type,Contact\n1,Email,a@x.co\n")
        f.write(b"a," * 10_000_000 + b"a\n")  # 20 MB on disk; the was 200 MB and passed 8 GB
    refused(dry(tmp_path, path), "line 3 has 10,000,001 fields", "more than 16,384 columns (Excel's limit)")


@posix
def test_a_line_past_64_mib_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "long.csv"
    with open(path, "wb") as f:
        f.write(b'Customer ID,Type,Contact,Note\n1,Email,a@x.co,"')
        for _ in range(65):
            f.write(b"x" * (1 << 20))
        f.write(b'"\n')
    refused(dry(tmp_path, path), "line 2 is 65 MiB long; the limit is 64 MiB")


def test_a_header_past_excels_columns_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "head.csv"
    path.write_text("Email," + ",".join(f"c{i}" for i in range(16_384)) + "\na@x.co\n")
    with pytest.raises(InputError, match="line 1 has 16,385 fields: more than 16,384 columns"):
        load_with_stats(path)
    monkeypatch.setattr(limits, "MAX_COLUMNS", 40)  # up to the limit is fine (16,384 columns take seconds to read)
    fits = tmp_path / "fits.csv"
    fits.write_text("Email," + ",".join(f"c{i}" for i in range(39)) + "\na@x.co\n")
    assert [r.contact for r in load_with_stats(fits)[0]] == ["a@x.co"]


def test_utf16_lines_are_measured_in_code_units(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes(("Email\tPhone\n" + "a\t" * 20_000 + "\n").encode("utf-16"))
    with pytest.raises(InputError, match="line 2 has 20,001 fields"):
        load_with_stats(path)


def test_a_row_wider_than_excel_across_lines_is_refused_by_the_parser(tmp_path, monkeypatch):
    """Each physical line is within the limit; the record (a quoted line break joins them) is not."""
    monkeypatch.setattr(limits, "MAX_COLUMNS", 40)
    path = tmp_path / "join.csv"
    path.write_text("Customer ID,Type,Contact\n1,Email,a@x.co\n" + "a," * 30 + '"x\ny",' + "a," * 30 + "a\n")
    with pytest.raises(InputError, match="row 3 has 62 fields: more than 40 columns"):
        load_with_stats(path)


@posix
def test_a_10_mb_csv_cell_is_too_long_for_its_row_and_cut_in_the_reports(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("Customer ID,Type,Contact,Note\n1,Email,a@x.co,ok\n2,Email,b@x.co," + "x" * 10_000_000
                    + "\n3,Email,c@x.co,ok\n")
    run = dry(tmp_path, path)
    assert run.code == 1 and run.peak_mib < MEMORY_MIB, (run.err, run.peak_mib)
    rows = results(tmp_path / "r")
    assert [(r["row"], r["status"], r["error_code"]) for r in rows] == [
        ("2", "valid", ""), ("3", "invalid", "too-long"), ("4", "valid", "")]
    assert rows[1]["error"] == ("Note: the cell is 10,000,000 characters; at most 32,767 (Excel's limit): "
                                "the reports hold its first 32,767")
    report = next((tmp_path / "r").iterdir())
    assert sum(f.stat().st_size for f in report.iterdir()) < 200_000  # not 3 x 10 MB
    with open(report / "errors.csv", newline="", encoding="utf-8-sig") as f:
        assert [len(r["Note"]) for r in csv.DictReader(f)] == [32_767]


# ------------------------------------------------------------------ bounded workbooks


@posix
@pytest.mark.parametrize("far, spans", [
    ("XFD1048576", "A1:XFD1048576 spans 1,048,576 rows x 16,384 columns = 17,179,869,184 cells"),
    ("XFD5000", "A1:XFD5000 spans 5,000 rows x 16,384 columns = 81,920,000 cells"),
])
def test_a_cell_far_away_is_refused_before_calamine_lays_out_the_sheet(tmp_path, far, spans):
    """A 1.9 KB file once asked for 512 GiB (exit 134, a Rust backtrace); at XFD5000, 2.6 GB."""
    path = xlsx(tmp_path / "far.xlsx", sheet([*CONTACTS, (far, "x")]))
    assert path.stat().st_size < 2500
    refused(dry(tmp_path, path), spans, "the limit is 16,777,216 cells (rows x columns)")


def test_cells_without_references_count_along_their_row(tmp_path):
    """calamine places a cell with no `r` after the one before it: 16,384 of them make a row as wide as Excel's."""
    wide = "<c/>" * 16_383 + '<c t="inlineStr"><is><t>x</t></is></c>'
    xml = sheet(CONTACTS).replace("</sheetData>", f'<row>{wide}</row><row r="2000"><c r="A2000"><v>1</v></c></row>'
                                  "</sheetData>")
    path = xlsx(tmp_path / "rless.xlsx", xml)
    with pytest.raises(InputError, match="A1:XFD2000 spans 2,000 rows x 16,384 columns"):
        check_workbook(str(path))
    prefixed = xml.replace("<c", "<x:c").replace("</c>", "</x:c>").replace("<row", "<x:row").replace(
        "</row>", "</x:row>").replace("<worksheet", "<x:worksheet").replace("</worksheet>", "</x:worksheet>")
    with pytest.raises(InputError, match="16,384 columns"):
        check_workbook(str(xlsx(tmp_path / "prefixed.xlsx", prefixed)))


def test_a_sheet_kept_anywhere_is_found_by_the_workbooks_relationships(tmp_path):
    path = xlsx(tmp_path / "hid.xlsx", sheet([*CONTACTS, ("XFD5000", "x")]), where="data/stuff.xml")
    assert load_with_stats(xlsx(tmp_path / "ok.xlsx", sheet(CONTACTS), where="data/stuff.xml"))[0]  # calamine reads it
    with pytest.raises(InputError, match="A1:XFD5000 spans"):
        check_workbook(str(path))


def test_a_zip_of_too_many_parts_is_refused_before_they_are_listed(tmp_path):
    path = xlsx(tmp_path / "many.xlsx", sheet(CONTACTS))
    with zipfile.ZipFile(path, "a") as z:
        for i in range(10_000):
            z.writestr(f"xl/media/{i}.bin", b"")
    with pytest.raises(InputError, match="workbook has 10,005 parts; the limit is 10,000"):
        check_workbook(str(path))


def test_a_declared_dimension_past_the_limit_is_refused(tmp_path):
    path = xlsx(tmp_path / "dim.xlsx", sheet(CONTACTS, dimension="A1:ZZ1048576"))
    with pytest.raises(InputError, match="A1:ZZ1048576 spans 1,048,576 rows x 702 columns"):
        check_workbook(str(path))


def test_a_workbook_within_the_limits_reads_as_before(tmp_path):
    rows = [(f"A{r}", str(1000 + r)) for r in range(2, 400)] + [(f"B{r}", f"u{r}@x.co") for r in range(2, 400)]
    path = xlsx(tmp_path / "ok.xlsx", sheet([*CONTACTS[:2], ("P1", "Notes"), *rows], dimension="A1:P20000"))
    check_workbook(str(path))  # 20,000 x 16 = 320,000 cells
    records, _ = load_with_stats(path)
    assert len(records) == 398 and records[-1].contact == "u399@x.co"


@pytest.mark.parametrize("chunk", [1, 5, 17, 1 << 20])
def test_sheet_extent_reads_references_split_across_chunks(chunk):
    xml = sheet([*CONTACTS, ("C7", "x"), ("AB19", "y"), ("B123456", "z")]).encode()
    xml = xml.replace(b'<c r="C7"', b'<c\n r="C7"').replace(b'<c r="AB19"', b'<c s="1" r="AB19"')
    scan = _SheetExtent()
    for at in range(0, len(xml), chunk):
        scan.feed(xml[at : at + chunk])
    assert scan.extent() == (123456, 28, "A1:AB123456")


@posix
def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path):
    """The issue's 1.6 MB zip bomb reached 2.2 GB: here the sheet declares 2 GiB (built small, then patched)."""
    path = xlsx(tmp_path / "bomb.xlsx", sheet(CONTACTS))
    declare_size(path, "xl/worksheets/sheet1.xml", 2 << 30)
    refused(dry(tmp_path, path), "workbook too large: 2.0 GiB uncompressed; the limit is 1.0 GiB")


@posix
def test_a_zip_that_inflates_past_what_it_declares_is_corrupt(tmp_path):
    row = '<row r="{0}"><c r="A{0}" t="inlineStr"><is><t>1001</t></is></c></row>'
    body = "".join(row.format(r) for r in range(2, 200_000))
    path = xlsx(tmp_path / "liar.xlsx", sheet(CONTACTS).replace("</sheetData>", body + "</sheetData>"))
    declare_size(path, "xl/worksheets/sheet1.xml", 4000)
    refused(dry(tmp_path, path), "cannot read workbook: is it password-protected or corrupt?")


def _one_long_string(path: Path, length: int) -> Path:
    shared = (f'<?xml version="1.0" encoding="UTF-8"?><sst {_MAIN} count="4" uniqueCount="4">'
              '<si><t>Customer ID</t></si><si><t>Email</t></si><si><t>Note</t></si><si><t>a@x.co</t></si>'
              f'<si><t>{"n" * length}</t></si></sst>')
    cells = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
             '<row r="2"><c r="A2"><v>1001</v></c><c r="B2" t="s"><v>3</v></c><c r="C2" t="s"><v>4</v></c></row>')
    return xlsx(path, f'<worksheet {_MAIN}><sheetData>{cells}</sheetData></worksheet>', shared)


@posix
def test_a_10_mb_xlsx_cell_is_too_long_for_its_row_and_cut_in_the_reports(tmp_path):
    """The issue's 10 MB xlsx cell was copied into the reports three times."""
    run = dry(tmp_path, _one_long_string(tmp_path / "long.xlsx", 10_000_000))
    assert run.code == 1 and run.peak_mib < MEMORY_MIB, (run.err, run.peak_mib)
    (row,) = results(tmp_path / "r")
    assert (row["row"], row["error_code"]) == ("2", "too-long") and "10,000,000 characters" in row["error"]
    report = next((tmp_path / "r").iterdir())
    assert sum(f.stat().st_size for f in report.iterdir()) < 200_000


@posix
def test_a_huge_shared_string_is_refused_before_it_is_read(tmp_path):
    """One 400 MB shared string once wrote 1.2 GB of reports; past 64 MiB (65 MiB here) it is not read at all."""
    path = _one_long_string(tmp_path / "huge.xlsx", 65 << 20)
    assert path.stat().st_size < 200_000
    refused(dry(tmp_path, path), "a cell's text is 65 MiB in xl/sharedStrings.xml; the limit is 64 MiB")


@posix
def test_an_opendocument_sheet_repeating_a_cell_everywhere_is_refused(tmp_path):
    ok = ods(tmp_path / "ok.ods", ods_row(["Customer ID", "Email"]) + ods_row(["1001", "a@x.co"]) + ODS_TAIL)
    check_workbook(str(ok))  # LibreOffice's trailing empty rows are no extent
    assert [r.contact for r in load_with_stats(ok)[0]] == ["a@x.co"]
    long = ods(tmp_path / "long.ods", ods_row(["Customer ID", "Email", "Note"]) + ods_row(["1001", "a@x.co", "n" * 3_000_000]))
    (record,) = load_with_stats(long)[0]  # a long cell's text is no open tag
    assert [(e.code, e.column) for e in record.errors] == [("too-long", "Note")]
    bomb = ods(tmp_path / "bomb.ods", ods_row(["Customer ID", "Email"]) + ods_row(["a@x.co"], 5000, 16_384) + ODS_TAIL)
    refused(dry(tmp_path, bomb), "table 'Contacts' spans 5,001 rows x 16,384 columns = 81,936,384 cells")


# ------------------------------------------------------------------ pipes and devices


def _pipe(tmp_path: Path, name: str, data: bytes) -> Path:
    """A FIFO with a writer thread behind it, like bash's <(curl …)."""
    path = tmp_path / name
    os.mkfifo(path)

    def write() -> None:
        with open(path, "wb") as f:
            for at in range(0, len(data), 4096):
                f.write(data[at : at + 4096])

    threading.Thread(target=write, daemon=True).start()
    return path


@posix
def test_a_pipe_is_read_as_a_stream(tmp_path, capsys):
    """`import <(curl …)`: no extension, read once; a workbook told from its bytes."""
    book = xlsx(tmp_path / "b.xlsx", sheet(CONTACTS)).read_bytes()
    text = b"Customer ID,Type,Contact\n1001,Email,zo\xc3\xab@x.co\n"
    first, second = _pipe(tmp_path, "63", text), _pipe(tmp_path, "64", book)
    run = cli(capsys, "import", first, second, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 0, run.err
    rows = results(tmp_path / "r")
    assert [(r["file"], r["sheet"], r["row"], r["contact"]) for r in rows] == [
        (str(first), "", "2", "zoë@x.co"), (str(second), "Sheet1", "2", "ann@example.com")]
    assert summary(tmp_path / "r")["encodings"] == {str(first): "utf-8"}


@posix
def test_a_pipe_keeps_its_name_in_errors(tmp_path, capsys):
    path = _pipe(tmp_path, "65", b'Customer ID,Type,Contact\n1,Email,"never closed\n')
    run = cli(capsys, "import", path, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and run.err_lines == [f"ecwid-contacts: error: {path}: cannot parse as delimited text: "
                                               "row 2: a quoted cell is never closed (a missing closing quote?)"]


@posix
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_with_one_line(tmp_path, capsys, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    run = cli(capsys, "import", device, "--dry-run", "--report-dir", tmp_path / "r")
    assert run.code == 2 and run.err_lines == [f"ecwid-contacts: error: {device}: is a device (a terminal, "
                                               "/dev/zero, a socket, ...), not a file: give a file, or a pipe "
                                               "(import <(curl …))"]
