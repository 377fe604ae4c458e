"""Run the sandbox app with uvicorn in a background thread on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import uvicorn

from importer.sandbox.app import create_app
from importer.sandbox.config import SandboxConfig
from importer.sandbox.faults import FaultSettings
from importer.sandbox.state import LoggedRequest, SandboxState, SandboxStats

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


class Sandbox:
    """The emulator on a free loopback port; ready when `start()` returns.

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
        self.config = config or SandboxConfig()
        self.state = SandboxState(self.config, clock=clock)
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
                create_app(self.state),
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

    # ---- state, for tests and the CLI (see SandboxState) ----

    def add_token(self, token: str, scopes: Iterable[str], store_id: int | None = None) -> None:
        self.state.add_token(token, scopes, store_id)

    def add_customers(
        self,
        ids: Iterable[int] | None = None,
        emails: Sequence[str | None] | None = None,
        names: Sequence[str | None] | None = None,
    ) -> list[int]:
        return self.state.add_customers(ids, emails, names)

    def contacts(self, customer_id: int) -> list[dict[str, Any]]:
        return self.state.contacts(customer_id)

    def all_contacts(self) -> dict[int, list[dict[str, Any]]]:
        return self.state.all_contacts()

    @property
    def stats(self) -> SandboxStats:
        return self.state.stats

    @property
    def requests(self) -> list[LoggedRequest]:
        return self.state.requests

    def set_fault(self, **changes: Any) -> None:
        """fail_rate=, cut_rate=, latency_ms=, latency_dist=, slow_start_s=, …"""
        self.state.set_fault(**changes)

    @property
    def faults(self) -> FaultSettings:
        return self.state.faults

    def set_rate(self, rate_per_minute: int | None, window_s: float | None = None) -> None:
        self.state.set_rate(rate_per_minute, window_s)

    def set_store(self, *, plan_ok: bool | None = None, suspended: bool | None = None) -> None:
        self.state.set_store(plan_ok=plan_ok, suspended=suspended)

    def reset_stats(self) -> None:
        self.state.reset_stats()
