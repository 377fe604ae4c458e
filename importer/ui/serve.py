"""Run the page: a random key, a socket on 127.0.0.1, uvicorn until Ctrl-C, then the uploads removed."""


from __future__ import annotations

import secrets
import sys
import tempfile
import webbrowser
from pathlib import Path

from importer.ui.app import create_app
from importer.ui.session import Session, Target

__all__ = ["serve"]

HOST = "127.0.0.1"


def serve(target: Target, *, report_dir: Path, port: int = 0, open_browser: bool = True) -> None:
    import socket

    import uvicorn

    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="ecwid-contacts-ui-") as folder:
        session = Session(target, report_dir, Path(folder))
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so; without it, each answer's
        # second write waits for the browser's delayed ACK (40 ms a request).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))  # loopback only: the page is for this machine
        url = f"http://{HOST}:{sock.getsockname()[1]}/?key={key}"
        print(f"ecwid-contacts ui: the page is at {url}", file=sys.stderr)
        print("ecwid-contacts ui: it works only from this machine; Ctrl-C here stops it", file=sys.stderr)
        if open_browser:
            webbrowser.open(url)
        config = uvicorn.Config(create_app(session, key), log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=5)  # fmt: skip
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            session.close()  # a run still going is stopped as by Ctrl-C, and its report written first
            print("ecwid-contacts ui: stopped; the uploaded copies are removed", file=sys.stderr)
