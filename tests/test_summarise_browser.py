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

from browser_support import chromium
from evidencenlp.trends import summarise_frame
from evidencenlp.trends.report import write_report
from test_summarise import TAX, normal, tagged_frame

pytestmark = pytest.mark.browser


@pytest.fixture()
def browser(tmp_path: Path):
    with chromium(tmp_path, window="1280,1600", page_load_timeout=60, browser_log=True) as driver:
        yield driver


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
    assert browser.find_elements(By.CSS_SELECTOR, "#compare img"), "a chart compares the locations"
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
