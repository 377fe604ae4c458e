"""Issue 22: what one answer means, for every caller alike (importer.ecwid.answers: pure, a table of cases).

The only thing a caller says is what a 2xx means and whether a request that may have been applied may
go again (`resend`); the rest (retry, fail, stop, doubt) is the API's and the same for every request.
"""

from __future__ import annotations

import httpx
import pytest

from importer.ecwid.answers import CREATED, DOCUMENT, NEW_ID, TICKET, count, json_int, reply_for, reply_for_exception
from importer.ecwid.policy import Action
from importer.records import Code

TOKEN = "secret_answers_0123456789"
REQ = httpx.Request("POST", "https://app.ecwid.com/api/v3/1/customers")


def answer(status: int, body: object = None, text: str | None = None, **headers: str) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    "response, meaning, resend, action, value, lost",
    [
        (answer(200, {"createCount": 1}), CREATED, False, Action.SUCCESS, 1, False),
        (answer(200, {"createCount": 0}), CREATED, False, Action.SUCCESS, 0, False),
        (answer(200, {"createCount": True}), CREATED, False, Action.AMBIGUOUS, None, True),  # a bool is no count
        (answer(200, {}), CREATED, False, Action.AMBIGUOUS, None, True),  # a create that says nothing: in doubt
        (answer(200, text=""), count("updateCount"), True, Action.RETRY, None, True),  # an edit: sent again
        (answer(200, {"updateCount": 1}), count("updateCount"), True, Action.SUCCESS, 1, False),
        (answer(200, {"id": 77}), NEW_ID, True, Action.SUCCESS, 77, False),
        (answer(200, {"id": 0}), NEW_ID, True, Action.RETRY, None, True),  # no id is no customer
        (answer(200, {"ticket": "t-1"}), TICKET, True, Action.SUCCESS, "t-1", False),
        (answer(200, {"ticket": ""}), TICKET, True, Action.RETRY, None, True),
        (answer(200, {"items": []}), DOCUMENT, True, Action.SUCCESS, {"items": []}, False),
        (answer(200, text="<html>portal</html>"), DOCUMENT, True, Action.RETRY, None, True),
        (answer(503, {"errorCode": "INTERNAL"}), CREATED, False, Action.RETRY, None, True),  # may have been applied
        (answer(429, {"errorCode": "RATE_LIMITED"}, **{"Retry-After": "3"}), CREATED, False, Action.RETRY, None, False),
        (answer(400, {"errorMessage": "bad phone"}), CREATED, False, Action.FAIL, None, False),
        (answer(404, {"errorMessage": "Customer #5 not found"}), CREATED, True, Action.FAIL, None, False),
    ],
)
def test_reply_for(response, meaning, resend, action, value, lost):
    reply = reply_for(response, token=TOKEN, meaning=meaning, resend=resend, store_id=1003)
    assert (reply.action, reply.value, reply.lost) == (action, value, lost)
    assert reply.stop is None


@pytest.mark.parametrize(
    "status, body, scope, message",
    [
        (403, {"errorCode": "INVALID_API_TOKEN"}, "read_customers", "the token is invalid or revoked (INVALID_API_TOKEN)"),
        (403, {"errorCode": "INSUFFICIENT_APP_SCOPE"}, "update_customers",
         "the token lacks the update_customers scope (INSUFFICIENT_APP_SCOPE)"),
        (401, None, "create_customers", "the token is invalid or revoked (HTTP 401)"),
        (402, {"errorCode": "STORE_IS_SUSPENDED"}, "create_customers", "store 1003 is suspended (STORE_IS_SUSPENDED)"),
        (404, {"errorCode": "STORE_NOT_FOUND"}, "read_customers",
         "store 1003 not found (STORE_NOT_FOUND): check --store-id and --api-url"),
    ],
)
def test_a_stop_names_what_to_fix_and_the_scope_the_request_needed(status, body, scope, message):
    reply = reply_for(answer(status, body), token=TOKEN, store_id=1003, scope=scope)
    assert reply.action is Action.STOP and reply.stop is not None and reply.stop.message == message


@pytest.mark.parametrize(
    "exc, resend, action, lost",
    [
        (httpx.ConnectError("refused", request=REQ), False, Action.RETRY, False),  # never left: safe
        (httpx.ReadTimeout("slow", request=REQ), False, Action.AMBIGUOUS, True),  # a create: in doubt
        (httpx.ReadTimeout("slow", request=REQ), True, Action.RETRY, True),  # a read or an edit: again
        (httpx.UnsupportedProtocol("ftp", request=REQ), False, Action.FAIL, False),
    ],
)
def test_reply_for_exception(exc, resend, action, lost):
    reply = reply_for_exception(exc, token=TOKEN, resend=resend)
    assert (reply.action, reply.lost) == (action, lost)
    assert reply.error_code == (Code.AMBIGUOUS if action is Action.AMBIGUOUS else Code.CONNECTION_ERROR)


def test_every_text_of_a_reply_is_scrubbed():
    page = f"<html>echo: Authorization: Bearer {TOKEN}</html>"
    for response in (answer(400, text=page), answer(200, text=page), answer(403, text=page)):
        for resend in (True, False):
            reply = reply_for(response, token=TOKEN, resend=resend)
            texts = (reply.error, reply.detail, reply.error_code, reply.stop.message if reply.stop else "")
            assert not any(TOKEN[:12] in t or TOKEN[-12:] in t for t in texts), texts
    reply = reply_for_exception(httpx.ReadError(f"cut after {TOKEN}", request=REQ), token=TOKEN, resend=True)
    assert TOKEN not in reply.detail + reply.error


@pytest.mark.parametrize("body, expected", [({"n": 3}, 3), ({"n": -1}, None), ({"n": "3"}, None), ({"n": False}, None),
                                            ([1], None), (None, None)])  # fmt: skip
def test_json_int_is_an_int_or_nothing(body, expected):
    assert json_int(answer(200, body), "n") == expected
