"""The retry policy: a table of cases, no I/O."""

import datetime as dt

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.ecwid import policy
from importer.ecwid.policy import Action, classify_exception, classify_status, parse_retry_after, retry_wait

REQ = httpx.Request("POST", "https://app.ecwid.com/api/v3/1/customers/2/contacts")


@pytest.mark.parametrize(
    "status, code, message, action",
    [
        (200, "", "", Action.SUCCESS),
        (400, "WRONG_PARAMETER", "Bad type", Action.FAIL),
        (401, "", "", Action.STOP),
        (402, "NOT_AVAILABLE_ON_CURRENT_PLAN", "", Action.STOP),
        (402, "STORE_IS_SUSPENDED", "", Action.STOP),
        (403, "INVALID_API_TOKEN", "", Action.STOP),
        (403, "INSUFFICIENT_APP_SCOPE", "", Action.STOP),
        (404, "STORE_NOT_FOUND", "", Action.STOP),
        (404, "", "Store 1003 not found", Action.STOP),
        (404, "", "Customer #123 not found", Action.FAIL),
        (404, "CUSTOMER_NOT_FOUND", "", Action.FAIL),
        (404, "", "", Action.FAIL),
        (405, "METHOD_NOT_ALLOWED", "", Action.FAIL),
        (415, "", "Unsupported content type", Action.FAIL),
        (422, "WRONG_URL", "", Action.FAIL),
        (408, "TIMEOUT", "", Action.RETRY),
        (429, "RATE_LIMITED", "", Action.RETRY),
        (500, "INTERNAL_ERROR", "", Action.RETRY),
        (502, "", "", Action.RETRY),
        (503, "", "", Action.RETRY),
        (504, "", "", Action.RETRY),
        (501, "", "", Action.FAIL),
    ],
)
def test_classify_status(status, code, message, action):
    assert classify_status(status, code, message) is action


@pytest.mark.parametrize(
    "exc, sent, action",
    [
        (httpx.ConnectError("refused", request=REQ), False, Action.RETRY),
        (httpx.ConnectTimeout("slow", request=REQ), False, Action.RETRY),
        (httpx.PoolTimeout("pool", request=REQ), False, Action.RETRY),
        (httpx.UnsupportedProtocol("ftp", request=REQ), False, Action.FAIL),
        (httpx.ReadTimeout("slow", request=REQ), True, Action.AMBIGUOUS),
        (httpx.ReadError("reset", request=REQ), True, Action.AMBIGUOUS),
        (httpx.WriteError("broken pipe", request=REQ), True, Action.AMBIGUOUS),
        (httpx.RemoteProtocolError("disconnected", request=REQ), True, Action.AMBIGUOUS),
    ],
)
def test_classify_exception(exc, sent, action):
    assert policy.may_have_been_sent(exc) is sent
    assert classify_exception(exc, sent) is action


def test_an_error_after_sending_is_never_retried_even_if_its_type_is():
    assert classify_exception(httpx.ConnectError("x", request=REQ), sent=True) is not Action.RETRY


@pytest.mark.parametrize(
    "attempt, rand, expected",
    [
        (1, 0.0, 0.5),
        (2, 0.0, 1.0),
        (3, 0.0, 2.0),
        (1, 1.0, 0.375),  # the jitter shortens by up to 25 %
        (3, 0.5, 1.75),
        (7, 0.0, 30.0),  # capped
        (50, 0.0, 30.0),
    ],
)
def test_retry_wait_backoff(attempt, rand, expected):
    assert retry_wait(attempt, None, random=lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize("retry_after, expected", [(0.0, 0.0), (7.0, 7.0), (59.5, 59.5), (3600.0, 60.0)])
def test_retry_wait_honours_retry_after_capped(retry_after, expected):
    assert retry_wait(1, retry_after, random=lambda: 0.9) == expected


@given(st.integers(1, 100), st.floats(0, 1, exclude_max=True))
def test_retry_wait_is_bounded(attempt, rand):
    wait = retry_wait(attempt, None, random=lambda: rand)
    assert 0 < wait <= policy.BACKOFF_MAX_S


NOW = dt.datetime(2025, 3, 26, 11, 7, 12, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("10", 10.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-4", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 26 Mar 2025 11:07:42 GMT", 30.0),
        ("Wed, 26 Mar 2025 11:07:00 GMT", 0.0),  # in the past: go now
        ("Wed, 32 Foo 2025 11:07:42 GMT", None),
    ],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize("retry_after, expected", [(None, 10.0), (2.0, 2.0), (0.0, 0.0), (86400.0, 60.0)])
def test_rate_limit_pause(retry_after, expected):
    assert policy.rate_limit_pause(retry_after) == expected


def test_slowed_rate_multiplies_and_has_a_floor():
    assert policy.slowed_rate(590) == pytest.approx(472)
    assert policy.slowed_rate(35) == policy.MIN_RATE
    assert policy.slowed_rate(10) == 10  # already below the floor: left alone
