"""``tag`` is safe with hostile or broken tables: no formula injection, no note text in messages,
no silent loss, a resume that never mixes inputs or settings, and clear errors instead of crashes.

A fast stand-in suggester is used throughout (the real model is not needed to test the plumbing).
"""

from __future__ import annotations

import errno
import gzip
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest_review import FakeSuggester
from evidencenlp.errors import InputFileError
from evidencenlp.suggest import Suggestion
from evidencenlp.tabular import read_table
from evidencenlp.tagging import FLAT_COLUMNS, parts_dir, tag_file

SECRET = "Mrs Smith fell on the stairs at night and nobody came"


class Fake(FakeSuggester):
    """The review tests' fake, with the keyword arguments ``tag`` passes."""

    def __init__(self, evidence_category: str | None = None, model_version: str = "fake-0001") -> None:
        super().__init__()
        self.evidence_category = evidence_category
        self.model_version = model_version

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = False, evidence: bool = False,
                     progress: Any = None, topics: bool | None = None) -> list[Suggestion | None]:
        return super().suggest_many(texts)


@pytest.fixture
def fake() -> Fake:
    return Fake()


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- 1. formula injection ------------------------------------------------------------------------------

DANGEROUS = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3+cmd", "@SUM(1+1)",
             "\t=1+1", "\r=1+1"]


def _danger_frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(DANGEROUS))], "text": DANGEROUS,
                         "other": list(reversed(DANGEROUS))})


def test_xlsx_output_has_no_live_formula(fake: Fake, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    src = tmp_path / "in.parquet"
    _danger_frame().to_parquet(src)
    out = tmp_path / "out.xlsx"
    tag_file(fake, src, out, "text", redact=False)
    wb = load_workbook(out)
    cells = [c for row in wb.active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in texts and "'@SUM(1+1)" in texts


@pytest.mark.parametrize("ext", ["csv", "tsv"])
def test_csv_output_neutralises_every_text_column(fake: Fake, tmp_path: Path, ext: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _danger_frame().to_dict("records")), encoding="utf-8")
    out = tmp_path / f"out.{ext}"
    tag_file(fake, src, out, "text", redact=False)
    frame = pd.read_csv(out, sep="\t" if ext == "tsv" else ",", dtype=str, keep_default_na=False)
    for col in ("text", "other"):
        assert all(v.startswith("'") for v in frame[col]), frame[col].tolist()


def test_parquet_and_jsonl_output_unchanged(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    _danger_frame().to_parquet(src)
    tag_file(fake, src, tmp_path / "out.parquet", "text", redact=False)
    tag_file(fake, src, tmp_path / "out.jsonl", "text", redact=False)
    assert pd.read_parquet(tmp_path / "out.parquet")["text"].tolist() == DANGEROUS
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["other"] for r in rows] == list(reversed(DANGEROUS))


# --- 2. privacy ----------------------------------------------------------------------------------------

def test_duplicated_text_column_is_refused(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", f"id,text,text\n1,{SECRET},{SECRET}\n")
    with pytest.raises(InputFileError, match="duplicated column.*'text'") as err:
        tag_file(fake, src, tmp_path / "out.csv", "text")
    assert SECRET not in str(err.value) and not (tmp_path / "out.csv").exists()
    assert not parts_dir(tmp_path / "out.csv").exists()


def test_file_without_header_never_prints_the_first_row(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", f"1,{SECRET}\n2,Another note about medicines\n")
    with pytest.raises(InputFileError, match="header") as err:
        tag_file(fake, src, tmp_path / "out.csv", "text")
    assert "Mrs Smith" not in str(err.value) and "stairs" not in str(err.value)


def test_parser_errors_do_not_quote_cells(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", f"id,text\n1,ok\n2,{SECRET},extra,fields\n")
    with pytest.raises(InputFileError) as err:
        tag_file(fake, src, tmp_path / "out.csv", "text")
    assert "Smith" not in str(err.value)


# --- 3. silent loss ------------------------------------------------------------------------------------

def test_unterminated_quote_that_swallows_rows_is_an_error(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", 'id,text\n1,fine\n2,"opened here\n3,swallowed\n4,also swallowed"\n5,last\n')
    with pytest.raises(InputFileError, match=r"line 3.*unterminated quote"):
        tag_file(fake, src, tmp_path / "out.csv", "text")


def test_quote_never_closed_is_an_error(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", 'id,text\n1,fine\n2,"opened here\n3,swallowed\n')
    with pytest.raises(InputFileError, match=r"line 3: a quote opened here is never closed"):
        tag_file(fake, src, tmp_path / "out.csv", "text")


def test_multiline_note_is_fine(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", 'id,text\n1,"Line one, with comma\nLine two, also\nthree"\n2,next\n')
    tag_file(fake, src, tmp_path / "out.parquet", "text", redact=False)
    assert pd.read_parquet(tmp_path / "out.parquet")["id"].tolist() == ["1", "2"]


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_every_sheet_is_read_or_the_one_named(fake: Fake, tmp_path: Path) -> None:
    src = _workbook(tmp_path / "in.xlsx", {"Ward A": [["id", "text"], [1, "note a"]],
                                            "Ward B": [["id", "text"], [2, "note b"], [3, "note c"]]})
    summary = tag_file(fake, src, tmp_path / "out.parquet", "text")
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["sheet"].tolist() == ["Ward A", "Ward B", "Ward B"] and summary.sheets == ["Ward A", "Ward B"]
    summary = tag_file(fake, src, tmp_path / "b.parquet", "text", sheet="Ward B")
    assert len(pd.read_parquet(tmp_path / "b.parquet")) == 2 and summary.sheets == ["Ward B"]
    with pytest.raises(InputFileError, match="no sheet 'C'"):
        tag_file(fake, src, tmp_path / "c.parquet", "text", sheet="C")


def test_formulas_without_saved_values_are_reported(fake: Fake, tmp_path: Path) -> None:
    src = _workbook(tmp_path / "in.xlsx", {"S": [["id", "text"], [1, "=CONCAT(\"a\",\"b\")"], [2, "ok"]]})
    with pytest.raises(InputFileError, match=r"formulas without a saved value \(S!B2\)"):
        tag_file(fake, src, tmp_path / "out.csv", "text")


def test_long_note_refused_for_xlsx_not_cut(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pd.DataFrame({"text": ["short", "x " * 20_000]}).to_parquet(src)
    with pytest.raises(InputFileError, match=r"data row 2, column 'text'.*32,767.*\.parquet or \.csv"):
        tag_file(fake, src, tmp_path / "out.xlsx", "text")
    assert not parts_dir(tmp_path / "out.xlsx").exists()
    tag_file(fake, src, tmp_path / "out.csv", "text")
    assert len(read_table(tmp_path / "out.csv")["text"].iloc[1]) == 40_000


def test_control_characters_removed_for_xlsx_and_counted(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pd.DataFrame({"text": ["bell\x07 rang", "ok\x00\x01"], "x": ["a\x0bb", "c"]}).to_parquet(src)
    summary = tag_file(fake, src, tmp_path / "out.xlsx", "text", redact=False)
    assert summary.removed_characters == 4
    assert pd.read_excel(tmp_path / "out.xlsx")["text"].tolist() == ["bell rang", "ok"]


def test_parquet_binary_text_decoded_and_lists_kept(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    table = pa.table({"text": pa.array([b"caf\xc3\xa9 food cold", b"kind staff"], pa.binary()),
                      "tags": pa.array([["a", "b"], []], pa.list_(pa.string()))})
    pq.write_table(table, src)
    tag_file(fake, src, tmp_path / "out.parquet", "text", redact=False)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column("text").to_pylist() == ["café food cold", "kind staff"]
    assert out.column("tags").to_pylist() == [["a", "b"], []]
    tag_file(fake, src, tmp_path / "out.csv", "text", redact=False)
    assert read_table(tmp_path / "out.csv")["text"].tolist() == ["café food cold", "kind staff"]


def test_parquet_list_text_column_refused(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": pa.array([["a"], ["b"]], pa.list_(pa.string()))}), src)
    with pytest.raises(InputFileError, match=r"data row 1, column 'text': holds a list, not text"):
        tag_file(fake, src, tmp_path / "out.csv", "text")


# --- 4. resume -----------------------------------------------------------------------------------------

class Interrupt(Exception):
    pass


def _stop(rows: int) -> None:
    raise Interrupt


def test_resume_sees_an_edit_beyond_the_first_mib(fake: Fake, tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    notes = [f"note {i} " + "x" * 300 for i in range(8000)]
    pd.DataFrame({"text": notes}).to_csv(src, index=False)
    assert src.stat().st_size > 1 << 21
    with pytest.raises(Interrupt):
        tag_file(fake, src, out, "text", chunk_rows=100, on_rows=_stop)
    data = bytearray(src.read_bytes())
    data[-10] = ord("y")  # same size, a change near the end
    src.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="cannot resume: sha256"):
        tag_file(fake, src, out, "text", chunk_rows=100, resume=True)


@pytest.mark.parametrize("change", [
    {"suggester": Fake(evidence_category="observation")},
    {"suggester": Fake(model_version="fake-0002")},
    {"redact": False},
    {"prefix": "s_"},
])
def test_resume_refuses_changed_settings(tmp_path: Path, change: dict[str, Any]) -> None:
    src, out = _csv(tmp_path / "in.csv", "text\n" + "".join(f"note {i}\n" for i in range(8))), tmp_path / "out.csv"
    with pytest.raises(Interrupt):
        tag_file(Fake(), src, out, "text", chunk_rows=4, on_rows=_stop)
    suggester = change.pop("suggester", Fake())
    with pytest.raises(InputFileError, match="cannot resume"):
        tag_file(suggester, src, out, "text", chunk_rows=4, resume=True, **change)


def test_stale_writing_file_is_removed(fake: Fake, tmp_path: Path) -> None:
    src, out = _csv(tmp_path / "in.csv", "text\na\nb\n"), tmp_path / "out.csv"
    stale = tmp_path / ".out.csv.999999999.writing"
    stale.write_text("half", encoding="utf-8")
    tag_file(fake, src, out, "text")
    assert not stale.exists() and out.exists()


def test_changing_output_format_leaves_no_old_parts(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", "text\n" + "".join(f"note {i}\n" for i in range(8)))
    with pytest.raises(Interrupt):
        tag_file(fake, src, tmp_path / "out.csv", "text", chunk_rows=4, on_rows=_stop)
    assert parts_dir(tmp_path / "out.csv").exists()
    tag_file(fake, src, tmp_path / "out.parquet", "text", chunk_rows=4)
    assert not parts_dir(tmp_path / "out.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("content", ["id,note\n1,a\n", "id,text,text\n1,a,a\n", 'id,text\n1,"a\n'])
def test_failure_before_first_chunk_leaves_no_parts(fake: Fake, tmp_path: Path, content: str) -> None:
    src, out = _csv(tmp_path / "in.csv", content), tmp_path / "out.csv"
    with pytest.raises(InputFileError):
        tag_file(fake, src, out, "text")
    assert not parts_dir(out).exists()
    _csv(src, "id,text\n1,a\n")
    tag_file(fake, src, out, "text")  # the corrected rerun works without --force
    assert out.exists()


# --- 5. crashes ----------------------------------------------------------------------------------------

def test_deeply_nested_jsonl(fake: Fake, tmp_path: Path) -> None:
    depth = sys.getrecursionlimit() + 100
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n{"text": "x", "deep": ' + "[" * depth + "]" * depth + "}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="line 2: the JSON is nested too deeply"):
        tag_file(fake, src, tmp_path / "out.csv", "text")


@pytest.mark.parametrize("kind", ["gzip", "zip"])
def test_compressed_bytes_named_csv(fake: Fake, tmp_path: Path, kind: str) -> None:
    import zipfile

    src = tmp_path / "in.csv"
    if kind == "gzip":
        src.write_bytes(gzip.compress(b"id,text\n1,a\n"))
    else:
        with zipfile.ZipFile(src, "w") as zf:
            zf.writestr("in.csv", "id,text\n1,a\n")
    with pytest.raises(InputFileError, match=f"this looks like a {kind} file, not CSV text"):
        tag_file(fake, src, tmp_path / "out.csv", "text")


def test_semicolon_csv_suggests_delimiter(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", "id;text\n1;first note, with comma\n2;second note\n")
    with pytest.raises(InputFileError, match="the file seems to be ;-separated; pass --delimiter ';'"):
        tag_file(fake, src, tmp_path / "out.csv", "text")
    tag_file(fake, src, tmp_path / "out.csv", "text", delimiter=";", redact=False)
    assert read_table(tmp_path / "out.csv")["text"].tolist() == ["first note, with comma", "second note"]


def test_jsonl_errors_report_the_physical_line(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'\xef\xbb\xbf{"text": "a"}\n\n{"text": "b\\u2028"}\r\n{"text": "c"}\n[1]\n')
    with pytest.raises(InputFileError, match=r"in.jsonl: line 5: expected a JSON object"):
        tag_file(fake, src, tmp_path / "out.csv", "text")
    src.write_bytes(b'{"text": "a"}\n{"text": "\xff"}\n')
    with pytest.raises(InputFileError, match=r"in.jsonl: line 2: cannot decode"):
        tag_file(fake, src, tmp_path / "out.csv", "text")


def test_jsonl_key_first_seen_late_is_kept(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c", "late": 7}\n', encoding="utf-8")
    tag_file(fake, src, tmp_path / "out.jsonl", "text", chunk_rows=1)
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["late"] for r in rows] == [None, None, 7]


def test_disk_full_names_the_output(fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencenlp import tabular

    def full(self: Any, frame: pd.DataFrame) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tabular.ChunkedWriter, "write", full)
    src, out = _csv(tmp_path / "in.csv", "text\na\n"), tmp_path / "out.csv"
    with pytest.raises(InputFileError, match=r"out.csv: cannot write the output: the disk is full.*--resume"):
        tag_file(fake, src, out, "text")
    assert not out.exists()


def test_tag_help_lists_evidence_categories() -> None:
    from typer.testing import CliRunner

    from evidencenlp.cli import app
    from evidencenlp.taxonomy import default_taxonomy

    result = CliRunner().invoke(app, ["tag", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert all(c in text for c in default_taxonomy().categories)
    assert "--delimiter" in text and "--sheet" in text


def test_flat_columns_still_added(fake: Fake, tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", "id,text\n1,kind staff\n2,\n")
    tag_file(fake, src, tmp_path / "out.parquet", "text")
    assert list(pd.read_parquet(tmp_path / "out.parquet").columns) == ["id", "text", *FLAT_COLUMNS]


# --- issue 19: input that used to end in a traceback ----------------------------------------------------------


def test_lone_surrogate_becomes_replacement_character_and_is_counted(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": 1, "text": "The bell \\ud83d rang \\udc00"}\n{"id": 2, "text": "Fine."}\n')
    out = tmp_path / "out.csv"
    summary = tag_file(fake, src, out, "text", redact=False)
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["text"].tolist() == ["The bell \ufffd rang \ufffd", "Fine."]
    assert (summary.replaced_characters, summary.rows_repaired) == (2, 1)


def test_lone_surrogate_in_review_import_is_stored_and_counted(tmp_path: Path) -> None:
    from evidencenlp.review.store import ReviewStore

    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": 1, "text": "The bell \\ud83d rang late"}\n{"id": 2, "text": "Staff were kind."}\n')
    with ReviewStore.open(tmp_path / "r.sqlite") as store:
        summary = store.import_notes(src, "text", Fake())
        texts = [r[0] for r in store.conn.execute("SELECT text FROM notes ORDER BY id")]
    assert summary.imported == 2 and summary.replaced_characters == 1
    assert texts[0] == "The bell \ufffd rang late"


def test_utf16_without_flag_or_mark_gets_a_hint_naming_the_flag(fake: Fake, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes("id,text\r\n1,a\r\n".encode("utf-16-le"))
    with pytest.raises(InputFileError, match="pass --encoding utf-16-le"):
        tag_file(fake, src, tmp_path / "out.csv", "text")
    big_endian = tmp_path / "be.tsv"
    big_endian.write_bytes("id\ttext\n1\ta\n".encode("utf-16-be"))
    with pytest.raises(InputFileError, match="pass --encoding utf-16-be"):
        tag_file(fake, big_endian, tmp_path / "out.csv", "text")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le"])
def test_excel_unicode_text_is_read_whatever_encoding_is_named(fake: Fake, tmp_path: Path, encoding: str) -> None:
    """Excel's "Unicode Text": UTF-16 LE with a byte-order mark, tab-separated, CRLF; the mark decides."""
    src = tmp_path / "export.tsv"
    src.write_bytes(b"\xff\xfe" + 'id\ttext\r\n1\t"Caf\u00e9, ok"\r\n2\tb\r\n'.encode("utf-16-le"))
    out = tmp_path / "out.parquet"
    tag_file(fake, src, out, "text", redact=False, encoding=encoding)
    frame = pd.read_parquet(out)
    assert list(frame.columns[:2]) == ["id", "text"] and frame["text"].tolist() == ["Caf\u00e9, ok", "b"]


def test_dask_partitioning_refuses_utf16(tmp_path: Path) -> None:
    from evidencenlp.partitions import make_source

    src = tmp_path / "in.csv"
    src.write_bytes("id,text\n1,a\n".encode("utf-16"))
    with pytest.raises(InputFileError, match="--engine dask cannot split UTF-16 text"):
        make_source(src, ["id", "text"])
    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"id,text\n1,a\n")
    with pytest.raises(InputFileError, match="cannot split UTF-16-LE text"):
        make_source(plain, ["id", "text"], encoding="utf-16-le")


def test_resume_on_a_finished_output_leaves_it_unchanged(fake: Fake, tmp_path: Path) -> None:
    from evidencenlp.tagging import AlreadyComplete

    src = _csv(tmp_path / "in.csv", "id,text\n1,a note\n2,another\n")
    out = tmp_path / "out.csv"
    tag_file(fake, src, out, "text")
    before = out.read_bytes()
    out.touch()
    stamp = out.stat().st_mtime_ns
    src.write_text("id,text\n1,changed\n", encoding="utf-8")
    with pytest.raises(AlreadyComplete, match="already complete"):
        tag_file(fake, src, out, "text", resume=True)
    assert out.read_bytes() == before and out.stat().st_mtime_ns == stamp
    tag_file(fake, src, out, "text", resume=True, force=True)  # --force tags again
    assert out.read_bytes() != before


def test_cli_resume_on_a_finished_output_says_so_and_exits_0(fake: Fake, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from evidencenlp.cli import main

    src = _csv(tmp_path / "in.csv", "id,text\n1,a note\n")
    out = tmp_path / "out.csv"
    tag_file(fake, src, out, "text")
    before = out.read_bytes()
    monkeypatch.setattr(sys, "argv", ["evidencenlp", "tag", str(src), "-o", str(out), "--resume"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code in (0, None) and "already complete" in " ".join(err.split())
    assert "Traceback" not in err and out.read_bytes() == before
