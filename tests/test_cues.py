"""Wording cues: negated adverse events."""

from __future__ import annotations

import pytest

from evidencenlp.cues import MARKER, cue_features, negated_adverse_count, with_markers


@pytest.mark.parametrize("text,count", [
    ("No falls with harm in the last 12 months.", 1),
    ("zero missed visits since the new rota; no complaints this year", 2),
    ("no hospital-onset C. difficile cases this year", 1),
    ("No category 3/4 hospital-acquired pressure ulcers for 20 months", 1),
    ("0 medication errors in March", 1),
    ("There is no care plan for his diabetes.", 0),
    ("No evidence of learning from incidents.", 0),
    ("no record of falls being reviewed", 0),
    ("No staff had safeguarding training.", 0),
    ("Falls rose to 9 a month.", 0),
])
def test_negated_adverse_events(text: str, count: int) -> None:
    assert negated_adverse_count(text) == count


def test_features_and_markers() -> None:
    texts = ["no falls, no errors, no complaints, no delays", "no care plan"]
    assert cue_features(texts).tolist() == [[3.0], [0.0]]  # capped at 3
    assert with_markers(texts)[0].endswith(" ".join([MARKER] * 4))
    assert with_markers(texts)[1] == "no care plan"
