"""``summarise``: lenient dates and periods, the tables, the surveillance test (steady, national,
volume and injected shifts), abstentions, the JSON contract, the terminal table and the file outputs. Hand-made tagged frames: no encoder needed,
except one end-to-end run that tags a 30-row slice of the bundled example."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import write_table
from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.trends import (
    UNDATED,
    SummaryConfig,
    assign_periods,
    normalise_frame,
    parse_dates,
    spreadsheet_safe,
    summarise_file,
    summarise_frame,
    surveillance_test,
    wilson_interval,
)

REPO = Path(__file__).resolve().parents[1]
TAX = default_taxonomy()
PERIOD_RE = {"month": r"^\d{4}-\d{2}$", "week": r"^\d{4}-W\d{2}$", "quarter": r"^\d{4}-Q[1-4]$"}


def tagged_frame(seed: int = 1, months: int = 8, per_cell: int = 30, share: float = 0.2,
                 locations: tuple[str, ...] = ("Ashby", "Bramley", "Corton", "Dunmore"),
                 shift: dict[tuple[str, str, int], float] | None = None,
                 national: dict[int, float] | None = None) -> pd.DataFrame:
    """A tagged table: ``per_cell`` comments per location × key question × month (2024-01 …), negative with
    probability ``share``; ``shift[(location, key question, month index)]`` and ``national[month index]``
    override it. Labels come from the taxonomy; nothing is hard-coded."""
    rng = np.random.default_rng(seed)
    pos, neg = TAX.positive_bands, TAX.negative_bands
    rows = []
    for loc in locations:
        for m in range(months):
            for kq in TAX.key_questions:
                p = (national or {}).get(m, share)
                p = (shift or {}).get((loc, kq, m), p)
                statements = TAX.statements_of(kq)
                for i in range(per_cell):
                    bad = rng.random() < p
                    band = neg[i % len(neg)] if bad else pos[i % len(pos)]
                    day = dt.date(2024, m + 1, 1 + i % 28)
                    rows.append({"id": f"r{len(rows)}", "location": loc, "date": day.isoformat(),
                                 "text": f"{'bad' if bad else 'fine'} comment {len(rows)}",
                                 "key_question": kq, "statement": statements[i % len(statements)],
                                 "evidence_category": TAX.categories[0], "band": band, "band_score": 0.8})
    return pd.DataFrame(rows)


def normal(frame: pd.DataFrame) -> pd.DataFrame:
    return normalise_frame(frame, TAX, location_column="location", date_column="date", text_column="text")


# -- dates and periods ------------------------------------------------------------------------------

def test_parse_dates_is_lenient_and_never_guesses_a_year() -> None:
    raw = pd.Series(["2024-03-05", "05/03/2024", "5 March 2024", "Mar 7 2024", "2024-03-05T23:30:00+01:00",
                     "03/04/24", "last Tuesday", "5 March", "", None, "n/a", dt.datetime(2024, 2, 1, 9, 0)])
    got = parse_dates(raw)
    assert len(got) == len(raw)
    assert [d.strftime("%Y-%m-%d") if not pd.isna(d) else None for d in got] == [
        "2024-03-05", "2024-03-05", "2024-03-05", "2024-03-07", "2024-03-05", "2024-04-03",
        None, None, None, None, None, "2024-02-01"]


@pytest.mark.parametrize(("kind", "expected"), [
    ("month", ["2023-12", "2024-01", UNDATED]),
    ("week", ["2023-W52", "2024-W01", UNDATED]),
    ("quarter", ["2023-Q4", "2024-Q1", UNDATED]),
])
def test_period_labels(kind: str, expected: list[str]) -> None:
    dates = parse_dates(pd.Series(["2023-12-31", "2024-01-01", "whenever"]))
    labels, calendar = assign_periods(dates, kind)
    assert labels.tolist() == expected
    assert calendar == expected[:2] and all(re.match(PERIOD_RE[kind], p) for p in calendar)


def test_calendar_has_no_gaps() -> None:
    _, calendar = assign_periods(parse_dates(pd.Series(["2024-01-10", "2024-04-02"])), "month")
    assert calendar == ["2024-01", "2024-02", "2024-03", "2024-04"]


def test_wilson_interval() -> None:
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 0]))
    assert lo[0] == 0 and 0.277 < hi[0] < 0.278        # 0/10 → [0, 0.278]
    assert 0.23 < lo[1] < 0.24 and 0.76 < hi[1] < 0.77  # 5/10 → [0.237, 0.763]
    assert np.isnan(lo[2]) and np.isnan(hi[2])


# -- tables ------------------------------------------------------------------------------------------

def test_groups_counts_shares_small_cells_undated_and_redacted_examples() -> None:
    neg, pos = TAX.negative_bands[0], TAX.positive_bands[0]
    kq = TAX.key_questions[0]
    st = TAX.statements_of(kq)[0]
    frame = pd.DataFrame({
        "location": ["North"] * 6 + ["South"],
        "date": ["2024-01-03", "04/01/2024", "2024-01-20", "2024-02-01", "last Tuesday", "", "2024-02-09"],
        "text": ["ring 07700 900123 now", "ok", "fine", "=HYPERLINK(\"x\")", "lost", "", "good"],
        "key_question": [kq] * 7, "statement": [st] * 7, "evidence_category": [TAX.categories[0]] * 7,
        "band": [neg, pos, neg, pos, neg, "", pos],
    })
    s = summarise_frame(normal(frame), TAX, SummaryConfig(min_cell=3, examples=2))
    assert (s.rows, s.tagged, s.blank, s.undated) == (7, 6, 1, 1)
    assert s.periods == ["2024-01", "2024-02", UNDATED] and s.locations == ["North", "South"]
    assert s.undated_values == [(5, "last Tuesday")]
    g = s.groups.set_index(["location", "period", "dimension", "label"])
    jan = g.loc[("North", "2024-01", "all", "all")]
    assert (jan["n"], jan["negative"]) == (3, 2) and jan["negative_share"] == pytest.approx(2 / 3)
    assert not jan["small"] and g.loc[("North", "2024-02", "all", "all")]["small"]  # n=1 < 3: marked, kept
    assert jan["ci_low"] < 2 / 3 < jan["ci_high"]
    assert g.loc[("North", UNDATED, "band", neg)]["n"] == 1
    assert jan["examples"][0] == "ring [PHONE] now"  # negative first, redacted
    for dim in ("key_question", "statement", "evidence_category", "band"):
        assert g.xs(("North", "2024-01", dim), level=(0, 1, 2))["n"].sum() == 3
    assert s.top_statements.iloc[0]["statement"] == st
    assert spreadsheet_safe(g.loc[("North", "2024-02", "all", "all")]["examples"]) == "'=HYPERLINK(\"x\")"


def test_unknown_label_names_row_and_column() -> None:
    frame = tagged_frame(months=1, per_cell=1, locations=("A",))
    frame.loc[3, "band"] = "splendid"
    with pytest.raises(InputFileError, match=r"data row 4: column 'band': unknown band 'splendid'"):
        normal(frame)
    frame = tagged_frame(months=1, per_cell=1, locations=("A",))
    frame.loc[0, "statement"] = TAX.statements_of(TAX.key_questions[1])[0]
    with pytest.raises(InputFileError, match=r"data row 1: column 'statement'.*is not a statement of"):
        normal(frame)


# -- the detector ------------------------------------------------------------------------------------

def _stream(seed: int, locations: int = 4, periods: int = 12, volume: float = 60.0, share: float = 0.25,
            rise: float = 1.0, volume_factor: float = 1.0, everywhere: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Target (negatives) and reference (other comments) arrays (L, 1, P); the last two periods changed
    at location 0 (or everywhere): negatives × ``rise`` added, or the volume × ``volume_factor``."""
    rng = np.random.default_rng(seed)
    vol = np.full((locations, 1, periods), volume)
    neg = np.full((locations, 1, periods), volume * share)
    rows = slice(None) if everywhere else slice(0, 1)
    vol[rows, :, -2:] *= volume_factor
    neg[rows, :, -2:] *= volume_factor
    extra = np.zeros_like(neg)
    extra[rows, :, -2:] = (rise - 1) * volume * share
    return rng.poisson(neg + extra), rng.poisson(vol - neg)


def test_surveillance_test_flags_a_rise_not_volume_nor_a_national_shift() -> None:
    def p_last(y: np.ndarray, r: np.ndarray) -> np.ndarray:
        return surveillance_test(y, r, volume="rise").p_worse[:, 0, -1]

    hits = [p_last(*_stream(s, rise=2.0))[0] for s in range(20)]
    assert np.mean(np.array(hits) < 0.01) >= 0.7
    for kind in ({}, {"volume_factor": 2.0}, {"rise": 2.0, "everywhere": True}):
        smallest = [p_last(*_stream(100 + s, **kind)).min() for s in range(20)]  # type: ignore[arg-type]
        assert np.mean(np.array(smallest) < 0.01) <= 0.1, kind
    # a plain count test is fooled by the volume doubling: the reason the count follows the volume
    fooled = [surveillance_test(*_stream(200 + s, volume_factor=2.0), volume="none").p_worse[0, 0, -1]
              for s in range(20)]
    assert np.mean(np.array(fooled) < 0.01) >= 0.8


def test_shift_posterior_ignores_noise_and_allows_a_clear_shift_in_full() -> None:
    from evidencenlp.trends.stats import shift_posterior

    se = 0.2
    est = np.array([-3 * se, 0.0, se, 2 * se, np.log(2.0), 5 * se])
    mean, var = shift_posterior(est, np.full_like(est, se * se), 0.5, 1.0)
    assert np.all(np.diff(mean) > 0)  # smooth and increasing in the estimate: no gate
    assert mean[0] < 0.02 and var[0] < 0.01  # a fall elsewhere does not raise the expectation
    assert mean[1] < 0.05 and mean[2] < 0.5 * se  # noise moves it little
    assert abs(mean[4] - np.log(2.0)) < 0.1 and var[4] < 2 * se * se  # a clear doubling: in full, its noise kept
    # the doubt about whether there was a shift widens the test most in between
    assert var[3] > var[1] and var[3] > var[4]
    # the rarer shifts are a priori, the less noise moves the expectation
    rare, _ = shift_posterior(est, np.full_like(est, se * se), 0.1, 1.0)
    assert np.all(rare <= mean + 1e-12)


def test_the_prior_of_a_national_shift_is_learnt_from_every_location_and_topic() -> None:
    from evidencenlp.trends.stats import estimated_shift_prior

    rng = np.random.default_rng(5)
    se = 0.2
    noise = rng.normal(0, se, size=(3, 6, 1))  # period 0: no shift anywhere
    shifted = noise + np.log(2.0)  # period 1: every location and topic rose ×2
    est = np.concatenate([noise, shifted], axis=-1)
    prior = estimated_shift_prior(est, np.full_like(est, se * se), np.ones_like(est, dtype=bool))
    assert prior.shape == (1, 1, 2)
    assert prior[0, 0, 0] < 0.2 < 0.9 < prior[0, 0, 1]


def test_weighted_bh_spends_the_error_rate_where_the_weights_say() -> None:
    from evidencenlp.trends.stats import bh_qvalues, weighted_bh_qvalues

    rng = np.random.default_rng(3)
    p = rng.uniform(size=12) ** 3
    np.testing.assert_allclose(weighted_bh_qvalues(p, np.full(12, 7.0)), bh_qvalues(p))  # equal weights: plain BH
    w = np.r_[np.full(2, 5.0), np.full(10, 0.5)]
    q = weighted_bh_qvalues(p, w)
    np.testing.assert_allclose(q, bh_qvalues(np.minimum(p / (w * 12 / w.sum()), 1.0)))
    assert q[0] < bh_qvalues(p)[0] or p[0] > 0.5  # an up-weighted test needs less evidence
    # under the global null the weighted procedure still rejects in about fdr of the families
    rejected = [(weighted_bh_qvalues(rng.uniform(size=12), w) <= 0.05).any() for _ in range(4000)]
    assert np.mean(rejected) < 0.065
    with pytest.raises(ValueError):
        weighted_bh_qvalues(p, -w)


def test_surveillance_test_shapes_windows_and_baseline_rules() -> None:
    y = np.array([[[4, 4, 4, 16]], [[4, 4, 4, 4]]])
    r = np.full_like(y, 16)
    res = surveillance_test(y, r, windows=(1, 2), min_baseline_periods=2, national=False)
    assert res.eligible[:, 0].tolist() == [[False, False, True, True], [False, False, True, True]]
    one, two = res.windows
    assert one.baseline_target[0, 0, 3] == 12 and one.baseline_periods[0, 0, 3] == 3
    assert two.observed[0, 0, 3] == 20 and two.baseline_target[0, 0, 3] == 8  # window 2: periods 3-4 vs 1-2
    assert res.p_worse[0, 0, 3] < 0.01 and res.p_worse[1, 0, 3] > 0.3
    capped = surveillance_test(y, r, windows=(1,), baseline=1, min_baseline_periods=1, national=False)
    assert capped.windows[0].baseline_target[0, 0, 3] == 4
    with pytest.raises(ValueError):
        surveillance_test(y, r[:1])


def test_summary_flags_an_injected_local_rise_only() -> None:
    kq = TAX.key_questions[0]
    steady = summarise_frame(normal(tagged_frame(seed=3)), TAX)
    assert steady.alerts == [] and steady.family_size > 0
    for rise in (0.4, 0.6):  # every location rose (the original case tripled the share): national, not local
        national = summarise_frame(normal(tagged_frame(seed=4, national={7: rise})), TAX)
        assert national.alerts == [], rise
    shifted = summarise_frame(normal(tagged_frame(seed=5, shift={("Bramley", kq, 7): 0.7})), TAX)
    hits = [a for a in shifted.alerts if a.location == "Bramley" and a.key_question == kq and a.period == "2024-08"]
    assert hits and all(a.direction == "worse" for a in hits)
    top = next(a for a in hits if a.statement is None)
    assert top.observed > top.expected and top.q_value <= 0.05 and top.ratio > 2
    assert top.kind in ("kq_count", "kq_share") and top.window[-1] == "2024-08"
    assert top.baseline_periods >= 2 and top.baseline_observed > 0
    assert all(a.location == "Bramley" for a in shifted.alerts)
    assert top.examples and all(t.startswith("bad") for t in top.examples)
    assert shifted.tests and all(0 <= t.p_value <= 1 and t.q_value >= t.p_value for t in shifted.tests)


def test_a_fall_is_flagged_better() -> None:
    kq = TAX.key_questions[2]
    s = summarise_frame(normal(tagged_frame(seed=6, share=0.5, shift={("Corton", kq, 7): 0.05})), TAX,
                        SummaryConfig(improvements=True))
    assert any(a.location == "Corton" and a.key_question == kq and a.direction == "better" for a in s.alerts)


# -- files and the command line ---------------------------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evidencenlp", *args], capture_output=True, text=True,
                          env={**os.environ}, timeout=600)


def invoke(*args: str):
    """The command in-process (the CLI import is slow; one real process below checks the error path)."""
    from typer.testing import CliRunner

    from evidencenlp.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_json_contract_and_outputs(tmp_path: Path) -> None:
    kq = TAX.key_questions[0]
    frame = tagged_frame(seed=5, shift={("Bramley", kq, 7): 0.7})
    frame.loc[0, "date"] = "last Tuesday"
    frame.loc[1, "text"] = "=cmd|' /C calc'!A0"
    src = tmp_path / "tagged.csv"
    write_table(frame, src)
    out_json, out_xlsx, report = (tmp_path / n for n in ("s.json", "s.xlsx", "r.html"))
    res = invoke("summarise", str(src), "--format", "json", "-o", str(out_xlsx), "--report", str(report))
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert set(d) >= {"alerts", "groups", "undated", "method", "periods"}
    assert d["undated"] == 1 and "1 comments have a missing or unparseable date" in res.stderr
    assert "'last Tuesday' (data row 1)" in res.stderr
    assert d["alerts"], "the injected rise must be flagged"
    for a in d["alerts"]:
        assert {"kind", "location", "period", "window", "key_question", "statement", "direction", "observed",
                "expected", "reference", "baseline_observed", "p_value", "q_value", "ratio"} <= set(a)
        assert a["direction"] in ("worse", "better") and re.match(PERIOD_RE["month"], a["period"])
        assert "examples" not in a
    assert any(a["location"] == "Bramley" and a["key_question"] == kq and a["statement"] is None
               and a["direction"] == "worse" for a in d["alerts"])
    assert len(d["tests"]) >= d["family_size"] > len(d["alerts"])  # every test, with its counts, p and q
    assert all({"observed", "expected", "p_value", "q_value", "kind"} <= set(t) for t in d["tests"])
    assert all(re.match(PERIOD_RE["month"], g["period"]) or g["period"] == UNDATED for g in d["groups"])
    assert "bad comment" not in res.stdout and "examples" not in d["groups"][0]  # no note text on stdout
    from openpyxl import load_workbook

    wb = load_workbook(out_xlsx)
    assert wb.sheetnames == ["alerts", "tests", "groups", "top statements", "about"]
    cells = [c for row in wb["groups"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any(c.startswith("'=cmd") for c in cells) and not any(c.startswith("=") for c in cells)
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave nothing behind

    week = invoke("summarise", str(src), "--period", "week", "--format", "json", "-o", str(out_json))
    assert week.exit_code == 0, week.output
    assert all(re.match(PERIOD_RE["week"], p) for p in json.loads(week.stdout)["periods"] if p != UNDATED)
    assert json.loads(out_json.read_text())["groups"][0]["examples"] is not None  # the file keeps examples
    table = invoke("summarise", str(src), "--period", "quarter")
    assert table.exit_code == 0 and "Bramley" in table.stdout and "bad comment" not in table.stdout
    missing = invoke("summarise", str(src), "--date-column", "when")
    assert isinstance(missing.exception, InputFileError) and "no column 'when'; columns found" in str(missing.exception)
    assert invoke("summarise", str(src), "--period", "fortnight").exit_code == 2


def test_cli_bad_input_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    bad = tagged_frame(seed=5, months=3, per_cell=2, locations=("A",))
    bad.loc[4, "band"] = "splendid"
    write_table(bad, tmp_path / "bad.csv")
    err = run("summarise", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "s.csv"))
    assert err.returncode == 2 and "Traceback" not in err.stderr
    assert "data row 5: column 'band': unknown band 'splendid'" in err.stderr
    assert not (tmp_path / "s.csv").exists()


def test_file_outputs_csv_siblings(tmp_path: Path) -> None:
    from evidencenlp.trends.report import write_tables

    s = summarise_frame(normal(tagged_frame(seed=5, months=4, locations=("A", "B"))), TAX)
    written = write_tables(s, tmp_path / "summary.csv")
    assert [p.name for p in written] == ["summary.csv", "summary-alerts.csv", "summary-tests.csv",
                                         "summary-statements.csv"]
    groups = pd.read_csv(written[0])
    assert list(groups.columns)[:6] == ["location", "period", "dimension", "label", "n", "negative"]
    assert len(groups) == len(s.groups)


def test_end_to_end_raw_slice_is_tagged_first(tmp_path: Path, suggester, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencenlp.tagging import SuggesterSpec

    raw = pd.read_csv(REPO / "examples" / "feedback.csv", dtype=str, keep_default_na=False)
    assert {"id", "location", "date", "text"} <= set(raw.columns) and 300 <= len(raw) <= 600
    part = raw.iloc[:30].copy()
    part.loc[part.index[0], "text"] = "Call 07700 900123 about Mum, the call bell went unanswered for an hour."
    src = tmp_path / "raw.csv"
    write_table(part, src)
    monkeypatch.setattr(SuggesterSpec, "load", lambda self: suggester)  # the session's loaded models
    s = summarise_file(src, SummaryConfig(period="week"), suggester=SuggesterSpec())
    assert s.rows == 30 and s.tagged == 30
    texts = [t for ex in s.groups["examples"] for t in ex]
    assert texts and not any("07700" in t for t in texts)
    assert set(s.locations) <= set(raw["location"])


def test_abstained_rows_are_counted_by_reason_not_as_blank() -> None:
    frame = tagged_frame(seed=8, months=3, per_cell=4, locations=("A",))
    for col in ("key_question", "statement", "evidence_category", "band"):
        frame.loc[[0, 1, 2], col] = ""
    frame["reason"] = ""
    frame.loc[[0, 1], "reason"] = "no_content"
    frame.loc[2, "reason"] = "not_english"
    frame.loc[3, ["key_question", "statement", "evidence_category", "band", "text"]] = ""  # truly blank
    s = summarise_frame(normalise_frame(frame, TAX), TAX)
    assert s.abstained == {"no_content": 2, "not_english": 1} and s.blank == 1
    assert s.tagged == len(frame) - 4
    g = s.groups
    jan = g[(g["period"] == "2024-01") & (g["dimension"] == "all")].iloc[0]
    assert jan["n"] == (frame["date"].str.startswith("2024-01").sum() - 1)  # abstained count as comments
    reasons = g[g["dimension"] == "abstained"].groupby("label")["n"].sum().to_dict()
    assert reasons == {"no_content": 2, "not_english": 1}
    assert s.to_dict()["abstained"] == {"no_content": 2, "not_english": 1}


def test_terminal_table_says_which_periods_it_left_out(tmp_path: Path) -> None:
    from rich.console import Console

    from evidencenlp.cli import summarise as cli

    s = summarise_frame(normal(tagged_frame(seed=9, months=12, per_cell=3, locations=("A", "B"))), TAX)
    for width, expect_all in ((250, True), (80, False)):
        cli.console = Console(width=width, record=True)
        cli.print_table(s)
        out = cli.console.export_text()
        assert ("2024-02" in out) is expect_all and "2024-12" in out
        assert ("left out" in out) is (not expect_all)
        if not expect_all:
            assert "--format json" in out and "--report" in out


def test_quarters_with_too_few_periods_say_why_no_test_ran(tmp_path: Path) -> None:
    frame = tagged_frame(seed=10, months=6, per_cell=4, locations=("A", "B"))
    src = tmp_path / "six-months.csv"
    write_table(frame, src)
    res = invoke("summarise", str(src), "--period", "quarter")
    assert res.exit_code == 0, res.output
    assert "No test ran: 2 quarterly periods" in res.stdout and "use a shorter --period" in res.stdout
    d = json.loads(invoke("summarise", str(src), "--period", "quarter", "--format", "json").stdout)
    assert d["tests"] == [] and d["no_test_reason"].startswith("2 quarterly periods")


def test_weighted_simes_spends_the_error_rate_by_weight_and_stays_valid() -> None:
    from evidencenlp.trends.stats import simes

    p = np.array([[0.01, 0.04], [0.03, 0.02], [0.5, 0.2]])
    np.testing.assert_allclose(simes(p, (1.0, 1.0)), simes(p))  # equal weights: the plain rule
    # two p-values: min(p_(1)/w_(1), p_(2)), the weight of the smaller p first
    np.testing.assert_allclose(simes(p, (0.3, 0.7)), [min(0.01 / 0.3, 0.04), min(0.02 / 0.7, 0.03), 0.2 / 0.7])
    rng = np.random.default_rng(4)
    u = rng.uniform(size=(20000, 2))
    assert np.mean(simes(u, (0.3, 0.7)) <= 0.05) < 0.056  # independent nulls: level kept
    with pytest.raises(ValueError):
        simes(p, (0.5, -0.5))


def test_a_local_rise_does_not_raise_its_own_national_prior() -> None:
    from evidencenlp.trends.stats import others_shift_prior

    rng = np.random.default_rng(6)
    se = 0.2
    noise = rng.normal(0, se, size=(3, 5, 1))
    local = noise.copy()
    local[0, 0, 0] += np.log(3.0)  # one location rose in one topic
    national = noise.copy()
    national[:, 0, 0] += np.log(3.0)  # every location rose in that topic
    var, use = np.full_like(noise, se * se), np.ones_like(noise, dtype=bool)
    p_local, p_national = others_shift_prior(local, var, use), others_shift_prior(national, var, use)
    assert p_local.shape == (3, 1, 1)
    # location 0's prior is learnt from the others, who did not rise; theirs sees location 0's rise
    # (a Beta(1, 1) hyperprior over 2 × 5 estimates keeps about 1/12 when nothing rose)
    assert p_local[0, 0, 0] < 0.15 and p_local[0, 0, 0] + 0.05 < p_local[1:, 0, 0].min()
    assert p_national.min() > p_local[0, 0, 0] + 0.15


def test_national_estimates_over_the_other_locations() -> None:
    from evidencenlp.trends.stats import most_others_rose, national_odds_ratio, random_effects_others

    use = np.ones((4, 1, 1), dtype=bool)
    var = np.full((4, 1, 1), 0.04)
    agree = np.log(np.array([2.0, 2.1, 1.9, 2.0])).reshape(4, 1, 1)
    mean, v = random_effects_others(agree, var, use)
    assert np.allclose(np.exp(mean), 2.0, atol=0.1) and np.allclose(v, 0.04 / 3)  # τ² = 0: the pooled precision
    split = np.log(np.array([1.0, 0.3, 3.0, 1.0])).reshape(4, 1, 1)
    _, v_split = random_effects_others(split, var, use)
    assert v_split[0, 0, 0] > 5 * 0.04 / 3  # the others disagree: the doubt grows with τ²
    prob = np.array([0.0, 0.9, 0.9, 0.1]).reshape(4, 1, 1)
    most = most_others_rose(prob, use)
    a, b, c = 0.9, 0.9, 0.1  # the others of location 0: more than half is at least 2 of 3
    assert most[0, 0, 0] == pytest.approx(a * b * (1 - c) + a * (1 - b) * c + (1 - a) * b * c + a * b * c)
    assert most[3, 0, 0] == pytest.approx(0.9 * 0.9)  # location 0 certainly did not rise: both others must
    # two other locations, one closing (odds ratio ≈ 0.4) and one with its own bump (≈ 3): the median of the
    # ratios (their mean) reads a national rise, the median of their logs does not
    yw, rw = np.array([60, 2, 26]).reshape(3, 1, 1), np.array([40, 13, 24]).reshape(3, 1, 1)
    yb, rb = np.array([300, 150, 150]).reshape(3, 1, 1), np.array([700, 400, 430]).reshape(3, 1, 1)
    ok = np.ones((3, 1, 1), dtype=bool)
    ratio_mean, _ = national_odds_ratio(ok, yw, rw, yb, rb, 1.0, "median")
    log_mean, _ = national_odds_ratio(ok, yw, rw, yb, rb, 1.0, "logmedian")
    assert np.exp(ratio_mean[0, 0, 0]) > 1.3 > 1.15 > np.exp(log_mean[0, 0, 0])
