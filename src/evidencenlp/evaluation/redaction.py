"""Score identifier redaction on a file of hand-labelled cases.

A case file is JSON lines, one case a line::

    {"id": "d001", "text": "my mum Sheila ...", "identifiers": [{"kind": "NAME", "text": "Sheila"}],
     "lookalike": false}

``identifiers`` lists every identifier in ``text`` as an exact substring (the name without its
title, the date of a date of birth; the k-th listing of the same string is its k-th occurrence);
a ``lookalike`` case holds none and should come through untouched.

Scores, per kind:

- **recall**: an identifier is caught when every letter and digit of it lies inside some redaction
  span, of any kind; **kind recall** also requires the spans to be of the identifier's own kind;
- **precision** (per predicted kind): a predicted span is correct when it overlaps a true identifier;
- **look-alikes intact**: the share of look-alike cases in which nothing was redacted.

Misses and false redactions are reported as ``(case id, kind)`` only: never the text.

Run ``python -m evidencenlp.evaluation.redaction CASES.jsonl`` to print the table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidencenlp.errors import DataError
from evidencenlp.identifiers import KINDS, Redaction, find_identifiers

#: a redactor: the note in, identifier spans out
Finder = Callable[[str], Sequence[Redaction]]


@dataclass(frozen=True)
class Identifier:
    """A labelled identifier located in its case's text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Case:
    """One labelled note."""

    id: str
    text: str
    identifiers: tuple[Identifier, ...]
    lookalike: bool


@dataclass
class KindScore:
    """Counts for one kind: labelled identifiers caught, and predicted spans that were right."""

    n: int = 0
    caught: int = 0
    caught_as_kind: int = 0
    predicted: int = 0
    predicted_correct: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.n if self.n else float("nan")

    @property
    def kind_recall(self) -> float:
        return self.caught_as_kind / self.n if self.n else float("nan")

    @property
    def precision(self) -> float:
        return self.predicted_correct / self.predicted if self.predicted else float("nan")

    def add(self, other: KindScore) -> None:
        """Add ``other``'s counts to these."""
        self.n += other.n
        self.caught += other.caught
        self.caught_as_kind += other.caught_as_kind
        self.predicted += other.predicted
        self.predicted_correct += other.predicted_correct

    def to_dict(self) -> dict[str, float | int]:
        """Counts and rates, JSON-ready (NaN for a rate with nothing to count)."""
        return {"n": self.n, "caught": self.caught, "caught_as_kind": self.caught_as_kind,
                "predicted": self.predicted, "predicted_correct": self.predicted_correct,
                "recall": self.recall, "kind_recall": self.kind_recall, "precision": self.precision}


@dataclass
class RedactionScore:
    """Scores for a case file: per kind, overall, look-alikes, and the misses by case id and kind."""

    per_kind: dict[str, KindScore] = field(default_factory=dict)
    n_cases: int = 0
    n_lookalike: int = 0
    lookalike_intact: int = 0
    misses: list[tuple[str, str]] = field(default_factory=list)
    false_redactions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def overall(self) -> KindScore:
        total = KindScore()
        for score in self.per_kind.values():
            total.add(score)
        return total

    @property
    def lookalike_intact_rate(self) -> float:
        return self.lookalike_intact / self.n_lookalike if self.n_lookalike else float("nan")

    def kind(self, kind: str) -> KindScore:
        """The score for ``kind``, created empty on first use."""
        return self.per_kind.setdefault(kind, KindScore())

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (ids and kinds only, no note text)."""
        return {"n_cases": self.n_cases, "per_kind": {k: v.to_dict() for k, v in sorted(self.per_kind.items())},
                "overall": self.overall.to_dict(), "n_lookalike": self.n_lookalike,
                "lookalike_intact": self.lookalike_intact, "lookalike_intact_rate": self.lookalike_intact_rate,
                "misses": [list(m) for m in self.misses], "false_redactions": [list(f) for f in self.false_redactions]}

    def table(self) -> str:
        """A plain-text table: one row per kind, then all kinds, then the look-alike line."""
        rows = [f"{'kind':<16}{'n':>5}{'recall':>9}{'kind rec.':>11}{'predicted':>11}{'precision':>11}"]
        ordered = [k for k in KINDS if k in self.per_kind] + sorted(set(self.per_kind) - set(KINDS))
        for name, score in [*((k, self.per_kind[k]) for k in ordered), ("all", self.overall)]:
            rows.append(f"{name:<16}{score.n:>5}{_pct(score.recall):>9}{_pct(score.kind_recall):>11}"
                        f"{score.predicted:>11}{_pct(score.precision):>11}")
        rows.append(f"look-alike cases left intact: {self.lookalike_intact}/{self.n_lookalike} "
                    f"({_pct(self.lookalike_intact_rate).strip()})")
        return "\n".join(rows)


def _pct(value: float) -> str:
    return "-" if value != value else f"{100 * value:.1f}%"


def _locate(text: str, wanted: str, skip: int) -> tuple[int, int] | None:
    """The ``skip``-th occurrence of ``wanted`` in ``text``, preferring whole-word occurrences."""
    for pattern in (rf"(?<!\w){re.escape(wanted)}(?!\w)", re.escape(wanted)):
        found = [m.span() for m in re.finditer(pattern, text)]
        if len(found) > skip:
            return found[skip]
    return None


def parse_case(raw: dict[str, Any], where: str) -> Case:
    """One case from its JSON object; :class:`DataError` (naming ``where``, never the text) if malformed."""
    if not isinstance(raw.get("id"), str) or not isinstance(raw.get("text"), str):
        raise DataError(f"{where}: a case needs a string 'id' and 'text'")
    text, labelled = raw["text"], raw.get("identifiers", [])
    if not isinstance(labelled, list):
        raise DataError(f"{where} ({raw['id']}): 'identifiers' must be a list")
    seen: dict[str, int] = {}
    identifiers = []
    for item in labelled:
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str) or not isinstance(item.get("text"), str):
            raise DataError(f"{where} ({raw['id']}): each identifier needs a string 'kind' and 'text'")
        span = _locate(text, item["text"], seen.get(item["text"], 0))
        if span is None or not item["text"]:
            raise DataError(f"{where} ({raw['id']}): a {item['kind']} identifier is not a substring of the text")
        seen[item["text"]] = seen.get(item["text"], 0) + 1
        identifiers.append(Identifier(item["kind"], *span))
    lookalike = bool(raw.get("lookalike", False))
    if lookalike and identifiers:
        raise DataError(f"{where} ({raw['id']}): a look-alike case cannot hold identifiers")
    return Case(raw["id"], text, tuple(identifiers), lookalike)


def load_cases(path: Path) -> list[Case]:
    """The cases of a JSON-lines file (blank lines skipped)."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise DataError(f"{path}:{number}: each line must be a JSON object")
        cases.append(parse_case(raw, f"{path}:{number}"))
    return cases


def _alnum_positions(text: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if text[i].isalnum()]


def _covered(positions: list[int], spans: Iterable[Redaction]) -> bool:
    spans = list(spans)
    return all(any(s.start <= i < s.end for s in spans) for i in positions)


def score_case(case: Case, predicted: Sequence[Redaction], score: RedactionScore) -> None:
    """Add one case's counts to ``score``."""
    score.n_cases += 1
    for ident in case.identifiers:
        counts = score.kind(ident.kind)
        counts.n += 1
        positions = _alnum_positions(case.text, ident.start, ident.end) or list(range(ident.start, ident.end))
        if _covered(positions, predicted):
            counts.caught += 1
            if _covered(positions, (p for p in predicted if p.kind == ident.kind)):
                counts.caught_as_kind += 1
        else:
            score.misses.append((case.id, ident.kind))
    for span in predicted:
        counts = score.kind(span.kind)
        counts.predicted += 1
        if any(span.start < i.end and i.start < span.end for i in case.identifiers):
            counts.predicted_correct += 1
        else:
            score.false_redactions.append((case.id, span.kind))
    if case.lookalike:
        score.n_lookalike += 1
        score.lookalike_intact += not predicted


def score_cases(cases: Iterable[Case], finder: Finder = find_identifiers) -> RedactionScore:
    """Run ``finder`` on every case and score it."""
    score = RedactionScore()
    for case in cases:
        score_case(case, finder(case.text), score)
    return score


def score_file(path: Path, finder: Finder = find_identifiers) -> RedactionScore:
    """Score ``finder`` (the shipped redactor by default) on the case file at ``path``."""
    return score_cases(load_cases(path), finder)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m evidencenlp.evaluation.redaction CASES.jsonl [--json] [--misses]``."""
    parser = argparse.ArgumentParser(prog="python -m evidencenlp.evaluation.redaction",
                                     description="Score identifier redaction on a JSON-lines case file.")
    parser.add_argument("cases", type=Path, help="JSON-lines file of labelled cases")
    parser.add_argument("--json", action="store_true", help="print all scores as JSON instead of a table")
    parser.add_argument("--misses", action="store_true", help="also list misses and false redactions (id, kind)")
    args = parser.parse_args(argv)
    try:
        score = score_file(args.cases)
    except (OSError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(score.to_dict(), indent=1))
        return 0
    print(score.table())
    if args.misses:
        print("misses (case id, kind):", ", ".join(f"{i} {k}" for i, k in score.misses) or "none")
        print("false redactions (case id, kind):", ", ".join(f"{i} {k}" for i, k in score.false_redactions) or "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
