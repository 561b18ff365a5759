"""The word lists that name detection consults: first names, common words, surnames that are words.

Loaded once from ``data/`` (see ``data/README.md`` for their origins and licences) and kept in
memory; lookups use :func:`fold`, which lower-cases and strips accents, so "Zoë" finds "zoe".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_DATA = "data"

#: letters that Unicode does not decompose into a base letter and an accent
_EXTRA_FOLDS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe",
                              "ß": "ss",
                              "ı": "i", "’": "'"})

MONTHS = frozenset("january february march april may june july august september october november december".split())
DAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())

#: first names that, capitalised and alone, are more often something else in care notes: places,
#: faiths and feasts, languages, software and devices
NOT_ALONE = frozenset("""
kent devon essex surrey cornwall preston lincoln chester bradford milton clifton kendal kendall beverley
beverly carlisle paris sydney dallas austin houston denver phoenix orlando india asia america africa china
georgia carolina israel christian jesus christ easter noel mercy charity trinity ulysses lorenzo alexa siri
cortana rio abbey braden norton york france argentina chad kenya sierra irish german weston newton burton
brent
""".split())
#: first names that are also words, but rarely ones that start a sentence or stand capitalised mid-sentence:
#: capitalised, they are taken as names in the right place ("Hazel was kind", "told Martin")
NAME_FIRST = frozenset("""
maria martin peter harry mike matt nick victor dean drew earl carol sally penny robin sherry sandy patty dolly
kitty jay lance warren mason ken kit eddy chuck cliff clay herb rod wade reed heath glen lee derrick garret
curt hazel ivy holly heather violet iris pearl ruby olive poppy daisy lily rosemary fern flora jewel opal
scarlet willow magnolia marina melody sherry ginger harmony raven misty sunny destiny blossom blessing gift
memory comfort promise fortune goodness
""".split())


def fold(word: str) -> str:
    """``word`` lower-cased, without accents and with a plain apostrophe: "Seán" -> "sean"."""
    lowered = word.lower()
    if lowered.isascii():
        return lowered
    lowered = lowered.translate(_EXTRA_FOLDS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _read_words(name: str) -> list[str]:
    """The words of one data file (comment lines start with ``#``), as written."""
    text = resources.files(__package__).joinpath(_DATA, name).read_text(encoding="utf-8")
    return [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]


@dataclass(frozen=True)
class Lexicon:
    """Folded word sets. ``ambiguous`` are first names that are also common words, months, days or
    in :data:`NOT_ALONE` ("Will", "Grace", "May", "Kent"): they need context to count as names."""

    first_names: frozenset[str]
    common_words: frozenset[str]
    common_surnames: frozenset[str]
    ambiguous: frozenset[str]
    name_first: frozenset[str] = frozenset()

    def is_first_name(self, word: str) -> bool:
        """True when ``word`` (any case) is a known first name."""
        return fold(word) in self.first_names

    def is_common(self, word: str) -> bool:
        """True when ``word`` (any case) is a common English word or note abbreviation."""
        return fold(word) in self.common_words

    def is_ambiguous(self, word: str) -> bool:
        """True when ``word`` is a first name that is also something else."""
        return fold(word) in self.ambiguous


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shared lexicon, read from the package data once."""
    first = {fold(w) for w in _read_words("first_names_census.txt") + _read_words("first_names_extra.txt")}
    common = frozenset(_read_words("common_words.txt")) | MONTHS | DAYS  # written folded by make_lexicon.py
    ambiguous = frozenset(w for w in first if w in common) | (NOT_ALONE & first) | MONTHS | DAYS
    return Lexicon(first_names=frozenset(first), common_words=common,
                   common_surnames=frozenset(_read_words("surnames_common_words.txt")), ambiguous=ambiguous,
                   name_first=NAME_FIRST & ambiguous)
