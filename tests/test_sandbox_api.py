"""Contract tests for the sandbox's endpoints, over a real loopback socket."""

from __future__ import annotations

import datetime as dt
import itertools

import httpx
import pytest

from importer.sandbox import CREATE, READ, UPDATE, Sandbox, SandboxConfig, token_hash
from test_sandbox_support import auth, contacts_url, create

_customer_ids = itertools.count(1)


@pytest.fixture(scope="module")
def sb():
    cfg = SandboxConfig(customers=200, rate_per_minute=None, bad_token_limit=None)
    with Sandbox(cfg) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=5) as c:
        yield c


@pytest.fixture
def cid() -> int:
    """A customer no other test in this module touches."""
    return next(_customer_ids)


def test_api_url_is_loopback_with_v3_path(sb):
    assert sb.api_url.startswith("http://127.0.0.1:")
    assert sb.api_url.endswith("/api/v3")


def test_create_answers_create_count_without_id_and_stores_the_contact(sb, client, cid):
    r = create(client, sb, cid, {"contact": "ann@example.com", "type": "EMAIL", "handle": "ann",
                                 "note": "from CRM", "default": True, "orderBy": 3})
    assert r.status_code == 200
    assert r.json() == {"createCount": 1}
    listed = client.get(contacts_url(sb, cid), headers=auth(sb.token)).json()["items"]
    assert len(listed) == 1
    contact = listed[0]
    assert isinstance(contact["id"], int)
    assert {k: contact[k] for k in ("contact", "type", "handle", "note", "default", "orderBy")} == {
        "contact": "ann@example.com", "type": "EMAIL", "handle": "ann", "note": "from CRM",
        "default": True, "orderBy": 3,
    }
    stamp = dt.datetime.strptime(contact["timestamp"], "%Y-%m-%d %H:%M:%S %z")
    assert contact["timestamp"].endswith(" +0000")
    assert abs((dt.datetime.now(dt.timezone.utc) - stamp).total_seconds()) < 60
    assert sb.contacts(cid) == listed


def test_a_given_timestamp_is_kept(sb, client, cid):
    create(client, sb, cid, {"contact": "+15551234567", "type": "PHONE", "timestamp": "2024-01-02 03:04:05 +0000"})
    assert sb.contacts(cid)[0]["timestamp"] == "2024-01-02 03:04:05 +0000"


def test_get_put_delete_one_contact(sb, client, cid):
    create(client, sb, cid, {"contact": "+15551234567", "type": "PHONE"})
    contact_id = sb.contacts(cid)[0]["id"]
    url = f"{contacts_url(sb, cid)}/{contact_id}"

    got = client.get(url, headers=auth(sb.token))
    assert got.status_code == 200 and got.json()["contact"] == "+15551234567"

    put = client.put(url, json={"note": "call after 5"}, headers=auth(sb.token))
    assert (put.status_code, put.json()) == (200, {"updateCount": 1})
    assert sb.contacts(cid)[0]["note"] == "call after 5"
    assert sb.contacts(cid)[0]["contact"] == "+15551234567"

    deleted = client.delete(url, headers=auth(sb.token))
    assert (deleted.status_code, deleted.json()) == (200, {"deleteCount": 1})
    assert sb.contacts(cid) == []
    gone = client.get(url, headers=auth(sb.token))
    assert gone.status_code == 404
    assert gone.json()["errorMessage"] == f"Contact #{contact_id} not found"


def test_get_customer_carries_its_contacts(sb, client, cid):
    create(client, sb, cid, {"contact": "https://instagram.com/shop", "type": "INSTAGRAM", "handle": "shop"})
    r = client.get(f"{sb.api_url}/{sb.store_id}/customers/{cid}", headers=auth(sb.token))
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == cid
    assert body["email"] == f"customer{cid}@example.com"
    assert [c["contact"] for c in body["contacts"]] == ["https://instagram.com/shop"]


def test_a_new_default_replaces_the_old_one_of_the_same_type_only(sb, client, cid):
    create(client, sb, cid, {"contact": "old@example.com", "type": "EMAIL", "default": True})
    create(client, sb, cid, {"contact": "+15550000000", "type": "PHONE", "default": True})
    create(client, sb, cid, {"contact": "new@example.com", "type": "EMAIL", "default": True})
    defaults = {c["contact"]: c["default"] for c in sb.contacts(cid)}
    assert defaults == {"old@example.com": False, "+15550000000": True, "new@example.com": True}


def test_updating_a_contact_to_default_demotes_the_other(sb, client, cid):
    create(client, sb, cid, {"contact": "a@example.com", "type": "EMAIL", "default": True})
    create(client, sb, cid, {"contact": "b@example.com", "type": "EMAIL"})
    second = sb.contacts(cid)[1]["id"]
    client.put(f"{contacts_url(sb, cid)}/{second}", json={"default": True}, headers=auth(sb.token))
    assert [c["default"] for c in sb.contacts(cid)] == [False, True]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "EMAIL"},  # no contact
        {"contact": "", "type": "EMAIL"},
        {"contact": "a@example.com"},  # no type
        {"contact": "a@example.com", "type": "FAX"},
        {"contact": "a@example.com", "type": "email"},  # types are upper case
        {"contact": "a@example.com", "type": "EMAIL", "default": "true"},
        {"contact": "a@example.com", "type": "EMAIL", "default": 1},
        {"contact": "a@example.com", "type": "EMAIL", "orderBy": "1"},
        {"contact": "a@example.com", "type": "EMAIL", "orderBy": 1.5},
        {"contact": "a@example.com", "type": "EMAIL", "orderBy": True},
        {"contact": "a@example.com", "type": "EMAIL", "timestamp": "2024-01-02T03:04:05Z"},
        {"contact": 5551234, "type": "PHONE"},
    ],
)
def test_bad_bodies_are_wrong_parameter_and_store_nothing(sb, client, cid, body):
    r = create(client, sb, cid, body)
    assert r.status_code == 400
    assert r.json()["errorCode"] == "WRONG_PARAMETER"
    assert r.json()["errorMessage"]
    assert sb.contacts(cid) == []


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_bad_json_is_wrong_parameter(sb, client, cid, raw):
    r = client.post(contacts_url(sb, cid), content=raw,
                    headers={**auth(sb.token), "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "WRONG_PARAMETER"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_non_json_content_type_is_415(sb, client, cid, content_type):
    headers = auth(sb.token) | ({"Content-Type": content_type} if content_type else {})
    r = client.post(contacts_url(sb, cid), content=b'{"contact": "a@example.com", "type": "EMAIL"}', headers=headers)
    assert r.status_code == 415
    assert "errorMessage" in r.json()
    assert sb.contacts(cid) == []


def test_json_content_type_with_charset_is_accepted(sb, client, cid):
    r = client.post(contacts_url(sb, cid), content=b'{"contact": "a@example.com", "type": "EMAIL"}',
                    headers={**auth(sb.token), "Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200


def test_unsupported_method_is_405(sb, client, cid):
    r = client.patch(contacts_url(sb, cid), json={}, headers=auth(sb.token))
    assert r.status_code == 405
    assert r.json()["errorCode"] == "METHOD_NOT_ALLOWED"


def test_unknown_path_is_422_wrong_url(sb, client):
    r = client.get(f"{sb.api_url}/{sb.store_id}/customer/1/contacts", headers=auth(sb.token))
    assert r.status_code == 422
    assert r.json()["errorCode"] == "WRONG_URL"


def test_unknown_customer_is_404_with_ecwid_message(sb, client):
    r = create(client, sb, 987654)
    assert r.status_code == 404
    assert r.json()["errorMessage"] == "Customer #987654 not found"
    assert "errorCode" not in r.json()  # a missing errorCode is part of the contract


def test_a_customer_id_excel_made_into_a_float_is_rejected(sb, client, cid):
    r = client.post(f"{sb.api_url}/{sb.store_id}/customers/{cid}.0/contacts",
                    json={"contact": "a@example.com", "type": "EMAIL"}, headers=auth(sb.token))
    assert r.status_code == 400
    assert sb.contacts(cid) == []


def test_unknown_store_is_404_store_not_found(sb, client):
    r = client.post(f"{sb.api_url}/999/customers/1/contacts",
                    json={"contact": "a@example.com", "type": "EMAIL"}, headers=auth(sb.token))
    assert r.status_code == 404
    assert r.json()["errorCode"] == "STORE_NOT_FOUND"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer secret_nope"}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer"}],
    ids=["missing", "unknown", "not-bearer", "empty"],
)
def test_missing_or_unknown_token_is_403_invalid_api_token(sb, client, cid, headers):
    r = client.post(contacts_url(sb, cid), json={"contact": "a@example.com", "type": "EMAIL"}, headers=headers)
    assert r.status_code == 403
    assert r.json()["errorCode"] == "INVALID_API_TOKEN"
    assert sb.contacts(cid) == []


def test_token_in_query_no_longer_works(sb, client, cid):
    r = client.post(contacts_url(sb, cid), params={"token": sb.token}, json={"contact": "a@example.com", "type": "EMAIL"})
    assert r.status_code == 403
    assert r.json()["errorCode"] == "INVALID_API_TOKEN"
    logged = [e for e in sb.requests if e.query.startswith("token=")]
    assert logged and all(e.query == "token=***" for e in logged)


def test_token_of_another_store_is_invalid_here(sb, client, cid):
    sb.state.add_store(2002)
    sb.add_token("secret_other_store", {READ, CREATE, UPDATE}, store_id=2002)
    r = create(client, sb, cid, token="secret_other_store")
    assert r.status_code == 403
    assert r.json()["errorCode"] == "INVALID_API_TOKEN"


@pytest.mark.parametrize(
    "scopes, method, suffix, allowed",
    [
        ({READ}, "POST", "", False),
        ({CREATE}, "POST", "", True),
        ({CREATE}, "GET", "", False),
        ({READ}, "GET", "", True),
        ({READ, CREATE}, "PUT", "/{contact}", False),
        ({UPDATE}, "PUT", "/{contact}", True),
        ({READ, CREATE}, "DELETE", "/{contact}", False),
        ({CREATE}, "GET", "/{contact}", False),
    ],
)
def test_each_endpoint_needs_its_scope(sb, client, cid, scopes, method, suffix, allowed):
    create(client, sb, cid, {"contact": "seed@example.com", "type": "EMAIL"})
    contact_id = sb.contacts(cid)[0]["id"]
    token = f"secret_scoped_{'_'.join(sorted(scopes))}"
    sb.add_token(token, scopes)
    url = contacts_url(sb, cid) + suffix.format(contact=contact_id)
    body = {"contact": "x@example.com", "type": "EMAIL"} if method in ("POST", "PUT") else None
    r = client.request(method, url, json=body, headers=auth(token))
    if allowed:
        assert r.status_code == 200
    else:
        assert r.status_code == 403
        assert r.json()["errorCode"] == "INSUFFICIENT_APP_SCOPE"


def test_customer_search_needs_read_scope(sb, client):
    sb.add_token("secret_create_only", {CREATE})
    r = client.get(f"{sb.api_url}/{sb.store_id}/customers", headers=auth("secret_create_only"))
    assert r.status_code == 403
    assert r.json()["errorCode"] == "INSUFFICIENT_APP_SCOPE"


@pytest.mark.parametrize(
    "flags, code",
    [({"plan_ok": False}, "NOT_AVAILABLE_ON_CURRENT_PLAN"), ({"suspended": True}, "STORE_IS_SUSPENDED")],
)
def test_store_flags_answer_402(client, flags, code):
    with Sandbox(SandboxConfig(customers=3, **flags)) as other:
        r = create(client, other, 1)
        assert r.status_code == 402
        assert r.json()["errorCode"] == code
        assert other.contacts(1) == []


def test_request_log_names_tokens_by_hash_only(sb, client, cid):
    create(client, sb, cid, {"contact": "logged@example.com", "type": "EMAIL"})
    entry = next(e for e in reversed(sb.requests) if "logged@example.com" in e.body)
    assert entry.method == "POST"
    assert entry.path == f"/api/v3/{sb.store_id}/customers/{cid}/contacts"
    assert entry.status == 200
    assert entry.token_hash == token_hash(sb.token)
    assert all(sb.token not in repr(e) for e in sb.requests)


# ---- customer search -------------------------------------------------------


def search(sb: Sandbox, client: httpx.Client, **params) -> httpx.Response:
    return client.get(f"{sb.api_url}/{sb.store_id}/customers", params=params, headers=auth(sb.token))


def test_exact_email_match_ignores_case(sb, client):
    r = search(sb, client, email="CUSTOMER17@Example.COM", useExactEmailMatch="true")
    body = r.json()
    assert r.status_code == 200
    assert body["total"] == 1 and body["count"] == 1
    assert body["items"][0]["id"] == 17
    assert "contacts" in body["items"][0]


def test_email_without_exact_match_finds_parts(sb, client):
    body = search(sb, client, email="customer17", limit=100).json()
    # customer17, customer170 … customer179
    assert sorted(c["id"] for c in body["items"]) == [17, *range(170, 180)]


def test_exact_email_match_does_not_find_parts(sb, client):
    assert search(sb, client, email="customer17", useExactEmailMatch="true").json()["total"] == 0


def test_keyword_searches_name_and_email(sb, client):
    sb.add_customers(ids=[5001], emails=["zed@shop.test"], names=["Zoë Quinn"])
    assert [c["id"] for c in search(sb, client, keyword="zoë").json()["items"]] == [5001]
    assert [c["id"] for c in search(sb, client, keyword="SHOP.TEST").json()["items"]] == [5001]


def test_paging_with_offset_and_limit(sb, client):
    first = search(sb, client, keyword="example.com", sortBy="EMAIL_ASC", limit=100).json()
    second = search(sb, client, keyword="example.com", sortBy="EMAIL_ASC", offset=100, limit=100).json()
    assert first["total"] == second["total"] == 200
    assert (first["count"], first["offset"], first["limit"]) == (100, 0, 100)
    assert (second["count"], second["offset"]) == (100, 100)
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert sorted(ids) == list(range(1, 201))


def test_default_limit_is_10(sb, client):
    body = search(sb, client).json()
    assert body["limit"] == 10 and body["count"] == 10 and body["total"] >= 200


@pytest.mark.parametrize(
    "params",
    [{"limit": 101}, {"limit": -1}, {"limit": "ten"}, {"offset": -1}, {"useExactEmailMatch": "yes"}, {"sortBy": "ID"}],
)
def test_bad_search_parameters_are_wrong_parameter(sb, client, params):
    r = search(sb, client, **params)
    assert r.status_code == 400
    assert r.json()["errorCode"] == "WRONG_PARAMETER"


def test_deleting_a_customer_needs_update_scope_and_takes_its_contacts(sb, client, cid):
    create(client, sb, cid, {"contact": "gone@example.com", "type": "EMAIL"})
    url = f"{sb.api_url}/{sb.store_id}/customers/{cid}"
    sb.add_token("secret_read_create", {READ, CREATE})
    refused = client.delete(url, headers=auth("secret_read_create"))
    assert (refused.status_code, refused.json()["errorCode"]) == (403, "INSUFFICIENT_APP_SCOPE")
    deleted = client.delete(url, headers=auth(sb.token))
    assert (deleted.status_code, deleted.json()) == (200, {"deleteCount": 1})
    assert client.get(url, headers=auth(sb.token)).status_code == 404
    assert client.get(contacts_url(sb, cid), headers=auth(sb.token)).status_code == 404
    assert client.delete(url, headers=auth(sb.token)).status_code == 404
