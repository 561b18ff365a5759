"""One distribution behind every display of statements, and ``evaluate`` scoring exactly what ``tag`` shows.

- :func:`decide` / :func:`statement_ranking` (pure): for any joint distribution the suggested statement is
  its most probable one, the ranking is sorted and starts with it, and the key question is its own;
- every real :class:`Suggestion` (notes and their sentences): ``statement_top3`` sorted, first = ``statement``;
- ``tag`` on a small labelled file and ``evaluate --data`` on the same file agree note by note.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evidencenlp.classifier import decide, joint, statement_ranking

KQS = ("safe", "effective", "caring")
STATEMENT_KQ = ("safe", "safe", "effective", "effective", "effective", "caring", "caring")

probabilities = arrays(np.float64, st.tuples(st.integers(1, 6), st.just(len(STATEMENT_KQ))),
                       elements=st.floats(0.0, 1.0, allow_nan=False)).map(lambda a: a + 1e-9)
kq_probabilities = arrays(np.float64, st.tuples(st.just(1), st.just(len(KQS))),
                          elements=st.floats(0.0, 1.0, allow_nan=False)).map(lambda a: a + 1e-9)


@settings(max_examples=200, deadline=None)
@given(statement=probabilities, kq=kq_probabilities, temperature=st.floats(0.3, 5.0))
def test_the_suggestion_is_the_most_probable_statement_displayed(statement, kq, temperature) -> None:
    kq = np.repeat(kq, len(statement), axis=0)
    p, marginal = joint(statement / statement.sum(1, keepdims=True), kq / kq.sum(1, keepdims=True), STATEMENT_KQ,
                        KQS, temperature)
    st_idx, kq_idx = decide(p, STATEMENT_KQ, KQS)
    ranking = statement_ranking(p, 3)
    for row in range(len(p)):
        shown = p[row, ranking[row]]
        assert list(shown) == sorted(shown, reverse=True)       # sorted, best first
        assert ranking[row, 0] == st_idx[row]                     # the suggestion is first
        assert shown[0] == p[row].max()                           # and nothing displayed is above it
        assert KQS[kq_idx[row]] == STATEMENT_KQ[st_idx[row]]      # within the suggested key question
        assert np.isclose(marginal[row].sum(), 1.0)


NOTES = [  # one note per statement label, so identical confusion matrices mean identical predictions per note
    ("The MAR charts had gaps on 4 days and two doses of insulin were not signed for.",
     "safe.medicines-optimisation"),
    ("Call bells rang for over 20 minutes at night; there were two care staff for 30 residents. Call Jane on "
     "07700 900123.", "safe.safe-and-effective-staffing"),
    ("Staff knocked before entering rooms and spoke to residents kindly and with respect.",
     "caring.kindness-compassion-and-dignity"),
    ("People waited up to 14 weeks for a first appointment and the complaints log showed no responses.",
     "responsive.providing-information"),
    ("The registered manager carried out monthly audits and acted on what they found.",
     "well-led.governance-management-and-sustainability"),
    ("Care plans were reviewed with people and their families and reflected what mattered to them.",
     "responsive.person-centred-care"),
    ("N/A", "effective.assessing-needs"),  # tag abstains: no suggestion, scored as a miss
]


@pytest.mark.slow
def test_evaluate_scores_exactly_what_tag_shows(suggester, tmp_path: Path) -> None:
    from evidencenlp.evaluation.run import EvaluationOptions, evaluate
    from evidencenlp.tabular import read_table, write_table
    from evidencenlp.tagging import tag_file

    taxonomy = suggester.index.taxonomy
    frame = pd.DataFrame({"text": [t for t, _ in NOTES], "statement": [s for _, s in NOTES]})
    frame["key_question"] = [taxonomy.key_question_of(s) for s in frame["statement"]]
    src, out = tmp_path / "labelled.csv", tmp_path / "tagged.csv"
    write_table(frame, src)
    tag_file(suggester, src, out, "text", prefix="suggested_")
    tagged = read_table(out).fillna("")
    ev = evaluate(EvaluationOptions(data=src, models=("heads",)), index=suggester.index)
    for task in ("statement", "key_question"):
        result = ev.results["heads"][task]
        truth = frame[task].to_numpy(dtype=object)
        shown = tagged[f"suggested_{task}"].astype(str).to_numpy(dtype=object)
        labels = list(result.labels)
        expected = np.zeros((len(labels), len(labels)), dtype=int)
        for t, p in zip(truth, shown):
            expected[labels.index(t), labels.index(p)] += 1
        assert np.array_equal(np.asarray(result.confusion), expected), task
        assert result.accuracy == pytest.approx(float(np.mean(truth == shown)))
    statements = [s for _, s in NOTES]
    assert len(set(statements)) == len(statements)
