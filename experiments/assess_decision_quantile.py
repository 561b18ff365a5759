"""Re-rate the nine-set leave-one-set-out folds with a cautious decision rule instead of the most probable rating.

The rating shown is the worst rating whose posterior probability, counted from the worst rating up, reaches TAU
(TAU 0.5: the median; smaller: more cautious; TAU 0: the shipped most-probable rule). Development only: it
patches ``Posterior.most_probable`` in this process and runs ``assess_bundle_heads_loso.py --only rate`` on the
fold caches of ``/tmp/bandloso3`` (see experiments/README.md). Figures only, never note text.

    TAU=0.4 PYTHONPATH=src:experiments python experiments/assess_decision_quantile.py [--work DIR --shipped PKL]
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

from evidencenlp.assess import posterior as P

TAU = float(os.environ.get("TAU", "0"))


def quantile(self: P.Posterior, key_question: str | None, order: Sequence[str]) -> tuple[str | None, float]:
    """The worst rating whose probability counted from the worst rating up reaches ``TAU`` (``order`` best first)."""
    probs = self.overall if key_question is None else self.key_questions[key_question]
    rated = [(b, probs.get(b, 0.0)) for b in order if probs.get(b, 0.0) > 0]
    if not rated:
        return None, 0.0
    total = sum(p for _, p in rated)
    acc = 0.0
    for band, p in reversed(rated):  # worst first
        acc += p / total
        if acc >= TAU - 1e-12:
            return band, p
    return rated[0]


if __name__ == "__main__":
    if TAU > 0:
        P.Posterior.most_probable = quantile  # type: ignore[method-assign]
    here = Path(__file__).resolve().parent
    # defaults of this release's run; any argument given here is passed on and overrides them (e.g. --work DIR)
    sys.argv = ["assess_bundle_heads_loso.py", "--phase1", "../shared/data/pxtextmining-phase1/text_data.csv",
                "--only", "rate", "--work", "/tmp/bandloso3", "--shipped", "/tmp/s31/decomp9.pkl", "--seeds",
                "--out", f"/tmp/decision_quantile_{TAU}.json", *sys.argv[1:]]
    runpy.run_path(str(here / "assess_bundle_heads_loso.py"), run_name="__main__")
