"""Checks of the committed v6 draft, King's Fund and SAF framework files (fast, offline).

The files under ``frameworks/`` are read as committed. Only the tests that need the workspace's
source documents (``<repo>/../shared``) skip when those are absent: the rebuild test, and the
field-for-field comparison with the reference TSV.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = REPO / "frameworks"
SCHEMA = REPO / "src" / "evidencenlp" / "schemas" / "framework.schema.json"
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
REFERENCE = SHARED / "reference"

V6, KF, SAF = "cqc-pcc-v6-draft", "kingsfund-outstanding-2026", "cqc-saf-2023"
MINE = (V6, KF, SAF)
BANDS = ["outstanding", "good", "requires_improvement", "inadequate"]

V6_TOPIC_IDS = [
    "safe.safety-culture", "safe.managing-risks-during-care-and-treatment",
    "safe.safe-systems-pathways-and-transitions", "safe.safeguarding",
    "safe.safe-environments-and-infection-prevention-and-control", "safe.safe-staffing",
    "safe.safe-delivery-of-treatments-and-medicines",
    "effective.assessing-needs", "effective.delivering-evidence-based-care-and-treatment",
    "effective.outcomes", "effective.supporting-people-to-live-healthier-lives",
    "effective.consent-to-care-and-treatment",
    "caring.kindness-compassion-and-dignity", "caring.person-centred-care",
    "caring.independence-choice-and-control",
    "responsive.care-provision-integration-and-continuity",
    "responsive.listening-and-responding-to-feedback", "responsive.timely-and-equitable-access",
    "responsive.equity-in-experience",
    "well-led.strategic-direction", "well-led.workforce-equity-and-culture",
    "well-led.capable-and-compassionate-leaders", "well-led.governance",
    "well-led.management-of-risk-performance-and-issues", "well-led.partnerships-and-communities",
    "well-led.improvement-innovation-and-learning",
]
PRINCIPLES = {"person_centred": 6, "compassionate_inclusive_leadership": 6, "equity_inclusion": 6,
              "learning_improvement_innovation": 6, "purposeful_positive_difference": 4}
EVIDENCE_CATEGORIES = ["people_experience", "staff_leaders_feedback", "partner_feedback",
                       "observation", "processes", "outcomes"]
HTML_TAG = re.compile(r"<[a-zA-Z/][^>]*>")
BULLET_CHARS = ("•", "✓", "●", "▪")
TLAP_REMARK = "Not authentic TLAP"


def load(framework_id: str) -> dict[str, Any]:
    """The committed framework file as data."""
    return yaml.safe_load((FRAMEWORKS / f"{framework_id}.yaml").read_text(encoding="utf-8"))


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string value (and mapping key) in a document, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", str(key)
            yield from strings(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def topics_by_id() -> dict[str, dict[str, Any]]:
    """The v6 topics keyed by id."""
    return {topic["id"]: topic for topic in load(V6)["topics"]}


# --- all three files -----------------------------------------------------------------------------

@pytest.mark.parametrize("framework_id", MINE)
def test_file_validates_against_schema(framework_id: str) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in jsonschema.Draft202012Validator(schema).iter_errors(load(framework_id))]
    assert errors == []


@pytest.mark.parametrize("framework_id", MINE)
def test_file_id_matches_its_name(framework_id: str) -> None:
    assert load(framework_id)["id"] == framework_id


@pytest.mark.parametrize("framework_id", MINE)
def test_no_html_or_bullet_characters_anywhere(framework_id: str) -> None:
    bad = [(path, text[:60]) for path, text in strings(load(framework_id))
           if HTML_TAG.search(text) or any(char in text for char in BULLET_CHARS)]
    assert bad == []


@pytest.mark.parametrize("framework_id", MINE)
def test_no_double_spaces_or_untrimmed_strings(framework_id: str) -> None:
    bad = [path for path, text in strings(load(framework_id))
           if text != text.strip() or "  " in text or "\n" in text]
    assert bad == []


@pytest.mark.parametrize("framework_id", MINE)
def test_ids_are_unique_within_each_list(framework_id: str) -> None:
    doc = load(framework_id)
    for key in ("key_questions", "bands", "evidence_categories", "quality_statements", "topics",
                "principles"):
        ids = [item["id"] for item in doc.get(key, [])]
        assert len(ids) == len(set(ids)), key


# --- v6 draft ------------------------------------------------------------------------------------

def test_v6_has_the_26_topic_ids_in_order() -> None:
    assert [topic["id"] for topic in load(V6)["topics"]] == V6_TOPIC_IDS


def test_v6_topic_counts_per_key_question() -> None:
    counts = Counter(topic["key_question"] for topic in load(V6)["topics"])
    assert counts == {"safe": 7, "effective": 5, "caring": 3, "responsive": 4, "well-led": 7}


def test_v6_topic_id_prefix_is_its_key_question() -> None:
    for topic in load(V6)["topics"]:
        assert topic["id"].split(".")[0] == topic["key_question"]


def test_v6_every_topic_has_four_non_empty_bands() -> None:
    for topic in load(V6)["topics"]:
        assert list(topic["descriptors"]) == BANDS, topic["id"]
        assert all(topic["descriptors"][band] for band in BANDS), topic["id"]


def test_v6_topics_have_question_scope_and_source() -> None:
    for topic in load(V6)["topics"]:
        assert topic["question"].endswith("?"), topic["id"]
        assert topic["scope"], topic["id"]
        assert topic["source"] == f"003_a9319b8e2ca5564c.txt#{topic['id']}"


def test_v6_long_descriptors_are_whole_sentences() -> None:
    bad = [(topic["id"], band, text[-50:])
           for topic in load(V6)["topics"] for band in BANDS
           for text in topic["descriptors"][band]
           if len(text) > 40 and not text.endswith((".", "?", "!"))]
    assert bad == []


def test_v6_descriptors_start_like_a_sentence() -> None:
    # a lower-case start means a page-split bullet was not rejoined to its first half
    bad = [(topic["id"], band, text[:50])
           for topic in load(V6)["topics"] for band in BANDS
           for text in topic["descriptors"][band] if not text[0].isupper()]
    assert bad == []


def test_v6_page_split_bullets_are_rejoined() -> None:
    topics = topics_by_id()
    outstanding = topics["safe.safety-culture"]["descriptors"]["outstanding"]
    assert ("Hazards and risks are identified proactively, and these are assessed and mitigated "
            "thoroughly to avoid adverse outcomes. Solutions to risks are developed collaboratively "
            "and the effectiveness of the controls is monitored and measured.") in outstanding
    consent = topics["effective.consent-to-care-and-treatment"]["descriptors"]["outstanding"]
    assert any("accurate, up-to-date and tailored" in text for text in consent)
    staffing = topics["safe.safe-staffing"]["descriptors"]["outstanding"]
    assert staffing[-1].startswith("There is a proactive support and appraisal system for staff.")


def test_v6_descriptor_counts_per_band() -> None:
    totals = Counter()
    for topic in load(V6)["topics"]:
        for band in BANDS:
            totals[band] += len(topic["descriptors"][band])
    assert totals == {"outstanding": 139, "good": 175, "requires_improvement": 149,
                      "inadequate": 151}


def test_v6_key_questions() -> None:
    key_questions = load(V6)["key_questions"]
    assert [kq["id"] for kq in key_questions] == ["safe", "effective", "caring", "responsive",
                                                  "well-led"]
    assert key_questions[0]["you_statement"] == "You are protected from abuse and avoidable harm."
    assert [len(kq.get("i_statements", [])) for kq in key_questions] == [6, 3, 5, 5, 0]


def test_v6_not_authentic_tlap_flags() -> None:
    # the seed carries the remark on two I statements (safe and responsive)
    flagged = [(kq["id"], item["text"]) for kq in load(V6)["key_questions"]
               for item in kq.get("i_statements", []) if item["not_authentic_tlap"]]
    assert [kq for kq, _ in flagged] == ["safe", "responsive"]
    assert flagged[0][1].endswith("I know why and am involved in the decision")
    for path, text in strings(load(V6)):
        assert TLAP_REMARK not in text, path


# --- King's Fund ---------------------------------------------------------------------------------

def test_kf_principle_ids_and_illustration_counts() -> None:
    principles = load(KF)["principles"]
    assert {p["id"]: len(p["illustrations"]) for p in principles} == PRINCIPLES
    assert [p["id"] for p in principles] == list(PRINCIPLES)


def test_kf_titles_definitions_and_sources() -> None:
    for principle in load(KF)["principles"]:
        assert principle["definition"].startswith("Outstanding care ")
        assert principle["source"] == ("000_f9b0181f3a484340.txt#04 Principles for outstanding "
                                       f"care/{principle['title']}")
    assert load(KF)["principles"][4]["title"].endswith("people who use services, staff and the "
                                                       "wider system")


def test_kf_long_texts_are_whole_sentences() -> None:
    for principle in load(KF)["principles"]:
        for text in [principle["definition"], *principle["illustrations"]]:
            assert len(text) <= 40 or text.endswith((".", "?", "!")), text


# --- SAF -----------------------------------------------------------------------------------------

def test_saf_has_34_statements_per_key_question() -> None:
    counts = Counter(s["key_question"] for s in load(SAF)["quality_statements"])
    assert counts == {"safe": 8, "effective": 6, "caring": 5, "responsive": 7, "well-led": 8}
    for statement in load(SAF)["quality_statements"]:
        assert statement["id"].startswith(statement["key_question"] + ".")
        assert statement["we_statement"].startswith("We ")


def test_saf_statements_equal_the_reference_tsv() -> None:
    path = REFERENCE / "saf-quality-statements.tsv"
    if not path.exists():
        pytest.skip(f"{path} not available")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 34
    assert load(SAF)["quality_statements"] == [
        {key: (row[key] or "").strip() for key in ("id", "key_question", "title", "we_statement",
                                                   "verified", "source")} for row in rows]


def test_saf_key_questions_have_description_and_source() -> None:
    key_questions = load(SAF)["key_questions"]
    assert [kq["id"] for kq in key_questions] == ["safe", "effective", "caring", "responsive",
                                                  "well-led"]
    for kq in key_questions:
        assert kq["description"].startswith(f"By {kq['id']}, we mean ")
        assert kq["source"]


def test_saf_evidence_categories() -> None:
    categories = load(SAF)["evidence_categories"]
    assert [c["id"] for c in categories] == EVIDENCE_CATEGORIES
    assert all(len(c["description"]) > 10 for c in categories)


def test_saf_bands_and_statement_scores() -> None:
    doc = load(SAF)
    assert [(b["id"], b["score"]) for b in doc["bands"]] == list(zip(BANDS, [4, 3, 2, 1]))
    assert [(s["band"], s["score"]) for s in doc["rating_rules"]["statement_scores"]] == \
        list(zip(BANDS, [4, 3, 2, 1]))


def test_saf_key_question_thresholds_are_numbers() -> None:
    thresholds = load(SAF)["rating_rules"]["key_question_thresholds"]
    got = [(t["band"], t["min_percent"], t.get("max_percent")) for t in thresholds]
    assert got == [("inadequate", 25, 38), ("requires_improvement", 39, 62), ("good", 63, 87),
                   ("outstanding", 88, None)]
    for threshold in thresholds:
        for key in ("min_percent", "max_percent"):
            value = threshold.get(key, 0)
            assert isinstance(value, (int, float)) and not isinstance(value, bool)


def test_saf_limiters() -> None:
    limiters = load(SAF)["rating_rules"]["limiters"]
    assert [(x["when_band"], x["any_statement_score_at_most"], x["limit_to"]) for x in limiters] \
        == [("good", 1, "requires_improvement"), ("outstanding", 2, "good")]


def overall_rating(ratings: list[str], breach: bool = False) -> str:
    """Apply the file's ordered overall rules (first match wins) to five key question ratings."""
    counts = Counter(ratings)
    for rule in load(SAF)["rating_rules"]["overall"]:
        if all(counts[b] >= n for b, n in rule.get("min_count", {}).items()) and \
                all(counts[b] <= n for b, n in rule.get("max_count", {}).items()):
            return rule.get("cap_if_regulation_breach", rule["rating"]) if breach \
                else rule["rating"]
    raise AssertionError(f"no overall rule matches {ratings}")


@pytest.mark.parametrize(("ratings", "breach", "expected"), [
    (["outstanding"] * 2 + ["good"] * 3, False, "outstanding"),
    (["outstanding"] * 5, False, "outstanding"),
    (["outstanding"] + ["good"] * 4, False, "good"),
    (["outstanding"] * 2 + ["good"] * 2 + ["requires_improvement"], False, "good"),
    (["good"] * 3 + ["requires_improvement"] * 2, False, "requires_improvement"),
    (["inadequate"] * 2 + ["requires_improvement"] * 2 + ["good"], False, "inadequate"),
    (["inadequate"] + ["good"] * 4, False, "requires_improvement"),
    (["outstanding"] * 2 + ["good"] * 3, True, "requires_improvement"),
    (["inadequate"] * 3 + ["good"] * 2, True, "inadequate"),
])
def test_saf_overall_rules_in_order(ratings: list[str], breach: bool, expected: str) -> None:
    assert overall_rating(ratings, breach) == expected


# --- rebuild -------------------------------------------------------------------------------------

def seed_table_text(seed: Path) -> dict[str, str]:
    """Band -> letters and digits of every v6 seed table cell in that band's column, in order."""
    text: dict[str, str] = {band: "" for band in BANDS}
    columns: list[str] = []
    for line in seed.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if cells[0] == "Outstanding":
            columns = [cell.lower().replace(" ", "_") for cell in cells]
        elif columns and len(cells) == len(columns):
            for band, cell in zip(columns, cells):
                text[band] += re.sub(r"[\W_]+", "", HTML_TAG.sub("", cell).replace("&nbsp;", ""))
    return text


def test_rebuild_from_seeds_is_byte_identical() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not available")
    from evidencenlp.framework_build.run import render

    for framework_id in MINE:
        committed = (FRAMEWORKS / f"{framework_id}.yaml").read_text(encoding="utf-8")
        assert render(framework_id, SEEDS, REFERENCE) == committed, framework_id
    # and no table text was lost, duplicated or moved to another band column
    seed = seed_table_text(SEEDS / "003_a9319b8e2ca5564c.txt")
    for band in BANDS:
        built = "".join(text for topic in load(V6)["topics"] for text in topic["descriptors"][band])
        assert re.sub(r"[\W_]+", "", built) == seed[band], band
