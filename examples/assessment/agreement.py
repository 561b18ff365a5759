"""Agreement of `evidencenlp assess` with the hand ratings in expected.json.

    python examples/assessment/agreement.py [notes-tagged.csv] [--min-notes N] [--min-weight W]

Assesses the (already tagged) notes per location and prints, per location, the tool's key question
and overall ratings beside the hand ratings, then exact agreement and agreement within one band.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evidencenlp.assess import AssessOptions, assess_file, load_rules

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", default=str(HERE / "notes-tagged.csv"))
    parser.add_argument("--min-notes", type=int, default=AssessOptions.min_notes)
    parser.add_argument("--min-weight", type=float, default=AssessOptions.min_weight)
    args = parser.parse_args()
    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))["locations"]
    bands = load_rules()[1].bands
    options = AssessOptions(min_notes=args.min_notes, min_weight=args.min_weight, use_encoder=False)
    result = assess_file(args.input, location_column="location", service_column="service", options=options)
    pairs: list[tuple[str | None, str]] = []
    overall: list[tuple[str | None, str]] = []
    for loc in result.locations:
        hand = expected[loc.location]
        print(f"\n{loc.location}")
        for kq, want in hand["key_questions"].items():
            a = loc.key_questions[kq]
            got = a.rating
            pairs.append((got, want))
            print(f"  {kq:<11} tool {str(got):<21} ({'' if a.score is None else a.score}%)  hand {want}")
        overall.append((loc.overall.rating, hand["overall"]))
        print(f"  {'overall':<11} tool {str(loc.overall.rating):<21}        hand {hand['overall']}")

    def report(name: str, items: list[tuple[str | None, str]]) -> None:
        exact = sum(g == w for g, w in items)
        rated = [(g, w) for g, w in items if g is not None]
        within = sum(abs(bands.index(g) - bands.index(w)) <= 1 for g, w in rated)
        print(f"{name}: exact {exact}/{len(items)}; within one band {within}/{len(items)}; "
              f"unrated {len(items) - len(rated)}")

    print()
    report("key questions", pairs)
    report("overall", overall)


if __name__ == "__main__":
    main()
