"""A large input's whole-file passes (row count, CSV checks) are made once per process while it is
unchanged, and again as soon as it changes (``tag`` reads its input three times)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencenlp import tabular
from evidencenlp.errors import InputFileError


def _first_chunk(path: Path):
    return next(iter(tabular.iter_chunks(path, chunk_rows=10)))


def test_a_changed_large_file_is_counted_and_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    rows = ["id,text"] + [f"{i},the staff were kind and the ward was clean, note {i}" for i in range(25_000)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert path.stat().st_size >= tabular._REMEMBER_FROM_BYTES
    assert tabular.count_rows(path) == 25_000
    assert len(_first_chunk(path)) == 10
    assert tabular.count_rows(path) == 25_000  # remembered
    with path.open("a", encoding="utf-8") as fh:
        fh.write('25000,"a quote that is never closed\n25001,more\n')
    assert tabular.count_rows(path) != 25_000
    with pytest.raises(InputFileError, match="never closed"):
        _first_chunk(path)


def test_an_unchanged_large_file_is_read_through_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notes.csv"
    rows = ["id,text"] + [f"{i},the staff were kind and the ward was clean, note {i}" for i in range(25_000)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    calls: list[Path] = []
    real = tabular._count_rows

    def counting(p: Path, encoding: str, delimiter: str | None) -> int | None:
        calls.append(p)
        return real(p, encoding, delimiter)

    monkeypatch.setattr(tabular, "_count_rows", counting)
    assert tabular.count_rows(path) == 25_000 and tabular.count_rows(path) == 25_000
    assert len(calls) == 1  # the second answer is remembered
    path.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")  # changed: counted again
    assert tabular.count_rows(path) == 24_999 and len(calls) == 2


def test_a_small_file_is_always_checked(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("id,text\n1,fine\n", encoding="utf-8")
    assert tabular._pass_key(path, "x") is None
    assert len(_first_chunk(path)) == 1
    path.write_text('id,text\n1,"open\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="never closed"):
        _first_chunk(path)
