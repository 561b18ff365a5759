"""The evaluation entry point: one call for every mode ``evidencenlp evaluate`` offers.

Modes: grouped cross-validation on the corpus (default), a fixed train/test split, or scoring the
shipped classifier on a labelled file (a pxtextmining phase-1 file is detected and converted
through the documented mapping). Baselines run on the same data. Nothing here prints note text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evidencenlp.errors import DataError
from evidencenlp.evaluation.baselines import MODEL_NAMES
from evidencenlp.evaluation.cv import DEFAULT_FOLDS, Evaluation
from evidencenlp.heads import DEFAULT_C
from evidencenlp.matching import FrameworkIndex

CV_FILE = "cv_metrics.json"
TRANSFER_KINDS: tuple[str, ...] = ("trusts", "inspection")
#: embed(texts, what, cache name) -> (n, 384); the CLI passes one with a progress bar
Embedder = Callable[[list[str], str, str], np.ndarray]
Log = Callable[[str], None]


@dataclass(frozen=True)
class EvaluationOptions:
    """What to evaluate and how (validated on construction).

    Exactly one of ``data``, ``phase1`` or ``train_on`` + ``test_on`` selects a mode; none means
    cross-validation on the corpus.
    """

    folds: int = DEFAULT_FOLDS
    seed: int = 0
    data: Path | None = None
    phase1: Path | None = None
    phase1_min_confidence: str = "medium"
    mapping: Path | None = None
    train_on: Path | None = None
    test_on: Path | None = None
    models: Sequence[str] = MODEL_NAMES
    framework_examples: bool = True
    jobs: int | None = None
    model_dir: Path | None = None
    C: float = DEFAULT_C
    transfer: str | None = None
    params: dict[str, Any] | None = None
    train_phase1: Path | None = None
    train_inspection: bool = False
    train_bundles: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if (self.train_on is None) != (self.test_on is None):
            raise DataError("--train-on and --test-on go together")
        if self.transfer is None and sum(x is not None for x in (self.data, self.phase1, self.train_on)) > 1:
            raise DataError("choose one of --data, --phase1 or --train-on/--test-on")
        if self.folds < 2:
            raise DataError(f"folds must be at least 2; got {self.folds}")
        unknown = [m for m in self.models if m not in MODEL_NAMES]
        if unknown or not self.models:
            raise DataError(f"unknown model(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODEL_NAMES)}")
        if self.transfer is not None:
            if self.transfer not in TRANSFER_KINDS:
                raise DataError(f"--transfer must be one of {', '.join(TRANSFER_KINDS)}; got {self.transfer!r}")
            if self.transfer == "trusts" and self.phase1 is None:
                raise DataError("--transfer trusts needs --phase1 PATH (the pxtextmining phase-1 file)")
            if self.data is not None or self.train_on is not None:
                raise DataError("--transfer goes with --phase1 only (not --data or --train-on)")
        if self.phase1_min_confidence not in ("low", "medium", "high"):
            raise DataError(f"phase-1 minimum confidence must be low, medium or high; got {self.phase1_min_confidence!r}")
        if self.train_bundles and self.mode not in ("cv", "transfer"):
            raise DataError("--train-bundles joins the training folds of cross-validation or --transfer; it does "
                            "nothing with --data, --phase1 or --train-on")
        if self.train_bundles:  # checked here, before the encoder loads
            from evidencenlp.sources.bundles import check_bundle_folders

            check_bundle_folders(self.train_bundles, "--train-bundles")

    @property
    def mode(self) -> str:
        """``cv``, ``data``, ``fixed`` or ``transfer``."""
        if self.transfer is not None:
            return "transfer"
        if self.data is not None or self.phase1 is not None:
            return "data"
        return "fixed" if self.train_on is not None else "cv"


def load_index() -> FrameworkIndex:
    """The framework index of the packaged (or ``EVIDENCENLP_FRAMEWORKS``) frameworks, embedded by torch."""
    from evidencenlp.encoder import load_embedder
    from evidencenlp.frameworks import load_framework_set

    return load_framework_set().index(load_embedder("torch"))


def _default_embed(texts: list[str], what: str, name: str) -> np.ndarray:
    from evidencenlp.evaluation.cv import embed

    return embed(texts, name=name)


def training_parts(index: FrameworkIndex, use_framework: bool) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(framework examples, corpus); either may be ``None``."""
    from evidencenlp.sources.corpus import corpus_files, framework_examples, load_corpus

    fw = framework_examples(index.frameworks, index.crosswalk) if use_framework else None
    corpus = load_corpus(statements=index.statements) if corpus_files() else None
    return fw, corpus


def cv_training(index: FrameworkIndex, options: EvaluationOptions) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """What corpus cross-validation trains on: (framework examples plus the ``options``' extra training
    rows — every fold gets them — or ``None``, the corpus the folds are drawn from). Raises
    :class:`DataError` when there is no corpus."""
    fw, corpus = training_parts(index, options.framework_examples)
    if corpus is None or corpus.empty:
        raise DataError("no corpus to cross-validate on (training/corpus/*.csv); give --data or --train-on")
    return with_extra_training(fw, options, index), corpus


def evaluate(options: EvaluationOptions | None = None, index: FrameworkIndex | None = None,
             embed: Embedder | None = None, log: Log | None = None) -> Evaluation:
    """Run the evaluation ``options`` describe and return its :class:`Evaluation` (figures per model and task)."""
    from evidencenlp.evaluation.cv import cross_validate, fixed_split, score_labelled
    from evidencenlp.sources.corpus import load_labelled

    options = options or EvaluationOptions()
    index = index or load_index()
    embed = embed or _default_embed
    say = log or (lambda _m: None)
    names = list(options.models)

    if options.mode == "data":
        from evidencenlp.classifier import EvidenceClassifier
        from evidencenlp.sources.phase1 import convert, load_mapping, looks_like_phase1
        from evidencenlp.tabular import read_table

        path = options.phase1 or options.data
        assert path is not None
        raw = read_table(path)
        phase1_summary = None
        if options.phase1 is not None or looks_like_phase1(list(raw.columns)):
            converted = convert(raw, load_mapping(options.mapping, statements=index.statements),
                                min_confidence=options.phase1_min_confidence, source="phase1")
            test = converted.frame
            phase1_summary = converted.summary()
            say(f"phase-1 file: {phase1_summary['rows_used']:,} of {phase1_summary['total_rows']:,} rows used "
                f"({phase1_summary['excluded_no_mapping_total']:,} with no defensible mapping, "
                f"{phase1_summary['excluded_low_confidence_total']:,} below {options.phase1_min_confidence} "
                "confidence)")
            if test.empty:
                raise DataError(f"{path}: no row of the phase-1 file has a mapped subcategory")
        else:
            from evidencenlp.sources.corpus import validate_labelled

            raw.index = range(len(raw))
            test = validate_labelled(raw, path, index.statements)
        classifier = EvidenceClassifier.load(options.model_dir, index=index) if "heads" in names else None
        fw, corpus = training_parts(index, options.framework_examples)
        parts = [p for p in (fw, corpus) if p is not None and len(p)]
        base = pd.concat(parts, ignore_index=True) if parts else None
        if not any(m not in ("heads", "zero_shot") for m in names):
            base = None  # only the trained baselines are fitted on it
        base_vecs = embed(base["text"].tolist(), "training data", "training") if base is not None else None
        test, abstained = as_tag_sees(test)
        test_vecs = embed(test["text"].tolist(), f"{len(test):,} test notes", "evaluate")
        ev = score_labelled(test, test_vecs, index, classifier, base, base_vecs, models=names,
                            test_name=path.name, log=say, abstained=abstained)
        if phase1_summary is not None:
            ev.data["phase1"] = phase1_summary
            ev.mode = "phase1"
            ev.notes.append("pxtextmining phase-1 feedback (The-Strategy-Unit/pxtextmining, datasets/phase_1) mapped "
                            "to SAF through training/phase1_mapping.yaml; evidence category is people_experience for "
                            "every row; no band is derived from criticality, whose direction is scored as 'polarity' "
                            "(criticality ≥ +3 positive, ≤ −3 negative) against P(good) + P(outstanding).")
        return ev
    if options.mode == "fixed":
        assert options.train_on is not None and options.test_on is not None
        train = load_labelled(options.train_on, index.statements)
        test = load_labelled(options.test_on, index.statements)
        fw, _ = training_parts(index, options.framework_examples)
        fw_vecs = embed(fw["text"].tolist(), "framework examples", "framework-examples") if fw is not None else None
        return fixed_split(train, embed(train["text"].tolist(), options.train_on.name, "evaluate"), test,
                           embed(test["text"].tolist(), options.test_on.name, "evaluate"), index, fw, fw_vecs,
                           models=names, train_name=options.train_on.name, test_name=options.test_on.name,
                           C=options.C, log=say)
    fw, corpus = cv_training(index, options)
    # embed framework examples + corpus together, exactly as `train` does, to share its cache
    both = pd.concat([p for p in (fw, corpus) if p is not None], ignore_index=True)
    vecs = embed(both["text"].tolist(), f"{len(both):,} training texts", "training")
    n_fw = 0 if fw is None else len(fw)
    params = dict(options.params) if options.params is not None else shipped_params(options.model_dir)
    return cross_validate(corpus, vecs[n_fw:], index, fw, vecs[:n_fw] if n_fw else None, folds=options.folds,
                          seed=options.seed, models=names, n_jobs=options.jobs, C=options.C, log=say,
                          params=params)


def as_tag_sees(test: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The labelled notes as ``tag`` and the review see them: redacted the same way (``tag``'s default), and
    which of them ``tag`` abstains on (no suggestion: scored as a miss). Returns ``(frame, abstained (n,))``."""
    from evidencenlp.abstain import abstention_reasons
    from evidencenlp.text import redact_only

    texts = test["text"].astype(str).tolist()
    abstained = np.array([r is not None for r in abstention_reasons(texts)], dtype=bool)
    return test.assign(text=[redact_only(t).text for t in texts]), abstained


def with_extra_training(fw: pd.DataFrame | None, options: EvaluationOptions,
                         index: FrameworkIndex) -> pd.DataFrame | None:
    """Framework examples plus, when asked, real feedback, inspection paragraphs and assessment bundle notes
    for every training fold."""
    from evidencenlp.sources import inspection_examples

    parts = [p for p in (fw,) if p is not None]
    if options.train_phase1 is not None:
        from evidencenlp.sources.phase1 import load_mapping, training_rows
        from evidencenlp.tabular import read_table

        parts.append(training_rows(read_table(options.train_phase1), load_mapping(statements=index.statements),
                                   min_confidence=options.phase1_min_confidence))
    if options.train_inspection:
        parts.append(inspection_examples())
    if options.train_bundles:
        from evidencenlp.sources.bundles import bundle_rows

        parts.append(bundle_rows(options.train_bundles))
    if not parts:
        return None
    frame = pd.concat(parts, ignore_index=True)
    for col in ("key_question", "statement", "evidence_category", "band", "principles", "origin", "direction"):
        frame[col] = frame[col].fillna("").astype(str) if col in frame else ""
    return frame


def save_cv(ev: Evaluation, target: Path, log: Log | None = None) -> Path:
    """Write ``cv_metrics.json`` beside the model (atomically) and refresh the model card; returns the file."""
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.errors import ModelError
    from evidencenlp.modelcard import write_model_card

    say = log or (lambda _m: None)
    target.mkdir(parents=True, exist_ok=True)
    path = target / CV_FILE
    payload: dict[str, Any] = {"description": ev.description, "sha256": ev.data.get("sha256"),
                               "markdown": ev.markdown(),
                               "summary": [{"task": t, "metric": m, "values": v} for t, m, v in ev.summary_rows()]}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    try:
        write_model_card(EvidenceClassifier.load(target), target)
        say(f"updated {target / 'MODEL_CARD.md'}")
    except ModelError as exc:  # no classifier there yet: the card is written by the next `train`
        say(f"model card not updated ({exc})")
    return path


def transfer(options: EvaluationOptions, index: FrameworkIndex | None = None, embed: Embedder | None = None,
             log: Log | None = None) -> Any:
    """Run a transfer test (``options.transfer``): leave one phase-1 trust out, or hold out the inspection reports.

    The classifier is fitted with ``options.params`` (default: the shipped model's parameters) on
    exactly the rows ``evidencenlp train`` would use, less the held-out source.
    """
    from evidencenlp.evaluation import transfer as T
    from evidencenlp.sources import SourceSelection, gather, inspection_examples

    index = index or load_index()
    embed = embed or _default_embed
    say = log or (lambda _m: None)
    params = dict(options.params) if options.params is not None else shipped_params(options.model_dir)
    selection = SourceSelection(corpus=True, framework_examples=options.framework_examples,
                                phase1=options.phase1, phase1_min_confidence=options.phase1_min_confidence,
                                bundles=tuple(options.train_bundles))
    frame = gather(selection, index)  # the rows `evidencenlp train` would use
    vectors = embed(frame["text"].tolist(), f"{len(frame):,} training texts", "training")
    is_feedback = frame["origin"].str.startswith("phase1").to_numpy()
    if options.transfer == "trusts":
        return T.leave_one_group_out(frame[is_feedback].reset_index(drop=True), vectors[is_feedback],
                                     frame[~is_feedback].reset_index(drop=True), vectors[~is_feedback], index,
                                     params, log=say, seed=options.seed)
    test = inspection_examples()
    test_vecs = embed(test["text"].tolist(), f"{len(test):,} inspection paragraphs", "inspection")
    return T.held_out_source(test, test_vecs, frame, vectors, index, params,
                             "CQC inspection reports (training/inspection)", log=say, seed=options.seed)


def _model_meta(model_dir: Path | None) -> dict[str, Any] | None:
    """The shipped (or given) classifier's JSON (``heads.json``), read without loading weights; None when
    it cannot be read."""
    from evidencenlp.classifier import META_FILE
    from evidencenlp.paths import models_dir

    try:
        meta = json.loads(((model_dir or models_dir()) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def shipped_training_data(model_dir: Path | None = None) -> dict[str, Any]:
    """The shipped (or given) classifier's training-data provenance (``training_data`` of its JSON; empty when
    there is none), read without loading weights."""
    data = (_model_meta(model_dir) or {}).get("training_data")
    return data if isinstance(data, dict) else {}


def shipped_model_version(model_dir: Path | None = None) -> str | None:
    """The shipped (or given) classifier's version (``model_version`` of its JSON; None when there is none), read
    without loading weights."""
    version = (_model_meta(model_dir) or {}).get("model_version")
    return str(version) if version is not None else None


def shipped_params(model_dir: Path | None = None) -> dict[str, Any]:
    """The hyper-parameters of the shipped (or given) classifier, read from its JSON (no weights loaded)."""
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.classifier.persistence import params_from_meta

    meta = _model_meta(model_dir)
    if meta is None:
        return EvidenceClassifier().get_params()
    params = params_from_meta(meta)
    params.pop("frameworks", None)
    return params


def save_transfer(result: Any, target: Path, log: Log | None = None) -> Path:
    """Write ``transfer_<kind>.json`` beside the model (atomically) and refresh the model card."""
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.errors import ModelError
    from evidencenlp.modelcard import write_model_card

    say = log or (lambda _m: None)
    target.mkdir(parents=True, exist_ok=True)
    name = "trusts" if result.kind == "leave-one-trust-out" else "inspection"
    path = target / f"transfer_{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    try:
        write_model_card(EvidenceClassifier.load(target), target)
        say(f"updated {target / 'MODEL_CARD.md'}")
    except ModelError as exc:
        say(f"model card not updated ({exc})")
    return path
