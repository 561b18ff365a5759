"""The ``topics`` cells ``tag`` writes from cached label JSON equal :func:`json.dumps` of the same topics."""

from __future__ import annotations

import json
import math

import pytest

from evidencenlp.tagging.columns import _one_topic, _topic_json

LABELS = ["Safe", "Well-led", 'a "quoted" label', "accents é ü", "back\\slash", "line\nbreak", "sep\u2028arator"]


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("direction", [None, "positive", 'odd "one"'])
@pytest.mark.parametrize("score", [0.0, 1.0, 0.1234, 5e-05, 1e-05, 0.9999, 12.5])
def test_one_topic_and_topic_json_equal_json_dumps(label: str, direction: str | None, score: float) -> None:
    one = {"key_question": label, "statement": label + " st", "band": "Good", "direction": direction,
           "score": score, "start": 0, "end": 57}
    assert _one_topic(label, label + " st", "Good", direction, score, 57) == json.dumps([one], ensure_ascii=False)
    two = dict(one, start=3, end=11)
    assert _topic_json(**two) == json.dumps(two, ensure_ascii=False)
    assert "[" + ", ".join(_topic_json(**t) for t in (one, two)) + "]" == json.dumps([one, two], ensure_ascii=False)


@pytest.mark.parametrize("score", [math.nan, math.inf, -math.inf])
def test_non_finite_scores_are_written_as_json_dumps_writes_them(score: float) -> None:
    topic = {"key_question": "Safe", "statement": "s", "band": "Good", "direction": None, "score": score,
             "start": 0, "end": 4}
    assert _topic_json(**topic) == json.dumps(topic, ensure_ascii=False)
    assert _one_topic("Safe", "s", "Good", None, score, 4) == json.dumps([topic], ensure_ascii=False)
