"""What a run tells a watcher while it goes, and a stop another thread can ask for.

    stop = Stop()
    result = run_import(files, on_event=print, stop=stop)   # in a worker thread
    stop.set()                                               # from any thread: ends the run as Ctrl-C does

`run_import` and `run_undo` enter `watching(on_event, stop)` around their work; the
progress counter (importer.deliver.progress) sends its events to the watcher, and the run's
interrupt scope (importer.runs.remote.interrupt_event) listens to the stop as it listens
to Ctrl-C. Each event is a small dict of plain values (JSON-ready) with an "event" key:

    {"event": "progress", "done", "total", "counts", "in_doubt", "rate", "eta_s", "detail", "line"}
    {"event": "note", "text"}        a line of its own: what the run is waiting for
    {"event": "closed", ...}         the sender's counter finished (same fields as progress)

Events never hold a token, a URL or a row's contents: counts and the progress line only.
A watcher is called from the run's thread; it must be quick (store and return).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar

Listener = Callable[[dict], None]


class Stop:
    """A stop asked for from any thread; callbacks added with `on_set` run (once) when it is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._lock:
            if self._set:
                return
            self._set = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_set(self) -> bool:
        return self._set

    def on_set(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` when the stop is set (at once if it is); returns a function that forgets it."""
        with self._lock:
            if not self._set:
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._callbacks.remove(callback)


_listener: ContextVar[Listener | None] = ContextVar("importer_events_listener", default=None)
_stop: ContextVar[Stop | None] = ContextVar("importer_events_stop", default=None)


@contextlib.contextmanager
def watching(on_event: Listener | None = None, stop: Stop | None = None) -> Iterator[None]:
    """The run inside gets `on_event` for its events and ends early when `stop` is set.
    Context variables: a run in another thread is not affected; asyncio tasks inherit them."""
    tokens = (_listener.set(on_event), _stop.set(stop))
    try:
        yield
    finally:
        _stop.reset(tokens[1])
        _listener.reset(tokens[0])


def listener() -> Listener | None:
    return _listener.get()


def current_stop() -> Stop | None:
    return _stop.get()
