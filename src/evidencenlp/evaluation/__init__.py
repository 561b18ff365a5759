"""The researchers' evaluation workflow: metrics, baselines, cross-validation, reports, phase-1 data.

Modules:

- :mod:`~evidencenlp.evaluation.metrics` — pure numpy metrics (accuracy, macro-F1, QWK, ECE, …).
- :mod:`~evidencenlp.evaluation.baselines` — the trained heads and the baselines (majority,
  TF-IDF + LinearSVC, zero-shot cosine) behind one ``fit`` / ``predict`` interface.
- :mod:`~evidencenlp.evaluation.cv` — grouped stratified k-fold CV, fixed splits, scoring files.
- :mod:`~evidencenlp.evaluation.report` — one self-contained HTML report.
- :mod:`~evidencenlp.evaluation.phase1` — the pxtextmining phase-1 feedback through a documented mapping.
- :mod:`~evidencenlp.evaluation.agreement` — Cohen's kappa between two labelled tables.
"""
