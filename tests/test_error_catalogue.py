"""The error catalogue (importer.errors): one entry per stable code; the README's table is made from it;
its templates are the messages rows get."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from importer import rules
from importer.errors import STOP, Code, RunStopped, interrupted
from importer.errors.catalogue import markdown, readme_table
from importer.records import Code as RecordsCode
from importer.records import Status

README = Path(__file__).resolve().parent.parent / "README.md"

# Every code released before the catalogue: users script against them, so none may go or change.
RELEASED = """missing-customer-id invalid-customer-id invalid-customer-email invalid-store-id store-mismatch
missing-contact missing-type unknown-type invalid-email invalid-phone phone-needs-region phone-ambiguous
unknown-country lost-digits invalid-url wrong-network invalid-handle invalid-default invalid-order-by
invalid-timestamp too-long bad-encoding duplicate-default duplicate ambiguous unexpected-response customer-not-found
customer-ambiguous rejected http-error retries-exhausted connection-error run-stopped batch-timeout api-unreachable
already-imported exists-in-store column-not-imported store-check-failed customer-lookup-failed customer-mismatch
customer-create-failed changed-since already-gone sent-unknown update-failed delete-failed
interrupted internal-error journal-unwritable""".split()


def test_the_readme_table_is_the_catalogue():
    # If this fails: python -m importer.errors.catalogue --readme
    assert readme_table(README.read_text("utf-8")) == markdown()


def test_no_released_code_is_renamed_and_each_is_kebab_case_with_one_entry():
    codes = [str(c) for c in Code]
    assert set(RELEASED) <= set(codes)
    assert len(codes) == len(set(codes))
    for code in Code:
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", code), code
        assert code.entry.code == code and code.entry.title and code.entry.description.endswith(".")
        assert code.entry.status == STOP or code.entry.status in {s.value for s in Status}, code
        assert Code(str(code)) is code
    assert RecordsCode is Code  # the codes are still importable where they were


@pytest.mark.parametrize("code", list(Code), ids=str)
def test_every_template_fills_from_its_own_fields(code):
    fields = {f for _, f, _, _ in string.Formatter().parse(code.entry.template) if f}
    message = code.message(**{f: f"<{f}>" for f in fields})
    assert "{" not in message
    for f in fields:
        assert f"<{f}>" in message or f"'<{f}>'" in message


def test_an_outcome_carries_the_entrys_status_code_and_message():
    outcome = Code.ALREADY_IMPORTED.outcome(run_id="20261126-214501-3f2a", when="2026-11-26")
    assert (outcome.status, outcome.error_code) == (Status.SKIPPED, "already-imported")
    assert outcome.error == "already imported: created by run 20261126-214501-3f2a on 2026-11-26"
    mine = Code.CUSTOMER_AMBIGUOUS.outcome(status=Status.INVALID, http_status=None, attempts=2, detail="two of them")
    assert (mine.status, mine.attempts, mine.error) == (Status.INVALID, 2, "two of them")
    error = Code.TOO_LONG.error("Note", what="note", length=2000, limit=1000, more="")
    assert str(error) == "Note: the note is 2000 characters; at most 1000"


def test_a_stop_reason_is_a_run_stopped_with_its_code():
    stop = interrupted()
    assert isinstance(stop, RunStopped) and stop.exit_code == 3
    assert (stop.error_code, stop.message) == ("interrupted", "interrupted: the run was cancelled before every row was sent")
    assert all(Code(c).entry.status == STOP for c in ("interrupted", "internal-error", "journal-unwritable",
                                                       "batch-timeout", "api-unreachable"))


# The rules word their messages where they happen; where an entry's template has fixed words, it is
# the message a user sees, so the README's table tells the truth.
@pytest.mark.parametrize("problem, code, values", [
    (rules.parse_customer_id("12ab")[1], Code.INVALID_CUSTOMER_ID, {"value": "12ab"}),
    (rules.parse_store_id("x")[1], Code.INVALID_STORE_ID, {"value": "x"}),
    (rules.parse_customer_id("1.77737E+08")[1], Code.LOST_DIGITS, {"value": "1.77737E+08"}),
    (rules.parse_bool("maybe")[1], Code.INVALID_DEFAULT, {"value": "maybe"}),
    (rules.phone("0151 1234567", None)[1], Code.PHONE_NEEDS_REGION, {"value": "0151 1234567"}),
    (rules.country("Atlantis")[1], Code.UNKNOWN_COUNTRY, {"value": "Atlantis"}),
])  # fmt: skip
def test_the_rules_messages_are_the_templates(problem, code, values):
    assert problem == (code, code.message(**values))
