"""--customer-key and --match-by email: which column names the customer (read_table and validate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import InputError, UsageError
from load_helpers import load_records, write_csv


def records(path: Path, **kw):
    return load_records(path, **kw)


def customers_and_contacts(path: Path, **kw):
    return [(r.customer_id, r.customer_email, r.type, r.contact) for r in records(path, **kw)]


def test_match_by_email_in_a_wide_file_ignores_the_crm_id_and_keeps_the_email_as_a_contact(tmp_path):
    path = write_csv(tmp_path / "w.csv", ["ID", "Email", "Phone"], [["9001", "Ann@Example.com", "+14155550101"]])
    assert customers_and_contacts(path) == [  # without the option, ID is taken for Ecwid's id
        (9001, None, "EMAIL", "Ann@example.com"), (9001, None, "PHONE", "+14155550101"),
    ]  # fmt: skip
    assert customers_and_contacts(path, match_by="email") == [
        (None, "ann@example.com", "EMAIL", "Ann@example.com"), (None, "ann@example.com", "PHONE", "+14155550101"),
    ]  # fmt: skip


def test_match_by_email_in_a_long_file_drops_the_id_column(tmp_path):
    path = write_csv(tmp_path / "l.csv", ["Customer ID", "Customer Email", "Type", "Contact"],
                     [["77", "bob@example.com", "PHONE", "+14155550101"]])  # fmt: skip
    assert customers_and_contacts(path) == [(77, "bob@example.com", "PHONE", "+14155550101")]  # the id wins
    assert customers_and_contacts(path, match_by="email") == [(None, "bob@example.com", "PHONE", "+14155550101")]


def test_long_file_lone_email_column_is_the_customer_with_match_by_email(tmp_path):
    path = write_csv(tmp_path / "l.csv", ["Email", "Type", "Contact"], [["bob@example.com", "PHONE", "+14155550101"]])
    assert customers_and_contacts(path, match_by="email") == [(None, "bob@example.com", "PHONE", "+14155550101")]


def test_match_by_email_with_several_email_columns(tmp_path):
    # numbered columns: the first is the customer's (Outlook's E-mail Address, E-mail 2 Address)
    numbered = write_csv(tmp_path / "n.csv", ["Email 2", "Email", "Phone"], [["b@example.com", "a@example.com", "+14155550101"]])
    assert {r[1] for r in customers_and_contacts(numbered, match_by="email")} == {"a@example.com"}
    # several email columns (issue 19): each is a contact; the row's first email stands for the customer until the
    # store says which one its emails name (importer.customers.storematch)
    both = write_csv(tmp_path / "both.csv", ["Email", "Mail", "Phone"], [["", "b@example.com", "+14155550101"]])
    assert customers_and_contacts(both, match_by="email") == [
        (None, "b@example.com", "EMAIL", "b@example.com"), (None, "b@example.com", "PHONE", "+14155550101")]
    two = write_csv(tmp_path / "two.csv", ["Email", "Email 2", "Phone"], [["a@example.com", "b@example.com", "+14155550101"]])
    # naming one of them picks it; both stay contacts
    assert customers_and_contacts(two, match_by="email", customer_key="email 2") == [
        (None, "b@example.com", "EMAIL", "a@example.com"),
        (None, "b@example.com", "EMAIL", "b@example.com"),
        (None, "b@example.com", "PHONE", "+14155550101"),
    ]
    none = write_csv(tmp_path / "none.csv", ["Customer ID", "Type", "Contact"], [["1", "PHONE", "+14155550101"]])
    with pytest.raises(InputError, match="--match-by email: no single customer email column"):
        records(none, match_by="email")


def test_customer_key_names_a_column_no_alias_knows(tmp_path):
    path = write_csv(tmp_path / "l.csv", ["Kundenmail", "Customer Email", "Type", "Contact"],
                     [["Bob@Example.com", "other@example.com", "PHONE", "+14155550101"]])  # fmt: skip
    assert customers_and_contacts(path, customer_key="KUNDENMAIL") == [(None, "bob@example.com", "PHONE", "+14155550101")]
    with pytest.raises(InputError, match="no column 'Mail' \\(--customer-key\\)"):
        records(path, customer_key="Mail")


def test_customer_key_on_a_wide_email_column_keeps_it_a_contact(tmp_path):
    path = write_csv(tmp_path / "w.csv", ["E-mail", "Phone"], [["ann@example.com", "+14155550101"]])
    assert [r[2] for r in customers_and_contacts(path, customer_key="e-mail")] == ["EMAIL", "PHONE"]
    assert {r[1] for r in customers_and_contacts(path, customer_key="e-mail")} == {"ann@example.com"}


def test_bad_match_by_is_a_usage_error(tmp_path):
    path = write_csv(tmp_path / "l.csv", ["Customer ID", "Type", "Contact"], [["1", "PHONE", "+14155550101"]])
    with pytest.raises(UsageError, match="--match-by"):
        records(path, match_by="phone")
