"""Sentence segmentation without the redactor, and a cheap test for a note of one sentence.

:func:`segmenter` is the pipeline of :func:`evidencenlp.text.pipeline` without its redactor (the
identifiers of a batch are found apart, with pre-filters). :func:`one_sentence` says, from the
characters alone, when spaCy's sentencizer cannot cut a note, so that such a note (most short
feedback) skips spaCy: its one sentence is the whole note.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


_NUMBER_ABBREVIATIONS = frozenset("no nos num tel mob ext fax ref hosp".split())


def number_abbreviations_component(doc: Doc) -> Doc:
    """spaCy component, after the sentencizer: no sentence break between "No." and the number after it."""
    for i in range(1, len(doc) - 1):
        if doc[i].text == "." and doc[i - 1].lower_ in _NUMBER_ABBREVIATIONS and doc[i + 1].is_sent_start \
                and any(c.isdigit() for c in doc[i + 1].text):
            doc[i + 1].is_sent_start = False
    return doc


@lru_cache(maxsize=1)
def segmenter() -> Language:
    """A blank-English pipeline with the sentencizer and the "No." rule of :func:`evidencenlp.text.pipeline`,
    without the redactor. Built once."""
    from evidencenlp.spacy_import import import_spacy

    spacy = import_spacy()  # without the torch import thinc would make
    from spacy.language import Language

    if "evidencenlp_number_abbreviations" not in Language.factories:
        Language.component("evidencenlp_number_abbreviations", func=number_abbreviations_component)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("evidencenlp_number_abbreviations")
    return nlp


def _punct_chars() -> set[str]:
    """The sentencizer's ``punct_chars`` (the characters after which it may start a sentence)."""
    nlp = segmenter()  # first: spaCy is imported the way evidencenlp imports it (evidencenlp.spacy_import)
    from spacy.pipeline import Sentencizer

    sentencizer = nlp.get_pipe("sentencizer")
    assert isinstance(sentencizer, Sentencizer)
    return set(sentencizer.punct_chars)


@lru_cache(maxsize=1)
def _sentence_ends() -> frozenset[str]:
    """The characters after which the sentencizer may start a sentence (its ``punct_chars``) that are
    also punctuation to spaCy (a token of them only is ``is_punct``)."""
    return frozenset(c for c in _punct_chars() if len(c) == 1 and unicodedata.category(c).startswith("P"))


@lru_cache(maxsize=1)
def _first_end() -> re.Pattern[str]:
    """A pattern finding the first character of the sentencizer's ``punct_chars``."""
    chars = "".join(sorted(set("".join(_punct_chars()))))
    return re.compile("[" + re.escape(chars) + "]")


def one_sentence(text: str) -> bool:
    """True only when spaCy's sentencizer gives ``text`` one sentence (plus, at most, a sentence of
    trailing white space, which segmentation drops): no sentence-end character in it, or only in one
    run at its end (after white space is stripped) made of sentence-end punctuation alone.

    The sentencizer starts a sentence at a token that is neither punctuation nor a sentence-end
    character, after a sentence-end token; a token made only of such a trailing run is punctuation.
    False means "ask spaCy", not "several sentences".
    """
    body = text.rstrip()
    found = _first_end().search(body)
    if found is None:
        return True
    punct = _sentence_ends()
    return all(c in punct for c in body[found.start():])
