"""Cheap wording cues the heads cannot learn from bag-of-words or a small corpus alone.

The main one: a NEGATED ADVERSE EVENT ("no falls with harm", "zero missed visits", "no restraint
was used", "none of the MAR charts had gaps") usually points to a good finding, whereas "no" in
front of something that should exist ("no care plan", "no training") points to a shortfall. Text
classifiers trained on inspection language learn "no → inadequate"; the cue lets them tell the two
apart. Pure functions, rules only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_NEGATOR = r"(?:no|zero|nil|none|never|without|not\s+(?:a\s+single|one|any)|free\s+(?:of|from)|0)"
_ADVERSE = (
    r"(?:falls?|fallen|errors?|incidents?|complaints?|infections?|cases?|ulcers?|pressure\s+(?:sores?|damage)|"
    r"restraints?|restrictive|seclusion|missed|omissions?|delays?|harm|deaths?|never\s+events?|breach(?:es)?|"
    r"gaps?|concerns?|issues?|problems?|waits?|waiting|cancell?ations?|readmissions?|deteriorat\w*|abuse|"
    r"injur(?:y|ies)|outbreaks?|discrepanc(?:y|ies)|shortfalls?|avoidable|unexplained|safeguarding\s+alerts?|"
    r"bullying|harassment|exceptions?|lapses?|late|overdue|unsigned|out\s+of\s+date|vacanc(?:y|ies))"
)
# "no evidence of learning from incidents", "no record of falls": the missing thing is the finding
_MISSING_THING = (r"(?:evidence|records?|recording|learning|actions?|process(?:es)?|systems?|reviews?|analysis|logs?|"
                  r"oversight|plans?|follow|investigations?|reports?|reporting|monitoring|audits?|way|one|staff|"
                  r"understanding|training|policy|procedures?|response|documentation)")
NEGATED_ADVERSE = re.compile(rf"\b{_NEGATOR}\b(?!\W+{_MISSING_THING}\b)(?:\W+\w+){{0,6}}?\W+{_ADVERSE}\b",
                             re.IGNORECASE)
MARKER = "negatedadverseevent"
N_CUES = 1


def negated_adverse_count(text: str) -> int:
    """How many negated adverse events ``text`` mentions.

    >>> negated_adverse_count("No falls with harm since March; zero missed visits.")
    2
    >>> negated_adverse_count("There is no care plan and no training record.")
    0
    >>> negated_adverse_count("No evidence of learning from incidents.")
    0
    """
    return len(NEGATED_ADVERSE.findall(text))


def negated_adverse_counts(texts: Sequence[str]) -> list[int]:
    """:func:`negated_adverse_count` of each of ``texts`` (to give :func:`cue_features` and
    :func:`with_markers` when both are wanted for the same texts: the text is searched once)."""
    return [negated_adverse_count(t) for t in texts]


def cue_features(texts: Sequence[str], counts: Sequence[int] | None = None) -> np.ndarray:
    """Cue features ``(n_texts, N_CUES)``: min(count of negated adverse events, 3). ``counts``: the
    texts' :func:`negated_adverse_counts` when already known."""
    if counts is None:
        counts = negated_adverse_counts(texts)
    return np.array([[min(n, 3)] for n in counts], dtype=np.float32).reshape(len(texts), N_CUES)


def with_markers(texts: Sequence[str], counts: Sequence[int] | None = None) -> list[str]:
    """Texts with a marker word appended per negated adverse event (input for the TF-IDF heads).
    ``counts``: the texts' :func:`negated_adverse_counts` when already known."""
    if counts is None:
        counts = negated_adverse_counts(texts)
    return [t + (" " + " ".join([MARKER] * n) if n else "") for t, n in zip(texts, counts)]
