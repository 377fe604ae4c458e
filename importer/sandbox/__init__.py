"""A local emulator of Ecwid's customer-contact API, for trials and tests.

Imports nothing from the rest of `importer`: it checks the client, so it must
not share the client's mistakes.

    from importer.sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(rate_per_minute=None)) as sb:
        ...  # sb.api_url, sb.store_id, sb.token, sb.contacts(1), sb.stats
"""

from importer.sandbox.app import create_app
from importer.sandbox.cli import add_arguments, config_from_args, serve_forever
from importer.sandbox.config import ALL_SCOPES, CREATE, READ, UPDATE, Customer, SandboxConfig
from importer.sandbox.errors import ConnectionCut
from importer.sandbox.faults import FaultSettings
from importer.sandbox.state import LoggedRequest, SandboxState, SandboxStats, token_hash
from importer.sandbox.server import Sandbox

__all__ = [
    "ALL_SCOPES",
    "CREATE",
    "READ",
    "UPDATE",
    "ConnectionCut",
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
