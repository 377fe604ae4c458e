"""Issue 21: no piece of the token of 8 characters or more survives `ecwid.scrub`, wherever it sits in the
text and wherever the text is cut; nor anything a user can read after a run whose error pages echo it."""

from __future__ import annotations

import json
import logging
import string

from hypothesis import given, strategies as st
from openpyxl import load_workbook

from cli_support import run_dir
from exactly_once_helpers import cli_args, run_main, stored, write_csv
from importer.ecwid import scrub
from importer.sandbox import Sandbox, SandboxConfig

ALNUM = string.ascii_letters + string.digits
tokens = st.text(ALNUM, min_size=20, max_size=60).map(lambda t: "secret_" + t)
filler = st.text(string.printable, max_size=300)


def pieces(text: str, token: str, n: int = 8) -> list[str]:
    return [token[i:i + n] for i in range(len(token) - n + 1) if token[i:i + n] in text]


@given(tokens, filler, filler, st.integers(0, 400))
def test_the_token_anywhere_in_a_text_cut_anywhere_leaves_no_piece(token, before, after, limit):
    text = f"{before}Authorization: Bearer {token}\r\n{after}"
    assert pieces(scrub(text, token, limit=limit), token) == []


@given(tokens, filler, st.data())
def test_a_piece_of_the_token_already_cut_by_someone_else_is_masked(token, before, data):
    start = data.draw(st.integers(0, len(token) - 8))
    end = data.draw(st.integers(start + 8, len(token)))
    assert pieces(scrub(before + token[start:end], token, limit=None), token) == []


def test_text_without_the_token_is_kept_and_cut_with_a_mark():
    assert scrub("HTTP 502 Bad Gateway", "secret_abcdefghijkl") == "HTTP 502 Bad Gateway"
    assert scrub("x" * 300, "secret_abcdefghijkl") == "x" * 200 + "…"


def test_every_token_the_process_holds_is_removed_whole_even_when_two_share_a_piece():
    """A process given two tokens (the page, a run per store) scrubs each as a whole: masking the runs one
    shares with another must not leave the other's ends readable (`secret_****…ECHOED`)."""
    from importer.ecwid import clean_token, scrub_held

    first, second = "secret_SHAREDPIECE_one_longer_token", "secret_SHAREDPIECE_two"
    clean_token(first), clean_token(second)
    assert scrub_held(f"a: {second}, b: {first}.") == "a: ***, b: ***."


# Through the command line, over HTTP against the sandbox on loopback (issue 21, the wire): error pages that
# echo the request's headers, the Authorization header among them, in a long body.
ECHOED = "secret_Zq7Xv3Lm9Pw2Rt8Ks4Nb6Hy1Jd5Fg0Ac"  # long and unlike anything else the report holds


def _shared_journal(tmp_path) -> tuple[str, ...]:
    """One journal for both runs, whatever their report folders; rows in doubt checked at once."""
    return ("--journal", str(tmp_path / "journal.sqlite"), "--rate", "100000", "--settle-window", "0.05")


def test_error_pages_that_echo_the_token_leave_no_piece_of_it_anywhere(tmp_path, monkeypatch, capsys, caplog):
    csv = tmp_path / "contacts.csv"
    expected = write_csv(csv, range(16))
    caplog.set_level(logging.INFO)
    with Sandbox(SandboxConfig(rate_per_minute=None, customers=20, token=ECHOED, echo_rate=0.3, echo_status=400,
                               seed=5)) as sb:  # fmt: skip
        argv = cli_args(sb, csv, tmp_path / "r1", *_shared_journal(tmp_path), "--verbose", "--retries", "1")
        code, summary, err = run_main(sb, argv, monkeypatch, capsys)
        assert any(r.fault == "echo" for r in sb.requests)
        logs = "\n".join(r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records)
        written = everything_written(tmp_path / "r1", json.dumps(summary), err, logs)
        assert "Bearer" in written or "rror" in written  # the pages' text did reach the report
        assert pieces(written, ECHOED) == []
        sb.set_fault(echo_rate=0.0)
        argv = cli_args(sb, csv, tmp_path / "r2", *_shared_journal(tmp_path))
        code, summary, err = run_main(sb, argv, monkeypatch, capsys)
        assert stored(sb) == expected and code == 0, err


def everything_written(report: str | None, out: str, err: str, logs: str) -> str:
    """All a user could read after a run: stdout, stderr, the logs, and every file of the report."""
    texts = [out, err, logs]
    if report:
        folder = run_dir(report)
        for name in ("results.csv", "errors.csv", "summary.json"):
            if (folder / name).exists():
                texts.append((folder / name).read_text("utf-8"))
        if (folder / "results.xlsx").exists():
            for row in load_workbook(folder / "results.xlsx", read_only=True).active.iter_rows(values_only=True):
                texts.append(" ".join(str(v) for v in row if v is not None))
    return "\n".join(texts)
