"""ecwid-contacts: import customer contacts from CSV and Excel files into Ecwid."""

__version__ = "0.1.0"
