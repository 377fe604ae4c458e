"""`ecwid-contacts ui`'s options and what it does with them; the CLI (importer.cli) adds the store's options
(--store-id, --token-file, --api-url, as for import) and reads the token and store.

    add_arguments(subparser)
    run(args, token=token, store_id=store_id, report_dir=report_dir)   # blocks until Ctrl-C
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DESCRIPTION = ("Serve the import as a web page on 127.0.0.1 and open it in the browser: choose files, see how each "
               "column is read, check, send, watch, undo. The store and token are read as for import "
               "(ECWID_STORE_ID, ECWID_TOKEN or --token-file) and never leave this machine; the page can always send "
               "to its own sandbox.")  # fmt: skip


def add_arguments(ui: argparse.ArgumentParser) -> None:
    ui.description = DESCRIPTION
    ui.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ui.add_argument("--no-browser", action="store_true", help="print the page's address; don't open a browser")
    ui.add_argument("--report-dir", type=Path, default=Path("reports"), help="where reports go (default ./reports)")


def run(args: argparse.Namespace, *, token: str | None, store_id: int | None, report_dir: Path) -> int:
    from importer.ecwid import DEFAULT_API_URL, check_api_url
    from importer.errors import UsageError
    from importer.ui.serve import serve
    from importer.ui.session import Target

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    source = "" if not token else "--token-file" if args.token_file is not None else "ECWID_TOKEN"
    api_url = check_api_url(args.api_url or os.environ.get("ECWID_API_URL") or DEFAULT_API_URL)
    target = Target(store_id=store_id, token=token, api_url=api_url, source=source)
    serve(target, report_dir=report_dir, port=args.port, open_browser=not args.no_browser)
    return 0
