"""The posterior of a location's ratings: what the published rules give if the inspector confirmed the notes.

A confirmed note is certain; an unreviewed suggestion is not. Instead of scoring each suggestion by
its expected score (which averages a likely serious finding away and keeps a key question full of
probably-inadequate notes at requires improvement), this module draws, many times, a complete set of
confirmed decisions from the suggestions' probabilities and applies the full published rules (statement
scores, key question percentages, thresholds, limiters, overall principles) to each draw:

* each unreviewed note's band is drawn from its band probabilities (calibrated and adapted to the
  location by :mod:`evidencenlp.assess.bands`), once per draw and shared by its placements;
* with ``placements="sample"`` the note is placed on one of its likely statements, drawn with the
  model's probability of each (the remaining probability: on none of them, so it is evidence elsewhere),
  weighing 1 there as a confirmed note does; with ``"weights"`` every placement keeps its probability
  as its weight (the thin-evidence rules then apply as they do to the suggestions);
* confirmed and corrected notes are the same in every draw.

In: one location's records (after :func:`~evidencenlp.assess.bands.adapt_to_location`), the rules, the
weight at which a statement counts in full, the number of draws and the seed. Out: a :class:`Posterior`
with, per key question, the probability of each rating (and of no rating), and the overall rating's.
The same seed gives the same probabilities (numpy's ``default_rng``); the probabilities sum to 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from evidencenlp.assess.bands import full_probabilities
from evidencenlp.assess.model import AssessOptions, statement_is_scored
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.frameworks.rules import RatingRules

EPS = 1e-9
#: the name of "no rating" in the probabilities
UNRATED = "no_rating"
PLACEMENTS: tuple[str, ...] = ("sample", "weights")


@dataclass(frozen=True)
class Posterior:
    """Rating probabilities over the draws (each mapping sums to 1; ``UNRATED``: draws without a rating)."""

    draws: int
    seed: int
    placements: str
    key_questions: dict[str, dict[str, float]]
    overall: dict[str, float]
    #: per key question: the share of draws whose rating a limiter lowered
    limited: dict[str, float]
    #: per key question and rating: the share of the draws with that rating whose rating a limiter lowered
    #: (to it), and the band of the percentage it most often lowered it from (ratings a limiter never set: absent)
    limited_to: dict[str, dict[str, tuple[float, str]]] = field(default_factory=dict)
    #: per key question with rated draws: the mean over them of the key question percentage (unrounded)
    mean_percent: dict[str, float] = field(default_factory=dict)
    #: per key question with rated draws: the share of them whose lowest statement score the limiters see is each
    #: score (``max score + 1``: no statement counting in full, so nothing for a limiter)
    lowest_score: dict[str, dict[int, float]] = field(default_factory=dict)

    def most_probable(self, key_question: str | None, order: Sequence[str]) -> tuple[str | None, float]:
        """The most probable rating among the rated draws (ties to the worse band, ``order`` best-first) and its
        probability; ``(None, 0.0)`` when no draw has a rating. ``key_question`` None: the overall rating."""
        probs = self.overall if key_question is None else self.key_questions[key_question]
        rated = [(probs.get(b, 0.0), i, b) for i, b in enumerate(order) if probs.get(b, 0.0) > 0]
        if not rated:
            return None, 0.0
        p, _, band = max(rated)  # equal probability: the later (worse) band wins
        return band, p


def _bands_of(record: EvidenceRecord, bands: Sequence[str]) -> np.ndarray:
    """A record's probability over ``bands``: certain for a confirmed note or one without full probabilities."""
    full = full_probabilities(record, bands)
    return full if full is not None else np.array([float(b == record.band) for b in bands])


def uncertain(records: Sequence[EvidenceRecord], bands: Sequence[str]) -> bool:
    """True when some unreviewed record has probabilities over every band with more than one possible band
    (a confirmed note, or a suggestion from a tagged table that gives only its band's probability, is certain:
    its draws would all be the same)."""
    return any(not r.confirmed and int((_bands_of(r, bands) > 0).sum()) > 1 for r in records)


def _draw_notes(records: Sequence[EvidenceRecord], bands: Sequence[str], draws: int, seed: int,
                placements: str) -> tuple[np.ndarray, np.ndarray]:
    """Weights (draws x records) and band indices (draws x records) of every draw."""
    rng = np.random.default_rng(seed)
    n = len(records)
    weights = np.zeros((draws, n))
    band_idx = np.zeros((draws, n), dtype=int)
    groups: dict[tuple[str, int, bool], list[int]] = {}
    for i, r in enumerate(records):
        # a confirmed note stands alone; a suggestion's placements share its band
        groups.setdefault((r.note, r.row, r.confirmed) if not r.confirmed else (f"{i}", -1, True), []).append(i)
    for key, idx in groups.items():
        first = records[idx[0]]
        p = _bands_of(first, bands)
        if key[2]:  # confirmed: the same in every draw
            weights[:, idx] = first.weight
            band_idx[:, idx] = int(p.argmax())
            continue
        cum = np.cumsum(p)
        band_idx[:, idx] = np.minimum(np.searchsorted(cum, rng.random(draws) * cum[-1], side="right"),
                                      len(bands) - 1)[:, None]
        w = np.array([max(0.0, records[i].weight) for i in idx])
        if placements == "weights":
            weights[:, idx] = w
            continue
        total = w.sum()
        options = np.append(w, max(0.0, 1.0 - total)) / max(total, 1.0)
        cum_w = np.cumsum(options)
        pick = np.searchsorted(cum_w, rng.random(draws) * cum_w[-1], side="right")
        for j, i in enumerate(idx):
            weights[:, i] = (pick == j).astype(float)
    return weights, band_idx


def sample_posterior(records: Sequence[EvidenceRecord], rules: RatingRules, full_weight: float, draws: int = 4000,
                     seed: int = 0, placements: str = "weights", regulation_breach: bool = False,
                     options: AssessOptions | None = None) -> Posterior:
    """Draw ``draws`` complete sets of decisions and rate each with the framework's rules (see the module).

    ``options`` (default :class:`AssessOptions`): a statement is scored in a draw under the same rule as
    :func:`~evidencenlp.assess.scoring.assess_statement` (:func:`~evidencenlp.assess.model.statement_is_scored`:
    ``min_notes`` notes, weighing more than nothing), counting with ``"sample"`` the notes the draw placed on it.
    """
    options = options or AssessOptions()
    if placements not in PLACEMENTS:
        raise ValueError(f"placements: expected one of {', '.join(PLACEMENTS)}; got {placements!r}")
    tax = rules.taxonomy
    bands = tuple(tax.bands)
    policy = rules.evidence
    max_score = rules.max_score
    score_of = np.array([float(tax.band_score(b)) for b in bands])
    worst = bands.index(policy.serious_finding_band) if policy.serious_finding_band in bands else None
    statements = sorted({r.statement for r in records}, key=lambda s: tax.statements.index(s)
                        if s in tax.statements else len(tax.statements))
    st_col = {s: j for j, s in enumerate(statements)}
    onehot = np.zeros((len(records), len(statements)))
    for i, r in enumerate(records):
        onehot[i, st_col[r.statement]] = 1.0
    weights, band_idx = _draw_notes(records, bands, draws, seed, placements)

    wsum = weights @ onehot                                   # draws x statements
    ssum = (weights * score_of[band_idx]) @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(wsum > EPS, ssum / np.maximum(wsum, EPS), 0.0)
    score = np.ceil(mean - 0.5 - EPS)                         # an exact half goes to the lower score
    share = np.clip(wsum / full_weight, 0.0, 1.0) if full_weight > 0 else (wsum > EPS).astype(float)
    # the notes on each statement in each draw: every placement (as assess_statement counts them), except
    # that a sampled suggestion is there only in the draws that placed it
    present = np.ones_like(weights)
    if placements == "sample":
        sampled = np.array([not r.confirmed for r in records], dtype=bool)
        present[:, sampled] = (weights[:, sampled] > 0).astype(float)
    scored = statement_is_scored(present @ onehot, wsum, options)
    share = np.where(scored, share, 0.0)
    serious = np.zeros_like(wsum, dtype=bool)
    if worst is not None:
        shares = weights * (band_idx == worst)
        total = shares @ onehot
        alone = np.zeros_like(wsum)
        for j in st_col.values():
            members = onehot[:, j] > 0
            alone[:, j] = shares[:, members].max(axis=1)
        serious = ((alone > EPS) & (alone >= policy.serious_finding_min_confidence - EPS)) | (
            total >= policy.serious_finding_expected_count - EPS)
        serious &= scored
    floor = policy.serious_finding_counts_as_score
    if policy.serious_finding_scores_statement:
        score = np.where(serious, np.minimum(score, floor), score)
    seen = np.where(share >= 1 - EPS, score, max_score + 1)
    seen = np.where(serious, np.minimum(seen, floor), seen)

    # the thresholds and limiters, read from the rules once per possible value
    range_of = np.array([bands.index(rules.percent_band(float(p)).band) for p in range(0, 101)])
    limit_table: dict[tuple[int, int], int] = {}

    def limited(range_band: int, low: int) -> int:
        key = (range_band, low)
        if key not in limit_table:
            lim = rules.limiter_for(bands[range_band], [low] if low <= max_score else [])
            limit_table[key] = bands.index(lim.limit_to) if lim is not None else range_band
        return limit_table[key]

    ratings: dict[str, np.ndarray] = {}
    limited_share: dict[str, float] = {}
    limited_to: dict[str, dict[str, tuple[float, str]]] = {}
    mean_percent: dict[str, float] = {}
    lowest_score: dict[str, dict[int, float]] = {}
    for kq in tax.key_questions:
        cols = [st_col[s] for s in statements if tax.key_question_of(s) == kq]
        rating = np.full(draws, -1, dtype=int)
        if cols:
            sh = share[:, cols]
            counted = sh.sum(axis=1)
            rated = counted > EPS
            with np.errstate(invalid="ignore", divide="ignore"):
                exact = np.where(rated, (score[:, cols] * sh).sum(axis=1) / (max_score * np.maximum(counted, EPS))
                                 * 100, 0.0)
            rounded = np.clip(np.floor(exact + 0.5 + 1e-9).astype(int), 0, 100)
            rng_band = range_of[rounded]
            low = np.where(sh > EPS, seen[:, cols], max_score + 1).min(axis=1).astype(int)
            final = np.array([limited(int(b), int(lo)) for b, lo in zip(rng_band, low)])
            rating = np.where(rated, final, -1)
            if rated.any():
                mean_percent[kq] = float(exact[rated].mean())
                lows, counts = np.unique(low[rated], return_counts=True)
                lowest_score[kq] = {int(v): float(c / rated.sum()) for v, c in zip(lows, counts)}
            lowered = rated & (final != rng_band)
            limited_share[kq] = float(np.mean(lowered))
            limited_to[kq] = {}
            for b in np.unique(final[lowered]):
                mask = rated & (final == b)
                froms = rng_band[lowered & mask]
                limited_to[kq][bands[int(b)]] = (float(len(froms) / mask.sum()),
                                                 bands[int(np.bincount(froms).argmax())])
        else:
            limited_share[kq] = 0.0
        ratings[kq] = rating

    stand_in = policy.unrated_key_question_counts_as or bands[-1]
    overall_cache: dict[tuple[int, ...], int] = {}
    stacked = np.stack([ratings[kq] for kq in tax.key_questions], axis=1)
    overall = np.full(draws, -1, dtype=int)
    for d in range(draws):
        key = tuple(int(v) for v in stacked[d])
        if key not in overall_cache:
            got = [bands[v] for v in key if v >= 0]
            result = (rules.overall_rating([*got, *[stand_in] * (len(key) - len(got))], regulation_breach)
                      if got else None)
            overall_cache[key] = bands.index(result.rating) if result is not None else -1
        overall[d] = overall_cache[key]
    return Posterior(draws, seed, placements, {kq: _probabilities(ratings[kq], bands) for kq in tax.key_questions},
                     _probabilities(overall, bands), limited_share, limited_to, mean_percent, lowest_score)


def _probabilities(values: np.ndarray, bands: Sequence[str]) -> dict[str, float]:
    n = max(len(values), 1)
    out = {b: float(np.sum(values == i)) / n for i, b in enumerate(bands)}
    out[UNRATED] = float(np.sum(values < 0)) / n
    return out


def probabilities_text(probs: Mapping[str, float]) -> str:
    """E.g. ``good 0.62, requires_improvement 0.35, inadequate 0.03`` (non-zero only, most probable first)."""
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(probs.items(), key=lambda kv: -kv[1]) if v > 0)
