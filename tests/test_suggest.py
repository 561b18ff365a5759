"""The Suggester with the real offline encoder and the shipped heads: the output contract."""

from __future__ import annotations

import json

import pytest

from evidencenlp.errors import InputFileError
from evidencenlp.tagging import FLAT_COLUMNS, flat_row
from evidencenlp.taxonomy import default_taxonomy

TAXONOMY = default_taxonomy()
KEY_QUESTIONS, BANDS, EVIDENCE_CATEGORIES = TAXONOMY.key_questions, TAXONOMY.bands, TAXONOMY.categories

NOTE = ("Obs 10:40 call bell in room 14 rang for 11 minutes before anyone came. "
        "Mrs Khan (07700 900123) said she is often left waiting for the toilet.")


@pytest.fixture(scope="module")
def result(suggester):
    return suggester.suggest(NOTE)


def test_contract_fields_and_types(result, suggester) -> None:
    d = json.loads(json.dumps(result.to_dict()))
    for key in ("text", "key_question", "statement", "statement_top3", "evidence_category", "band", "principles",
                "evidence", "sentences", "needs_review", "model_version"):
        assert key in d
    assert d["key_question"]["label"] in KEY_QUESTIONS
    assert d["statement"]["label"] in suggester.index.statements
    assert d["statement"]["label"].split(".")[0] == d["key_question"]["label"]  # kept consistent
    assert [x["label"] for x in d["statement_top3"]][0] == d["statement"]["label"]
    assert len(d["statement_top3"]) == 3
    scores = [x["score"] for x in d["statement_top3"]]
    assert scores == sorted(scores, reverse=True)
    assert d["evidence_category"]["label"] in EVIDENCE_CATEGORIES
    assert set(d["band"]["probabilities"]) == set(BANDS)
    assert abs(sum(d["band"]["probabilities"].values()) - 1) < 1e-3
    assert d["band"]["label"] == max(d["band"]["probabilities"], key=d["band"]["probabilities"].get)
    for ev in d["evidence"]:
        assert set(ev) == {"framework", "item", "band", "text", "similarity", "weak"}
        assert isinstance(ev["weak"], bool)
        assert -1 <= ev["similarity"] <= 1
    assert isinstance(d["needs_review"], bool)
    assert d["model_version"].startswith("heads-")


def test_text_is_redacted_and_split_into_sentences(result) -> None:
    assert "Khan" not in result.text and "07700" not in result.text
    assert len(result.sentences) == 2
    assert all("07700" not in s.text for s in result.sentences)


def test_explaining_sentence_fits_the_suggestion(result, suggester) -> None:
    primary = result.evidence[0]
    linked = suggester.index.crosswalk.saf_for(primary.text.framework, primary.text.item)
    assert result.statement.label in linked
    if primary.text.band is not None:
        assert primary.text.band == result.band.label


def test_plausible_suggestions_on_clear_notes(suggester) -> None:
    """Clear-cut notes written for this test (not in the training data)."""
    notes = {
        "Controlled drugs register had three missing entries and two unexplained stock discrepancies.": "safe",
        "Patients told us they could not get an appointment for three weeks and the phone line was engaged all morning.": "responsive",
        "The board has no oversight of risks; the risk register has not been reviewed for two years.": "well-led",
    }
    results = suggester.suggest_many(list(notes))
    assert [r.key_question.label for r in results] == list(notes.values())
    assert all(r.band.label in ("requires_improvement", "inadequate") for r in results)


def test_low_confidence_needs_review(suggester) -> None:
    result = suggester.suggest("Visited on Tuesday.")
    assert result.needs_review is True


def test_blank_notes(suggester) -> None:
    assert suggester.suggest_many(["", "   ", None, "Staff were kind."])[:3] == [None, None, None]
    with pytest.raises(InputFileError):
        suggester.suggest("  ")


def test_flat_row(result) -> None:
    row = flat_row(result)
    assert tuple(row) == FLAT_COLUMNS
    assert row["statement_top3"].count(";") == 2


def test_opt_out_of_redaction(suggester) -> None:
    from evidencenlp.suggest import Suggester

    plain = Suggester(suggester.index, suggester.classifier, redact=False)
    assert "07700 900123" in plain.suggest("Ring 07700 900123 about the falls.").text


def test_library_import_without_cli() -> None:
    import evidencenlp

    assert evidencenlp.Suggester.__name__ == "Suggester"
    assert callable(evidencenlp.load_frameworks)
