"""How big importer/ is, per folder: every line (`wc -l`), and the lines of code alone (not blank, not a
docstring, not a comment). Issue 22 set a target on the first; the second says how much of it is logic.

    python bench/lines.py
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "importer"


def kinds(source: str) -> Counter:
    """The file's lines by kind: code, docstring, comment, blank."""
    documented: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                documented.update(range(first.lineno, first.end_lineno + 1))
    counts: Counter = Counter()
    for number, line in enumerate(source.splitlines(), 1):
        text = line.strip()
        kind = "blank" if not text else "docstring" if number in documented else "comment" if text[0] == "#" else "code"
        counts[kind] += 1
    return counts


def main() -> None:
    by_unit: dict[str, Counter] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        unit = f"{rel.parts[0]}/" if len(rel.parts) > 1 else "(top-level modules)"
        by_unit.setdefault(unit, Counter()).update(kinds(path.read_text(encoding="utf-8")))
    total = sum(by_unit.values(), Counter())
    print(f"{'':22} {'lines':>6} {'code':>6} {'docs':>6} {'comments':>8} {'blank':>6}")
    for unit, c in [*sorted(by_unit.items()), ("importer/ in all", total)]:
        print(f"{unit:22} {sum(c.values()):6,} {c['code']:6,} {c['docstring']:6,} {c['comment']:8,} {c['blank']:6,}")


if __name__ == "__main__":
    main()
