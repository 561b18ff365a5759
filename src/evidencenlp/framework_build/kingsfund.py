"""Builder for The King's Fund (2026) *What makes care outstanding?* principles.

Input: the seed ``000_f9b0181f3a484340.txt``. Output: a framework document whose ``principles`` are
the five principles for outstanding care from section 04, each with its definition and the
illustrations of how it could look in practice.

Within section 04 the builder reads:

* the numbered list "1. ... 5." of the five principles (their full titles);
* for each "Principle N: <title>" block, the "Definition: ..." line and the "- " bullets that follow
  the "... illustrations of what it could look like." line (blank lines between bullets allowed;
  the first non-bullet paragraph ends them).

The seed's heading for principle 5 is cut short by the PDF extraction, so titles come from the
numbered list; each heading must be a prefix of its listed title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencenlp.framework_build.common import clean_text

SEED = "000_f9b0181f3a484340.txt"
FRAMEWORK_ID = "kingsfund-outstanding-2026"
PUBLISHER = "The King's Fund"
SECTION = "04 Principles for outstanding care"

#: principle id -> words that must all occur in its title (ids are this project's stable labels)
PRINCIPLE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "person_centred": ("person-centred",),
    "compassionate_inclusive_leadership": ("compassionate", "inclusive", "leadership"),
    "equity_inclusion": ("equity", "inclusion"),
    "learning_improvement_innovation": ("learning", "improvement", "innovation"),
    "purposeful_positive_difference": ("purposeful", "positive difference"),
}

_SECTION_HEADING = re.compile(r"^\d{2} \S.*$")
_NUMBERED = re.compile(r"^(?P<n>\d+)\.\s+(?P<title>.+)$")
_PRINCIPLE = re.compile(r"^Principle (?P<n>\d+):\s*(?P<title>.+)$")
_DEFINITION = re.compile(r"^Definition:\s*(?P<text>.+)$")
_ILLUSTRATIONS = re.compile(r"illustrations of what it could look like", re.I)
_BULLET = re.compile(r"^\s*-\s+(?P<text>.+)$")
_DATE = re.compile(r"^(?:January|February|March|April|May|June|July|August|September|October"
                   r"|November|December) (?P<year>\d{4})$")


@dataclass
class Principle:
    """One principle as parsed from the seed."""

    number: int
    title: str
    definition: str
    illustrations: list[str]


def section_lines(lines: list[str], heading: str = SECTION) -> list[str]:
    """Lines of the numbered section ``heading`` (body, not the contents entry) up to the next one."""
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise ValueError(f"{SEED}: section {heading!r} not found") from None
    end = next((i for i in range(start + 1, len(lines))
                if _SECTION_HEADING.match(lines[i].strip()) and "\t" not in lines[i]), len(lines))
    return lines[start + 1:end]


def listed_titles(lines: list[str]) -> list[str]:
    """Full principle titles from the numbered list "1. ..." (trailing full stop dropped)."""
    titles = [clean_text(m.group("title")).rstrip(".") for m in map(_NUMBERED.match, lines) if m]
    if not titles:
        raise ValueError(f"{SEED}: no numbered list of principles in section 04")
    return titles


def principle_blocks(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """Split the section into (number, heading title, block lines) per "Principle N:" heading."""
    starts = [(i, m) for i, m in enumerate(map(_PRINCIPLE.match, lines)) if m]
    blocks = []
    for k, (index, match) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        blocks.append((int(match.group("n")), clean_text(match.group("title")),
                       lines[index + 1:end]))
    return blocks


def parse_definition(block: list[str]) -> str:
    """The text after "Definition:" in a principle block."""
    for line in block:
        match = _DEFINITION.match(line.strip())
        if match:
            return clean_text(match.group("text"))
    raise ValueError(f"{SEED}: principle without a definition")


def parse_illustrations(block: list[str]) -> list[str]:
    """Bullets after the "illustrations" line, up to the first non-bullet paragraph."""
    try:
        start = next(i for i, line in enumerate(block) if _ILLUSTRATIONS.search(line))
    except StopIteration:
        raise ValueError(f"{SEED}: principle without illustrations") from None
    items = []
    for line in block[start + 1:]:
        match = _BULLET.match(line)
        if match:
            items.append(clean_text(match.group("text")))
        elif line.strip() and items:
            break
    return items


def full_title(number: int, heading: str, titles: list[str]) -> str:
    """The listed title for principle ``number``; the heading must be a prefix of it."""
    title = titles[number - 1]
    if not title.startswith(heading.rstrip(".")):
        raise ValueError(f"{SEED}: heading {heading!r} does not match listed title {title!r}")
    return title


def principle_id(title: str) -> str:
    """The project id of a principle, chosen by the keywords its title contains (exactly one)."""
    lowered = title.lower()
    matches = [pid for pid, words in PRINCIPLE_KEYWORDS.items()
               if all(word in lowered for word in words)]
    if len(matches) != 1:
        raise ValueError(f"{SEED}: principle {title!r} matches ids {matches}")
    return matches[0]


def parse_principles(lines: list[str]) -> list[Principle]:
    """All principles of section 04, in the seed's order."""
    section = section_lines(lines)
    titles = listed_titles(section)
    principles = [Principle(number, full_title(number, heading, titles), parse_definition(block),
                            parse_illustrations(block))
                  for number, heading, block in principle_blocks(section)]
    if [p.number for p in principles] != list(range(1, len(titles) + 1)):
        raise ValueError(f"{SEED}: principles {[p.number for p in principles]} != list of {len(titles)}")
    return principles


def principle_doc(principle: Principle) -> dict[str, Any]:
    """The framework-file record for a principle."""
    return {"id": principle_id(principle.title), "title": principle.title,
            "definition": principle.definition, "illustrations": principle.illustrations,
            "source": f"{SEED}#{SECTION}/{principle.title}"}


def parse_report_title(lines: list[str]) -> tuple[str, str]:
    """(report title, year): the first question-mark line and the year of the first date line."""
    title = next((line.strip() for line in lines if line.strip().endswith("?")), None)
    year = next((m.group("year") for m in map(_DATE.match, (line.strip() for line in lines)) if m), None)
    if title is None or year is None:
        raise ValueError(f"{SEED}: report title or date not found")
    return title, year


def build(seeds_dir: Path, reference_dir: Path) -> dict[str, Any]:
    """Build the King's Fund principles document from ``seeds_dir/000_...txt``.

    ``reference_dir`` is unused (kept for the common builder signature).
    """
    lines = (seeds_dir / SEED).read_text(encoding="utf-8").splitlines()
    title, year = parse_report_title(lines)
    principles = [principle_doc(p) for p in parse_principles(lines)]
    return {
        "id": FRAMEWORK_ID,
        "title": title,
        "version": year,
        "publisher": PUBLISHER,
        "source": SEED,
        "description": ("Five high-level principles for outstanding care, each with a definition "
                        "and illustrations of how it could look in practice (report section 04)."),
        "generated_by": "evidencenlp.framework_build.kingsfund",
        "principles": principles,
    }
