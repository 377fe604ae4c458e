"""Errors the sandbox answers with, shaped as Ecwid sends them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(eq=False)  # not frozen: Python sets attributes on raised exceptions
class ApiError(Exception):
    """An HTTP error answer: `{"errorMessage": …, "errorCode": …}`.

    `code` is None where Ecwid sends only a message ("Customer #5 not found"),
    so clients learn to cope with a missing errorCode.
    """

    status: int
    message: str
    code: str | None = None
    retry_after: int | None = None

    def body(self) -> dict[str, str]:
        out = {"errorMessage": self.message}
        if self.code is not None:
            out["errorCode"] = self.code
        return out


def wrong_parameter(message: str) -> ApiError:
    return ApiError(400, message, "WRONG_PARAMETER")


def customer_not_found(customer_id: int) -> ApiError:
    return ApiError(404, f"Customer #{customer_id} not found")


def contact_not_found(contact_id: int) -> ApiError:
    return ApiError(404, f"Contact #{contact_id} not found")


def internal_error() -> ApiError:
    """The 500 Ecwid's API code answers (an injected fault, or an inner batch request's failed try)."""
    return ApiError(500, "Internal server error", "INTERNAL_ERROR")
