"""Topics measured on text with several topics, leaving one trust out (issue 23, item 2).

No labelled multi-topic text exists here, so it is built: each *composite* joins 2 or 3 phase-1
comments of different key questions from the held-out trust (one space between them, as written:
a comment without a final full stop runs into the next one, as in real stories), and each
comment's key question and polarity are the composite's true topics. Single comments of the
held-out trust are the controls (one true topic each), and those of at least :data:`LONG_CHARS`
characters are the long single texts.

For each trust the classifier is fitted exactly as ``evaluate --transfer trusts`` fits it
(:func:`evidencenlp.evaluation.transfer.trust_folds`, same rows, same parameters), and a TF-IDF +
linear SVM on the same rows. The classifier's topics come from :attr:`Suggestion.topics` (the public
output), for every point of a grid of pooling settings; the setting scored on a trust is chosen on
the other trusts' texts only, never on the trust it is scored on, by the issue's target (best
composite recall within 1.5 topics per true topic), and by topic F1 beside it (:func:`choose_setting`).

:func:`run_long_stories` (``evaluate --long-stories``) scores the same topics on a JSONL file of long
texts whose topics are labelled, against TF-IDF + SVM baselines.

Figures:

- per topic: recall (a true topic is found when a predicted topic has its key question; also with
  its direction), precision, topics per text and per true topic, direction per found topic;
- whole text: on composites, key question macro-F1 over texts as multi-label sets (the classifier's
  topics against the SVM's top *k* key questions, *k* = the number of true topics: an oracle the
  classifier is not given); on long single comments, the usual macro-F1 of the one key question.

Nothing here prints or logs note text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evidencenlp.encoder import DEFAULT_BATCH_SIZE, Embedder

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggester, Suggestion

Log = Callable[[str], None]
#: a single comment at least this long counts as long text
LONG_CHARS = 300
#: a pooling setting: (threshold, whole_weight, any_segment) of :func:`evidencenlp.topics.pool_topics`
Setting = tuple[float, float, bool]
#: the pooling settings tried
GRID: tuple[Setting, ...] = tuple((t, w, a) for a in (False, True) for w in (0.0, 0.5) for t in (0.2, 0.3, 0.4, 0.5))
SIZES: tuple[int, ...] = (2, 3)
N_BOOTSTRAP = 1000

TrueTopics = list[tuple[str, str]]  # (key question, polarity or "")
PredTopics = list[tuple[str, str]]  # (key question, direction or "")


# -- building the texts -------------------------------------------------------------------------

def build_texts(comments: pd.DataFrame, per_size: int, seed: int = 0, sizes: Sequence[int] = SIZES) -> pd.DataFrame:
    """Composites and controls from one trust's mapped comments.

    ``comments`` has ``text``, ``key_question`` (non-empty) and ``direction`` (``""`` = unknown).
    Returns a frame with ``kind`` (``composite`` / ``single``), ``size``, ``text`` and ``topics``
    (a list of ``(key question, polarity)``): ``per_size`` composites per size in ``sizes``, whose
    comments are drawn with key questions chosen in proportion to their frequency, then every
    comment as a single control.
    """
    rng = np.random.default_rng(seed)
    comments = comments.reset_index(drop=True)
    by_kq = {k: np.flatnonzero(comments["key_question"].to_numpy() == k) for k in sorted(set(comments["key_question"]))}
    weights = np.array([len(v) for v in by_kq.values()], dtype=float)
    kqs = list(by_kq)
    rows: list[dict[str, Any]] = []
    for size in sizes:
        if size > len(kqs):
            continue
        for _ in range(per_size):
            chosen = rng.choice(len(kqs), size=size, replace=False, p=weights / weights.sum())
            picks = [int(rng.choice(by_kq[kqs[c]])) for c in chosen]
            rows.append({"kind": "composite", "size": size,
                         "text": " ".join(str(comments.at[i, "text"]).strip() for i in picks),
                         "topics": [(str(comments.at[i, "key_question"]), str(comments.at[i, "direction"]))
                                    for i in picks]})
    for i in range(len(comments)):
        rows.append({"kind": "single", "size": 1, "text": str(comments.at[i, "text"]),
                     "topics": [(str(comments.at[i, "key_question"]), str(comments.at[i, "direction"]))]})
    return pd.DataFrame(rows)


# -- scoring -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TopicCounts:
    """Counts behind the per-topic figures (additive over texts)."""

    texts: int = 0
    true: int = 0
    predicted: int = 0
    found: int = 0           # true topics whose key question is among the predicted topics
    correct_predicted: int = 0  # predicted topics whose key question is a true one
    with_polarity: int = 0   # found true topics whose polarity is known
    direction_right: int = 0  # ... and whose topic has that direction
    polar_true: int = 0      # true topics whose polarity is known (found or not)
    direction_predicted: int = 0  # predicted topics whose key question has true topics of known polarity
    direction_predicted_right: int = 0  # ... whose direction is one of those true topics' directions

    @classmethod
    def total(cls, counts: Sequence[TopicCounts]) -> TopicCounts:
        """The counts of several sets of texts added field by field (the counts are additive)."""
        return cls(*(sum(getattr(c, name) for c in counts) for name in cls.__dataclass_fields__))

    def figures(self) -> dict[str, float]:
        """recall, precision, f1, topics per text, topics per true topic, direction per topic,
        recall with direction (found with the right direction / true topics of known polarity), direction
        precision (predicted topics whose direction is among their key question's true directions)."""
        def div(a: float, b: float) -> float:
            return a / b if b else float("nan")
        recall, precision = div(self.found, self.true), div(self.correct_predicted, self.predicted)
        return {"recall": recall, "precision": precision,
                "f1": div(2 * recall * precision, recall + precision),
                "topics_per_text": div(self.predicted, self.texts),
                "topics_per_true_topic": div(self.predicted, self.true),
                "direction_per_topic": div(self.direction_right, self.with_polarity),
                "recall_with_direction": div(self.direction_right, self.polar_true),
                "direction_precision": div(self.direction_predicted_right, self.direction_predicted),
                "texts": float(self.texts), "true_topics": float(self.true)}


def count_topics(true: Sequence[TrueTopics], predicted: Sequence[PredTopics]) -> TopicCounts:
    """:class:`TopicCounts` of predicted topics against true topics, text by text.

    A true topic is found when some predicted topic has its key question. Directions are compared one
    to one within a key question: the true topics of a key question (of known polarity) are paired
    with its predicted topics agreeing in direction first, each predicted topic used once; a true
    topic left without a partner is compared with the key question's first predicted topic. With one
    predicted topic per key question this is the first predicted topic for every true topic. On the
    predicted side, a predicted topic whose key question has true topics of known polarity is right
    when one of them has its direction (``direction_precision``): a key question split into two directions
    pays for its second topic in topics per true topic and, where the text holds one direction, in this figure.
    """
    n = [0] * 9
    for t, p in zip(true, predicted, strict=True):
        pred_by_kq: dict[str, list[str]] = {}
        for kq, d in p:
            pred_by_kq.setdefault(kq, []).append(d)
        true_by_kq: dict[str, list[str]] = {}
        for kq, pol in t:
            true_by_kq.setdefault(kq, []).append(pol)
        n[0] += len(t)
        n[1] += len(p)
        n[3] += sum(kq in true_by_kq for kq, _ in p)
        for kq, pols in true_by_kq.items():
            preds = pred_by_kq.get(kq, [])
            n[2] += len(pols) if preds else 0
            polar = [x for x in pols if x]
            n[6] += len(polar)
            if not preds or not polar:
                continue
            n[4] += len(polar)
            free = list(preds)
            unpaired = []
            for pol in polar:  # pair with an unused predicted topic of the same direction, when there is one
                if pol in free:
                    free.remove(pol)
                    n[5] += 1
                else:
                    unpaired.append(pol)
            n[5] += sum(pol == preds[0] for pol in unpaired)  # left without a partner: the first predicted topic
            directions = set(polar)
            n[7] += len(preds)
            n[8] += sum(d in directions for d in preds)
    return TopicCounts(len(true), n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8])


def multilabel_macro_f1(true: Sequence[set[str]], predicted: Sequence[set[str]], labels: Sequence[str]) -> float:
    """Macro-F1 over ``labels`` of sets of labels per text (each label a yes/no decision per text)."""
    scores = []
    for label in labels:
        y = np.array([label in t for t in true])
        p = np.array([label in s for s in predicted])
        tp, denom = float((y & p).sum()), float(y.sum() + p.sum())
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores)) if scores else float("nan")


def top_k_sets(proba: np.ndarray, classes: Sequence[str], k: Sequence[int]) -> list[set[str]]:
    """For each row of ``proba`` ``(n, c)``, the set of its ``k[i]`` most probable ``classes``."""
    order = np.argsort(-np.asarray(proba), axis=1)
    return [{classes[j] for j in order[i, :k[i]]} for i in range(len(order))]


def bootstrap_interval(stat: Callable[[np.ndarray], float], n: int, seed: int = 0,
                       strata: np.ndarray | None = None) -> tuple[float, float]:
    """95% percentile interval of ``stat(indices)`` over :data:`N_BOOTSTRAP` resamples of ``n`` rows
    (within ``strata`` when given)."""
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    stats = [stat(np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups]))
             for _ in range(N_BOOTSTRAP)]
    return float(np.nanpercentile(stats, 2.5)), float(np.nanpercentile(stats, 97.5))


# -- the classifier's topics ---------------------------------------------------------------------

class MemoEmbedder:
    """An :class:`~evidencenlp.encoder.Embedder` that embeds each distinct text once (kept in memory),
    so the pooling grid re-runs the suggester without re-encoding; ``known`` seeds it with vectors
    already computed (e.g. the training cache)."""

    def __init__(self, inner: Embedder, known: dict[str, np.ndarray] | None = None) -> None:
        self.inner = inner
        self.backend, self.space, self.recipe = inner.backend, inner.space, inner.recipe
        self.memo: dict[str, np.ndarray] = dict(known or {})
        self.span_memo: dict[tuple[str, tuple[tuple[int, int], ...]], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors ``(len(texts), 384)``, embedding only the texts not seen before."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if missing:
            for t, v in zip(missing, self.inner.encode(missing, batch_size=batch_size, progress=progress)):
                self.memo[t] = v
        return np.vstack([self.memo[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     batch_size: int = DEFAULT_BATCH_SIZE, progress: Callable[[int], None] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`evidencenlp.encoder.spans.SpanEmbedder.encode_spans` of the inner embedder, each
        (text, spans) pooled once (kept in memory); an inner embedder that cannot pool spans gives the
        texts' vectors and no span pooled (so the caller encodes them on their own)."""
        from evidencenlp.encoder.spans import SpanEmbedder

        keys = [(t, tuple((int(a), int(b)) for a, b in s)) for t, s in zip(texts, spans)]
        missing = list(dict.fromkeys(k for k in keys if k not in self.span_memo))
        if missing and isinstance(self.inner, SpanEmbedder):
            notes, vecs, ok = self.inner.encode_spans([t for t, _ in missing], [list(s) for _, s in missing],
                                                      batch_size=batch_size, progress=progress)
            first = np.cumsum([0, *(len(s) for _, s in missing)])
            for j, key in enumerate(missing):
                self.span_memo[key] = (notes[j], vecs[first[j]:first[j + 1]], ok[first[j]:first[j + 1]])
        elif missing:
            notes = self.encode([t for t, _ in missing], batch_size=batch_size, progress=progress)
            for j, key in enumerate(missing):
                self.span_memo[key] = (notes[j], np.zeros((len(key[1]), 384), np.float32),
                                       np.zeros(len(key[1]), bool))
        got = [self.span_memo[k] for k in keys]
        empty = np.zeros((0, 384), dtype=np.float32)
        return (np.vstack([g[0] for g in got]) if got else empty,
                np.vstack([g[1] for g in got]) if got else empty,
                np.concatenate([g[2] for g in got]) if got else np.zeros(0, bool))


def predicted_topics(suggestions: Sequence[Suggestion | None]) -> list[PredTopics]:
    """``(key question, direction)`` of every topic of each suggestion (direction from the topic's
    direction head when present, else the better or worse half of its band)."""
    out: list[PredTopics] = []
    for s in suggestions:
        topics: PredTopics = []
        for t in (s.topics if s is not None else ()):
            if t.direction is not None:
                d = t.direction.label
            else:
                half = len(t.band.probabilities) // 2
                d = "positive" if sum(list(t.band.probabilities.values())[:half]) > 0.5 else "negative"
            topics.append((t.key_question.label, d))
        out.append(topics)
    return out


def topics_on_grid(suggester: Suggester, texts: Sequence[str], grid: Sequence[Setting] = GRID
                   ) -> dict[Setting, list[PredTopics]]:
    """The suggester's topics for ``texts`` under each pooling setting ``(threshold, whole_weight,
    any_segment)`` (the suggester's own setting is restored afterwards). The classify stage runs once:
    every setting pools the same probabilities."""
    saved = (suggester.topic_threshold, suggester.topic_whole_weight, suggester.topic_any_segment)
    probabilities = suggester.probabilities
    memo: dict[tuple[str, ...], Any] = {}

    def once(batch: Sequence[str], vectors: np.ndarray) -> Any:
        key = tuple(batch)
        if key not in memo:
            memo.clear()
            memo[key] = probabilities(batch, vectors)
        return memo[key]

    out = {}
    setattr(suggester, "probabilities", once)  # noqa: B010 - on this instance only, removed below
    try:
        for setting in grid:
            suggester.topic_threshold, suggester.topic_whole_weight, suggester.topic_any_segment = setting
            out[setting] = predicted_topics(
                suggester.suggest_many(list(texts), sentences=False, evidence=False, topics=True))
    finally:
        suggester.topic_threshold, suggester.topic_whole_weight, suggester.topic_any_segment = saved
        delattr(suggester, "probabilities")
    return out


# -- the whole evaluation ------------------------------------------------------------------------

@dataclass
class FoldTopics:
    """One held-out trust: its texts, the classifier's topics per pooling setting (the main topic
    first: the whole note's key question) and the SVM's key question probabilities (rows = texts)."""

    trust: str
    texts: pd.DataFrame
    topics: dict[Setting, list[PredTopics]]
    svm_kq: np.ndarray
    chosen: Setting | None = None


@dataclass
class TopicsResult:
    """Figures of the topics evaluation (JSON-ready through :meth:`to_dict`)."""

    params: dict[str, Any]
    folds: list[dict[str, Any]] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)
    shipped_setting: dict[str, Any] = field(default_factory=dict)
    inspection: dict[str, Any] = field(default_factory=dict)
    #: the same figures with the setting chosen by another criterion (criterion → :meth:`to_dict`)
    alternatives: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"params": self.params, "folds": self.folds, "pooled": self.pooled,
                "shipped_setting": self.shipped_setting, "inspection": self.inspection,
                "alternatives": self.alternatives}

    def markdown(self) -> list[str]:
        """The figures as Markdown lines (a table per set of texts: pooled over trusts, then per trust)."""
        def fmt(v: Any) -> str:
            return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

        lines = [f"Pooling setting chosen by: {self.params.get('criterion', 'f1')}", "",
                 "| texts | trust | n | topic recall [95% CI] | precision | topics / text | topics / true topic | "
                 "direction / topic | direction precision | recall with direction | kq macro-F1 classifier | "
                 "TF-IDF+SVM top-k (true k) | difference [95% CI] | TF-IDF+SVM top-k (classifier's k) |",
                 "|" + "---|" * 14]
        for trust, figures in [("all (pooled)", self.pooled), *((f["trust"], f) for f in self.folds)]:
            for name, e in figures.items():
                if not isinstance(e, dict) or "recall" not in e:
                    continue
                f1 = e["kq_macro_f1"]
                clf = next(v for k, v in f1.items() if k.startswith("classifier"))
                lines.append(f"| {name} | {trust} | {int(e['texts'])} | {fmt(e['recall'])} "
                             f"[{fmt(e['recall_95ci'][0])}, {fmt(e['recall_95ci'][1])}] | {fmt(e['precision'])} | "
                             f"{fmt(e['topics_per_text'])} | {fmt(e['topics_per_true_topic'])} | "
                             f"{fmt(e['direction_per_topic'])} | {fmt(e.get('direction_precision'))} | "
                             f"{fmt(e['recall_with_direction'])} | {fmt(clf)} | "
                             f"{fmt(f1['tfidf_svm_top_k_true'])} | {fmt(f1['difference'])} "
                             f"[{fmt(f1['difference_95ci'][0])}, {fmt(f1['difference_95ci'][1])}] | "
                             f"{fmt(f1['tfidf_svm_top_k_same_as_classifier'])} |")

        def setting(s: dict[str, Any]) -> str:
            return (f"threshold {s.get('threshold')}, whole weight {s.get('whole_weight')}, "
                    f"any segment {s.get('any_segment')}")

        settings = "; ".join(f"{f['trust']}: {setting(f['chosen_setting'])}" for f in self.folds)
        lines += ["", f"Pooling setting per held-out trust (chosen on the other trusts): {settings}.",
                  f"Chosen on all trusts (the shipped default): {setting(self.shipped_setting)}."]
        if self.inspection:
            i = self.inspection
            lines += ["", f"Inspection report paragraphs (odd-id locations, {i['paragraphs']}): key question macro-F1 "
                          f"{fmt(i['kq_macro_f1']['classifier key question'])} vs TF-IDF+SVM "
                          f"{fmt(i['kq_macro_f1']['tfidf_svm'])}; topics per paragraph {fmt(i['topics_per_text'])}; "
                          f"label among the topics {fmt(i['recall'])}; direction of that topic "
                          f"{fmt(i['direction_per_topic'])}."]
        for criterion, alt in self.alternatives.items():
            other = TopicsResult(params={**alt["params"], "criterion": criterion}, folds=alt["folds"],
                                 pooled=alt["pooled"], shipped_setting=alt["shipped_setting"])
            lines += ["", *other.markdown()]
        return lines


#: how a pooling setting is chosen on the training trusts (:func:`choose_setting`)
CRITERIA: tuple[str, ...] = ("recall_within_budget", "f1")
#: the issue's bound on topics per true topic, used by the ``recall_within_budget`` criterion
TOPIC_BUDGET = 1.5


def choose_setting(folds: Sequence[FoldTopics], grid: Sequence[Setting] = GRID, criterion: str = "f1",
                   budget: float = TOPIC_BUDGET) -> Setting:
    """The pooling setting chosen on ``folds``' texts.

    ``f1``: the best topic F1 (composites and controls together). ``recall_within_budget`` (the
    issue's target): the best topic recall on composites among the settings whose topics per true
    topic, composites and controls together, is at most ``budget`` (the best F1 when none is).
    Ties go to the higher threshold (fewer topics).
    """
    def counts(setting: Setting, composites_only: bool = False) -> dict[str, float]:
        total = []
        for f in folds:
            keep = (f.texts["kind"] == "composite").to_numpy() if composites_only else np.ones(len(f.texts), bool)
            idx = np.flatnonzero(keep)
            total.append(count_topics([f.texts["topics"].iloc[i] for i in idx], [f.topics[setting][i] for i in idx]))
        return TopicCounts.total(total).figures()

    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if criterion == "recall_within_budget":
        within = [s for s in grid if counts(s)["topics_per_true_topic"] <= budget]
        if within:
            return max(within, key=lambda s: (round(counts(s, True)["recall"], 6), round(counts(s)["f1"], 6), s[0]))
    return max(grid, key=lambda s: (round(counts(s)["f1"], 6), s[0]))


def fold_topics(trust: str, suggester: Suggester, svm_kq: np.ndarray, texts: pd.DataFrame,
                grid: Sequence[Setting] = GRID) -> FoldTopics:
    """The classifier's topics (every setting of ``grid``) and whole-note key question probabilities
    for one trust's ``texts``; ``svm_kq`` the SVM's probabilities for the same texts."""
    return FoldTopics(trust, texts, topics_on_grid(suggester, texts["text"].tolist(), grid), svm_kq)


def summarise_folds(folds: Sequence[FoldTopics], key_questions: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Per-topic and whole-text figures over ``folds`` (each at its chosen setting), per kind of text.

    Whole-text macro-F1 is over the key questions present in the truth of each set.
    """
    frames = []
    for f in folds:
        assert f.chosen is not None
        frames.append(f.texts.assign(_trust=f.trust, _pred=f.topics[f.chosen], _svm=list(f.svm_kq),
                                     _main=[kq[0][0] if kq else "" for kq in f.topics[f.chosen]]))
    frame = pd.concat(frames, ignore_index=True)
    out: dict[str, Any] = {}
    subsets = {"composites": frame["kind"] == "composite",
               **{f"composites_of_{n}": (frame["kind"] == "composite") & (frame["size"] == n) for n in SIZES},
               "single_comments": frame["kind"] == "single",
               f"single_comments_of_{LONG_CHARS}_chars_or_more":
                   (frame["kind"] == "single") & (frame["text"].str.len() >= LONG_CHARS)}
    for name, mask in subsets.items():
        part = frame[mask.to_numpy()].reset_index(drop=True)
        if part.empty:
            continue
        counts = count_topics(part["topics"].tolist(), part["_pred"].tolist())
        entry: dict[str, Any] = {k: _r(v) for k, v in counts.figures().items()}
        true_sets = [{kq for kq, _ in t} for t in part["topics"]]
        labels = sorted(set().union(*true_sets))
        k = [len(t) for t in true_sets]
        svm_proba = np.vstack(part["_svm"].to_numpy())
        svm = top_k_sets(svm_proba, key_questions, k)
        if name.startswith("composites"):
            clf_sets = [{kq for kq, _ in p} for p in part["_pred"]]
            clf_label = "classifier topics"
        else:
            clf_sets = [{m} for m in part["_main"]]
            clf_label = "classifier key question"
        # the SVM given as many guesses as the classifier made topics (no oracle on either side)
        svm_same_k = top_k_sets(svm_proba, key_questions, [max(1, len(c)) for c in clf_sets])
        strata = part["_trust"].to_numpy()

        def diff(idx: np.ndarray, clf_sets: list[set[str]] = clf_sets, svm: list[set[str]] = svm,
                 true_sets: list[set[str]] = true_sets, labels: list[str] = labels) -> float:
            t = [true_sets[i] for i in idx]
            return (multilabel_macro_f1(t, [clf_sets[i] for i in idx], labels)
                    - multilabel_macro_f1(t, [svm[i] for i in idx], labels))

        clf_f1 = multilabel_macro_f1(true_sets, clf_sets, labels)
        svm_f1 = multilabel_macro_f1(true_sets, svm, labels)
        lo, hi = bootstrap_interval(diff, len(part), seed=seed, strata=strata)
        entry["kq_macro_f1"] = {clf_label: _r(clf_f1), "tfidf_svm_top_k_true": _r(svm_f1),
                                "difference": _r(clf_f1 - svm_f1), "difference_95ci": [_r(lo), _r(hi)],
                                "tfidf_svm_top_k_same_as_classifier":
                                    _r(multilabel_macro_f1(true_sets, svm_same_k, labels))}
        true_list, pred_list = part["topics"].tolist(), part["_pred"].tolist()

        def recall(idx: np.ndarray, t: list[TrueTopics] = true_list, p: list[PredTopics] = pred_list) -> float:
            return count_topics([t[i] for i in idx], [p[i] for i in idx]).figures()["recall"]

        rec_lo, rec_hi = bootstrap_interval(recall, len(part), seed=seed, strata=strata)
        entry["recall_95ci"] = [_r(rec_lo), _r(rec_hi)]
        out[name] = entry
    return out


def _r(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), 4)


def evaluate_topics(feedback: pd.DataFrame, feedback_vecs: np.ndarray, base: pd.DataFrame, base_vecs: np.ndarray,
                    suggester_for: Callable[[Any], Suggester], index: Any, params: dict[str, Any],
                    per_size: int = 300, seed: int = 0, grid: Sequence[Setting] = GRID,
                    log: Log | None = None) -> TopicsResult:
    """Leave one trust out: fit per fold (:func:`evidencenlp.evaluation.transfer.trust_folds`), build
    that trust's texts (:func:`build_texts`), score topics with the setting chosen on the other trusts.

    ``suggester_for(classifier)`` wraps a fitted classifier in a :class:`Suggester` (the caller
    chooses its embedder, e.g. a :class:`MemoEmbedder`).
    """
    from evidencenlp.evaluation.transfer import fit_classifier, fit_tfidf_svm, trust_folds

    say = log or (lambda _m: None)
    folds: list[FoldTopics] = []
    key_questions = list(index.taxonomy.key_questions)
    for trust, train, train_vecs, test, _test_vecs, _held_in in trust_folds(feedback, feedback_vecs, base,
                                                                            base_vecs):
        comments = test[test["key_question"] != ""]
        texts = build_texts(comments, per_size, seed=seed)
        say(f"fold {trust}: {int((texts['kind'] == 'composite').sum()):,} composites, {len(comments):,} single "
            f"comments; fitting on {len(train):,} rows …")
        clf = fit_classifier(train, train_vecs, index, params)
        svm = fit_tfidf_svm(train, index)
        svm_kq = svm.predict(texts["text"].tolist()).proba["key_question"]
        say(f"  topics over {len(grid)} pooling settings …")
        folds.append(fold_topics(trust, suggester_for(clf), svm_kq, texts, grid))
    result = TopicsResult(params={"per_size": per_size, "sizes": list(SIZES), "seed": seed,
                                  "grid": [list(g) for g in grid], "long_chars": LONG_CHARS,
                                  "criterion": CRITERIA[0], "topic_budget": TOPIC_BUDGET})
    for criterion in CRITERIA:
        target = result if criterion == CRITERIA[0] else TopicsResult(params={"criterion": criterion})
        for f in folds:
            others = [g for g in folds if g is not f]
            f.chosen = choose_setting(others or [f], grid, criterion)
        for f in folds:
            assert f.chosen is not None
            target.folds.append({"trust": f.trust, "chosen_setting": {"threshold": f.chosen[0],
                                                                       "whole_weight": f.chosen[1],
                                                                       "any_segment": f.chosen[2]},
                                 **summarise_folds([f], key_questions, seed)})
        target.pooled = summarise_folds(folds, key_questions, seed)
        best = choose_setting(folds, grid, criterion)
        target.shipped_setting = {"threshold": best[0], "whole_weight": best[1], "any_segment": best[2],
                                  "chosen_on": "all trusts' texts (for the shipped default; each fold above used "
                                               "the setting chosen on the other trusts)"}
        if target is not result:
            result.alternatives[criterion] = target.to_dict()
    return result


def inspection_topics(suggester: Suggester, svm_kq: np.ndarray, paragraphs: pd.DataFrame,
                      positive_bands: Sequence[str], key_questions: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Figures on inspection report paragraphs (one labelled key question each, band where shown):
    the main key question's macro-F1 against the SVM's, topics per paragraph, how often the label is
    among the topics, and the direction of the topic that carries it."""
    suggestions = suggester.suggest_many(paragraphs["text"].tolist(), sentences=False, evidence=False, topics=True)
    pred = predicted_topics(suggestions)
    band = paragraphs["band"].fillna("").astype(str)
    polarity = np.where(band == "", "", np.where(band.isin(list(positive_bands)), "positive", "negative"))
    true = [[(str(k), str(d))] for k, d in zip(paragraphs["key_question"], polarity)]
    counts = count_topics(true, pred)
    y = paragraphs["key_question"].astype(str).tolist()
    main = [p[0][0] if p else "" for p in pred]
    svm = [key_questions[int(j)] for j in np.asarray(svm_kq).argmax(axis=1)]
    labels = sorted(set(y))
    clf_f1 = multilabel_macro_f1([{v} for v in y], [{v} for v in main], labels)
    svm_f1 = multilabel_macro_f1([{v} for v in y], [{v} for v in svm], labels)
    return {"paragraphs": len(paragraphs), **{k: _r(v) for k, v in counts.figures().items()},
            "kq_macro_f1": {"classifier key question": _r(clf_f1), "tfidf_svm": _r(svm_f1),
                            "difference": _r(clf_f1 - svm_f1)}}


def model_rows(training_data: Any, phase1: Any, min_confidence: str, index: Any) -> tuple[pd.DataFrame, list[str]]:
    """The rows a model with this ``training_data_`` provenance was trained on by ``train --phase1``: the corpus,
    the framework examples, the phase-1 comments and the assessment bundle folders it names; and the names of
    those folders that are not here (the caller says so: its baselines then lack them)."""
    from evidencenlp.sources import SourceSelection, gather
    from evidencenlp.sources.bundles import trained_folders

    bundles, missing = trained_folders(training_data)
    return gather(SourceSelection(corpus=True, framework_examples=True, phase1=phase1,
                                  phase1_min_confidence=min_confidence, bundles=bundles), index), missing


@dataclass
class ShippedRows:
    """The shipped model's training rows, ready for leave-one-trust-out topic runs (:func:`shipped_rows`)."""

    index: Any
    params: dict[str, Any]
    frame: pd.DataFrame
    vectors: np.ndarray
    missing: list[str]
    memo: MemoEmbedder

    def suggester_for(self, clf: Any) -> Suggester:
        """A :class:`Suggester` of ``clf`` that embeds through :attr:`memo` (each text once)."""
        from evidencenlp.suggest import Suggester

        suggester = Suggester(self.index, clf)
        suggester.embedder = self.memo
        return suggester

    def split(self) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
        """``(feedback, its vectors, the rest, their vectors)``: the phase-1 comments, held out trust by
        trust, and the rows always trained on (the arguments of
        :func:`evidencenlp.evaluation.transfer.trust_folds`)."""
        feedback = self.frame["origin"].str.startswith("phase1").to_numpy()
        return (self.frame[feedback].reset_index(drop=True), self.vectors[feedback],
                self.frame[~feedback].reset_index(drop=True), self.vectors[~feedback])


def shipped_rows(phase1: Any, min_confidence: str = "medium",
                 embed: Callable[[list[str], str, str], np.ndarray] | None = None) -> ShippedRows:
    """The rows ``evidencenlp train`` used for the shipped model (:func:`model_rows`, with the bundle
    folders its provenance names), their vectors (``embed(texts, what, cache name)``; default: the
    evaluation cache), the shipped parameters and a :class:`MemoEmbedder` seeded with the vectors."""
    from evidencenlp.evaluation.cv import embed as cached_embed
    from evidencenlp.evaluation.run import load_index, shipped_params, shipped_training_data

    if embed is None:
        def embed(texts: list[str], _what: str, name: str) -> np.ndarray:
            return cached_embed(texts, name=name)
    index = load_index()
    frame, missing = model_rows(shipped_training_data(), phase1, min_confidence, index)
    vectors = embed(frame["text"].tolist(), f"{len(frame):,} training texts", "training")
    return ShippedRows(index, shipped_params(), frame, vectors, missing,
                       MemoEmbedder(index.embedder, dict(zip(frame["text"].tolist(), vectors))))


def fold_suggesters(phase1: Any, per_size: int = 300, seed: int = 0, min_confidence: str = "medium",
                    setting: Setting | None = None) -> Iterator[tuple[str, pd.DataFrame, Suggester]]:
    """Leave one trust out on the shipped model's rows, for experiments that score topics their own way:
    for each trust, ``(trust, its texts, a Suggester)`` — the texts of :func:`build_texts` (``per_size``
    composites per size and every single comment, ``seed``), the suggester's classifier fitted without that
    trust with the shipped parameters (as :func:`run_topics` fits it; :func:`shipped_rows`), its pooling
    ``setting`` (default: the shipped one)."""
    from evidencenlp.evaluation.transfer import fit_classifier, trust_folds

    rows = shipped_rows(phase1, min_confidence)
    for trust, train, train_vecs, test, _, _ in trust_folds(*rows.split()):
        suggester = rows.suggester_for(fit_classifier(train, train_vecs, rows.index, rows.params))
        if setting is not None:
            suggester.topic_threshold, suggester.topic_whole_weight, suggester.topic_any_segment = setting
        yield trust, build_texts(test[test["key_question"] != ""], per_size, seed=seed), suggester


def run_topics(phase1: Any, embed: Callable[[list[str], str, str], np.ndarray] | None = None,
               per_size: int = 300, seed: int = 0, inspection: bool = True, min_confidence: str = "medium",
               log: Log | None = None, grid: Sequence[Setting] = GRID) -> TopicsResult:
    """The whole topics evaluation on the phase-1 file ``phase1`` (read in place): leave one trust out
    with the shipped model's parameters on the rows ``evidencenlp train`` uses (with the assessment bundles
    the shipped model's provenance names), then (``inspection``)
    the inspection report paragraphs of odd-id locations with the shipped classifier (trained on all
    those rows, never on the paragraphs) against a TF-IDF + SVM fitted on the same rows.

    ``embed(texts, what, cache name)`` embeds the training rows (default: the evaluation cache).
    """
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.evaluation.transfer import fit_tfidf_svm
    from evidencenlp.sources import inspection_examples

    say = log or (lambda _m: None)
    rows = shipped_rows(phase1, min_confidence, embed)
    index, frame, suggester_for = rows.index, rows.frame, rows.suggester_for
    if rows.missing:
        say(f"the shipped model was trained on bundle folders that are not here ({', '.join(rows.missing)}): the "
            "fold classifiers and the baselines are fitted without them")
    result = evaluate_topics(*rows.split(), suggester_for, index, rows.params, per_size=per_size, seed=seed,
                             grid=grid, log=say)
    if inspection:
        paragraphs = inspection_examples()
        odd = paragraphs["group"].astype(str).str.strip().str[-1].isin(list("13579")).to_numpy()
        paragraphs = paragraphs[odd & (paragraphs["key_question"] != "").to_numpy()].reset_index(drop=True)
        # the shipped classifier: trained on these same rows (`train --phase1`), never on the paragraphs
        say(f"inspection paragraphs: {len(paragraphs):,} (odd-id locations); the shipped classifier, and a "
            f"TF-IDF+SVM fitted on the same {len(frame):,} rows …")
        svm_kq = fit_tfidf_svm(frame, index).predict(paragraphs["text"].tolist()).proba["key_question"]
        suggester = suggester_for(EvidenceClassifier.load(index=index))
        suggester.topic_threshold = result.shipped_setting["threshold"]
        suggester.topic_whole_weight = result.shipped_setting["whole_weight"]
        suggester.topic_any_segment = result.shipped_setting["any_segment"]
        result.inspection = inspection_topics(suggester, svm_kq, paragraphs, index.taxonomy.positive_bands,
                                              list(index.taxonomy.key_questions), seed)
    return result


__all__ = ["GRID", "LONG_CHARS", "LabelledText", "Setting", "evaluate_long_stories", "long_stories_markdown",
           "read_long_stories", "run_long_stories", "score_long_topics", "MemoEmbedder", "TopicCounts", "TopicsResult", "bootstrap_interval", "build_texts",
           "choose_setting", "count_topics", "evaluate_topics", "fold_suggesters", "fold_topics", "ShippedRows", "shipped_rows", "multilabel_macro_f1",
           "inspection_topics", "predicted_topics", "run_topics", "summarise_folds", "top_k_sets", "topics_on_grid"]


# -- long texts with labelled topics (``evaluate --long-stories``) ---------------------------------

@dataclass(frozen=True)
class LabelledText:
    """One text of a long-stories file: its ``id``, ``kind``, text, labelled topics
    ``(key question, statement or "", direction or "")`` (framework ids) and main key question."""

    id: str
    kind: str
    text: str
    topics: tuple[tuple[str, str, str], ...]
    main_key_question: str


def _norm(value: str) -> str:
    return " ".join(value.lower().replace("_", " ").replace("-", " ").split())


class _Resolver:
    """Framework ids from what a person may write: the id itself, its title, any case or spacing."""

    def __init__(self, taxonomy: Any) -> None:
        self.taxonomy = taxonomy
        self.kq = {_norm(v): k for k in taxonomy.key_questions for v in (k, taxonomy.title(k))}
        self.statement = {_norm(v): s for s in taxonomy.statements
                          for v in (s, taxonomy.title(s), s.split(".", 1)[-1])}
        self.band = {_norm(v): b for b in taxonomy.bands for v in (b, taxonomy.title(b))}

    def key_question(self, value: Any) -> str | None:
        return self.kq.get(_norm(value)) if isinstance(value, str) else None

    def statement_of(self, value: Any, kq: str) -> str | None:
        """A statement id; a title shared by several statements is resolved within ``kq``."""
        if not isinstance(value, str) or not value.strip():
            return None
        if value in self.taxonomy.statements:
            return value
        found = [s for s in self.taxonomy.statements_of(kq)
                 if _norm(value) in (_norm(s), _norm(self.taxonomy.title(s)), _norm(s.split(".", 1)[-1]))]
        return found[0] if found else self.statement.get(_norm(value))

    def direction(self, direction: Any, band: Any) -> str | None:
        from evidencenlp.taxonomy import DIRECTIONS

        if isinstance(direction, str) and direction.strip():
            d = direction.strip().lower()
            return d if d in DIRECTIONS else None
        b = self.band.get(_norm(band)) if isinstance(band, str) else None
        return self.taxonomy.direction_of(b) if b else ""


def read_long_stories(path: Any, taxonomy: Any) -> tuple[list[LabelledText], list[str]]:
    """The texts of a JSONL file (one object a line: ``id``, ``kind``, ``text``, ``topics`` =
    ``[{key_question, statement, direction, band, span}]``, ``main_key_question``) and the problems
    found: one line each (``file: line N: field: what was expected``), never quoting the text.

    Key questions, statements and bands may be framework ids or titles, in any case; direction is
    ``positive`` / ``negative`` (or, when missing, the direction of the band). A line with a problem is
    skipped (the rest are scored); a topic without a statement is kept for key question and direction.
    """
    import json
    from pathlib import Path

    from evidencenlp.errors import InputFileError

    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read the long-stories file ({type(exc).__name__})") from None
    resolve = _Resolver(taxonomy)
    texts: list[LabelledText] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}: line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{where}: expected a JSON object")
            continue
        text, main = obj.get("text"), resolve.key_question(obj.get("main_key_question"))
        ident = str(obj.get("id", n))
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: text: expected non-empty text")
            continue
        if main is None:
            problems.append(f"{where}: main_key_question: expected one of {', '.join(taxonomy.key_questions)}")
            continue
        raw = obj.get("topics")
        if not isinstance(raw, list) or not raw:
            problems.append(f"{where}: topics: expected a non-empty list of objects")
            continue
        topics: list[tuple[str, str, str]] = []
        for j, t in enumerate(raw, start=1):
            kq = resolve.key_question(t.get("key_question")) if isinstance(t, dict) else None
            if kq is None:
                problems.append(f"{where}: topics[{j}].key_question: expected one of "
                                f"{', '.join(taxonomy.key_questions)}")
                topics = []
                break
            direction = resolve.direction(t.get("direction"), t.get("band"))
            if direction is None:
                problems.append(f"{where}: topics[{j}].direction: expected positive or negative")
                topics = []
                break
            statement = resolve.statement_of(t.get("statement"), kq) or ""
            if t.get("statement") and not statement:
                problems.append(f"{where}: topics[{j}].statement: not a statement of the framework "
                                "(kept for key question and direction)")
            span = t.get("span")
            if isinstance(span, str) and span and span not in text:
                problems.append(f"{where}: topics[{j}].span: not a substring of text (kept; spans are not scored)")
            topics.append((kq, statement, direction))
        if not topics:
            continue
        if ident in seen:
            problems.append(f"{where}: id: repeated (scored again)")
        seen.add(ident)
        texts.append(LabelledText(ident, str(obj.get("kind") or "unknown"), text, tuple(topics), main))
    return texts, problems


def score_long_topics(true: Sequence[Sequence[tuple[str, str, str]]],
                      predicted: Sequence[Sequence[tuple[str, str, str]]]) -> dict[str, float]:
    """Per-topic figures of predicted ``(key question, statement, direction)`` topics against labelled
    ones, text by text: :meth:`TopicCounts.figures` (a predicted topic matches a labelled one with the
    same key question) plus ``statement_match`` — among labelled topics with a statement whose key
    question was found, the share where the matching predicted topic has that statement."""
    counts = count_topics([[(k, d) for k, _, d in t] for t in true], [[(k, d) for k, _, d in p] for p in predicted])
    with_statement = statement_right = 0
    for t, p in zip(true, predicted, strict=True):
        by_kq: dict[str, str] = {}
        by_kq_direction: dict[tuple[str, str], str] = {}  # a topic split by direction: its own side's statement
        for k, s, d in p:
            by_kq.setdefault(k, s)
            by_kq_direction.setdefault((k, d), s)
        for k, s, d in t:
            if s and k in by_kq:
                with_statement += 1
                statement_right += by_kq_direction.get((k, d), by_kq[k]) == s
    out = counts.figures()
    out["statement_match"] = statement_right / with_statement if with_statement else float("nan")
    out["with_statement"] = float(with_statement)
    return out


def _top_k_topics(proba: np.ndarray, classes: Sequence[str], k: Sequence[int], direction: Sequence[str]
                  ) -> list[list[tuple[str, str, str]]]:
    """The SVM's topics: its ``k[i]`` most probable key questions, each with the note's direction."""
    return [[(kq, "", direction[i]) for kq in sorted(s, key=lambda c: -proba[i, list(classes).index(c)])]
            for i, s in enumerate(top_k_sets(proba, classes, k))]


def evaluate_long_stories(texts: Sequence[LabelledText], suggester: Suggester,
                          baselines: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Topics of ``suggester`` on labelled long texts, per ``kind`` and all together.

    Per topic: recall, precision, topics per text and per true topic, direction and statement among
    matched topics (:func:`score_long_topics`). Whole text: key question macro-F1 of the main
    suggestion against ``main_key_question`` (over the key questions labelled main), and the same for
    each of ``baselines`` (name → a fitted :class:`~evidencenlp.evaluation.baselines.TfidfSvmModel`:
    its top key question; its top *k* key questions as topics, *k* = the number of labelled key
    questions, an oracle, or the classifier's number of topics), with the difference's 95% bootstrap
    interval. JSON-ready; no text.
    """
    baselines = baselines or {}
    suggestions = suggester.suggest_many([t.text for t in texts], sentences=False, evidence=False, topics=True)
    predicted: list[list[tuple[str, str, str]]] = []
    main: list[str] = []
    for s in suggestions:
        topics = []
        for t, (kq, d) in zip(s.topics if s is not None else (), predicted_topics([s])[0]):
            topics.append((kq, t.statement.label, d))
        predicted.append(topics)
        main.append(s.key_question.label if s is not None and s.key_question is not None else "")
    taxonomy = suggester.index.taxonomy
    key_questions = list(taxonomy.key_questions)
    base_proba: dict[str, tuple[np.ndarray, list[str]]] = {}
    for name, model in baselines.items():
        out = model.predict([t.text for t in texts]).proba
        band = out.get("band")
        half = len(taxonomy.bands) // 2
        direction = ([("positive" if b[:half].sum() >= 0.5 else "negative") for b in band] if band is not None
                     else [""] * len(texts))
        base_proba[name] = (out["key_question"], direction)
    kinds = sorted({t.kind for t in texts})
    result: dict[str, Any] = {"texts": len(texts), "kinds": {}}
    for kind in ["all", *kinds]:
        idx = [i for i, t in enumerate(texts) if kind == "all" or t.kind == kind]
        if not idx:
            continue
        true = [list(texts[i].topics) for i in idx]
        pred = [predicted[i] for i in idx]
        y = [texts[i].main_key_question for i in idx]
        labels = sorted(set(y))
        entry: dict[str, Any] = {"classifier": {**{k: _r(v) for k, v in score_long_topics(true, pred).items()},
                                                "main_kq_macro_f1": _r(multilabel_macro_f1(
                                                    [{v} for v in y], [{main[i]} for i in idx], labels)),
                                                "main_kq_accuracy": _r(float(np.mean([main[i] == v for i, v
                                                                                      in zip(idx, y)])))}}
        n_true = [len({k for k, _, _ in t}) for t in true]
        n_clf = [max(1, len({k for k, _, _ in p})) for p in pred]  # key questions (a split counts once)
        for name, (proba, direction) in base_proba.items():
            p = proba[idx]
            top1 = [key_questions[int(j)] for j in p.argmax(axis=1)]
            dirs = [direction[i] for i in idx]

            def diff(sample: np.ndarray, y: list[str] = y, top1: list[str] = top1, idx: list[int] = idx,
                     labels: list[str] = labels) -> float:
                t = [{y[j]} for j in sample]
                return (multilabel_macro_f1(t, [{main[idx[j]]} for j in sample], labels)
                        - multilabel_macro_f1(t, [{top1[j]} for j in sample], labels))

            f1 = multilabel_macro_f1([{v} for v in y], [{v} for v in top1], labels)
            lo, hi = bootstrap_interval(diff, len(idx), seed=seed)
            entry[name] = {
                "main_kq_macro_f1": _r(f1),
                "main_kq_accuracy": _r(float(np.mean([a == b for a, b in zip(top1, y)]))),
                "classifier_minus_baseline": _r(entry["classifier"]["main_kq_macro_f1"] - f1),
                "classifier_minus_baseline_95ci": [_r(lo), _r(hi)],
                "topics_top_k_true": {k: _r(v) for k, v in score_long_topics(
                    true, _top_k_topics(p, key_questions, n_true, dirs)).items()},
                "topics_top_k_classifier": {k: _r(v) for k, v in score_long_topics(
                    true, _top_k_topics(p, key_questions, n_clf, dirs)).items()}}
        result["kinds"][kind] = {"n": len(idx), **entry}
    return result


def long_stories_markdown(result: dict[str, Any]) -> list[str]:
    """:func:`evaluate_long_stories`'s figures as Markdown lines (one row per kind × model)."""
    def fmt(v: Any) -> str:
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| texts | n | model | topic recall | precision | topics / text | topics / true topic | "
             "direction / matched topic | direction precision | statement / matched topic | main kq macro-F1 | "
             "main kq accuracy |",
             "|" + "---|" * 12]
    for kind, e in result["kinds"].items():
        c = e["classifier"]
        lines.append(f"| {kind} | {e['n']} | classifier topics | {fmt(c['recall'])} | {fmt(c['precision'])} | "
                     f"{fmt(c['topics_per_text'])} | {fmt(c['topics_per_true_topic'])} | "
                     f"{fmt(c['direction_per_topic'])} | {fmt(c.get('direction_precision'))} | "
                     f"{fmt(c['statement_match'])} | "
                     f"{fmt(c['main_kq_macro_f1'])} | {fmt(c['main_kq_accuracy'])} |")
        for name, b in e.items():
            if name in ("n", "classifier"):
                continue
            for which, label in (("topics_top_k_true", "top k (true k)"),
                                 ("topics_top_k_classifier", "top k (classifier's k)")):
                t = b[which]
                first = which == "topics_top_k_true"
                lines.append(f"| {kind} | {e['n']} | {name} {label} | {fmt(t['recall'])} | {fmt(t['precision'])} | "
                             f"{fmt(t['topics_per_text'])} | {fmt(t['topics_per_true_topic'])} | "
                             f"{fmt(t['direction_per_topic'])} | {fmt(t.get('direction_precision'))} | – | "
                             f"{fmt(b['main_kq_macro_f1']) if first else ''} | "
                             f"{fmt(b['main_kq_accuracy']) if first else ''} |")
    lines.append("")
    for kind, e in result["kinds"].items():
        for name, b in e.items():
            if name not in ("n", "classifier"):
                lo, hi = b["classifier_minus_baseline_95ci"]
                lines.append(f"{kind}: main key question macro-F1, classifier minus {name}: "
                             f"{fmt(b['classifier_minus_baseline'])} [{fmt(lo)}, {fmt(hi)}]")
    return lines


def run_long_stories(path: Any, phase1: Any | None = None, models: Any | None = None, seed: int = 0,
                     min_confidence: str = "medium", log: Log | None = None) -> dict[str, Any]:
    """``evaluate --long-stories``: read ``path`` (:func:`read_long_stories`), score the shipped (or
    ``models``) suggester's topics on it and, with the phase-1 file ``phase1``, two TF-IDF + linear SVM
    baselines: one fitted on all phase-1 comments (the SAF mapping of ``train --phase1``), one on the
    rows the shipped classifier is trained on (corpus, framework examples, those comments and the assessment
    bundles its provenance names)."""
    from evidencenlp.evaluation.transfer import fit_tfidf_svm
    from evidencenlp.suggest import Suggester

    say = log or (lambda _m: None)
    suggester = Suggester.load(models)
    index = suggester.index
    texts, problems = read_long_stories(path, index.taxonomy)
    say(f"{len(texts):,} texts read, {len(problems):,} problems")
    baselines: dict[str, Any] = {}
    if phase1 is not None:
        frame, missing = model_rows(suggester.classifier.training_data_ or {}, phase1, min_confidence, index)
        if missing:
            problems = [*problems, "the TF-IDF + SVM on the model's rows lacks the assessment bundle folders it was "
                        f"trained on that are not here: {', '.join(missing)}"]
        is_feedback = frame["origin"].str.startswith("phase1").to_numpy()
        say(f"fitting TF-IDF + SVM on {int(is_feedback.sum()):,} phase-1 comments and on all {len(frame):,} rows …")
        baselines["tfidf_svm_phase1"] = fit_tfidf_svm(frame[is_feedback].reset_index(drop=True), index)
        baselines["tfidf_svm_same_rows"] = fit_tfidf_svm(frame, index)
    result = evaluate_long_stories(texts, suggester, baselines, seed) if texts else {"texts": 0, "kinds": {}}
    result["problems"] = problems
    result["topic_setting"] = {"threshold": suggester.topic_threshold, "whole_weight": suggester.topic_whole_weight,
                               "any_segment": suggester.topic_any_segment, "clauses": suggester.topic_clauses}
    return result
