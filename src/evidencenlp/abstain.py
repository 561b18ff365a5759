"""Decide when a free-text evidence note must *not* be given suggested labels.

Two reasons to abstain are reported (:data:`REASONS`):

``"no_content"``
    Nothing in the note can be assessed against a framework. The rules, applied in order:

    1. The note has no letters at all: empty, whitespace, punctuation, digits, emoji or other
       symbols only (``""``, ``"..."``, ``"10/10"``, ``"👍👍"``).
    2. The whole note, lower-cased with punctuation dropped, is a known placeholder answer
       (``"N/A"``, ``"none"``, ``"no comment"``, ``"not applicable"``, ``"see above"``,
       ``"don't know"``, ``"yes"``, ``"test"``, ... see ``_PLACEHOLDER_PHRASES``).
    3. The note has no *content word*. A word is not a content word when it is

       * an English function word (``the``, ``was``, ``very``, ``all`` ...);
       * a generic answer word that names no topic: plain verdicts and thanks (``good``, ``ok``,
         ``fine``, ``excellent``, ``amazing``, ``happy``, ``thanks``), "nothing"-type answers
         and their common misspellings (``nothing``, ``nothin``, ``nope``, ``zero``), and words
         that only echo the survey question (``comment``, ``improve``, ``complaints``);
       * shorter than three letters, unless written in capitals as an acronym (``GP``,
         ``TV``, ``A&E``) or one of a few two-letter topic words (``Dr``, ``gp``, ``tv``);
       * key-mashing: a run of neighbouring keys (``qwerty``, ``asdfgh``, ``jkl``), a short
         chunk repeated (``sdfsdf``, ``xxxx``), five or more letters with no vowel, a word that
         uses only one or two distinct letters, or six or more home-row letters with at most
         one vowel (``fjdksla``).

       So a note of one *topical* word is assessable (``"Parking"``, ``"Waiting"``,
       ``"Cleanliness"``, ``"Staff"``), and so are quality words that name a dimension of care
       (``"Really caring"``, ``"I felt safe"``, ``"rude"``), but a bare verdict with no topic is not
       (``"Good"``, ``"Very good"``, ``"All good, thanks"``, ``"Amazing!"``, ``"Nothing at all"``).
       Names cannot be told from topics, so ``"Bernadette is great"`` is kept.

``"not_english"``
    The note is written in another language. English is written in the Latin script, so a note
    with at least two letters, most of them in another script (Arabic, Urdu, Gurmukhi, Bengali,
    Chinese, Cyrillic, Greek ...), is not English. For Latin-script notes the decision is made
    by the ``lingua-language-detector`` package (Apache-2.0; its models ship inside the wheel,
    so nothing is downloaded at run time), restricted to English and 21 Latin-script languages
    met in UK health and care settings (:data:`DETECTOR_LANGUAGES`). Before detection the note
    is reduced to the words that say something about its language: words with digits, acronyms
    in capitals (``MAR``, ``DNACPR``) and capitalised words inside a sentence (most often
    names: ``"Dr Szczepankiewicz"``) are dropped, the rest is lower-cased, and only about the first
    150 characters are kept. With ``n`` the number of letters left, and "confidence" meaning
    lingua's relative confidence, from 0 to 1, that the text is English rather than one of the
    other detector languages:

    * ``n < 10`` (:data:`MIN_LETTERS`): too short for any detector to be trusted, so taken as
      English. Short English is never called foreign (``"Long wait"``, ``"GP appt wait 3
      wks"``); the price is that very short foreign notes (``"Gracias"``, ``"Danke"``) are not
      caught either.
    * A note that is plainly English needs no detector (:func:`_plainly_english`): at least
      :data:`PLAIN_MIN_WORDS` words, at least :data:`PLAIN_MIN_MARKERS` different English
      function words (:data:`ENGLISH_MARKERS`: "the", "with", "were", …) and at least
      :data:`PLAIN_COMMON_SHARE` of its words in the common English word list shipped for
      redaction (or one marker and every word common). Most notes end here; the detectors (and their start-up) are then not needed.
    * Every other note goes to a fast detector (lingua's low-accuracy trigram mode, about
      40 MB, loaded in well under a second). With ``n >= 60`` (:data:`LONG_LETTERS`) its answer
      is final: not English when its confidence is below :data:`FAST_NOT_ENGLISH_BELOW` (0.1).
      On real English patient comments of that length it is never below 0.97; on foreign
      text it is close to 0.
    * With ``10 <= n < 60``, a fast confidence of at least :data:`FAST_SURELY_ENGLISH` (0.05)
      means English. Below that (about 1 in 100 real English comments of that length, and
      every foreign test sentence) lingua's high-accuracy mode is asked: 1- to 5-gram models,
      reliable on short text, but about 0.5 GB of memory and around 10 s of CPU to load, so
      they are loaded only when first needed. The note is not English when that confidence is
      below a threshold that grows with ``n`` (:data:`ACCURATE_NOT_ENGLISH_BELOW`): 0.04 for
      10-19 letters, 0.13 for 20-39, 0.2 for 40-59.
    * Finally, one word can outweigh the rest of so short a note (a lower-case surname:
      ``"dr szczepankiewicz very good"``). A note about to be called foreign stays English when
      leaving out some single word lifts both detectors' confidence to at least
      :data:`ONE_WORD_OUT_ENGLISH` (0.2). None of the foreign test sentences turns English by
      losing one word.

    A foreign word or two in an English note does not make it foreign (``"Staff were lovely,
    muchas gracias"``). A language with no model of its own, such as Urdu or Hindi written in
    Latin letters, is caught because its English confidence is low, not because it is
    recognised; very short Roman Urdu is missed.

Both detectors are built once per process, on first use, behind a lock; importing this module
loads nothing. The note's text is never logged, printed or put into an exception message.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from evidencenlp.identifiers.lexicon import lexicon

if TYPE_CHECKING:  # pragma: no cover - typing only
    from lingua import LanguageDetector

__all__ = [
    "ACCURATE_NOT_ENGLISH_BELOW",
    "DETECTOR_LANGUAGES",
    "FAST_NOT_ENGLISH_BELOW",
    "FAST_SURELY_ENGLISH",
    "LONG_LETTERS",
    "MIN_LETTERS",
    "NOT_ENGLISH",
    "NO_CONTENT",
    "ONE_WORD_OUT_ENGLISH",
    "REASONS",
    "abstention_reason",
    "abstention_reasons",
    "warm_up",
]

NO_CONTENT: Final = "no_content"
NOT_ENGLISH: Final = "not_english"
REASONS: Final[tuple[str, str]] = (NO_CONTENT, NOT_ENGLISH)

# ---------------------------------------------------------------------------------------------
# Language-identification settings (see the module docstring for the reasoning).
# ---------------------------------------------------------------------------------------------

#: Languages the detectors choose between (lingua ``Language`` member names). English plus
#: Latin-script languages often met in UK health and care; other scripts are decided by script.
DETECTOR_LANGUAGES: Final[tuple[str, ...]] = (
    "ENGLISH",
    "WELSH",
    "IRISH",
    "POLISH",
    "ROMANIAN",
    "SPANISH",
    "FRENCH",
    "PORTUGUESE",
    "ITALIAN",
    "GERMAN",
    "DUTCH",
    "LITHUANIAN",
    "LATVIAN",
    "CZECH",
    "SLOVAK",
    "HUNGARIAN",
    "ALBANIAN",
    "TURKISH",
    "SOMALI",
    "YORUBA",
    "SWAHILI",
    "TAGALOG",
)
#: Fewer letters than this (after dropping names, acronyms and numbers): never ``not_english``.
MIN_LETTERS: Final = 10
#: From this many letters on, the fast detector alone decides.
LONG_LETTERS: Final = 60
#: Long notes: ``not_english`` when the fast detector's English confidence is below this.
FAST_NOT_ENGLISH_BELOW: Final = 0.1
#: Shorter notes: English, without asking the accurate detector, from this fast confidence up.
#: (Foreign test sentences of 10-59 letters score at most 0.0012; on real English patient
#: comments of that length fewer than 1 in 100 score below 0.05.)
FAST_SURELY_ENGLISH: Final = 0.05
#: ``(fewer than this many letters, not_english below this accurate English confidence)``.
ACCURATE_NOT_ENGLISH_BELOW: Final[tuple[tuple[int, float], ...]] = ((20, 0.04), (40, 0.13), (LONG_LETTERS, 0.2))
#: A short note the accurate detector calls foreign stays English when leaving out one word
#: brings both detectors' English confidence up to this.
ONE_WORD_OUT_ENGLISH: Final = 0.2

#: Plainly English (no detector asked): this many words at least …
PLAIN_MIN_WORDS: Final = 5
#: … this many different :data:`ENGLISH_MARKERS` among them …
PLAIN_MIN_MARKERS: Final = 2
#: … and this share of them common English words.
PLAIN_COMMON_SHARE: Final = 0.85
#: … or one marker, when every word is a common English word and there are this many.
PLAIN_ALL_COMMON_MIN_WORDS: Final = 5
#: English function words (and a few words of feedback) that are not words of the detector's other languages (so not "was",
#: German; "to", "on", "we", Polish; "he", Spanish; "at", Danish; "but", French).
ENGLISH_MARKERS: Final[frozenset[str]] = frozenset(
    "the and with they have had been very this that would could should their there which when what who "
    "from about because always never our she is of not my you your were every people staff nurses doctor "
    "doctors friendly helpful excellent thank thanks lovely really everyone everything nothing waiting "
    "appointment treated listened explained".split())
_WORD: Final = re.compile(r"[a-z]+(?:'[a-z]+)?")

# ---------------------------------------------------------------------------------------------
# Word lists for the no_content rules (English only; they play no part in language detection).
# ---------------------------------------------------------------------------------------------

#: Whole-note placeholder answers (separated by ``;``), compared after :func:`_phrase_key`.
_PLACEHOLDER_PHRASES: Final[frozenset[str]] = frozenset(
    phrase.strip()
    for phrase in """
    n a; na; n a n a; none; nothing; no comment; no comments; ok; okay; fine; not applicable; nil;
    see above; as above; same as above; see previous; dont know; do not know; not known; unknown;
    no; yes; test; testing; question mark; no answer; no response; not answered; left blank; blank;
    illegible; unreadable; redacted; tbc; tba; no feedback; none given; prefer not to say;
    not stated; no idea; not sure; keep up the good work; well done; thank you; thanks;
    many thanks; no thanks; nothing to add
    """.split(";")
)

#: English function words: pronouns, articles, auxiliaries, prepositions, particles.
_FUNCTION_WORDS: Final[frozenset[str]] = frozenset(
    """
    a an the and or but nor so if then than as at by for from in into of on onto to with without
    within up down out off over under about above below after before again once just also too
    very really quite rather so such much many lot lots alot bit little all any some every each
    both either neither other others own same few more most less least enough even still only
    i me my mine myself we us our ours ourselves you your yours yourself he him his she her hers
    it its itself they them their theirs themselves this that these those there here where when
    what which who whom whose why how whether
    is am are was were be been being have has had having do does did done doing will would
    shall should can could may might must get got getting go going gone went come came let
    cannot im ive id ill youre youve theyre weve hes shes thats theres whats isnt arent wasnt werent
    dont doesnt didnt cant couldnt wont wouldnt shouldnt hasnt havent hadnt aint
    not no yes yeah yep yup ye aye nope nah non
    one ones thing things
    """.split()
)

#: Answer words that name no topic: verdicts, thanks, "nothing"-type answers and survey echoes.
_GENERIC_WORDS: Final[frozenset[str]] = frozenset(
    """
    good gud gd goood gooood great gr8 grt excellent excelent exellent excellant fine ok okay
    okey okie k kk alright allright decent average fair nice lovely lovley brilliant brill fab
    fabulous fantastic fantastico amazing amazin awesome superb super perfect wonderful
    marvellous marvelous outstanding terrific exceptional incredible magnificent splendid lush
    ace cool best better worse worst bad poor terrible awful rubbish dreadful horrible
    horrendous appalling shocking disgusting disgraceful happy happier happiest unhappy
    satisfied dissatisfied satisfactory unsatisfactory satisfaction pleased content faultless
    flawless spot notch top class first well done job round true positive negative vibes star
    stars nailed sterling pleasant love loved like liked enjoy enjoyed impressed impressive
    thank thanks thankyou thanx thx ty cheers ta grateful appreciated
    nothing nothin nothng nothimg nohing noting nuthin nuffin nought zero nil null none nobody
    everything anything something everyone everybody anyone anybody someone somebody
    everywhere anywhere whole overall general generally experience
    absolutely honestly definitely certainly totally completely truly extremely pretty fairly
    always sometimes mostly else whatsoever specific particular extra needed need present now
    yet moment far
    na comment comments commment add say mention think thought know knew sure unsure idea
    opinion concerned situation circumstances report obvious knowledge mind comes springs
    applicable answer question improve improved improvement improvements change changes changed
    complaint complaints complain grumble grumbles bothered fault faults issue issues problem
    problems concern concerns wrong right recommend recommended bettered ask asked guys
    test tests testing tested
    lol haha hehe hmm hmmm xx xxx xxxx x
    """.split()
)
_NON_CONTENT: Final[frozenset[str]] = _FUNCTION_WORDS | _GENERIC_WORDS
#: Two-letter words that name a topic in any case ("Dr was brill", "gp never calls back").
_SHORT_TOPIC_WORDS: Final[frozenset[str]] = frozenset({"dr", "gp", "tv", "ot", "bp", "pt", "rn", "ae", "iv", "wc"})

_KEYBOARD_ROWS: Final[tuple[str, ...]] = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_HOME_ROW: Final[frozenset[str]] = frozenset("asdfghjkl")
_VOWELS: Final[frozenset[str]] = frozenset("aeiouy")

#: Language evidence is cut after about this many characters.
_MAX_EVIDENCE_CHARS: Final = 150

_TOKEN: Final = re.compile(r"[^\W_]+(?:[&'][^\W_]+)*")
_LANG_TOKEN: Final = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[.!?;:\n\u2022]+")
_REPEATED_CHUNK: Final = re.compile(r"(.{1,4})\1+")
_APOSTROPHES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})


def _phrase_key(text: str) -> str:
    """Lower-cased note with apostrophes removed and every other non-alphanumeric run a space."""
    lowered = text.lower().replace("'", "")
    return " ".join(re.sub(r"[\W_]+", " ", lowered).split())


def _is_latin_letter(char: str) -> bool:
    """True for a letter of the Latin script (ASCII, accented and extended Latin letters)."""
    if char < "\u0250":
        return True
    return unicodedata.name(char, "").startswith("LATIN")


def _is_key_mashing(word: str) -> bool:
    """True when a lower-case ASCII word looks like random typing rather than a word."""
    n = len(word)
    if n >= 3:
        for row in _KEYBOARD_ROWS:
            if word in row or (n >= 4 and word in row[::-1]):
                return True
    if n >= 4 and _REPEATED_CHUNK.fullmatch(word):
        return True
    if n >= 3 and len(set(word)) == 1:
        return True
    if n >= 4 and len(set(word)) <= 2:
        return True
    vowels = sum(1 for c in word if c in _VOWELS)
    if n >= 5 and vowels == 0:
        return True
    return n >= 6 and vowels <= 1 and all(c in _HOME_ROW for c in word)


def _has_content_word(text: str) -> bool:
    """True when the note holds at least one word that can name something to assess."""
    for match in _TOKEN.finditer(text):
        raw = match.group()
        word = raw.lower().replace("'", "")
        letters = word if word.isalpha() else "".join(c for c in word if c.isalpha())
        if not letters or word in _NON_CONTENT or letters in _NON_CONTENT:
            continue
        if len(letters) < 3:
            if letters in _SHORT_TOPIC_WORDS or (len(letters) == 2 and raw.isupper()):
                return True  # Dr, GP, TV, A&E ...
            continue
        if letters.isascii() and _is_key_mashing(letters):
            continue
        return True
    return False


def _language_evidence(text: str) -> str:
    """The words of a note that say something about its language, lower-cased.

    Drops words holding digits, acronyms written in capitals (when the note has lower-case
    letters at all) and capitalised words that do not start a sentence (mostly names), and
    stops after about :data:`_MAX_EVIDENCE_CHARS` characters: the opening of a long note is
    plenty to tell its language, and detection time grows with length.
    """
    has_lower = _ASCII_LOWER.search(text) is not None if text.isascii() else any(c.islower() for c in text)
    kept: list[str] = []
    length = 0
    sentence_start = True
    for token in _LANG_TOKEN.findall(text):
        if not token[0].isalnum():
            sentence_start = True
            continue
        starts = sentence_start
        sentence_start = False
        # a letter is never a digit: only tokens that are not all letters are looked at character by character
        if not (token.isalpha() or token.replace("'", "").isalpha()) and any(c.isdigit() for c in token):
            continue
        if has_lower and token[0].isupper():
            if len(token) >= 2 and token.isupper():
                continue
            if not starts:
                continue
        kept.append(token.lower())
        length += len(token) + 1
        if length >= _MAX_EVIDENCE_CHARS:
            break
    return " ".join(kept)


_ASCII_LETTER: Final = re.compile(r"[A-Za-z]")
_ASCII_LOWER: Final = re.compile(r"[a-z]")


def _letter_count(text: str) -> int:
    if text.isascii():
        return len(_ASCII_LETTER.findall(text))
    return sum(1 for c in text if c.isalpha())


def _evidence_letters(evidence: str) -> int:
    """:func:`_letter_count` of language evidence (lower-case words without digits, joined by spaces)."""
    if evidence.isascii():  # only letters, apostrophes inside words and the spaces between them
        return len(evidence) - evidence.count(" ") - evidence.count("'")
    return _letter_count(evidence)


# ---------------------------------------------------------------------------------------------
# Detectors: built lazily, once per process.
# ---------------------------------------------------------------------------------------------

_LOCK: Final = threading.Lock()
_DETECTORS: dict[str, LanguageDetector] = {}


def _detector(kind: str) -> LanguageDetector:
    """The ``"fast"`` (low-accuracy) or ``"accurate"`` lingua detector, built on first use."""
    detector = _DETECTORS.get(kind)
    if detector is not None:
        return detector
    with _LOCK:
        detector = _DETECTORS.get(kind)
        if detector is None:
            from lingua import Language, LanguageDetectorBuilder

            languages = [getattr(Language, name) for name in DETECTOR_LANGUAGES]
            builder = LanguageDetectorBuilder.from_languages(*languages)
            if kind == "fast":
                builder = builder.with_low_accuracy_mode()
            detector = builder.build()
            _DETECTORS[kind] = detector
    return detector


def warm_up() -> None:
    """Build both language detectors and load their language models now (a warm service calls this at
    start-up: otherwise the first note that needs the accurate detector waits tens of seconds for it)."""
    for kind in ("fast", "accurate"):
        _english_confidences(kind, ["the staff were wonderful", "personnel merveilleux"])


def _english_confidences(kind: str, texts: list[str]) -> list[float]:
    """Lingua's confidence, from 0 to 1, that each text is English."""
    if not texts:
        return []
    from lingua import Language

    detector = _detector(kind)
    if len(texts) == 1:
        return [detector.compute_language_confidence(texts[0], Language.ENGLISH)]
    return list(detector.compute_language_confidence_in_parallel(texts, Language.ENGLISH))


def _plainly_english(evidence: str) -> bool:
    """True when the lower-cased language evidence of a note is English without asking a detector:
    enough words, enough different English function words, and nearly all of them common English."""
    words = _WORD.findall(evidence)
    markers = len(ENGLISH_MARKERS.intersection(words))
    if len(words) < PLAIN_MIN_WORDS or markers == 0:
        return False
    common = lexicon().common_words
    # the words are lower-case ASCII (the pattern), which fold() leaves as they are
    n_common = sum(map(common.__contains__, words))
    if markers >= PLAIN_MIN_MARKERS:
        return n_common >= PLAIN_COMMON_SHARE * len(words)
    return n_common == len(words) and len(words) >= PLAIN_ALL_COMMON_MIN_WORDS


def _accurate_threshold(letters: int) -> float:
    for below, threshold in ACCURATE_NOT_ENGLISH_BELOW:
        if letters < below:
            return threshold
    return ACCURATE_NOT_ENGLISH_BELOW[-1][1]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _screen(text: str) -> tuple[str | None, str | None]:
    """Rules that need no detector.

    Returns ``(reason, evidence)``: a final reason (``evidence`` None), or no reason yet with
    the lower-cased language evidence that still needs a detector (``evidence`` None when the
    note is too short to send to one, i.e. it is taken as English).
    """
    if not isinstance(text, str):
        raise TypeError(f"abstention rules take str notes, not {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    latin = other = 0
    if text.isascii():  # the common case: every ASCII letter is Latin, and only "none at all" matters below
        latin = int(_ASCII_LETTER.search(text) is not None)
    else:
        for char in text:
            if char.isalpha():
                if _is_latin_letter(char):
                    latin += 1
                else:
                    other += 1
    if latin + other == 0:
        return NO_CONTENT, None
    if other > latin and other >= 2:
        return NOT_ENGLISH, None
    if _phrase_key(text) in _PLACEHOLDER_PHRASES or not _has_content_word(text):
        return NO_CONTENT, None
    evidence = _language_evidence(text)
    if _evidence_letters(evidence) < MIN_LETTERS:
        return None, None
    return None, evidence


def abstention_reasons(texts: Sequence[str]) -> list[str | None]:
    """Why, if at all, each note should get no suggested labels.

    Args:
        texts: the notes, as plain strings (any length, any language).

    Returns:
        One entry per note, in order: ``"no_content"``, ``"not_english"`` (both in
        :data:`REASONS`) or ``None`` when the note is English text that can be assessed.
        Notes that need a language detector are sent to it in one parallel batch.

    Raises:
        TypeError: when an item is not a ``str`` (the message names only its type).
    """
    reasons: list[str | None] = []
    pending: list[tuple[int, str]] = []
    for index, text in enumerate(texts):
        reason, evidence = _screen(text)
        reasons.append(reason)
        if evidence is not None and not _plainly_english(evidence):
            pending.append((index, evidence))
    if not pending:
        return reasons

    fast = _english_confidences("fast", [evidence for _, evidence in pending])
    unsure: list[tuple[int, str, int]] = []
    for (index, evidence), confidence in zip(pending, fast):
        letters = _evidence_letters(evidence)
        if letters >= LONG_LETTERS:
            if confidence < FAST_NOT_ENGLISH_BELOW:
                reasons[index] = NOT_ENGLISH
        elif confidence < FAST_SURELY_ENGLISH:
            unsure.append((index, evidence, letters))

    accurate = _english_confidences("accurate", [evidence for _, evidence, _ in unsure])
    flagged = [
        (index, evidence)
        for (index, evidence, letters), confidence in zip(unsure, accurate)
        if confidence < _accurate_threshold(letters)
    ]
    english_once_one_word_is_out = _one_word_out_english([evidence for _, evidence in flagged])
    for (index, _), english in zip(flagged, english_once_one_word_is_out):
        if not english:
            reasons[index] = NOT_ENGLISH
    return reasons


def _one_word_out_english(evidences: list[str]) -> list[bool]:
    """For each short note about to be called foreign: is it clearly English without one word?

    A name or a foreign word can outweigh the rest of a very short note (``"dr szczepankiewicz
    very good"``). The note is kept as English when leaving out some single word makes both
    detectors give English a confidence of at least :data:`ONE_WORD_OUT_ENGLISH`.
    """
    variants: list[str] = []
    owners: list[int] = []
    for owner, evidence in enumerate(evidences):
        words = evidence.split()
        if len(words) < 2:
            continue
        for skip in range(len(words)):
            variants.append(" ".join(words[:skip] + words[skip + 1 :]))
            owners.append(owner)
    english = [False] * len(evidences)
    if not variants:
        return english
    fast = _english_confidences("fast", variants)
    accurate = _english_confidences("accurate", variants)
    for owner, fast_confidence, accurate_confidence in zip(owners, fast, accurate):
        if min(fast_confidence, accurate_confidence) >= ONE_WORD_OUT_ENGLISH:
            english[owner] = True
    return english


def abstention_reason(text: str) -> str | None:
    """Why, if at all, one note should get no suggested labels.

    Args:
        text: the note, as a plain string.

    Returns:
        ``"no_content"`` when it holds nothing assessable, ``"not_english"`` when it is not
        written in English, ``None`` when it is assessable English text. See the module
        docstring for the rules.

    Raises:
        TypeError: when ``text`` is not a ``str`` (the message names only its type).
    """
    return abstention_reasons([text])[0]
