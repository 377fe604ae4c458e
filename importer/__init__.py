"""ecwid-contacts: import customer contacts from CSV and Excel files into Ecwid.

Library use: ``from importer import run_import, ImportOptions``.
"""

__version__ = "0.1.0"
__all__ = ["run_import", "ImportOptions", "ImportResult", "__version__"]


def __getattr__(name: str):
    # Lazy, so `ecwid-contacts --help` doesn't pay for the whole pipeline.
    if name in ("run_import", "ImportOptions", "ImportResult"):
        from importer.runs import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
