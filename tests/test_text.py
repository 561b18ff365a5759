"""Segmentation and identifier redaction."""

from __future__ import annotations

import pytest

from evidencenlp.text import find_identifiers, nhs_number_is_valid, pipeline, process, redact


@pytest.mark.parametrize("number,valid", [
    ("9434765919", True), ("4010232137", True), ("9434765918", False), ("1234567890", False),
    ("0000000000", True), ("943476591", False),
])
def test_nhs_modulus_11(number: str, valid: bool) -> None:
    assert nhs_number_is_valid(number) is valid


@pytest.mark.parametrize("text,kind", [
    ("NHS number 943 476 5919 on the form", "NHS_NUMBER"),
    ("nhs no: 943-476-5919.", "NHS_NUMBER"),
    ("ring 07700 900123 after 5", "PHONE"),
    ("call +44 20 7946 0958 please", "PHONE"),
    ("tel (0161) 496 0000", "PHONE"),
    ("lives at SW1A 1AA now", "POSTCODE"),
    ("moved to m1 5nn last year", "POSTCODE"),
    ("email jo.bloggs+care@example.co.uk today", "EMAIL"),
    ("DOB 12/03/1945, admitted", "DOB"),
    ("date of birth: 3rd March 1941", "DOB"),
    ("Mrs Khan said the food was cold", "NAME"),
    ("Dr. Patel reviewed her", "NAME"),
])
def test_true_positives(text: str, kind: str) -> None:
    kinds = [r.kind for r in find_identifiers(text)]
    assert kinds == [kind]
    assert f"[{kind}]" in redact(text)


@pytest.mark.parametrize("text", [
    "The home has 350 beds and 42 staff.",
    "Obs 14:10 call bell rm 12 rang 9 min.",
    "Falls per 1,000 bed days 3.1, down from 6.4.",
    "Hand hygiene audit 98% (target 95%) for 12 consecutive months in 2023.",
    "Visited on 12/03/2024 and again on 19/03/2024.",
    "Ref 1234567890 in the complaints log.",
    "0.5 WTE pharmacist; 2 HCAs; ward B5; 24/7 cover; 111 calls 2,345.",
    "Temperature range 2-8C recorded at 08:00 and 16:00.",
    "DNA rate 14% vs ICB avg 7%; 18 week RTT 61.2%.",
])
def test_no_false_positives(text: str) -> None:
    assert find_identifiers(text) == []
    assert redact(text) == text


def test_nhs_number_is_not_also_a_phone_number() -> None:
    found = find_identifiers("patient 943 476 5919 seen")
    assert [r.kind for r in found] == ["NHS_NUMBER"]


def test_process_redacts_note_and_sentences() -> None:
    p = process("Mrs Jones rang from 07700 900123. She was upset! Staff called back within the hour.")
    assert "07700" not in p.text and "Jones" not in p.text
    assert p.sentences == ("Mrs [NAME] rang from [PHONE].", "She was upset!", "Staff called back within the hour.")
    assert p.redactions == {"NAME": 1, "PHONE": 1}


def test_opt_out_keeps_text() -> None:
    p = process("Call 07700 900123.", redact=False)
    assert p.text == "Call 07700 900123." and p.redactions == {}


def test_redactor_is_a_spacy_component() -> None:
    nlp = pipeline()
    assert nlp.pipe_names == ["sentencizer", "evidencenlp_redactor"]
    doc = nlp("email a@b.com now")
    assert [s.label_ for s in doc.spans["redactions"]] == ["EMAIL"]


@pytest.mark.parametrize("text,expected", [
    ("Mrs Patel's daughter (07700 900123) visits", "Mrs [NAME]'s daughter ([PHONE]) visits"),
    ("Mr O'Brien and Dr Smith-Jones agreed", "Mr [NAME] and Dr [NAME] agreed"),
    ("tel (0161) 496 0000.", "tel [PHONE]."),
    ("Mrs K Jones said", "Mrs [NAME] said"),
])
def test_redaction_keeps_surrounding_punctuation(text: str, expected: str) -> None:
    assert redact(text) == expected
