"""Which encoding a text file is in, by evidence from the whole file, never by a guess from its start.

    choice = choose_encoding(path, head)        # Decoding("utf-8", lenient=True) ...
    events = replacements(path, choice.start)   # where a lenient read put each U+FFFD, in file order

The order: a BOM (UTF-8, UTF-16, UTF-32); NUL bytes in every other place (UTF-16 without a
BOM); then one pass over the whole file that counts its lines with valid UTF-8 multi-byte
characters and no bad byte (evidence for UTF-8: legacy text almost never forms them by
chance) against its lines with bytes that are not UTF-8 (evidence against; lines, so a
pasted blob of binary weighs one line):

- no bad line: UTF-8;
- UTF-8 lines outnumber bad lines by UTF8_ODDS or more: UTF-8, *leniently*: each bad
  sequence is read as U+FFFD and the row holding it is invalid (`bad-encoding`, with
  its byte offset), so one stray cp1252 byte in a UTF-8 export spoils one row, not the file;
- bad lines outnumber UTF-8 lines by UTF8_ODDS or more: a legacy code page, and
  only one of COMMON that decodes every byte of the file (Windows' ANSI code pages that
  Excel's "CSV" writes, Mac Roman, ISO 8859-1/2/15), ranked by charset-normalizer;
- anything between is a file of two encodings: refused with the counts and where the first
  bad byte is, since either reading would garble part of it (`--encoding utf-8` reads it
  leniently).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer
import numpy as np

from importer.errors import InputError

CHUNK_BYTES = 1 << 20
WINDOW_BYTES = 1 << 16  # bad bytes are located a window at a time: each costs a decode of at most this much
SAMPLE_BYTES = 64 * 1024
UTF8_ODDS = 20  # one side's evidence must outweigh the other's this many times
REPLACEMENT = b"\xef\xbf\xbd"  # U+FFFD written in the file itself

# Legacy code pages a file may be read in: the ANSI code pages of Windows (what Excel's "CSV" writes
# in each locale), Excel for Mac's Mac Roman, and the ISO Latin sets of Unix exports. Never an exotic
# one (hp_roman8, gb18030, cp775, ...) that happens to decode the bytes.
COMMON = ("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874",
          "cp932", "cp936", "cp949", "cp950", "latin_1", "iso8859_2", "iso8859_15", "mac_roman")
_UTF8 = ("utf-8", "utf-8-sig")


@dataclass(frozen=True)
class Decoding:
    encoding: str  # a Python codec name
    lenient: bool = False  # UTF-8 with bad sequences: read them as U+FFFD and mark their rows
    start: int = 0  # where the text starts (after a UTF-8 BOM)
    bad: int = 0  # how many lines have bytes that are not UTF-8


@dataclass(frozen=True)
class Evidence:
    good: int  # lines with UTF-8 multi-byte characters and no bad byte
    bad: int  # lines with bytes that are not UTF-8


def choose_encoding(path: str, head: bytes, forced: str | None = None) -> Decoding:
    """The file's encoding (InputError when it has none that reads it without garbling)."""
    if forced is not None:
        if codecs.lookup(forced).name not in _UTF8:
            return Decoding(forced)  # strict: a byte the code page lacks is an error with its offset
        return _utf8(path, 3 if head.startswith(codecs.BOM_UTF8) else 0, lenient=True)
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return Decoding(enc)
    if head.startswith(codecs.BOM_UTF8):
        return _utf8(path, 3, lenient=True)  # the file says it is UTF-8: a bad byte is that row's problem
    if b"\x00" in head:
        if enc16 := _looks_utf16(head):
            return Decoding(enc16)
        raise InputError(path, "binary data (NUL bytes): not a delimited text file")
    evidence = utf8_evidence(path)
    if evidence.bad == 0 or evidence.good >= UTF8_ODDS * evidence.bad:
        return _utf8(path, 0, lenient=bool(evidence.bad), bad=evidence.bad)
    if evidence.bad >= UTF8_ODDS * evidence.good:
        enc = legacy_encoding(path)
        if enc is None:
            raise InputError(path, "cannot decode text: not UTF-8, UTF-16 or a common code page "
                             f"({', '.join(COMMON[:5])}, ...); pass --encoding")
        return Decoding(enc)
    at, seq = bad_sequences(path, 0, limit=1)[0]
    good, bad = evidence.good, evidence.bad
    raise InputError(path, f"mixed encodings: {good:,} line{' is' if good == 1 else 's are'} UTF-8 and {bad:,} "
                     f"ha{'s' if bad == 1 else 've'} bytes that are not (the first at byte {at:,}: {seq.hex(' ')}); "
                     "convert the file to UTF-8, or pass "
                     "--encoding utf-8 to import it with those rows marked bad-encoding")


def _utf8(path: str, start: int, *, lenient: bool, bad: int | None = None) -> Decoding:
    if lenient and bad is None:
        bad = utf8_evidence(path, start).bad
    enc = "utf-8-sig" if start else "utf-8"
    return Decoding(enc, lenient=bool(bad), start=start, bad=bad or 0)


def utf8_evidence(path: str, start: int = 0) -> Evidence:
    """How many lines hold UTF-8 multi-byte characters and no bad byte, how many hold bytes that are not UTF-8
    (lines, not bytes: one pasted blob is one bad line). A file that is all UTF-8 is told by one strict decode
    (Evidence(0, 0): its lines are not counted); only one that is not is looked at line by line. Memory: a chunk."""
    if first_bad_byte(path, "utf-8-sig") is None:
        return Evidence(0, 0)
    good = bad = 0
    open_bad = open_good = False  # the line the last chunk ended in
    with open(path, "rb") as f:
        f.seek(start)
        before, rest = b"", b""  # 3 bytes already judged (what precedes), 3 not yet (a sequence's start)
        while True:
            chunk = f.read(CHUNK_BYTES)
            data = before + rest + chunk
            end = len(data) if not chunk else max(len(before), len(data) - 3)
            if not data[len(before) : end].isascii():
                wrong, right = _sequences(np.frombuffer(data, dtype=np.uint8))
                newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8)[len(before) : end] == 10) + len(before)
                last = len(newlines)
                bad_lines = np.zeros(last + 1, dtype=bool)
                good_lines = np.zeros(last + 1, dtype=bool)
                judged = slice(len(before), end)
                bad_lines[np.searchsorted(newlines, np.flatnonzero(wrong[judged]) + len(before))] = True
                good_lines[np.searchsorted(newlines, np.flatnonzero(right[judged]) + len(before))] = True
                good_lines &= ~bad_lines
                open_bad |= bool(bad_lines[0])
                open_good |= bool(good_lines[0])
                if last:
                    bad, good = bad + open_bad, good + (open_good and not open_bad)
                    bad += int(np.count_nonzero(bad_lines[1:last]))
                    good += int(np.count_nonzero(good_lines[1:last]))
                    open_bad, open_good = bool(bad_lines[last]), bool(good_lines[last])
            elif b"\n" in data[len(before) : end]:
                bad, good = bad + open_bad, good + (open_good and not open_bad)
                open_bad = open_good = False
            if not chunk:
                return Evidence(int(good + (open_good and not open_bad)), int(bad + open_bad))
            before, rest = data[max(0, end - 3) : end], data[end:]


def _sequences(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per byte: (part of no well-formed UTF-8 sequence, the first byte of one of two to four bytes). The shape
    of a sequence only: overlong forms and surrogates pass here (they are rare; this only weighs evidence)."""
    cont = (a & 0xC0) == 0x80
    follows = [np.zeros(len(a), dtype=bool) for _ in range(3)]  # the next 1, 2, 3 bytes continue a sequence
    for k, f in enumerate(follows, 1):
        f[:-k] = cont[k:]
    two = (a >= 0xC2) & (a <= 0xDF) & follows[0]
    three = (a >= 0xE0) & (a <= 0xEF) & follows[0] & follows[1]
    four = (a >= 0xF0) & (a <= 0xF4) & follows[0] & follows[1] & follows[2]
    lead = two | three | four
    claimed = np.zeros(len(a), dtype=bool)
    claimed[1:] |= lead[:-1]
    claimed[2:] |= (three | four)[:-2]
    claimed[3:] |= four[:-3]
    return (a >= 0x80) & ~lead & ~(cont & claimed), lead


def bad_sequences(path: str, start: int = 0, limit: int | None = None) -> list[tuple[int, bytes]]:
    """(byte offset, bytes) of each sequence that is not UTF-8, in file order, as Python's decoder
    splits them (one U+FFFD each when read with errors="replace")."""
    found: list[tuple[int, bytes]] = []
    with open(path, "rb") as f:
        f.seek(start)
        pos, rest = start, b""
        while True:
            chunk = f.read(CHUNK_BYTES)
            final = not chunk
            data = rest + chunk
            view, i = memoryview(data), 0
            while i < len(data):
                j = min(len(data), i + max(WINDOW_BYTES, 4))  # 4: any sequence decodes or fails within it
                try:
                    _, used = codecs.utf_8_decode(view[i:j], "strict", final and j == len(data))
                except UnicodeDecodeError as e:
                    found.append((pos + i + e.start, bytes(view[i + e.start : i + e.end])))
                    if limit is not None and len(found) >= limit:
                        return found
                    i += e.end
                    continue
                if used == 0:
                    break  # a sequence cut by the chunk: the next chunk completes it
                i += used
            view.release()
            rest, pos = data[i:], pos + i
            if final:
                return found


def replacements(path: str, start: int = 0) -> list[tuple[int, bytes]]:
    """Every U+FFFD a lenient read of the file yields, in file order: (offset, the bad bytes), or
    (offset, b"") for a U+FFFD written in the file itself."""
    written: list[tuple[int, bytes]] = []
    with open(path, "rb") as f:
        f.seek(start)
        pos, carry = start, b""
        while chunk := f.read(CHUNK_BYTES):
            data = carry + chunk
            at = data.find(REPLACEMENT)
            while at >= 0:
                written.append((pos - len(carry) + at, b""))
                at = data.find(REPLACEMENT, at + 3)
            pos += len(chunk)
            carry = chunk[-2:] if not chunk.endswith(REPLACEMENT) else b""
    if not written:
        return bad_sequences(path, start)
    return sorted(bad_sequences(path, start) + written)


def decodes(path: str, encoding: str) -> bool:
    return first_bad_byte(path, encoding) is None


def first_bad_byte(path: str, encoding: str) -> int | None:
    """Where in the file `encoding` first fails, or None (a decoding error only knows its place in a buffer)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    done = 0
    with open(path, "rb") as f:
        try:
            while chunk := f.read(CHUNK_BYTES):
                decoder.decode(chunk)
                done += len(chunk)
            decoder.decode(b"", final=True)  # a sequence cut off by the end of the file
        except UnicodeDecodeError as e:
            return done + e.start - len(decoder.getstate()[0])
    return None


def _looks_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: NULs in every other byte of ASCII-heavy text."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4:
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
    return None


def _non_ascii_lines(path: str, limit: int = SAMPLE_BYTES) -> bytes:
    """The lines that decide a legacy encoding, wherever they are in the file."""
    picked = bytearray()
    with open(path, "rb") as f:
        for line in f:
            if not line.isascii():
                picked += line
                if len(picked) >= limit:
                    break
    return bytes(picked)


_SCRIPTS = ("CYRILLIC", "GREEK", "ARABIC", "HEBREW", "THAI", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH")


def _is_latin(text: str) -> bool:
    """No letter of another script. Mac Roman reads cp1252's ö as a modifier letter (ˆ), which
    is no script's letter: such a reading is still Western text, so cp1252 wins."""
    return not any(ch.isalpha() and not ch.isascii() and unicodedata.name(ch, "").startswith(_SCRIPTS) for ch in text)


def legacy_encoding(path: str) -> str | None:
    """One of COMMON that decodes the whole file: charset-normalizer's ranking among them, but a Western reading
    (cp1252, else Mac Roman) where its letters read as words do.

    charset-normalizer often names cp1250, mac_roman or even cp950 for short Western European text
    that Excel wrote as cp1252 (José, Müller, Köln); we trust it only when it finds another script
    (Cyrillic cp1251, Greek, Japanese, ...) and the Western readings make no words of the same bytes.
    """
    sample = _non_ascii_lines(path)
    found = charset_normalizer.from_bytes(sample, cp_isolation=list(COMMON))
    best = found.best()
    ranked = [m.encoding for m in found]
    western = max(((_wordlike(sample.decode(enc, errors="replace")), -k, enc)
                   for k, enc in enumerate(("cp1252", "mac_roman")) if decodes(path, enc)), default=None)
    if western is not None and western[0] > 0:
        return western[2]  # "Büro Köln" saved on a Mac reads "BŸro Kšln" in cp1252: Mac Roman makes the words
    if best is not None and codecs.lookup(best.encoding).name in _COMMON_NAMES and not _is_latin(str(best)) \
            and decodes(path, best.encoding):
        return best.encoding
    for enc in dict.fromkeys(("cp1252", *ranked)):
        if codecs.lookup(enc).name in _COMMON_NAMES and decodes(path, enc):
            return enc
    return None


_WORD = re.compile(r"[^\W\d_]+")
_NEUTRAL = frozenset("’‘“”„–—…€«»°·•")  # punctuation cp1252 text is full of: no evidence either way


def _wordlike(text: str) -> int:
    """How much a reading's non-ASCII characters look like Western European letters in words: +1 for each
    that sits in a word as such a letter does (ü in Büro, É in Éric, Ü in MÜLLER), -1 for each that doesn't
    (Ÿ in BŸro, È in JosÈ, ¸ in M¸ller, a word of no ASCII letter at all: Cyrillic read as cp1252, Èâàíîâ)."""
    score = -sum(1 for ch in text if not ch.isascii() and not ch.isalpha() and ch not in _NEUTRAL)
    for word in _WORD.findall(text):
        odd = [i for i, ch in enumerate(word) if not ch.isascii()]
        if not odd:
            continue
        if (len(odd) > 1 and len(odd) == len(word)) or _CASE_BACK.search(word):  # Èâàíîâ; éRìcëæòY (Shift-JIS)
            score -= len(odd)
            continue
        for i in odd:
            ch, prev, nxt = word[i], word[i - 1] if i else "", word[i + 1] if i + 1 < len(word) else ""
            if ch.islower():
                good = bool(prev) or nxt.islower()
            else:  # a capital starts a word, or stands among capitals (MÜLLER)
                good = (not prev and (not nxt or nxt.islower() or nxt.isupper())) or (prev.isupper() and not nxt.islower())
            score += (2 if ch in _COMMON_LETTERS else 1) if good else -1
    return score


_CASE_BACK = re.compile(r"[^\W\d_](?<=[a-zà-ÿ])[A-ZÀ-Þ]")  # a capital after a small letter, inside a word
# The letters of Western European languages; the rest of cp1252 and Mac Roman (š, Ÿ, ﬂ) are rare: Kšln < Köln.
_COMMON_LETTERS = frozenset("äöüÄÖÜßéèêëàâáãåæíìîïóòôõøœúùûçñÉÈÊÀÂÁÅÆÍÓÔØŒÚÇÑ")


_COMMON_NAMES = frozenset(codecs.lookup(c).name for c in COMMON)
