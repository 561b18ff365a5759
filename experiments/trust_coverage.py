"""How many held-out notes can go unflagged at the review targets: review policies compared, nested.

Reads the file ``experiments/heldout_predictions.py`` writes (held-out predictions of ``train``'s
grouped split; no note text) and scores each review policy — a risk model (what predicts that the key
question / the band's direction is right) plus a rule choosing thresholds on its confidences — the
honest way: **nested**. The held-out notes are cut into five folds grouped by near-duplicate group (as
``train`` groups); for each fold the risk model and thresholds are chosen on the other four fifths only
(thresholds on the risk model's confidences there, cross-fitted over inner folds grouped the same way) and applied to the fifth. Coverage
(share of notes not flagged) and the key question's and direction's error rates among the notes not
flagged are pooled over the five folds and averaged over ``--seeds`` fold assignments. Also
leave-one-trust-out for the real comments: each trust's comments flagged by a policy chosen without
that trust (the corpus notes always in). Notes the suggester abstains on (``abstained`` in the file: no
content, not English) are never rated, so they are left out unless ``--keep-abstained``.

    python experiments/trust_coverage.py /tmp/trust4/heldout.npz [--variants base,hgb,...] [--json out.json]

Targets: among notes not flagged, key question wrong ≤ 10% and direction wrong ≤ 3%.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

KQ_TARGET, DIR_TARGET = 0.10, 0.03


# -- features -------------------------------------------------------------------------------------

def feature_table(d: Any) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every candidate feature ``(n,)`` by name, and the names of the current risk model's features."""
    from evidencenlp.classifier import RISK_FEATURES

    X = np.asarray(d["X"], float)
    f = {name: X[:, i] for i, name in enumerate(RISK_FEATURES)}
    kq = np.asarray(d["p_key_question"], float)
    band = np.asarray(d["p_band"], float)
    half = band.shape[1] // 2
    chosen = np.abs(kq - X[:, [0]]).argmin(axis=1)  # the suggested key question's column (decide's)
    rows = np.arange(len(kq))
    band_pos = band[:, :half].sum(axis=1)
    pred_pos = band_pos >= 0.5
    srt = np.sort(band, axis=1)
    f["band_top"] = srt[:, -1]
    f["band_margin"] = srt[:, -1] - srt[:, -2]
    f["direction_margin"] = np.abs(band_pos - 0.5) * 2
    if "p_direction" in d:
        head = np.asarray(d["p_direction"], float)[:, 0]
        f["direction_head_margin"] = np.abs(head - 0.5) * 2
        f["direction_head_vs_band"] = np.abs(head - band_pos)
    st = np.sort(np.asarray(d["p_statement"], float), axis=1)
    f["statement_margin"] = st[:, -1] - st[:, -2]
    f["kq_is_argmax"] = (chosen == kq.argmax(axis=1)).astype(float)
    # kNN agreement with the nearest training rows' labels (cosine-weighted, labelled neighbours only)
    classes = [str(c) for c in d["kq_classes"]]
    pred_kq = np.asarray(classes, dtype=object)[chosen]
    pred_dir = np.where(pred_pos, "positive", "negative")
    if "knn_sim" in d:
        sim = np.asarray(d["knn_sim"], float)
        w = np.clip(sim, 0, None)
        for k in (5, 20):
            kk = min(k, sim.shape[1])
            for name, lab, pred in (("kq", d["knn_kq"], pred_kq), ("dir", d["knn_dir"], pred_dir)):
                lab = np.asarray(lab)[:, :kk]
                has = lab != ""
                agree = (lab == pred[:, None]) & has
                f[f"knn{k}_{name}_agree"] = ((w[:, :kk] * agree).sum(1) + 0.5) / ((w[:, :kk] * has).sum(1) + 1.0)
        f["knn_top_sim"] = sim[:, 0]
    if "clause_kq" in d:
        ckq = np.asarray(d["clause_kq"], float)
        cdir = np.asarray(d["clause_dir"], float)
        f["clause_kq_at_pred"] = ckq[rows, chosen]
        f["clause_kq_agree"] = (ckq.argmax(axis=1) == chosen).astype(float)
        cpos = np.where(np.isnan(cdir), band_pos, cdir)
        f["clause_dir_at_pred"] = np.where(pred_pos, cpos, 1 - cpos)
        f["clause_dir_agree"] = ((cpos >= 0.5) == pred_pos).astype(float)
        f["log_clauses"] = np.log1p(np.asarray(d["clause_n"], float))
    return f, list(RISK_FEATURES)


#: feature sets tried (names from :func:`feature_table`)
def feature_sets(f: dict[str, np.ndarray], base: list[str]) -> dict[str, list[str]]:
    margins = ["band_top", "band_margin", "direction_margin", "statement_margin", "kq_is_argmax"]
    margins += [m for m in ("direction_head_margin", "direction_head_vs_band") if m in f]
    knn = [k for k in f if k.startswith("knn")]
    clause = [k for k in f if k.startswith("clause") or k == "log_clauses"]
    sets = {"base": base, "base+margins": base + margins}
    if knn:
        sets["base+margins+knn"] = base + margins + knn
    if clause:
        sets["base+margins+clause"] = base + margins + clause
    if knn and clause:
        sets["all"] = base + margins + knn + clause
    return sets


# -- scorers: (features, kq_ok, dir_ok) -> predict (n, 2) confidences -------------------------------

Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]


def _fit_one(make: Callable[[], Any], X: np.ndarray, ok: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    has = ~np.isnan(ok)
    y = ok[has].astype(int)
    if has.sum() < 20 or len(set(y.tolist())) < 2:
        c = float(y.mean()) if has.any() else 0.5
        return lambda Z: np.full(len(Z), c)
    model = make().fit(X[has], y)
    return lambda Z: model.predict_proba(Z)[:, 1]


def lr_scorer(C: float = 1.0, interactions: bool = False) -> Scorer:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    def make() -> Any:
        steps: list[Any] = [StandardScaler()]
        if interactions:
            steps += [PolynomialFeatures(2, include_bias=False), StandardScaler()]
        return make_pipeline(*steps, LogisticRegression(C=C, max_iter=2000))

    def fit(X: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        a, b = _fit_one(make, X, kq_ok), _fit_one(make, X, dir_ok)
        return lambda Z: np.column_stack([a(Z), b(Z)])
    return fit


def hgb_scorer(max_depth: int = 3, lr: float = 0.05, iters: int = 150, leaf: int = 30) -> Scorer:
    from sklearn.ensemble import HistGradientBoostingClassifier

    def make() -> Any:
        return HistGradientBoostingClassifier(max_depth=max_depth, learning_rate=lr, max_iter=iters,
                                              min_samples_leaf=leaf, l2_regularization=1.0, random_state=0)

    def fit(X: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        a, b = _fit_one(make, X, kq_ok), _fit_one(make, X, dir_ok)
        return lambda Z: np.column_stack([a(Z), b(Z)])
    return fit


def split_scorer(kq_cols: list[int], dir_cols: list[int], kq: str = "lr", direction: str = "lr",
                 C: float = 1.0) -> Scorer:
    """Separate inputs for the two models; ``"raw"`` takes the single column as the confidence (no model)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def one(kind: str, cols: list[int], X: np.ndarray, ok: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        if kind == "raw":
            return lambda Z: Z[:, cols[0]]
        if kind == "hgb":
            from sklearn.ensemble import HistGradientBoostingClassifier

            def make() -> Any:
                return HistGradientBoostingClassifier(max_depth=2, learning_rate=0.05, max_iter=100,
                                                      min_samples_leaf=40, l2_regularization=1.0, random_state=0)
        else:
            def make() -> Any:
                return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
        g = _fit_one(make, X[:, cols], ok)
        return lambda Z: g(Z[:, cols])

    def fit(X: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        a, b = one(kq, kq_cols, X, kq_ok), one(direction, dir_cols, X, dir_ok)
        return lambda Z: np.column_stack([a(Z), b(Z)])
    return fit


def plain_scorer(kq_col: int, dir_col: int) -> Scorer:
    """No model: the key question's own probability and the direction's (the rule before the risk model)."""
    def fit(X: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        return lambda Z: Z[:, [kq_col, dir_col]]
    return fit


# -- threshold rules: (confidences, kq_ok, dir_ok, register) -> keep(confidences, register) ----------

def _errors(keep: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray) -> tuple[float, float]:
    k, dd = keep & ~np.isnan(kq_ok), keep & ~np.isnan(dir_ok)
    return (1 - float(kq_ok[k].mean()) if k.any() else 0.0, 1 - float(dir_ok[dd].mean()) if dd.any() else 0.0)


def two_thresholds(conf: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray,
                   kq_target: float, dir_target: float) -> Callable[[np.ndarray], np.ndarray]:
    from evidencenlp.classifier import choose_thresholds

    c = choose_thresholds(conf[:, 0], kq_ok, conf[:, 1], dir_ok, kq_target, dir_target)
    return lambda Z: (Z[:, 0] >= c.key_question) & (Z[:, 1] >= c.direction)


def _upper(keep: np.ndarray, ok: np.ndarray, level: float) -> float:
    """Jeffreys upper bound (at ``level``) of the error rate among kept labelled rows; the plain rate at level 0."""
    from scipy.stats import beta

    k = keep & ~np.isnan(ok)
    n, wrong = int(k.sum()), float((1 - ok[k]).sum())
    if n == 0:
        return 0.0
    return wrong / n if level <= 0 else float(beta.ppf(level, wrong + 0.5, n - wrong + 0.5))


def two_thresholds_at(level: float) -> Rule:
    """:func:`two_thresholds` with the errors' Jeffreys upper bounds at ``level`` held to the targets."""
    from evidencenlp.classifier import choose_thresholds

    def rule(conf: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray,
             kq_target: float, dir_target: float) -> Callable[[np.ndarray], np.ndarray]:
        c = choose_thresholds(conf[:, 0], kq_ok, conf[:, 1], dir_ok, kq_target, dir_target, level=level)
        return lambda Z: (Z[:, 0] >= c.key_question) & (Z[:, 1] >= c.direction)
    return rule


def one_score(conf: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray,
              kq_target: float, dir_target: float, level: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """One cut-off on the product of the two confidences: the lowest meeting both targets (with ``level``,
    their Jeffreys upper bounds must)."""
    s = conf[:, 0] * conf[:, 1]
    best = np.inf
    for t in np.unique(np.quantile(s, np.linspace(0, 0.995, 200))):
        keep = s >= t
        if _upper(keep, kq_ok, level) <= kq_target and _upper(keep, dir_ok, level) <= dir_target:
            best = float(t)
            break
    return lambda Z: Z[:, 0] * Z[:, 1] >= best


def one_score_ucb(conf: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray,
                  kq_target: float, dir_target: float) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`one_score` with the errors' 75% Jeffreys upper bounds held to the targets."""
    return one_score(conf, kq_ok, dir_ok, kq_target, dir_target, level=0.75)


def min_score(conf: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray,
              kq_target: float, dir_target: float) -> Callable[[np.ndarray], np.ndarray]:
    """One cut-off on the lower of the two confidences."""
    s = np.minimum(conf[:, 0], conf[:, 1])
    best = np.inf
    for t in np.unique(np.quantile(s, np.linspace(0, 0.995, 200))):
        ke, de = _errors(s >= t, kq_ok, dir_ok)
        if ke <= kq_target and de <= dir_target:
            best = float(t)
            break
    return lambda Z: np.minimum(Z[:, 0], Z[:, 1]) >= best


Rule = Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], Callable[[np.ndarray], np.ndarray]]


@dataclass
class Policy:
    """A review policy: a scorer, a threshold rule, optionally separate thresholds per register."""

    name: str
    features: list[str]
    scorer: Scorer
    rule: Rule
    by_register: bool = False
    margin: float = 0.0  # choose at targets tightened by this much (absolute) on the training fifths
    inner_folds: int = 5

    def fit(self, F: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray, reg: np.ndarray,
            seed: int, groups: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Fit on the rows given; returns keep(F_new, reg_new) -> bool. The risk model's confidences on
        which thresholds are chosen are cross-fitted over inner folds grouped like the outer ones (whole
        near-duplicate groups per fold: ``groups``), so a note's near-duplicate never scores it."""
        inner = np.zeros((len(F), 2))
        fold = grouped_folds(groups, self.inner_folds, seed)
        for k in range(self.inner_folds):
            ite = fold == k
            if not ite.any():
                continue
            itr = ~ite
            inner[ite] = self.scorer(F[itr], kq_ok[itr], dir_ok[itr])(F[ite])
        final = self.scorer(F, kq_ok, dir_ok)
        kt, dt = KQ_TARGET - self.margin * (KQ_TARGET / DIR_TARGET), DIR_TARGET - self.margin
        if not self.by_register:
            rule = self.rule(inner, kq_ok, dir_ok, kt, dt)
            return lambda Fn, rn: rule(final(Fn))
        rules = {r: self.rule(inner[reg == r], kq_ok[reg == r], dir_ok[reg == r], kt, dt) for r in (0, 1)}

        def keep(Fn: np.ndarray, rn: np.ndarray) -> np.ndarray:
            conf = final(Fn)
            out = np.zeros(len(Fn), dtype=bool)
            for r, rule in rules.items():
                m = rn == r
                if m.any():
                    out[m] = rule(conf[m])
            return out
        return keep


@dataclass
class RegisterPolicy(Policy):
    """A different :class:`Policy` per register (router's feedback probability ≥ 0.5 or not), each fitted on its
    register's rows only; ``features`` is the union of their columns, ``parts[r]`` one per register."""

    parts: dict[int, Policy] | None = None

    def fit(self, F: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray, reg: np.ndarray,
            seed: int, groups: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        assert self.parts is not None
        cols = {r: [self.features.index(c) for c in p.features] for r, p in self.parts.items()}
        fitted = {r: p.fit(F[reg == r][:, cols[r]], kq_ok[reg == r], dir_ok[reg == r], reg[reg == r], seed,
                           groups[reg == r])
                  for r, p in self.parts.items()}

        def keep(Fn: np.ndarray, rn: np.ndarray) -> np.ndarray:
            out = np.zeros(len(Fn), dtype=bool)
            for r, k in fitted.items():
                m = rn == r
                if m.any():
                    out[m] = k(Fn[m][:, cols[r]], rn[m])
            return out
        return keep


def register_policies(f: dict[str, np.ndarray]) -> list[Policy]:
    """Feedback-like notes by the chosen policy; inspection-like notes by a stricter one."""
    simple = ["kq_top", "direction_head_conf"]
    feedback = Policy("simple", simple, split_scorer([0], [1], "lr", "lr"), two_thresholds)
    rich_cols = list(dict.fromkeys(KQ_INPUTS["kq probs+register"] + DIR_INPUTS["dir heads+register"]))
    rich = split_scorer([rich_cols.index(c) for c in KQ_INPUTS["kq probs+register"]],
                        [rich_cols.index(c) for c in DIR_INPUTS["dir heads+register"]], "lr", "lr")
    inspections = {
        "rich LR, product, 75% upper bounds": Policy("", rich_cols, rich, one_score_ucb),
        "rich LR, two cut-offs, 75% upper bounds": Policy("", rich_cols, rich, two_thresholds_at(0.75)),
        "simple LR, product, 75% upper bounds": Policy("", simple, split_scorer([0], [1], "lr", "lr"), one_score_ucb),
    }
    out: list[Policy] = []
    for name, insp in inspections.items():
        cols = list(dict.fromkeys(simple + insp.features))
        out.append(RegisterPolicy(f"register: feedback simple two cut-offs; inspection {name}", cols,
                                  feedback.scorer, feedback.rule, parts={1: feedback, 0: insp}))
    return out


# -- evaluation -----------------------------------------------------------------------------------

def grouped_folds(groups: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold id per row: whole near-duplicate groups assigned to folds at random, sizes balanced."""
    rng = np.random.default_rng(seed)
    uniq, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(uniq))
    load, fold_of = np.zeros(k), np.zeros(len(uniq), dtype=int)
    for g in order[np.argsort(-counts[order], kind="stable")]:
        fold_of[g] = int(load.argmin())
        load[fold_of[g]] += counts[g]
    return fold_of[inv]


def rates(keep: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray, rows: np.ndarray) -> dict[str, float]:
    ke, de = _errors(keep & rows, kq_ok, dir_ok)
    return {"coverage": float(keep[rows].mean()), "kq_error": ke, "direction_error": de}


def nested(policy: Policy, F: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray, reg: np.ndarray,
           groups: np.ndarray, seeds: int, folds: int = 5) -> list[np.ndarray]:
    """Keep masks (one per seed), each row decided by a policy fitted on the other folds."""
    out = []
    for seed in range(seeds):
        fold = grouped_folds(groups, folds, seed)
        keep = np.zeros(len(F), dtype=bool)
        for k in range(folds):
            te = fold == k
            keep[te] = policy.fit(F[~te], kq_ok[~te], dir_ok[~te], reg[~te], seed, groups[~te])(F[te], reg[te])
        out.append(keep)
    return out


def leave_one_trust_out(policy: Policy, F: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray, reg: np.ndarray,
                        groups: np.ndarray, trust: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Keep mask of the real comments, each trust's decided by a policy fitted without it (nor its near-duplicates)."""
    keep = np.zeros(len(F), dtype=bool)
    per: dict[str, Any] = {}
    for t in sorted(set(trust[real].tolist())):
        te = real & (trust == t)
        tr = ~te & ~np.isin(groups, groups[te])
        keep[te] = policy.fit(F[tr], kq_ok[tr], dir_ok[tr], reg[tr], 0, groups[tr])(F[te], reg[te])
        per[str(t)] = {"rows": int(te.sum()), **{k: round(v, 4) for k, v in rates(keep, kq_ok, dir_ok, te).items()}}
    return keep, per


def summarise(keeps: list[np.ndarray], kq_ok: np.ndarray, dir_ok: np.ndarray,
              sources: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    out = {}
    for name, rows in sources.items():
        rs = [rates(k, kq_ok, dir_ok, rows) for k in keeps]
        out[name] = {key: round(float(np.mean([r[key] for r in rs])), 4) for key in rs[0]}
        out[name]["coverage_sd"] = round(float(np.std([r["coverage"] for r in rs])), 4)
        out[name]["direction_error_max"] = round(float(np.max([r["direction_error"] for r in rs])), 4)
    return out


#: inputs of the separate key question and direction models tried (``split`` policies)
KQ_INPUTS = {"kq_top": ["kq_top"],
             "kq probs": ["kq_top", "kq_margin", "kq_entropy", "statement_top", "statement_margin"],
             "kq probs+register": ["kq_top", "kq_margin", "kq_entropy", "statement_top", "statement_margin",
                                   "feedback", "log_length", "max_similarity"],
             "kq probs+knn+clause": ["kq_top", "kq_margin", "kq_entropy", "statement_top", "knn20_kq_agree",
                                     "clause_kq_at_pred"]}
DIR_INPUTS = {"direction_head_conf": ["direction_head_conf"],
              "dir heads": ["direction_head_conf", "direction_conf", "band_top", "band_margin", "heads_agree"],
              "dir heads+register": ["direction_head_conf", "direction_conf", "band_top", "band_margin", "heads_agree",
                                     "feedback", "log_length", "max_similarity"],
              "dir heads+knn+clause": ["direction_head_conf", "direction_conf", "band_top", "band_margin",
                                       "feedback", "knn5_dir_agree", "clause_dir_at_pred"]}


def split_policies(f: dict[str, np.ndarray], base: list[str]) -> list[Policy]:
    """Policies whose key question and direction models see different inputs."""
    out = []
    combos = [("kq_top", "direction_head_conf", "raw", "raw"), ("kq_top", "direction_head_conf", "lr", "lr"), ("kq_top", "dir heads+register", "raw", "lr"),
              ("kq probs", "dir heads", "lr", "lr"), ("kq probs+register", "dir heads+register", "lr", "lr"),
              ("kq probs+knn+clause", "dir heads+knn+clause", "lr", "lr"),
              ("kq probs+register", "dir heads+register", "hgb", "hgb")]
    for kqn, dn, kk, dk in combos:
        cols = list(dict.fromkeys(KQ_INPUTS[kqn] + DIR_INPUTS[dn]))
        if any(c not in f for c in cols):
            continue
        sc = split_scorer([cols.index(c) for c in KQ_INPUTS[kqn]], [cols.index(c) for c in DIR_INPUTS[dn]], kk, dk)
        label = f"split kq[{kk}: {kqn}] dir[{dk}: {dn}]"
        out.append(Policy(label + ", two cut-offs", cols, sc, two_thresholds))
        if (kk, dk, kqn, dn) == ("lr", "lr", "kq_top", "direction_head_conf"):  # the chosen inputs (RiskModel's)
            for level in (0.6, 0.75):
                out.append(Policy(label + f", two cut-offs, {level:.0%} upper bounds", cols, sc, two_thresholds_at(level)))
            out.append(Policy(label + ", two cut-offs by register", cols, sc, two_thresholds, by_register=True))
            out.append(Policy(label + ", two cut-offs by register, 75% upper bounds", cols, sc,
                              two_thresholds_at(0.75), by_register=True))
            out.append(Policy(label + ", one cut-off on product", cols, sc, one_score))
        if (kk, dk) == ("lr", "lr") and kqn == "kq probs+register":
            out.append(Policy(label + ", two cut-offs by register", cols, sc, two_thresholds, by_register=True))
            out.append(Policy(label + ", two cut-offs by register, 75% upper bounds", cols, sc,
                              two_thresholds_at(0.75), by_register=True))
            out.append(Policy(label + ", one cut-off on product", cols, sc, one_score))
            out.append(Policy(label + ", one cut-off on product (75% upper bound)", cols, sc, one_score_ucb))
    return out


def policies(f: dict[str, np.ndarray], base: list[str], only: set[str] | None) -> list[Policy]:
    sets = feature_sets(f, base)
    kq_col, dir_col = base.index("kq_top"), base.index("direction_conf")
    ps = [
        Policy("plain (kq prob, direction prob), two cut-offs", base, plain_scorer(kq_col, dir_col), two_thresholds),
        Policy("base: LR on current features, two cut-offs", base, lr_scorer(), two_thresholds),
    ]
    for name, cols in sets.items():
        if name == "base":
            continue
        ps.append(Policy(f"LR {name}, two cut-offs", cols, lr_scorer(), two_thresholds))
    best = sets.get("all", sets["base+margins"])
    best_name = "all" if "all" in sets else "base+margins"
    ps += [
        Policy(f"LR {best_name} C=0.1, two cut-offs", best, lr_scorer(C=0.1), two_thresholds),
        Policy(f"LR {best_name} + interactions C=0.05, two cut-offs", best, lr_scorer(C=0.05, interactions=True),
               two_thresholds),
        Policy("HGB base, two cut-offs", base, hgb_scorer(), two_thresholds),
        Policy(f"HGB {best_name}, two cut-offs", best, hgb_scorer(), two_thresholds),
        Policy("base LR, one cut-off on product", base, lr_scorer(), one_score),
        Policy("base LR, one cut-off on min", base, lr_scorer(), min_score),
        Policy("base LR, one cut-off on product (75% upper bound)", base, lr_scorer(), one_score_ucb),
        Policy(f"LR {best_name}, one cut-off on product", best, lr_scorer(), one_score),
        Policy("base LR, two cut-offs by register", base, lr_scorer(), two_thresholds, by_register=True),
        Policy(f"LR {best_name}, two cut-offs by register", best, lr_scorer(), two_thresholds, by_register=True),
        Policy(f"LR {best_name}, product by register", best, lr_scorer(), one_score, by_register=True),
    ]
    ps += split_policies(f, base)
    ps += register_policies(f)
    if only:
        ps = [p for p in ps if any(o in p.name for o in only)]
    return ps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("heldout", type=Path)
    ap.add_argument("--seeds", type=int, default=3, help="fold assignments averaged")
    ap.add_argument("--only", default="", help="comma-separated substrings of policy names to run")
    ap.add_argument("--no-trusts", action="store_true", help="skip leave-one-trust-out")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep-abstained", action="store_true",
                    help="also fit and score on the notes Suggester abstains on (never rated in the product)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    d = dict(np.load(args.heldout, allow_pickle=False))
    n_all = len(d["kq_ok"])
    if "abstained" in d and not args.keep_abstained:
        rated = ~np.asarray(d["abstained"], bool)
        d = {k: (v[rated] if v.ndim and len(v) == n_all else v) for k, v in d.items()}
        print(f"{int((~rated).sum())} of {n_all} held-out notes are abstained on by Suggester (no content / not "
              "English) and left out: coverage below is of the notes it rates")
    f, base = feature_table(d)
    kq_ok, dir_ok = np.asarray(d["kq_ok"], float), np.asarray(d["dir_ok"], float)
    origin = np.asarray(d["y_origin"]).astype(str)
    real = np.char.startswith(origin, "phase1")
    sources = {"all": np.ones(len(origin), dtype=bool), "corpus": np.char.startswith(origin, "corpus"),
               "real_feedback": real}
    reg = (f["feedback"] >= 0.5).astype(int)
    groups, trust = np.asarray(d["nd_group"]), np.asarray(d["y_group"]).astype(str)
    print(f"{len(origin)} held-out notes ({int(sources['corpus'].sum())} corpus, {int(real.sum())} real); "
          f"no flagging: kq wrong {np.nanmean(1 - kq_ok):.3f} (n={int((~np.isnan(kq_ok)).sum())}), "
          f"direction wrong {np.nanmean(1 - dir_ok):.3f} (n={int((~np.isnan(dir_ok)).sum())}); "
          f"router says feedback for {reg.mean():.3f}", flush=True)
    results = []
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    for p in policies(f, base, only):
        t0 = time.time()
        F = np.column_stack([f[c] for c in p.features])
        keeps = nested(p, F, kq_ok, dir_ok, reg, groups, args.seeds)
        res: dict[str, Any] = {"policy": p.name, "features": p.features,
                               "nested": summarise(keeps, kq_ok, dir_ok, sources),
                               "by_register_nested": summarise(keeps, kq_ok, dir_ok,
                                                               {"feedback-like": reg == 1, "inspection-like": reg == 0})}
        if not args.no_trusts:
            lk, per = leave_one_trust_out(p, F, kq_ok, dir_ok, reg, groups, trust, real)
            res["leave_one_trust_out"] = {k: round(v, 4) for k, v in rates(lk, kq_ok, dir_ok, real).items()}
            res["per_trust"] = per
        results.append(res)
        a = res["nested"]["all"]
        line = (f"{p.name:<58} cover {a['coverage']:.3f}±{a['coverage_sd']:.3f}  kq {a['kq_error']:.3f}  "
                f"dir {a['direction_error']:.3f} (max {a['direction_error_max']:.3f}) | corpus "
                f"{res['nested']['corpus']['coverage']:.3f} real {res['nested']['real_feedback']['coverage']:.3f}")
        if "leave_one_trust_out" in res:
            lo = res["leave_one_trust_out"]
            line += f" | LOTO {lo['coverage']:.3f} kq {lo['kq_error']:.3f} dir {lo['direction_error']:.3f}"
        print(line + f"  [{time.time() - t0:.0f}s]", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
