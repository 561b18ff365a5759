"""End to end in a real headless Chromium: load a file, confirm one note, correct another, reload, label an
abstained note by hand, and follow the indicative rating's links to notes.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/install-browser.sh``); the
test is skipped, with the reason, only when those binaries do not exist. Set
``EVIDENCENLP_SCREENSHOT=/path/file.png`` to keep a screenshot of the final page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import chromium, serve
from conftest_review import MixedSuggester, write_notes
from evidencenlp.review.store import ReviewStore
from evidencenlp.web import create_app

pytestmark = pytest.mark.browser

#: the second note's suggested band is "good", so pressing 3 (requires improvement) is a correction
BROWSER_NOTES = (
    "Ward manager showed incident log; themes fed back monthly and actions closed.",
    "Staff said leaders are visible and approachable on night shifts.",
    "Medicine fridge temperatures not recorded for 9 days in March.",
    "N/A",  # the suggester abstains on this one (no_content): no labels at all
)


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "review.sqlite"
    with serve(create_app(db, suggester=MixedSuggester(), upload_dir=tmp_path / "uploads")) as url:
        yield url, db


@pytest.fixture()
def browser(tmp_path: Path):
    with chromium(tmp_path, window="1440,900", page_load_timeout=30) as driver:
        yield driver


def test_load_confirm_correct_reload(server: tuple[str, Path], browser, tmp_path: Path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, db = server
    wait = WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,))
    notes = write_notes(tmp_path / "visit-notes.csv", BROWSER_NOTES)

    def status_of(row: int) -> str | None:  # read in one script: the queue may be re-rendered meanwhile
        return browser.execute_script(
            "const li = document.querySelector(`#queue li:nth-child(${arguments[0]})`);"
            "return li ? li.dataset.status : null;", row)

    def press(key: str) -> None:
        browser.find_element(By.TAG_NAME, "body").send_keys(key)

    browser.get(url)
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    assert browser.find_element(By.ID, "empty").is_displayed()

    # who is deciding
    name = browser.find_element(By.ID, "inspector")
    name.clear()
    name.send_keys("Browser Inspector", Keys.TAB)

    # load a file from the page
    browser.find_element(By.ID, "open-import").click()
    wait.until(ec.visibility_of_element_located((By.ID, "import-file")))
    browser.find_element(By.ID, "import-file").send_keys(str(notes))
    browser.find_element(By.ID, "import-assessment").send_keys("Oak House visit")
    browser.find_element(By.ID, "import-go").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue li")) == len(BROWSER_NOTES))
    wait.until(ec.invisibility_of_element_located((By.ID, "import-dialog")))
    wait.until(ec.visibility_of_element_located((By.ID, "note-text")))
    assert "incident log" in browser.find_element(By.ID, "note-text").text
    assert "We statement for safe.learning-culture" in browser.find_element(By.ID, "why-text").text

    # confirm the first suggestion with Enter
    press(Keys.ENTER)
    wait.until(lambda d: status_of(1) == "accepted")
    wait.until(lambda d: "leaders are visible" in d.find_element(By.ID, "note-text").text)

    # correct the second: 3 = requires improvement, then Enter
    press("3")
    selected = browser.find_element(By.CSS_SELECTOR, "#bands .choice.selected")
    assert selected.get_attribute("data-band") == "requires_improvement"
    press(Keys.ENTER)
    wait.until(lambda d: status_of(2) == "corrected")

    # reload: both decisions are kept
    browser.refresh()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue li")) == len(BROWSER_NOTES))
    assert [status_of(i) for i in (1, 2, 3, 4)] == ["accepted", "corrected", "pending", "pending"]
    browser.find_element(By.CSS_SELECTOR, "#queue li:nth-child(2)").click()
    wait.until(lambda d: d.find_element(By.ID, "note-status").text == "corrected")
    assert browser.find_element(By.CSS_SELECTOR, "#bands .choice.selected").get_attribute(
        "data-band") == "requires_improvement"
    assert "1 of 4 confirmed" not in browser.find_element(By.ID, "progress-text").text
    assert "2 of 4 confirmed" in browser.find_element(By.ID, "progress-text").text
    summary = browser.find_element(By.ID, "summary").text
    assert "Safe" in summary and "Learning culture (1)" in summary

    # the indicative rating panel: labelled as such, one row per key question, its notes are links
    panel = browser.find_element(By.CSS_SELECTOR, ".summary-pane")
    assert "indicative, for the inspector's judgement" in panel.text
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rating .kq-rating[data-kq='safe'] .note-link"))
    link = browser.find_element(By.CSS_SELECTOR, "#rating .kq-rating[data-kq='safe'] .note-link")
    target = int(link.get_attribute("data-note"))
    link.click()
    wait.until(lambda d: d.execute_script("return location.hash").endswith(f"n={target}"))

    # the abstained note: shown as "no suggestion (no content)"; the inspector picks every label
    browser.get_log("browser")  # start the log afresh (reading it empties it)
    browser.find_element(By.CSS_SELECTOR, "#queue li:nth-child(4)").click()
    wait.until(lambda d: "no suggestion (no content)" in d.find_element(By.ID, "statement-current").text)
    assert "abstained" in browser.find_element(By.ID, "why-text").text
    assert browser.find_elements(By.CSS_SELECTOR, "#bands .choice.selected") == []
    press(Keys.ENTER)  # nothing chosen yet: refused with a message, nothing saved
    wait.until(lambda d: "choose a statement" in d.find_element(By.ID, "message").text)
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "statement-select")).select_by_value("safe.safeguarding")
    wait.until(lambda d: "Safeguarding" in d.find_element(By.ID, "statement-current").text)
    assert "Safe" in browser.find_element(By.ID, "statement-current").text  # key question from /api/meta
    browser.find_element(By.TAG_NAME, "body").click()
    press("2")
    browser.find_element(By.CSS_SELECTOR, "#categories .choice[data-category='processes']").click()
    press(Keys.ENTER)
    wait.until(lambda d: status_of(4) == "corrected")
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]
    assert severe == [], severe  # no script error on a note without labels

    shot = os.environ.get("EVIDENCENLP_SCREENSHOT")
    if shot:
        browser.save_screenshot(shot)

    with ReviewStore.open(db) as store:
        decisions = store.conn.execute("SELECT action, band, inspector, client FROM decisions ORDER BY id").fetchall()
    assert [tuple(d) for d in decisions] == [("accepted", "good", "Browser Inspector", "web"),
                                             ("corrected", "requires_improvement", "Browser Inspector", "web"),
                                             ("corrected", "good", "Browser Inspector", "web")]
    with ReviewStore.open(db) as store:
        abstained = store.note(store.queue()[3].note_id)
        assert abstained.current.key_question == "safe" and abstained.current.evidence_category == "processes"
        assert store.verify().ok
