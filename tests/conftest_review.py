"""Shared helpers for the review tests: a small deterministic fake suggester and sample notes.

Not a conftest (pytest does not load it by itself): test modules import what they need, e.g.
``from conftest_review import FakeSuggester, write_notes``. The fake returns real
:class:`evidencenlp.suggest.Suggestion` objects, so the store and the UIs see the real contract.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from evidencenlp.frameworks import SAF_ID, FrameworkText
from evidencenlp.matching import Match
from evidencenlp.suggest import BandLabel, Label, Suggestion
from evidencenlp.taxonomy import default_taxonomy

#: keyword → (statement, evidence category, band); the first keyword found in a note wins
RULES: tuple[tuple[str, str, str, str], ...] = (
    ("incident", "safe.learning-culture", "processes", "good"),
    ("safeguarding", "safe.safeguarding", "staff_leaders_feedback", "requires_improvement"),
    ("medicine", "safe.medicines-optimisation", "processes", "inadequate"),
    ("kind", "caring.kindness-compassion-and-dignity", "people_experience", "outstanding"),
    ("care plan", "effective.assessing-needs", "processes", "requires_improvement"),
    ("leader", "well-led.capable-compassionate-and-inclusive-leaders", "staff_leaders_feedback", "good"),
)
DEFAULT_RULE = ("", "responsive.person-centred-care", "observation", "good")
ALTERNATIVES = ("effective.assessing-needs", "safe.safe-environments", "caring.treating-people-as-individuals")

NOTES: tuple[str, ...] = (
    "Ward manager showed incident log; themes fed back monthly and actions closed.",
    "Two staff could not describe how to raise a safeguarding concern out of hours.",
    "Medicine fridge temperatures not recorded for 9 days in March.",
    "Relative said staff are kind and always knock before entering. Call Mrs Jones on 01632 960123.",
    "Care plan for room 4 not reviewed since admission despite weight loss.",
    "Staff said leaders are visible and approachable on night shifts.",
)


def _score(text: str, salt: str) -> float:
    """A stable pseudo-random number in [0.35, 0.95) from the text."""
    digest = hashlib.sha256(f"{salt}:{text}".encode()).digest()
    return 0.35 + (digest[0] / 255) * 0.6


class FakeSuggester:
    """Keyword rules that produce full :class:`Suggestion` objects; counts notes it was asked about."""

    model_version = "fake-0001"
    framework_versions: ClassVar[dict[str, str]] = {SAF_ID: "2023.1", "crosswalk": "test"}

    def __init__(self) -> None:
        self.calls = 0
        self.notes_seen = 0

    def suggest_many(self, texts: Sequence[str | None]) -> list[Suggestion | None]:
        """One suggestion per non-blank text (None for blank)."""
        self.calls += 1
        out: list[Suggestion | None] = []
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                out.append(None)
                continue
            self.notes_seen += 1
            out.append(self.suggest(text))
        return out

    def suggest(self, text: str) -> Suggestion:
        """The suggestion for one note."""
        low = text.lower()
        _, statement, category, band = next((r for r in RULES if r[0] in low), DEFAULT_RULE)
        taxonomy = default_taxonomy()
        kq = taxonomy.key_question_of(statement)
        s = _score(text, "statement")
        alternatives = [a for a in ALTERNATIVES if a != statement][:2]
        top3 = (Label(statement, s), Label(alternatives[0], (1 - s) * 0.6), Label(alternatives[1], (1 - s) * 0.3))
        b = _score(text, "band")
        rest = (1 - b) / 3
        probabilities = {name: (b if name == band else rest) for name in taxonomy.bands}
        evidence = Match(FrameworkText(SAF_ID, statement, "quality_statement",
                                       f"We statement for {statement}: what good looks like.", kq, None, "test"),
                         0.61)
        principles = (Label("person_centred", 0.7),) if band == "outstanding" else ()
        return Suggestion(
            text=text, key_question=Label(kq, min(0.99, s + 0.1)), statement=Label(statement, s),
            statement_top3=top3, evidence_category=Label(category, 0.8),
            band=BandLabel(band, b, probabilities), principles=principles, evidence=(evidence,), sentences=(),
            needs_review=s < 0.5 or b < 0.45, model_version=self.model_version, redactions={},
        )


class StraySuggester(FakeSuggester):
    """Suggestions as older data may hold them (``stray`` picks which).

    - ``"key_question"``: each statement paired with another key question than its own;
    - ``"statement"``: a statement the frameworks do not have (retired since);
    - ``"abstain"``: no labels at all (the tool abstained, ``reason`` says why).
    """

    RETIRED = "safe.a-statement-retired-since"

    def __init__(self, stray: str = "key_question") -> None:
        super().__init__()
        self.stray = stray

    def suggest(self, text: str) -> Suggestion:
        """The fake suggestion, made stray."""
        s = super().suggest(text)
        if self.stray == "abstain":
            return dataclasses.replace(s, key_question=None, statement=None, statement_top3=(), evidence_category=None,
                                       band=None, principles=(), evidence=(), needs_review=True, reason="no_content")
        if self.stray == "statement":
            return dataclasses.replace(s, statement=Label(self.RETIRED, s.statement.score))
        other = next(k for k in default_taxonomy().key_questions if k != s.key_question.label)
        return dataclasses.replace(s, key_question=Label(other, s.key_question.score))


def write_notes(path: Path, notes: Sequence[str] = NOTES, extra: dict[str, Sequence[str]] | None = None) -> Path:
    """Write ``notes`` as a CSV with ``note_id`` and ``text`` columns (plus ``extra`` columns)."""
    import csv

    columns = {"note_id": [f"N{i + 1:03d}" for i in range(len(notes))], "text": list(notes), **(extra or {})}
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(columns))
        for i in range(len(notes)):
            writer.writerow([columns[c][i] for c in columns])
    return path


class BlockingSuggester(FakeSuggester):
    """Waits in ``suggest_many`` until ``release`` is set (at most ``timeout`` s); ``entered`` tells it is waiting."""

    def __init__(self, timeout: float = 20) -> None:
        super().__init__()
        import threading

        self.entered, self.release, self.timeout = threading.Event(), threading.Event(), timeout

    def suggest_many(self, texts: Sequence[str | None]) -> list[Suggestion | None]:
        """Block, then suggest as the fake does."""
        self.entered.set()
        self.release.wait(self.timeout)
        return super().suggest_many(texts)


class MixedSuggester(FakeSuggester):
    """The fake suggester, abstaining (``no_content``) on notes that contain :data:`ABSTAIN_MARK`."""

    ABSTAIN_MARK = "n/a"

    def suggest(self, text: str) -> Suggestion:
        """The fake suggestion, or an abstention."""
        s = super().suggest(text)
        if self.ABSTAIN_MARK not in text.lower():
            return s
        return dataclasses.replace(s, key_question=None, statement=None, statement_top3=(), evidence_category=None,
                                   band=None, principles=(), evidence=(), needs_review=True, reason="no_content")
