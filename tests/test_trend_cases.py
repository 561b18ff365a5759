"""The scorer of analyst-called trend scenarios: streams drawn by coded labels, hits with a month's slack,
false alerts counted once per location × month × topic, clear errors for a bad case file."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evidencenlp.errors import DataError
from evidencenlp.evaluation.trend_cases import MIN_CODED, judge, read_cases, stream
from evidencenlp.taxonomy import default_taxonomy

TAX = default_taxonomy()
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
KQ = TAX.key_questions[3]
BAD = [b for b in TAX.bands if b in TAX.negative_bands][0]
GOOD = [b for b in TAX.bands if b not in TAX.negative_bands][0]


def pool() -> pd.DataFrame:
    """Coded negative comments about KQ (the tool agrees), and positive comments about another key question."""
    other = TAX.key_questions[0]
    n_neg = MIN_CODED + 10
    return pd.DataFrame({
        "organization": "Trust A",
        "true_key_question": [KQ] * n_neg + [other] * 200,
        "true_polarity": ["negative"] * n_neg + ["positive"] * 200,
        "key_question": [KQ] * n_neg + [other] * 200,
        "statement": [TAX.statements[TAX.statement_kq.index(KQ)]] * n_neg
                     + [TAX.statements[TAX.statement_kq.index(other)]] * 200,
        "band": [BAD] * n_neg + [GOOD] * 200, "reason": ""})


def case(rise: bool) -> dict[str, Any]:
    neg = [5] * 12
    if rise:
        neg[10], neg[11] = 15, 15
    return {"id": "t1" if rise else "t2", "months": MONTHS,
            "locations": {"Site A": {"total": [40] * 12, "negative": {KQ: neg}},
                          "Site B": {"total": [40] * 12, "negative": {KQ: [5] * 12}}},
            "analyst": {"alerts": [{"location": "Site A", "key_question": KQ, "month": "2025-12"}] if rise else []}}


def doubling_detector(tagged: pd.DataFrame) -> list[Any]:
    """Alerts a location-month whose tagged negatives about KQ are over twice its median month (a stand-in)."""
    neg = tagged[(tagged["key_question"] == KQ) & tagged["band"].isin(TAX.negative_bands)]
    out = []
    for loc, g in neg.groupby("location"):
        counts = g.groupby(g["date"].str[:7]).size().reindex(MONTHS, fill_value=0)
        for month, n in counts.items():
            if n > 2 * np.median(counts):
                out.append(SimpleNamespace(location=loc, period=month, key_question=KQ, statement=None,
                                           direction="worse"))
    return out


def test_stream_draws_the_called_counts_by_coded_label() -> None:
    frame = pool()
    rng = np.random.default_rng(0)
    tagged = stream(case(True), frame, {KQ: np.flatnonzero(frame["true_polarity"] == "negative")},
                    np.flatnonzero(frame["true_polarity"] != "negative"), rng)
    a = tagged[tagged["location"] == "Site A"]
    per_month = a[a["band"].isin(TAX.negative_bands)].groupby(a["date"].str[:7]).size()
    assert per_month["2025-12"] == 15 and per_month["2025-01"] == 5
    assert (a.groupby(a["date"].str[:7]).size() == 40).all()


def test_judge_counts_hits_and_false_alerts() -> None:
    report = judge([case(True), case(False)], pool(), TAX, runs=3, backend="fake", summarise=doubling_detector,
                   monitor=False)
    (called,) = report.found
    assert report.found[called] == 1.0  # found in the called month (or the one before) in every draw
    assert report.false_alerts == {"t1": 0.0, "t2": 0.0}
    assert report.quiet == {"t1": False, "t2": True}

    def always_b(tagged: pd.DataFrame) -> list[Any]:
        return [SimpleNamespace(location="Site B", period="2025-06", key_question=KQ, statement=None,
                                direction="worse"),
                SimpleNamespace(location="Site B", period="2025-06", key_question=KQ, statement="x",
                                direction="worse")]  # the same finding at statement level counts once

    noisy = judge([case(False)], pool(), TAX, runs=2, backend="fake", summarise=always_b)
    assert noisy.false_alerts == {"t2": 1.0}  # the same finding in every monthly run counts once
    assert noisy.false_per_100_location_months == pytest.approx(100 / 24)
    latest = judge([case(False)], pool(), TAX, runs=2, backend="fake", summarise=always_b, monitor=False)
    assert latest.false_per_100_location_months == pytest.approx(100 / 2)  # one run: only the latest month tested


def test_writers_rules_tolerate_listed_alerts_and_site_alerts_beside_a_called_key_question() -> None:
    """Strict figures count every unmatched alert; the writers' rules ignore tolerated alerts and a site
    alert where a key question is called, and let any alert there find a called site alert."""
    rise = case(True)
    rise["analyst"]["tolerated"] = [{"location": "Site B", "key_question": KQ, "month": "2025-12"}]
    site_called = case(True)
    site_called["id"] = "t3"
    site_called["analyst"]["alerts"] = [{"location": "Site A", "key_question": None, "month": "2025-12"}]

    def alerts(tagged: pd.DataFrame) -> list[Any]:
        return [SimpleNamespace(location="Site A", period="2025-12", key_question=None, statement=None,
                                direction="worse"),
                SimpleNamespace(location="Site A", period="2025-12", key_question=KQ, statement=None,
                                direction="worse"),
                SimpleNamespace(location="Site B", period="2025-12", key_question=KQ, statement=None,
                                direction="worse")]

    report = judge([rise, site_called], pool(), TAX, runs=2, backend="fake", summarise=alerts, monitor=False)
    # strict: t1's key question found; its site alert and Site B's tolerated alert are false (2 a run);
    # t3's site call found by the site alert; its key question alert and Site B's are false (2 a run)
    assert list(report.found.values()) == [1.0, 1.0]
    assert report.false_alerts == {"t1": 2.0, "t3": 2.0}
    # writers' rules: t1's site alert beside the called key question and the tolerated one are neither;
    # at t3, the key question alert also finds the called site alert, and only Site B's is false
    assert list(report.lenient_found.values()) == [1.0, 1.0]
    assert report.lenient_false_alerts == {"t1": 0.0, "t3": 1.0}
    assert report.to_dict()["lenient"]["false_alerts_per_100_location_months"] == pytest.approx(100 * 1 / 4)


def test_a_tolerated_alert_with_an_unknown_key_question_is_refused(tmp_path: Path) -> None:
    bad = case(True)
    bad["analyst"]["tolerated"] = [{"location": "Site A", "key_question": "not-a-kq", "month": "2025-12"}]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([bad]), encoding="utf-8")
    with pytest.raises(DataError, match="unknown key question or month"):
        read_cases(path, TAX)
    bad["analyst"]["tolerated"] = [{"key_question": KQ, "month": "2025-12"}]  # no location
    path.write_text(json.dumps([bad]), encoding="utf-8")
    with pytest.raises(DataError, match="names no location"):
        read_cases(path, TAX)


def test_monitoring_replays_the_year_month_by_month() -> None:
    """A detector that only looks at the newest month finds a mid-year rise only when run month by month."""
    mid = case(True)
    neg = [5] * 12
    neg[5] = 20
    mid["locations"]["Site A"]["negative"][KQ] = neg
    mid["analyst"]["alerts"][0]["month"] = "2025-06"

    def newest_only(tagged: pd.DataFrame) -> list[Any]:
        newest = tagged["date"].str[:7].max()
        return [a for a in doubling_detector(tagged) if a.period == newest]

    once = judge([mid], pool(), TAX, runs=2, backend="fake", summarise=newest_only, monitor=False)
    monthly = judge([mid], pool(), TAX, runs=2, backend="fake", summarise=newest_only, monitor=True)
    assert list(once.found.values()) == [0.0] and list(monthly.found.values()) == [1.0]


def test_bad_case_files_get_one_clear_error(tmp_path: Path) -> None:
    bad = case(True)
    bad["locations"]["Site A"]["total"] = [40] * 11
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([bad]), encoding="utf-8")
    with pytest.raises(DataError, match="t1.*Site A.*one count a month"):
        read_cases(path, TAX)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable JSON case file"):
        read_cases(path, TAX)
