"""``evidencenlp.tagging.tag``: one entry for both engines, redaction said once (in the SuggesterSpec), every
check that needs no model made before the model loads. A fast stand-in suggester replaces the real model."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evidencenlp.errors import InputFileError
from evidencenlp.suggest import Suggestion
from evidencenlp.tabular import read_table
from evidencenlp.tagging import AlreadyComplete, SuggesterSpec, TagOptions, check_engine, parts_dir, tag, tag_file
from test_tag_safety import Fake

NAME = "Smith"


class Redacting(Fake):
    """The stand-in, redacting a surname the way the real Suggester redacts identifiers (when asked to)."""

    def __init__(self, redact: bool) -> None:
        super().__init__()
        self.redact = redact

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = False, evidence: bool = False,
                     progress: Any = None, topics: bool = False) -> list[Suggestion | None]:
        out = super().suggest_many(texts)
        if not self.redact:
            return out
        return [None if s is None else dataclasses.replace(s, text=s.text.replace(NAME, "[NAME]"),
                                                           redactions={"name": s.text.count(NAME)})
                for s in out]


@dataclasses.dataclass(frozen=True)
class FakeSpec(SuggesterSpec):
    """A spec whose ``load`` builds the stand-in and counts the loads (in a list: the spec stays frozen)."""

    loads: list[int] = dataclasses.field(default_factory=list, compare=False, hash=False)

    def load(self) -> Any:
        self.loads.append(1)
        return Redacting(self.redact)


def _notes(tmp_path: Path) -> Path:
    src = tmp_path / "notes.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "text": [f"Mrs {NAME} fell at night.", "", "Staff were kind."]}).to_csv(
        src, index=False)
    return src


@pytest.mark.parametrize("redact", [True, False])
def test_redaction_follows_the_spec(tmp_path: Path, redact: bool) -> None:
    out = tmp_path / "out.csv"
    summary = tag(_notes(tmp_path), out, TagOptions(), FakeSpec(redact=redact))
    text = read_table(out)["text"].tolist()
    assert (NAME in text[0]) is not redact and ("[NAME]" in text[0]) is redact
    assert summary.redactions == ({"name": 1} if redact else {})
    assert (summary.rows, summary.tagged, summary.blank) == (3, 2, 1)


def test_tag_writes_what_tag_file_writes(tmp_path: Path) -> None:
    src = _notes(tmp_path)
    options = TagOptions(chunk_rows=2, prefix="s_")
    tag(src, tmp_path / "a.parquet", options, FakeSpec(redact=True))
    tag_file(Redacting(True), src, tmp_path / "b.parquet", "text", chunk_rows=2, prefix="s_", redact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / "b.parquet"))


def test_mistakes_are_reported_before_the_model_loads(tmp_path: Path) -> None:
    src = _notes(tmp_path)
    spec = FakeSpec()
    with pytest.raises(InputFileError, match="column 'note'"):
        tag(src, tmp_path / "out.csv", TagOptions(text_column="note"), spec)
    (tmp_path / "exists.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="already exists; pass --force"):
        tag(src, tmp_path / "exists.csv", TagOptions(), spec)
    assert spec.loads == []
    assert not parts_dir(tmp_path / "out.csv").exists()


def test_resume_of_a_finished_output_is_already_complete(tmp_path: Path) -> None:
    src, out = _notes(tmp_path), tmp_path / "out.csv"
    tag(src, out, TagOptions(), FakeSpec())
    before = out.read_bytes()
    spec = FakeSpec()
    with pytest.raises(AlreadyComplete):
        tag(src, out, TagOptions(resume=True), spec)
    assert spec.loads == [] and out.read_bytes() == before


@pytest.mark.parametrize(("engine", "options", "message"), [
    ("threads", TagOptions(), "unknown engine 'threads'"),
    ("local", TagOptions(scheduler="tcp://10.0.0.5:8786"), "apply to --engine dask only"),
    ("local", TagOptions(workers=2), "apply to --engine dask only"),
    ("dask", TagOptions(scheduler="tcp://10.0.0.5:8786", workers=2), "sets the size of a local cluster"),
    ("dask", TagOptions(scheduler="http://10.0.0.5:8787"), "http"),
])
def test_engine_options_are_checked_first(engine: str, options: TagOptions, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        check_engine(engine, options)
