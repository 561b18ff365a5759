"""Sentence-level predictions pooled into a long note's answer: does it beat the whole-note prediction?

    python experiments/sentence_pooling.py

Issue 14 asks to try, for long text, pooling per-sentence predictions into the note's key question.
Test set: the 318 paragraphs of published CQC inspection reports in ``training/inspection/`` (several
sentences each; the shipped model never trained on them: ``evidencenlp train`` leaves them out
unless ``--inspection`` is given). For each paragraph the shipped classifier predicts the key question
from

- ``whole``: the whole paragraph (what ``suggest`` does today);
- ``mean``: the mean of its sentences' probabilities;
- ``max``: the key question with the highest probability in any sentence;
- ``whole+mean``: the mean of ``whole`` and ``mean``.

Key question macro-F1 over the 5 key questions with 95% bootstrap intervals (the transfer test's
scorer). Writes ``models/sentence_pooling.json``; prints no note text.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from evidencenlp import encoder
from evidencenlp.classifier import EvidenceClassifier
from evidencenlp.evaluation.run import load_index
from evidencenlp.evaluation.transfer import score
from evidencenlp.sources.inspection import inspection_examples
from evidencenlp.text import process_many

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    clf = EvidenceClassifier.load(ROOT / "models").bind_index(load_index())
    test = inspection_examples()
    processed = list(process_many(test["text"].tolist(), redact=True))
    whole_texts = [p.text for p in processed]
    sents = [list(p.sentences) if p.sentences else [p.text] for p in processed]
    flat = [s for ss in sents for s in ss]
    owner = np.array([i for i, ss in enumerate(sents) for _ in ss])
    vectors = encoder.encode(whole_texts + flat)
    proba = clf.predict_all(whole_texts + flat, vectors).proba["key_question"]
    kqs = np.asarray(clf.index.taxonomy.key_questions, dtype=object)
    whole, per_sentence = proba[:len(whole_texts)], proba[len(whole_texts):]
    mean = np.vstack([per_sentence[owner == i].mean(axis=0) for i in range(len(whole_texts))])
    peak = np.vstack([per_sentence[owner == i].max(axis=0) for i in range(len(whole_texts))])
    variants = {"whole": whole, "mean": mean, "max": peak, "whole+mean": (whole + mean) / 2}
    results = {"test": f"{len(test)} CQC inspection report paragraphs (training/inspection), "
                       f"{len(flat)} sentences; shipped model, never trained on them",
               "variants": {}}
    for name, p in variants.items():
        metrics = score(test, kqs[p.argmax(axis=1)], None)
        results["variants"][name] = {k: m.to_dict() for k, m in metrics.items()}
        f1 = metrics["kq_macro_f1"]
        print(f"{name:>11}: key question macro-F1 {f1.value:.3f} [{f1.low:.3f}, {f1.high:.3f}], "
              f"accuracy {metrics['kq_accuracy'].value:.3f}")
    out = ROOT / "models" / "sentence_pooling.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
