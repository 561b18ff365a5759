"""The summary report in a real headless Chromium: self-contained, alerts first, charts drawn, no console errors.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/install-browser.sh``); skipped, with
the reason, only when those binaries do not exist. The screenshot is kept in the test's tmp folder (and
copied to ``EVIDENCENLP_SCREENSHOT`` when set).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from evidencenlp.trends import summarise_frame
from evidencenlp.trends_report import write_report
from test_summarise import TAX, normal, tagged_frame

pytestmark = pytest.mark.browser

CHROMIUM = next((p for p in (os.environ.get("CHROMIUM_BIN"), "/usr/bin/chromium", shutil.which("chromium"),
                             shutil.which("chromium-browser"), shutil.which("google-chrome")) if p and os.path.exists(p)),
                None)
CHROMEDRIVER = next((p for p in (os.environ.get("CHROMEDRIVER_BIN"), "/usr/bin/chromedriver",
                                 shutil.which("chromedriver")) if p and os.path.exists(p)), None)
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,1600")


@pytest.fixture()
def browser(tmp_path: Path):
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("no chromium/chromedriver binary found (install the Debian packages chromium and "
                    "chromium-driver, e.g. with .ci/install-browser.sh)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chrome-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_in_headless_chromium(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    kq = TAX.key_questions[0]
    frame = tagged_frame(seed=5, months=6, locations=("Ashby", "Bramley", "Corton"), shift={("Bramley", kq, 5): 0.75})
    frame.loc[frame.index[-1], "text"] = "<script>alert('x')</script> ring 07700 900123"
    frame.loc[0, "date"] = "last Tuesday"
    summary = summarise_frame(normal(frame), TAX)
    assert summary.alerts
    page = write_report(summary, tmp_path / "summary.html")
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "the page must be self-contained"
    assert "<script>alert" not in html and "07700" not in html

    browser.get(page.as_uri())
    headings = [h.get_attribute("id") for h in browser.find_elements(By.CSS_SELECTOR, "h2")]
    assert headings[:2] == ["alerts", "locations"]  # alerts come first
    first = browser.find_element(By.CSS_SELECTOR, ".alert")
    assert "Bramley" in first.text and first.get_attribute("data-direction") == "worse"
    assert first.find_elements(By.TAG_NAME, "blockquote"), "alerts show their example comments"
    assert "undated" in browser.find_element(By.ID, "undated").text
    sections = browser.find_elements(By.CSS_SELECTOR, "section.location")
    assert len(sections) == 3 and "Bramley" in sections[0].text  # the alerted location first
    images = browser.find_elements(By.CSS_SELECTOR, "section.location img")
    assert len(images) == 9
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 100", im)
               for im in images)
    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == []
    shot = tmp_path / "summary.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("EVIDENCENLP_SCREENSHOT"):
        shutil.copy(shot, os.environ["EVIDENCENLP_SCREENSHOT"])
