"""The import options a shop owner picks in the page, as the CLI's flags set them.

    choices = Choices.read(form, sheets_offered)   # UsageError with the CLI's words for a value it refuses
    options = choices.apply(ImportOptions(...))     # the same ImportOptions fields the CLI's flags set
    choices.flags()                                 # ["--phone-region", "DE", "--match-by", "email", ...]

One set of choices per page, used by its check (the dry run) and by its send alike:
`--phone-region` (REGIONS: the regions phonenumbers reads, named by babel's CLDR names),
`--match-by`, `--sheet`, `--create-customers`, `--update`. What each means is the library's:
nothing here reads a cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import phonenumbers
from babel import Locale

from importer.checks.normalize import check_region
from importer.errors import UsageError
from importer.runs.pipeline import ImportOptions

# (code, name) of every region a phone number can be read in, by name: the page's country select.
_NAMES = Locale("en").territories
REGIONS = sorted(((code, _NAMES.get(code, code)) for code in phonenumbers.SUPPORTED_REGIONS), key=lambda p: p[1])
MATCH_BY = ("id", "email")  # --match-by's choices; "" = automatic (the CLI's default)


@dataclass(frozen=True)
class Choices:
    phone_region: str | None = None
    match_by: str | None = None
    sheets: tuple[str, ...] = ()  # () = every visible sheet, as without --sheet
    create_customers: bool = False
    update: bool = False

    @classmethod
    def read(cls, form: Mapping[str, list[str]], offered: Sequence[str], *, keep: Choices) -> Choices:
        """The reading choices of the Columns step's form (`keep`'s send choices kept)."""
        region = (form.get("phone_region") or [""])[0].strip()
        match_by = (form.get("match_by") or [""])[0]
        if match_by and match_by not in MATCH_BY:
            raise UsageError(f"--match-by: expected id or email, got {match_by!r}")
        picked = [s for s in offered if s in set(form.get("sheet", []))]
        if offered and not picked:
            raise UsageError("choose at least one sheet to read")
        sheets = () if len(picked) == len(offered) else tuple(picked)
        return replace(keep, phone_region=check_region(region or None), match_by=match_by or None, sheets=sheets)

    def apply(self, options: ImportOptions) -> ImportOptions:
        return replace(options, phone_region=self.phone_region, match_by=self.match_by, sheets=self.sheets,
                       create_customers=self.create_customers, update=self.update)  # fmt: skip

    def flags(self) -> list[str]:
        """The CLI's flags for these choices, in its own spelling."""
        out = ["--phone-region", self.phone_region] if self.phone_region else []
        out += ["--match-by", self.match_by] if self.match_by else []
        for sheet in self.sheets:
            out += ["--sheet", sheet]
        out += ["--create-customers"] if self.create_customers else []
        return out + (["--update"] if self.update else [])
