"""`python -m importer.sandbox` and the pieces the importer's CLI reuses."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from cli_support import cli

from importer.sandbox import SandboxConfig, add_arguments, config_from_args, serve_forever

REPO = Path(__file__).resolve().parents[1]


def parse(*argv: str) -> SandboxConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return config_from_args(parser.parse_args(list(argv)))


def test_defaults_match_ecwid():
    cfg = parse()
    assert (cfg.store_id, cfg.rate_per_minute, cfg.window_s, cfg.fail_rate, cfg.cut_rate) == (1003, 600, 60.0, 0, 0)
    assert cfg.customers == 100 and cfg.plan_ok


def test_options_reach_the_config(tmp_path):
    cfg = parse("--rate", "0", "--latency-ms", "exponential:40", "--fail-rate", "0.1", "--cut-rate", "0.05",
                "--customers", "7", "--seed", "9", "--plan-expired", "--slow-start", "5")
    assert cfg.rate_per_minute is None
    assert (cfg.latency_dist, cfg.latency_ms) == ("exponential", 40.0)
    assert (cfg.fail_rate, cfg.cut_rate, cfg.customers, cfg.seed) == (0.1, 0.05, 7, 9)
    assert not cfg.plan_ok
    assert (cfg.slow_start_s, cfg.slow_start_ms) == (5.0, 500.0)
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("id,email,name\n1,a@b.test,A\n")
    assert [c.email for c in parse("--customers", str(csv_path)).customers] == ["a@b.test"]


@pytest.mark.parametrize(
    "argv",
    [["--fail-rate", "2"], ["--port", "70000"], ["--latency-ms", "gauss:5"], ["--latency-ms", "soon"],
     ["--customers", "no-such-file.csv"], ["--rate", "100", "--window", "1"]],
)
def test_bad_options_are_usage_errors(argv, capsys):
    with pytest.raises((SystemExit, argparse.ArgumentTypeError)):
        parse(*argv)
    run = cli(capsys, "sandbox", *argv)  # the importer's own `sandbox` command: one line, exit 2
    assert run.code == 2 and "internal error" not in run.err and run.err.strip().splitlines()[-1].startswith(
        "ecwid-contacts: error: ")


class _Lines:
    """A text sink that tells when a line containing `marker` was written."""

    def __init__(self, marker: str) -> None:
        self.text = ""
        self.marker = marker
        self.seen = threading.Event()

    def write(self, s: str) -> int:
        self.text += s
        if self.marker in self.text:
            self.seen.set()
        return len(s)

    def flush(self) -> None:
        pass


def facts(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(api url|store id|token):\s+(\S+)$", text, re.MULTILINE))


def test_serve_forever_prints_url_store_and_token_and_stops_cleanly():
    out, stop = _Lines("token:"), threading.Event()
    thread = threading.Thread(target=serve_forever, args=(SandboxConfig(customers=2),), kwargs={"out": out, "stop": stop})
    thread.start()
    try:
        assert out.seen.wait(10)
        f = facts(out.text)
        r = httpx.get(f"{f['api url']}/{f['store id']}/customers/2/contacts",
                      headers={"Authorization": f"Bearer {f['token']}"})
        assert (r.status_code, r.json()) == (200, {"items": []})
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert out.text.rstrip().endswith("Ecwid sandbox stopped")


def test_python_m_sandbox_serves_until_ctrl_c():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "importer.sandbox", "--customers", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )
    try:
        text = ""
        while "token:" not in text:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            text += line
        f = facts(text)
        assert f["api url"].startswith("http://127.0.0.1:")
        r = httpx.get(f"{f['api url']}/{f['store id']}/customers/3", headers={"Authorization": f"Bearer {f['token']}"})
        assert r.status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Ecwid sandbox stopped" in out
    assert "Traceback" not in err


def test_readme_sandbox_example_serves_the_customers_its_import_names(tmp_path, capsys, monkeypatch):
    """The README's pair: `ecwid-contacts sandbox --port 8765 …` then an import of contacts_valid.csv into it.
    The sandbox it starts must hold the customers the sample names, or every row fails customer-not-found.
    (Its faults are left out here: they are retried or settled, and cost time, not rows.)"""
    import dataclasses
    import shlex

    from cli_support import VALID, VALID_ROWS, results, statuses
    from importer.sandbox import Sandbox

    readme = (REPO / "README.md").read_text("utf-8").splitlines()
    serve = next(line for line in readme if line.startswith("ecwid-contacts sandbox --port 8765"))
    config = dataclasses.replace(parse(*shlex.split(serve.rstrip(" &"))[2:]), fail_rate=0.0, cut_rate=0.0,
                                 rate_per_minute=None)  # fmt: skip
    for name in ("ECWID_STORE_ID", "ECWID_API_URL"):
        monkeypatch.delenv(name, raising=False)
    with Sandbox(config) as sb:
        monkeypatch.setenv("ECWID_TOKEN", sb.token)
        run = cli(capsys, "import", VALID, "--api-url", sb.api_url, "--store-id", sb.store_id, "--no-journal",
                  "--rate", "100000", "--report-dir", tmp_path)  # fmt: skip
    assert run.code == 0, run.err
    assert statuses(results(tmp_path)) == {"created": VALID_ROWS}
