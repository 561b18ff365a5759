"""`assess`: the rating rules read from the framework data, statement scoring, sensitivity, inputs, CLI.

Fast: hand-made bundles of records or tagged rows, no encoder (``use_encoder=False`` / ``--no-encoder``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evidencenlp.assess import AssessOptions, assess_file, assess_records, assess_store, load_rules
from evidencenlp.assess.records import TAGGED_COLUMNS, EvidenceRecord
from evidencenlp.assess.scoring import statement_score
from evidencenlp.errors import InputFileError
from evidencenlp.frameworks import load_framework_set
from evidencenlp.frameworks.rules import RatingRules, round_half_up
from evidencenlp.taxonomy import Taxonomy

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "assessment"
FAST = AssessOptions(use_encoder=False)

#: the hand ratings documented in examples/assessment/README.md (and expected.json)
HAND = {name: (v["key_questions"], v["overall"]) for name, v in
        json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))["locations"].items()}


def rec(tax: Taxonomy, statement: str, band: str, weight: float = 1.0, note: str = "n", location: str = "L",
        principles: tuple[str, ...] = ()) -> EvidenceRecord:
    return EvidenceRecord(note=note, row=1, location=location, key_question=tax.key_question_of(statement),
                          statement=statement, band=band, weight=weight, source="accepted",
                          evidence_category=tax.categories[0], principles=principles)


def bundle(tax: Taxonomy, kq: str, scores: list[int], per_statement: int = 2, location: str = "L") -> list[EvidenceRecord]:
    """Records giving the first len(scores) statements of ``kq`` exactly these scores (confirmed notes)."""
    statements = tax.statements_of(kq)
    assert len(scores) <= len(statements)
    return [rec(tax, st, tax.band_for_score(score), note=f"{kq}-{i}-{j}", location=location)
            for i, (st, score) in enumerate(zip(statements, scores)) for j in range(per_statement)]


def kq_result(tax: Taxonomy, kq: str, scores: list[int], **kw):
    return assess_records(bundle(tax, kq, scores), FAST, **kw).locations[0].key_questions[kq]


# -- the rules come from the framework data --------------------------------------------------------


def test_rules_read_from_framework_data(rules: RatingRules, tax: Taxonomy) -> None:
    doc = load_rules()[0][tax.framework].data["rating_rules"]
    assert [t.band for t in rules.thresholds] == [t["band"] for t in sorted(doc["key_question_thresholds"],
                                                                             key=lambda t: t["min_percent"])]
    assert [lim.limit_to for lim in rules.limiters] == [lim["limit_to"] for lim in doc["limiters"]]
    assert [p.rating for p in rules.overall] == [p["rating"] for p in doc["overall"]]
    assert rules.max_score == max(tax.band_scores)


@pytest.mark.parametrize("percent, band", [
    (25, "inadequate"), (38, "inadequate"), (38.4, "inadequate"), (38.5, "requires_improvement"),
    (39, "requires_improvement"), (62, "requires_improvement"), (62.49, "requires_improvement"),
    (62.5, "good"), (63, "good"), (87, "good"), (87.5, "outstanding"), (88, "outstanding"), (100, "outstanding"),
])
def test_threshold_edges_round_half_up(rules: RatingRules, percent: float, band: str) -> None:
    assert rules.percent_band(percent).band == band


def test_round_half_up_is_not_bankers() -> None:
    assert [round_half_up(x) for x in (62.5, 87.5, 38.5, 62.4999)] == [63, 88, 39, 62]


def test_between_bands_from_statement_scores(tax: Taxonomy) -> None:
    kq = kq_result(tax, "safe", [3, 3, 2, 2])  # 10/16 = 62.5% -> 63% -> good; no score of 1: no limiter
    assert (kq.rating, kq.score, kq.percent_exact, kq.limited_by) == ("good", 63, 62.5, None)
    kq = kq_result(tax, "safe", [4, 4, 3, 3])  # 14/16 = 87.5% -> 88% -> outstanding
    assert (kq.rating, kq.score) == ("outstanding", 88)
    kq = kq_result(tax, "safe", [1, 1, 2])  # 4/12 = 33% inadequate
    assert (kq.rating, kq.score) == ("inadequate", 33)


def test_limiter_good_range_with_a_one(tax: Taxonomy) -> None:
    kq = kq_result(tax, "effective", [4, 4, 3, 1])  # 12/16 = 75% good range, a 1 -> requires improvement
    assert kq.range_rating == "good" and kq.rating == "requires_improvement"
    assert kq.limited_by is not None and kq.limited_by["from"] == "good"
    assert kq.limited_by["statements"] == [tax.statements_of("effective")[3]]
    assert any("limiter" in r for r in kq.rules_applied)


@pytest.mark.parametrize("low", [2, 1])
def test_limiter_outstanding_range_with_a_two_or_one(tax: Taxonomy, low: int) -> None:
    kq = kq_result(tax, "safe", [4, 4, 4, 4, 4, 4, 4, low])  # 30/32 or 29/32: outstanding range
    assert kq.range_rating == "outstanding" and kq.rating == "good"  # as the data states it: limited to good
    assert kq.limited_by is not None and kq.limited_by["to"] == "good"


def test_no_limiter_when_lowest_score_is_above(tax: Taxonomy) -> None:
    kq = kq_result(tax, "safe", [4, 4, 4, 3, 3, 4, 4, 4])
    assert kq.rating == "outstanding" and kq.limited_by is None


@pytest.mark.parametrize("ratings, overall, position", [
    (["inadequate", "inadequate", "good", "good", "outstanding"], "inadequate", 1),
    (["requires_improvement", "requires_improvement", "good", "good", "outstanding"], "requires_improvement", 2),
    (["outstanding", "outstanding", "good", "good", "good"], "outstanding", 3),
    (["outstanding", "good", "good", "good", "requires_improvement"], "good", 4),
    (["outstanding", "good", "good", "good", "good"], "good", 4),
    (["inadequate", "good", "good", "good", "good"], "requires_improvement", 5),
    (["inadequate", "requires_improvement", "requires_improvement", "inadequate", "good"], "inadequate", 1),
])
def test_overall_principles_in_order(rules: RatingRules, ratings: list[str], overall: str, position: int) -> None:
    result = rules.overall_rating(ratings)
    assert result is not None and (result.rating, result.principle.position) == (overall, position)


def test_regulation_breach_caps_where_the_data_says(rules: RatingRules) -> None:
    result = rules.overall_rating(["outstanding", "outstanding", "good", "good", "good"], regulation_breach=True)
    assert result is not None and result.rating == "requires_improvement" and result.capped_from == "outstanding"
    worse = rules.overall_rating(["inadequate", "inadequate", "good", "good", "good"], regulation_breach=True)
    assert worse is not None and worse.rating == "inadequate" and worse.capped_from is None


def test_overall_through_records(tax: Taxonomy) -> None:
    records = (bundle(tax, "safe", [4, 4]) + bundle(tax, "effective", [4, 4]) + bundle(tax, "caring", [3, 3])
               + bundle(tax, "responsive", [3, 3]) + bundle(tax, "well-led", [3, 3]))
    loc = assess_records(records, FAST).locations[0]
    assert loc.overall.rating == "outstanding" and loc.overall.principle is not None
    breach = assess_records(records, AssessOptions(use_encoder=False, regulation_breach=True)).locations[0]
    assert breach.overall.rating == "requires_improvement"


def test_partial_and_empty_overall(tax: Taxonomy) -> None:
    loc = assess_records(bundle(tax, "safe", [2, 2]), FAST).locations[0]
    assert loc.key_questions["safe"].rating == "requires_improvement"
    assert loc.overall.unrated_key_questions == ["effective", "caring", "responsive", "well-led"]
    assert loc.overall.to_dict()["partial"] is True
    assert loc.overall.possible_range == {"best": "good", "worst": "inadequate"}
    empty = assess_records([], FAST, locations=["nowhere"]).locations[0]
    assert empty.overall.rating is None and all(k.rating is None for k in empty.key_questions.values())


def test_edited_rules_in_a_copy_change_the_rating(tmp_path: Path, tax: Taxonomy) -> None:
    folder = tmp_path / "frameworks"
    shutil.copytree(REPO / "frameworks", folder)
    records = bundle(tax, "caring", [3, 3, 2])  # 8/12 = 66.7% -> 67%: good with the published rules
    assert assess_records(records, FAST).locations[0].key_questions["caring"].rating == "good"
    saf = folder / "cqc-saf-2023.yaml"
    text = saf.read_text(encoding="utf-8")
    edited = (text.replace("max_percent: 62\n", "max_percent: 69\n")
              .replace("  - band: good\n    min_percent: 63\n", "  - band: good\n    min_percent: 70\n"))
    assert edited != text
    saf.write_text(edited, encoding="utf-8")
    assert load_framework_set(folder).rules.percent_band(67).band == "requires_improvement"
    kq = assess_records(records, FAST, frameworks_dir=folder).locations[0].key_questions["caring"]
    assert kq.rating == "requires_improvement"
    assert any("good: 70-87%" in s for s in assess_records(records, FAST, frameworks_dir=folder).rules[
        "key_question_thresholds"])


def test_edited_overall_rule_in_a_copy(tmp_path: Path, rules: RatingRules) -> None:
    folder = tmp_path / "frameworks"
    shutil.copytree(REPO / "frameworks", folder)
    saf = folder / "cqc-saf-2023.yaml"
    text = saf.read_text(encoding="utf-8")
    saf.write_text(text.replace("    min_count:\n      outstanding: 2\n", "    min_count:\n      outstanding: 1\n"),
                   encoding="utf-8")
    ratings = ["outstanding", "good", "good", "good", "good"]
    assert rules.overall_rating(ratings).rating == "good"  # type: ignore[union-attr]
    assert load_framework_set(folder).rules.overall_rating(ratings).rating == "outstanding"  # type: ignore[union-attr]


# -- statements ------------------------------------------------------------------------------------


def test_statement_score_rounds_half_down() -> None:
    assert [statement_score(m) for m in (1.0, 2.49, 2.5, 2.51, 3.5, 3.75, 4.0)] == [1, 2, 2, 3, 3, 4, 4]


def test_statement_band_distribution_weighted_by_confidence(tax: Taxonomy) -> None:
    st = tax.statements_of("safe")[0]
    records = [rec(tax, st, "good", 0.9, "a"), rec(tax, st, "inadequate", 0.3, "b"), rec(tax, st, "good", 0.6, "c")]
    s = assess_records(records, FAST).locations[0].key_questions["safe"].statements[0]
    d = s.to_dict()
    assert d["band_weights"]["good"] == pytest.approx(1.5) and d["band_weights"]["inadequate"] == pytest.approx(0.3)
    assert d["score"] == 3 and "mean 2.67" in d["rule"]  # (1.5*3 + 0.3*1) / 1.8
    assert [n["note"] for n in d["notes"]] == ["a", "b", "c"]
    assert d["evidence_categories"] == {tax.categories[0]: 3}


def test_one_confirmed_note_is_evidence_and_min_notes_still_applies(tax: Taxonomy) -> None:
    st = tax.statements_of("safe")[0]
    one = assess_records([rec(tax, st, "good")], FAST).locations[0].key_questions["safe"]
    assert one.statements[0].score == 3 and one.statements[0].credibility == 1.0 and one.rating == "good"
    assert one.thin and one.to_dict()["statements_with_evidence"] == [st]
    assert set(one.statements_without_evidence) == set(tax.statements_of("safe")[1:])
    strict = assess_records([rec(tax, st, "good")], AssessOptions(min_notes=2, use_encoder=False)).locations[0]
    kq = strict.key_questions["safe"]
    assert kq.statements[0].insufficient_evidence and "fewer than the 2" in kq.statements[0].rule
    assert kq.rating is None and "none usable" in (kq.no_rating_reason or "")


def test_thin_statements_count_in_proportion_to_their_weight(tax: Taxonomy) -> None:
    a, b = tax.statements_of("caring")[:2]
    # a: one confirmed good note (counts in full); b: one suggestion of outstanding at 0.5 (counts half)
    records = [rec(tax, a, "good", 1.0, "x"), EvidenceRecord("y", 2, "L", "caring", b, "outstanding", 0.5)]
    kq = assess_records(records, FAST).locations[0].key_questions["caring"]
    assert kq.percent_exact == pytest.approx((3 * 1.0 + 4 * 0.5) / (4 * 1.5) * 100)  # 83.3% -> good
    assert kq.rating == "good" and "count in proportion" in kq.basis
    assert [s.to_dict()["counts_as"] for s in kq.statements] == [1.0, 0.5]
    full = assess_records(records, AssessOptions(min_weight=0.5, use_encoder=False)).locations[0]
    assert full.key_questions["caring"].score == 88  # (3 + 4) / 8 = 87.5% -> 88%: both count in full
    assert "published rule" in full.key_questions["caring"].basis


def test_no_rating_only_without_notes_and_says_what_is_missing(tax: Taxonomy) -> None:
    loc = assess_records([rec(tax, tax.statements_of("safe")[0], "good")], FAST).locations[0]
    caring = loc.key_questions["caring"]
    assert caring.rating is None and "no notes were placed" in (caring.no_rating_reason or "")
    assert caring.to_dict()["no_rating_reason"] == caring.no_rating_reason


# -- serious findings and the overall rating ------------------------------------------------------------


def test_confirmed_inadequate_finding_limits_its_key_question(tax: Taxonomy) -> None:
    sts = tax.statements_of("responsive")
    good = [rec(tax, s, "good", note=f"g{i}") for i, s in enumerate(sts[:4]) for _ in range(3)]
    # one confirmed inadequate note among three good ones on the first statement: mean 2.5 -> 2, no score of 1
    records = [*good, rec(tax, sts[0], "inadequate", note="bad")]
    kq = assess_records(records, FAST).locations[0].key_questions["responsive"]
    assert kq.range_rating == "good" and kq.rating == "requires_improvement"
    assert kq.limited_by is not None and kq.limited_by["serious_findings"] == [sts[0]]
    assert kq.statements[0].serious_findings == ("bad",)
    # the same note as an unconfident suggestion is not a serious finding: the good range stands
    weak = [*good, EvidenceRecord("bad", 9, "L", "responsive", sts[0], "inadequate", 0.3)]
    assert assess_records(weak, FAST).locations[0].key_questions["responsive"].rating == "good"
    sure = [*good, EvidenceRecord("bad", 9, "L", "responsive", sts[0], "inadequate", 0.9)]
    assert assess_records(sure, FAST).locations[0].key_questions["responsive"].rating == "requires_improvement"


def test_the_issue_care_home_all_confirmed(tax: Taxonomy) -> None:
    """Issue 21, bullet 2: single confirmed inadequate findings count; every key question is rated."""
    bundle_path = REPO / "tests" / "data" / "assessment_dev" / "dev01.json"
    doc = json.loads(bundle_path.read_text(encoding="utf-8"))
    records = [rec(tax, n["statement"], n["band"], note=n["id"]) for n in doc["notes"]]
    loc = assess_records(records, FAST).locations[0]
    assert {k: v.rating for k, v in loc.key_questions.items()} == doc["expected"]["key_questions"]
    assert loc.overall.rating == doc["expected"]["overall"] and not loc.overall.provisional
    safe = loc.key_questions["safe"].to_dict()
    assert {f["statement"] for f in safe["serious_findings"]} == {"safe.medicines-optimisation",
                                                                   "safe.safe-environments"}


def test_unrated_key_questions_never_count_as_fine(tax: Taxonomy) -> None:
    records = bundle(tax, "caring", [3, 3]) + bundle(tax, "responsive", [3, 3]) + bundle(tax, "well-led", [3, 3])
    loc = assess_records(records, FAST).locations[0]
    # three good and two unrated: counted as requires improvement each -> two RI -> requires improvement
    assert loc.overall.rating == "requires_improvement" and loc.overall.provisional
    assert any("safe" in r and "no notes were placed" in r for r in loc.overall.provisional_reasons)
    assert loc.overall.possible_range == {"best": "outstanding", "worst": "inadequate"}


def test_thin_key_question_makes_the_overall_provisional(tax: Taxonomy) -> None:
    records = [r for kq in tax.key_questions for r in bundle(tax, kq, [3, 3])]
    firm = assess_records(records, FAST).locations[0]
    assert firm.overall.rating == "good" and not firm.overall.provisional
    thin = [r for r in records if r.key_question != "safe"] + bundle(tax, "safe", [1], per_statement=1)
    loc = assess_records(thin, FAST).locations[0]
    assert loc.key_questions["safe"].rating == "inadequate" and loc.key_questions["safe"].thin
    assert loc.overall.rating == "requires_improvement" and loc.overall.provisional
    assert "thin evidence: safe" in loc.overall.provisional_reasons[0]


def test_evidence_policy_is_read_from_the_framework_data(tmp_path: Path, tax: Taxonomy) -> None:
    rules = load_rules()[2]
    doc = load_rules()[0][tax.framework].data["rating_rules"]["evidence"]
    assert rules.evidence.statement_full_weight == doc["statement_full_weight"]
    assert rules.evidence.serious_finding_band == doc["serious_finding_band"]
    folder = tmp_path / "frameworks"
    shutil.copytree(REPO / "frameworks", folder)
    saf = folder / "cqc-saf-2023.yaml"
    saf.write_text(saf.read_text(encoding="utf-8").replace("statement_full_weight: 1.0", "statement_full_weight: 2.0"),
                   encoding="utf-8")
    a, b = tax.statements_of("caring")[:2]
    records = [rec(tax, a, "good", note="x"), rec(tax, a, "good", note="y"), rec(tax, b, "outstanding", note="z")]
    kq = assess_records(records, FAST, frameworks_dir=folder).locations[0].key_questions["caring"]
    assert [s.credibility for s in kq.statements] == [1.0, 0.5]  # one confirmed note is half of 2.0
    assert assess_records(records, FAST, frameworks_dir=folder).rules["evidence"]["statement_full_weight"] == 2.0


# -- sensitivity -------------------------------------------------------------------------------------


def test_sensitivity_greedy(tax: Taxonomy) -> None:
    kq = kq_result(tax, "safe", [3, 3])  # 75% good
    assert kq.sensitivity is not None
    up, down = kq.sensitivity.up, kq.sensitivity.down
    # up: one statement needs both notes outstanding (3.5 rounds down to 3) -> [4, 3] = 87.5% -> outstanding
    assert (up.notes, up.to_rating) == (2, "outstanding")
    # down: one confirmed note to inadequate gives [2, 3] = 62.5% -> 63%, the good range, but the note is a
    # serious finding, which the good-range limiter counts as a score of 1 -> requires improvement
    assert (down.notes, down.to_rating) == (1, "requires_improvement")
    assert down.changes[0].to_band == "inadequate"
    assert "2 notes up to outstanding" in kq.sensitivity.line()
    top = kq_result(tax, "safe", [4, 4])
    assert top.sensitivity is not None and top.sensitivity.up.notes is None and "already" in (
        top.sensitivity.up.reason or "")


def test_sensitivity_uses_limiter(tax: Taxonomy) -> None:
    kq = kq_result(tax, "effective", [4, 4, 3, 3, 3, 3])  # 20/24 = 83% good
    assert kq.sensitivity is not None
    down = kq.sensitivity.down
    assert down.notes == 1 and down.to_rating == "requires_improvement"  # a serious finding triggers the limiter


# -- principles ------------------------------------------------------------------------------------------


def test_principles_only_for_good_or_outstanding(tax: Taxonomy) -> None:
    p = tax.principles[0]
    st = tax.statements_of("caring")
    good = [rec(tax, st[0], "good", note="g1", principles=(p,)), rec(tax, st[0], "good", note="g2")]
    kq = assess_records(good, FAST).locations[0].key_questions["caring"]
    assert [(x.principle, x.notes) for x in kq.principles] == [(p, ("g1",))]
    bad = [rec(tax, st[0], "inadequate", note="b1", principles=(p,)), rec(tax, st[0], "inadequate", note="b2")]
    assert assess_records(bad, FAST).locations[0].key_questions["caring"].principles == []
    # a good key question: the principle attached to its requires-improvement note is not evidence for it
    mixed = [*good, rec(tax, st[1], "requires_improvement", note="r1", principles=(tax.principles[1],))]
    kq = assess_records(mixed, FAST).locations[0].key_questions["caring"]
    assert kq.rating == "good" and [x.principle for x in kq.principles] == [p]


def test_what_would_make_outstanding_without_encoder(tax: Taxonomy) -> None:
    from evidencenlp.frameworks import V6_ID

    st = "safe.learning-culture"
    kq = assess_records([rec(tax, st, "good", note="a"), rec(tax, st, "good", note="b")],
                        FAST).locations[0].key_questions["safe"]
    hint = kq.statements[0].what_would_make_outstanding
    topic = load_rules()[3].row(st).v6[0]  # type: ignore[union-attr]
    first = next(t for t in load_rules()[0][V6_ID].section("topics") if t["id"] == topic)["descriptors"]
    assert hint is not None and hint.topic == topic and hint.descriptor == first["outstanding"][0]
    assert kq.to_dict()["statements"][0]["what_would_make_outstanding"]["framework_topic"] == topic


# -- inputs -----------------------------------------------------------------------------------------------


def _hand_tagged(tmp_path: Path) -> Path:
    """examples/assessment/notes.csv with the hand labels as confirmed tags (every score 1.0)."""
    frame = pd.read_csv(EXAMPLES / "notes.csv", dtype=str)
    tax = load_rules()[1]
    frame = frame.assign(key_question=[tax.key_question_of(s) for s in frame["hand_statement"]],
                         statement=frame["hand_statement"], band=frame["hand_band"], evidence_category=frame["source"],
                         key_question_score=1.0, statement_score=1.0, band_score=1.0, needs_review=False,
                         principles="")
    path = tmp_path / "hand.csv"
    frame.to_csv(path, index=False)
    return path


def test_hand_labels_reproduce_the_documented_hand_ratings(tmp_path: Path) -> None:
    result = assess_file(_hand_tagged(tmp_path), location_column="location", service_column="service", options=FAST)
    for loc in result.locations:
        kqs, overall = HAND[loc.location]
        assert {k: v.rating for k, v in loc.key_questions.items()} == kqs, loc.location
        assert loc.overall.rating == overall, loc.location
    oak = result.location("Oak Lodge")
    assert oak.key_questions["safe"].score == 63 and oak.key_questions["safe"].limited_by is not None  # 62.5 -> 63
    assert oak.key_questions["well-led"].score == 88 and oak.key_questions["well-led"].range_rating == "outstanding"
    assert oak.services == {"supported living": 28}


def test_tagged_file_errors_name_file_row_column(tmp_path: Path) -> None:
    tax = load_rules()[1]
    path = _hand_tagged(tmp_path)
    frame = pd.read_csv(path, dtype=str)
    frame.loc[4, "band"] = "brilliant"
    frame.to_csv(path, index=False)
    with pytest.raises(InputFileError, match=r"hand.csv: row 5, column 'band'.*'brilliant'") as err:
        assess_file(path, options=FAST)
    assert frame.loc[4, "text"][:30] not in str(err.value)
    with pytest.raises(InputFileError, match=r"no column 'site'; columns found: 'id'"):
        assess_file(path, location_column="site", options=FAST)
    raw = tmp_path / "raw.csv"
    pd.DataFrame({"note": ["x"]}).to_csv(raw, index=False)
    with pytest.raises(InputFileError, match="no column 'text'"):
        assess_file(raw, options=FAST, suggester=lambda: pytest.fail("must not load"))  # type: ignore[arg-type]
    assert TAGGED_COLUMNS[0] == "key_question" and tax.framework


class FakeSuggester:
    """Stands in for Suggester.load(): suggests from a keyword, so the raw path runs without the encoder."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def suggest_many(self, texts, sentences=True, evidence=True, **_):  # type: ignore[no-untyped-def]
        from evidencenlp.suggest import BandLabel, Label, Suggestion

        self.calls.append({"n": len(texts), "sentences": sentences})
        out = []
        for t in texts:
            if not t:
                out.append(None)
            elif "abstain" in t:
                out.append(Suggestion(text=t, key_question=None, statement=None, statement_top3=(),
                                      evidence_category=None, band=None, principles=(), evidence=(), sentences=(),
                                      needs_review=True, model_version="fake", reason="no_content"))
            else:
                band = "inadequate" if "bad" in t else "good"
                out.append(Suggestion(text=t, key_question=Label("safe", 0.9),
                                      statement=Label("safe.medicines-optimisation", 0.8), statement_top3=(),
                                      evidence_category=Label("processes", 0.9), band=BandLabel(band, 0.75),
                                      principles=(Label("person_centred", 0.6),), evidence=(), sentences=(),
                                      needs_review=False, model_version="fake"))
        return out


def test_raw_notes_are_tagged_with_the_suggester(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    pd.DataFrame({"site": ["A", "A", "A", "B", "B"],
                  "note": ["fine", "fine too", "", "bad", "abstain please"]}).to_csv(path, index=False)
    fake = FakeSuggester()
    result = assess_file(path, text_column="note", location_column="site", options=FAST, suggester=lambda: fake)
    assert fake.calls == [{"n": 5, "sentences": False}]
    assert result.source["tagged_here"] == 4 and result.source["blank"] == 1 and result.source["abstained"] == 1
    a = result.location("A").key_questions["safe"]  # 2 notes placed with their statement's probability 0.8
    assert a.rating == "good" and [n.note for n in a.statements[0].notes] == ["row 1", "row 2"]  # 1-based rows
    assert a.principles[0].notes == ("row 1", "row 2")
    b = result.location("B").key_questions["safe"]  # one suggestion placed with weight 0.8: rated, thin evidence
    assert b.rating == "inadequate" and b.thin and b.statements[0].credibility == pytest.approx(0.8)
    assert b.statements[0].serious_findings == ("row 4",)  # share 0.8 x P(inadequate) 0.75 = 0.6 >= the policy's 0.6
    assert result.location("B").overall.provisional
    relaxed = assess_file(path, text_column="note", location_column="site", suggester=lambda: FakeSuggester(),
                          options=AssessOptions(min_notes=1, min_weight=0.5, use_encoder=False))
    assert relaxed.location("B").key_questions["safe"].rating == "inadequate"
    assert relaxed.location("B").key_questions["safe"].principles == []


# -- the review store (plain SQL, read-only) ------------------------------------------------------------------


def _store(tmp_path: Path) -> Path:
    from evidencenlp.review.db import connect

    path = tmp_path / "review.sqlite"
    conn = connect(path)
    now = "2025-01-01T00:00:00.000Z"
    conn.execute("INSERT INTO assessments (id, name, location, created_at) VALUES (1, 'Visit A', 'Loc A', ?)", (now,))
    conn.execute("INSERT INTO assessments (id, name, created_at) VALUES (2, 'Visit B', ?)", (now,))
    st = "safe.medicines-optimisation"
    for i in range(1, 6):
        conn.execute("INSERT INTO notes (id, assessment_id, source_file, source_row, source_id, text, text_sha256, "
                     "imported_at) VALUES (?, 1, 'f.csv', ?, ?, 'redacted note', 'x', ?)", (i, i, f"N{i}", now))
        conn.execute("INSERT INTO suggestions (note_id, created_at, model_version, key_question, key_question_score, "
                     "statement, statement_score, evidence_category, band, band_score, principles, confidence, "
                     "needs_review, payload) VALUES (?, ?, 'm', 'safe', 0.9, ?, 0.8, 'observation', 'good', 0.7, '', "
                     "0.7, 0, '{}')", (i, now, st))

    def decide(note: int, action: str, band: str | None, reverts: int | None = None,
               restores: int | None = None) -> int:
        labels = ("safe", st, "observation", band) if band else (None, None, None, None)
        cur = conn.execute("INSERT INTO decisions (note_id, inspector, decided_at, action, key_question, statement, "
                           "evidence_category, band, reverts, restores) VALUES (?, 'Jo', ?, ?, ?, ?, ?, ?, ?, ?)",
                           (note, now, action, *labels, reverts, restores))
        return int(cur.lastrowid or 0)

    decide(1, "accepted", "good")                                # N1: confirmed good (weight 1)
    decide(2, "corrected", "inadequate")                         # N2: corrected to inadequate
    first = decide(3, "corrected", "inadequate")                 # N3: corrected, then undone -> the suggestion
    decide(3, "undone", None, reverts=first)
    kept = decide(4, "corrected", "requires_improvement")        # N4: corrected, re-corrected, undone -> first
    second = decide(4, "corrected", "outstanding")
    decide(4, "undone", "requires_improvement", reverts=second, restores=kept)
    decide(5, "skipped", None)                                   # N5: skipped -> the suggestion
    conn.close()
    return path


def test_store_decisions_take_precedence(tmp_path: Path) -> None:
    path = _store(tmp_path)
    before = path.read_bytes()
    result = assess_store(path, "Visit A", FAST)
    assert [loc.location for loc in result.locations] == ["Visit A"]
    notes = {n.note: n for n in result.locations[0].key_questions["safe"].statements[0].notes}
    got = {k: (n.band, n.source, n.weight) for k, n in notes.items()}
    assert got == {"N1": ("good", "accepted", 1.0), "N2": ("inadequate", "corrected", 1.0),
                   "N3": ("good", "suggestion", 0.8), "N4": ("requires_improvement", "corrected", 1.0),
                   "N5": ("good", "suggestion", 0.8)}  # a suggestion weighs its statement's probability
    assert result.locations[0].n_confirmed == 3 and path.read_bytes() == before  # read-only
    both = assess_store(path, None, FAST)
    assert [loc.location for loc in both.locations] == ["Visit A", "Visit B"]
    assert both.locations[1].overall.rating is None
    with pytest.raises(InputFileError, match="no assessment named 'Nope'; assessments: 'Visit A', 'Visit B'"):
        assess_store(path, "Nope", FAST)


def test_store_not_a_review_database(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(InputFileError, match="not an evidencenlp review database"):
        assess_store(other)
    with pytest.raises(InputFileError, match="review database not found"):
        assess_store(tmp_path / "missing.sqlite")


# -- the command line -------------------------------------------------------------------------------------------


def test_cli_json_contract_on_the_tagged_example(tmp_path: Path) -> None:
    from evidencenlp.cli import app

    out, report = tmp_path / "a.json", tmp_path / "a.html"
    result = CliRunner().invoke(app, ["assess", str(EXAMPLES / "notes-tagged.csv"), "--location-column", "location",
                                      "--service-column", "service", "--format", "json", "--no-encoder",
                                      "-o", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == data
    bands = {"outstanding", "good", "requires_improvement", "inadequate", None}
    assert [loc["location"] for loc in data["locations"]] == list(HAND)
    assert "indicative" in data["indicative"].lower() and data["source"]["reused_tags"] is True
    for loc in data["locations"]:
        assert set(loc["key_questions"]) == {"safe", "effective", "caring", "responsive", "well-led"}
        for kq in loc["key_questions"].values():
            assert kq["rating"] in bands and "limited_by" in kq and isinstance(kq["statements"], list)
            assert kq["score"] is None or 25 <= kq["score"] <= 100
            for st in kq["statements"]:
                assert "text" not in json.dumps(st["notes"])  # ids and rows, never text
        assert loc["overall"]["rating"] in bands
    html = report.read_text(encoding="utf-8")
    assert "Indicative, for the inspector" in html and "<script" not in html
    long_note = pd.read_csv(EXAMPLES / "notes.csv")["text"].iloc[0]
    assert len(long_note) > 150 and long_note not in html and long_note not in result.stdout


def test_cli_table_and_errors(tmp_path: Path) -> None:
    from evidencenlp.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["assess", str(EXAMPLES / "notes-tagged.csv"), "--location-column", "location",
                             "--no-encoder"])
    assert ok.exit_code == 0 and "inspector's judgement" in ok.stdout and "Oak Lodge" in ok.stdout
    bad = runner.invoke(app, ["assess", str(EXAMPLES / "notes-tagged.csv"), "--location-column", "site"])
    assert bad.exit_code == 2 and "no column 'site'" in bad.output and "Traceback" not in bad.output
    neither = runner.invoke(app, ["assess"])
    assert neither.exit_code == 2 and "give a notes file" in neither.output
    wrong = runner.invoke(app, ["assess", str(EXAMPLES / "notes-tagged.csv"), "-o", str(tmp_path / "x.txt")])
    assert wrong.exit_code == 2 and "expected a .json file" in wrong.output


def test_cli_db(tmp_path: Path) -> None:
    from evidencenlp.cli import app

    path = _store(tmp_path)
    result = CliRunner().invoke(app, ["assess", "--db", str(path), "--assessment", "Visit A", "--format", "json",
                                      "--no-encoder"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    safe = data["locations"][0]["key_questions"]["safe"]
    # the one statement holds a corrected-inadequate note: a serious finding pulls the statement to 1
    # (rating_rules.evidence.serious_finding_scores_statement), so the key question is 25%: inadequate
    assert safe["statements"][0]["score"] == 1 and safe["statements"][0]["confirmed_notes"] == 3
    assert safe["rating"] == "inadequate"


# -- unreviewed suggestions: placements by probability, serious findings by expected count ---------------


def _suggestion(tax: Taxonomy, statement: str, band: dict[str, float], top3: list[tuple[str, float]],
                key_questions: list[tuple[str, float]], p_statement: float = 0.6):  # type: ignore[no-untyped-def]
    from evidencenlp.suggest import BandLabel, Label, Suggestion

    best = max(band, key=lambda b: band[b])
    return Suggestion(text="t", key_question=Label(tax.key_question_of(statement), 0.7),
                      statement=Label(statement, p_statement),
                      statement_top3=(Label(statement, p_statement), *(Label(s, p) for s, p in top3)),
                      evidence_category=None, band=BandLabel(best, band[best], band), principles=(), evidence=(),
                      sentences=(), needs_review=False, model_version="t",
                      key_questions=tuple(Label(k, p) for k, p in key_questions))


def test_a_suggestion_counts_under_its_likely_statements(tax: Taxonomy) -> None:
    from evidencenlp.assess.records import records_from_suggestion

    safe, caring, led = tax.statements_of("safe")[0], tax.statements_of("caring")[0], tax.statements_of("well-led")[0]
    kq_of = dict(zip(tax.statements, tax.statement_kq))
    s = _suggestion(tax, safe, {"good": 0.7, "requires_improvement": 0.3}, [(caring, 0.25), (led, 0.1)],
                    [("safe", 0.7), ("caring", 0.35)])
    records = records_from_suggestion(s, "n1", 1, "L", kq_of)
    # well-led is not a key question the model suggests: its statement is left out
    assert [(r.statement, r.weight, r.primary) for r in records] == [(safe, 0.6, True), (caring, 0.25, False)]
    assert records[0].band_probability("requires_improvement") == pytest.approx(0.3)
    loc = assess_records(records, FAST).locations[0]
    assert loc.n_notes == 1  # one note, placed twice
    assert loc.key_questions["caring"].rating is not None and loc.key_questions["caring"].statements[0].credibility == 0.25
    assert "primary" in loc.to_dict()["key_questions"]["caring"]["statements"][0]["notes"][0]


@pytest.fixture(scope="module")
def expected_score_frameworks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A frameworks copy whose evidence policy is the earlier one: expected scores, the rules applied once, a
    serious finding seen by the limiters only."""
    folder = tmp_path_factory.mktemp("expected") / "frameworks"
    shutil.copytree(REPO / "frameworks", folder)
    saf = folder / "cqc-saf-2023.yaml"
    text = saf.read_text(encoding="utf-8")
    for old, new in (("key_question_decision: posterior", "key_question_decision: expected_score"),
                     ("overall_decision: posterior", "overall_decision: key_question_ratings"),
                     ("serious_finding_scores_statement: true", "serious_finding_scores_statement: false")):
        assert old in text
        text = text.replace(old, new)
    saf.write_text(text, encoding="utf-8")
    return folder


def test_serious_finding_from_the_expected_number_of_inadequate_notes(tax: Taxonomy,
                                                                      expected_score_frameworks: Path) -> None:
    """Under the expected-score policy (the posterior's draws are tested in test_assess_posterior.py)."""
    from functools import partial

    from evidencenlp.assess.records import records_from_suggestion

    assess = partial(assess_records, frameworks_dir=expected_score_frameworks)

    sts = tax.statements_of("responsive")
    kq_of = dict(zip(tax.statements, tax.statement_kq))
    good = [rec(tax, s, "good", note=f"g{i}{j}") for i, s in enumerate(sts[:4]) for j in range(3)]
    worry = {"inadequate": 0.65, "requires_improvement": 0.35}  # share 0.8 x 0.65 = 0.52: below 0.6 alone

    def worried(note: str) -> list[EvidenceRecord]:
        return records_from_suggestion(_suggestion(tax, sts[0], worry, [], [], p_statement=0.8), note, 1, "L", kq_of)

    one = assess([*good, *worried("w1")], FAST).locations[0].key_questions["responsive"]
    assert one.rating == "good" and not one.statements[0].serious_findings
    two = assess([*good, *worried("w1"), *worried("w2")], FAST).locations[0].key_questions["responsive"]
    # together 1.04 findings expected (at least one): the limiter applies, the notes are named
    assert two.range_rating == "good" and two.rating == "requires_improvement"
    assert two.statements[0].serious_findings == ("w1", "w2")


def test_a_tagged_file_with_band_probabilities_is_rated_as_raw_notes_are(tmp_path: Path) -> None:
    """`tag` writes every band's probability (band_probabilities), so `assess` on a tagged file samples and
    calibrates the bands as it does for raw notes; a file without the column keeps the single-band rule;
    a malformed cell is one clear error that names file, row and column."""
    import json

    tax = load_rules()[1]
    path = _hand_tagged(tmp_path)
    frame = pd.read_csv(path, dtype=str)
    uncertain = {b: (0.4 if b == "inadequate" else 0.6 / (len(tax.bands) - 1)) for b in tax.bands}
    frame = frame.assign(band_score=0.6, band_probabilities=[json.dumps(uncertain)] * len(frame))
    with_probs = tmp_path / "with.csv"
    frame.to_csv(with_probs, index=False)
    rated = assess_file(with_probs, location_column="location", options=FAST)
    without = assess_file(path, location_column="location", options=FAST)
    kq_with = [kq for loc in rated.locations for kq in loc.key_questions.values() if kq.rating is not None]
    kq_without = [kq for loc in without.locations for kq in loc.key_questions.values() if kq.rating is not None]
    assert any(kq.posterior for kq in kq_with)  # band probabilities known: the posterior decides
    assert not any(kq.posterior for kq in kq_without)  # hand labels with score 1: the rules once
    frame.loc[2, "band_probabilities"] = json.dumps({"good": 2.0})
    frame.to_csv(with_probs, index=False)
    with pytest.raises(InputFileError, match=r"with.csv: row 3, column 'band_probabilities': expected JSON") as err:
        assess_file(with_probs, location_column="location", options=FAST)
    assert frame.loc[2, "text"][:30] not in str(err.value)
