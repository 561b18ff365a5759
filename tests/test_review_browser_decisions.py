"""No decision is ever lost: an inspector clicks through 50 notes in a real headless Chromium, with corrections.

The rating panel is made slow (as it is with the real model, which encodes framework sentences), and the
decision requests go through a flaky link: some never reach the server (503), and for some the server
stores the decision but the answer is lost (502). Every click must end up stored exactly once, in the order
clicked, and the decision log must verify intact. Once at fast clicking (as soon as the next note shows),
and once at a human pace (slow-marked).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import chromium, serve
from conftest_review import FakeSuggester, write_notes
from evidencenlp.review.store import ReviewStore
from evidencenlp.web import create_app

pytestmark = pytest.mark.browser

N_NOTES = 50
ASSESSMENT = "Fifty notes"
#: seconds the indicative rating takes to answer (the real one encodes framework text)
SLOW_RATING = 2.0
TOPICS = ("call bells answered slowly at night", "medicines stored and recorded well", "staff kind and patient",
          "care plans reviewed monthly with families", "complaints answered within a week")


class FlakyDecisions:
    """ASGI wrapper: of the decision requests, every 7th never reaches the app (503) and every 11th is stored
    by the app but its answer is replaced by a 502 (the page must find out that it was stored)."""

    def __init__(self, app: Any) -> None:
        self.app, self.seen, self.dropped, self.lost = app, 0, 0, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or not re.match(r"^/api/notes/\d+/", path):
            await self.app(scope, receive, send)
            return
        self.seen += 1
        if self.seen % 7 == 0:
            self.dropped += 1
            await _reply(send, 503)
            return
        if self.seen % 11 == 0:
            self.lost += 1

            async def swallow(message: dict[str, Any]) -> None:
                return None

            await self.app(scope, receive, swallow)
            await _reply(send, 502)
            return
        await self.app(scope, receive, send)


async def _reply(send: Any, status: int) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"detail": "bad gateway"}'})


@pytest.fixture()
def slow_rating(monkeypatch: pytest.MonkeyPatch) -> None:
    import evidencenlp.assess as assess

    real = assess.assess_store

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(SLOW_RATING)
        return real(*args, **kwargs)

    monkeypatch.setattr(assess, "assess_store", slow)


@pytest.fixture()
def fifty(tmp_path: Path, slow_rating: None) -> Iterator[tuple[str, Path, FlakyDecisions]]:
    db = tmp_path / "review.sqlite"
    texts = [f"Visit note {i + 1:02d}: {TOPICS[i % len(TOPICS)]}." for i in range(N_NOTES)]
    with ReviewStore.open(db) as store:
        store.import_notes(write_notes(tmp_path / "fifty.csv", texts), "text", FakeSuggester(), assessment=ASSESSMENT)
    flaky = FlakyDecisions(create_app(db, suggester=FakeSuggester(), upload_dir=tmp_path / "uploads"))
    with serve(flaky) as url:
        yield url, db, flaky


def click_through(browser: Any, url: str, pause: float) -> dict[int, str]:
    """Confirm every note in file order (every 5th corrected to another evidence category); returns the
    corrections by note position. ``pause``: seconds between seeing a note and deciding."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,))
    browser.get(url)
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    name = browser.find_element(By.ID, "inspector")
    name.clear()
    name.send_keys("Fast Inspector", Keys.ENTER)  # Enter in the name field gives the keys back to the page
    wait.until(lambda d: d.execute_script("return document.activeElement === document.body"))

    corrections: dict[int, str] = {}
    for i in range(N_NOTES):
        label = f"Visit note {i + 1:02d}"
        try:
            wait.until(lambda d, label=label: label in d.find_element(By.ID, "note-text").text)
        except TimeoutException:  # say where the page stood (fake notes: no personal data)
            state = browser.execute_script(
                "return {active: document.activeElement && document.activeElement.id, "
                "dialog: document.getElementById('import-dialog').open, "
                "message: document.getElementById('message').textContent, "
                "progress: document.getElementById('progress-text').textContent, "
                "shown: document.getElementById('note-pos').textContent}")
            raise AssertionError(f"note {i + 1} never showed: {state}") from None
        if pause:
            time.sleep(pause)
        if i % 5 == 2:  # a correction: another evidence category, then the Confirm button
            current = browser.find_element(By.CSS_SELECTOR, "#categories .choice.selected").get_attribute(
                "data-category")
            other = next(b for b in browser.find_elements(By.CSS_SELECTOR, "#categories .choice")
                         if b.get_attribute("data-category") != current)
            corrections[i] = other.get_attribute("data-category")
            other.click()
            browser.find_element(By.ID, "confirm").click()
        elif i % 2:
            browser.find_element(By.ID, "confirm").click()
        else:
            browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)

    # the outbox drains and the counter catches up, with nothing else clicked
    wait = WebDriverWait(browser, 90, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: f"{N_NOTES} of {N_NOTES} confirmed" in d.find_element(By.ID, "progress-text").text
               and "saving" not in d.find_element(By.ID, "progress-text").text)
    assert "0 need review" in browser.find_element(By.ID, "progress-text").text
    assert not browser.execute_script("return localStorage.length && Object.keys(localStorage)"
                                      ".filter((k) => k.startsWith('evidencenlp.outbox.'))"
                                      ".some((k) => JSON.parse(localStorage.getItem(k)).length)")
    return corrections


def check_stored(db: Path, corrections: dict[int, str]) -> None:
    """Every note has exactly one decision, of the kind and labels clicked, and the log verifies intact."""
    with ReviewStore.open(db) as store:
        items = store.queue(store.assessment(ASSESSMENT).id, "file")
        assert len(items) == N_NOTES
        for i, item in enumerate(items):
            note = store.note(item.note_id)
            assert [d.action for d in note.history] == (["corrected"] if i in corrections else ["accepted"]), i
            if i in corrections:
                assert note.current.evidence_category == corrections[i]
            assert note.current.inspector == "Fast Inspector"
        assert store.verify().ok


def test_fifty_notes_at_fast_clicking_none_lost(fifty: tuple[str, Path, FlakyDecisions], tmp_path: Path) -> None:
    url, db, flaky = fifty
    with chromium(tmp_path, window="1440,1800", page_load_timeout=30) as browser:
        corrections = click_through(browser, url, pause=0.0)
    assert flaky.dropped and flaky.lost  # the flaky link really interfered
    check_stored(db, corrections)


@pytest.mark.slow
def test_fifty_notes_at_human_pace_none_lost(fifty: tuple[str, Path, FlakyDecisions], tmp_path: Path) -> None:
    url, db, flaky = fifty
    with chromium(tmp_path, window="1440,1800", page_load_timeout=30) as browser:
        corrections = click_through(browser, url, pause=1.2)
    assert flaky.dropped and flaky.lost
    check_stored(db, corrections)
