"""A well-formed CSV is never refused (issue 22 item 4); a quote left open is (no silent merge of rows).

Files are written by pandas ``to_csv`` (as analysts save them) and read back with the tool's reader
(:func:`evidencenlp.tabular.iter_chunks`, which ``tag``, ``review`` and ``summarise`` use): every
cell must come back exactly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import iter_chunks

PHASE1 = Path("/work/shared/data/pxtextmining-phase1/text_data.csv")


def read_back(path: Path, **kwargs: object) -> pd.DataFrame:
    return pd.concat(list(iter_chunks(path, chunk_rows=5000, **kwargs)))  # type: ignore[arg-type]


@pytest.mark.skipif(not PHASE1.exists(), reason="the shared phase-1 file is not on this machine")
@pytest.mark.parametrize("index", [False, True])
def test_phase1_comments_saved_by_pandas_are_read_back_exactly(tmp_path: Path, index: bool) -> None:
    original = pd.read_csv(PHASE1, dtype=str, keep_default_na=False)
    assert original["feedback"].str.contains("\n").sum() > 100  # the file does hold multi-line comments
    path = tmp_path / "phase1.csv"
    original.to_csv(path, index=index)
    got = read_back(path)
    if index:
        assert got.iloc[:, 0].tolist() == [str(i) for i in range(len(original))]
        got = got.iloc[:, 1:]
    assert got.reset_index(drop=True).equals(original)


# -- generated files -----------------------------------------------------------------------------------------

WORDS = st.sampled_from(["kind", "staff", "Good food", "waited", "2 hours", "A&E", "ward 7", "Oak", "Elm",
                         "2024-03-01", "12", "N0042", "x", "\u00e9t\u00e9", "\U0001f600"])
PIECES = st.sampled_from([",", ";", "\t", "|", '"', '""', "'", "\n", "\r\n", " ", ", ", '",', ',"', "\n\n"])


def comment_line(key: str) -> st.SearchStrategy[str]:
    """A line of a comment: words and separators, or text shaped like a row of the file itself."""
    row_like = st.tuples(st.sampled_from([key, "1", "2", "3", "99", "2024-03-02", "N0007"]), WORDS, WORDS).map(
        lambda t: ",".join(t))
    return st.one_of(st.lists(st.one_of(WORDS, PIECES), max_size=8).map("".join), row_like)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    key_kind = draw(st.sampled_from(["int", "date", "code", "word"]))
    keys = {"int": [str(i + 1) for i in range(n)],
            "date": [f"2024-03-{i + 1:02d}" for i in range(n)],
            "code": [f"N{i + 1:04d}" for i in range(n)],
            "word": [draw(WORDS) for _ in range(n)]}[key_kind]
    comments = ["\n".join(draw(st.lists(comment_line(k), min_size=1, max_size=4))) for k in keys]
    sites = [draw(WORDS) for _ in range(n)]
    return pd.DataFrame({"key": keys, "site": sites, "comment": comments, "band": ["good"] * n})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames(), index=st.booleans(), sep=st.sampled_from([",", "\t", ";"]),
       eol=st.sampled_from(["\n", "\r\n"]))
def test_generated_multiline_comments_are_read_back_exactly(tmp_path: Path, frame: pd.DataFrame, index: bool,
                                                            sep: str, eol: str) -> None:
    path = tmp_path / ("notes.tsv" if sep == "\t" else "notes.csv")
    frame.to_csv(path, index=index, sep=sep, lineterminator=eol)
    got = read_back(path, delimiter=None if sep == "\t" else sep)
    if index:
        got = got.iloc[:, 1:]
    assert got.reset_index(drop=True).equals(frame)  # a note's own line breaks kept as written


# -- a quote left open is still refused -----------------------------------------------------------------------

NOTE = "resident waited, staff said the bell was broken"


@pytest.mark.parametrize("content", [
    f'id,text\n1,"{NOTE}\n2,{NOTE}\n3,{NOTE}"\n4,x\n',  # closed by a stray quote three rows later
    f'id,text\n1,"{NOTE}\n2,{NOTE}\n3,{NOTE}"\n',  # ... at the end of the file
    f'date,site,text\n2024-03-01,Oak,"{NOTE}\n2024-03-02,Elm,{NOTE}"\n2024-03-03,Oak,x\n',
    f'id,text\n1,"{NOTE}\n2,{NOTE}\n',  # never closed at all
])
def test_a_quote_left_open_is_refused_not_merged(tmp_path: Path, content: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=r"line 2 .*quote|line 2: a quote opened here"):
        read_back(path)
