"""Identifiers with a fixed shape: NHS, hospital and National Insurance numbers, phone numbers,
email addresses, postcodes, dates of birth and street addresses.

Each ``find_*`` function takes the note and returns :class:`Redaction` spans; overlaps between
kinds are resolved later by :func:`evidencenlp.identifiers.find_identifiers`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from evidencenlp.identifiers.lexicon import lexicon
from evidencenlp.identifiers.name_words import ORG_WORDS


@dataclass(frozen=True)
class Redaction:
    """An identifier found in a note: its kind and character offsets in the original text."""

    kind: str
    start: int
    end: int


# --- numbers ---------------------------------------------------------------------------------

#: 3-3-4 digits, grouped by spaces or hyphens, or by dots ("485.777.3457", both dots)
_NHS = re.compile(r"(?<![\w/.-])(\d{3})(?:[ -]?|(?=\.\d{3}\.\d{4}(?!\d))\.)(\d{3})[ .-]?(\d{4})(?![\w/-]|\.\d)")
_NHS_CONTEXT = re.compile(
    r"\bNHS\s*(?:no|num|number|#)?\.?\s*(?:is|was|:|-|=)?\s*\(?(?P<num>\d{3}[ .-]?\d{3}[ .-]?\d{4})(?![\w/-]|\.\d)",
    re.I)
#: words before a number that make it a reference, not a person's number ("Datix 0123456789")
_REFERENCE_BEFORE = re.compile(
    r"\b(?:datix|ulysses|incident|ref|reference|case|complaint|ticket|log|order|invoice|batch|lot|serial|"
    r"location|provider|registration|ods|job|claim|policy|account|id)\b[\s.:#-]*(?:no\.?|number|id)?"
    r"[\s.:#-]*$", re.I)


def nhs_number_is_valid(digits: str) -> bool:
    """True when a 10-digit string has a valid NHS modulus-11 check digit.

    >>> nhs_number_is_valid("9434765919")
    True
    >>> nhs_number_is_valid("9434765918")
    False
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _is_reference(text: str, start: int) -> bool:
    """True when the words just before ``start`` call the number a reference (Datix, ref, ID...)."""
    return _REFERENCE_BEFORE.search(text[max(0, start - 30):start]) is not None


def find_nhs_numbers(text: str) -> Iterator[Redaction]:
    """Ten digits (3-3-4) with a valid check digit, or any ten digits right after "NHS number"."""
    for m in _NHS_CONTEXT.finditer(text):
        yield Redaction("NHS_NUMBER", m.start("num"), m.end("num"))
    for m in _NHS.finditer(text):
        if nhs_number_is_valid("".join(m.groups())) and not _is_reference(text, m.start()):
            yield Redaction("NHS_NUMBER", m.start(), m.end())


_HOSPITAL_ID = r"(?:[A-Z]{1,4}[\s-]?)?\d[\d\-/]*(?:\s\d+){0,2}[A-Z]?"
_HOSPITAL = re.compile(
    r"(?:\bMRN|\bM\.R\.N\.?|\bhospital\s+(?:number|no|num|ref(?:erence)?|id)|\bhosp\.?\s*(?:no|num(?:ber)?|#)"
    r"|\bunit\s+(?:number|no)|\bpatient\s+(?:id|identifier|number|no)|\bpt\s+(?:id|no|number)"
    r"|\bcase\s*-?\s*notes?\s+(?:number|no)|\b(?:hospital|medical|health|patient)\s+records?\s+(?:number|no)"
    r"|\b(?:PAS|RiO|EMIS|SystmOne|K|RM|CRN|local|trust|Lorenzo|Cerner|Epic)\s+(?:number|no|id)|\bCRN)"
    rf"s?\.?\s*(?:is|was|were|of|:|-|=|#)?\s*\(?\s*(?P<id>{_HOSPITAL_ID})(?![\w/-])", re.I)
#: "Hosp H4567890": the bare abbreviation, then a code that cannot be a count or a year
_HOSP_BARE = re.compile(r"\bhosp\b\.?\s*[:#]?\s*(?P<id>[A-Z]{1,4}\d{5,}|\d{6,})(?![\w/-])", re.I)
#: "unit numbers 0098123 and 0098124": further codes of the same kind listed after the first
_HOSPITAL_MORE = re.compile(
    rf"\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&|then)\s+|\s*/\s*)(?P<id>{_HOSPITAL_ID})(?![\w/-])", re.I)


def _enough_digits(ident: str) -> bool:
    return sum(c.isdigit() for c in ident) >= 4


def _shape(ident: str) -> str:
    """"J204-9981" -> "A9999999": letters and digits only, as classes."""
    return "".join("9" if c.isdigit() else "A" for c in ident if c.isalnum())


def find_hospital_numbers(text: str) -> Iterator[Redaction]:
    """A code with at least four digits right after "hospital number", "MRN", "unit no" and the like
    (and any more codes listed after it: "0098123 and 0098124"), or a letter-and-digits code after "Hosp"."""
    for m in _HOSPITAL.finditer(text):
        if not _enough_digits(m.group("id")):
            continue
        yield Redaction("HOSPITAL_NUMBER", m.start("id"), m.end("id"))
        shape = _shape(m.group("id"))
        more = _HOSPITAL_MORE.match(text, m.end("id"))
        while more and _shape(more.group("id")) == shape:
            yield Redaction("HOSPITAL_NUMBER", more.start("id"), more.end("id"))
            more = _HOSPITAL_MORE.match(text, more.end("id"))
    if "osp" in text or "OSP" in text:
        for m in _HOSP_BARE.finditer(text):
            yield Redaction("HOSPITAL_NUMBER", m.start("id"), m.end("id"))


_NI = re.compile(r"(?<![\w-])[A-Z]{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?[A-D](?![\w-])")
_NI_CONTEXT = re.compile(
    r"\b(?:national\s+insurance|N\.?I\.?N\.?O?|NI)\s*(?:no|num|number|#)?\.?\s*(?:is|was|:|-|=)?\s*"
    r"(?P<ni>[A-Z]{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}(?:[ -]?[A-D])?)(?![\w-])", re.I)


def find_ni_numbers(text: str) -> Iterator[Redaction]:
    """National Insurance numbers: two capital letters, six digits, a suffix A-D ("AB 12 34 56 C");
    after "NI number" also in lower case or without the suffix."""
    for m in _NI.finditer(text):
        yield Redaction("NI_NUMBER", m.start(), m.end())
    for m in _NI_CONTEXT.finditer(text):
        yield Redaction("NI_NUMBER", m.start("ni"), m.end("ni"))


# --- phones ----------------------------------------------------------------------------------

_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?\d{1,3}[\s.-]?(?:\(0\)\s?)?\(?|\(?0\s?)\d[\d\s().-]{5,22}\d(?![\w])")
#: a number written digit by digit ("0 7 9 1 2 3 4 5 6 7 8") is a phone number when it is a mobile
#: number or follows a word such as "phone" or "call" (not a row of scores: "0 1 2 1 0 1 2 0 1 1")
_SPACED_OUT = re.compile(r"\d(?:\s+\d){5}")
_PHONE_CUE = re.compile(
    r"\b(?:phone|tel|telephone|mobile|mob|cell|number|no|call|called|ring|rang|text|texted|contact|whatsapp"
    r"|reach(?:ed)?|landline)\b[^.\d]{0,25}$", re.I)
#: CQC's national contact centre (non-geographic numbers are excluded anyway; kept explicit)
_ORGANISATION_NUMBERS = frozenset({"03000616161"})


def _national_digits(raw: str) -> tuple[str, bool]:
    """The digits of a phone-like string and whether it is international (not UK)."""
    digits = re.sub(r"\D", "", raw)
    text = raw.lstrip("( ")
    if text.startswith("+") or text.startswith("00"):
        if text.startswith("00"):
            digits = digits[2:]
        if digits.startswith("44"):
            return "0" + digits[2:].lstrip("0"), False
        return digits, True
    return digits, False


def _phone_is_plausible(raw: str) -> bool:
    """A UK number with 10-11 digits on a geographic or mobile range (01, 02, 07), or an
    international number with 8-15 digits. 03 and 08 numbers are organisations, not people."""
    digits, international = _national_digits(raw)
    if international:
        return 8 <= len(digits) <= 15
    return (len(digits) in (10, 11) and digits[0] == "0" and digits[1] in "127"
            and digits not in _ORGANISATION_NUMBERS)


def _phone_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The plausible phone number at the start of ``text[start:end]``, dropping trailing digit groups
    that belong to the next number ("07700 900123 2 calls") and unmatched brackets."""
    groups = list(re.finditer(r"\S+", text[start:end]))
    for n in range(len(groups), 0, -1):
        stop = start + groups[n - 1].end()
        while stop > start and not text[stop - 1].isdigit():
            stop -= 1
        candidate = text[start:stop]
        if candidate and _phone_is_plausible(candidate):
            if text[start] == "(" and ")" not in candidate:
                start += 1
            return start, stop
    return None


def _written_as_phone(text: str, start: int, end: int) -> bool:
    """False for a number written digit by digit that is neither a mobile nor after a phone cue."""
    raw = text[start:end]
    if not _SPACED_OUT.search(raw):
        return True
    digits, _ = _national_digits(raw)
    return digits.startswith("07") or _PHONE_CUE.search(text, max(0, start - 40), start) is not None


#: North American numbers written without a country code: "(416) 555-0199" always, "416-555-0199"
#: only after a word such as "phone" or "call"
_NANP = re.compile(r"(?<![\w(])\(\d{3}\)\s?\d{3}[\s.-]\d{4}(?![\w-])")
_NANP_DASHED = re.compile(
    r"\b(?:phone|tel|telephone|mobile|mob|cell|number|call|ring|text|contact)\b[^.\d]{0,20}?"
    r"(?P<num>(?<![\w-])\d{3}-\d{3}-\d{4})(?![\w-])", re.I)


def find_phones(text: str) -> Iterator[Redaction]:
    """UK and international phone numbers (not reference numbers or organisations' lines)."""
    for m in _PHONE.finditer(text):
        span = _phone_span(text, m.start(), m.end())
        if span and not _is_reference(text, m.start()) and _written_as_phone(text, *span):
            yield Redaction("PHONE", *span)
    for m in _NANP.finditer(text):
        yield Redaction("PHONE", m.start(), m.end())
    for m in _NANP_DASHED.finditer(text):
        yield Redaction("PHONE", m.start("num"), m.end("num"))


# --- email, postcode -------------------------------------------------------------------------

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
#: an address written to dodge harvesters: "jo.bloggs (at) example.com", "jo [at] example dot com",
#: "jo dot bloggs at nhs dot net" (a bare "at" only with a spelled "dot" and a known ending after it)
_BRACKET_AT = r"\s*[(\[{<]\s*at\s*[)\]}>]\s*"
_DOT = r"(?:\.|\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)"
_SPELLED_DOT = r"(?:\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)"
_ENDING = r"(?:com|net|org|uk|co|gov|nhs|ac|edu|info|biz|io|me|ie|eu|scot|wales|cymru)"
_LOCAL = rf"[\w+-]+(?:{_DOT}[\w+-]+)*"
_EMAIL_SPELLED = re.compile(
    rf"(?<![\w.@])(?:{_LOCAL}{_BRACKET_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[A-Za-z]{{2,}}"
    rf"|{_LOCAL}\s+at\s+[\w-]+(?:{_DOT}[\w-]+)*{_SPELLED_DOT}{_ENDING})\b", re.I)
_EMAIL_SPELLED_HINT = re.compile(rf"{_BRACKET_AT}|\bdot\b", re.I)
_POSTCODE = re.compile(
    r"\b(?P<out>[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?)\s?(?P<in>\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)")


def find_emails(text: str) -> Iterator[Redaction]:
    """Email addresses, also with "(at)", "[at]" or a spelled "dot" ("jo [at] example dot com")."""
    for m in _EMAIL.finditer(text):
        yield Redaction("EMAIL", m.start(), m.end())
    yield from find_emails_spelled(text)


def find_emails_spelled(text: str) -> Iterator[Redaction]:
    """The email addresses of :func:`find_emails` written without an ``@`` ("jo [at] example dot com")."""
    if _EMAIL_SPELLED_HINT.search(text):
        for m in _EMAIL_SPELLED.finditer(text):
            yield Redaction("EMAIL", m.start(), m.end())


def find_postcodes(text: str) -> Iterator[Redaction]:
    """UK postcodes in any case ("SW1A 1AA", "m1 5nn"); never "B12 1st" (an ordinal)."""
    for m in _POSTCODE.finditer(text):
        if _ORDINAL.fullmatch(m.group("in").lower()) and not m.group("in").isupper():
            continue
        yield Redaction("POSTCODE", m.start(), m.end())


# --- dates of birth --------------------------------------------------------------------------

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_ORDINAL_WORD = (r"(?:(?:twenty|thirty)[\s-]?)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
                 r"|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth"
                 r"|nineteenth|twentieth|thirtieth")
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_WORD})"
_SPELLED_YEAR = (r"nineteen[\s-](?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three|four"
                 r"|five|six|seven|eight|nine))?|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen"
                 r"|nineteen)")
_YEAR = rf"(?:\d{{4}}|['’]?\d{{2}}|{_SPELLED_YEAR})"
_DATE = (rf"(?:\d{{4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}}|\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2,4}}|\d{{1,2}} \d{{1,2}} \d{{4}}"
         rf"|(?:the\s+)?{_DAY}(?:\s+of)?[\s\-]+{_MONTH}\.?,?[\s\-]+{_YEAR}"
         rf"|{_MONTH}\.?\s+(?:the\s+)?{_DAY},?\s+{_YEAR})(?![\w/])")
#: "DOB", "date of birth", "born", and "b." (only right before a date: "(b. 12/05/1927)"), then a
#: bracket or a few linking words ("date of birth was recorded as ...")
_DOB_CUE = r"(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s*date|birthdate|birthday|born|(?<![\w.])b\.)"
_DOB_BEFORE = (rf"\b{_DOB_CUE}"
               r"(?:\s*/\s*age)?[\s:=([-]*(?:(?:is|was|on|of|as|recorded|given|listed|the|entered|written|shown"
               r"|stated|noted|corrected|changed|amended|updated|from)"
               r"[\s:=([-]+){0,3}")
_DOB = re.compile(rf"{_DOB_BEFORE}\s*(?P<date>{_DATE})", re.IGNORECASE)
_DOB_AFTER = re.compile(rf"(?P<date>{_DATE})\s*[(\[,-]?\s*(?:d\.?o\.?b\.?|date\s+of\s+birth)\b", re.IGNORECASE)
_DOB_HINT = re.compile(r"d\.?\s?o\.?\s?b|birth|born|\bb\.\s*\d", re.IGNORECASE)
#: an age, then the date of birth in brackets: "aged 84 (01/02/1940)"
_AGE_THEN_DATE = re.compile(
    rf"\baged?\s*:?\s*(?P<age>\d{{1,3}})\s*(?:years?|yrs?|y/?o|y)?\s*[(\[]\s*(?:d\.?o\.?b\.?\s*:?\s*)?"
    rf"(?P<date>{_DATE})", re.IGNORECASE)
#: a year, or a month and year, alone: "DOB 1951", "year of birth: 1938", "DOB 03/1951", "born March 1950"
_DOB_YEAR = re.compile(
    rf"\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|year\s+of\s+birth|born)[\s:=([-]*"
    rf"(?P<date>(?:{_MONTH}\.?\s+|\d{{1,2}}[/.-])?(?:19|20)\d\d)\b(?![/.-]\d)",
    re.IGNORECASE)
_BORN_IN = re.compile(rf"\bborn\s+in\s+(?P<date>(?:{_MONTH}\s+)?(?:19|20)\d\d)\b", re.IGNORECASE)
#: after a date of birth, another date given as an alternative to it in the same sentence: "recorded as
#: 29/02/1944 on one form and 28/02/1944 on another", "12/03/1950 (or 13/03/1950)", "corrected from
#: 01/02/1950 to 02/01/1950"
_DOB_ALTERNATIVE = re.compile(
    rf"(?P<between>[^.;:\n\d]{{0,40}}?\b(?:and|or|not|but|to|vs|versus|instead\s+of|rather\s+than)\b[^.;:\n\d]{{0,25}}?)"
    rf"(?P<date>{_DATE})", re.IGNORECASE)
#: words between two dates that make the second one an event, not another date of birth
_EVENT_WORDS = re.compile(
    r"\b(?:admi\w*|discharg\w*|seen|review\w*|visit\w*|died|death|appointment|attend\w*|referr\w*|fell|fall"
    r"|incident|started|moved|since|until|from|today|operation|surgery|vaccin\w*|jab|booked|dated|home|left|went"
    r"|came|arrived|transferr\w*|returned|weighed|passed|funeral|last|next|due|expir\w*|issued|signed)\b",
    re.IGNORECASE)


_FULL_YEAR = re.compile(r"(?:19|20)\d\d(?!\d)")


def _close_years(first: str, second: str) -> bool:
    """False when both dates give a four-digit year and they are more than ten years apart."""
    a, b = _FULL_YEAR.search(first), _FULL_YEAR.search(second)
    return not (a and b) or abs(int(a.group()) - int(b.group())) <= 10


def _age_fits(age: int, date: str) -> bool:
    """False when the date has a four-digit year that an age of ``age`` now cannot be born in."""
    year = _FULL_YEAR.search(date)
    return year is None or 1990 <= int(year.group()) + age <= 2040


def find_dates_of_birth(text: str) -> Iterator[Redaction]:
    """A date next to "DOB", "date of birth" or "born" (ISO, numeric, or spelled-out day and month),
    and a second date offered as an alternative to it ("... on one form and 28/02/1944 on another")."""
    if ("(" in text or "[" in text) and "ge" in text.lower():
        for m in _AGE_THEN_DATE.finditer(text):
            if _age_fits(int(m.group("age")), m.group("date")):
                yield Redaction("DOB", m.start("date"), m.end("date"))
    if not _DOB_HINT.search(text):
        return
    for pattern in (_DOB, _DOB_AFTER, _BORN_IN, _DOB_YEAR):
        for m in pattern.finditer(text):
            yield Redaction("DOB", m.start("date"), m.end("date"))
            if pattern is _DOB or pattern is _DOB_AFTER:
                alt = _DOB_ALTERNATIVE.match(text, m.end("date"))
                if alt and not _EVENT_WORDS.search(alt.group("between")) \
                        and _close_years(m.group("date"), alt.group("date")):
                    yield Redaction("DOB", alt.start("date"), alt.end("date"))


# --- street addresses ------------------------------------------------------------------------

_STREET_TYPES = (r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|cl|crescent|cres|way|court|ct|place|pl"
                 r"|gardens|gdns|terrace|terr|grove|mews|square|sq|hill|walk|row|parade|pde|view|rise|green|vale"
                 r"|gate|wharf|yard|fold|wynd|boulevard|broadway|chase|croft|meadows?|mount|paddock|heights|approach"
                 r"|brow|circus|embankment|esplanade|glade|hollow|lawns?|mead|orchard|ridge|spinney|strand|villas"
                 r"|cottages|park|fields|bank|side|end|quay|garth|dene|nook|leys|reach|circle|copse|brae|loan|gait"
                 r"|promenade|parkway|causeway|pastures?|ginnel)")
#: the last word of a house or building name: "Rose Cottage", "Sycamore House", "Marlowe Court"
_HOUSE_WORDS = (r"(?:House|Cottage|Cottages|Farm|Farmhouse|Barn|Barns|Forge|Mill|Hall|Manor|Grange|Lodge|Court"
                r"|Villa|Villas|Bungalow|Rectory|Vicarage|Croft|Mansions|Flats|Buildings|Apartments|Heights|Tower"
                r"|Towers|Point|Chambers|Works|Granary|Stables|Oast|Place|Gardens|Mews|Terrace|Close|Quays?|Wharf"
                r"|Yard|Gate|View|Rise|Lea|Nook|End|Orchard|Hollow|Mount)")
#: a house or building name, with a flat or apartment number before it: "Flat 6, Sycamore House",
#: "Rosemary Cottage", "The Old Forge", "The Cottage"
_HOUSE_NAME = (r"(?:(?i:flat|apartment|apt|unit|room)\s+\d+[A-Za-z]?,?\s+)?"
               rf"(?-i:(?:[A-Z][\w'’-]*\s+){{1,3}}{_HOUSE_WORDS}|The(?:\s+[A-Z][\w'’-]*){{1,3}})")
_STREET_WORD = r"[^\W\d_][\w'’-]*"
_UNIT = r"(?:(?:flat|apartment|apt|unit)\s+\d+[A-Za-z]?,?\s+)?"
_HOUSE_NUMBER = r"\d{1,4}[A-Za-z]?(?:\s?[-–]\s?\d{1,4})?,?"
#: "Flat 7, Jubilee Court": a flat or apartment word just before a house number and building name
_UNIT_BEFORE = re.compile(r"\b(?:flat|apartment|apt)\s+$", re.I)
_TOWN = r"(?-i:,\s*[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})\b"
_ADDRESS = re.compile(
    rf"(?<![\w/.:£$€-]){_UNIT}{_HOUSE_NUMBER}\s+(?P<street>(?:{_STREET_WORD}\s+){{1,3}})(?P<type>{_STREET_TYPES})\b\.?"
    rf"(?P<town>{_TOWN})?", re.IGNORECASE)
_ADDRESS_NO_NUMBER = re.compile(
    rf"\b(?:live|lives|living|lived|moved|address|home|resides|staying)\s+(?:is\s+)?(?:at|on|in|to)\s+"
    rf"(?P<addr>(?-i:(?:[A-Z][\w'’-]*\s+){{1,3}}){_STREET_TYPES}\b)(?P<town>{_TOWN})?", re.IGNORECASE)
#: the same after "her house on", "Address:" ("her house on Brook Street", "Address: Church Lane, Leeds")
_ADDRESS_NO_NUMBER_MORE = re.compile(
    rf"\b(?:(?:house|flat|bungalow|cottage|property)\s+on|address(?:\s+(?:is|was))?\s*[:-])\s*"
    rf"(?P<addr>(?-i:(?:[A-Z][\w'’-]*\s+){{1,3}}){_STREET_TYPES}\b)(?P<town>{_TOWN})?", re.IGNORECASE)
#: a house or building name, then a comma and a street, with or without a house number: "Ivy House,
#: Green Lane", "Flat 14, Marlowe Court, 61 Spring Bank", "The Old Forge, Church Lane"
_HOUSE_ADDRESS = re.compile(
    rf"(?<![\w-]){_HOUSE_NAME},\s*(?:{_HOUSE_NUMBER}\s+)?"
    rf"(?P<addr>(?-i:(?:[A-Z][\w'’-]*\s+){{1,3}}){_STREET_TYPES}\b)(?P<town>{_TOWN})?", re.IGNORECASE)
#: after "address", a house name alone ("Address: Rose Cottage, Thirsk", "home address is The Old Forge");
#: after "address" or "lives at", any capitalised name then a street ("lives at Greenacres, Sandy Lane")
_STREET_AFTER_COMMA = rf",\s*(?:{_HOUSE_NUMBER}\s+)?(?-i:(?:[A-Z][\w'’-]*\s+){{1,3}}){_STREET_TYPES}\b"
#: a quick test before the slower house-name patterns: a comma, then a street
_STREET_AFTER_COMMA_HINT = re.compile(_STREET_AFTER_COMMA, re.IGNORECASE)
_HOUSE_AFTER_CUE = re.compile(
    rf"\b(?:address(?:\s+(?:is|was))?|house\s+name|(?P<lives>(?:live[sd]?|living|resides)\s+at))\s*[:-]?\s*"
    rf"(?P<addr>{_HOUSE_NAME}(?:{_STREET_AFTER_COMMA})?|(?-i:[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){{0,2}})"
    rf"{_STREET_AFTER_COMMA})(?P<town>{_TOWN})?", re.IGNORECASE)
#: words just before an address that allow it in lower case ("lives at 14 acacia avenue")
_ADDRESS_CUE = re.compile(
    r"\b(?:live|lives|living|lived|resides|moved|address(?:\s+is)?|home\s+is)\W*(?:at|on|in|to)?\W*$", re.I)
#: a number after these words is a place in a building or a count, not a house ("ward 12 Green", "bay 4")
_NOT_HOUSE = re.compile(
    r"\b(?:ward|bay|bed|beds|room|rm|level|floor|theatre|zone|pod|block|page|step|line|item|aged|age|x|day|week"
    r"|month|year|over|under|about|than|within|every|per)\s*$", re.I)

#: "in 2019 Church Lane surgery merged": a year, not a house number
_YEAR_NUMBER = re.compile(r"(?:19|20)\d\d\b")
_YEAR_BEFORE = re.compile(r"\b(?:in|since|from|by|until|till|during|before|after|of)\s*$", re.I)


def _capitalised(words: str) -> bool:
    """True when every word starts with a capital."""
    return all(w[0].isupper() for w in words.split())


def _town_ok(text: str, town: str | None, end: int) -> bool:
    """A town after the street is not a common word or a title ("..., The manager said"), unless a
    postcode follows it ("8 Oak Street, Hull HU1 1AA")."""
    if not town:
        return True
    if _POSTCODE.match(text, end + 1) and text[end:end + 1] == " ":
        return True
    first = town.strip(", ").split()[0]
    return not lexicon().is_common(first) and first.lower() not in {"mr", "mrs", "ms", "miss", "dr", "mx"}


_NEXT_WORD = re.compile(r"[ \t]+([A-Z][a-z]+)")


def _org_after(text: str, end: int) -> bool:
    """True when a capitalised organisation word follows: "Mill Lane Surgery", "Park Road Clinic"."""
    m = _NEXT_WORD.match(text, end)
    return m is not None and m.group(1).lower() in ORG_WORDS


def find_addresses(text: str) -> Iterator[Redaction]:
    """Street addresses: "14 Acacia Avenue", "Flat 3, 22 Park Road, Leeds", "lives on Elm Road"."""
    yield from _numbered_addresses(text)
    yield from find_addresses_without_number(text)


def _numbered_addresses(text: str) -> Iterator[Redaction]:
    """Addresses with a house number ("14 Acacia Avenue"): the rule needs a digit."""
    for m in _ADDRESS.finditer(text):
        before = text[max(0, m.start() - 24):m.start()]
        if _NOT_HOUSE.search(before) or (_YEAR_NUMBER.match(m.group()) and _YEAR_BEFORE.search(before)):
            continue
        words = m.group("street") + m.group("type")
        if not (_capitalised(words) or (words.islower() and _ADDRESS_CUE.search(before))):
            continue
        end = m.end() if _town_ok(text, m.group("town"), m.end()) else m.start("town")
        end -= text[end - 1] == "."  # "Rd." keeps its dot only inside the address
        unit = _UNIT_BEFORE.search(before)
        yield Redaction("ADDRESS", m.start() - len(unit.group()) if unit else m.start(), end)


def find_addresses_without_number(text: str) -> Iterator[Redaction]:
    """The addresses of :func:`find_addresses` found without a house number ("lives on Elm Road",
    "Ivy House, Green Lane", "Address: Rose Cottage, Thirsk")."""
    low = text.lower()
    more = ("house" in low or "flat" in low or "bungalow" in low or "cottage" in low or "property" in low
            or "address" in low)
    for pattern in (_ADDRESS_NO_NUMBER, _ADDRESS_NO_NUMBER_MORE) if more else (_ADDRESS_NO_NUMBER,):
        for m in pattern.finditer(text):
            end = m.end() if _town_ok(text, m.group("town"), m.end()) else m.end("addr")
            if _capitalised(m.group("addr")):
                yield Redaction("ADDRESS", m.start("addr"), end)
    street_after_comma = "," in text and _STREET_AFTER_COMMA_HINT.search(text) is not None
    if street_after_comma:
        for m in _HOUSE_ADDRESS.finditer(text):
            if _capitalised(m.group("addr")) and not _org_after(text, m.end("addr")):
                end = m.end() if _town_ok(text, m.group("town"), m.end()) else m.end("addr")
                yield Redaction("ADDRESS", m.start(), end)
    if street_after_comma or "address" in low or "house name" in low:
        for m in _HOUSE_AFTER_CUE.finditer(text):
            if m.group("lives") and "," not in m.group("addr"):
                continue  # "lives at Oak Lodge": a care home, not a street address
            end = m.end() if _town_ok(text, m.group("town"), m.end()) else m.end("addr")
            yield Redaction("ADDRESS", m.start("addr"), end)
