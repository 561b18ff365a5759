"""Checks on the committed KLOE framework (frameworks/cqc-kloe-healthcare-2018.yaml), its ratings
override file and the SAF crosswalk (frameworks/crosswalk.yaml). Offline and fast; only the
rebuild tests need the seeds beside the repository (<repo>/../shared/seeds) and skip without them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = REPO / "frameworks"
SCHEMAS = REPO / "src" / "evidencenlp" / "schemas"
KLOE_FILE = FRAMEWORKS / "cqc-kloe-healthcare-2018.yaml"
OVERRIDES = FRAMEWORKS / "overrides" / "kloe-ratings.yaml"
CROSSWALK_FILE = FRAMEWORKS / "crosswalk.yaml"
SEEDS = REPO.parent / "shared" / "seeds"
REFERENCE = REPO.parent / "shared" / "reference"

BANDS = ["outstanding", "good", "requires_improvement", "inadequate"]
KEY_QUESTIONS = ["safe", "effective", "caring", "responsive", "well-led"]
KLOE_IDS = ([f"S{n}" for n in range(1, 7)] + [f"E{n}" for n in range(1, 7)] + [f"C{n}" for n in range(1, 4)]
            + [f"R{n}" for n in range(1, 5)] + [f"W{n}" for n in range(1, 9)])

SAF_IDS = [
    "safe.learning-culture", "safe.safe-systems-pathways-transitions", "safe.safeguarding",
    "safe.involving-people-to-manage-risks", "safe.safe-environments", "safe.safe-and-effective-staffing",
    "safe.infection-prevention-and-control", "safe.medicines-optimisation",
    "effective.assessing-needs", "effective.delivering-evidence-based-care",
    "effective.how-staff-teams-and-services-work-together", "effective.supporting-people-to-live-healthier-lives",
    "effective.monitoring-and-improving-outcomes", "effective.consent-to-care-and-treatment",
    "caring.kindness-compassion-and-dignity", "caring.treating-people-as-individuals",
    "caring.independence-choice-and-control", "caring.responding-to-immediate-needs",
    "caring.workforce-wellbeing-and-enablement",
    "responsive.person-centred-care", "responsive.care-provision-integration-and-continuity",
    "responsive.providing-information", "responsive.listening-to-and-involving-people",
    "responsive.equity-in-access", "responsive.equity-in-experiences-and-outcomes",
    "responsive.planning-for-the-future",
    "well-led.shared-direction-and-culture", "well-led.capable-compassionate-and-inclusive-leaders",
    "well-led.freedom-to-speak-up", "well-led.workforce-equality-diversity-and-inclusion",
    "well-led.governance-management-and-sustainability", "well-led.partnerships-and-communities",
    "well-led.learning-improvement-and-innovation", "well-led.environmental-sustainability",
]

V6_TOPICS = [
    "safe.safety-culture", "safe.managing-risks-during-care-and-treatment",
    "safe.safe-systems-pathways-and-transitions", "safe.safeguarding",
    "safe.safe-environments-and-infection-prevention-and-control", "safe.safe-staffing",
    "safe.safe-delivery-of-treatments-and-medicines",
    "effective.assessing-needs", "effective.delivering-evidence-based-care-and-treatment", "effective.outcomes",
    "effective.supporting-people-to-live-healthier-lives", "effective.consent-to-care-and-treatment",
    "caring.kindness-compassion-and-dignity", "caring.person-centred-care", "caring.independence-choice-and-control",
    "responsive.care-provision-integration-and-continuity", "responsive.listening-and-responding-to-feedback",
    "responsive.timely-and-equitable-access", "responsive.equity-in-experience",
    "well-led.strategic-direction", "well-led.workforce-equity-and-culture",
    "well-led.capable-and-compassionate-leaders", "well-led.governance",
    "well-led.management-of-risk-performance-and-issues", "well-led.partnerships-and-communities",
    "well-led.improvement-innovation-and-learning",
]


@pytest.fixture(scope="module")
def kloe_doc() -> dict[str, Any]:
    return yaml.safe_load(KLOE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def crosswalk() -> dict[str, Any]:
    return yaml.safe_load(CROSSWALK_FILE.read_text(encoding="utf-8"))


def _strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a loaded YAML document (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _all_ratings(doc: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(owner id, band, descriptors) for every key question and KLOE."""
    for item in doc["key_questions"] + doc["kloes"]:
        for band, descriptors in item.get("ratings", {}).items():
            yield item["id"], band, descriptors


# ------------------------------------------------------------------ the KLOE framework file


def test_kloe_file_validates_against_schema(kloe_doc: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / "framework.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(kloe_doc), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert kloe_doc["id"] == "cqc-kloe-healthcare-2018"
    assert kloe_doc["publisher"] == "Care Quality Commission"
    assert kloe_doc["source"] == "002_ee63faa6ffc96010.txt"


def test_key_questions_in_order_with_all_bands(kloe_doc: dict[str, Any]) -> None:
    assert [kq["id"] for kq in kloe_doc["key_questions"]] == KEY_QUESTIONS
    for kq in kloe_doc["key_questions"]:
        assert kq["description"].startswith(f"By {kq['id']}, we mean"), kq["id"]
        assert list(kq["ratings"]) == BANDS, kq["id"]
        assert all(kq["ratings"][band] for band in BANDS), kq["id"]


def test_kloe_ids_and_questions(kloe_doc: dict[str, Any]) -> None:
    kloes = kloe_doc["kloes"]
    assert [kloe["id"] for kloe in kloes] == KLOE_IDS
    letters = dict(zip("SECRW", KEY_QUESTIONS))
    for kloe in kloes:
        assert kloe["key_question"] == letters[kloe["id"][0]]
        assert kloe["question"].strip().endswith("?"), kloe["id"]
        assert kloe["applies_to"] == "All health", kloe["id"]
        assert kloe["source"] == f"002_ee63faa6ffc96010.txt#{kloe['id']}"


def test_prompts_prefixed_unique_and_numbered(kloe_doc: dict[str, Any]) -> None:
    seen: set[str] = set()
    for kloe in kloe_doc["kloes"]:
        prompts = kloe["prompts"]
        assert prompts, f"{kloe['id']} has no prompts"
        ids = [prompt["id"] for prompt in prompts]
        assert ids == [f"{kloe['id']}.{n}" for n in range(1, len(ids) + 1)], ids
        assert not seen & set(ids)
        seen.update(ids)
        for prompt in prompts:
            assert prompt["text"].strip() and prompt["applies_to"].strip(), prompt["id"]
            assert prompt["text"].endswith(("?", ".", ")")), prompt
    assert len(seen) == 162


def test_prompt_spot_checks(kloe_doc: dict[str, Any]) -> None:
    prompts = {p["id"]: p for kloe in kloe_doc["kloes"] for p in kloe["prompts"]}
    assert prompts["S4.6"]["text"].startswith("Are people receiving appropriate therapeutic drug")  # seed: "S.4.6"
    assert prompts["S1.8"]["applies_to"] == "NOT: NHS 111"
    assert prompts["S2.4"]["applies_to"] == "NOT: ambulance services, GP practices, GP out-of-hours, dental practices, NHS 111"
    assert prompts["E4.5"]["applies_to"] == "NHS acute & independent hospitals only"
    assert prompts["R2.8"]["applies_to"].startswith("All health; Acute and community health services only")
    assert prompts["E5.1"]["text"] == (
        "Are people identified who may need extra support? This includes: people in the last 12 months of "
        "their lives; people at risk of developing a long-term condition; carers.")


def test_every_kloe_has_ratings_in_all_bands(kloe_doc: dict[str, Any]) -> None:
    for kloe in kloe_doc["kloes"]:
        assert list(kloe["ratings"]) == BANDS, kloe["id"]
        assert all(kloe["ratings"][band] for band in BANDS), kloe["id"]


def test_no_html_or_bullets_anywhere(kloe_doc: dict[str, Any]) -> None:
    for text in _strings(kloe_doc):
        assert not re.search(r"<[a-zA-Z/][^>]*>|&[a-z]+;", text), text
        assert not re.search(r"[•●▪◦✓✔]", text), text
        assert text == " ".join(text.split()), f"untidy whitespace: {text!r}"


def test_descriptors_are_whole_sentences(kloe_doc: dict[str, Any]) -> None:
    for owner, band, descriptors in _all_ratings(kloe_doc):
        assert descriptors, (owner, band)
        assert len(descriptors) == len(set(descriptors)), (owner, band)
        for text in descriptors:
            assert re.match(r"^[A-Z0-9('\"]", text), (owner, band, text)
            assert text.endswith((".", "?", "!")), (owner, band, text)
            assert not re.search(r"[A-Za-z]- ", text), (owner, band, text)  # broken hyphenation


def test_descriptor_counts(kloe_doc: dict[str, Any]) -> None:
    counts = {band: 0 for band in BANDS}
    for owner, band, descriptors in _all_ratings(kloe_doc):
        if owner not in KEY_QUESTIONS:
            counts[band] += len(descriptors)
    assert counts == {"outstanding": 106, "good": 167, "requires_improvement": 128, "inadequate": 121}


def test_ratings_spot_checks(kloe_doc: dict[str, Any]) -> None:
    kloes = {kloe["id"]: kloe for kloe in kloe_doc["kloes"]}
    s1_good = kloes["S1"]["ratings"]["good"][0]
    assert s1_good.startswith("There are clearly defined and embedded systems")
    assert "These: are reliable and minimise the potential for error; reflect national" in s1_good
    assert s1_good.endswith("are reviewed regularly and improved when needed.")
    assert kloes["S4"]["ratings"]["outstanding"][1] == (
        "Compliance with medicines policy and procedure is routinely monitored and action plans are always "
        "implemented promptly.")  # continues on the next PDF page
    assert kloes["E3"]["ratings"]["requires_improvement"][-1] == (
        "Volunteers are recruited, but they are not given effective training or support.")
    assert kloes["W6"]["ratings"]["requires_improvement"][-1].endswith("are not always robust.")
    assert kloes["C1"]["ratings"]["outstanding"][2] == "There is a strong, visible person-centred culture."


def test_ratings_notes_point_at_descriptors(kloe_doc: dict[str, Any]) -> None:
    noted = {kloe["id"]: kloe["ratings_notes"] for kloe in kloe_doc["kloes"] if "ratings_notes" in kloe}
    assert sorted(noted) == ["E6", "R1", "S2", "W4"]
    kloes = {kloe["id"]: kloe for kloe in kloe_doc["kloes"]}
    for kloe_id, notes in noted.items():
        for note in notes:
            assert note["note"].startswith("The following characteristic")
            for band, positions in note["descriptors"].items():
                assert all(0 <= i < len(kloes[kloe_id]["ratings"][band]) for i in positions)
    w4 = noted["W4"][0]
    assert w4["note"] == "The following characteristic only applies to specialist mental health services"
    assert "outstanding" not in w4["descriptors"]
    assert kloes["W4"]["ratings"]["good"][w4["descriptors"]["good"][0]].startswith("CQC's Mental Health Act")


def test_override_file_documents_its_conventions() -> None:
    text = OVERRIDES.read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "lead-in" in header.lower() and "verif" in header.lower()
    data = yaml.safe_load(text)
    assert list(data) == ["safe", *KLOE_IDS[:6], "effective", *KLOE_IDS[6:12], "caring", *KLOE_IDS[12:15],
                          "responsive", *KLOE_IDS[15:19], "well-led", *KLOE_IDS[19:]]


# ------------------------------------------------------------------ rebuild from the seeds


def _need_seeds() -> None:
    if not (SEEDS / "002_ee63faa6ffc96010.txt").is_file():
        pytest.skip(f"seeds not available at {SEEDS}")


def test_rebuild_is_byte_identical() -> None:
    _need_seeds()
    from evidencenlp.framework_build.run import render

    rebuilt = render("cqc-kloe-healthcare-2018", SEEDS, REFERENCE)
    assert rebuilt == KLOE_FILE.read_text(encoding="utf-8"), "rebuild differs: rerun the builder and commit"


# A ratings table as the PDF extraction lays it out (seed lines 1216-1244, S5): each column is a
# block of wrapped lines, in column order. Used to check the verifier without the seeds.
S5_TABLE = """Outstanding Good Requires improvement Inadequate

The provider has a sustained
track record of safety supported
by accurate performance
information.
There is ongoing, consistent
progress towards safety goals
reflected in a zero-harm culture.

Monitoring and reviewing activity enables
staff to understand risks and gives a clear,
accurate and current picture of safety.
Performance shows a good track record
and steady improvements in safety.

Information about safety is
not always comprehensive
or timely. Safety is not
improved over time.

Safety is not a sufficient
priority. There is limited
measurement and
monitoring of safety
performance. There are
unacceptable levels of
serious incidents, or
significant or never events.
"""


def _s5_override() -> dict[str, list[str]]:
    data = yaml.safe_load(OVERRIDES.read_text(encoding="utf-8"))["S5"]
    return {band: list(data[band]) for band in BANDS}


def _verify_s5(bands: dict[str, list[str]]) -> None:
    from evidencenlp.framework_build.kloe import OverrideGroup, SeedSection, cut_blocks, verify_section

    lines = S5_TABLE.split("\n")
    section = SeedSection("S5", 1, cut_blocks(list(enumerate(lines, start=1))[1:]))
    verify_section(section, [OverrideGroup("", bands)])


def test_verifier_accepts_the_reviewed_s5_table() -> None:
    _verify_s5(_s5_override())


@pytest.mark.parametrize("change", ["wrong band", "swapped bands", "changed word", "glued", "cut", "dropped"])
def test_verifier_rejects_bad_descriptors(change: str) -> None:
    from evidencenlp.framework_build.kloe import KloeBuildError

    bands = _s5_override()
    if change == "wrong band":
        bands["inadequate"].insert(0, bands["requires_improvement"].pop(0))
    elif change == "swapped bands":
        bands["requires_improvement"], bands["inadequate"] = bands["inadequate"], bands["requires_improvement"]
    elif change == "changed word":
        bands["good"][0] = bands["good"][0].replace("clear", "full")
    elif change == "glued":
        bands["good"][0:2] = [" ".join(bands["good"][0:2])]
    elif change == "cut":
        first = bands["outstanding"][0]
        cut = first.index(" supported")
        bands["outstanding"][0:1] = [first[:cut], first[cut + 1:].capitalize()]
    else:
        bands["inadequate"].pop()
    with pytest.raises(KloeBuildError, match="S5"):
        _verify_s5(bands)


# ------------------------------------------------------------------ the crosswalk


def test_crosswalk_validates(crosswalk: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / "crosswalk.schema.json").read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(crosswalk))
    assert not errors, [e.message for e in errors[:5]]
    assert crosswalk["id"] == "crosswalk"
    assert crosswalk["frameworks"] == {"saf": "cqc-saf-2023", "v6": "cqc-pcc-v6-draft",
                                       "kloe": "cqc-kloe-healthcare-2018", "principles": "kingsfund-outstanding-2026"}


def test_crosswalk_has_one_row_per_saf_statement(crosswalk: dict[str, Any]) -> None:
    assert [row["saf"] for row in crosswalk["mappings"]] == SAF_IDS


def test_crosswalk_covers_all_v6_topics_and_only_those(crosswalk: dict[str, Any]) -> None:
    used = [topic for row in crosswalk["mappings"] for topic in row["v6"]]
    assert set(used) == set(V6_TOPICS)
    for row in crosswalk["mappings"]:
        assert row["v6"], row["saf"]
        assert len(row["v6"]) == len(set(row["v6"])), row["saf"]


def test_crosswalk_kloe_ids_exist(crosswalk: dict[str, Any], kloe_doc: dict[str, Any]) -> None:
    known = {kloe["id"] for kloe in kloe_doc["kloes"]}
    used = [kloe for row in crosswalk["mappings"] for kloe in row["kloe"]]
    assert set(used) <= known
    assert set(used) == known, f"KLOEs in no row: {sorted(known - set(used))}"
    for row in crosswalk["mappings"]:
        assert len(row["kloe"]) == len(set(row["kloe"])), row["saf"]


def test_crosswalk_judgements_are_explained(crosswalk: dict[str, Any]) -> None:
    judged = [row for row in crosswalk["mappings"] if row["judgement"]]
    assert judged, "expected some judgement rows"
    for row in judged:
        assert len(row.get("note", "")) > 40, row["saf"]
    for row in crosswalk["mappings"]:
        if not row["kloe"]:
            assert row["judgement"] and "KLOE" in row["note"], row["saf"]
