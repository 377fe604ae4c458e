"""Helpers for the page's tests: the page served by uvicorn in a thread, and the files a user would drop."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from importer.ui.app import create_app
from importer.ui.session import Session, Target

KEY = "test-session-key-0123456789"
HEADER = "Customer ID,Email,Mobile,Instagram\n"
WITH_MISTAKES = HEADER + (
    "1001,ana@example.com,+351912345678,ana.art\n"
    "1002,not-an-email,+351912345679,bruno.b\n"
    "1003,carla@example.com,+351912345680,\n"
)
FIXED = WITH_MISTAKES.replace("not-an-email", "bruno@example.com")


def many_rows(n: int) -> str:
    """n customers, one email each: a run long enough to stop at a slow rate."""
    return "Customer ID,Email\n" + "".join(f"{2000 + i},person{i}@example.com\n" for i in range(n))


def new_session(tmp_path: Path, target: Target | None = None) -> Session:
    return Session(target or Target(), tmp_path / "reports", tmp_path / "page")


class _Server(uvicorn.Server):
    def __init__(self, config):
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets=None):
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


@contextmanager
def page_server(session: Session, key: str = KEY):
    """The page on a free loopback port; yields its address with the key."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY, as serve()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(create_app(session, key), log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    server.ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        session.close()
