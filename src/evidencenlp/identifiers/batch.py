"""Identifiers of many notes at once: the same finds as :func:`find_identifiers`, with cheap pre-filters.

Most notes hold no identifier, and most of the rules cannot fire on them for a reason that is cheap to
see. Before each finder runs on a note, a test that is *necessary* for that finder to find anything is
checked, and the finder is skipped when it fails; so every note gets exactly the finds it would get
from :func:`evidencenlp.identifiers.find_identifiers` (the tests in ``tests/test_redaction_batch.py``
compare both on every note of the redaction sets and of the training corpus). The tests:

* **numbers** (NHS, hospital and National Insurance numbers, phones, postcodes, the house-number
  address rule): every pattern of these finders needs a character that ``\\d`` matches, so a note
  with none is skipped (one ``\\d`` search, the same ``\\d`` as the patterns').
* **email**: the plain pattern needs an ``@``; the spelled one a bracket or the word "dot" (in an
  ASCII note; other notes always run it).
* **names** (:func:`may_hold_name`): every name rule starts from a word that is a title, a known
  first name (capitalised, or no common word), a capitalised word that is no common word or is a
  surname that is also a word, or from a form label ("Name:"), a capitalised word set off by commas
  ("The carer, Blessing, sang"), an initial and a dot ("J. Smith") or a title run into a name
  ("MrsPatel"). A note with none of these cannot get a name, so the name rules are skipped. Each
  word's test is kept in a bounded cache (the same words recur across notes).
* A note with invisible characters (zero-width spaces, soft hyphens, other spaces) is read through
  :func:`~evidencenlp.identifiers.invisible.matching_views` and always takes the full path.

Dates of birth and the other address rules keep their own hint tests and always run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from evidencenlp.identifiers import find_all, find_identifiers, resolve_overlaps
from evidencenlp.identifiers import name_words as W
from evidencenlp.identifiers.invisible import has_invisible
from evidencenlp.identifiers.lexicon import fold, lexicon
from evidencenlp.identifiers.names import CONTRACTION, NAME_TOKEN, find_name_spans, form_label_ends
from evidencenlp.identifiers.patterns import (
    Redaction,
    find_addresses,
    find_addresses_without_number,
    find_dates_of_birth,
    find_emails,
    find_emails_spelled,
    find_hospital_numbers,
    find_nhs_numbers,
    find_ni_numbers,
    find_phones,
    find_postcodes,
)

__all__ = ["find_identifiers_many", "may_hold_name"]

_DIGIT = re.compile(r"\d")
#: a word set off by commas ("The carer, Blessing, sang"): a name after a relation or role (checked capitalised)
_APPOSITION = re.compile(r",\s*([^\W\d_]+(?:['’-][^\W\d_]+)*),")
#: a letter that no letter comes before, then ". " ("J. Smith"): an initial (checked upper-case)
_INITIAL = re.compile(r"(?<![^\W\d_])([^\W\d_])\. ")
#: words whose name test is remembered (cleared when full, so memory stays flat over any file)
_CACHE_LIMIT = 200_000
_WORD_CACHE: dict[str, int] = {}


#: a strong naming cue: the ``strong`` alternatives of :data:`~evidencenlp.identifiers.name_words.CUES`
_STRONG_CUE_HINT = re.compile(
    r"\b(?:call(?:s|ed)?\s+(?:him|her|them|me|us)|called|named|name\s+is|name\s+was|name['’]s"
    r"|names\s+are|known\s+as|goes\s+by|ask(?:ed|ing)?\s+for|ask(?:ed)?\s+after"
    r"|introduced\s+(?:her|him|them)sel(?:f|ves)\s+as|dear|hi|hello)", re.I)
#: a relation or role word (the end of every ``ROLE_AFTER`` match, and the word before a "strong" cue)
_ROLE_HINT = re.compile(rf"(?<![^\W\d_])(?:{W.ROLE_WORDS})", re.I)
#: "from the pharmacy": "from", then a team word (or a role word, above) in every ``FROM_TEAM`` match
_FROM_HINT = re.compile(rf"\sfrom\s.*?(?:{W.TEAM_WORDS})", re.I | re.S)

#: the name test of a word (bits): a name may start with it in any note; only with a strong cue
#: or a role near; or it is a title that takes a name only when the next word is capitalised
_ALWAYS, _WITH_CUE, _BEFORE_CAPITAL = 1, 2, 4


def _word_may_name(word: str) -> int:
    """How a word token (as the name rules' tokenizer gives it) can start a name, as bits (0: never).

    :data:`_ALWAYS` for a known first name that is capitalised or no common word (also the first
    part of a double-barrelled one), and for a strong title that keeps its force ("Mr", "Dr", "dr",
    "Miss"); :data:`_BEFORE_CAPITAL` for the other titles ("nurse", "Sister", "miss"): a name after
    them must be capitalised, or be a first name that is no common word (which has its own bit);
    :data:`_WITH_CUE` for any other capitalised word that is no common word or is a surname that is
    also a common word, unless it is a single letter or an acronym of at most four capitals (those
    never start a name, see :func:`may_hold_name`).
    """
    if len(word) > 2 and word[-1] in "sS" and word[-2] in "'’":
        word = word[:-2]
    lowered = word.lower()
    folded = lowered if lowered.isascii() else fold(word)
    lex = lexicon()
    capitalised = word[0].isupper()
    common = folded in lex.common_words or (("'" in word or "’" in word) and CONTRACTION.search(word) is not None)
    first = folded in lex.first_names or ("-" in folded and folded.split("-", 1)[0] in lex.first_names)
    if first and (capitalised or not common):
        return _ALWAYS
    flags = 0
    if folded in W.TITLES:
        if folded in W.STRONG_TITLES and (not word.islower() or folded in W.LOWER_STRONG):
            return _ALWAYS
        flags = _BEFORE_CAPITAL
    if capitalised and not first and len(word) >= 2 and not (word.isupper() and len(word) <= 4) \
            and (not common or folded in lex.common_surnames):
        flags |= _WITH_CUE
    return flags


def _cue_or_role(text: str) -> bool:
    """True when ``text`` may hold a strong naming cue, a relation or role word, or "from" (a superset
    of the contexts in which a capitalised word that is no known name can start a name)."""
    if _STRONG_CUE_HINT.search(text) or _FROM_HINT.search(text) or _ROLE_HINT.search(text):
        return True
    return not text.isascii() and _ROLE_HINT.search(fold(text)) is not None


def may_hold_name(text: str) -> bool:
    """False only when no rule of :func:`~evidencenlp.identifiers.names.find_name_spans` can find a
    name in ``text`` (a note without invisible characters); True means "run the rules".

    Every rule starts from a word: a title (a name after it), a known first name, or a capitalised
    word that is no common word (or is a surname that is a word) after a strong cue ("called",
    "my mum") or before a role ("Bronagh the SALT", "Jas from the pharmacy"); or from a form label,
    a word set off by commas after a role, an initial and a dot, or a title run into a name. A
    single capital letter starts a name only as an initial, and an acronym of at most four capitals
    that is no first name never does. Found names are then extended and looked for elsewhere, which
    needs one found first.
    """
    cache = _WORD_CACHE
    with_cue = title_before = False
    for word in NAME_TOKEN.findall(text):
        flag = cache.get(word)
        if flag is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            flag = cache[word] = _word_may_name(word)
        if flag & _ALWAYS or (title_before and word[0].isupper()):
            return True
        with_cue = with_cue or bool(flag & _WITH_CUE)
        title_before = bool(flag & _BEFORE_CAPITAL)
    if with_cue and _cue_or_role(text):
        return True
    if ("Mr" in text or "Ms" in text or "Mx" in text or "Miss" in text or "Dr" in text or "Prof" in text) \
            and W.JOINED_TITLE.search(text):
        return True
    if ("=" in text or ":" in text) and form_label_ends(text):
        return True
    if ". " in text and any(m.group(1).isupper() for m in _INITIAL.finditer(text)):
        return True
    return "," in text and any(m.group(1)[0].isupper() for m in _APPOSITION.finditer(text))


def _find_fast(text: str) -> list[Redaction]:
    """:func:`find_identifiers` for a note without invisible characters, skipping the finders that
    cannot find anything in it (same finders, same order, so the same spans after overlaps)."""
    found: list[Redaction] = []
    digits = _DIGIT.search(text) is not None
    if "@" in text:
        found.extend(find_emails(text))
    elif not text.isascii() or "(" in text or "[" in text or "{" in text or "<" in text or "dot" in text.lower():
        found.extend(find_emails_spelled(text))  # its hint needs a bracket or the word "dot"
    if digits:
        for finder in (find_nhs_numbers, find_hospital_numbers, find_ni_numbers, find_phones, find_postcodes):
            found.extend(finder(text))
    found.extend(find_dates_of_birth(text))
    found.extend(find_addresses(text) if digits else find_addresses_without_number(text))
    if may_hold_name(text):
        found.extend(Redaction("NAME", start, end) for start, end in find_name_spans(text))
    return resolve_overlaps(found)


def find_identifiers_many(texts: Sequence[str]) -> list[list[Redaction]]:
    """:func:`~evidencenlp.identifiers.find_identifiers` of each note, in order (identical results)."""
    return [find_identifiers(t) if has_invisible(t) else _find_fast(t) for t in texts]


def _reference(text: str) -> list[Redaction]:
    """The plain path, for comparison in tests: every finder on every view."""
    return resolve_overlaps(find_all(text)) if not has_invisible(text) else find_identifiers(text)
