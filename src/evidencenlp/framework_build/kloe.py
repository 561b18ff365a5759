"""Builder for ``cqc-kloe-healthcare-2018``: CQC key lines of enquiry (KLOEs), prompts and
ratings characteristics for healthcare services (2017/18), from seed ``002_ee63faa6ffc96010.txt``.

The seed is PDF-extracted text in two parts:

1. KLOEs and prompts: per key question a table "Code / Key line of enquiry / prompt / Applies
   to". These are parsed directly from the seed.
2. Ratings characteristics: per key question and per KLOE a four-band table (outstanding, good,
   requires improvement, inadequate) whose columns the PDF extraction interleaved. Rather than
   guess the column order, the builder reads the reviewed override file
   ``frameworks/overrides/kloe-ratings.yaml`` (descriptors per band) and *verifies* it against the
   seed: the seed table is cut into blocks (runs of lines between blank lines or page breaks), and
   every block must be a contiguous piece of exactly one band's text, read in order, using every
   block and every descriptor exactly once (see :func:`assign_blocks`). Anything that does not
   line up raises :class:`KloeBuildError` naming the seed line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evidencenlp.framework_build.common import clean_text, normalise_quotes, strip_html
from evidencenlp.paths import data_dir

FRAMEWORK_ID = "cqc-kloe-healthcare-2018"
SEED_NAME = "002_ee63faa6ffc96010.txt"
#: the reviewed ratings override file (repo-relative: <repo>/frameworks/overrides/...)
DEFAULT_OVERRIDES = data_dir("frameworks") / "overrides" / "kloe-ratings.yaml"

from evidencenlp.taxonomy import PUBLISHED_BANDS as BANDS  # noqa: E402

GOOD = BANDS.index("good")
#: key question title in the seed -> key question id
KEY_QUESTIONS: dict[str, str] = {
    "Safe": "safe",
    "Effective": "effective",
    "Caring": "caring",
    "Responsive": "responsive",
    "Well-led": "well-led",
}
#: KLOE code letter -> (key question id, number of KLOEs the framework has)
KLOE_LETTERS: dict[str, tuple[str, int]] = {
    "S": ("safe", 6),
    "E": ("effective", 6),
    "C": ("caring", 3),
    "R": ("responsive", 4),
    "W": ("well-led", 8),
}

# Width classes of the ratings columns (characters per wrapped line). The "good" column is the
# wide one: a block of at least WIDTH_MIN_LINES lines is "good" exactly when its longest line is
# at least GOOD_MIN_WIDTH characters (checked on the assignment found from the override file).
GOOD_MIN_WIDTH = 37
WIDTH_MIN_LINES = 4

_RATINGS_START = "Ratings characteristics for healthcare services"
_CODE = re.compile(r"^\s*([SECRW])\.?(\d+)(?:\.(\d+))?(?=\s|$)(.*)$")
_TABLE_HEADER = re.compile(r"^\s*Code\s+Key line of enquiry\s*/\s*prompt\s+Applies to\s*$")
_NOTES = re.compile(r"^\s*Notes:\s*$")
_APPLIES = re.compile(r"(?:All health|NOT:?\s|NHS acute &|Community health|Specialist mental|Acute and community)")
_BAND_HEADER = re.compile(r"^\s*Outstanding\s+Good\s+Requires\s+improvement\s+Inadequate\s*$", re.IGNORECASE)
_KLOE_HEADING = re.compile(r"^\s*([SECRW]\d+):\s")
_FURNITURE = re.compile(
    r"^\s*(?:Ratings characteristics: [A-Z-]+"
    r"|Key lines of enquiry, prompts and ratings characteristics – healthcare services \d+)\s*$"
)
_ROW_NOTE = re.compile(r"^\s*The following characteristics? (?:do|does|only)\b")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z(\"'])")
_BULLET = "•"


class KloeBuildError(ValueError):
    """The seed or the ratings override file does not have the expected content."""


# --------------------------------------------------------------------------------------------
# shared text helpers
# --------------------------------------------------------------------------------------------


def join_lines(lines: list[str]) -> str:
    """Join wrapped PDF lines into one single-spaced string.

    A line ending in a hyphen directly after a letter is a compound word broken at the hyphen
    ("evidence-" + "based"): it is joined without a space, keeping the hyphen.
    """
    text = ""
    for line in lines:
        part = line.strip()
        if not part:
            continue
        if re.search(r"[A-Za-z]-$", text):
            text += part
        else:
            text = f"{text} {part}" if text else part
    return text


def render_list(text: str) -> str:
    """Render an inline bullet list "lead-in: • a • b • c" as "lead-in: a; b; c." (no bullets).

    Text without bullets is returned unchanged.
    """
    if _BULLET not in text:
        return text
    lead, *items = [part.strip() for part in text.split(_BULLET)]
    items = [item.rstrip(";, ") for item in items if item]
    rendered = f"{lead} {'; '.join(items)}"
    return ensure_full_stop(rendered)


def ensure_full_stop(text: str) -> str:
    """Append a full stop unless the text already ends a sentence (. ? !)."""
    return text if text.endswith((".", "?", "!")) else text + "."


def compact(text: str) -> str:
    """Comparison key: ASCII quotes, no HTML, and no whitespace at all.

    Dropping whitespace makes the comparison indifferent to line wrapping and to compound words
    broken at a hyphen, while every letter and punctuation mark must still match.
    """
    return re.sub(r"\s+", "", normalise_quotes(strip_html(text)))


def count_sentences(text: str) -> int:
    """Number of sentences in ``text`` (a new sentence starts after . ? ! and a capital)."""
    return len(_SENTENCE_END.split(text.strip()))


# --------------------------------------------------------------------------------------------
# part 1: key questions, KLOEs and prompts
# --------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One row of a KLOE table: a KLOE (``prompt is None``) or a prompt, with its raw lines."""

    kloe: str
    prompt: int | None
    lines: list[str] = field(default_factory=list)
    line_no: int = 0

    @property
    def code(self) -> str:
        """Normalised code such as ``S1`` or ``S4.6`` (the seed also writes ``S.4.6``, ``C.2``)."""
        return self.kloe if self.prompt is None else f"{self.kloe}.{self.prompt}"


def read_seed(seeds_dir: Path) -> list[str]:
    """Lines of the KLOE seed (without line ends)."""
    path = seeds_dir / SEED_NAME
    if not path.is_file():
        raise KloeBuildError(f"seed not found: {path}")
    return path.read_text(encoding="utf-8").split("\n")


def split_parts(lines: list[str]) -> tuple[list[str], list[str], int]:
    """Split the seed into the KLOE/prompt part and the ratings part (and the latter's offset)."""
    for index, line in enumerate(lines):
        if line.strip() == _RATINGS_START:
            return lines[:index], lines[index + 1:], index + 1
    raise KloeBuildError(f"{SEED_NAME}: line {_RATINGS_START!r} not found")


def key_question_sections(lines: list[str], offset: int = 0) -> list[tuple[str, int, int]]:
    """(key question id, first line index, end line index) for each key question title line."""
    starts = [(KEY_QUESTIONS[line.strip()], index) for index, line in enumerate(lines)
              if line.strip() in KEY_QUESTIONS]
    ids = [kq for kq, _ in starts]
    if ids != list(KEY_QUESTIONS.values()):
        raise KloeBuildError(f"{SEED_NAME}: key question titles after line {offset} are {ids}")
    ends = [index for _, index in starts[1:]] + [len(lines)]
    return [(kq, start, end) for (kq, start), end in zip(starts, ends)]


def parse_description(lines: list[str]) -> str:
    """The "By safe, we mean ..." text (with any footnote) that precedes a KLOE table."""
    collected: list[str] = []
    for line in lines:
        if _TABLE_HEADER.match(line) or _BAND_HEADER.match(line):
            break
        if collected or line.strip().startswith("By "):
            collected.append(line)
    text = clean_text(join_lines(collected))
    if not text.startswith("By "):
        raise KloeBuildError(f"{SEED_NAME}: no 'By ..., we mean' description found")
    return text


def parse_entries(lines: list[str], offset: int) -> list[Entry]:
    """Cut a key question's KLOE table into entries: a code starts an entry, Notes: ends it."""
    entries: list[Entry] = []
    for index, line in enumerate(lines):
        if _NOTES.match(line):
            break
        if _TABLE_HEADER.match(line):
            continue
        match = _CODE.match(line)
        if match:
            letter, kloe, prompt, rest = match.groups()
            entries.append(Entry(f"{letter}{kloe}", int(prompt) if prompt else None, [rest],
                                 offset + index + 1))
        elif entries:
            entries[-1].lines.append(line)
    return entries


def split_applies_to(entry: Entry) -> tuple[str, str]:
    """Separate the entry text from its "Applies to" cell.

    The cell starts at the first applies-to phrase ("All health", "NOT: ...", "NHS acute &",
    "Community health", "Specialist mental", "Acute and community"); a second phrase in the same
    cell (e.g. R2.8 "All health" + "Acute and community health services only ...") is joined
    with "; ". "NOT NHS 111" is written "NOT: NHS 111" like the other exclusions.
    """
    body = join_lines(entry.lines)
    found = list(_APPLIES.finditer(body))
    if not found:
        raise KloeBuildError(f"{SEED_NAME}:{entry.line_no}: {entry.code} has no 'Applies to' value")
    text = body[: found[0].start()]
    cuts = [m.start() for m in found] + [len(body)]
    parts = [clean_text(body[a:b]) for a, b in zip(cuts, cuts[1:])]
    parts = [re.sub(r"^NOT:?\s*", "NOT: ", part) for part in parts]
    return clean_text(render_list(text.strip())), "; ".join(parts)


def build_kloes(part1: list[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Parse every KLOE with its prompts; also return each key question's description."""
    kloes: list[dict[str, Any]] = []
    descriptions: dict[str, str] = {}
    for kq, start, end in key_question_sections(part1):
        section = part1[start:end]
        descriptions[kq] = parse_description(section)
        for entry in parse_entries(section, start):
            text, applies_to = split_applies_to(entry)
            if not text:
                raise KloeBuildError(f"{SEED_NAME}:{entry.line_no}: {entry.code} has no text")
            if entry.prompt is None:
                kloes.append({"id": entry.kloe, "key_question": kq, "question": text,
                              "applies_to": applies_to, "prompts": [],
                              "source": f"{SEED_NAME}#{entry.kloe}"})
            else:
                if not kloes or kloes[-1]["id"] != entry.kloe:
                    raise KloeBuildError(f"{SEED_NAME}:{entry.line_no}: prompt {entry.code} "
                                         "is not under its KLOE")
                kloes[-1]["prompts"].append({"id": entry.code, "text": text, "applies_to": applies_to})
    check_kloe_numbering(kloes)
    return kloes, descriptions


def check_kloe_numbering(kloes: list[dict[str, Any]]) -> None:
    """KLOEs must be S1-S6, E1-E6, C1-C3, R1-R4, W1-W8 and prompts numbered 1, 2, ... in each."""
    expected = [f"{letter}{n}" for letter, (_, count) in KLOE_LETTERS.items() for n in range(1, count + 1)]
    found = [kloe["id"] for kloe in kloes]
    if found != expected:
        raise KloeBuildError(f"{SEED_NAME}: KLOE codes are {found}, expected {expected}")
    for kloe in kloes:
        numbers = [prompt["id"] for prompt in kloe["prompts"]]
        wanted = [f"{kloe['id']}.{n}" for n in range(1, len(numbers) + 1)]
        if not numbers or numbers != wanted:
            raise KloeBuildError(f"{SEED_NAME}: prompts of {kloe['id']} are {numbers}, expected {wanted}")
        if kloe["key_question"] != KLOE_LETTERS[kloe["id"][0]][0]:
            raise KloeBuildError(f"{SEED_NAME}: {kloe['id']} found under {kloe['key_question']}")


# --------------------------------------------------------------------------------------------
# part 2: ratings characteristics as laid out in the seed
# --------------------------------------------------------------------------------------------


@dataclass
class Block:
    """A run of seed lines from one column: between blank lines, page breaks or row notes."""

    lines: list[str]
    line_no: int
    page_start: bool

    @property
    def key(self) -> str:
        """The block's comparison key (see :func:`compact`)."""
        return compact("".join(self.lines))

    @property
    def width(self) -> int:
        """Length of the block's longest line."""
        return max(len(line.strip()) for line in self.lines)


@dataclass
class SeedGroup:
    """One row of a ratings table: the main row (``note`` empty) or a row after a note line."""

    note: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class SeedSection:
    """The ratings table of one key question (id ``safe`` ...) or KLOE (id ``S1`` ...)."""

    id: str
    line_no: int
    groups: list[SeedGroup] = field(default_factory=list)


def ratings_sections(part2: list[str], offset: int) -> list[SeedSection]:
    """Find every ratings table (from its band header line to the next heading) and cut it up."""
    sections: list[SeedSection] = []
    tables: list[list[tuple[int, str]]] = []
    for index, line in enumerate(part2):
        line_no = offset + index + 1
        heading = _KLOE_HEADING.match(line)
        if line.strip() in KEY_QUESTIONS or heading:
            sections.append(SeedSection(heading.group(1) if heading else KEY_QUESTIONS[line.strip()], line_no))
            tables.append([])
        elif sections and _BAND_HEADER.match(line) and not tables[-1]:
            tables[-1].append((line_no, line))
        elif sections and tables[-1]:
            tables[-1].append((line_no, line))
    for section, table in zip(sections, tables):
        if not table:
            raise KloeBuildError(f"{SEED_NAME}:{section.line_no}: no band header for {section.id}")
        section.groups = cut_blocks(table[1:])
    return sections


def cut_blocks(table: list[tuple[int, str]]) -> list[SeedGroup]:
    """Cut a table's lines into row groups (at "The following characteristic ..." notes) and
    blocks. A block ends at a blank line; a new block also starts at a line that begins with a
    space (the PDF's page-break continuation) and after page furniture (running header/footer),
    and such a block is marked ``page_start``."""
    groups = [SeedGroup("")]
    previous_blank, page_break = True, True
    for line_no, line in table:
        if not line.strip():
            previous_blank = True
        elif _FURNITURE.match(line):
            previous_blank, page_break = True, True
        elif _ROW_NOTE.match(line):
            groups.append(SeedGroup(clean_text(line)))
            previous_blank, page_break = True, True
        else:
            starts_page = page_break or line[:1].isspace()
            if previous_blank or starts_page:
                groups[-1].blocks.append(Block([line], line_no, starts_page))
            else:
                groups[-1].blocks[-1].lines.append(line)
            previous_blank, page_break = False, False
    return groups


# --------------------------------------------------------------------------------------------
# the override file and its verification
# --------------------------------------------------------------------------------------------


@dataclass
class OverrideGroup:
    """Descriptors per band for one table row (``note`` empty for the main row)."""

    note: str
    bands: dict[str, list[str]]


def load_overrides(path: Path) -> dict[str, list[OverrideGroup]]:
    """Read the reviewed ratings file: section id -> row groups (main row first)."""
    if not path.is_file():
        raise KloeBuildError(f"ratings override file not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise KloeBuildError(f"{path.name}: expected a mapping of section id -> bands")
    result: dict[str, list[OverrideGroup]] = {}
    for section_id, value in data.items():
        if not isinstance(value, dict):
            raise KloeBuildError(f"{path.name}: {section_id}: expected a mapping")
        groups = [_override_group(path, section_id, "", value, allow_rows=True)]
        for row in value.get("rows", []):
            if not isinstance(row, dict) or not isinstance(row.get("note"), str):
                raise KloeBuildError(f"{path.name}: {section_id}: each row needs a 'note'")
            groups.append(_override_group(path, section_id, row["note"], row, allow_rows=False))
        result[str(section_id)] = groups
    return result


def _override_group(path: Path, section_id: str, note: str, value: dict[str, Any],
                    allow_rows: bool) -> OverrideGroup:
    """Validate the keys and descriptor lists of one override row."""
    allowed = set(BANDS) | ({"rows"} if allow_rows else {"note"})
    unknown = set(value) - allowed
    if unknown:
        raise KloeBuildError(f"{path.name}: {section_id}: unknown keys {sorted(unknown)}")
    bands: dict[str, list[str]] = {}
    for band in BANDS:
        items = value.get(band, [])
        if not isinstance(items, list) or not all(isinstance(item, str) and item.strip() for item in items):
            raise KloeBuildError(f"{path.name}: {section_id}.{band}: expected a list of non-empty strings")
        if items:
            bands[band] = [" ".join(item.split()) for item in items]
    return OverrideGroup(clean_text(note) if note else "", bands)


def check_descriptor(text: str, where: str, last_in_band: bool) -> None:
    """A descriptor is whole seed text forming one sentence, or a lead-in list.

    A descriptor with a bullet list ("lead-in: • a • b") may carry the sentence before its
    lead-in; otherwise exactly one sentence. Only the last descriptor of a band in a row may lack
    final punctuation (the seed omits it there; the builder supplies a full stop).
    """
    if not re.match(r"^[A-Z0-9(\"']", text):
        raise KloeBuildError(f"{where}: descriptor does not start a sentence: {text[:60]!r}")
    if not text.endswith((".", "?", "!")) and not last_in_band:
        raise KloeBuildError(f"{where}: descriptor does not end a sentence: {text[-60:]!r}")
    if re.search(r"[A-Za-z]- ", text):
        raise KloeBuildError(f"{where}: broken hyphenated word in {text!r}")
    if _BULLET in text:
        lead = text.split(_BULLET)[0].strip()
        if not lead.endswith(":") or count_sentences(lead) > 2:
            raise KloeBuildError(f"{where}: a bullet list needs a lead-in ending in ':': {text[:80]!r}")
    elif count_sentences(text) != 1:
        raise KloeBuildError(f"{where}: descriptor holds {count_sentences(text)} sentences: {text!r}")


def assign_blocks(section_id: str, group: SeedGroup, bands: dict[str, list[str]]) -> list[int]:
    """Match seed blocks to bands; return the band index of each block.

    Every block must be the next contiguous piece of exactly one band's text (the band's
    descriptors joined, compared with :func:`compact`), and all text of all bands must be used.
    Within a page the columns come left to right, so the band index may only go down at a block
    that starts a page. Depth-first search with backtracking; raises with the first block that
    no band can take.
    """
    streams = [compact("".join(bands.get(band, []))) for band in BANDS]
    blocks = group.blocks
    failed: set[tuple[int, tuple[int, ...], int]] = set()
    deepest = [0]

    def search(i: int, pos: tuple[int, ...], last: int) -> list[int] | None:
        if i == len(blocks):
            return [] if all(p == len(s) for p, s in zip(pos, streams)) else None
        if (i, pos, last) in failed:
            return None
        deepest[0] = max(deepest[0], i)
        block = blocks[i]
        for band in range(0 if block.page_start else last, len(BANDS)):
            if streams[band].startswith(block.key, pos[band]):
                moved = pos[:band] + (pos[band] + len(block.key),) + pos[band + 1:]
                rest = search(i + 1, moved, band)
                if rest is not None:
                    return [band, *rest]
        failed.add((i, pos, last))
        return None

    result = search(0, tuple(0 for _ in BANDS), 0)
    if result is None:
        where = f"{SEED_NAME}: ratings of {section_id}" + (f" ({group.note})" if group.note else "")
        if deepest[0] < len(blocks):
            block = blocks[deepest[0]]
            raise KloeBuildError(f"{where}: seed line {block.line_no} ({block.lines[0].strip()!r}) "
                                 "does not continue any band of the override file in order")
        raise KloeBuildError(f"{where}: the override file has text that is not in the seed")
    check_widths(section_id, blocks, result)
    return result


def check_widths(section_id: str, blocks: list[Block], assigned: list[int]) -> None:
    """Long blocks of the wide "good" column, and only those, have lines of GOOD_MIN_WIDTH+."""
    for block, band in zip(blocks, assigned):
        if len(block.lines) < WIDTH_MIN_LINES:
            continue
        if (band == GOOD) != (block.width >= GOOD_MIN_WIDTH):
            raise KloeBuildError(
                f"{SEED_NAME}:{block.line_no}: block of {section_id} assigned to {BANDS[band]} "
                f"but its line width ({block.width}) belongs to another column")


def verify_section(section: SeedSection, groups: list[OverrideGroup]) -> None:
    """Check one ratings table of the override file against the seed."""
    notes_seed = [group.note for group in section.groups]
    notes_override = [group.note for group in groups]
    if notes_seed != notes_override:
        raise KloeBuildError(f"ratings of {section.id}: row notes in the override file "
                             f"{notes_override} differ from the seed {notes_seed}")
    for seed_group, group in zip(section.groups, groups):
        for band, items in group.bands.items():
            for index, text in enumerate(items):
                check_descriptor(text, f"ratings of {section.id}.{band}[{index}]",
                                 last_in_band=index == len(items) - 1)
        assign_blocks(section.id, seed_group, group.bands)


def verified_ratings(part2: list[str], offset: int, overrides_path: Path) -> dict[str, list[OverrideGroup]]:
    """Load the override file and verify every section of it against the seed."""
    sections = ratings_sections(part2, offset)
    overrides = load_overrides(overrides_path)
    seed_ids = [section.id for section in sections]
    if sorted(seed_ids) != sorted(overrides):
        missing = sorted(set(seed_ids) - set(overrides))
        extra = sorted(set(overrides) - set(seed_ids))
        raise KloeBuildError(f"{overrides_path.name}: sections missing {missing}, not in seed {extra}")
    for section in sections:
        verify_section(section, overrides[section.id])
    return overrides


def ratings_document(groups: list[OverrideGroup]) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """Merge a section's row groups into ``ratings`` plus ``ratings_notes`` (scoped rows)."""
    ratings: dict[str, list[str]] = {band: [] for band in BANDS}
    notes: list[dict[str, Any]] = []
    for group in groups:
        positions: dict[str, list[int]] = {}
        for band, items in group.bands.items():
            start = len(ratings[band])
            ratings[band].extend(clean_text(render_list(text)) for text in items)
            ratings[band][-1] = ensure_full_stop(ratings[band][-1])
            positions[band] = list(range(start, len(ratings[band])))
        if group.note:
            notes.append({"note": group.note, "descriptors": positions})
    return {band: items for band, items in ratings.items() if items}, notes


# --------------------------------------------------------------------------------------------
# the framework document
# --------------------------------------------------------------------------------------------


def build(seeds_dir: Path, reference_dir: Path, overrides: Path | None = None) -> dict[str, Any]:
    """Build the framework document from the seed and the verified ratings override file.

    ``reference_dir`` is unused (the signature is shared by all builders); ``overrides`` defaults
    to ``frameworks/overrides/kloe-ratings.yaml`` in the repository.
    """
    del reference_dir
    lines = read_seed(seeds_dir)
    part1, part2, offset = split_parts(lines)
    kloes, descriptions = build_kloes(part1)
    ratings = verified_ratings(part2, offset, overrides or DEFAULT_OVERRIDES)
    key_questions = []
    for title, kq in KEY_QUESTIONS.items():
        kq_ratings, kq_notes = ratings_document(ratings[kq])
        if kq_notes:
            raise KloeBuildError(f"ratings of {kq}: row notes are only expected in KLOE tables")
        key_questions.append({"id": kq, "title": title, "description": descriptions[kq],
                              "ratings": kq_ratings, "source": f"{SEED_NAME}#{kq}"})
    for kloe in kloes:
        kloe_ratings, kloe_notes = ratings_document(ratings[kloe["id"]])
        kloe["ratings"] = kloe_ratings
        if kloe_notes:
            kloe["ratings_notes"] = kloe_notes
        kloe["source"] = kloe.pop("source")  # keep source last
    return {
        "id": FRAMEWORK_ID,
        "title": "Key lines of enquiry, prompts and ratings characteristics for healthcare services",
        "version": "2018",
        "publisher": "Care Quality Commission",
        "source": SEED_NAME,
        "description": (
            "CQC's assessment framework for healthcare services as revised in 2017/18: for each key "
            "question, the key lines of enquiry (KLOEs) with their prompts and the services they apply "
            "to, and the ratings characteristics (outstanding, good, requires improvement, inadequate) "
            "of the key question and of each KLOE. Where the framework refers to 'people', it includes "
            "adults, young people and children, where applicable."
        ),
        "generated_by": "evidencenlp.framework_build.kloe:build",
        "key_questions": key_questions,
        "kloes": kloes,
    }


__all__ = ["BANDS", "FRAMEWORK_ID", "KloeBuildError", "SEED_NAME", "build"]
