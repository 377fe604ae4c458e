"""Value rules (importer.rules) one table per rule, hypothesis for idempotence and the fast paths;
rows (read_table + validate on small files) for each row's errors and the column they name."""

from __future__ import annotations

import datetime as dt
import sys

import pandas as pd
import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.errors import Code, UsageError
from importer.records import Source
from importer.rules import (
    MAX_CONTACT,
    InvalidValue,
    cell_text,
    cell_text_keeps,
    clean,
    normalize_value,
    parse_bool,
    parse_customer_id,
    parse_order_by,
    parse_timestamp,
)
from importer.input.table import read_table
from importer.rules.emails import FAST_EMAIL, fast_email
from importer.rules.links import _PLAIN_LINK, _PLAIN_URL, _split_link_general, _url_general, split_link, url
from importer.rules.phones import fast_phone
from importer.rules.text import _SPACES
from load_helpers import load_records, write_csv, write_xlsx


def value_error(type_: str, value: str, **kw) -> InvalidValue:
    with pytest.raises(InvalidValue) as e:
        normalize_value(type_, value, **kw)
    return e.value


# ------------------------------------------------------------------ types

@pytest.mark.parametrize(
    "written, expected",
    [
        ("email", "EMAIL"), ("E-Mail", "EMAIL"), ("mail", "EMAIL"),
        ("mobile", "PHONE"), ("Tel", "PHONE"), ("telephone", "PHONE"), ("cell", "PHONE"), ("Phone Number", "PHONE"),
        ("x", "TWITTER"), ("twitter", "TWITTER"),
        ("website", "URL"), ("web", "URL"), ("site", "URL"), ("homepage", "URL"),
        ("fb", "FACEBOOK"), ("ig", "INSTAGRAM"), ("insta", "INSTAGRAM"),
        ("messenger", "FB_MESSENGER"), ("fb_messenger", "FB_MESSENGER"), ("FB-Messenger", "FB_MESSENGER"),
        ("tg", "TELEGRAM"), ("wa", "WHATSAPP"), ("WhatsApp", "WHATSAPP"), (" viber\u00a0", "VIBER"),
    ],
)
def test_type_aliases(written, expected):
    value = {"EMAIL": "a@shop.com", "PHONE": "+16502530000", "WHATSAPP": "+16502530000", "VIBER": "+16502530000",
             "URL": "https://shop.com"}.get(expected, "shop")
    assert normalize_value(written, value)[0] == expected


def test_unknown_type_suggests_the_closest():
    e = value_error("EMIAL", "a@shop.com")
    assert e.code == Code.UNKNOWN_TYPE
    assert "did you mean EMAIL?" in e.message
    assert "PHONE" in e.message and "OTHER" in e.message  # names the allowed values


@pytest.mark.parametrize(
    "contact, expected",
    [
        ("jane@shop.com", "EMAIL"),
        ("https://www.facebook.com/myshop", "FACEBOOK"),
        ("instagram.com/shop", "INSTAGRAM"),
        ("https://x.com/shop", "TWITTER"),
        ("t.me/shop", "TELEGRAM"),
        ("wa.me/16502530000", "WHATSAPP"),
        ("+44 20 7946 0958", "PHONE"),
        ("(650) 253-0000", "PHONE"),  # phone-looking: PHONE, then it needs a region
        ("https://shop.example.com/about", "URL"),
        ("www.shop.com", "URL"),
    ],
)
def test_blank_type_is_inferred(contact, expected):
    try:
        assert normalize_value("", contact)[0] == expected
    except InvalidValue as e:  # inferred, but the value itself needs more (a region)
        assert (expected, e.code) == ("PHONE", Code.PHONE_NEEDS_REGION)


@pytest.mark.parametrize("contact", ["hello", "@shop", "12"])
def test_blank_type_not_inferable(contact):
    assert value_error("", contact).code == Code.MISSING_TYPE


# ------------------------------------------------------------------ emails

@pytest.mark.parametrize(
    "written, sent",
    [
        ("Jane.Doe@Example.COM", "Jane.Doe@example.com"),
        (" jane@shop.com\u00a0", "jane@shop.com"),
        ("\u200bjane@shop.com", "jane@shop.com"),
        ("Info@Shop.com", "info@shop.com"),  # RFC 2142 mailbox: email_validator lower-cases it
        ("Jane Doe <jane@shop.com>", "jane@shop.com"),
        ("mailto:jane@shop.com", "jane@shop.com"),
        ("jörg@bücher.de", "jörg@bücher.de"),
    ],
)
def test_email_normalized(written, sent):
    assert normalize_value("EMAIL", written) == ("EMAIL", sent, "")


@pytest.mark.parametrize("bad", ["jane", "jane@", "jane@shop", "jane@@shop.com", "ja ne@shop.com", "jane@localhost",
                                 "jane..doe@shop.com", "jane@shop..com"])
def test_invalid_email_carries_the_library_message(bad):
    e = value_error("EMAIL", bad)
    assert e.code == Code.INVALID_EMAIL
    with pytest.raises(EmailNotValidError) as lib:
        validate_email(bad, check_deliverability=False, allow_display_name=True)
    assert e.message == str(lib.value)


def _library(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


_ascii_emails = st.from_regex(FAST_EMAIL, fullmatch=True)
_near_misses = st.text(alphabet="aZ9.-_+@\"' x", min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ascii_emails, st.emails(), _near_misses))
@example("Info@Example.COM")
@example("a@xn--bcher-kva.de")
@example("a@ab--cd.com")
@example("a@mail.localhost")
@example("a@test.invalid")
@example("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com")
def test_email_fast_path_agrees_with_email_validator(value):
    """Whatever the regex fast path accepts, email_validator accepts with the same normalized form."""
    fast = fast_email(value)
    if fast is not None:
        assert fast == _library(value)


def test_email_fast_path_covers_plain_addresses():
    assert fast_email("john.smith+tag@mail.example.co.uk") == "john.smith+tag@mail.example.co.uk"


# ------------------------------------------------------------------ phones

@pytest.mark.parametrize(
    "type_, written, region, sent",
    [
        ("PHONE", "+1 650-253-0000", None, "+16502530000"),
        ("PHONE", "(650) 253-0000", "US", "+16502530000"),
        ("PHONE", "030 123456", "DE", "+4930123456"),
        ("PHONE", "0044 20 7946 0958", None, "+442079460958"),  # 00 international prefix
        ("PHONE", "tel:+16502530000", None, "+16502530000"),
        ("PHONE", "16502530000.0", "US", "+16502530000"),  # integral float from a numeric cell
        ("PHONE", "+1 650 253 0000 ext. 12", None, "+16502530000 ext. 12"),
        ("WHATSAPP", "+44 20 7946 0958", None, "+442079460958"),
        ("WHATSAPP", "https://wa.me/442079460958", None, "+442079460958"),
        ("WHATSAPP", "wa.me/16502530000/", None, "+16502530000"),
        ("WHATSAPP", "https://api.whatsapp.com/send?phone=16502530000", None, "+16502530000"),
        ("VIBER", "+7 495 123-45-67", None, "+74951234567"),
    ],
)
def test_phone_to_e164(type_, written, region, sent):
    assert normalize_value(type_, written, phone_region=region) == (type_, sent, "")


@pytest.mark.parametrize(
    "type_, written, region, code",
    [
        ("PHONE", "650 253 0000", None, Code.PHONE_NEEDS_REGION),
        ("PHONE", "1.6502E+10", "US", Code.LOST_DIGITS),
        ("PHONE", "1,6502E+10", None, Code.LOST_DIGITS),
        ("WHATSAPP", "4.42079E+11", None, Code.LOST_DIGITS),
        ("PHONE", "+1 555 123 4567", None, Code.INVALID_PHONE),  # possible, but no such range
        ("PHONE", "+1 650 253", None, Code.INVALID_PHONE),  # too short
        ("PHONE", "call me", "US", Code.INVALID_PHONE),
        ("WHATSAPP", "https://wa.me/", None, Code.INVALID_PHONE),
        ("WHATSAPP", "https://t.me/shop", None, Code.WRONG_NETWORK),
    ],
)
def test_phone_errors(type_, written, region, code):
    e = value_error(type_, written, phone_region=region)
    assert e.code == code
    if code == Code.PHONE_NEEDS_REGION:
        assert "--phone-region" in e.message


# ------------------------------------------------------------------ social networks

@pytest.mark.parametrize(
    "type_, written, contact, handle",
    [
        ("FACEBOOK", "https://www.facebook.com/myshop_page", "https://www.facebook.com/myshop_page", "myshop_page"),
        ("FACEBOOK", "http://m.facebook.com/myshop_page/?ref=bookmarks", "https://www.facebook.com/myshop_page", "myshop_page"),
        ("FACEBOOK", "facebook.com/myshop_page", "https://www.facebook.com/myshop_page", "myshop_page"),
        ("FACEBOOK", "fb.com/myshop", "https://www.facebook.com/myshop", "myshop"),
        ("FACEBOOK", "@myshop", "https://www.facebook.com/myshop", "myshop"),
        ("FACEBOOK", "https://www.facebook.com/profile.php?id=100012345", "https://www.facebook.com/profile.php?id=100012345", "100012345"),
        ("INSTAGRAM", "https://instagram.com/shop/", "https://www.instagram.com/shop", "shop"),
        ("INSTAGRAM", "www.instagram.com/the.shop?igsh=abc", "https://www.instagram.com/the.shop", "the.shop"),
        ("INSTAGRAM", "@the_shop", "https://www.instagram.com/the_shop", "the_shop"),
        ("TWITTER", "https://twitter.com/shop", "https://x.com/shop", "shop"),
        ("TWITTER", "https://mobile.twitter.com/Shop_1", "https://x.com/Shop_1", "Shop_1"),
        ("TWITTER", "x.com/shop", "https://x.com/shop", "shop"),
        ("TWITTER", "shop", "https://x.com/shop", "shop"),
        ("YOUTUBE", "https://www.youtube.com/@shop", "https://www.youtube.com/@shop", "shop"),
        ("YOUTUBE", "youtube.com/c/ShopTV", "https://www.youtube.com/c/ShopTV", "ShopTV"),
        ("YOUTUBE", "https://m.youtube.com/channel/UC1234abcd_-x", "https://www.youtube.com/channel/UC1234abcd_-x", "UC1234abcd_-x"),
        ("YOUTUBE", "youtube.com/user/shop", "https://www.youtube.com/user/shop", "shop"),
        ("YOUTUBE", "@shop", "https://www.youtube.com/@shop", "shop"),
        ("TIKTOK", "https://www.tiktok.com/@shop?lang=en", "https://www.tiktok.com/@shop", "shop"),
        ("TIKTOK", "shop", "https://www.tiktok.com/@shop", "shop"),
        ("PINTEREST", "https://pinterest.co.uk/shop/", "https://www.pinterest.com/shop", "shop"),
        ("PINTEREST", "pinterest.com/shop", "https://www.pinterest.com/shop", "shop"),
        ("VK", "https://m.vk.com/id123", "https://vk.com/id123", "id123"),
        ("FB_MESSENGER", "m.me/myshop", "https://m.me/myshop", "myshop"),
        ("FB_MESSENGER", "https://www.messenger.com/t/myshop", "https://m.me/myshop", "myshop"),
        ("TELEGRAM", "@shop_bot", "https://t.me/shop_bot", "shop_bot"),
        ("TELEGRAM", "https://telegram.me/shop", "https://t.me/shop", "shop"),
        ("TELEGRAM", "t.me/s/shop", "https://t.me/shop", "shop"),
    ],
)
def test_social_canonical_link_and_handle(type_, written, contact, handle):
    assert normalize_value(type_, written) == (type_, contact, handle)


@pytest.mark.parametrize(
    "type_, written, code",
    [
        ("FACEBOOK", "https://instagram.com/shop", Code.WRONG_NETWORK),
        ("INSTAGRAM", "https://www.facebook.com/shop", Code.WRONG_NETWORK),
        ("FACEBOOK", "https://m.me/shop", Code.WRONG_NETWORK),  # Messenger, not the page
        ("TWITTER", "https://shop.com/twitter", Code.WRONG_NETWORK),
        ("INSTAGRAM", "sh op", Code.INVALID_HANDLE),
        ("INSTAGRAM", "shop!", Code.INVALID_HANDLE),
        ("TWITTER", "sh.op", Code.INVALID_HANDLE),
        ("TELEGRAM", "+16502530000", Code.INVALID_HANDLE),
        ("FACEBOOK", "https://www.facebook.com/groups/123", Code.INVALID_HANDLE),
        ("FACEBOOK", "facebook.com", Code.INVALID_HANDLE),
        ("TWITTER", "https://x.com/shop/status/1", Code.INVALID_HANDLE),
        ("YOUTUBE", "https://youtu.be/dQw4w9WgXcQ", Code.INVALID_HANDLE),
        ("YOUTUBE", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Code.INVALID_HANDLE),
        ("INSTAGRAM", "ftp://instagram.com/shop", Code.INVALID_URL),
    ],
)
def test_social_errors(type_, written, code):
    assert value_error(type_, written).code == code


def test_wrong_network_names_the_right_type():
    assert "set the type to INSTAGRAM" in value_error("FACEBOOK", "instagram.com/shop").message


# ------------------------------------------------------------------ urls, other

@pytest.mark.parametrize(
    "written, sent",
    [
        ("https://shop.com", "https://shop.com"),
        ("HTTPS://Shop.COM/About?Lang=EN#Team", "https://shop.com/About?Lang=EN#Team"),
        ("http://shop.com:8080/x", "http://shop.com:8080/x"),
        ("www.shop.com", "https://www.shop.com"),
        ("shop.com/about", "https://shop.com/about"),
    ],
)
def test_url(written, sent):
    assert normalize_value("URL", written) == ("URL", sent, "")


@pytest.mark.parametrize("bad", ["shop", "ftp://shop.com", "https://", "https://shop .com", "mailto:a@b.com", "//"])
def test_invalid_url(bad):
    assert value_error("URL", bad).code == Code.INVALID_URL


def test_other_is_any_text():
    assert normalize_value("other", "  Skype: shop.live \u200b") == ("OTHER", "Skype: shop.live", "")


# ------------------------------------------------------------------ scalar fields

@pytest.mark.parametrize(
    "cell, expected",
    [("true", True), ("FALSE", False), ("Yes", True), ("no", False), ("1", True), ("0", False), ("y", True),
     ("N", False), ("on", True), ("OFF", False), (True, True), (False, False), ("", None), ("\u00a0", None)],
)
def test_bool(cell, expected):
    assert parse_bool(cell) == (expected, None)


@pytest.mark.parametrize("cell", ["maybe", "2", "yess", dt.datetime(2025, 1, 1)])
def test_bool_invalid(cell):
    assert parse_bool(cell)[1][0] == Code.INVALID_DEFAULT


@pytest.mark.parametrize("cell, expected", [("0", 0), ("3", 3), ("1.0", 1), ("12.00", 12)])
def test_order_by(cell, expected):
    assert parse_order_by(cell) == (expected, None)


@pytest.mark.parametrize("cell, code", [("-1", Code.INVALID_ORDER_BY), ("1.5", Code.INVALID_ORDER_BY),
                                        ("first", Code.INVALID_ORDER_BY), ("1E+3", Code.LOST_DIGITS)])
def test_order_by_invalid(cell, code):
    assert parse_order_by(cell)[1][0] == code


@pytest.mark.parametrize("cell, expected", [("177737165", 177737165), ("177737165.0", 177737165), ("007", 7)])
def test_customer_id(cell, expected):
    assert parse_customer_id(cell) == (expected, None)


@pytest.mark.parametrize(
    "cell, code",
    [("12/../x", Code.INVALID_CUSTOMER_ID), ("-5", Code.INVALID_CUSTOMER_ID), ("abc", Code.INVALID_CUSTOMER_ID),
     ("0", Code.INVALID_CUSTOMER_ID), ("١٢٣", Code.INVALID_CUSTOMER_ID), ("1.5", Code.INVALID_CUSTOMER_ID),
     ("99999999999999999999", Code.INVALID_CUSTOMER_ID), ("1.77737E+08", Code.LOST_DIGITS)],
)
def test_customer_id_invalid(cell, code):
    assert parse_customer_id(cell)[1][0] == code


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("2025-03-26 11:07:12 +0000", "2025-03-26 11:07:12 +0000"),  # Ecwid's own form passes through
        ("2025-03-26 13:07:12 +0200", "2025-03-26 11:07:12 +0000"),
        ("2025-03-26T11:07:12Z", "2025-03-26 11:07:12 +0000"),
        ("2025-03-26T13:07:12+02:00", "2025-03-26 11:07:12 +0000"),
        ("2025-03-26T11:07:12.5", "2025-03-26 11:07:12 +0000"),  # naive = UTC
        ("2025-03-26", "2025-03-26 00:00:00 +0000"),
        (dt.datetime(2025, 3, 26, 11, 7, 12), "2025-03-26 11:07:12 +0000"),
        (dt.datetime(2025, 3, 26, 6, 7, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2025-03-26 11:07:12 +0000"),
        ("", None),
    ],
)
def test_timestamp(cell, expected):
    assert parse_timestamp(cell) == (expected, None)


@pytest.mark.parametrize("cell", ["yesterday", "26/03/2025", "2025-13-01", True])
def test_timestamp_invalid(cell):
    assert parse_timestamp(cell)[1][0] == Code.INVALID_TIMESTAMP


def test_clean_strips_every_kind_of_space():
    assert clean("\ufeff\u00a0 a b\u200b \u2007\t") == "a b"


# ------------------------------------------------------------------ idempotence

_handles = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)
_phones = st.sampled_from(["+1 650-253-0000", "+44 20 7946 0958", "+49 30 123456", "+7 495 123-45-67",
                           "+81 3-1234-5678", "+61 2 9876 5432", "+33 1 23 45 67 89"])
_social = st.tuples(
    st.sampled_from(["FACEBOOK", "INSTAGRAM", "TWITTER", "YOUTUBE", "TIKTOK", "PINTEREST", "VK", "FB_MESSENGER", "TELEGRAM"]),
    st.sampled_from(["{}", "@{}", "https://{site}/{}", "http://www.{site}/{}/?ref=x", "{site}/{}"]),
    _handles,
)
_SITES = {"FACEBOOK": "facebook.com", "INSTAGRAM": "instagram.com", "TWITTER": "twitter.com", "YOUTUBE": "youtube.com",
          "TIKTOK": "tiktok.com", "PINTEREST": "pinterest.com", "VK": "vk.com", "FB_MESSENGER": "m.me",
          "TELEGRAM": "t.me"}
_values = st.one_of(
    st.tuples(st.just("EMAIL"), st.one_of(st.emails(), _ascii_emails)),
    st.tuples(st.sampled_from(["PHONE", "WHATSAPP", "VIBER", ""]), _phones),
    _social.map(lambda s: (s[0], s[1].format(s[2], site=_SITES[s[0]]))),
    st.tuples(st.sampled_from(["URL", ""]), st.from_regex(r"(https?://)?www\.[a-z0-9]{1,10}\.(com|de)(/[A-Za-z0-9?=&]{0,10})?",
                                                         fullmatch=True)),
    st.tuples(st.just("OTHER"), st.text(min_size=1, max_size=20)),
)


@settings(max_examples=250, deadline=None)
@given(_values)
def test_normalizing_twice_equals_once(type_and_value):
    try:
        once = normalize_value(*type_and_value)
    except InvalidValue:
        return
    assert normalize_value(once[0], once[1]) == once


@given(st.one_of(st.booleans(), st.sampled_from(["yes", "No", "1", "0", "on", "OFF", "y", "n", "true"])))
def test_bool_twice_equals_once(cell):
    once, _ = parse_bool(cell)
    assert parse_bool(str(once).lower())[0] == once


@given(st.integers(min_value=0, max_value=2**62))
def test_ints_twice_equal_once(n):
    assert parse_order_by(str(parse_order_by(f"{n}.0")[0])) == (n, None)
    if n:
        assert parse_customer_id(str(parse_customer_id(str(n))[0])) == (n, None)


@given(st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(9998, 1, 1),
                    timezones=st.one_of(st.none(), st.just(dt.timezone.utc), st.timezones())))
def test_timestamps_twice_equal_once(moment):
    once, problem = parse_timestamp(moment)
    assert problem is None
    assert parse_timestamp(once) == (once, None)
    assert parse_timestamp(moment.isoformat()) == (once, None)


# ------------------------------------------------------------------ whole rows (read_table + validate)

# A long file with every field; "When" is no built-in alias, so it is mapped as a user would.
LONG_HEADERS = {
    "Customer ID": "customerId",
    "Customer Email": "customerEmail",
    "Store": "storeId",
    "Type": "type",
    "Contact": "contact",
    "Handle": "handle",
    "Note": "note",
    "Default": "default",
    "Order": "orderBy",
    "When": "timestamp",
}
WHEN = {"When": "timestamp"}


def records(*paths, **options):
    return load_records(paths, **options)


def long_rows(tmp_path, *rows: dict, **options):
    """Records of a contacts.csv with one line per dict of canonical fields (absent fields blank)."""
    path = write_csv(tmp_path / "contacts.csv", list(LONG_HEADERS),
                     [[r.get(f, "") for f in LONG_HEADERS.values()] for r in rows])
    return records(path, mapping=WHEN, **options)


def long_row(tmp_path, **fields):
    options = {k: fields.pop(k) for k in ("phone_region", "store_id") if k in fields}
    (record,) = long_rows(tmp_path, fields, **options)
    return record


def test_row_normalized(tmp_path):
    out = long_rows(tmp_path, {"customerId": "9", "type": "EMAIL", "contact": "a@shop.com"},
                    {"customerId": "177737165.0", "type": "ig", "contact": "instagram.com/shop/", "note": "VIP",
                     "default": "yes", "orderBy": "2", "timestamp": "2025-03-26T11:07:12Z", "storeId": "1003"})
    record = out[1]
    assert (record.index, record.customer_id, record.type, record.contact, record.handle) == (
        1, 177737165, "INSTAGRAM", "https://www.instagram.com/shop", "shop")
    assert (record.note, record.default, record.order_by, record.timestamp) == (
        "VIP", True, 2, "2025-03-26 11:07:12 +0000")
    assert record.source_contact == "instagram.com/shop/"
    assert record.source == Source(str(tmp_path / "contacts.csv"), "", 3)
    assert record.ok and record.errors == ()
    assert record.outcome.status == "valid"


def test_handle_column_wins_over_the_link(tmp_path):
    record = long_row(tmp_path, customerId="1", type="FACEBOOK", contact="facebook.com/myshop_page", handle="My Shop")
    assert (record.contact, record.handle) == ("https://www.facebook.com/myshop_page", "My Shop")


def test_every_error_of_a_row_is_reported_with_its_header(tmp_path):
    record = long_row(tmp_path, store_id=1003, customerId="1.77737E+08", storeId="1004", type="EMIAL",
                      contact="jane@shop.com", default="maybe", orderBy="-1", timestamp="soon", note="x" * 2000)
    assert [(e.code, e.column) for e in record.errors] == [
        (Code.LOST_DIGITS, "Customer ID"),
        (Code.STORE_MISMATCH, "Store"),
        (Code.UNKNOWN_TYPE, "Type"),
        (Code.TOO_LONG, "Note"),
        (Code.INVALID_DEFAULT, "Default"),
        (Code.INVALID_ORDER_BY, "Order"),
        (Code.INVALID_TIMESTAMP, "When"),
    ]
    assert record.type == "EMIAL"  # as far as normalization got
    # error_code: every code of the row, the first one first
    assert (record.outcome.status, record.outcome.error_code) == ("invalid", ";".join(e.code for e in record.errors))


@pytest.mark.parametrize(
    "fields, code, column",
    [
        ({"type": "EMAIL", "contact": "a@shop.com"}, Code.MISSING_CUSTOMER, "Customer ID"),
        ({"customerId": "5", "type": "EMAIL"}, Code.MISSING_CONTACT, "Contact"),
        ({"customerId": "5", "type": "EMAIL", "contact": " \u00a0"}, Code.MISSING_CONTACT, "Contact"),
        ({"customerId": "5", "type": "EMAIL", "contact": "a@" + "b" * MAX_CONTACT + ".com"}, Code.TOO_LONG, "Contact"),
        ({"customerId": "5", "contact": "hello"}, Code.MISSING_TYPE, "Type"),
        ({"customerId": "abc", "type": "EMAIL", "contact": "a@shop.com"}, Code.INVALID_CUSTOMER_ID, "Customer ID"),
        ({"customerEmail": "not-an-email", "type": "EMAIL", "contact": "a@shop.com"}, Code.INVALID_CUSTOMER_EMAIL,
         "Customer Email"),
        ({"customerId": "5", "storeId": "x", "type": "EMAIL", "contact": "a@shop.com"}, Code.INVALID_STORE_ID, "Store"),
        ({"customerId": "5", "type": "PHONE", "contact": "650 253 0000"}, Code.PHONE_NEEDS_REGION, "Contact"),
        ({"customerId": "5", "type": "EMAIL", "contact": "a@shop.com", "handle": "h" * 300}, Code.TOO_LONG, "Handle"),
        ({"customerId": "5", "type": "EMAIL", "contact": "a@shop.com", "timestamp": "TRUE"}, Code.INVALID_TIMESTAMP,
         "When"),
    ],
)
def test_row_error_codes(tmp_path, fields, code, column):
    record = long_row(tmp_path, **fields)
    assert (record.errors[0].code, record.errors[0].column) == (code, column)
    assert (record.outcome.status, record.outcome.error_code) == ("invalid", code)


def test_blank_and_too_long_contact_still_name_a_bad_type(tmp_path):
    blank, long = long_rows(tmp_path, {"customerId": "5", "type": "EMIAL"},
                            {"customerId": "5", "type": "EMIAL", "contact": "x" * (MAX_CONTACT + 1)})
    assert [e.code for e in blank.errors] == [Code.UNKNOWN_TYPE, Code.MISSING_CONTACT]
    assert [e.code for e in long.errors] == [Code.UNKNOWN_TYPE, Code.TOO_LONG]
    assert "1025 characters" in long.errors[1].message


def test_customer_email_stands_in_lower_cased(tmp_path):
    record = long_row(tmp_path, customerEmail="Jane.Doe@Shop.COM", type="EMAIL", contact="jane@shop.com")
    assert (record.customer_id, record.customer_email, record.ok) == (None, "jane.doe@shop.com", True)
    assert record.customer_key == "email:jane.doe@shop.com"


def test_customer_id_wins_over_customer_email(tmp_path):
    record = long_row(tmp_path, customerId="42", customerEmail="Jane@Shop.com", type="EMAIL", contact="jane@shop.com")
    assert (record.customer_id, record.customer_email, record.customer_key) == (42, "jane@shop.com", "42")


def test_a_bad_customer_email_does_not_matter_beside_an_id(tmp_path):
    record = long_row(tmp_path, customerId="42", customerEmail="not-an-email", type="EMAIL", contact="a@shop.com")
    assert record.ok and record.customer_key == "42"


def test_store_id_matching_is_fine(tmp_path):
    assert long_row(tmp_path, store_id=1003, customerId="1", storeId="1003", type="tg", contact="@shop").ok


WIDE_HEADER = ("ID", "E-mail", "Mobile")


def test_wide_row_errors_point_at_the_contact_column(tmp_path):
    path = write_xlsx(tmp_path / "crm.xlsx", "Export", WIDE_HEADER, [("9", "", "650 253 0000")])
    (record,) = records(path)
    assert (record.errors[0].code, record.errors[0].column) == (Code.PHONE_NEEDS_REGION, "Mobile")
    assert record.source == Source(path, "Export", 2)
    (record,) = records(path, phone_region="us")
    assert (record.customer_id, record.type, record.contact, record.ok) == (9, "PHONE", "+16502530000", True)


def test_wide_row_a_record_per_filled_contact_cell(tmp_path):
    path = write_csv(tmp_path / "crm.csv", WIDE_HEADER, [("9", "Jane@Shop.com", "+1 650 253 0000"), ("10", "", "")])
    out = records(path)
    assert [(r.source.row, r.customer_id, r.type, r.contact) for r in out[:2]] == [
        (2, 9, "EMAIL", "Jane@shop.com"), (2, 9, "PHONE", "+16502530000")]
    assert (out[2].source.row, out[2].errors[0].code) == (3, Code.MISSING_CONTACT)


def test_excel_typed_cells(tmp_path):
    header = ("Customer ID", "Type", "Contact", "Default", "When")
    path = write_xlsx(tmp_path / "book.xlsx", "Contacts", header, [
        (5, "EMAIL", "a@shop.com", False, dt.datetime(2025, 3, 26, 11, 7, 12)),
        (177737165, "EMAIL", "b@shop.com", True, True),
    ])
    typed, bad = records(path, mapping=WHEN)
    assert (typed.default, typed.timestamp, typed.ok) == (False, "2025-03-26 11:07:12 +0000", True)
    assert (bad.customer_id, bad.default) == (177737165, True)
    assert [(e.code, e.column) for e in bad.errors] == [(Code.INVALID_TIMESTAMP, "When")]


def test_bad_phone_region_is_a_usage_error(tmp_path):
    path = write_csv(tmp_path / "contacts.csv", ["Customer ID", "Type", "Contact"], [["1", "EMAIL", "a@shop.com"]])
    with pytest.raises(UsageError):
        read_table([path], phone_region="USA")


# ------------------------------------------------------------------ phone fast path

def _library_e164(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or number.extension:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _examples() -> list[str]:
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                     phonenumbers.PhoneNumberType.TOLL_FREE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.append(f"+{number.country_code}{phonenumbers.national_significant_number(number)}")
    return found


_EXAMPLES = _examples()


@st.composite
def _intl_numbers(draw) -> str:
    """Real numbering plans with random tails, lengths and separators; some invalid on purpose."""
    digits = draw(st.sampled_from(_EXAMPLES))[1:]
    keep = draw(st.integers(min_value=1, max_value=len(digits)))
    tail = draw(st.text(alphabet="0123456789", min_size=0, max_size=len(digits) - keep + 2))
    digits = digits[:keep] + tail
    out = "+"
    for d in digits:
        out += draw(st.sampled_from(["", "", "", " ", "-", ".", "(", ")"])) + d
    return out


@settings(max_examples=800, deadline=None)
@given(st.one_of(_intl_numbers(), st.from_regex(r"\+[0-9][0-9 ().-]{0,20}[0-9]", fullmatch=True)))
@example("+1 650-253-0000")
@example("+1 268 464 1234")  # NANP, Antigua: region chosen by leading digits
@example("+44 020 7946 0958")  # trunk 0 after the country code: left to the library
@example("+7 8 495 123 45 67")
def test_phone_fast_path_agrees_with_phonenumbers(text):
    fast = fast_phone(text)
    if fast is not None:
        assert fast == _library_e164(text)


def test_phone_fast_path_covers_common_numbers():
    hits = sum(fast_phone(n) is not None for n in _EXAMPLES)
    assert hits / len(_EXAMPLES) > 0.8


def test_spelled_out_spaces_are_exactly_the_unicode_spaces():
    assert set(_SPACES) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


_LINK_CHARS = "abcAZ09._@~-/:%?#=&+ "


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.from_regex(r"https?://[a-z0-9.-]{1,20}(/[A-Za-z0-9._@~-]{0,10}){0,3}", fullmatch=True),
    st.builds(lambda a, b: a + b, st.sampled_from(["https://", "http://", "HTTPS://", "https://www.", "ftp://", ""]),
              st.text(alphabet=_LINK_CHARS, max_size=30)),
))
@example("https://www.instagram.com/shop/")
@example("https://instagram.com.//shop//")
def test_link_fast_paths_agree_with_urlsplit(value):
    """The regex shortcuts for plain links give what the urlsplit-based code gives."""
    if _PLAIN_LINK.fullmatch(value):
        fast, general = split_link(value), _split_link_general(value)
        assert general is not None
        assert (fast.scheme, fast.host, fast.segments, fast.query) == (
            general.scheme, general.host, general.segments, general.query)
    if _PLAIN_URL.fullmatch(value):
        assert url(value) == _url_general(value) == (value, None)


def test_link_fast_paths_cover_plain_links():
    assert _PLAIN_LINK.fullmatch("https://www.facebook.com/my.page")
    assert _PLAIN_URL.fullmatch("https://shop.example.com/about-us")


# Cells as a file writes them: the characters cell_text strips or reads at either end, and any other text.
_cell_ends = st.lists(st.sampled_from([*" \t\n\x0b\x1c\x1f\xa0\u3000\u200b", *"='\"+@-aZ09é"]), max_size=6).map("".join)


@given(st.lists(st.none() | _cell_ends | st.text(st.characters(blacklist_categories=("Cs",)), max_size=8), max_size=20))
@example([" a", "a ", "'=1", '="030"', "=1", "\x1fa", "a\x0b", "ａ", "", None, "plain@example.com"])
def test_cell_text_keeps_only_cells_cell_text_keeps(cells):
    """The column-wise test that lets normalize skip cell_text only says so of cells cell_text gives back as they are."""
    keeps = cell_text_keeps(pd.array(cells, dtype="str"))
    assert [c for c, k in zip(cells, keeps) if k and cell_text(c) != c] == []
    assert not any(k for c, k in zip(cells, keeps) if c is None)
    assert cell_text_keeps(pd.array(["a@example.com", "+4915112345678", "x"], dtype="str")).all()  # no cell_text call
