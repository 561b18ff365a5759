"""Person names: after a title, after a relation or role, after "called", or a known first name.

The rules read the note as a list of word tokens and consult :mod:`evidencenlp.identifiers.lexicon`:

* a **title** (Mr, Mrs, Ms, Miss, Mx, Dr, Prof, Nurse, Sister, Matron, Baby...) in any case, with or
  without a dot or space ("MRS PATEL", "Dr.Ahmed"), then a name or an initial ("Mr T", "Mrs K Jones"),
  even a surname that is also a place word ("Mr Ward said", "Mr Stephen Ward,");
* a **relation or role** ("my mum Sheila", "HCA Jo", "carer jenny"), a **cue** ("a nurse called
  Tom", "ask for Priya", "thanks to Bernadette") or a **form label** ("Surname: HUGHES", "NOK: ..."),
  then a name;
* a **known first name** on its own ("Linda was lovely", "jenny on ward 4"), unless it is also a common
  word, month or place ("Will staff...", "Hope is...", "in May", "Kent"), which then needs a surname
  after it, a verb such as "said" or a relative "who" after it, a role, team, department or room after
  it ("Penny, one of the volunteers", "Carol in pharmacy", "Frank in room 3"), or one of the cues above;
* a **surname** after any of these ("Linda Baker", "Siobhan O'Neill", "Maria de Souza", "pt brenda
  hughes").

Look-alikes are left alone: a name inside a place or organisation ("St Mary's Hospital", "Mary
Seacole House", "Royal Victoria Infirmary"), an eponym ("Addison's disease", "Norton scale"), known
characters and brands ("Mr Men", "Mr Tumble", "Dr Foster", "Sister Act"), and a first name that its
context makes a thing or a place: after an article ("a Sara Stedy"), after a word of travel ("a trip to
Preston"), before a possessive and a capitalised word ("Martha's Rule") or before "and the" and two
capitalised words ("Charlie and the Chocolate Factory"). Contractions ("I've") are never names.
"""

from __future__ import annotations

import re

from evidencenlp.identifiers import name_words as W
from evidencenlp.identifiers.lexicon import DAYS, MONTHS, NOT_ALONE, Lexicon, fold, lexicon

#: articles before a first name that make it a thing: "a Sara Stedy", "the Jack Russell"
_ARTICLES = frozenset("a an the".split())

NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
#: "I've", "I'm", "we'll", "didn't": a contraction is never a name
CONTRACTION = re.compile(r"['’](?:ve|m|ll|d|re|t)$", re.I)
_SEPARATOR = re.compile(r"[:=]")


class _Token:
    """A word of the note: its text (a possessive "'s" left out), offsets, folded form and case."""

    __slots__ = ("all_caps", "capitalised", "contraction", "end", "folded", "start", "text")

    def __init__(self, text: str, start: int, end: int, folded: str) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.folded = folded
        self.capitalised = text[0].isupper()
        self.all_caps = len(text) > 1 and text.isupper()
        self.contraction = ("'" in text or "’" in text) and CONTRACTION.search(text) is not None


def _tokens(text: str) -> list[_Token]:
    """Word tokens; a possessive "'s" is left out of the token ("Patel's" -> "Patel")."""
    out = []
    for m in NAME_TOKEN.finditer(text):
        start, end = m.span()
        word = m.group()
        if len(word) > 2 and word[-1] in "sS" and word[-2] in "'’":
            end, word = end - 2, word[:-2]
        lowered = word.lower()
        folded = lowered if lowered.isascii() else fold(word)
        out.append(_Token(word, start, end, folded))
    return out


def form_label_ends(text: str) -> dict[int, str]:
    """Where a name may start after a form label ("Surname: ", "NOK: "), each offset mapped to ``"form"``;
    a bare "Name:" counts only at the start of a line or an item ("Drug name:" does not)."""
    found: dict[int, str] = {}
    for sep in _SEPARATOR.finditer(text):
        colon = sep.start()
        m = W.FORM_LABEL.search(text, max(0, colon - 32), colon + 1)
        if m is None:
            continue
        if not m.group("field") and m.group("label").lower().startswith("name"):
            before = text[:m.start()].rstrip(" \t")
            if before and before[-1] not in "\n\r;|.,":
                continue
        end = colon + 1
        while end < len(text) and text[end] in " \t":
            end += 1
        found[end] = "form"
    return found


class _NameFinder:
    """Applies the name rules to one note."""

    def __init__(self, text: str, lex: Lexicon) -> None:
        self.text = text
        self.lex = lex
        self.tokens = _tokens(text)
        self.lookalikes: list[tuple[int, int]] | None = None  # spans of known look-alikes, found when needed
        self.cues = {m.end(): "strong" if m.group("strong") else "weak" for m in W.CUES.finditer(text)}
        if ":" in text or "=" in text:
            self.cues.update(self.form_labels())

    def form_labels(self) -> dict[int, str]:
        """Where a name may start after a form label (see :func:`form_label_ends`)."""
        return form_label_ends(self.text)

    # -- token tests ---------------------------------------------------------------------------

    def gap(self, i: int) -> str:
        """The text between token ``i`` and token ``i + 1``."""
        return self.text[self.tokens[i].end:self.tokens[i + 1].start]

    def sentence_start(self, i: int) -> bool:
        """True when token ``i`` opens the note, a sentence, a line or a list item."""
        k = self.tokens[i].start
        quoted = False
        while k > 0 and self.text[k - 1] in W.OPENERS:
            quoted = quoted or self.text[k - 1] in "\"'“‘"
            k -= 1
        return k == 0 or quoted or self.text[k - 1] in ".!?;:\n\r"

    def number_after(self, i: int) -> bool:
        """True when a number follows token ``i`` ("Ward 3", "bay 4"): a place, not a person."""
        rest = self.text[self.tokens[i].end:self.tokens[i].end + 3].lstrip(" ")
        return rest[:1].isdigit()

    def first(self, tok: _Token) -> bool:
        """A known first name, or a double-barrelled one whose first part is ("Stacey-Leigh")."""
        names = self.lex.first_names
        return tok.folded in names or ("-" in tok.folded and tok.folded.split("-", 1)[0] in names)

    def common(self, tok: _Token) -> bool:
        return tok.folded in self.lex.common_words or tok.contraction

    def acronym(self, tok: _Token) -> bool:
        """A short all-capitals word that is not a known name ("NHS", "HCA", "MDT")."""
        return tok.all_caps and len(tok.text) <= 4 and not self.first(tok)

    def shouted(self, i: int) -> bool:
        """True when token ``i`` is in capitals and so is the word before it ("MY MUM SHEILA")."""
        return self.tokens[i].all_caps and i > 0 and self.tokens[i - 1].text.isupper()

    def name_like(self, tok: _Token) -> bool:
        """A capitalised word that may be a name: a known name, a word surname, or not a common word."""
        if not tok.capitalised or self.acronym(tok) or tok.folded in W.ORG_WORDS or tok.folded in W.TITLES:
            return False
        return self.first(tok) or tok.folded in self.lex.common_surnames or not self.common(tok)

    def lower_name(self, tok: _Token) -> bool:
        """A lower-case word that is a known first name and no common word ("jenny", "sheila")."""
        return tok.text.islower() and self.first(tok) and not self.common(tok)

    # -- spans ---------------------------------------------------------------------------------

    def extend(self, i: int, limit: int = 3) -> int:
        """The last token of the name that starts at token ``i``: following surnames and particles."""
        j = i
        caps = self.tokens[i].all_caps
        if len(self.tokens[i].text) == 1 and i + 1 < len(self.tokens):
            caps = self.tokens[i + 1].all_caps
        while j + 1 < len(self.tokens) and limit > 0:
            gap = self.gap(j)
            if gap not in (" ", "-") and not (gap in (". ", ".") and len(self.tokens[j].text) == 1):
                break
            nxt = self.tokens[j + 1]
            if nxt.folded in W.PARTICLES and j + 2 < len(self.tokens) and self.gap(j + 1) == " " \
                    and self.surname_like(self.tokens[j + 2], caps):
                j, limit = j + 2, limit - 1
                continue
            if not self.surname_like(nxt, caps) and not (j == i and self.lower_surname(i, nxt)):
                break
            j, limit = j + 1, limit - 1
        return j

    def lower_surname(self, i: int, tok: _Token) -> bool:
        """A lower-case word that is no common word after a lower-case first name: "brenda hughes"."""
        return (self.tokens[i].text.islower() and len(self.tokens[i].text) > 1 and tok.text.islower()
                and len(tok.text) >= 3 and not self.common(tok) and tok.folded not in W.TRIGGERS)

    def surname_like(self, tok: _Token, caps: bool) -> bool:
        """A word that can continue a name: capitalised (all capitals in a shouted note), not a title."""
        if len(tok.text) == 1:
            return tok.capitalised
        if caps != tok.all_caps:
            return False
        return self.name_like(tok) and (caps or not self.common(tok) or tok.folded in self.lex.common_surnames
                                        or self.first(tok))

    def in_place(self, i: int, j: int) -> bool:
        """True when tokens ``i..j`` are part of a place or organisation name, or an eponym."""
        toks = self.tokens
        if i > 0 and self.gap(i - 1).strip() in ("", ".") and toks[i - 1].capitalised \
                and toks[i - 1].folded in W.PLACE_PREFIXES:
            return True
        if self.named_thing(j) or self.entertainment(i, j):
            return True
        k = j
        for _ in range(3):
            if k + 1 >= len(toks) or self.gap(k).strip(" '’s") not in ("", "-"):
                return False
            nxt = toks[k + 1]
            if nxt.folded in W.EPONYM_WORDS or nxt.folded in W.PLACE_AFTER \
                    or (nxt.capitalised and nxt.folded in W.ORG_WORDS):
                return True
            if not nxt.capitalised and nxt.folded not in W.EPONYM_CONNECTORS:
                return False
            k += 1
        return False

    def entertainment(self, i: int, j: int) -> bool:
        """True when the name ``i..j`` is a performer or a work: a name of two words or more, or a
        performer known by one name, then a word such as "film", "songs" or "tribute" ("Mary Poppins
        film night", "Vera Lynn songs", "an Elvis tribute act"; not "Sheila's music group")."""
        toks = self.tokens
        if j + 1 >= len(toks) or self.gap(j) not in (" ", "-"):
            return False
        if j == i and toks[i].folded not in W.FAMOUS_ALONE:
            return False
        return toks[j + 1].folded in W.ENTERTAINMENT_AFTER

    def named_thing(self, j: int) -> bool:
        """True when the name ending at token ``j`` starts the name of a thing: a possessive then a
        capitalised common word ("Ella's Kitchen pouches", "Martha's Rule"), or "and the" and two
        capitalised words ("Charlie and the Chocolate Factory")."""
        toks, end = self.tokens, self.tokens[j].end
        if self.text[end:end + 3] in ("'s ", "’s ") and j + 1 < len(toks):
            nxt = toks[j + 1]
            if nxt.capitalised and not nxt.all_caps and self.common(nxt) and nxt.folded not in W.TRIGGERS \
                    and nxt.folded not in W.TITLES and not self.first(nxt):
                return True
        m = W.TITLE_OF_WORK.match(self.text, end)
        return m is not None and all(w.lower() not in W.TRIGGERS and w.lower() not in W.ORG_WORDS
                                     and w.lower() not in W.NOT_IN_TITLES for w in m.groups())

    # -- rules ---------------------------------------------------------------------------------

    def after_title(self) -> list[tuple[int, int]]:
        """Names after a title: "Mrs Khan", "MRS PATEL", "Dr.Ahmed", "Mr T", "nurse jane"."""
        found = []
        for i, tok in enumerate(self.tokens[:-1]):
            if tok.folded not in W.TITLES:
                continue
            gap = self.gap(i)
            if not W.TITLE_GAP.fullmatch(gap):
                continue
            nxt = self.tokens[i + 1]
            if len(nxt.text) == 1:
                if nxt.text.isupper() and tok.folded in W.STRONG_TITLES:
                    found.append((i + 1, self.extend(i + 1, limit=2)))
            elif self.title_takes(tok, nxt):
                found.append((i + 1, self.title_run(tok, i + 1, self.org_surname(tok, self.extend(i + 1)))))
            elif self.org_word_surname(tok, i + 1):
                found.append((i + 1, i + 1))
        return found

    def title_run(self, title: _Token, i: int, j: int, most: int = 3) -> int:
        """After a title, the name ``i..j`` taken on over further capitalised words, up to ``most`` words
        in all: "Mrs Doreen Pickles" (a surname that is a common word after a first name), "Dr Amara
        Obi Nwosu". A word that is a role, a title, a month or day, a place word, a function word or in
        capitals stops it; after a name that is no first name, so does a common word ("Mrs Khan Thanks")."""
        toks = self.tokens
        if title.folded not in W.STRONG_TITLES or not title.capitalised or title.all_caps:
            return j
        while j - i + 1 < most and j + 1 < len(toks) and self.gap(j) == " ":
            nxt = toks[j + 1]
            if not nxt.capitalised or nxt.all_caps or len(nxt.text) < 2 or nxt.contraction \
                    or nxt.folded in W.RUN_STOPS or self.number_after(j + 1):
                break
            if self.common(nxt) and not self.first(toks[i]) and nxt.folded not in self.lex.common_surnames:
                break
            j += 1
        return j

    def org_word_surname(self, title: _Token, i: int) -> bool:
        """"Mr Ward said", "DR CHURCH": after a title, a surname that is also a place word, when no
        capitalised word follows it ("Dr Foster Ward" stays a place)."""
        toks = self.tokens
        tok = toks[i]
        if title.folded not in W.STRONG_TITLES or not tok.capitalised or tok.folded not in W.ORG_WORDS \
                or tok.folded not in self.lex.common_surnames or title.all_caps != tok.all_caps:
            return False
        if self.number_after(i):
            return False
        return not (i + 1 < len(toks) and self.gap(i).strip() in ("", "-") and toks[i + 1].capitalised)

    def org_surname(self, title: _Token, j: int) -> int:
        """After a title and a first name, a surname that is also a place word ends the name when no
        capitalised word follows it: "Mr Stephen Ward," (not "Dr Foster Ward Round")."""
        toks = self.tokens
        if title.folded not in W.STRONG_TITLES or j + 1 >= len(toks) or self.gap(j) != " " \
                or not self.first(toks[j]):
            return j
        nxt = toks[j + 1]
        if not (nxt.capitalised and not nxt.all_caps and nxt.folded in W.ORG_WORDS
                and nxt.folded in self.lex.common_surnames):
            return j
        if j + 2 < len(toks) and self.gap(j + 1).strip() in ("", "-") and toks[j + 2].capitalised:
            return j
        return j + 1

    def title_takes(self, title: _Token, tok: _Token) -> bool:
        """Whether ``tok`` is a name after ``title``."""
        if tok.folded in W.TITLES or tok.folded in W.ABBREVIATED_CALENDAR:
            return False
        if tok.capitalised and not tok.all_caps and title.folded in W.STRONG_TITLES and title.capitalised \
                and not title.all_caps:
            return tok.folded not in W.FUNCTION_WORDS and tok.folded not in W.ORG_WORDS
        if tok.all_caps:
            return tok.folded not in W.ORG_WORDS and (self.first(tok) or tok.folded in self.lex.common_surnames
                                                    or not self.common(tok))
        if tok.capitalised:
            return self.name_like(tok)
        if title.folded in W.STRONG_TITLES and (not title.text.islower() or title.folded in W.LOWER_STRONG):
            return not self.common(tok) or tok.folded in self.lex.common_surnames
        return self.lower_name(tok)

    def cue_before(self, i: int) -> str | None:
        """"strong" after a relation, role or naming cue, "weak" after a thanking or meeting cue."""
        tok = self.tokens[i]
        if i > 0 and self.tokens[i - 1].folded in W.TRIGGERS and W.CUE_GAP.fullmatch(self.gap(i - 1)):
            return "strong"
        return self.cues.get(tok.start)

    def apposition(self, i: int) -> bool:
        """"The carer, Blessing, sang": a capitalised word set off by commas after a relation or role."""
        tok = self.tokens[i]
        return (tok.capitalised and not tok.all_caps and i > 0 and self.tokens[i - 1].folded in W.TRIGGERS
                and self.gap(i - 1).strip() == "," and self.text[tok.end:tok.end + 1] == ",")

    def after_cue(self) -> list[tuple[int, int]]:
        """Names after a relation, role or cue: "my mum Sheila", "HCA Jo", "called Tom", "thanks to Priya"."""
        found = []
        first_names = self.lex.first_names
        for i, tok in enumerate(self.tokens):
            if self.cues.get(tok.start) == "form":
                if self.form_name(i):
                    found.append((i, self.extend(i)))
                continue
            if not tok.capitalised and tok.folded not in first_names:
                continue
            if len(tok.text) < 2 or (tok.folded in W.CALENDAR and not (tok.folded in MONTHS and self.apposition(i))):
                continue
            if tok.folded in self.lex.ambiguous and self.number_after(i):
                continue
            if tok.all_caps and not self.shouted(i):
                continue
            if not (tok.capitalised or self.lower_name(tok)):
                continue
            cue = self.cue_before(i)
            if cue is None or tok.folded in W.ORG_WORDS \
                    or (cue == "weak" and (tok.folded in NOT_ALONE or tok.folded in W.FAMOUS_ALONE)):
                continue
            if self.after_acronym(i) and not self.acronym_named(i):
                continue
            if self.lower_name(tok) or (tok.capitalised and self.first(tok)) \
                    or (cue == "strong" and (self.name_like(tok) or self.apposition(i))):
                found.append((i, self.extend(i)))
        return found

    def after_acronym(self, i: int) -> bool:
        """True when token ``i`` follows a role in capitals in a note not in capitals: "SALT In", "HCA Jo"."""
        toks = self.tokens
        return i > 0 and toks[i - 1].all_caps and toks[i - 1].folded in W.TRIGGERS and not toks[i].all_caps

    def acronym_named(self, i: int) -> bool:
        """Whether a word after a role in capitals is a name: a word that is also a function word, a
        modal or a common word ("SALT In any way", "OT Will assess") is one only with a verb of a
        person, a duty or role, a surname or a punctuation mark after it ("HCA Grace was kind")."""
        tok = self.tokens[i]
        if tok.folded not in W.FUNCTION_WORDS and tok.folded not in W.MODALS and tok.folded not in self.lex.ambiguous:
            return True
        if i + 1 >= len(self.tokens) or self.gap(i).strip():
            return True
        nxt = self.tokens[i + 1]
        return nxt.folded in W.PERSON_VERBS or self.role_after(i, on_duty=True) or self.full_name_after(i)

    def form_name(self, i: int) -> bool:
        """A word after a form label ("Surname: HUGHES", "Name: jo bloggs") that can be a name, in any case
        (not "Name: Falls risk assessment": an unknown word with a common lower-case word after it)."""
        tok = self.tokens[i]
        if len(tok.text) < 2 or tok.folded in W.TITLES or tok.folded in W.ORG_WORDS:
            return False
        if self.first(tok):
            return True
        if self.common(tok) and tok.folded not in self.lex.common_surnames:
            return False
        nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) and self.gap(i) == " " else None
        return nxt is None or not (nxt.text.islower() and self.common(nxt))

    def thing_or_place(self, i: int) -> bool:
        """True when a first name is a thing or a place here: after an article ("a Sara Stedy") or a
        word of travel ("a day trip to Preston", "moved to Chelsea", "lives near Beverley")."""
        tok = self.tokens[i]
        if i > 0 and self.tokens[i - 1].folded in _ARTICLES and self.gap(i - 1) == " ":
            return True
        if self.text[tok.end:tok.end + 2] in ("'s", "’s"):
            return False
        return W.PLACE_BEFORE.search(self.text, max(0, tok.start - 40), tok.start) is not None

    def first_names(self) -> list[tuple[int, int]]:
        """Known first names on their own, and ambiguous ones used as names."""
        found = []
        names = self.lex.first_names
        for i, tok in enumerate(self.tokens):
            if (tok.folded not in names and "-" not in tok.folded) or not self.first(tok):
                continue
            if tok.folded in self.lex.ambiguous and self.number_after(i):
                continue
            if tok.folded in W.ORG_WORDS or tok.folded in NOT_ALONE or tok.folded in W.RELATIONS:
                continue
            if tok.folded in W.FAMOUS_ALONE and not self.full_name_after(i):
                continue
            if self.thing_or_place(i):
                continue
            if len(tok.text) < 3:
                if (tok.capitalised and not tok.all_caps and self.full_name_after(i)) \
                        or (self.lower_name(tok) and self.role_after(i, on_duty=True)):
                    found.append((i, self.extend(i)))
            elif tok.all_caps:
                plain = tok.folded not in self.lex.ambiguous or tok.folded in self.lex.name_first
                if plain and len(tok.text) >= 4 and self.shouted_alone(i):
                    found.append((i, self.extend(i)))
            elif tok.folded.split("-", 1)[0] not in self.lex.ambiguous:
                if tok.capitalised or (self.lower_name(tok)
                                       and (len(tok.text) >= 4 or self.role_after(i, on_duty=True))):
                    found.append((i, self.extend(i)))
            elif tok.capitalised and not tok.all_caps and tok.folded not in DAYS \
                    and tok.folded not in W.ABBREVIATED_CALENDAR and self.ambiguous_is_name(i):
                found.append((i, self.extend(i)))
        return found

    def full_name_after(self, i: int) -> bool:
        """True when token ``i`` is followed by a surname that is no common word ("Jo Cartwright")."""
        if i + 1 >= len(self.tokens) or self.gap(i) != " ":
            return False
        nxt = self.tokens[i + 1]
        return len(nxt.text) > 1 and not nxt.all_caps and self.name_like(nxt) and not self.common(nxt)

    def shouted_alone(self, i: int) -> bool:
        """True when the words around capitalised token ``i`` are in capitals too ("SHEILA ON NIGHTS")."""
        neighbours = [self.tokens[k] for k in (i - 1, i + 1) if 0 <= k < len(self.tokens)]
        return any(n.all_caps and not self.first(n) for n in neighbours)

    def ambiguous_is_name(self, i: int) -> bool:
        """Whether an ambiguous first name ("Will", "Grace", "Dawn", "June") is used as a name here:
        with a role after it, a surname after it, a verb of speaking after it at the start of a
        sentence, or alone and capitalised in the middle of one."""
        tok = self.tokens[i]
        if self.role_follows_name(i) or self.who_follows(i):
            return True
        opening = self.sentence_start(i)
        if self.surname_follows(i, opening):
            return True
        if tok.folded in MONTHS:
            return False
        if opening:
            return self.verb_follows(i)
        return self.alone_mid_sentence(i)

    def role_follows_name(self, i: int) -> bool:
        """"Sue on reception", "Ray the porter", "Rose, the activities coordinator" (not "In June the
        manager...": a month needs a comma or "from the" before the role)."""
        toks = self.tokens
        tok = toks[i]
        if tok.folded in W.PERSON_NOUNS:
            return False
        if i > 0 and (toks[i - 1].folded in W.DETERMINERS or toks[i - 1].folded in W.TIME_WORDS):
            return False
        if not self.role_after(i, on_duty=True):
            return False
        spaced = self.text[tok.end:tok.end + 1] == " " and not W.FROM_TEAM.match(self.text, tok.end)
        return tok.folded not in MONTHS or not spaced

    def who_follows(self, i: int) -> bool:
        """"June who sits on the committee...", "told Hope, who...": a relative "who" makes it a person
        (not after a determiner or a time word: "in May, who...")."""
        toks = self.tokens
        if i + 1 >= len(toks) or toks[i + 1].folded not in ("who", "whose") or self.gap(i).strip(" ,") \
                or toks[i].folded in W.PERSON_NOUNS:
            return False
        prev = toks[i - 1].folded if i > 0 else ""
        return prev not in W.DETERMINERS and prev not in W.TIME_WORDS

    def surname_follows(self, i: int, opening: bool) -> bool:
        """"Grace Okafor", "met Grace Baker" (a word surname only mid-sentence), "Maria de Souza"."""
        toks = self.tokens
        if i + 1 >= len(toks) or self.gap(i) != " ":
            return False
        nxt = toks[i + 1]
        if nxt.capitalised and not nxt.all_caps and nxt.folded not in W.ORG_WORDS and len(nxt.text) > 1:
            if not self.common(nxt) or (not opening and nxt.folded in self.lex.common_surnames):
                return True
        return (nxt.folded in W.PARTICLES and i + 2 < len(toks) and self.gap(i + 1) == " "
                and self.surname_like(toks[i + 2], caps=False) and not self.common(toks[i + 2]))

    def verb_follows(self, i: int) -> bool:
        """"Mark said...", "Will told us...", and for name-first words also "Hazel was kind"."""
        if i + 1 >= len(self.tokens) or self.gap(i) != " ":
            return False
        verb = self.tokens[i + 1].folded
        return verb in W.SPEECH_VERBS or (self.tokens[i].folded in self.lex.name_first and verb in W.PERSON_VERBS)

    def alone_mid_sentence(self, i: int) -> bool:
        """A capitalised word mid-sentence with no determiner before it and no capitalised word
        next to it ("told us Dawn had gone"; not "the Rose garden", "Rose Ward")."""
        toks = self.tokens
        prev = toks[i - 1]
        if prev.folded in W.DETERMINERS or (prev.capitalised and self.gap(i - 1).strip() == ""):
            return False
        if toks[i].folded in NOT_ALONE:
            return False
        nxt = toks[i + 1] if i + 1 < len(toks) and self.gap(i) in (" ", ", ") else None
        return nxt is None or not nxt.capitalised

    def coordinated(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """An unknown capitalised word joined by "and" to a found name: "Chidi and Sheila"."""
        found = []
        starts = {i for i, _ in spans}
        for i, j in spans:
            for k, joiner in ((j + 2, j + 1), (i - 2, i - 1)):
                if not 0 <= k < len(self.tokens) or k in starts or self.tokens[joiner].folded != "and":
                    continue
                tok = self.tokens[k]
                if len(tok.text) > 1 and self.name_like(tok) and not self.common(tok) and not self.number_after(k) \
                        and tok.folded not in NOT_ALONE and tok.folded not in W.FAMOUS_ALONE:
                    found.append((k, self.extend(k)))
        return found

    def role_after(self, i: int, on_duty: bool = False) -> bool:
        """True when a role or relation follows token ``i`` in apposition: "Bronagh the SALT",
        "Jas from the pharmacy", "Oyin, the manager", "Tunde (HCA)", "Elsie, my mum"; with
        ``on_duty`` also "Sue on reception", "Dawn on nights"."""
        end = self.tokens[i].end
        if W.ROLE_AFTER.match(self.text, end) or W.FROM_TEAM.match(self.text, end):
            return True
        return on_duty and W.ON_DUTY.match(self.text, end) is not None

    def unknown_names(self) -> list[tuple[int, int]]:
        """A capitalised word that is no common word, with a role after it: "Bronagh the SALT"."""
        found = []
        for i, tok in enumerate(self.tokens[:-1]):
            if not tok.capitalised or tok.all_caps or len(tok.text) < 3 or self.common(tok) or self.first(tok):
                continue
            if tok.folded in W.ORG_WORDS or tok.folded in W.TITLES:
                continue
            if i > 0 and (self.tokens[i - 1].folded in W.TITLES or self.tokens[i - 1].folded in W.DETERMINERS
                          or self.tokens[i - 1].capitalised):
                continue
            if self.role_after(i):
                found.append((i, i))
        return found

    def initials(self) -> list[tuple[int, int]]:
        """An initial with a dot, then a surname: "J. Smith", "A. Okafor" (not "D. Patients")."""
        found = []
        for i, tok in enumerate(self.tokens[:-1]):
            if len(tok.text) != 1 or not tok.text.isupper() or self.gap(i) != ". ":
                continue
            nxt = self.tokens[i + 1]
            if nxt.capitalised and not nxt.all_caps and len(nxt.text) > 1 and self.name_like(nxt) \
                    and (not self.common(nxt) or nxt.folded in self.lex.common_surnames):
                found.append((i, self.extend(i, limit=2)))
        return found

    def joined_titles(self) -> list[tuple[int, int]]:
        """A title run into the name with no space or dot: "DrAhmed", "MrsPatel" (as character spans)."""
        found = []
        for m in W.JOINED_TITLE.finditer(self.text):
            name = m.group("name")
            folded = fold(name)
            if folded in self.lex.first_names or folded in self.lex.common_surnames \
                    or folded not in self.lex.common_words:
                found.append((m.start("name"), m.end("name")))
        return found

    def spans(self) -> list[tuple[int, int]]:
        """Character spans of every name found, before overlaps are resolved."""
        token_spans = self.after_title() + self.after_cue() + self.first_names() + self.initials() \
            + self.unknown_names()
        joined = self.joined_titles()
        if not token_spans and not joined:
            return []
        kept = [(i, j) for i, j in token_spans if self.keeps(i, j)]
        kept += [(i, j) for i, j in self.coordinated(kept) if self.keeps(i, j)]
        spans = [(self.tokens[i].start, self.tokens[j].end) for i, j in kept]
        spans += [(start, end) for start, end in joined if not self.looks_alike(start, end)]
        return spans + self.elsewhere(spans)

    def keeps(self, i: int, j: int) -> bool:
        """False when the name ``i..j`` is part of a place, an eponym, a known look-alike or a famous name."""
        return not self.in_place(i, j) and not self.famous(i, j) \
            and not self.looks_alike(self.tokens[i].start, self.tokens[j].end)

    def looks_alike(self, start: int, end: int) -> bool:
        """True when ``[start, end)`` overlaps a known look-alike ("Mr Men", "Marie Curie")."""
        if self.lookalikes is None:
            self.lookalikes = [m.span() for m in W.LOOKALIKES.finditer(self.text)]
        return _overlaps(start, end, self.lookalikes)

    def famous(self, i: int, j: int) -> bool:
        """True when tokens ``i..j`` are part of a famous name written with spaces ("Vera Lynn", "Nat
        King Cole", "Laurel and Hardy"): :data:`~evidencenlp.identifiers.name_words.FAMOUS_NAMES`."""
        toks = self.tokens
        for k in range(max(0, i - W.FAMOUS_LONGEST + 1), j + 1):
            words: tuple[str, ...] = ()
            for m in range(k, min(k + W.FAMOUS_LONGEST, len(toks))):
                if m > k and self.gap(m - 1) != " ":
                    break
                words += (toks[m].folded,)
                if m >= i and len(words) > 1 and words in W.FAMOUS_NAMES:
                    return True
        return False

    def elsewhere(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Every other mention, in the note, of a word of a name already found: "My therapist Lata ...
        Lata created a forum", "Mrs Doreen Pickles ... Doreen said". A word that is also a common word
        ("Pickles", "Rose") counts only capitalised; place words, roles, titles, months and days, and
        words in places, look-alikes or before a number ("Rose 3") never do."""
        words: dict[str, bool] = {}  # folded word -> counts in any case
        for start, end in spans:
            for m in NAME_TOKEN.finditer(self.text, start, end):
                word = fold(m.group())
                if len(word) > 1 and word not in W.NOT_PROPAGATED and word not in NOT_ALONE:
                    words[word] = word not in self.lex.common_words and word not in self.lex.ambiguous
        if not words:
            return []
        found = []
        for k, tok in enumerate(self.tokens):
            any_case = words.get(tok.folded)
            if any_case is None or tok.contraction or _overlaps(tok.start, tok.end, spans):
                continue
            if not any_case and (not tok.capitalised or (tok.all_caps and not self.shouted(k))
                                 or self.number_after(k) or self.thing_or_place(k)):
                continue
            j = self.extend(k)
            if self.keeps(k, j):
                found.append((tok.start, self.tokens[j].end))
        return found


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """True when ``[start, end)`` overlaps one of ``spans``."""
    return any(start < s_end and s_start < end for s_start, s_end in spans)


def find_name_spans(text: str) -> list[tuple[int, int]]:
    """Character ``(start, end)`` of each person name in ``text`` (may overlap; earliest first)."""
    if not text:
        return []
    return sorted(set(_NameFinder(text, lexicon()).spans()))
