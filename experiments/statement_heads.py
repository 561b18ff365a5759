"""Statement-head variants on the corpus CV folds, combined with the key-question probabilities saved by
``experiments/statement_cv.py`` (so only the statement head is refitted per idea).

    python experiments/statement_heads.py --phase1 …/text_data.csv --oof /tmp/oof.npz

Prints statement accuracy / macro-F1 / top-3 of the joint decision for each variant. Nothing here prints
note text.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phase1", type=Path, required=True)
    ap.add_argument("--oof", type=Path, default=None, help="OOF key-question probabilities (statement_cv.py); "
                    "default: a proxy key-question head (embedding, inspection rows) fitted here")
    ap.add_argument("--variants", default="base,C0.03,C0.1,word,word_C0.03")
    ap.add_argument("--report", default="", help="variant whose per-statement figures and confusions to print")
    args = ap.parse_args()

    from evidencenlp.classifier import EvidenceClassifier, joint, source_sample_weights
    from evidencenlp.classifier.joint import align, fit_joint_temperature
    from evidencenlp.evaluation.cv import embed, plan_folds
    from evidencenlp.evaluation.run import (
        EvaluationOptions,
        cv_training,
        load_index,
        shipped_params,
    )
    from evidencenlp.heads import LinearHead, TextHead

    index = load_index()
    t = index.taxonomy
    fw, corpus = cv_training(index, EvaluationOptions(train_phase1=args.phase1))
    both = pd.concat([fw, corpus], ignore_index=True)
    vecs = embed(both["text"].tolist(), name="training")
    n_fw = len(fw)
    plan = plan_folds(corpus, vecs[n_fw:], vecs[:n_fw], 5, 0)
    clf = EvidenceClassifier(**shipped_params()).bind_index(index)
    texts = both["text"].astype(str).tolist()
    feats = clf.features(texts, vecs)
    tinputs = np.array(clf._text_inputs(texts), dtype=object)
    origin = both["origin"].fillna("").astype(str)
    weights = source_sample_weights(origin.tolist(), clf.source_weights)
    st = both["statement"].fillna("").astype(str).to_numpy()
    notes = ~origin.str.startswith("framework").to_numpy()
    inspection = ~origin.str.startswith("phase1").to_numpy()
    kq_lab = both["key_question"].fillna("").astype(str).to_numpy()
    kq_raw = np.load(args.oof, allow_pickle=False)["raw_key_question"] if args.oof else None
    kq_proxy = np.zeros((len(corpus), len(t.key_questions)))
    y = corpus["statement"].fillna("").astype(str).to_numpy()
    variants = args.variants.split(",")

    kq_of = np.array(t.statement_kq)
    stmts = np.array(t.statements)

    def fit_variant(name: str, rows: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
        C, fw_w = 0.01, None
        for part in name.split("_"):
            if part.startswith("C"):
                C = float(part[1:])
            if part.startswith("fw"):
                fw_w = float(part[2:])
        w = weights.copy()
        if fw_w is not None:
            w[~notes] = fw_w
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if "hier" in name:  # P(statement | its key question): one head per key question
                p = np.zeros((len(test_rows), len(t.statements)))
                for kq in t.key_questions:
                    cols = np.flatnonzero(kq_of == kq)
                    r = rows[np.isin(st[rows], stmts[cols])]
                    h = LinearHead(C=C).fit(feats[r], st[r].tolist(), calibration_mask=notes[r], sample_weight=w[r])
                    p[:, cols] = align(h.predict_proba(feats[test_rows]), h.classes_, list(stmts[cols]))
                return p
            head = LinearHead(C=C).fit(feats[rows], st[rows].tolist(), calibration_mask=notes[rows],
                                       sample_weight=w[rows])
            p = align(head.predict_proba(feats[test_rows]), head.classes_, t.statements)
            if "word" in name:
                th = TextHead(C=0.5, analyzer="word", min_df=1).fit(tinputs[rows], st[rows].tolist(),
                                                                   calibration_mask=notes[rows],
                                                                   sample_weight=weights[rows])
                pw = align(th.predict_proba(tinputs[test_rows]), th.classes_, t.statements)
                p = 0.5 * p + 0.5 * pw
        return p

    results: dict[str, np.ndarray] = {v: np.zeros((len(corpus), len(t.statements))) for v in variants}
    for k, f in enumerate(plan.folds):
        extra_rows = np.flatnonzero(f.keep_extra)
        train_rows = np.concatenate([extra_rows, n_fw + f.train])
        rows = train_rows[(st[train_rows] != "") & inspection[train_rows]]
        test_rows = n_fw + f.test
        if kq_raw is None:
            kq_rows = train_rows[(kq_lab[train_rows] != "") & inspection[train_rows]]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kh = LinearHead(C=0.01).fit(feats[kq_rows], kq_lab[kq_rows].tolist(), calibration_mask=notes[kq_rows],
                                            sample_weight=weights[kq_rows])
            kq_proxy[f.test] = align(kh.predict_proba(feats[test_rows]), kh.classes_, t.key_questions)
        for v in variants:
            results[v][f.test] = fit_variant(v, rows, test_rows)
        print(f"fold {k + 1} done", flush=True)
    if kq_raw is None:
        kq_raw = kq_proxy
    has = y != ""
    yi = np.array([t.statements.index(s) if s else -1 for s in y])
    for v in variants:
        p_st = results[v]
        temp = fit_joint_temperature(p_st[has], kq_raw[has], t.statement_kq, t.key_questions, yi[has])
        pj, marg = joint(p_st, kq_raw, t.statement_kq, t.key_questions, temp)
        pred = np.asarray(t.statements)[pj.argmax(1)]
        top3 = np.argsort(-pj, axis=1)[:, :3]
        acc = (pred[has] == y[has]).mean()
        f1 = f1_score(y[has], pred[has], average="macro")
        t3 = np.mean([yi[i] in top3[i] for i in np.flatnonzero(has)])
        kq_pred = np.asarray(t.key_questions)[marg.argmax(1)]
        ykq = corpus["key_question"].fillna("").astype(str).to_numpy()
        kq_f1 = f1_score(ykq[ykq != ""], kq_pred[ykq != ""], average="macro")
        kq_j = kq_of[pj.argmax(1)]  # the key question of the suggested statement (classifier.decide)
        kq_j_f1 = f1_score(ykq[ykq != ""], kq_j[ykq != ""], average="macro")
        alone = np.asarray(t.statements)[p_st.argmax(1)]
        print(f"{v:14s} T={temp:.2f} joint acc {acc:.3f} F1 {f1:.3f} top3 {t3:.3f} | kq F1 marginal {kq_f1:.3f} "
              f"statement's {kq_j_f1:.3f} (differ {np.mean(kq_j != kq_pred):.3f}) | "
              f"head alone F1 {f1_score(y[has], alone[has], average='macro'):.3f}", flush=True)
        np.save(f"/tmp/stmts/st_{v}.npy", p_st)
        if v == args.report:
            report(pred[has], y[has], both, n_fw)


def report(pred: np.ndarray, truth: np.ndarray, training: pd.DataFrame, n_fw: int) -> None:
    """Per statement: training rows (corpus notes, framework sentences, feedback), precision, recall, F1;
    then the most frequent confusions (true -> predicted)."""
    from collections import Counter

    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(truth))
    p, r, f, n = precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
    origin = training["origin"].fillna("").astype(str)
    counts = {kind: training.loc[origin.str.startswith(kind), "statement"].value_counts()
              for kind in ("corpus", "framework", "phase1")}
    rows = sorted(zip(labels, p, r, f, n), key=lambda x: x[3])
    print("\n| statement | corpus notes | framework rows | feedback rows | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    for lab, pi, ri, fi, _ni in rows:
        c = [int(counts[k].get(lab, 0)) for k in ("corpus", "framework", "phase1")]
        print(f"| {lab} | {c[0]} | {c[1]} | {c[2]} | {pi:.2f} | {ri:.2f} | {fi:.2f} |")
    pairs = Counter((t, q) for t, q in zip(truth, pred) if t != q)
    print("\n| true statement | predicted | notes |\n|---|---|---|")
    for (t_, q), k in pairs.most_common(15):
        print(f"| {t_} | {q} | {k} |")


if __name__ == "__main__":
    main()
