"""Builder for CQC's *Primary care and community services assessment framework* (DRAFT v6.0).

Input: the PDF-extracted seed ``003_a9319b8e2ca5564c.txt``. Output: a framework document with the
five key questions (their "you" statement and "I statements") and 26 topics, each with its
question, scope topic areas and four bands of descriptor sentences.

The seed's structure is read from its content, not from heading levels (which vary between ``#``,
``##``, ``###`` and bold):

* the contents lists every key question (in ``<b>``) and topic title, in order;
* a topic is anchored on its "Scope of this key line of enquiry ..." line: the non-empty line
  before it is the topic question and the one before that the topic title;
* a topic's table starts at its ``Outstanding<TAB>Good<TAB>...`` header and runs to the next
  topic title or key question heading. Each row holds four tab-separated HTML cells; rows of
  ``---`` cells are page separators. Text before the first ``<li>`` of a cell continues the last
  bullet of the same column in the previous row and is rejoined into one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidencenlp.framework_build.common import clean_text, slugify

SEED = "003_a9319b8e2ca5564c.txt"
FRAMEWORK_ID = "cqc-pcc-v6-draft"
PUBLISHER = "Care Quality Commission"

SCOPE_MARKER = "Scope of this key line of enquiry and topic areas include:"
NOT_AUTHENTIC = "(Not authentic TLAP statement)"
from evidencenlp.taxonomy import PUBLISHED_BANDS as BANDS  # noqa: E402

_CONTENTS_ENTRY = re.compile(r"^(?P<text>.+?)\s*\.{3,}\s*\t\s*(?:<b>)?\d+(?:</b>)?\s*$")
_HEADING_MARKS = re.compile(r"^\s*#+\s*|\*\*|</?b>")
_TITLE_VERSION = re.compile(r"^(?P<title>.+?)\s+DRAFT\s+V(?P<version>\d+(?:\.\d+)*)\s*$", re.I)
_LIST_ITEM = re.compile(r"^\s*-\s+(?P<text>.+)$")
_LI = re.compile(r"<li\b[^>]*>(?P<body>.*?)</li>", re.S)
_SEPARATOR_CELL = re.compile(r"^-*$")
_TERMINAL = (".", "?", "!")


@dataclass
class ContentsEntry:
    """One line of the seed's contents: a key question, a topic title or a topic question."""

    kind: str  # "key_question" | "topic" | "question"
    text: str


@dataclass
class Topic:
    """A topic as located in the seed: line indices plus parsed text."""

    key_question: str
    title: str
    question: str
    title_line: int
    scope_line: int
    scope: list[str] = field(default_factory=list)
    descriptors: dict[str, list[str]] = field(default_factory=dict)


def heading_text(line: str) -> str:
    """Text of a heading or bold line without markdown/HTML emphasis marks.

    >>> heading_text("### **Are there enough staff?**")
    'Are there enough staff?'
    """
    return clean_text(_HEADING_MARKS.sub("", line))


def parse_contents(lines: list[str]) -> list[ContentsEntry]:
    """Parse the contents entries (lines with dot leaders and a page number), in order."""
    entries = []
    for line in lines:
        match = _CONTENTS_ENTRY.match(line)
        if not match:
            continue
        raw = match.group("text")
        text = heading_text(raw)
        if "<b>" in raw:
            kind = "key_question"
        elif text.endswith("?"):
            kind = "question"
        else:
            kind = "topic"
        entries.append(ContentsEntry(kind, text))
    if not entries:
        raise ValueError(f"{SEED}: no contents entries found")
    return entries


def parse_title(lines: list[str]) -> tuple[str, str]:
    """Return (title, version) from the document's first ``#`` heading, e.g. ("...", "6.0-draft")."""
    for line in lines:
        if line.startswith("# "):
            match = _TITLE_VERSION.match(heading_text(line))
            if match:
                return match.group("title"), f"{match.group('version')}-draft"
            raise ValueError(f"{SEED}: title line has no 'DRAFT V<n>': {line!r}")
    raise ValueError(f"{SEED}: no title heading")


def find_key_question_lines(lines: list[str], names: list[str]) -> dict[int, str]:
    """Map line index -> key question name (e.g. "WELL-LED") for the body's key question headings."""
    found: dict[int, str] = {}
    for index, line in enumerate(lines):
        if "\t" in line or not (line.startswith("#") or line.startswith("**")):
            continue
        text = heading_text(line)
        if text in names:
            found[index] = text
    if sorted(found.values(), key=names.index) != list(found.values()) or len(found) != len(names):
        raise ValueError(f"{SEED}: key question headings {list(found.values())} != contents {names}")
    return found


def previous_nonempty(lines: list[str], index: int) -> int:
    """Index of the last non-blank line before ``index``."""
    index -= 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index < 0:
        raise ValueError(f"{SEED}: no text before line {index + 1}")
    return index


def next_nonempty(lines: list[str], index: int) -> int:
    """Index of the first non-blank line after ``index`` (``len(lines)`` if none)."""
    index += 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def key_question_id(name: str) -> str:
    """Key question id from its contents name: "WELL-LED" -> "well-led"."""
    return slugify(name)


def key_question_title(name: str) -> str:
    """Human title of a key question: "WELL-LED" -> "Well-led"."""
    return name.capitalize()


def parse_i_statement(line: str) -> dict[str, Any]:
    """One ✓ I statement; the "(Not authentic TLAP statement)" remark becomes a flag.

    A stray quote left before the remark by the PDF extraction is dropped too.
    """
    text = clean_text(line)
    flagged = NOT_AUTHENTIC in text
    if flagged:
        text = text.replace(NOT_AUTHENTIC, "").strip().rstrip("'\"").strip()
    return {"text": text, "not_authentic_tlap": flagged}


def parse_key_question(lines: list[str], start: int, end: int, name: str) -> dict[str, Any]:
    """Parse a key question block: heading at ``start``, its first topic title at ``end``."""
    statement_line = next_nonempty(lines, start)
    you_statement = heading_text(lines[statement_line])
    i_statements = [parse_i_statement(line) for line in lines[statement_line + 1:end]
                    if _LIST_ITEM.match(line) and "✓" in line]
    kq_id = key_question_id(name)
    doc: dict[str, Any] = {"id": kq_id, "title": key_question_title(name),
                           "you_statement": you_statement}
    if i_statements:
        doc["i_statements"] = i_statements
    doc["source"] = f"{SEED}#{kq_id}"
    return doc


def locate_topics(lines: list[str], kq_lines: dict[int, str]) -> list[Topic]:
    """Find every topic by its scope marker; attach title, question and key question."""
    topics = []
    for index, line in enumerate(lines):
        if line.strip() != SCOPE_MARKER:
            continue
        question_line = previous_nonempty(lines, index)
        title_line = previous_nonempty(lines, question_line)
        owners = [name for kq_index, name in kq_lines.items() if kq_index < title_line]
        if not owners:
            raise ValueError(f"{SEED}:{index + 1}: topic before any key question")
        topics.append(Topic(key_question=key_question_id(owners[-1]),
                            title=heading_text(lines[title_line]),
                            question=heading_text(lines[question_line]),
                            title_line=title_line, scope_line=index))
    return topics


def check_against_contents(topics: list[Topic], contents: list[ContentsEntry]) -> None:
    """Fail unless the body's topic titles (and questions listed in the contents) match it."""
    expected = [entry.text for entry in contents if entry.kind == "topic"]
    found = [topic.title for topic in topics]
    if found != expected:
        raise ValueError(f"{SEED}: topic titles differ from contents:\n{found}\n{expected}")
    by_title = {topic.title: topic for topic in topics}
    for previous, entry in zip(contents, contents[1:]):
        if entry.kind == "question" and by_title[previous.text].question != entry.text:
            raise ValueError(f"{SEED}: question of {previous.text!r} differs from contents")


def parse_scope(lines: list[str], start: int, end: int) -> tuple[list[str], int]:
    """Scope bullets after the marker at ``start``; returns them and the table header index."""
    scope = []
    for index in range(start + 1, end):
        line = lines[index]
        if "\t" in line:
            return scope, index
        match = _LIST_ITEM.match(line)
        if match:
            scope.append(clean_text(match.group("text")))
        elif line.strip():
            raise ValueError(f"{SEED}:{index + 1}: unexpected line in scope: {line!r}")
    raise ValueError(f"{SEED}:{start + 1}: no table after scope")


def header_bands(line: str) -> list[str]:
    """Band ids from a table header row: "Requires improvement" -> "requires_improvement"."""
    bands = [slugify(cell).replace("-", "_") for cell in line.split("\t")]
    if sorted(bands) != sorted(BANDS):
        raise ValueError(f"{SEED}: unexpected table header {line!r}")
    return bands


def is_separator(cells: list[str]) -> bool:
    """True for a page-break row (``---`` cells) or an all-empty row."""
    return all(_SEPARATOR_CELL.match(cell.strip()) for cell in cells)


def split_cell(cell: str) -> tuple[str, list[str]]:
    """Split an HTML cell into (continuation text before the first ``<li>``, list items).

    Both are cleaned plain text; the continuation is "" when the cell starts with a bullet.
    """
    first = re.search(r"<li\b", cell)
    lead = cell if first is None else cell[:first.start()]
    items = [clean_text(match.group("body")) for match in _LI.finditer(cell)]
    return clean_text(lead), [item for item in items if item]


def join_continuation(head: str, tail: str) -> str:
    """Rejoin a bullet split over a page break; a word broken at a hyphen is not re-spaced.

    >>> join_continuation("accurate, up-to-", "date and tailored.")
    'accurate, up-to-date and tailored.'
    """
    if re.search(r"[A-Za-z]-$", head):
        return head + tail
    return clean_text(f"{head} {tail}")


@dataclass
class JoinNote:
    """A repair worth a reviewer's look: an unusual continuation join or a truncated bullet."""

    topic: str
    band: str
    text: str


def parse_table(rows: list[str], topic_id: str, notes: list[JoinNote]) -> dict[str, list[str]]:
    """Parse one topic table (header first) into band -> descriptor sentences."""
    bands = header_bands(rows[0])
    descriptors: dict[str, list[str]] = {band: [] for band in BANDS}
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) != len(bands):
            raise ValueError(f"{SEED}: {topic_id}: row has {len(cells)} cells: {row[:80]!r}")
        if is_separator(cells):
            continue
        for band, cell in zip(bands, cells):
            add_cell(descriptors[band], cell, topic_id, band, notes)
    for band, bullets in descriptors.items():
        descriptors[band] = [close_sentence(bullet, topic_id, band, notes) for bullet in bullets]
    return descriptors


def close_sentence(bullet: str, topic_id: str, band: str, notes: list[JoinNote]) -> str:
    """End a bullet the seed left truncated (ending in "," or ";") with a full stop, noting it.

    >>> close_sentence("Planning fails to achieve its purpose,", "t", "good", [])
    'Planning fails to achieve its purpose.'
    """
    if not bullet.endswith((",", ";")):
        return bullet
    notes.append(JoinNote(topic_id, band, f"truncated in seed, closed with '.': {bullet[-60:]}"))
    return bullet[:-1].rstrip() + "."


def add_cell(bullets: list[str], cell: str, topic_id: str, band: str,
             notes: list[JoinNote]) -> None:
    """Append a cell's content to ``bullets``, rejoining any continuation with the last bullet."""
    lead, items = split_cell(cell)
    if lead:
        if not bullets:
            notes.append(JoinNote(topic_id, band, f"continuation with no bullet to join: {lead}"))
            bullets.append(lead)
        else:
            if bullets[-1].endswith(_TERMINAL) or lead[0].isupper():
                notes.append(JoinNote(topic_id, band, f"joined after a full stop: {lead[:60]}"))
            bullets[-1] = join_continuation(bullets[-1], lead)
    bullets.extend(items)


def table_rows(lines: list[str], header: int, end: int) -> list[str]:
    """The tab-separated rows from the header (inclusive) to ``end`` (exclusive)."""
    return [line for line in lines[header:end] if "\t" in line]


def parse_topics(lines: list[str], kq_lines: dict[int, str],
                 notes: list[JoinNote]) -> list[Topic]:
    """Locate all topics and fill in their scope and descriptors."""
    topics = locate_topics(lines, kq_lines)
    boundaries = sorted([topic.title_line for topic in topics] + list(kq_lines) + [len(lines)])
    for topic in topics:
        end = next(b for b in boundaries if b > topic.scope_line)
        topic.scope, header = parse_scope(lines, topic.scope_line, end)
        topic.descriptors = parse_table(table_rows(lines, header, end), topic_id(topic), notes)
        empty = [band for band in BANDS if not topic.descriptors[band]]
        if empty:
            raise ValueError(f"{SEED}: {topic_id(topic)}: empty bands {empty}")
    return topics


def topic_id(topic: Topic) -> str:
    """Stable topic id: ``<key question>.<slug of title>``."""
    return f"{topic.key_question}.{slugify(topic.title)}"


def topic_doc(topic: Topic) -> dict[str, Any]:
    """The framework-file record for a topic."""
    tid = topic_id(topic)
    return {"id": tid, "key_question": topic.key_question, "title": topic.title,
            "question": topic.question, "scope": topic.scope,
            "descriptors": {band: topic.descriptors[band] for band in BANDS},
            "source": f"{SEED}#{tid}"}


def parse_document(text: str) -> tuple[dict[str, Any], list[JoinNote]]:
    """Parse the whole seed text into a framework document plus notes on unusual joins."""
    lines = text.splitlines()
    contents = parse_contents(lines)
    names = [entry.text for entry in contents if entry.kind == "key_question"]
    kq_lines = find_key_question_lines(lines, names)
    notes: list[JoinNote] = []
    topics = parse_topics(lines, kq_lines, notes)
    check_against_contents(topics, contents)
    first_topic = {}
    for topic in topics:
        first_topic.setdefault(topic.key_question, topic.title_line)
    key_questions = [parse_key_question(lines, index, first_topic[key_question_id(name)], name)
                     for index, name in kq_lines.items()]
    title, version = parse_title(lines)
    doc = {
        "id": FRAMEWORK_ID,
        "title": title,
        "version": version,
        "publisher": PUBLISHER,
        "source": SEED,
        "description": ("Draft v6 assessment framework for primary care and community services: "
                        "five key questions with 'I statements', and topics with scope areas and "
                        "outstanding/good/requires improvement/inadequate descriptors."),
        "generated_by": "evidencenlp.framework_build.v6",
        "key_questions": key_questions,
        "topics": [topic_doc(topic) for topic in topics],
    }
    return doc, notes


def build(seeds_dir: Path, reference_dir: Path) -> dict[str, Any]:
    """Build the v6 draft framework document from ``seeds_dir/003_...txt``.

    ``reference_dir`` is unused (kept for the common builder signature).
    """
    doc, _notes = parse_document((seeds_dir / SEED).read_text(encoding="utf-8"))
    return doc


def join_notes(seeds_dir: Path) -> list[JoinNote]:
    """Repairs the parser made that a reviewer should check (see :class:`JoinNote`)."""
    return parse_document((seeds_dir / SEED).read_text(encoding="utf-8"))[1]
