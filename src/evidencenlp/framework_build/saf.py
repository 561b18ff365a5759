"""Builder for CQC's Single Assessment Framework (SAF, 2023) as data.

Inputs:

* ``reference/saf-quality-statements.tsv`` — the 34 quality statements (copied field for field);
* ``reference/README.md`` — the six evidence categories, statement scores, key question percentage
  bands, limiters and overall-rating rules, parsed from its prose bullets;
* seed ``002_ee63faa6ffc96010.txt`` — CQC's public "By safe, we mean ..." definitions of the five key
  questions (KLOE framework 2017/18, the wording SAF kept for its key questions).

Nothing from these files is copied into this module: if their wording changes in a way the small
parsers below do not understand, the build fails instead of guessing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencenlp.framework_build.common import clean_text, slugify

FRAMEWORK_ID = "cqc-saf-2023"
TITLE = "CQC Single Assessment Framework"
VERSION = "2023.1"
PUBLISHER = "Care Quality Commission"
TSV = "saf-quality-statements.tsv"
README = "README.md"
KQ_SEED = "002_ee63faa6ffc96010.txt"

TSV_COLUMNS = ("id", "key_question", "title", "we_statement", "verified", "source")
CATEGORY_SECTION = "Evidence categories"
RULES_SECTION = "Scoring and rating rules"

_BAND = r"outstanding|good|requires improvement|inadequate"
_NUMBER_WORDS = {"no": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NUMBER = r"\d+|" + "|".join(_NUMBER_WORDS)
_CATEGORY = re.compile(r"^(?P<title>.+?) \(`(?P<id>[a-z_]+)`\):\s*(?P<description>.+)$")
_SCORE = re.compile(r"^(?P<score>[1-4]) (?P<meaning>[a-z][a-z ]*)$")
_RANGE = re.compile(rf"(?P<low>\d+)-(?P<high>\d+)% (?P<band>{_BAND})")
_OPEN_RANGE = re.compile(rf"(?P<low>\d+)% and above (?P<band>{_BAND})")
_LIMITER = re.compile(rf"in the (?P<when>{_BAND}) range with any statement scored "
                      rf"(?P<scores>[1-4](?: or [1-4])*) -> limited to (?P<to>{_BAND})")
_NEEDS = re.compile(rf"^(?P<rating>{_BAND}) (?:normally )?needs (?P<conditions>.+)$")
_OR_MORE = re.compile(rf"^(?P<n>{_NUMBER}) or more (?P<band>{_BAND}) -> (?P<rating>{_BAND})$")
_BREACH = re.compile(rf"^a breach of regulations caps the overall rating at (?P<band>{_BAND})$")
_KQ_DEFINITION = re.compile(r"^By (?P<kq>[A-Za-z-]+), we mean\b")


def band_id(phrase: str) -> str:
    """Band id from README wording: "requires improvement" -> "requires_improvement"."""
    return slugify(phrase).replace("-", "_")


def band_title(band: str) -> str:
    """Human title of a band id: "requires_improvement" -> "Requires improvement"."""
    return band.replace("_", " ").capitalize()


def number(word: str) -> int:
    """An integer written as digits or as a small English number word ("no" is 0)."""
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def sentence(text: str) -> str:
    """Capitalise the first letter and make sure the text ends with a full stop."""
    text = clean_text(text)
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


# --- reference files -----------------------------------------------------------------------------

def read_statements(path: Path) -> list[dict[str, str]]:
    """The quality statements of the TSV, field for field (only surrounding whitespace removed)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(reader.fieldnames or ()) != TSV_COLUMNS:
            raise ValueError(f"{path.name}: columns {reader.fieldnames} != {TSV_COLUMNS}")
        rows = [{column: (row[column] or "").strip() for column in TSV_COLUMNS} for row in reader]
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path.name}: duplicate statement ids")
    return rows


def readme_sections(text: str) -> dict[str, list[str]]:
    """README ``## `` sections -> their ``- `` bullets, continuation lines joined into each bullet."""
    sections: dict[str, list[str]] = {}
    bullets: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            bullets = sections.setdefault(line[3:].strip(), [])
        elif line.startswith("- "):
            bullets.append(line[2:].strip())
        elif line.startswith("  ") and line.strip() and bullets:
            bullets[-1] = f"{bullets[-1]} {line.strip()}"
    return sections


def section(sections: dict[str, list[str]], prefix: str) -> tuple[str, list[str]]:
    """(full title, bullets) of the one README section whose title starts with ``prefix``."""
    found = [(title, items) for title, items in sections.items() if title.startswith(prefix)]
    if len(found) != 1:
        raise ValueError(f"{README}: expected one section starting {prefix!r}, found {len(found)}")
    return found[0]


def bullet(bullets: list[str], prefix: str) -> str:
    """The one bullet starting with ``prefix`` (case-insensitive)."""
    found = [item for item in bullets if item.lower().startswith(prefix.lower())]
    if len(found) != 1:
        raise ValueError(f"{README}: expected one bullet starting {prefix!r}, found {len(found)}")
    return found[0]


# --- evidence categories and scores --------------------------------------------------------------

def parse_categories(bullets: list[str], source: str) -> list[dict[str, str]]:
    """Evidence categories from "Title (`id`): description" bullets."""
    categories = []
    for item in bullets:
        match = _CATEGORY.match(item)
        if not match:
            raise ValueError(f"{README}: unparsed evidence category bullet {item!r}")
        categories.append({"id": match.group("id"), "title": clean_text(match.group("title")),
                           "description": sentence(match.group("description")),
                           "source": source})
    return categories


def parse_scores(text: str) -> dict[int, str]:
    """Statement score -> meaning, from "...a score: 4 exceptional standard, 3 ..., 1 ... ."."""
    listing = text.split(":", 1)[1].split(".", 1)[0]
    scores = {}
    for part in listing.split(","):
        match = _SCORE.match(part.strip())
        if not match:
            raise ValueError(f"{README}: unparsed score {part!r}")
        scores[int(match.group("score"))] = match.group("meaning")
    if sorted(scores) != [1, 2, 3, 4]:
        raise ValueError(f"{README}: scores {sorted(scores)} != 1..4")
    return scores


@dataclass(frozen=True)
class Threshold:
    """A key question percentage band."""

    band: str
    low: float
    high: float | None


def parse_thresholds(text: str) -> list[Threshold]:
    """Key question percentage bands from "Bands: 25-38% inadequate, ..., 88% and above ..."."""
    listing = text.split("Bands:", 1)[1].split("(", 1)[0]
    found = [Threshold(band_id(m.group("band")), int(m.group("low")), int(m.group("high")))
             for m in _RANGE.finditer(listing)]
    found += [Threshold(band_id(m.group("band")), int(m.group("low")), None)
              for m in _OPEN_RANGE.finditer(listing)]
    found.sort(key=lambda t: t.low)
    if len({t.band for t in found}) != 4 or len(found) != 4:
        raise ValueError(f"{README}: expected four key question bands, got {found}")
    return found


def band_scores(thresholds: list[Threshold]) -> dict[str, int]:
    """Band -> statement score: the bands ranked by percentage threshold are scores 1..4."""
    return {threshold.band: rank for rank, threshold in enumerate(thresholds, start=1)}


def threshold_doc(threshold: Threshold) -> dict[str, Any]:
    """Schema record of a percentage band (no ``max_percent`` for the open top band)."""
    doc: dict[str, Any] = {"band": threshold.band, "min_percent": threshold.low}
    if threshold.high is not None:
        doc["max_percent"] = threshold.high
    return doc


def bands_doc(scores: dict[int, str], ranks: dict[str, int], source: str) -> list[dict[str, Any]]:
    """The four rating bands, best first, described by their statement score meaning."""
    return [{"id": band, "title": band_title(band), "score": score,
             "description": sentence(f"{scores[score]} (quality statement score {score})"),
             "source": source}
            for band, score in sorted(ranks.items(), key=lambda item: -item[1])]


# --- limiters and overall rules ------------------------------------------------------------------

def parse_limiters(text: str) -> list[dict[str, Any]]:
    """Limiters from "in the <band> range with any statement scored 1 or 2 -> limited to <band>"."""
    limiters = []
    for match in _LIMITER.finditer(text):
        scores = [int(score) for score in match.group("scores").split(" or ")]
        limiters.append({"when_band": band_id(match.group("when")),
                         "any_statement_score_at_most": max(scores),
                         "limit_to": band_id(match.group("to")),
                         "description": sentence(match.group(0).replace(" -> ", ", "))})
    if not limiters:
        raise ValueError(f"{README}: no limiters parsed from {text!r}")
    return limiters


def clauses(text: str) -> list[str]:
    """The ";"-separated clauses after the first ":" of the overall-rating bullet."""
    body = text.split(":", 1)[1].strip().rstrip(".")
    return [clean_text(part) for part in body.split(";") if part.strip()]


def parse_conditions(conditions: str, ranks: dict[str, int]) -> dict[str, dict[str, int]]:
    """Counts from "at least two outstanding and three good" / "no inadequate and at most one ...".

    "at least N X" -> min_count X; "at most N X" -> max_count X; "no X" -> max_count X = 0. A bare
    "N X" after another condition means "the remaining key questions are at least X", i.e. a zero
    max_count for every band below X.
    """
    counts: dict[str, dict[str, int]] = {}
    for part in conditions.split(" and "):
        match = re.match(rf"^(?:(?P<q>at least|at most) )?(?P<n>{_NUMBER}) (?P<band>{_BAND})$",
                         part.strip())
        if not match:
            raise ValueError(f"{README}: unparsed overall condition {part!r}")
        band, n, quantifier = band_id(match.group("band")), number(match.group("n")), match.group("q")
        if quantifier == "at least":
            counts.setdefault("min_count", {})[band] = n
        elif quantifier == "at most" or match.group("n") == "no":
            counts.setdefault("max_count", {})[band] = n
        else:
            for lower in (b for b, score in ranks.items() if score < ranks[band]):
                counts.setdefault("max_count", {})[lower] = 0
    return counts


def parse_overall(text: str, ranks: dict[str, int]) -> tuple[list[dict[str, Any]], list[str]]:
    """Ordered overall-rating rules, plus clauses that state no rule (e.g. "weigh equally").

    Order (first matching rule wins): "N or more X -> X" demotions, worst band first; then the
    "X needs ..." rules, best band first; then a fallback. A regulation-breach cap is attached to
    every rule whose rating is better than the cap.
    """
    demotions, needs, general, cap = [], [], [], None
    for clause in clauses(text):
        if match := _OR_MORE.match(clause):
            demotions.append({"rating": band_id(match.group("rating")),
                              "min_count": {band_id(match.group("band")): number(match.group("n"))},
                              "description": sentence(clause.replace(" -> ", ": overall "))})
        elif match := _NEEDS.match(clause):
            needs.append({"rating": band_id(match.group("rating")),
                          **parse_conditions(match.group("conditions"), ranks),
                          "description": sentence(clause)})
        elif match := _BREACH.match(clause):
            cap = band_id(match.group("band"))
        else:
            general.append(sentence(clause))
    demotions.sort(key=lambda rule: ranks[rule["rating"]])
    needs.sort(key=lambda rule: -ranks[rule["rating"]])
    rules = demotions + needs + [fallback_rule(needs, ranks)]
    if cap is not None:
        for rule in rules:
            if ranks[rule["rating"]] > ranks[cap]:
                rule["cap_if_regulation_breach"] = cap
        general.append(sentence(f"A breach of regulations caps the overall rating at "
                                f"{band_title(cap).lower()}"))
    return [order_keys(rule) for rule in rules], general


def fallback_rule(needs: list[dict[str, Any]], ranks: dict[str, int]) -> dict[str, Any]:
    """Catch-all rule: the band just below the lowest "needs" rule (inferred, not in the README)."""
    lowest = min(ranks[rule["rating"]] for rule in needs)
    rating = next(band for band, score in ranks.items() if score == lowest - 1)
    return {"rating": rating,
            "description": sentence(f"Any other combination (for example one inadequate key "
                                    f"question) is rated {band_title(rating).lower()}; inferred, "
                                    f"not stated in the reference")}


def order_keys(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule with its keys in schema order (deterministic output)."""
    keys = ("rating", "min_count", "max_count", "cap_if_regulation_breach", "description")
    return {key: rule[key] for key in keys if key in rule}


# --- key questions -------------------------------------------------------------------------------

def parse_kq_definitions(text: str) -> dict[str, str]:
    """Key question id -> "By <kq>, we mean ..." definition (first occurrence; footnote marks off)."""
    lines = text.splitlines()
    definitions: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _KQ_DEFINITION.match(line.strip())
        if not match or slugify(match.group("kq")) in definitions:
            continue
        parts = [line.strip()]
        for following in lines[index + 1:]:
            if not following.strip() or following.lstrip().startswith("*"):
                break
            parts.append(following.strip())
        definition = re.sub(r"(?<=\w)\*", "", " ".join(parts))
        definitions[slugify(match.group("kq"))] = clean_text(definition)
    return definitions


def key_questions_doc(statements: list[dict[str, str]], definitions: dict[str, str]
                      ) -> list[dict[str, str]]:
    """Key questions in the TSV's order, each with its published definition."""
    order = list(dict.fromkeys(row["key_question"] for row in statements))
    missing = [kq for kq in order if kq not in definitions]
    if missing:
        raise ValueError(f"{KQ_SEED}: no 'By <kq>, we mean' definition for {missing}")
    return [{"id": kq, "title": kq.capitalize(), "description": definitions[kq],
             "source": f"{KQ_SEED}#{kq.capitalize()}"} for kq in order]


#: how ``evidencenlp assess`` weighs the evidence an assessment really has (the project's policy, not
#: CQC's: the published rules assume every statement is scored; see docs and ``evidencenlp.frameworks.rules``)
EVIDENCE_POLICY: dict[str, Any] = {
    "statement_full_weight": 1.0,
    "key_question_thin_weight": 3.0,
    "serious_finding_band": "inadequate",
    "serious_finding_min_confidence": 0.6,
    "serious_finding_expected_count": 1.0,
    "serious_finding_counts_as_score": 1,
    "unrated_key_question_counts_as": "requires_improvement",
    "unreviewed_score": "expected",
    "location_prior_strength": 3.0,
    "serious_finding_scores_statement": True,
    "key_question_decision": "posterior",
    "overall_decision": "posterior",
    "posterior_draws": 4000,
    "posterior_seed": 0,
    "posterior_placements": "weights",
    "description": (
        "A confirmed or corrected note weighs 1 on its statement. An unreviewed suggestion is placed on each of its "
        "likely statements (its suggested statement, and any other of its three most probable statements in a key "
        "question the model suggests), each placement weighing the model's probability of that statement, so a "
        "note may count fractionally under two key questions; its score on its statement is its expected score (its "
        "band probabilities times the band scores), after the band probabilities are calibrated for assessment notes "
        "(models/band_calibration.json, when fitted for the shipped band head) and adapted to the location's own band "
        "mix, estimated from all of its notes by EM with location_prior_strength notes' worth of the calibration's "
        "reference mix as the prior (unreviewed_score: most_probable uses its most probable band's score instead). A "
        "statement counts in full in its key question's percentage once its notes weigh statement_full_weight (one "
        "confirmed note), and in proportion to its weight below that, so a key question whose statements are thin "
        "is still judged from all of its notes. A key question whose notes weigh less than key_question_thin_weight "
        "is rated from thin evidence and makes the overall rating provisional. A note's share of a serious finding "
        "is its weight times its probability of serious_finding_band (a confirmed note in that band: 1). A "
        "statement has a serious finding when one note's share is at least serious_finding_min_confidence or its "
        "notes' shares add up to serious_finding_expected_count (at least one finding expected); it then counts as "
        "a statement score of serious_finding_counts_as_score for the limiters and, with "
        "serious_finding_scores_statement, in the percentage too (one serious finding pulls its statement to 1, "
        "as the bundle writers score). In the overall rating, a key question without a rating counts as "
        "unrated_key_question_counts_as and the overall rating is provisional. With key_question_decision: "
        "posterior, a key question with unreviewed suggestions is rated by its posterior: posterior_draws times "
        "(numpy seed posterior_seed), every unreviewed note's band is drawn from its calibrated, location-adapted "
        "probabilities (its placements keep their weights: posterior_placements: weights; sample draws one "
        "statement per note instead), the rules above are applied to the draw as if the notes were confirmed, and "
        "the most probable rating is reported with its probability; with overall_decision: posterior the overall "
        "rating is the most probable over the same draws (key_question_ratings: the principles on the most "
        "probable key question ratings). Confirmed notes are the same in every draw; a location with only "
        "confirmed notes is rated by the rules applied once (no draws). Chosen by structure, not tuned: 1.0 is one "
        "confirmed note and one expected finding; 0.6 was kept from the first method (0.5 to 0.7 give the same "
        "agreement on either writer's bundles, docs/assess.md); the posterior decision and the statement rule were "
        "chosen by leave-one-set-out agreement over four bundle sets (experiments/assess_loso.py, README)."),
    "source": "evidencenlp policy for thin evidence (issue 21); not published by CQC",
}


# --- build ---------------------------------------------------------------------------------------

def build(seeds_dir: Path, reference_dir: Path) -> dict[str, Any]:
    """Build the SAF framework document from the reference files and seed 002."""
    statements = read_statements(reference_dir / TSV)
    sections = readme_sections((reference_dir / README).read_text(encoding="utf-8"))
    category_title, category_bullets = section(sections, CATEGORY_SECTION)
    rules_title, rules = section(sections, RULES_SECTION)
    rules_source = f"reference/{README}#{rules_title}"
    scores = parse_scores(bullet(rules, "Each quality statement gets a score"))
    thresholds = parse_thresholds(bullet(rules, "Key question score"))
    ranks = band_scores(thresholds)
    overall, general = parse_overall(bullet(rules, "Overall rating"), ranks)
    definitions = parse_kq_definitions((seeds_dir / KQ_SEED).read_text(encoding="utf-8"))
    key_questions = key_questions_doc(statements, definitions)
    categories = parse_categories(category_bullets, f"reference/{README}#{category_title}")
    return {
        "id": FRAMEWORK_ID,
        "title": TITLE,
        "version": VERSION,
        "publisher": PUBLISHER,
        "source": f"reference/{TSV}, reference/{README}, {KQ_SEED}",
        "description": " ".join([
            f"CQC's Single Assessment Framework: {len(key_questions)} key questions, "
            f"{len(statements)} quality statements ('we statements'), {len(categories)} evidence "
            "categories, statement scores and rating rules.", *general]),
        "generated_by": "evidencenlp.framework_build.saf",
        "key_questions": key_questions,
        "bands": bands_doc(scores, ranks, rules_source),
        "evidence_categories": categories,
        "quality_statements": statements,
        "rating_rules": {
            "statement_scores": [{"score": score, "band": band, "meaning": scores[score]}
                                 for band, score in sorted(ranks.items(), key=lambda i: -i[1])],
            "key_question_thresholds": [threshold_doc(t) for t in thresholds],
            "limiters": parse_limiters(bullet(rules, "Limiters")),
            "overall": overall,
            "evidence": EVIDENCE_POLICY,
            "source": rules_source,
        },
    }
