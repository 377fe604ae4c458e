"""The catalogue as a table: the README's list of codes is made here, never by hand.

    python -m importer.errors.catalogue --markdown     # the table, as the README holds it
    python -m importer.errors.catalogue --readme       # rewrite README.md's table in place
    readme_table(Path("README.md").read_text()) == markdown()   # what the test checks

The README holds the table between BEGIN and END (HTML comments a reader does not see).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from importer.errors.codes import Code

__all__ = ["BEGIN", "END", "markdown", "readme_table", "with_table"]

BEGIN = "<!-- codes: made by `python -m importer.errors.catalogue --readme`; do not edit by hand -->"
END = "<!-- end of codes -->"


def markdown() -> str:
    """One line per code, in the catalogue's order: code, status, title, message, meaning."""
    lines = ["| code | status | title | message | meaning |", "|---|---|---|---|---|"]
    for code in Code:
        entry = code.entry
        template = entry.template.replace("|", "\\|").replace("`", "'")
        lines.append(f"| `{code}` | {entry.status} | {entry.title} | `{template}` | {entry.description} |")
    return "\n".join(lines) + "\n"


def readme_table(readme: str) -> str:
    """The table the README holds now ("" if it has none)."""
    if BEGIN not in readme or END not in readme:
        return ""
    return readme.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def with_table(readme: str) -> str:
    """The README with its table made again from the catalogue."""
    head, rest = readme.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{markdown()}{END}{rest.split(END, 1)[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m importer.errors.catalogue", description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the table of codes")
    parser.add_argument("--readme", type=Path, nargs="?", const=Path("README.md"), help="rewrite this README's table")
    args = parser.parse_args(argv)
    if args.readme:
        args.readme.write_text(with_table(args.readme.read_text("utf-8")), "utf-8")
    else:
        sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
