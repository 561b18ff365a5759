"""Write training/framework_examples.csv: labelled sentences derived from frameworks/ (deterministic).

    python training/make_framework_examples.py [--choices]

`evidencenlp train` derives the same rows itself (evidencenlp.training_data.framework_examples); this
file is committed so the derived examples can be read and reviewed, and a test checks it is current.

With ``--choices`` it first rewrites training/framework_statement_choices.csv (which statement a framework
sentence shared by several statements teaches: the nearest of its key question, by the encoder; see
evidencenlp.sources.statement_choices). That needs the encoder; the examples themselves do not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evidencenlp.frameworks import load_crosswalk, load_frameworks
from evidencenlp.training_data import framework_examples

HERE = Path(__file__).resolve().parent
OUT = HERE / "framework_examples.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--choices", action="store_true", help="also rewrite framework_statement_choices.csv")
    args = ap.parse_args()
    if args.choices:
        from evidencenlp.encoder import load_embedder
        from evidencenlp.frameworks import load_framework_set
        from evidencenlp.sources.statement_choices import STATEMENT_CHOICES_FILE, choose_statements

        choices = choose_statements(load_framework_set().index(load_embedder("torch")))
        choices.to_csv(HERE / STATEMENT_CHOICES_FILE, index=False, lineterminator="\n")
        print(f"wrote {HERE / STATEMENT_CHOICES_FILE} ({len(choices)} rows)")
    fws = load_frameworks()
    frame = framework_examples(fws, load_crosswalk(frameworks=fws))
    frame.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
