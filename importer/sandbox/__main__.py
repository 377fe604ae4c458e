"""`python -m importer.sandbox [options]`: serve the local Ecwid emulator (see importer.sandbox.cli)."""

from importer.sandbox.cli import main

raise SystemExit(main())
