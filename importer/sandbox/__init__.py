"""A local emulator of Ecwid's customer-contact API, for trials and tests.

Imports nothing from the rest of `importer`: it checks the client, so it must
not share the client's mistakes.

    from importer.sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(rate_per_minute=None)) as sb:
        ...  # sb.api_url, sb.store_id, sb.token, sb.contacts(1), sb.stats

Choices where Ecwid's documentation is silent (each also marked where it is made):
- customers: a count N means ids 1..N with emails customer{id}@example.com;
- a second default contact of a type (created, or updated to default) wins; the
  older one stops being default;
- customer search refuses limit > 100 (400) rather than clamping; default 10;
- "Customer #N not found" comes without an errorCode, STORE_NOT_FOUND with one;
- a token refused more than `block_after` times in one window is blocked for
  `block_s` (5 windows by default); more than `bad_token_limit` requests with a
  non-working token from one address per window are blocked the same way;
- injected 5xx answers store nothing; a cut create is stored, then its
  connection is closed without a byte of answer (PUT and DELETE of a contact,
  and DELETE of a customer, likewise: done, then cut).
"""

from importer.sandbox.app import create_app
from importer.sandbox.cli import add_arguments, config_from_args, serve_forever
from importer.sandbox.config import ALL_SCOPES, CREATE, READ, UPDATE, Customer, SandboxConfig
from importer.sandbox.faults import FaultSettings
from importer.sandbox.server import Sandbox
from importer.sandbox.state import LoggedRequest, SandboxState, SandboxStats, token_hash

__all__ = [
    "ALL_SCOPES",
    "CREATE",
    "READ",
    "UPDATE",
    "Customer",
    "FaultSettings",
    "LoggedRequest",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "SandboxStats",
    "add_arguments",
    "config_from_args",
    "create_app",
    "serve_forever",
    "token_hash",
]
