"""Realistic benchmark inputs: long-layout contacts as a CRM exports them.

Deterministic for a given (rows, seed). Files go to bench/out/ (gitignored) and
are reused when already there, since writing a million rows takes a while.

Mix per customer (ids like Ecwid's, 9 digits, ascending): one or two emails
(mostly unique), a mobile phone written with +CC in a few styles, often a
WhatsApp number, an Instagram handle or link, a Facebook link, a website; about
3 % of rows carry a typical mistake (see MISTAKES).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

import phonenumbers

OUT = Path(__file__).resolve().parent / "out"
HEADER = ["Customer ID", "Type", "Contact", "Handle", "Note", "Default", "Order"]
REGIONS = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "MX", "AU", "JP", "IN", "CA", "PL", "SE"]
FIRST = ["ana", "bruno", "chloe", "dmitri", "elif", "fatima", "giulia", "hiro", "ingrid", "jonas", "kwame",
         "lea", "mateo", "nadia", "oskar", "priya", "quentin", "rosa", "soren", "tomas", "uma", "viktor"]
LAST = ["muller", "garcia", "rossi", "dubois", "nowak", "silva", "tanaka", "johansson", "kowalski",
        "jensen", "novak", "fernandez", "obrien", "smith", "costa", "berg", "ivanova", "papadopoulos"]
ERROR_RATE = 0.03


def _phone_templates() -> dict[str, tuple[int, str, str]]:
    """Per region: (country code, national prefix to keep, a valid example) for mobile numbers."""
    out = {}
    for region in REGIONS:
        ex = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        nsn = str(ex.national_number)
        out[region] = (ex.country_code, nsn[:-4], nsn)
    return out


class Contacts:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.templates = _phone_templates()
        self.valid_cache: dict[str, bool] = {}

    def phone(self, region: str) -> str:
        cc, prefix, example = self.templates[region]
        for _ in range(5):
            nsn = prefix + f"{self.rng.randrange(10_000):04d}"
            ok = self.valid_cache.get(nsn + region)
            if ok is None:
                ok = phonenumbers.is_valid_number(phonenumbers.parse(f"+{cc}{nsn}"))
                self.valid_cache[nsn + region] = ok
            if ok:
                break
        else:
            nsn = example
        style = self.rng.random()
        if style < 0.5:
            return f"+{cc} {nsn[:3]} {nsn[3:6]} {nsn[6:]}".strip()
        if style < 0.8:
            return f"+{cc}{nsn}"
        return f"+{cc}-{nsn[:3]}-{nsn[3:]}"

    def customer(self, cid: int) -> list[list[str]]:
        r = self.rng
        first, last = r.choice(FIRST), r.choice(LAST)
        slug = f"{first}.{last}{cid % 100_000}"  # unique per customer: emails mostly unique
        region = r.choice(REGIONS)
        c = str(cid)
        rows = [[c, "Email", f"{slug}@example.com", "", f"{first.title()} {last.title()}", "TRUE", "1"],
                [c, "Phone", self.phone(region), "", "mobile", "TRUE", "1"]]
        if r.random() < 0.3:
            rows.append([c, "Email", f"{slug}@work.example.org", "", "work", "FALSE", "2"])
        if r.random() < 0.35:
            rows.append([c, "WhatsApp", self.phone(region), "", "", "", ""])
        if r.random() < 0.45:
            handle = slug.replace(".", "_")
            rows.append([c, "Instagram", r.choice([f"@{handle}", f"https://instagram.com/{handle}", handle]), "", "", "", ""])
        if r.random() < 0.3:
            rows.append([c, "Facebook", f"https://www.facebook.com/{slug}", "", "", "", ""])
        if r.random() < 0.25:
            rows.append([c, "Website", f"https://{slug.replace('.', '-')}.example.net", "", "shop", "", ""])
        return rows

    def spoil(self, row: list[str]) -> list[str]:
        """A typical CRM-export mistake in one row."""
        row = list(row)
        kind = self.rng.randrange(8)
        if kind == 0:
            row[2] = row[2].replace("@", "@@") if "@" in row[2] else row[2] + "@@"
        elif kind == 1:
            row[1] = "EMIAL"
        elif kind == 2:
            row[1], row[2] = "Phone", f"(201) 555-{self.rng.randrange(10_000):04d}"  # no +CC
        elif kind == 3:
            row[2] = ""
        elif kind == 4:
            row[0] = "abc"
        elif kind == 5:
            row[0] = "1.77737E+08"
        elif kind == 6:
            row[1], row[2] = "Website", "not a website"
        else:
            row[1], row[2] = "Email", "someone@example"
        return row


def long_rows(rows: int, seed: int = 7) -> Iterator[list[str]]:
    """`rows` data rows (no header)."""
    g = Contacts(seed)
    cid = 177_000_000
    made = 0
    while made < rows:
        cid += g.rng.randrange(1, 40)
        for row in g.customer(cid):
            if made == rows:
                return
            if g.rng.random() < ERROR_RATE:
                row = g.spoil(row)
            yield row
            made += 1


def long_csv(rows: int, seed: int = 7) -> Path:
    path = OUT / f"long-{rows}-{seed}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(long_rows(rows, seed))
    tmp.replace(path)
    return path


def long_xlsx(rows: int, seed: int = 7) -> Path:
    """The same rows as a workbook; customer ids as number cells, as Excel keeps them."""
    import openpyxl

    path = OUT / f"long-{rows}-{seed}.xlsx"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Contacts")
    ws.append(HEADER)
    for row in long_rows(rows, seed):
        cid = int(row[0]) if row[0].isdigit() else row[0]
        ws.append([cid, *row[1:]])
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


if __name__ == "__main__":
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(long_csv(n))
