"""The page in a real browser (headless Chromium through selenium): the whole import a shop owner does.

Skipped, with the reason, where Debian's chromium and chromium-driver (or selenium) are
missing; .ci/run installs them. With ECWID_UI_SCREENSHOTS=DIR the run saves the README's
screenshots there (`ECWID_UI_SCREENSHOTS=docs .venv/bin/pytest tests/test_ui_browser.py`).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
from cli_support import cli
from ui_support import FIXED, KEY, WITH_MISTAKES, many_rows, new_session, page_server

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="headless Chromium is not installed "
                                "(apt-get install chromium chromium-driver; .ci/run does)")  # fmt: skip

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SHOTS = os.environ.get("ECWID_UI_SCREENSHOTS")


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=900,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver, name: str, element_id: str) -> None:
    if SHOTS:
        _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.find_element(By.ID, element_id).screenshot(str(Path(SHOTS) / f"ui-{name}.png"))


def _wait(driver, what, timeout: float = 15):
    # The page reloads when a run ends: an element read as it goes is stale, and read again.
    return WebDriverWait(driver, timeout, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: what(d))


def _text(driver, element_id: str) -> str:
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def _count(driver, section: str, status: str) -> int:
    cells = driver.find_elements(By.CSS_SELECTOR, f"#{section} td.n[data-status='{status}']")
    return int(cells[0].text) if cells else 0


def _rows(text: str) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    for row in rows:  # the page's copy of a file sits in its own folder: the same name, another path
        row["file"] = Path(row["file"]).name
    return rows


def test_a_shop_owner_imports_from_the_page(tmp_path, browser, capsys):
    started = time.monotonic()
    session = new_session(tmp_path)
    upload = tmp_path / "upload"
    upload.mkdir()
    crm = upload / "crm.csv"
    crm.write_text(WITH_MISTAKES, encoding="utf-8")
    with page_server(session) as base:
        browser.get(f"{base}/?key={KEY}")
        # The first load: everything the page needs, from this server only, well under 200 KB.
        size = browser.execute_script(
            "const n = performance.getEntriesByType('navigation')[0], r = performance.getEntriesByType('resource');"
            "return n.decodedBodySize + r.reduce((sum, e) => sum + e.decodedBodySize, 0);")  # fmt: skip
        assert 0 < size < 200_000
        assert all(u.startswith(base) for u in browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"))  # fmt: skip
        # 1. A file with mistakes: chosen, it is uploaded and checked at once.
        browser.find_element(By.ID, "file-input").send_keys(str(crm))
        _wait(browser, lambda d: d.find_elements(By.ID, "mapping-form"))
        assert "crm.csv" in _text(browser, "files")
        # 2. One column read another way: Mobile is a WhatsApp number here.
        Select(browser.find_element(By.CSS_SELECTOR, "select[data-header='Mobile']")).select_by_value("WHATSAPP")
        browser.find_element(By.ID, "apply-mapping").click()
        _wait(browser, lambda d: "WHATSAPP contact" in _text(d, "columns"))
        _shot(browser, "columns", "columns")
        # 3. The errors: the row, the column, the cell and what to do.
        check = _text(browser, "check")
        assert "invalid-email" in check and "not-an-email" in check and _count(browser, "check", "invalid") == 1
        _shot(browser, "check", "check")
        # The fixed file, dropped again under its name, replaces the first.
        crm.write_text(FIXED, encoding="utf-8")
        browser.find_element(By.ID, "file-input").send_keys(str(crm))
        _wait(browser, lambda d: _count(d, "check", "valid") == 8 and _count(d, "check", "invalid") == 0)
        # 4. Send to the sandbox: 100 % and the counts.
        browser.find_element(By.ID, "send-button").click()
        _wait(browser, lambda d: "Done: 100 %" in _text(d, "job-result"))
        assert _count(browser, "send", "created") == 8
        _shot(browser, "done", "send")
        link = browser.find_element(By.CSS_SELECTOR, "#job-result a[href*='results.csv']").get_attribute("href")
        page_results = httpx.get(link).text
        mapping = tmp_path / "page.mapping.csv"
        mapping.write_text(httpx.get(f"{base}/mapping.csv?key={KEY}").text, encoding="utf-8")
        # The same file and options through the CLI: the same results.csv.
        run = cli(capsys, "import", crm, "--sandbox", "--mapping", mapping, "--report-dir", tmp_path / "cli", "--quiet")
        assert run.code == 0, run.err
        (cli_results,) = (tmp_path / "cli").glob("*/results.csv")
        assert _rows(page_results) == _rows(cli_results.read_text(encoding="utf-8"))

        # 5. A long run, stopped part way: the rest is not_sent.
        crm.write_text(many_rows(40), encoding="utf-8")
        browser.find_element(By.ID, "file-input").send_keys(str(crm))
        _wait(browser, lambda d: _count(d, "check", "valid") == 40)
        browser.find_element(By.ID, "rate").send_keys("240")
        browser.find_element(By.ID, "send-button").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "progress") and "sent " in _text(d, "line")
              and not _text(d, "line").startswith("sent 0/"))  # fmt: skip
        _shot(browser, "progress", "send")
        browser.find_element(By.ID, "stop-button").click()
        _wait(browser, lambda d: "Stopped" in _text(d, "job-result"))
        created, not_sent = _count(browser, "send", "created"), _count(browser, "send", "not_sent")
        assert created >= 1 and not_sent >= 1 and created + not_sent == 40
        _shot(browser, "stopped", "send")

        # 6. Undo it: what it would delete first, then the real one.
        stopped_run = browser.find_element(By.CSS_SELECTOR, "#history table.runs tbody tr td").text.split()[0]
        browser.find_element(By.CSS_SELECTOR, f"#history button[aria-label^='Undo run {stopped_run}']").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "undo-confirm"))
        assert f"Delete these {created} contact(s)" in _text(browser, "undo-confirm")
        _shot(browser, "undo", "send")
        browser.find_element(By.ID, "undo-confirm").click()
        _wait(browser, lambda d: "Undo of run" in _text(d, "job-result") and _count(d, "send", "deleted") == created)
        _shot(browser, "history", "history")
        # A phone-sized window: nothing wider than the screen (wide tables scroll in their own box).
        browser.set_window_size(400, 900)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert time.monotonic() - started < 30
