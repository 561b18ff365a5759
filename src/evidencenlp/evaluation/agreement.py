"""Agreement between two labelled tables (two inspectors, or ``evidencenlp tag`` output vs an inspector).

Rows are joined on a key column (default ``note_id`` when both tables have it) or, without one, by
row order when both tables have the same number of rows. For each task that both tables label,
Cohen's kappa and the observed agreement are computed over the rows where both labels are present,
and every disagreement is listed by key (the note text only on request).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evidencenlp.errors import DataError
from evidencenlp.evaluation.metrics import cohen_kappa
from evidencenlp.tabular import read_table
from evidencenlp.taxonomy import TASKS

DEFAULT_KEY = "note_id"


TAG_MARKER = "key_question_score"


def tag_prefix(columns: list[str]) -> str | None:
    """The ``--prefix`` of ``evidencenlp tag`` output (``""`` for none), found from the score column
    tag always adds (``<prefix>key_question_score``); None when the table is not tag output."""
    found = [str(c)[: -len(TAG_MARKER)] for c in columns if str(c).endswith(TAG_MARKER)]
    return found[0] if len(found) == 1 else None


def label_column(columns: list[str], task: str, prefix: str = "") -> str | None:
    """The column holding ``task`` labels: ``prefix + task`` if present, else the only column named
    ``*_<task>`` (e.g. ``suggested_statement`` from ``tag --prefix suggested_``), else None."""
    if prefix:
        return f"{prefix}{task}" if f"{prefix}{task}" in columns else None
    if task in columns:
        return task
    candidates = [c for c in columns if str(c).endswith(f"_{task}")]
    return candidates[0] if len(candidates) == 1 else None


@dataclass
class Disagreement:
    """One row where the two tables disagree on a task."""

    key: str
    task: str
    a: str
    b: str
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``text`` only when it was asked for)."""
        out = {"key": self.key, "task": self.task, "a": self.a, "b": self.b}
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass
class TaskAgreement:
    """Kappa and observed agreement on ``n`` rows labelled in both tables."""

    task: str
    column_a: str
    column_b: str
    n: int
    agreement: float
    kappa: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (nan → None)."""
        return {"task": self.task, "column_a": self.column_a, "column_b": self.column_b, "n": self.n,
                "agreement": None if math.isnan(self.agreement) else round(self.agreement, 6),
                "kappa": None if math.isnan(self.kappa) else round(self.kappa, 6)}


@dataclass
class AgreementResult:
    """Everything :func:`compare` found."""

    join: str
    rows_a: int
    rows_b: int
    matched: int
    only_a: int
    only_b: int
    tasks: list[TaskAgreement] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"join": self.join, "rows_a": self.rows_a, "rows_b": self.rows_b, "matched": self.matched,
                "only_in_a": self.only_a, "only_in_b": self.only_b, "tasks": [t.to_dict() for t in self.tasks],
                "disagreements": [d.to_dict() for d in self.disagreements]}


def _clean(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.strip().replace({"None": "", "nan": ""})


def compare(a: pd.DataFrame, b: pd.DataFrame, key: str | None = None, tasks: tuple[str, ...] = TASKS,
            prefix_a: str = "", prefix_b: str = "", text_column: str = "text", show_text: bool = False,
            name_a: str = "A", name_b: str = "B") -> AgreementResult:
    """Join ``a`` and ``b`` and measure agreement per task (see the module docstring).

    Without an explicit prefix, a table that is ``tag`` output is read through its suggestion
    columns (``<prefix><task>``), never the input labels that ``tag`` carried through.
    """
    cols_a, cols_b = [str(c) for c in a.columns], [str(c) for c in b.columns]
    prefix_a = prefix_a or tag_prefix(cols_a) or ""
    prefix_b = prefix_b or tag_prefix(cols_b) or ""
    if key is not None:
        for name, cols in ((name_a, cols_a), (name_b, cols_b)):
            if key not in cols:
                raise DataError(f"{name}: no key column {key!r}; columns found: {', '.join(cols)}")
    elif DEFAULT_KEY in cols_a and DEFAULT_KEY in cols_b:
        key = DEFAULT_KEY
    if key is not None:
        ka, kb = _clean(a[key]), _clean(b[key])
        for name, k in ((name_a, ka), (name_b, kb)):
            dup = k[k.duplicated() & (k != "")]
            if len(dup):
                raise DataError(f"{name}: key column {key!r} has duplicate value {dup.iloc[0]!r}; keys must be unique")
        a = a.assign(_key=ka.to_numpy())
        b = b.assign(_key=kb.to_numpy())
        a, b = a[a["_key"] != ""], b[b["_key"] != ""]
        join = f"joined on column {key!r}"
    else:
        if len(a) != len(b):
            raise DataError(f"{name_a} has {len(a)} rows and {name_b} has {len(b)}, and there is no common "
                            f"{DEFAULT_KEY!r} column: give --key COLUMN to join them")
        a = a.assign(_key=[str(i + 1) for i in range(len(a))])
        b = b.assign(_key=[str(i + 1) for i in range(len(b))])
        join = "joined by row order (no key column; keys below are 1-based row numbers)"
    merged = a.merge(b, on="_key", how="inner", suffixes=("__a", "__b"))
    result = AgreementResult(join=join, rows_a=len(a), rows_b=len(b), matched=len(merged),
                             only_a=int((~a["_key"].isin(b["_key"])).sum()),
                             only_b=int((~b["_key"].isin(a["_key"])).sum()))

    def col(frame_cols: list[str], name: str, side: str) -> str:
        return f"{name}__{side}" if f"{name}__{side}" in merged.columns else name

    text_col = None
    if show_text:
        for side, cols in (("a", cols_a), ("b", cols_b)):
            if text_column in cols:
                text_col = col(cols, text_column, side)
                break
    found_any = False
    for task in tasks:
        ca, cb = label_column(cols_a, task, prefix_a), label_column(cols_b, task, prefix_b)
        if ca is None or cb is None:
            continue
        found_any = True
        la, lb = _clean(merged[col(cols_a, ca, "a")]), _clean(merged[col(cols_b, cb, "b")])
        both = (la != "") & (lb != "")
        x, y = la[both].tolist(), lb[both].tolist()
        agree = sum(p == q for p, q in zip(x, y)) / len(x) if x else math.nan
        result.tasks.append(TaskAgreement(task, ca, cb, len(x), agree, cohen_kappa(x, y)))
        for i in merged.index[both & (la != lb)]:
            text = str(merged.at[i, text_col]) if text_col is not None else None
            result.disagreements.append(Disagreement(str(merged.at[i, "_key"]), task, la[i], lb[i], text))
    if not found_any:
        raise DataError(f"no task labelled in both tables: expected columns among {', '.join(tasks)} "
                        f"(or *_<task> from `tag --prefix`); {name_a} has {', '.join(cols_a)}; "
                        f"{name_b} has {', '.join(cols_b)}")
    return result


def compare_files(path_a: Path, path_b: Path, **kwargs: Any) -> AgreementResult:
    """:func:`compare` on two table files (any supported format)."""
    return compare(read_table(Path(path_a)), read_table(Path(path_b)), name_a=str(path_a), name_b=str(path_b),
                   **kwargs)
