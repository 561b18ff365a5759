"""Bad inputs through ``evidencenlp tag`` as a user runs it (``main()``, a fast stand-in suggester).

Every case ends either with exit code 2, one ``error:`` line on stderr, no traceback and no note text,
or with exit code 0 and a faithful output: same rows, every input column, input order.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_tag_safety import Fake

#: a word in every note, so that a message quoting a note is caught
MARK = "Zqxnote"


def note(i: int) -> str:
    return f"{MARK} {i}: resident waited, staff said the bell was broken"


def csv_text(n: int = 3, sep: str = ",", eol: str = "\n") -> str:
    return f"id{sep}text{eol}" + "".join(f'{i}{sep}"{note(i)}"{eol}' for i in range(1, n + 1))


def jsonl(*objs: Any) -> bytes:
    return "".join(json.dumps(o) + "\n" for o in objs).encode()


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
    return buf.getvalue()


DEEP = sys.getrecursionlimit() + 50
IDS3 = ["1", "2", "3"]

# (case id, input file name, bytes, extra CLI args, expected: "error" | list of ids in order | "ok")
CASES: list[tuple[str, str, bytes | Callable[[], bytes], list[str], Any]] = [
    ("csv-empty", "in.csv", b"", [], "error"),
    ("csv-header-only", "in.csv", b"id,text\n", [], "error"),
    ("csv-bom-only", "in.csv", b"\xef\xbb\xbf", [], "error"),
    ("csv-newline-only", "in.csv", b"\n", [], "error"),
    ("csv-gzip", "in.csv", lambda: gzip.compress(csv_text().encode()), [], "error"),
    ("csv-zip", "in.csv", lambda: zipped("x.csv", csv_text().encode()), [], "error"),
    ("csv-is-xlsx", "in.csv", lambda: workbook({"S": [["id", "text"], [1, note(1)]]}), [], "error"),
    ("csv-nul", "in.csv", b"id,text\n1,\x00\x00" + note(1).encode() + b"\n", [], "error"),
    ("csv-utf16-bom", "in.csv", lambda: csv_text().encode("utf-16"), [], IDS3),
    ("csv-latin1", "in.csv", ("id,text\n1,caf\xe9 " + note(1) + "\n").encode("latin-1"), [], "error"),
    ("csv-semicolon", "in.csv", ("id;text\n" + "".join(f"{i};{note(i)}\n" for i in (1, 2, 3))).encode(), [],
     "error"),
    ("csv-semicolon-ok", "in.csv", ("id;text\n" + "".join(f"{i};{note(i)}\n" for i in (1, 2, 3))).encode(),
     ["--delimiter", ";"], IDS3),
    ("csv-tab-named-csv", "in.csv", ("id\ttext\n" + "".join(f"{i}\t{note(i)}\n" for i in (1, 2, 3))).encode(),
     [], "error"),
    ("csv-no-header", "in.csv", "".join(f"{i},{note(i)}\n" for i in (1, 2, 3)).encode(), [], "error"),
    ("csv-dup-text", "in.csv", f"id,text,text\n1,{note(1)},{note(1)}\n".encode(), [], "error"),
    ("csv-dup-other", "in.csv", f"id,id,text\n1,1,{note(1)}\n".encode(), [], "error"),
    ("csv-quote-to-eof", "in.csv", f'id,text\n1,"{note(1)}\n2,{note(2)}\n3,{note(3)}\n'.encode(), [], "error"),
    ("csv-quote-swallows", "in.csv", f'id,text\n1,"{note(1)}\n2,{note(2)}\n3,{note(3)}"\n4,x\n'.encode(), [],
     "error"),
    ("csv-extra-fields", "in.csv", f"id,text\n1,{note(1)}\n2,a,b,c\n".encode(), [], "error"),
    ("csv-fewer-fields", "in.csv", f"id,text,x\n1,\"{note(1)}\"\n2,b,c\n".encode(), [], ["1", "2"]),
    ("csv-crlf", "in.csv", csv_text(eol="\r\n").encode(), [], IDS3),
    ("csv-cr", "in.csv", csv_text(eol="\r").encode(), [], IDS3),
    ("csv-blank-lines", "in.csv", (b"id,text\n1,a\n\n\n2,b\n\n3,c\n"), [], IDS3),
    ("csv-formulas", "in.csv", b'id,text,x\n1,=1+1,@SUM(A1)\n2,+cmd,-x\n3,"\t=2",\n', ["--no-redact"], IDS3),
    ("csv-long-field", "in.csv", ("id,text\n1," + "word " * 40_000 + "\n2,b\n").encode(), [], ["1", "2"]),
    ("csv-empty-header-name", "in.csv", f",text\n1,\"{note(1)}\"\n2,b\n".encode(), [], "ok"),
    ("csv-trailing-sep", "in.csv", b"id,text,\n1,a,\n2,b,\n", [], "ok"),
    ("csv-inner-quote", "in.csv", b'id,text\n1,he said "hi" twice\n2,b\n', [], ["1", "2"]),
    ("csv-all-blank", "in.csv", b"id,text\n1,\n2,   \n3,\n", [], IDS3),
    ("csv-numbers", "in.csv", b"id,text\n1,42\n2,-7\n3,1e5\n", [], IDS3),
    ("csv-clash", "in.csv", f"id,text,band\n1,\"{note(1)}\",good\n".encode(), [], "error"),
    ("csv-multiline-note", "in.csv", b'id,text\n1,"first line\nsecond, line\nthird"\n2,b\n', [], ["1", "2"]),
    ("csv-missing-column", "in.csv", f"id,note\n1,\"{note(1)}\"\n".encode(), [], "error"),
    ("jsonl-deep", "in.jsonl", ('{"id": 1, "text": "a"}\n{"id": 2, "x": ' + "[" * DEEP + "]" * DEEP + "}\n").encode(),
     [], "error"),
    ("jsonl-array-line", "in.jsonl", jsonl({"id": 1, "text": note(1)}, [note(2)]), [], "error"),
    ("jsonl-bad-line", "in.jsonl", jsonl({"id": 1, "text": note(1)}) + b'{"id": 2, "text": ' + note(2).encode()
     + b"\n", [], "error"),
    ("jsonl-empty", "in.jsonl", b"", [], "error"),
    ("jsonl-blank-lines", "in.jsonl", b"\n\n  \n", [], "error"),
    ("jsonl-late-key", "in.jsonl", jsonl({"id": 1, "text": "a"}, {"id": 2, "text": "b", "late": 1}), [],
     ["1", "2"]),
    ("jsonl-text-list", "in.jsonl", jsonl({"id": 1, "text": [note(1)]}), [], "error"),
    ("jsonl-text-number", "in.jsonl", jsonl({"id": 1, "text": 5}, {"id": 2, "text": None}), [], ["1", "2"]),
    ("jsonl-huge-int", "in.jsonl", jsonl({"id": 1, "text": "a", "n": 2**70}, {"id": 2, "text": "b", "n": 1}), [],
     ["1", "2"]),
    ("jsonl-nan", "in.jsonl", b'{"id": 1, "text": "a", "v": NaN}\n{"id": 2, "text": "b", "v": 1}\n', [],
     ["1", "2"]),
    ("jsonl-dup-keys", "in.jsonl", b'{"id": 1, "text": "a", "text": "b"}\n', [], ["1"]),
    ("jsonl-nested-values", "in.jsonl", jsonl({"id": 1, "text": "a", "meta": {"k": [1, 2]}},
                                              {"id": 2, "text": "b", "meta": None}), [], ["1", "2"]),
    ("jsonl-bom", "in.jsonl", b"\xef\xbb\xbf" + jsonl({"id": 1, "text": "a"}), [], ["1"]),
    ("jsonl-bad-byte", "in.jsonl", b'{"id": 1, "text": "caf\xe9"}\n', [], "error"),
    ("jsonl-gzip", "in.jsonl", lambda: gzip.compress(jsonl({"id": 1, "text": note(1)})), [], "error"),
    ("xlsx-not-workbook", "in.xlsx", csv_text().encode(), [], "error"),
    ("xlsx-empty", "in.xlsx", lambda: workbook({"S": []}), [], "error"),
    ("xlsx-formula", "in.xlsx", lambda: workbook({"S": [["id", "text"], [1, "=A1&\"x\""]]}), [], "error"),
    ("xlsx-two-sheets", "in.xlsx", lambda: workbook({"A": [["id", "text"], [1, "a"]],
                                                     "B": [["id", "text"], [2, "b"], [3, "c"]]}), [], IDS3),
    ("xlsx-dup-header", "in.xlsx", lambda: workbook({"S": [["id", "text", "text"], [1, note(1), note(1)]]}), [],
     "error"),
    ("xlsx-unknown-sheet", "in.xlsx", lambda: workbook({"S": [["id", "text"], [1, "a"]]}), ["--sheet", "T"],
     "error"),
    ("parquet-garbage", "in.parquet", note(1).encode() * 3, [], "error"),
    ("parquet-list-text", "in.parquet",
     lambda: parquet(pa.table({"id": [1], "text": pa.array([[note(1)]], pa.list_(pa.string()))})), [], "error"),
    ("parquet-binary-text", "in.parquet",
     lambda: parquet(pa.table({"id": [1, 2], "text": pa.array([b"a", None], pa.binary())})), [], ["1", "2"]),
    ("parquet-bad-binary", "in.parquet",
     lambda: parquet(pa.table({"id": [1], "text": pa.array([b"\xff" + note(1).encode()], pa.binary())})), [],
     "error"),
    ("parquet-no-rows", "in.parquet", lambda: parquet(pa.table({"id": pa.array([], pa.int64()),
                                                                 "text": pa.array([], pa.string())})), [], "error"),
    ("parquet-control-chars", "in.parquet",
     lambda: parquet(pa.table({"id": [1, 2], "text": ["a\x01\x02b", "c\x0b"]})), [], ["1", "2"]),
    # issue 19: a lone surrogate (a JSON escape without its pair) is replaced by U+FFFD, not a traceback
    ("jsonl-lone-surrogate", "in.jsonl", b'{"id": 1, "text": "The bell \\ud83d rang"}\n{"id": 2, "text": "b"}\n'
     b'{"id": 3, "te\\udc00xt2": "\\udfff", "text": "c"}\n', [], IDS3),
    # issue 19: UTF-16 as Excel's "Unicode Text" writes it, and without a byte-order mark
    ("csv-utf16-flag", "in.csv", lambda: csv_text().encode("utf-16"), ["--encoding", "utf-16"], IDS3),
    ("tsv-utf16-excel", "in.tsv", lambda: b"\xff\xfe" + csv_text(sep="\t", eol="\r\n").encode("utf-16-le"), [],
     IDS3),
    ("tsv-utf16-excel-flag", "in.tsv", lambda: b"\xff\xfe" + csv_text(sep="\t", eol="\r\n").encode("utf-16-le"),
     ["--encoding", "utf-16-le"], IDS3),
    ("csv-utf16le-no-bom", "in.csv", lambda: csv_text().encode("utf-16-le"), ["--encoding", "utf-16-le"], IDS3),
    ("csv-utf16-no-bom", "in.csv", lambda: csv_text().encode("utf-16-le"), ["--encoding", "utf-16"], IDS3),
    ("tsv-utf16be-no-bom", "in.tsv", lambda: csv_text(sep="\t").encode("utf-16-be"), ["--encoding", "utf-16"], IDS3),
    ("csv-utf16-no-bom-no-flag", "in.csv", lambda: csv_text().encode("utf-16-le"), [], "error"),
    ("jsonl-utf16", "in.jsonl", lambda: jsonl({"id": 1, "text": note(1)}, {"id": 2, "text": "b"}).decode()
     .encode("utf-16"), [], ["1", "2"]),
    ("jsonl-utf16-no-bom", "in.jsonl", lambda: jsonl({"id": 1, "text": note(1)}).decode().encode("utf-16-le"),
     ["--encoding", "utf-16-le"], ["1"]),
    # issue 22: a properly closed multi-line comment whose second line has separators and looks like a row
    ("csv-multiline-rowlike-words", "in.csv", b'site,text\nOak,"Kind staff\nGood food, clean rooms, calm"\n'
     b"Elm,b\n", [], "ok"),
    ("csv-multiline-rowlike-ids", "in.csv", b'id,text\n1,"first\n1,2,3 were fine"\n2,"x\n7,late, again"\n3,c\n',
     [], IDS3),
    ("csv-quote-swallows-to-eof", "in.csv", f'id,text\n1,"{note(1)}\n2,{note(2)}\n3,{note(3)}"\n'.encode(), [],
     "error"),
]
OUTPUTS = ["csv", "jsonl", "parquet", "xlsx"]


def _read_output(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        return pd.DataFrame([json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()])
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        return pd.DataFrame(rows[1:], columns=[str(c) for c in rows[0]])
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _input_columns(path: Path, args: list[str]) -> list[str]:
    from evidencenlp.tabular import iter_chunks

    delimiter = args[args.index("--delimiter") + 1] if "--delimiter" in args else None
    encoding = args[args.index("--encoding") + 1] if "--encoding" in args else "utf-8"
    return [str(c) for c in next(iter(iter_chunks(path, delimiter=delimiter, encoding=encoding))).columns]


@pytest.fixture
def run_tag(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    from evidencenlp.cli import main
    from evidencenlp.suggest import Suggester

    monkeypatch.setattr(Suggester, "load", staticmethod(lambda **kw: Fake(kw.get("evidence_category"))))

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["evidencenlp", "tag", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("i,case", list(enumerate(CASES)), ids=[c[0] for c in CASES])
def test_bad_input(run_tag, tmp_path: Path, i: int, case: tuple[str, str, Any, list[str], Any]) -> None:
    name, filename, content, args, expected = case
    src = tmp_path / filename
    src.write_bytes(content() if callable(content) else content)
    ext = OUTPUTS[i % len(OUTPUTS)]
    if name in ("csv-long-field",) or (ext == src.suffix[1:]):
        ext = "parquet" if src.suffix != ".parquet" else "jsonl"
    out = tmp_path / f"out.{ext}"
    code, stdout, stderr = run_tag(str(src), "-o", str(out), "--text-column", "text", *args)
    assert "Traceback" not in stdout + stderr
    assert MARK.lower() not in (stdout + stderr).lower(), "a message shows note text"
    if code != 0:
        assert code == 2, stderr
        errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, stderr
        assert expected in ("error", "any"), f"unexpected failure: {stderr}"
        assert not out.exists()
        return
    assert expected != "error", f"expected an error, got exit 0 ({stderr})"
    result = _read_output(out)
    columns = _input_columns(src, args)
    assert [c for c in result.columns][: len(columns)] == columns
    if isinstance(expected, list):
        assert [str(v) for v in result["id"]] == expected
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left"
