"""Labelled data: the corpus columns, framework-derived examples, loading and validating labelled files.

A labelled table has the columns of :data:`CORPUS_COLUMNS`; a label may be empty when unknown (a
head is trained only on the rows that carry its label). ``principles`` is a ``;``-separated list.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from evidencenlp.defaults import SERVICES
from evidencenlp.errors import DataError
from evidencenlp.frameworks.crosswalk import Crosswalk
from evidencenlp.frameworks.files import Framework
from evidencenlp.frameworks.ids import (
    KLOE_ID,
    PRINCIPLES_ID,
    SAF_ID,
    V6_ID,
)
from evidencenlp.frameworks.set import default_taxonomy
from evidencenlp.frameworks.taxonomy import Taxonomy
from evidencenlp.paths import training_dir
from evidencenlp.tabular import read_table

CORPUS_COLUMNS: tuple[str, ...] = ("note_id", "text", "key_question", "statement", "evidence_category", "band",
                                   "principles", "service")
LABEL_COLUMNS: tuple[str, ...] = ("key_question", "statement", "evidence_category", "band")


DIRECTION_PATTERNS_FILE = "direction_patterns.yaml"


def direction_patterns(frameworks: dict[str, Framework], crosswalk: Crosswalk,
                       path: Path | None = None) -> list[dict[str, str]]:
    """Rows from ``training/direction_patterns.yaml``: evidence phrasings of a v6 topic's band descriptors.

    Every group names a v6 ``topic`` (must exist), a ``band`` and one of the SAF statements the
    crosswalk links the topic to; a bad group is a :class:`DataError` naming the file and group.
    Returns an empty list when the v6 framework is not loaded.
    """
    import yaml

    fw = frameworks.get(V6_ID)
    if fw is None:
        return []
    path = path or training_dir() / DIRECTION_PATTERNS_FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: cannot read the direction patterns ({type(exc).__name__})") from exc
    topics = {t.item for t in fw.texts() if t.kind == "descriptor"}
    taxonomy = default_taxonomy()
    bands = set(taxonomy.bands)
    rows: list[dict[str, str]] = []
    for g, group in enumerate(doc.get("groups", []) if isinstance(doc, dict) else []):
        where = f"{path}: group {g + 1}"
        topic, statement, band = group.get("topic"), group.get("statement"), group.get("band")
        if topic not in topics:
            raise DataError(f"{where}: topic {topic!r} is not a topic of {V6_ID}")
        if band not in bands:
            raise DataError(f"{where}: band {band!r} is not one of {sorted(bands)}")
        if statement not in crosswalk.saf_for(V6_ID, topic):
            raise DataError(f"{where}: statement {statement!r} is not linked to topic {topic!r} by the crosswalk")
        texts = group.get("texts") or []
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise DataError(f"{where}: texts must be a non-empty list of sentences")
        for n, text in enumerate(texts):
            rows.append({"note_id": f"fw:direction-patterns:{topic}:{band}:{n}", "text": text.strip(),
                         "key_question": taxonomy.key_question_of(statement), "statement": statement,
                         "evidence_category": "", "band": band, "principles": "", "service": "",
                         "origin": "framework:direction-patterns"})
    return rows


def framework_examples(frameworks: dict[str, Framework], crosswalk: Crosswalk) -> pd.DataFrame:
    """Labelled sentences derived from the frameworks (weak supervision).

    - v6 band descriptors and KLOE ratings characteristics → key question, band, and the SAF
      statement when the crosswalk links the topic/KLOE to exactly one statement;
    - KLOE prompts and SAF "we statements" → key question and statement;
    - King's Fund principle illustrations → the principle, band ``outstanding``;
    - the direction patterns of :func:`direction_patterns` (evidence phrasings of v6 descriptors).
    Evidence category and service are left empty (framework text is none of them).
    """
    rows: list[dict[str, str]] = []
    for fid in (V6_ID, KLOE_ID, SAF_ID, PRINCIPLES_ID):
        fw = frameworks.get(fid)
        if fw is None:
            continue
        for n, t in enumerate(fw.texts()):
            statements = crosswalk.saf_for(t.framework, t.item)
            row = {"note_id": f"fw:{fid}:{t.item}:{t.kind}:{n}", "text": t.text, "key_question": t.key_question or "",
                   "statement": statements[0] if len(statements) == 1 else "", "evidence_category": "",
                   "band": t.band or "", "principles": "", "service": "", "origin": f"framework:{fid}:{t.kind}"}
            if t.kind in ("descriptor", "rating", "key_question_rating"):
                rows.append(row)
            elif t.kind in ("prompt", "quality_statement") and row["statement"]:
                rows.append(row)
            elif t.kind == "illustration":
                row.update(band="outstanding", principles=t.item)
                rows.append(row)
    rows.extend(direction_patterns(frameworks, crosswalk))
    return pd.DataFrame(rows, columns=[*CORPUS_COLUMNS, "origin"])


def validate_labelled(frame: pd.DataFrame, path: Path | str, statements: list[str] | None = None,
                      require: tuple[str, ...] = ("text",), taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Check columns and label values; return a clean copy (labels as str, '' for missing).

    Raises :class:`DataError` naming the file, the first bad rows (1-based data rows) and column.
    """
    missing = [c for c in ("text", *require) if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; columns found: "
                        f"{', '.join(map(str, frame.columns))}")
    out = frame.copy()
    for col in (*CORPUS_COLUMNS, "origin"):
        if col not in out.columns:
            out[col] = ""
        out[col] = out[col].fillna("").astype(str).str.strip()
    if not out["note_id"].astype(bool).all():
        out["note_id"] = [nid or f"{Path(str(path)).stem}:{i + 1}" for i, nid in enumerate(out["note_id"])]
    taxonomy = taxonomy or default_taxonomy()
    allowed = {"key_question": set(taxonomy.key_questions), "evidence_category": set(taxonomy.categories),
               "band": set(taxonomy.bands), "service": set(SERVICES)}
    if statements is not None:
        allowed["statement"] = set(statements)
    for col, values in allowed.items():
        bad = out.index[(out[col] != "") & ~out[col].isin(values)]
        if len(bad):
            rows = ", ".join(str(frame.index.get_loc(i) + 1) for i in bad[:5])
            raise DataError(f"{path}: column {col!r}, data row(s) {rows}: unexpected value "
                            f"{out.loc[bad[0], col]!r}; expected one of {', '.join(sorted(values))} or empty")
    if statements is not None:
        kq_of = {s: taxonomy.key_question_of(s) if s in taxonomy.statements else s.split(".")[0] for s in statements}
        clash = out.index[(out["statement"] != "") & (out["key_question"] != "")
                          & (out["statement"].map(kq_of) != out["key_question"])]
        if len(clash):
            i = clash[0]
            raise DataError(f"{path}: data row {frame.index.get_loc(i) + 1}: statement {out.loc[i, 'statement']!r} "
                            f"belongs to key question {kq_of[out.loc[i, 'statement']]!r}, not {out.loc[i, 'key_question']!r}")
        fill = (out["key_question"] == "") & (out["statement"] != "")
        out.loc[fill, "key_question"] = out.loc[fill, "statement"].map(kq_of)
    blank = out.index[out["text"] == ""]
    if len(blank):
        out = out.drop(index=blank)
    return out.reset_index(drop=True)


def load_labelled(path: Path, statements: list[str] | None = None) -> pd.DataFrame:
    """Read and validate one labelled file (any supported table format)."""
    frame = read_table(path)
    frame.index = range(len(frame))
    return validate_labelled(frame, path, statements)


def corpus_files(directory: Path | None = None) -> list[Path]:
    """The hand-written corpus files: ``training/corpus/*.csv``."""
    folder = (directory or training_dir()) / "corpus"
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def load_corpus(directory: Path | None = None, statements: list[str] | None = None) -> pd.DataFrame:
    """All hand-written corpus notes, validated, with an ``origin`` column naming the file."""
    files = corpus_files(directory)
    if not files:
        raise DataError(f"no corpus files in {(directory or training_dir()) / 'corpus'}")
    frames = []
    for path in files:
        frame = load_labelled(path, statements)
        frame["origin"] = f"corpus:{path.name}"
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the texts and labels (order-independent), identifying a training set."""
    cols = [c for c in CORPUS_COLUMNS if c in frame.columns]
    lines = sorted("\x1f".join(str(v) for v in row) for row in frame[cols].itertuples(index=False, name=None))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


__all__ = ["CORPUS_COLUMNS", "DIRECTION_PATTERNS_FILE", "LABEL_COLUMNS", "corpus_files", "data_hash", "direction_patterns", "framework_examples", "load_corpus", "load_labelled", "validate_labelled"]
