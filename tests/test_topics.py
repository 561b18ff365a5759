"""Topics of multi-topic notes: the pooling rule over arrays, the scoring of the topics evaluation,
and (slow) the Suggester's ``topics`` with the shipped model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from evidencenlp.evaluation.topics import (
    TopicCounts,
    build_texts,
    count_topics,
    multilabel_macro_f1,
    top_k_sets,
)
from evidencenlp.topics import (
    TopicGroup,
    pool_topics,
    pooled_rows,
    sentence_offsets,
    split_by_direction,
    with_note_direction,
)

if TYPE_CHECKING:
    from evidencenlp.classifier import ClassifierOutput
    from evidencenlp.suggest import Suggester
    from evidencenlp.topics import TopicGroup

# key question columns in these tests: 0, 1, 2, 3


def test_one_sentence_gives_one_topic_from_the_whole_note() -> None:
    whole = np.array([0.1, 0.6, 0.2, 0.1])
    for sentences in (np.zeros((0, 4)), np.array([[0.9, 0.05, 0.03, 0.02]])):
        groups = pool_topics(whole, sentences, threshold=0.5, whole_weight=0.0)
        assert len(groups) == 1
        assert groups[0].key_question == 1 and groups[0].members == () and groups[0].score == pytest.approx(0.6)


def test_sentences_about_one_key_question_keep_one_topic() -> None:
    whole = np.array([0.7, 0.1, 0.1, 0.1])
    sentences = np.array([[0.8, 0.1, 0.05, 0.05], [0.6, 0.3, 0.05, 0.05]])
    groups = pool_topics(whole, sentences, threshold=0.5, whole_weight=0.0)
    assert [(g.key_question, g.members) for g in groups] == [(0, ())]


def test_a_confident_sentence_about_another_key_question_adds_a_topic() -> None:
    whole = np.array([0.55, 0.35, 0.05, 0.05])
    sentences = np.array([[0.9, 0.05, 0.03, 0.02], [0.1, 0.85, 0.03, 0.02], [0.2, 0.1, 0.45, 0.25]])
    groups = pool_topics(whole, sentences, threshold=0.5, whole_weight=0.0)
    assert [g.key_question for g in groups] == [0, 1]  # main first; key question 2 (0.45) is below the threshold
    assert groups[1].members == (1,) and groups[1].best == 1 and groups[1].score == pytest.approx(0.85)
    # the sentence about key question 2 joins the kept topic it gives the higher probability (0)
    assert groups[0].members == (0, 2)
    # a lower threshold lets it through, ordered by score after the main topic
    groups = pool_topics(whole, sentences, threshold=0.4, whole_weight=0.0)
    assert [g.key_question for g in groups] == [0, 1, 2]


def test_whole_weight_pools_the_whole_note_into_the_score() -> None:
    whole = np.array([0.8, 0.1, 0.05, 0.05])
    sentences = np.array([[0.9, 0.05, 0.03, 0.02], [0.1, 0.7, 0.1, 0.1]])
    assert len(pool_topics(whole, sentences, threshold=0.5, whole_weight=0.0)) == 2
    # 0.5 * 0.1 + 0.5 * 0.7 = 0.4 < 0.5
    assert len(pool_topics(whole, sentences, threshold=0.5, whole_weight=0.5)) == 1
    with pytest.raises(ValueError, match="whole_weight"):
        pool_topics(whole, sentences, whole_weight=1.5)


def test_main_topic_no_sentence_is_about_keeps_its_likeliest_sentence_as_evidence() -> None:
    whole = np.array([0.5, 0.25, 0.25, 0.0])
    sentences = np.array([[0.3, 0.6, 0.1, 0.0], [0.35, 0.05, 0.6, 0.0]])
    groups = pool_topics(whole, sentences, threshold=0.5, whole_weight=0.0)
    assert [g.key_question for g in groups] == [0, 1, 2]
    assert groups[0].best == 1 and groups[0].members == (1,)
    assert groups[0].score == pytest.approx(0.5)


def test_any_segment_lets_a_second_key_question_of_a_segment_through() -> None:
    whole = np.array([0.6, 0.2, 0.1, 0.1])
    # no segment gives key question 1 its highest probability, but the second gives it 0.45
    sentences = np.array([[0.9, 0.05, 0.03, 0.02], [0.5, 0.45, 0.03, 0.02]])
    assert [g.key_question for g in pool_topics(whole, sentences, threshold=0.4, whole_weight=0.0,
                                                any_segment=False)] == [0]
    groups = pool_topics(whole, sentences, threshold=0.4, whole_weight=0.0, any_segment=True)
    assert [g.key_question for g in groups] == [0, 1]
    assert groups[0].members == (0, 1)  # both segments are mostly about the main topic ...
    assert groups[1].members == (1,) and groups[1].best == 1  # ... the new one's evidence is the likeliest
    assert groups[1].score == pytest.approx(0.45)
    assert len(pool_topics(whole, sentences, threshold=0.5, whole_weight=0.0, any_segment=True)) == 1


def test_pooled_rows_is_the_mean_of_the_members() -> None:
    proba = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    assert pooled_rows(proba, [0, 2]) == pytest.approx([0.75, 0.25])
    assert pooled_rows(proba, [0, 1], weights=[3.0, 1.0]) == pytest.approx([0.75, 0.25])
    assert pooled_rows(proba, [0, 1], weights=[0.0, 0.0]) == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError):
        pooled_rows(proba, [])


def test_sentence_offsets_are_found_in_order_and_missing_ones_are_none() -> None:
    text = "Staff were kind. The wait was long. Staff were kind."
    offsets = sentence_offsets(text, ["Staff were kind.", "The wait was long.", "Staff were kind.", "Not here."])
    assert offsets[:3] == [(0, 16), (17, 35), (36, 52)]
    assert [text[a:b] for a, b in offsets[:3]] == ["Staff were kind.", "The wait was long.", "Staff were kind."]
    assert offsets[3] is None


def test_count_topics_recall_precision_and_direction() -> None:
    true = [[("caring", "positive"), ("responsive", "negative")], [("safe", "")]]
    pred = [[("caring", "positive"), ("responsive", "positive"), ("well-led", "negative")], [("effective", "")]]
    c = count_topics(true, pred)
    assert c == TopicCounts(texts=2, true=3, predicted=4, found=2, correct_predicted=2, with_polarity=2,
                            direction_right=1, polar_true=2, direction_predicted=2, direction_predicted_right=1)
    f = c.figures()
    assert f["recall"] == pytest.approx(2 / 3) and f["precision"] == pytest.approx(0.5)
    assert f["topics_per_true_topic"] == pytest.approx(4 / 3) and f["direction_per_topic"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        count_topics(true, pred[:1])


def test_count_topics_pairs_directions_one_to_one_within_a_key_question() -> None:
    kind_and_rude = [[("caring", "positive"), ("caring", "negative")]]
    one = count_topics(kind_and_rude, [[("caring", "negative")]])  # one topic cannot be right both ways
    assert (one.found, one.with_polarity, one.direction_right) == (2, 2, 1)
    split = count_topics(kind_and_rude, [[("caring", "negative"), ("caring", "positive")]])
    assert split.direction_right == 2 and split.figures()["direction_precision"] == 1.0
    # a split the text does not hold: the true topic finds its partner, the other direction costs precision
    spurious = count_topics([[("caring", "negative")]], [[("caring", "positive"), ("caring", "negative")]])
    assert spurious.direction_right == 1 and spurious.figures()["direction_precision"] == 0.5
    assert spurious.figures()["topics_per_true_topic"] == 2.0
    # more true topics than predicted ones: the one left over is compared with the first predicted topic
    three = count_topics([[("safe", "negative"), ("safe", "positive"), ("safe", "negative")]],
                         [[("safe", "positive"), ("safe", "negative")]])
    assert three.direction_right == 2 + 0 and three.with_polarity == 3


def test_multilabel_macro_f1_and_top_k() -> None:
    true = [{"a", "b"}, {"c"}]
    assert multilabel_macro_f1(true, true, ["a", "b", "c"]) == pytest.approx(1.0)
    # a: tp 1 of (1 + 1); b: missed (0); c: predicted twice, true once: 2*1/3
    got = multilabel_macro_f1(true, [{"a", "c"}, {"c"}], ["a", "b", "c"])
    assert got == pytest.approx((1.0 + 0.0 + 2 / 3) / 3)
    proba = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
    assert top_k_sets(proba, ["a", "b", "c"], [2, 1]) == [{"b", "c"}, {"a"}]


def test_choose_setting_by_f1_or_by_recall_within_the_topic_budget() -> None:
    from evidencenlp.evaluation.topics import FoldTopics, TopicsResult, choose_setting

    texts = pd.DataFrame({"kind": ["composite", "composite", "single", "single"], "size": [2, 2, 1, 1],
                          "text": ["a", "b", "c", "d"],
                          "topics": [[("safe", ""), ("caring", "")], [("effective", ""), ("caring", "")],
                                     [("safe", "")], [("caring", "")]]})
    careful, loose, wild = (0.5, 0.5, False), (0.3, 0.0, False), (0.2, 0.0, True)
    topics = {careful: [[("safe", "")], [("caring", "")], [("safe", "")], [("caring", "")]],  # recall 4/6, 4 topics
              loose: [[("safe", ""), ("caring", "")], [("caring", "")], [("safe", ""), ("well-led", "")],
                      [("caring", ""), ("safe", "")]],  # recall 5/6, 7 topics
              wild: [[("safe", ""), ("caring", ""), ("responsive", "")], [("caring", ""), ("effective", "")],
                     [("safe", ""), ("well-led", ""), ("effective", "")],
                     [("caring", ""), ("safe", ""), ("well-led", "")]]}  # recall 6/6, 11 topics
    fold = FoldTopics("T", texts, topics, np.zeros((4, 5)))
    grid = [careful, loose, wild]
    # topic F1: careful 2*(4/6*1)/(4/6+1) = 0.8; loose 5/6 and 5/7: 0.769; wild 6/6 and 6/11: 0.706
    assert choose_setting([fold], grid, "f1") == careful
    # topics per true topic: 4/6, 7/6, 11/6: wild is over the budget of 1.5, loose has the best recall under it
    assert choose_setting([fold], grid, "recall_within_budget") == loose
    assert choose_setting([fold], grid, "recall_within_budget", budget=0.5) == careful  # none within: F1
    with pytest.raises(ValueError, match="criterion"):
        choose_setting([fold], grid, "nonsense")
    result = TopicsResult(params={"criterion": "recall_within_budget"})
    assert result.to_dict()["alternatives"] == {}


def test_build_texts_joins_comments_of_different_key_questions() -> None:
    comments = pd.DataFrame({"text": [f"comment {i}." for i in range(12)],
                             "key_question": ["caring"] * 6 + ["safe"] * 3 + ["responsive"] * 3,
                             "direction": ["positive", "negative", ""] * 4})
    texts = build_texts(comments, per_size=20, seed=1)
    composites = texts[texts["kind"] == "composite"]
    assert len(composites) == 40 and set(composites["size"]) == {2, 3}
    for _, row in composites.iterrows():
        kqs = [k for k, _ in row["topics"]]
        assert len(kqs) == row["size"] == len(set(kqs))  # different key questions
        assert row["text"].count("comment") == row["size"]
    singles = texts[texts["kind"] == "single"]
    assert singles["text"].tolist() == comments["text"].tolist()
    assert build_texts(comments, per_size=20, seed=1)["text"].tolist() == texts["text"].tolist()  # seeded


# -- the Suggester with the shipped model ----------------------------------------------------------

SINGLE = "The call bell rang for eleven minutes before anyone came. She is often left waiting for help."
MULTI = ("We waited over six hours in the emergency department and nobody told us anything. "
         "The nurses were so kind and gentle with my mother. "
         "The ward was dirty and the toilets were filthy.")


@pytest.mark.slow
def test_single_topic_note_has_one_topic_equal_to_its_main_suggestion(suggester) -> None:
    for text in ("Staff were lovely.", SINGLE):
        s = suggester.suggest(text)
        if len(s.topics) != 1:  # the rule may find two topics in SINGLE: check it is not a one-sentence note
            assert len(s.sentences) > 1
            continue
        t = s.topics[0]
        assert (t.key_question, t.statement, t.band, t.direction) == (s.key_question, s.statement, s.band,
                                                                       s.direction)
        assert (t.start, t.end) == (0, len(s.text)) and t.score == s.key_question.score
    one = suggester.suggest("Staff were lovely.")
    assert len(one.topics) == 1


@pytest.mark.slow
def test_multi_topic_note_topics_are_consistent(suggester) -> None:
    s = suggester.suggest(MULTI)
    d = json.loads(json.dumps(s.to_dict()))
    assert d["topics"] and d["topics"][0]["key_question"]["label"] == s.key_question.label
    kqs = [t["key_question"]["label"] for t in d["topics"]]
    pairs = [(k, t["direction"]["label"]) for k, t in zip(kqs, d["topics"])]
    assert len(set(kqs)) >= 2 and len(pairs) == len(set(pairs))  # a key question twice only split by direction
    for t in d["topics"]:
        assert t["statement"]["label"].split(".")[0] == t["key_question"]["label"]
        ev = t["evidence"]
        assert s.text[ev["start"]:ev["end"]] == ev["text"] and ev["text"]
        assert t["score"] == t["key_question"]["score"]
        assert t["direction"]["label"] in ("positive", "negative")
    # tagging without per-sentence suggestions still gives the same topics
    fast = suggester.suggest_many([MULTI], sentences=False, evidence=False, topics=True)[0]
    assert [t.key_question.label for t in fast.topics] == kqs and fast.sentences == ()
    assert suggester.suggest_many([MULTI], sentences=False)[0].topics == ()


def test_tag_topics_column_is_json_of_the_topics() -> None:
    from evidencenlp.suggest import BandLabel, Label, Suggestion, Topic
    from evidencenlp.tagging import FLAT_COLUMNS, flat_row

    band = BandLabel("good", 0.6, {"outstanding": 0.1, "good": 0.6, "requires_improvement": 0.2, "inadequate": 0.1})
    topics = (Topic(Label("caring", 0.9), Label("caring.kindness-compassion-and-dignity", 0.7), band,
                    Label("positive", 0.8), 0.9, 0, 16, ((0, 16),)),
              Topic(Label("responsive", 0.8), Label("responsive.equity-in-access", 0.5), band,
                    Label("negative", 0.7), 0.8, 17, 35, ((17, 35),)))
    s = Suggestion(text="Staff were kind. The wait was long.", key_question=topics[0].key_question,
                   statement=topics[0].statement, statement_top3=(topics[0].statement,), evidence_category=None,
                   band=band, principles=(), evidence=(), sentences=(), needs_review=False, model_version="x",
                   topics=topics)
    row = flat_row(s)
    assert "topics" in FLAT_COLUMNS
    got = json.loads(row["topics"])
    assert [(t["key_question"], t["direction"], t["start"], t["end"]) for t in got] == [
        ("caring", "positive", 0, 16), ("responsive", "negative", 17, 35)]
    assert s.to_dict()["topics"][1]["evidence"] == {"start": 17, "end": 35, "text": "The wait was long."}


# -- summarise counts topics -----------------------------------------------------------------------

def test_summarise_counts_a_note_once_under_each_of_its_topics() -> None:
    from evidencenlp.errors import InputFileError
    from evidencenlp.taxonomy import default_taxonomy
    from evidencenlp.trends import normalise_frame, summarise_frame

    tax = default_taxonomy()
    neg, pos = tax.negative_bands[0], tax.positive_bands[0]
    waiting, kind = "responsive", "caring"
    st_wait, st_kind = tax.statements_of(waiting)[0], tax.statements_of(kind)[0]
    story = json.dumps([{"key_question": waiting, "statement": st_wait, "band": neg, "direction": "negative"},
                        {"key_question": kind, "statement": st_kind, "band": pos, "direction": "positive"}])
    frame = pd.DataFrame({
        "location": ["North"] * 3, "date": ["2024-01-03", "2024-01-05", "2024-01-09"],
        "text": ["a long story", "short", "older file row"],
        "key_question": [waiting, kind, kind], "statement": [st_wait, st_kind, st_kind],
        "evidence_category": [tax.categories[0]] * 3, "band": [neg, pos, pos],
        "topics": [story, json.dumps([{"key_question": kind, "statement": st_kind, "band": pos}]), ""],
    })
    normal = normalise_frame(frame, tax, location_column="location", date_column="date", text_column="text")
    s = summarise_frame(normal, tax)
    g = s.groups.set_index(["location", "period", "dimension", "label"])
    assert g.loc[("North", "2024-01", "all", "all")]["n"] == 3  # notes counted once
    assert g.loc[("North", "2024-01", "key_question", waiting)]["n"] == 1
    caring = g.loc[("North", "2024-01", "key_question", kind)]
    assert (caring["n"], caring["negative"]) == (3, 0)  # the story's caring topic is positive
    assert g.loc[("North", "2024-01", "statement", st_kind)]["n"] == 3
    assert g.xs(("North", "2024-01", "band"), level=(0, 1, 2))["n"].sum() == 3  # bands count notes
    bad = frame.assign(topics=["[{\"key_question\": \"nonsense\"}]", "", ""])
    with pytest.raises(InputFileError, match=r"data row 1: column 'topics'"):
        normalise_frame(bad, tax, location_column="location", date_column="date", text_column="text")
    with pytest.raises(InputFileError, match=r"data row 2: column 'topics': not JSON"):
        normalise_frame(frame.assign(topics=["", "{oops", ""]), tax, location_column="location",
                        date_column="date", text_column="text")


def test_summarise_counts_a_key_question_held_both_ways_once_and_as_a_complaint() -> None:
    from evidencenlp.taxonomy import default_taxonomy
    from evidencenlp.trends import normalise_frame, summarise_frame

    tax = default_taxonomy()
    neg, pos = tax.negative_bands[0], tax.positive_bands[0]
    kind_nurse, rude_doctor = tax.statements_of("caring")[:2]
    story = json.dumps([{"key_question": "caring", "statement": kind_nurse, "band": pos, "direction": "positive"},
                        {"key_question": "caring", "statement": rude_doctor, "band": neg, "direction": "negative"}])
    frame = pd.DataFrame({"location": ["North"], "date": ["2024-01-03"], "text": ["a story"],
                          "key_question": ["caring"], "statement": [kind_nurse],
                          "evidence_category": [tax.categories[0]], "band": [pos], "topics": [story]})
    normal = normalise_frame(frame, tax, location_column="location", date_column="date", text_column="text")
    g = summarise_frame(normal, tax).groups.set_index(["location", "period", "dimension", "label"])
    caring = g.loc[("North", "2024-01", "key_question", "caring")]
    assert (caring["n"], caring["negative"]) == (1, 1)  # once, and as the complaint it holds
    assert g.loc[("North", "2024-01", "statement", rude_doctor)]["n"] == 1
    assert ("North", "2024-01", "statement", kind_nurse) not in g.index


# -- long texts with labelled topics (evaluate --long-stories) --------------------------------------

LONG_FIXTURE = "tests/data/long_stories/fixture.jsonl"


def test_read_long_stories_resolves_labels_and_reports_bad_lines_without_text(repo) -> None:
    from evidencenlp.evaluation.topics import read_long_stories
    from evidencenlp.taxonomy import default_taxonomy

    texts, problems = read_long_stories(repo / LONG_FIXTURE, default_taxonomy())
    assert [t.id for t in texts] == ["f1", "f2", "f3"]
    # titles and capitals resolve to framework ids; a missing direction comes from the band
    assert texts[1].topics == (("safe", "safe.infection-prevention-and-control", "negative"),)
    assert texts[1].main_key_question == "safe"
    assert texts[2].topics[0][2] == "positive" and texts[2].kind == "inspection_note"
    assert [p.split(": ")[1] for p in problems] == ["line 4", "line 5", "line 6", "line 7"]
    assert "topics[1].key_question" in problems[1] and "text: expected non-empty" in problems[2]
    for p in problems:  # no note text in any message
        assert "Fine" not in p and "toilets" not in p


class _FakeModel:
    """A baseline whose probabilities are given: key question columns in framework order, bands."""

    def __init__(self, kq: np.ndarray, band: np.ndarray) -> None:
        self.kq, self.band = kq, band

    def predict(self, texts):
        from types import SimpleNamespace

        assert len(texts) == len(self.kq)
        return SimpleNamespace(proba={"key_question": self.kq, "band": self.band})


def _fake_suggester(taxonomy, topics_per_text):
    """A suggester whose topics are given: ``[(kq, statement, direction), …]`` per text, main first."""
    from types import SimpleNamespace

    from evidencenlp.suggest import BandLabel, Label, Suggestion, Topic

    band = BandLabel("good", 0.6, {b: 0.25 for b in taxonomy.bands})
    out = []
    for topics in topics_per_text:
        ts = tuple(Topic(Label(k, 0.8), Label(s, 0.5), band, Label(d, 0.9), 0.8, 0, 1, ((0, 1),))
                   for k, s, d in topics)
        out.append(Suggestion(text="x", key_question=ts[0].key_question, statement=ts[0].statement,
                              statement_top3=(ts[0].statement,), evidence_category=None, band=band, principles=(),
                              evidence=(), sentences=(), needs_review=False, model_version="x", topics=ts))
    return SimpleNamespace(index=SimpleNamespace(taxonomy=taxonomy),
                           suggest_many=lambda texts, **_: out[:len(texts)])


def test_evaluate_long_stories_scores_topics_and_baselines(repo) -> None:
    from evidencenlp.evaluation.topics import evaluate_long_stories, long_stories_markdown, read_long_stories
    from evidencenlp.taxonomy import default_taxonomy

    def approx(x: float) -> object:  # figures are rounded to 4 decimals
        return pytest.approx(x, abs=2e-4)

    tax = default_taxonomy()
    texts, _ = read_long_stories(repo / LONG_FIXTURE, tax)
    kq = {k: i for i, k in enumerate(tax.key_questions)}
    # f1: both topics found, the caring one with a wrong statement and direction; f2: a wrong topic only;
    # f3: found, with an extra topic
    suggester = _fake_suggester(tax, [
        [("responsive", "responsive.equity-in-access", "negative"),
         ("caring", "caring.workforce-wellbeing-and-enablement", "negative")],
        [("well-led", "well-led.governance-management-and-sustainability", "negative")],
        [("well-led", "well-led.governance-management-and-sustainability", "positive"),
         ("effective", "effective.assessing-needs", "positive")]])
    proba = np.full((3, len(tax.key_questions)), 0.05)
    for row, (first, second) in enumerate([("caring", "safe"), ("safe", "effective"), ("safe", "well-led")]):
        proba[row, kq[first]], proba[row, kq[second]] = 0.6, 0.2
    band = np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.1, 0.4, 0.4], [0.1, 0.2, 0.3, 0.4]])
    result = evaluate_long_stories(texts, suggester, {"svm": _FakeModel(proba, band)})
    everything = result["kinds"]["all"]
    c = everything["classifier"]
    assert (everything["n"], c["true_topics"]) == (3, 4)
    assert c["recall"] == approx(3 / 4) and c["precision"] == approx(3 / 5)
    assert c["topics_per_text"] == approx(5 / 3) and c["topics_per_true_topic"] == approx(5 / 4)
    assert c["direction_per_topic"] == approx(2 / 3) and c["statement_match"] == approx(2 / 3)
    # main key question: responsive, well-led, well-led against responsive, safe, well-led
    assert c["main_kq_accuracy"] == approx(2 / 3)
    assert c["main_kq_macro_f1"] == approx((1 + 0 + 2 / 3) / 3)
    svm = everything["svm"]
    # SVM top 1: caring, safe, safe → right once (safe in f2); f1 over {responsive, safe, well-led}
    assert svm["main_kq_accuracy"] == approx(1 / 3)
    assert svm["main_kq_macro_f1"] == approx((0 + 2 / 3 + 0) / 3)
    assert svm["classifier_minus_baseline"] == approx(c["main_kq_macro_f1"] - svm["main_kq_macro_f1"])
    # SVM top k (true k = 2, 1, 1): {caring, safe}, {safe}, {safe} → finds caring and safe of 4
    assert svm["topics_top_k_true"]["recall"] == approx(2 / 4)
    assert svm["topics_top_k_classifier"]["topics_per_text"] == approx(5 / 3)
    assert set(result["kinds"]) == {"all", "story", "inspection_note"}
    assert result["kinds"]["story"]["n"] == 2
    lines = "\n".join(long_stories_markdown(result))
    assert "classifier topics" in lines and "svm top k (true k)" in lines
    header, rule, first = lines.splitlines()[:3]
    assert "direction precision" in header and header.count("|") == rule.count("|") == first.count("|")
    assert "toilets" not in json.dumps(result) + lines


# -- clauses -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sentence", "expected"), [
    ("The nurses were kind, but the ward was dirty and cold", ["The nurses were kind", "but the ward was dirty and cold"]),
    ("I was seen quickly however the parking was awful", ["I was seen quickly", "however the parking was awful"]),
    ("Reception was rude; the doctor listened to me", ["Reception was rude", "the doctor listened to me"]),
    ("Dr Smith explained everything - the food was cold", ["Dr Smith explained everything", "the food was cold"]),
    ("Staff were lovely The wait was far too long", ["Staff were lovely", "The wait was far too long"]),
    ("First line of the note\nSecond line of the note", ["First line of the note", "Second line of the note"]),
    ("Very good, but slow", ["Very good", "but slow"]),
    ("Lovely staff I was seen quickly", ["Lovely staff", "I was seen quickly"]),
])
def test_clauses_cut_at_contrasts_punctuation_and_run_on_sentences(sentence: str, expected: list[str]) -> None:
    from evidencenlp.topics import clauses

    got = clauses(sentence)
    assert got == expected
    assert all(c in sentence for c in got)


@pytest.mark.parametrize("sentence", [
    "Good.", "Great service - thanks", "The staff were kind and I felt safe", "We went to Royal Derby Hospital",
    "Seen by Dr Patel today", "It was ok - fine"])
def test_clauses_leave_short_or_uncut_sentences_whole(sentence: str) -> None:
    from evidencenlp.topics import clauses

    assert clauses(sentence) == [sentence.strip()]
    assert clauses("   ") == []


def test_segments_are_clauses_in_order_or_the_sentences() -> None:
    from evidencenlp.topics import segments

    sentences = ["The nurses were kind, but the ward was dirty and cold.", "Thank you all."]
    assert segments(sentences) == ["The nurses were kind", "but the ward was dirty and cold.", "Thank you all."]
    assert segments(sentences, clauses_on=False) == sentences
    text = " ".join(sentences)
    assert all(o is not None for o in sentence_offsets(text, segments(sentences)))


def _clause_test_sentences() -> list[str]:
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[1] / "training" / "corpus"
    notes = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(corpus.glob("*.csv"))])["text"].dropna().tolist()
    crafted = ["Good staff however slow", "kind BUT slow", "lovely nurses The wait was long", "ok - fine", "ok -fine",
               "great...slow", "great. . slow", "fine\nslow", "fine; slow", "Fine, and slow", "fine,But slow",
               "kind Except That slow", "kind APART FROM slow", "kind other than that slow", "ALTHOUGH kind",
               "kind whereas slow", "kind unfortunately slow", "a b", "", "   ", "x", "Kind staff", "kind staff",
               "kind staff K\u212a", "kind \u017fo", "nice \u2013 slow", "nice \u2014 slow", "ok\u00a0but slow"]
    return crafted + [n for n in notes[::2]] + [n.lower() for n in notes[1::4]] + [n.upper() for n in notes[3::8]]


def test_clause_look_ups_never_skip_a_pattern_that_matches() -> None:
    from evidencenlp.topics import CLAUSE_BREAK, RUN_ON_BREAK, _has_capital_after_first, _may_break

    for sentence in _clause_test_sentences():
        if not sentence.isascii():
            continue
        if not _may_break(sentence):
            assert CLAUSE_BREAK.search(sentence) is None
        if not _has_capital_after_first(sentence):
            assert RUN_ON_BREAK.search(sentence) is None


def test_clauses_equal_the_clauses_without_look_ups(monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencenlp import topics

    sentences = _clause_test_sentences()
    fast = [topics.clauses(s, run_on=r) for s in sentences for r in (True, False)]
    monkeypatch.setattr(topics, "_may_break", lambda s: True)
    monkeypatch.setattr(topics, "_has_capital_after_first", lambda s: True)
    assert fast == [topics.clauses(s, run_on=r) for s in sentences for r in (True, False)]


# -- a topic's direction leans on the whole note's (with_note_direction) ------------------------------

def test_note_direction_weight_zero_leaves_the_topic_as_pooled() -> None:
    band, direction = np.array([0.1, 0.5, 0.3, 0.1]), np.array([0.6, 0.4])
    b, d = with_note_direction(band, direction, np.array([0.01, 0.99]), 0.0)
    assert np.array_equal(b, band) and np.array_equal(d, direction)
    assert b is not band and d is not direction


def test_an_uncertain_topic_takes_the_note_tone_and_a_confident_one_keeps_its_own() -> None:
    negative_note = np.array([0.05, 0.95])
    _, unsure = with_note_direction(np.full(4, 0.25), np.array([0.55, 0.45]), negative_note, 0.3)
    assert unsure.argmax() == 1  # "the doctor explained things" in an angry story reads negative
    _, sure = with_note_direction(np.full(4, 0.25), np.array([0.97, 0.03]), negative_note, 0.3)
    assert sure.argmax() == 0 and sure[0] < 0.97  # a clearly positive clause stays positive, a little less sure
    # the exact product: p * q**w, normalised
    expected = np.array([0.55 * 0.05 ** 0.3, 0.45 * 0.95 ** 0.3])
    assert np.allclose(unsure, expected / expected.sum())


def test_the_band_of_a_leaning_topic_agrees_with_its_new_direction() -> None:
    band = np.array([0.2, 0.4, 0.3, 0.1])  # best first: outstanding, good, requires improvement, inadequate
    b, d = with_note_direction(band, np.array([0.6, 0.4]), np.array([0.1, 0.9]), 0.3)
    assert np.isclose(b.sum(), 1.0) and np.isclose(b[:2].sum(), d[0])
    assert np.isclose(b[0] / b[1], 0.5) and np.isclose(b[2] / b[3], 3.0)  # each half keeps its proportions


def test_the_band_moves_by_the_direction_mix_and_continuously_in_the_weight() -> None:
    band, direction, note = np.array([0.2, 0.5, 0.2, 0.1]), np.array([0.6, 0.4]), np.array([0.1, 0.9])
    b, d = with_note_direction(band, direction, note, 0.3, mix=0.5)
    assert np.isclose(b[:2].sum(), 0.7 + 0.5 * (d[0] - 0.6))  # better half 0.7 moves by half the change
    assert np.isclose(b[0] / b[1], 0.4) and np.isclose(b[2] / b[3], 2.0)
    tiny, _ = with_note_direction(band, direction, note, 1e-9, mix=0.7)
    assert np.allclose(tiny, band, atol=1e-8)  # a weight near 0 barely moves the band
    with pytest.raises(ValueError, match="direction mix"):
        with_note_direction(band, direction, note, 0.3, mix=1.5)


@pytest.mark.parametrize("weight", [-0.1, float("nan"), float("inf")])
def test_note_direction_weight_must_be_finite_and_not_negative(weight: float) -> None:
    with pytest.raises(ValueError, match="note direction weight"):
        with_note_direction(np.full(4, 0.25), np.array([0.5, 0.5]), np.array([0.5, 0.5]), weight)


@pytest.mark.slow
def test_multi_topic_directions_lean_on_the_note_only_when_asked(suggester) -> None:
    text = ("The receptionist was rude and we were left in the corridor for five hours without a word. "
            "The doctor explained things. Nobody checked on my father all night and his drip ran dry.")
    saved = suggester.topic_note_direction
    try:
        suggester.topic_note_direction = 0.0
        alone = suggester.suggest_many([text], sentences=False, evidence=False, topics=True)[0]
        suggester.topic_note_direction = 0.3
        leaning = suggester.suggest_many([text], sentences=False, evidence=False, topics=True)[0]
    finally:
        suggester.topic_note_direction = saved
    assert len(alone.topics) >= 2 and [t.key_question for t in alone.topics] == [t.key_question for t in leaning.topics]
    note_negative = leaning.direction is not None and leaning.direction.label == "negative"
    moves = []
    for a, b in zip(alone.topics, leaning.topics):
        assert a.direction is not None and b.direction is not None
        neg_a, neg_b = ((t.direction.score if t.direction.label == "negative" else 1 - t.direction.score)
                        for t in (a, b))
        # every topic moves towards the note's direction, never away from it
        assert (neg_b >= neg_a - 1e-9) if note_negative else (neg_b <= neg_a + 1e-9)
        moves.append(abs(neg_b - neg_a))
        half = len(a.band.probabilities) // 2
        worse_a, worse_b = (sum(list(t.band.probabilities.values())[half:]) for t in (a, b))
        assert (worse_b - worse_a) * (neg_b - neg_a) >= -1e-9  # the band moves the way the direction does
        assert abs(worse_b - worse_a) <= abs(neg_b - neg_a) + 1e-6  # and by at most as much (the mix)
    assert max(moves) > 0.01  # and the note does pull (the clauses here are unsure: 0.5-0.6 either way)


# -- a key question's clauses split by direction (split_by_direction) ---------------------------------

KQ_ROWS = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])  # three clauses about key question 0


def test_a_topic_with_clauses_sure_of_both_directions_splits_in_two() -> None:
    groups = [TopicGroup(0, (0, 1, 2), 0, 0.9)]
    out = split_by_direction(groups, KQ_ROWS, np.array([[0.95, 0.05], [0.1, 0.9], [0.6, 0.4]]), 0.8)
    assert [(g.key_question, g.members, g.best) for g in out] == [(0, (0, 2), 0), (0, (1,), 1)]
    assert out[0].score == 0.9 and out[1].score == pytest.approx(0.8)  # the group's own side first, keeps its score


def test_no_split_without_a_clause_sure_of_each_direction() -> None:
    groups = [TopicGroup(0, (0, 1, 2), 0, 0.9)]
    unsure = np.array([[0.95, 0.05], [0.3, 0.7], [0.6, 0.4]])  # the negative clause is only 0.7 sure
    assert split_by_direction(groups, KQ_ROWS, unsure, 0.8) == groups


def test_a_one_topic_note_splits_over_all_its_segments_main_side_first() -> None:
    main = [TopicGroup(0, (), -1, 0.85)]  # pool_topics: the whole note is the one topic
    out = split_by_direction(main, KQ_ROWS, np.array([[0.1, 0.9], [0.95, 0.05], [0.2, 0.8]]), 0.8)
    assert [(g.members, g.best) for g in out] == [((0, 2), 0), ((1,), 1)]  # clause 0 is likeliest about it
    assert out[0].score == 0.9 and all(g.key_question == 0 for g in out)


def test_a_split_is_kept_whole_when_the_note_would_turn_one_side_to_the_other_direction() -> None:
    # the negative side: one sure clause barely about the key question, one barely negative clause mostly
    # about it; pooled it is 0.55 negative, and a clearly positive note's lean turns it positive
    kq_rows = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1]])
    direction = np.array([[0.95, 0.05], [0.05, 0.95], [0.45, 0.55]])
    groups = [TopicGroup(0, (0, 1, 2), 0, 0.9)]
    note = np.array([0.95, 0.05])
    assert len(split_by_direction(groups, kq_rows, direction, 0.9)) == 2  # the clauses alone: split
    negative = pooled_rows(direction, [1, 2], kq_rows[[1, 2], 0])
    assert with_note_direction(np.full(4, 0.25), negative, note, 0.3)[1].argmax() == 0  # leaned: positive
    assert split_by_direction(groups, kq_rows, direction, 0.9, note_direction=note, weight=0.3) == groups
    assert len(split_by_direction(groups, kq_rows, direction, 0.9, note_direction=note, weight=0.0)) == 2
    # a note that does not turn either side leaves the split as it was
    assert (split_by_direction(groups, kq_rows, direction, 0.9, note_direction=np.array([0.5, 0.5]), weight=0.3)
            == split_by_direction(groups, kq_rows, direction, 0.9))


def test_suggester_topics_of_a_split_have_one_direction_each() -> None:
    """Suggester.topic_groups then pooled_choices (suggest's and tag's path): the two topics a key question
    splits into keep their two directions once the note's lean is applied, or the key question stays one
    (a one-topic note: its second clause is about key question b, below the threshold)."""
    from evidencenlp.classifier import ClassifierOutput

    proba = {"key_question": np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.1]]),
             "statement": np.full((4, 3), 1 / 3), "band": np.full((4, 4), 0.25),
             "direction": np.array([[0.95, 0.05], [0.95, 0.05], [0.05, 0.95], [0.45, 0.55]])}
    classes = {"key_question": ("a", "b"), "statement": ("a.1", "a.2", "b.1"), "direction": ("positive", "negative"),
               "band": ("outstanding", "good", "requires_improvement", "inadequate")}
    preds = ClassifierOutput(proba=proba, classes=classes, sims=np.zeros((4, 0)))
    rows, tasks = [1, 2, 3], ("statement", "band", "direction")
    for weight, n_topics in ((0.0, 2), (0.3, 1)):
        s = _bare_suggester(weight)
        s.topic_threshold, s.topic_whole_weight, s.topic_any_segment, s.topic_split_direction = 0.95, 0.0, False, 0.9
        groups = s.topic_groups(preds, 0, rows)
        assert len(groups) == n_topics
        if n_topics > 1:
            chosen = s.pooled_choices(preds, [proba[t] for t in tasks], rows, groups, note=0)
            assert sorted(int(pooled[2].argmax()) for _, pooled in chosen) == [0, 1]


def test_split_needs_a_sure_level_above_one_half() -> None:
    with pytest.raises(ValueError, match="direction a split needs"):
        split_by_direction([TopicGroup(0, (0, 1), 0, 0.9)], KQ_ROWS[:2], np.array([[0.6, 0.4], [0.4, 0.6]]), 0.5)


# -- Suggester.pooled_choices with the note's direction: both call paths, on hand-made predictions ------

def _bare_suggester(weight: float) -> Suggester:
    """A :class:`~evidencenlp.suggest.Suggester` with only what ``pooled_choices`` reads (no model)."""
    from types import SimpleNamespace

    from evidencenlp.suggest import Suggester

    s = object.__new__(Suggester)
    s.index = SimpleNamespace(taxonomy=SimpleNamespace(statement_kq=("a", "a", "b")))
    s._kq_columns = {}
    s.topic_note_direction = weight
    return s


def _preds(direction: bool = True) -> ClassifierOutput:
    """Row 0 a negative note; rows 1-3 its clauses (about key questions a, a, b), positive but unsure."""
    from evidencenlp.classifier import ClassifierOutput

    rng = np.random.default_rng(0)

    def dist(n: int, k: int) -> np.ndarray:
        p = rng.random((n, k)) + 0.1
        return p / p.sum(axis=1, keepdims=True)

    proba = {"key_question": np.array([[0.5, 0.5], [0.9, 0.1], [0.8, 0.2], [0.1, 0.9]]),
             "statement": dist(4, 3), "band": dist(4, 4)}
    classes = {"key_question": ("a", "b"), "statement": ("a.1", "a.2", "b.1"),
               "band": ("outstanding", "good", "requires_improvement", "inadequate")}
    if direction:
        proba["direction"] = np.array([[0.05, 0.95], [0.55, 0.45], [0.6, 0.4], [0.52, 0.48]])
        classes["direction"] = ("positive", "negative")
    return ClassifierOutput(proba=proba, classes=classes, sims=np.zeros((4, 0)))


def _groups() -> list[TopicGroup]:
    from evidencenlp.topics import TopicGroup

    return [TopicGroup(0, (0, 1), 0, 0.9), TopicGroup(1, (2,), 2, 0.9)]


def test_pooled_choices_lean_on_the_note_in_the_band_and_direction_columns_of_both_call_paths() -> None:
    preds, groups, rows = _preds(), _groups(), [1, 2, 3]
    tasks = ("statement", "band", "direction")
    before = {t: preds.proba[t].copy() for t in preds.proba}
    alone = _bare_suggester(0.0).pooled_choices(preds, [preds.proba[t] for t in tasks], rows, groups, note=0)
    leaning = _bare_suggester(0.3)
    parts = leaning.pooled_choices(preds, [preds.proba[t] for t in tasks], rows, groups, note=0)
    joined = leaning.pooled_choices(preds, [np.hstack([preds.proba[t] for t in tasks])], rows, groups, note=0)
    for (j0, p0), (j1, p1), (j2, [p2]) in zip(alone, parts, joined):
        band, direction = with_note_direction(p0[1], p0[2], preds.proba["direction"][0], 0.3)
        assert j0 == j1 == j2 and np.array_equal(p1[0], p0[0])  # the statement is the clauses' own
        assert np.allclose(p1[1], band) and np.allclose(p1[2], direction)
        assert np.allclose(p2, np.concatenate(p1))  # one joined matrix: the same columns, the same values
        assert direction.argmax() == 1 and p0[2].argmax() == 0  # the unsure positive clauses now lean negative
    assert all(np.array_equal(preds.proba[t], before[t]) for t in before)  # the heads' output is not touched


def test_pooled_choices_without_a_direction_head_or_a_note_read_the_clauses_alone() -> None:
    groups, rows = _groups(), [1, 2, 3]
    s = _bare_suggester(0.3)
    for preds, note in ((_preds(direction=False), 0), (_preds(), None)):
        tasks = [t for t in ("statement", "band", "direction") if t in preds.proba]
        got = s.pooled_choices(preds, [preds.proba[t] for t in tasks], rows, groups, note=note)
        want = _bare_suggester(0.0).pooled_choices(preds, [preds.proba[t] for t in tasks], rows, groups, note=note)
        assert [j for j, _ in got] == [j for j, _ in want]
        assert all(np.array_equal(a, b) for (_, pa), (_, pb) in zip(got, want) for a, b in zip(pa, pb))


def test_after_a_split_the_other_topics_are_in_descending_score() -> None:
    kq_rows = np.array([[0.9, 0.1], [0.8, 0.2], [0.05, 0.95], [0.2, 0.8]])
    groups = [TopicGroup(1, (2,), 2, 0.95), TopicGroup(0, (0, 1), 1, 0.5)]  # main: key question 1; evidence: clause 1
    directions = np.array([[0.95, 0.05], [0.05, 0.95], [0.5, 0.5], [0.5, 0.5]])
    out = split_by_direction(groups, kq_rows, directions, 0.9)
    assert out[0] == groups[0] and [g.key_question for g in out[1:]] == [0, 0]
    assert [g.score for g in out[1:]] == sorted((g.score for g in out[1:]), reverse=True)


def test_statement_match_compares_a_split_topic_with_its_own_side() -> None:
    from evidencenlp.evaluation.topics import score_long_topics

    true = [[("caring", "caring.kind", "positive"), ("caring", "caring.rude", "negative")]]
    split = [[("caring", "caring.kind", "positive"), ("caring", "caring.rude", "negative")]]
    one = [[("caring", "caring.rude", "negative")]]
    assert score_long_topics(true, split)["statement_match"] == 1.0
    assert score_long_topics(true, one)["statement_match"] == 0.5  # one topic: compared for both
