"""Write the sample files in this folder, byte for byte the same on every run.

    python sample_data/make_samples.py

contacts_valid.csv   long layout, every row valid (the README's main command)
contacts_long.csv    long layout as a CRM exports it, with typical mistakes
customers_wide.xlsx  wide layout: two visible sheets and a hidden one, with mistakes
README.md            what is in them, with the row of every planted mistake
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import phonenumbers

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # zip entry times and document properties

FIRST = ["Ana", "Bruno", "Chloé", "Dmitri", "Elif", "Fatima", "Giulia", "Hiro", "Ingrid", "Jonas",
         "Kwame", "Léa", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
         "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë"]
LAST = ["Müller", "García", "Rossi", "Dubois", "Nowak", "Silva", "Tanaka", "Johansson", "Kowalski",
        "Jensen", "Novák", "Fernández", "O'Brien", "Smith", "Papadopoulos", "Ivanova", "Costa", "Berg"]
REGIONS = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "MX", "AU", "JP", "IN", "CA", "PL", "SE"]


class Samples:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST), self.rng.choice(LAST)

    def slug(self, first: str, last: str) -> str:
        """A unique ASCII user name like "lea.dubois7"."""
        base = re.sub(r"[^a-z]", "", _ascii(first).lower()) + "." + re.sub(r"[^a-z]", "", _ascii(last).lower())
        while True:
            candidate = f"{base}{self.rng.randrange(2, 99)}"
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def phone(self, region: str | None = None) -> str:
        """A valid mobile number, written the international way (+CC ...)."""
        region = region or self.rng.choice(REGIONS)
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        digits = str(example.national_number)
        while True:
            national = digits[:-4] + f"{self.rng.randrange(10_000):04d}"
            number = phonenumbers.parse(f"+{example.country_code}{national}")
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if phonenumbers.is_valid_number(number) and e164 not in self.used:
                self.used.add(e164)
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _csv(rows: list[list[str]], *, newline: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue()


# ------------------------------------------------------------------ long layout


def customer_contacts(s: Samples, customer_id: int, *, extra: bool) -> list[list[str]]:
    """One customer's contacts: Customer ID, Type, Contact, Handle, Note, Default, Order."""
    first, last = s.name()
    slug = s.slug(first, last)
    region = s.rng.choice(REGIONS)
    cid = str(customer_id)
    rows = [
        [cid, "Email", f"{slug}@example.com", "", f"{first} {last}", "TRUE", "1"],
        [cid, "Phone", s.phone(region), "", "mobile", "TRUE", "1"],
    ]
    if extra:
        rows.append([cid, "Email", f"{slug}@work.example.org", "", "work", "FALSE", "2"])
    kinds = ["Instagram", "Facebook", "Telegram", "WhatsApp", "Website"]
    for kind in s.rng.sample(kinds, s.rng.randrange(1, 4) if extra else s.rng.randrange(0, 3)):
        if kind == "Instagram":
            value = s.rng.choice([f"@{slug.replace('.', '_')}", f"https://instagram.com/{slug.replace('.', '_')}"])
            rows.append([cid, kind, value, "", "", "", ""])
        elif kind == "Facebook":
            rows.append([cid, kind, f"https://www.facebook.com/{slug}", "", "", "", ""])
        elif kind == "Telegram":
            rows.append([cid, kind, f"@{slug.replace('.', '_')}", "", "", "", ""])
        elif kind == "WhatsApp":
            rows.append([cid, kind, s.phone(region), "", "WhatsApp Business", "", ""])
        else:
            rows.append([cid, kind, f"https://{slug.replace('.', '-')}.example.net", "", "shop", "", ""])
    return rows


LONG_HEADER = ["Customer ID", "Type", "Contact", "Handle", "Note", "Default", "Order"]


def contacts_valid() -> list[list[str]]:
    s = Samples(1)
    rows: list[list[str]] = []
    customer = 1001
    while len(rows) < 60:
        rows += customer_contacts(s, customer, extra=customer % 3 == 0)
        customer += 1
    return [LONG_HEADER, *rows]


def contacts_long() -> tuple[list[list[str]], list[tuple[int, str]]]:
    """~200 rows for customers 1001..1040 and the mistakes planted in them (Excel row, what)."""
    s = Samples(2)
    rows: list[list[str]] = []
    for customer in range(1001, 1041):
        rows += customer_contacts(s, customer, extra=s.rng.random() < 0.9)

    def find(customer: int, kind: str) -> int:
        return next(i for i, r in enumerate(rows) if r[0] == str(customer) and r[1] == kind)

    def replace(customer: int, kind: str, column: int, value: str) -> list[str]:
        i = find(customer, kind)
        rows[i] = rows[i][:column] + [value] + rows[i][column + 1 :]
        return rows[i]

    planted = [  # (the planted row, what is wrong with it)
        (replace(1004, "Email", 2, rows[find(1004, "Email")][2].replace("@", "@@")),
         "invalid email (`@@`): `invalid-email`"),
        (replace(1009, "Email", 1, "EMIAL"), "type `EMIAL`: `unknown-type` (did you mean EMAIL?)"),
        (replace(1013, "Phone", 2, "(201) 555-0147"),
         "US phone without +1: `phone-needs-region` (valid with `--phone-region US`)"),
        (replace(1017, "Phone", 2, ""), "empty contact: `missing-contact`"),
        (replace(1021, "Email", 0, "abc"), "customer id `abc`: `invalid-customer-id`"),
        (replace(1034, "Email", 0, "1.77737E+08"), "id `1.77737E+08` (Excel rounded it): `lost-digits`"),
    ]
    second_default = ["1025", "Email", "sales@shop-1025.example.com", "", "second default", "TRUE", "3"]
    rows.insert(find(1025, "Email") + 1, second_default)
    planted.append((second_default, "a second default Email for customer 1025: `duplicate-default`"))
    i = find(1030, "Phone")
    repeated = list(rows[i])
    rows.insert(i + 1, repeated)
    planted.append((repeated, "the row above repeated exactly: `duplicate`"))
    rows.insert(find(1037, "Email"), [])  # a blank line: skipped and counted

    # Excel row numbers after every insertion (header = 1); `is` finds the planted copy
    where = {id(r): n for n, r in enumerate(rows, 2)}
    return [LONG_HEADER, *rows], sorted((where[id(r)], what) for r, what in planted)


# ------------------------------------------------------------------ wide layout

WIDE_HEADER = ["Customer ID", "Name", "Email", "Phone", "Mobile", "WhatsApp", "Instagram", "Facebook", "Website", "Notes"]


def wide_rows(s: Samples, first_id: int, count: int, *, shop: bool) -> list[list]:
    rows = []
    for customer in range(first_id, first_id + count):
        first, last = s.name()
        slug = s.slug(first, last)
        region = s.rng.choice(REGIONS)
        has = lambda p: s.rng.random() < p  # noqa: E731
        rows.append([
            customer,  # a number cell, as Excel keeps ids
            f"{first} {last}" if not shop else f"{last} {s.rng.choice(['GmbH', 'S.L.', 'Ltd', 'Srl', 'BV'])}",
            f"{slug}@example.com",
            s.phone(region) if has(0.5) else None,
            s.phone(region) if has(0.7) else None,
            s.phone(region) if has(0.3) else None,
            f"@{slug.replace('.', '_')}" if has(0.4) else None,
            f"https://www.facebook.com/{slug}" if has(0.3) else None,
            f"https://{slug.replace('.', '-')}.example.net" if shop or has(0.2) else None,
            s.rng.choice(["", "", "VIP", "prefers WhatsApp", "newsletter: yes", "ships to EU only"]) or None,
        ])
    return rows


def customers_wide() -> tuple[dict[str, list[list]], list[tuple[str, int, str]]]:
    s = Samples(3)
    customers = wide_rows(s, 2001, 50, shop=False)
    wholesale = wide_rows(s, 3001, 50, shop=True)
    archive = wide_rows(s, 9001, 5, shop=False)
    mistakes: list[tuple[str, int, str]] = []
    col = WIDE_HEADER.index

    def plant(sheet: str, rows: list[list], index: int, column: str, value, what: str) -> None:
        rows[index][col(column)] = value
        mistakes.append((sheet, index + 2, what))

    plant("Customers", customers, 4, "Email", "tom.berg@example", "Email `tom.berg@example` has no domain suffix: `invalid-email`")
    plant("Customers", customers, 9, "Mobile", 4915123456789,
          "Mobile typed as a number (Excel dropped the `+`): `phone-needs-region` or a wrong country")
    plant("Customers", customers, 14, "Instagram", "https://www.facebook.com/some.page",
          "a Facebook link in the Instagram column: `wrong-network`")
    plant("Customers", customers, 19, "Customer ID", "C-2020", "customer id `C-2020`: `invalid-customer-id`")
    for column in WIDE_HEADER[2:9]:
        customers[24][col(column)] = None
    mistakes.append(("Customers", 26, "a customer with no contact cells: `missing-contact`"))
    plant("Wholesale", wholesale, 7, "Email", "orders @shop.example.com", "a space inside the email: `invalid-email`")
    plant("Wholesale", wholesale, 30, "Website", "not a website", "Website `not a website`: `invalid-url`")
    plant("Wholesale", wholesale, 41, "Customer ID", "1.77737E+08", "id `1.77737E+08` as text: `lost-digits`")
    customers.insert(35, [None] * len(WIDE_HEADER))  # a blank row: skipped, counted
    return {"Customers": customers, "Wholesale": wholesale, "Archive": archive}, mistakes


def write_xlsx(path: Path, sheets: dict[str, list[list]], hidden: set[str]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(WIDE_HEADER)
        for row in rows:
            ws.append(row)
        if name in hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    _reproducible_zip(buf.getvalue(), path)


def _reproducible_zip(data: bytes, path: Path) -> None:
    """openpyxl stamps the time into docProps and every zip entry; pin both."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", content)
            out.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), content, zipfile.ZIP_DEFLATED)


# ------------------------------------------------------------------ README

README = """\
# Sample data

Generated by `python sample_data/make_samples.py` (deterministic: running it again
rewrites the same bytes). Do not edit by hand; change the script.

## contacts_valid.csv

Long layout (one contact per row), UTF-8, {valid_rows} rows for customers
{valid_first}..{valid_last}: emails, international phones (+country code), Instagram
handles and links, Facebook links, Telegram handles, WhatsApp numbers, websites.
Every row is valid: no duplicates, at most one default per customer and type.

## contacts_long.csv

Long layout as a CRM exports it: "CSV UTF-8" (BOM, CRLF), columns
`{long_header}`, {long_rows} data rows for customers 1001..1040, one blank line
(row {blank_row}, skipped and counted), and these mistakes:

| row | mistake |
|---:|---|
{long_mistakes}

## customers_wide.xlsx

Wide layout (one customer per row, a column per contact kind), columns
`{wide_header}`. Sheets `Customers` (ids 2001..2050, one blank row at row
{wide_blank}) and `Wholesale` (ids 3001..3050); `Archive` (9001..9005) is hidden
and is read only with `--sheet Archive`. Customer IDs are number cells. Mistakes:

| sheet | row | mistake |
|---|---:|---|
{wide_mistakes}
"""


def main() -> None:
    valid = contacts_valid()
    (HERE / "contacts_valid.csv").write_text(_csv(valid, newline="\n"), encoding="utf-8", newline="")

    long_rows, long_mistakes = contacts_long()
    (HERE / "contacts_long.csv").write_text(_csv(long_rows, newline="\r\n"), encoding="utf-8-sig", newline="")

    sheets, wide_mistakes = customers_wide()
    write_xlsx(HERE / "customers_wide.xlsx", sheets, hidden={"Archive"})

    blank_row = next(n for n, r in enumerate(long_rows, 1) if not r)
    wide_blank = next(n for n, r in enumerate(sheets["Customers"], 2) if not any(r))
    (HERE / "README.md").write_text(
        README.format(
            valid_rows=len(valid) - 1,
            valid_first=valid[1][0],
            valid_last=valid[-1][0],
            long_header=",".join(LONG_HEADER),
            long_rows=sum(1 for r in long_rows[1:] if r),
            blank_row=blank_row,
            long_mistakes="\n".join(f"| {n} | {what} |" for n, what in long_mistakes),
            wide_header=", ".join(WIDE_HEADER),
            wide_blank=wide_blank,
            wide_mistakes="\n".join(f"| {sheet} | {n} | {what} |" for sheet, n, what in wide_mistakes),
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
