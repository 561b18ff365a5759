"""Write training/framework_examples.csv: labelled sentences derived from frameworks/ (deterministic).

    python training/make_framework_examples.py

`evidencenlp train` derives the same rows itself (evidencenlp.training_data.framework_examples); this
file is committed so the derived examples can be read and reviewed, and a test checks it is current.
"""

from __future__ import annotations

from pathlib import Path

from evidencenlp.frameworks import load_crosswalk, load_frameworks
from evidencenlp.training_data import framework_examples

OUT = Path(__file__).resolve().parent / "framework_examples.csv"


def main() -> None:
    fws = load_frameworks()
    frame = framework_examples(fws, load_crosswalk(frameworks=fws))
    frame.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
