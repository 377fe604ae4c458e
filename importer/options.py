"""The runs' options, in small frozen groups that `import` and `undo` compose.

    Target      which store, with which token, and where its journal is
    Pacing      how fast and how hard: requests per minute, in flight, retries, timeouts
    InputOptions how the files are read: sheets, mapping, encoding, header row, customer key, ...
    Delivery    --mode direct|batch and the batch API's settings
    Watch       a watcher's hooks: progress events, a stop asked for from another thread

`ImportOptions` (importer.runs.pipeline) is Target + Pacing + InputOptions + Delivery + Watch and the import's
own flags; `UndoOptions` (importer.runs.undo) is Target + Pacing + Watch and the undo's. A field is declared
once, in its group; the composed options keep every field's flat name, so library callers write
`ImportOptions(store_id=1003, rate=300, dry_run=True)` and read `options.rate`, and
`dataclasses.replace(options, mapping=...)` works. `options.pacing` and the like give a group alone,
for the code that needs only it. `from_args(ImportOptions, namespace, **computed)` builds options
from the CLI's parsed arguments, whose destinations carry the same names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from importer.ecwid import DEFAULT_API_URL
from importer.events import Stop

__all__ = ["Target", "Pacing", "InputOptions", "Delivery", "Watch", "Groups", "from_args"]

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    store_id: int | None = None
    token: str | None = field(default=None, repr=False)  # never printed
    api_url: str = DEFAULT_API_URL
    journal: Path | None = None  # default: the data directory's (importer.journal.home)


@dataclass(frozen=True)
class Pacing:
    rate: float | None = None  # requests/minute; None = the sender's default
    concurrency: int | None = None
    retries: int | None = None
    timeout: float | None = None  # seconds to wait for an answer; None: the sender's default
    settle_window: float | None = None  # seconds a row in doubt waits after its request left; None: the policy's

    def send_config(self) -> dict[str, Any]:
        """The importer.deliver.send.SendConfig keywords given (the rest stay the sender's defaults)."""
        given = (("rate_per_minute", self.rate), ("concurrency", self.concurrency), ("retries", self.retries),
                 ("timeout_s", self.timeout))  # fmt: skip
        return {k: v for k, v in given if v is not None}


@dataclass(frozen=True)
class InputOptions:
    sheets: tuple[str, ...] = ()
    mapping: Path | None = None
    encoding: str | None = None
    delimiter: str | None = None
    phone_region: str | None = None
    customer_key: str | None = None  # --customer-key COLUMN: the column naming the customer by email
    match_by: str | None = None  # --match-by email: the customer's email is the key (wide: its Email column)
    limit: int | None = None  # --limit N: the first N data rows only (a trial on a big file)
    header_row: int | None = None  # --header-row N: the header's row (else found where it is)
    preset: str | None = None  # --preset NAME: a known export's layout (else detected from the headers)
    country_column: str | None = None  # --country-column COL: each row's country, the region of its phones


@dataclass(frozen=True)
class Delivery:
    mode: str = "direct"  # --mode: "direct" (one request per contact) or "batch" (Ecwid's batch API, importer.deliver.batch)
    batch_size: int = 500  # --batch-size: creates per batch (at most 500)
    batches_in_flight: int | None = None  # --batches-in-flight: batches submitted ahead; None: importer.deliver.batch's default
    batch_parallel: bool = False  # --batch-parallel: allowParallelMode (Ecwid runs up to 100 of a batch at once)
    batch_timeout: float | None = None  # --batch-timeout: a ticket without progress this long stops the run

    def batch_settings(self) -> dict[str, Any]:
        """The importer.deliver.batch.BatchSettings keywords given."""
        given = (("in_flight", self.batches_in_flight), ("timeout_s", self.batch_timeout))
        return {"size": self.batch_size, "parallel": self.batch_parallel, **{k: v for k, v in given if v is not None}}


@dataclass(frozen=True)
class Watch:
    # A watcher's hooks (importer.events): progress events as the run goes, and a stop asked for from another
    # thread that ends the run as Ctrl-C does. The local web page uses both; the CLI neither.
    on_event: Callable[[dict], None] | None = field(default=None, repr=False, compare=False)
    stop: Stop | None = field(default=None, repr=False, compare=False)


class Groups:
    """The groups of a composed options class, each alone (a frozen copy of its fields)."""

    def part(self, group: type[T]) -> T:
        return group(**{f.name: getattr(self, f.name) for f in fields(group)})  # type: ignore[arg-type]

    @property
    def pacing(self) -> Pacing:
        return self.part(Pacing)

    @property
    def delivery(self) -> Delivery:
        return self.part(Delivery)


def from_args(cls: type[T], args: Any, **computed: Any) -> T:
    """`cls` from the CLI's parsed arguments: each field from the argument of its name, unless `computed`."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if f.init and hasattr(args, f.name)}  # type: ignore[arg-type]
    return cls(**{**values, **computed})
