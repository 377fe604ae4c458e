"""The package is laid out by layer, the arrows pointing down (issue 22): no module imports from a layer
above its own, so a step can be read, tested and changed with only what is below it in mind. The README's
layout lists the same layers, top first."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "importer"

# Top first. A module may import from its own folder and from any layer below its own.
LAYERS = [
    {"__main__"},
    {"cli"},
    {"ui"},
    {"runs"},
    {"options"},
    {"customers"},
    {"deliver"},
    {"journal"},
    {"ecwid"},
    {"report"},
    {"input"},
    {"checks"},
    {"mapping"},
    {"rules"},
    {"frame", "events", "memory"},
    {"errors"},
    {"records"},
]
# The local emulator stands apart: it imports nothing of ours, so it can't share a mistake with the client.
APART = {"sandbox"}
STARTS_IT = {"cli", "runs", "ui"}
# `from importer.records import Code` still works for library users: a lazy import when first asked for.
ALLOWED = {("records", "errors")}


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "importer":
                found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names if a.name != "__version__"}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("importer.")}
    return found


def _layer(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def test_every_folder_and_top_module_has_a_layer():
    units = {_unit(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert units - APART == set().union(*LAYERS)


def _points_down(unit: str, target: str) -> bool:
    if (unit, target) in ALLOWED:
        return True
    if unit in APART or target in APART:  # the emulator imports nothing of ours; only the commands start it
        return unit not in APART and unit in STARTS_IT
    return _layer(target) > _layer(unit)


def test_every_import_points_down_or_stays_in_its_folder():
    upward = [f"{path.relative_to(PACKAGE)} imports importer.{target}"
              for path in sorted(PACKAGE.rglob("*.py")) if _unit(path) != "__init__"
              for target in sorted(_imports(path) - {_unit(path)}) if not _points_down(_unit(path), target)]
    assert upward == []


def test_the_readme_lists_the_layers_top_first():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```\nimporter/\n", 1)[1].split("```", 1)[0]
    listed = [line.split()[0].rstrip("/").removesuffix(".py") for line in block.splitlines()
              if line.startswith("  ") and not line.startswith("   ")]
    order = [_layer(name) if name not in APART else len(LAYERS) for name in listed]
    assert order == sorted(order), listed
