"""A pool of real comments tagged once by the tool, for simulating feedback streams.

The pxtextmining phase-1 file (real NHS Friends and Family Test comments, read in place, never copied)
is read, every comment with text is tagged once with the tool's own suggester (a chosen backend), and
only *labels* are kept: the true key question (through ``training/phase1_mapping.yaml``; empty for
subcategories with no defensible key question), the true polarity (from the coder's criticality), and
the tool's predicted key question, statement, band and abstention reason. No comment text is stored:
the cache is a small Parquet file of labels keyed by the input file's SHA-256, the backend and the
model version (``<cache>/trends-sim/``).

In: the phase-1 CSV path. Out: :class:`Pool` (a DataFrame, one row per comment with text).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evidencenlp.errors import DataError

#: columns of the pool frame
POOL_COLUMNS: tuple[str, ...] = ("organization", "true_key_question", "true_polarity", "key_question",
                                 "statement", "band", "reason")


@dataclass(frozen=True)
class Pool:
    """The tagged comments: ``frame`` with :data:`POOL_COLUMNS`; ``source`` describes where it came from."""

    frame: pd.DataFrame
    source: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _true_labels(raw: pd.DataFrame) -> pd.DataFrame:
    """True key question (or "") and polarity per row, from the mapping file."""
    from evidencenlp.evaluation.phase1 import load_mapping, looks_like_phase1

    if not looks_like_phase1([str(c) for c in raw.columns]):
        raise DataError("the phase-1 file needs the columns feedback, subcategory and criticality")
    mapping = load_mapping()
    cols = {str(c).strip().casefold(): c for c in raw.columns}
    sub = raw[cols["subcategory"]].fillna("").astype(str).str.strip()
    kq = [(m.key_question or "") if (m := mapping.get(s)) is not None else "" for s in sub]
    polarity = raw[cols["criticality"]].map(mapping.criticality.polarity)
    org = raw[cols["organization"]].fillna("").astype(str) if "organization" in cols else ""
    return pd.DataFrame({"organization": org, "true_key_question": kq, "true_polarity": polarity},
                        index=raw.index)


def load_pool(path: Path, backend: str = "static", models: Path | None = None,
              cache: Path | None = None, batch_rows: int = 2000) -> Pool:
    """Read ``path`` (phase-1 CSV), tag its comments once with ``backend`` and return the label pool (cached)."""
    from evidencenlp.paths import cache_dir
    from evidencenlp.suggest import Suggester
    from evidencenlp.tabular import read_table

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file (the pxtextmining phase-1 text_data.csv)")
    suggester = Suggester.load(models=models, backend=backend)
    folder = Path(cache) if cache is not None else cache_dir() / "trends-sim"
    key = hashlib.sha256(f"{_sha256(path)}|{backend}|{suggester.model_version}".encode()).hexdigest()[:16]
    target = folder / f"pool-{key}.parquet"
    source = f"{path.name} tagged with the {backend} backend (model {suggester.model_version})"
    if target.is_file():
        return Pool(pd.read_parquet(target), source)
    raw = read_table(path)
    cols = {str(c).strip().casefold(): c for c in raw.columns}
    if "feedback" not in cols:
        raise DataError(f"{path}: no column 'feedback'")
    text = raw[cols["feedback"]].fillna("").astype(str).str.strip()
    raw = raw[text != ""]
    texts = text[text != ""].tolist()
    labels = _true_labels(raw).reset_index(drop=True)
    found: dict[str, list[str]] = {c: [] for c in ("key_question", "statement", "band", "reason")}
    for start in range(0, len(texts), batch_rows):
        for s in suggester.suggest_many(texts[start:start + batch_rows], sentences=False, evidence=False):
            assert s is not None  # every text is non-blank
            found["key_question"].append(s.key_question.label if s.key_question else "")
            found["statement"].append(s.statement.label if s.statement else "")
            found["band"].append(s.band.label if s.band else "")
            found["reason"].append(s.reason or "")
    frame = pd.concat([labels, pd.DataFrame(found)], axis=1)[list(POOL_COLUMNS)]
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(target)
    return Pool(frame, source)
