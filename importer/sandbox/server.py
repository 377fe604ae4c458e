"""Run the sandbox app with uvicorn in a background thread on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from importer.sandbox.app import create_app
from importer.sandbox.config import SandboxConfig
from importer.sandbox.state import SandboxState

LOOPBACK = ("127.0.0.1", "::1", "localhost")
START_TIMEOUT_S = 10.0


class _Server(uvicorn.Server):
    """uvicorn.Server that says when it listens (it only sets a flag)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: Any = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


class Sandbox(SandboxState):
    """The emulator's state (SandboxState: customers, tokens, faults, stats, log), served on a free loopback
    port; ready when `start()` returns.

    ```
    with Sandbox(SandboxConfig(rate_per_minute=None)) as sb:
        httpx.post(f"{sb.api_url}/{sb.store_id}/customers/1/contacts", ...)
        sb.contacts(1)
    ```
    Signal handlers are not installed: uvicorn only installs them from the main
    thread, and this server runs in its own.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the sandbox serves on loopback only, not {host!r}")
        super().__init__(config or SandboxConfig(), clock=clock)
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle ----

    def start(self) -> Sandbox:
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        server = _Server(
            uvicorn.Config(
                create_app(self),
                host=self._host,
                port=self._port,
                loop="asyncio",
                http="h11",
                lifespan="off",
                log_level="warning",
                access_log=False,
                proxy_headers=False,  # the cut needs uvicorn's own `send`
                timeout_graceful_shutdown=5,
            )
        )
        thread = threading.Thread(target=server.run, name="ecwid-sandbox", daemon=True)
        thread.start()
        if not server.ready.wait(START_TIMEOUT_S) or not server.started:
            server.should_exit = True
            thread.join(START_TIMEOUT_S)
            raise RuntimeError(f"sandbox did not start on {self._host}:{self._port}")
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(START_TIMEOUT_S)
        self._server = self._thread = None

    def wait(self) -> None:
        """Block until the server stops (interruptible by Ctrl-C)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- where it is ----

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return self._server.servers[0].sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v3"

    @property
    def store_id(self) -> int:
        return self.config.store_id

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def state(self) -> SandboxState:
        """Itself: `sb.state` reads as `app.state_obj` does for an app built on a bare SandboxState."""
        return self
