"""Issue 15.5: the token as people really set it: a CRLF file, a BOM, a stray control character.

Through the command line, against the sandbox over loopback. The token is refused or cleaned
before anything is read or sent, and no output or report holds it in any form.
"""

from __future__ import annotations

import pytest

from cli_support import VALID, VALID_CUSTOMERS, VALID_ROWS, cli, results, statuses
from importer.ecwid import clean_token, scrub
from importer.errors import UsageError
from importer.sandbox import Sandbox, SandboxConfig
from test_sending import assert_nowhere

TOKEN = "secret_crlf_canary_0b5e7d21"


@pytest.fixture(autouse=True)
def _no_ecwid_env(monkeypatch):
    for name in ("ECWID_TOKEN", "ECWID_STORE_ID", "ECWID_API_URL"):
        monkeypatch.delenv(name, raising=False)


def _sandbox() -> Sandbox:
    return Sandbox(SandboxConfig(token=TOKEN, rate_per_minute=None, customers=VALID_CUSTOMERS))


def _import(capsys, sb: Sandbox, tmp_path, *extra):
    return cli(capsys, "import", VALID, "--api-url", sb.api_url, "--store-id", sb.store_id, "--rate", "100000",
               "--report-dir", tmp_path / "r", "--json", *extra)  # fmt: skip


@pytest.mark.parametrize(
    "how, value",
    [
        ("env", TOKEN + "\r\n"),  # export ECWID_TOKEN=$(cat token.txt) keeps the CR of a CRLF file
        ("env", " \t" + TOKEN + "\n"),
        ("file", b"\xef\xbb\xbf" + TOKEN.encode() + b"\r\n"),  # Notepad: a BOM, then CRLF
        ("file", TOKEN.encode() + b"\n\n"),
    ],
)  # fmt: skip
def test_a_token_with_surrounding_whitespace_or_a_bom_works(tmp_path, capsys, monkeypatch, how, value):
    args: list[object] = []
    if how == "env":
        monkeypatch.setenv("ECWID_TOKEN", value)
    else:
        path = tmp_path / "token.txt"
        path.write_bytes(value)
        args = ["--token-file", path]
    with _sandbox() as sb:
        run = _import(capsys, sb, tmp_path, *args)
        store = sb.all_contacts()
    assert run.code == 0, run.err
    assert statuses(results(tmp_path / "r")) == {"created": VALID_ROWS}
    assert sum(len(v) for v in store.values()) == VALID_ROWS
    for path in [p for p in tmp_path.rglob("*") if p.name == "token.txt"]:
        path.unlink()  # the token's own file aside, it is in no file and no output
    assert_nowhere(TOKEN, tmp_path / "r", run.out, run.err)


@pytest.mark.parametrize("bad", ["\x07", "\r", "\x7f", "\u200b", "é"])
def test_a_token_with_a_control_character_inside_is_refused_before_anything_is_sent(tmp_path, capsys, monkeypatch,
                                                                                      bad):  # fmt: skip
    monkeypatch.setenv("ECWID_TOKEN", TOKEN[:10] + bad + TOKEN[10:])
    with _sandbox() as sb:
        run = _import(capsys, sb, tmp_path)
        requests = sb.stats.requests
    assert run.code == 2 and requests == 0
    assert "ECWID_TOKEN holds" in run.err and "position 11" in run.err
    assert TOKEN[:10] not in run.out + run.err and TOKEN[10:] not in run.out + run.err
    assert not (tmp_path / "r").exists()


def test_token_file_never_echoes_its_argument(tmp_path, capsys):
    with _sandbox() as sb:
        run = _import(capsys, sb, tmp_path, "--token-file", TOKEN)  # the token typed where its file goes
        requests = sb.stats.requests
    assert run.code == 2 and requests == 0
    assert "cannot read the file given to --token-file" in run.err
    assert TOKEN not in run.out + run.err


def test_the_library_cleans_the_token_too(tmp_path):
    from importer.runs.pipeline import run_import

    with _sandbox() as sb:
        result = run_import([VALID], store_id=sb.store_id, token=TOKEN + "\r\n", api_url=sb.api_url, rate=100000,
                            report_dir=tmp_path / "r", quiet=True)  # fmt: skip
        with pytest.raises(UsageError, match="control character"):
            run_import([VALID], store_id=sb.store_id, token="secret\x1b[31m", api_url=sb.api_url,
                       report_dir=tmp_path / "r2", quiet=True)  # fmt: skip
    assert result.exit_code == 0 and result.counts == {"created": VALID_ROWS}


def test_scrub_removes_every_form_of_the_token():
    raw = TOKEN + "\r\n"
    for text in (f"header {raw!r}", f"b'Bearer {TOKEN}\\r'", f"Bearer {TOKEN}", f"{raw}"):
        assert TOKEN not in scrub(text, raw), text
    assert clean_token("\ufeff" + TOKEN + " \r\n") == TOKEN
