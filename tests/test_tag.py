"""Batch tagging: every format round-trip, blanks kept, clear errors, atomic output, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import read_table, write_table
from evidencenlp.tagging import FLAT_COLUMNS, parts_dir, tag_file

NOTES = [
    "Call bell rang for 11 minutes before staff came.",
    "",
    "Hand hygiene audit 99% for 14 months.",
    "Staff told us the manager is supportive. Supervision happens monthly.",
    "   ",
    "Ring 07700 900123 about the falls.",
    "Medicines fridge log incomplete for March.",
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i:02d}" for i in range(len(NOTES))], "code": ["007"] * len(NOTES),
                         "note": NOTES})


@pytest.mark.parametrize("ext", ["csv", "tsv", "xlsx", "jsonl", "parquet"])
def test_round_trip_every_format(suggester, tmp_path: Path, ext: str) -> None:
    src, out = tmp_path / f"in.{ext}", tmp_path / f"out.{ext}"
    write_table(_frame(), src)
    summary = tag_file(suggester, src, out, "note", chunk_rows=3)
    result = read_table(out)
    assert list(result.columns) == ["id", "code", "note", *FLAT_COLUMNS]
    assert result["id"].tolist() == _frame()["id"].tolist()  # order kept, nothing lost
    assert summary.rows == len(NOTES) and summary.blank == 2 and summary.tagged == 5
    blank = result["id"].isin(["r01", "r04"])
    assert result.loc[blank, "statement"].isna().all() or (result.loc[blank, "statement"].fillna("") == "").all()
    assert result.loc[~blank, "statement"].str.contains(r"^[a-z-]+\.[a-z-]+$").all()
    assert "07700" not in " ".join(result["note"].fillna("").astype(str))  # redacted by default
    if ext in ("csv", "tsv"):
        assert (result["code"] == "007").all()  # text values round-trip exactly
    assert not parts_dir(out).exists()


def test_cross_format_and_prefix(suggester, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    frame = _frame().assign(band="given by user")
    write_table(frame, src)
    with pytest.raises(InputFileError, match="already has column"):
        tag_file(suggester, src, tmp_path / "out.parquet", "note")
    tag_file(suggester, src, tmp_path / "out.parquet", "note", prefix="suggested_", force=True)
    result = pd.read_parquet(tmp_path / "out.parquet")
    assert (result["band"] == "given by user").all() and "suggested_band" in result.columns


def test_missing_text_column_lists_columns(suggester, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    write_table(_frame(), src)
    with pytest.raises(InputFileError) as err:
        tag_file(suggester, src, tmp_path / "out.csv", "text")
    assert "no column 'text'" in str(err.value) and "'note'" in str(err.value) and "'id'" in str(err.value)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("content,expected", [
    (b"id,text\n1,caf\xe9 food cold\n", "cannot decode as utf-8"),
    (b"", "empty"),
])
def test_unreadable_csv(suggester, tmp_path: Path, content: bytes, expected: str) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    with pytest.raises(InputFileError, match=expected) as err:
        tag_file(suggester, src, tmp_path / "out.csv", "text")
    assert "bad.csv" in str(err.value)


def test_bad_jsonl_line_is_named(suggester, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n{"text": broken}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"in.jsonl: line 2: invalid JSON"):
        tag_file(suggester, src, tmp_path / "out.jsonl", "text")


def test_not_excel_and_unknown_type(suggester, tmp_path: Path) -> None:
    fake = tmp_path / "in.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InputFileError, match="not a readable Excel"):
        tag_file(suggester, fake, tmp_path / "out.csv", "text")
    with pytest.raises(InputFileError, match="unsupported file type"):
        tag_file(suggester, tmp_path / "in.txt", tmp_path / "out.csv", "text")


def test_cp1252_with_encoding_option(suggester, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes("id,text\n1,Caf\xe9 food was cold\n".encode("latin-1"))
    tag_file(suggester, src, tmp_path / "out.csv", "text", encoding="cp1252")
    assert read_table(tmp_path / "out.csv")["text"].iloc[0] == "Café food was cold"


class Interrupt(Exception):
    pass


def test_resume_after_interruption_loses_and_repeats_nothing(suggester, tmp_path: Path) -> None:
    n = 23
    frame = pd.DataFrame({"id": range(n), "text": [f"Note {i}: staff kind, call bell answered in {i} min." for i in range(n)]})
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_table(frame, src)
    seen = []

    def die_after_two_chunks(rows: int) -> None:
        seen.append(rows)
        if len(seen) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        tag_file(suggester, src, out, "text", chunk_rows=5, on_rows=die_after_two_chunks)
    assert not out.exists()  # never a half-written output
    assert parts_dir(out).exists()
    with pytest.raises(InputFileError, match="--resume"):
        tag_file(suggester, src, out, "text", chunk_rows=5)
    summary = tag_file(suggester, src, out, "text", chunk_rows=5, resume=True)
    assert summary.resumed_from_row == 10 and summary.rows == n
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == list(range(n))


def test_resume_refuses_a_changed_input(suggester, tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_table(pd.DataFrame({"text": [f"note {i}" for i in range(8)]}), src)

    def stop(rows: int) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        tag_file(suggester, src, out, "text", chunk_rows=4, on_rows=stop)
    write_table(pd.DataFrame({"text": [f"other {i}" for i in range(9)]}), src)
    with pytest.raises(InputFileError, match="cannot resume"):
        tag_file(suggester, src, out, "text", chunk_rows=4, resume=True)


def test_existing_output_needs_force(suggester, tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_table(pd.DataFrame({"text": ["a note"]}), src)
    out.write_text("keep me", encoding="utf-8")
    with pytest.raises(InputFileError, match="--force"):
        tag_file(suggester, src, out, "text")
    assert out.read_text(encoding="utf-8") == "keep me"


def test_known_source_sets_the_evidence_category(suggester, tmp_path: Path) -> None:
    from evidencenlp.suggest import Suggester

    given = Suggester(suggester.index, suggester.classifier, evidence_category="people_experience")
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_table(pd.DataFrame({"text": ["Audit of 20 care plans: 6 out of date.", "lovely staff"]}), src)
    tag_file(given, src, out, "text")
    result = read_table(out)
    assert (result["evidence_category"] == "people_experience").all()
    assert (result["evidence_category_score"].astype(float) == 1.0).all()
    with pytest.raises(InputFileError, match="unknown evidence category 'public'"):
        Suggester(suggester.index, suggester.classifier, evidence_category="public")
