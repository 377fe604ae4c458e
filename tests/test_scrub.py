"""Issue 21: no piece of the token of 8 characters or more survives `ecwid.scrub`, wherever it sits in the
text and wherever the text is cut."""

from __future__ import annotations

import string

from hypothesis import given, strategies as st

from importer.ecwid import scrub

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
