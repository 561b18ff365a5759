"""Write ``models/MODEL_CARD.md`` from a classifier's provenance and measured metrics."""

from __future__ import annotations

import json
from pathlib import Path

from evidencenlp.classifier import EvidenceClassifier

CV_FILE = "cv_metrics.json"


def _metrics_lines(metrics: dict) -> list[str]:
    lines = ["| task | accuracy | macro-F1 | n |", "|---|---|---|---|"]
    for task, m in metrics.items():
        if isinstance(m, dict) and "accuracy" in m:
            lines.append(f"| {task} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['n']} |")
    return lines


#: the backends' accuracy and speed, measured side by side by ``bench/run.py`` (copied here with --model-card)
BACKENDS_FILE = "backends.json"


def _backend_lines(path: Path) -> list[str]:
    """The model card's "Backends" table from ``backends.json`` (absent: nothing)."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    accuracy, speed = data.get("accuracy", {}), data.get("throughput", {})
    rows_per_s = speed.get("rows_per_s", {})
    agreement = {"torch": "1", "onnx-int8": speed.get("kq_agreement_onnx_int8_vs_torch", "–"),
                 "static": speed.get("kq_agreement_static_vs_torch", "–")}
    heads = {"torch": "models/", "onnx-int8": "models/ (the torch heads)", "static": "models/static/"}
    lines = ["## Backends (`--backend`)",
             f"Accuracy on {accuracy.get('rows', '?')} CQC inspection-report paragraphs that no shipped head was "
             f"trained on ({accuracy.get('with_band', '?')} with a band, for direction); speed as whole `tag` "
             f"processes on the same {speed.get('rows', '?')} multi-sentence notes in one run "
             f"({data.get('machine', {}).get('cpus', '?')} CPU cores; `python bench/run.py`).", "",
             "| backend | heads | key question macro-F1 | key question accuracy | direction accuracy | "
             "rows/s | × torch | key question agreement with torch |", "|---|---|---|---|---|---|---|---|"]
    for backend in ("torch", "onnx-int8", "static"):
        a = accuracy.get(backend, {})
        ratio = {"torch": 1.0, "onnx-int8": speed.get("ratio_onnx_int8_to_torch"),
                 "static": speed.get("ratio_static_to_torch")}[backend]
        lines.append(f"| {backend} | {heads[backend]} | {a.get('kq_macro_f1', '–')} | {a.get('kq_accuracy', '–')} | "
                     f"{a.get('direction_accuracy', '–')} | {rows_per_s.get(backend, '–')} | {ratio or '–'} | "
                     f"{agreement[backend]} |")
    embeddings = speed.get("onnx_int8_embeddings")
    if embeddings:
        lines.append(f"\nonnx-int8 embeddings against torch: cosine mean {embeddings['cosine_mean']}, 5th percentile "
                     f"{embeddings['cosine_p5']}, min {embeddings['cosine_min']}; close enough that it reuses the "
                     "torch heads. The static backend has its own heads (word TF-IDF for key question and direction, "
                     "no character n-grams), trained by `evidencenlp train --backend static` on the same data.")
    return [*lines, ""]


def _experiment_lines(directory: Path, trained_on_inspection: bool) -> list[str]:
    """What the ``experiments/`` scripts measured, from their JSON beside the model (SetFit fine-tuning,
    sentence pooling, training on the inspection paragraphs — whether the model did is ``trained_on_inspection``)."""
    lines: list[str] = []
    setfit = directory / "setfit_trial.json"
    if setfit.is_file():
        data = json.loads(setfit.read_text(encoding="utf-8"))
        mean = data.get("mean", {})
        base, tuned = mean.get("classifier", {}), mean.get("fine_tuned", {})
        folds = ", ".join(f"{name} {f['classifier']['kq_macro_f1']:.3f} → {f['fine_tuned']['kq_macro_f1']:.3f}"
                          for name, f in data.get("folds", {}).items())
        settings = data.get("settings", {})
        lines.append(
            f"- SetFit-style contrastive fine-tuning of the encoder (`experiments/setfit_trial.py`: "
            f"{settings.get('pairs', '?')} key-question pairs per fold from that fold's training rows only, one pass, "
            f"lr {settings.get('lr', '?')}; framework, training rows and held-out trust re-embedded with the tuned "
            f"encoder): key question macro-F1 {base.get('kq_macro_f1', float('nan')):.3f} → "
            f"{tuned.get('kq_macro_f1', float('nan')):.3f} on average ({folds}); direction "
            f"{base.get('direction_accuracy', float('nan')):.3f} → {tuned.get('direction_accuracy', float('nan')):.3f}. "
            + ("Kept (wins by ≥ 0.03)." if data.get("keep") else
               "Not kept: the rule is a gain of at least 0.03, so the packaged encoder is used unchanged."))
    else:
        lines.append("- Not tried: SetFit-style contrastive fine-tuning of the encoder.")
    pooling = directory / "sentence_pooling.json"
    if pooling.is_file():
        data = json.loads(pooling.read_text(encoding="utf-8"))
        parts = ", ".join(f"{name} {v['kq_macro_f1']['value']:.3f}" for name, v in data.get("variants", {}).items())
        lines.append(
            f"- Sentence-level pooling for long text (`experiments/sentence_pooling.py`, {data.get('test', '')}; "
            f"key question macro-F1 over 5 key questions): {parts}. The whole-note prediction is kept; multi-topic "
            "text gets `key_questions` (every key question with probability ≥ 0.3).")
    inspection = directory / "inspection_training.json"
    if inspection.is_file():
        data = json.loads(inspection.read_text(encoding="utf-8"))
        f1 = data.get("key_question_macro_f1", {})
        without, with_ = f1.get("without", {}), f1.get("with", {})
        lines.append(
            f"- Training on the CQC inspection-report paragraphs (`experiments/inspection_training.py`, "
            f"{data.get('test', '')}; key question macro-F1 over 5 key questions): without "
            f"{without.get('value', float('nan')):.3f} [{without.get('low', float('nan')):.3f}, "
            f"{without.get('high', float('nan')):.3f}], with {with_.get('value', float('nan')):.3f} "
            f"[{with_.get('low', float('nan')):.3f}, {with_.get('high', float('nan')):.3f}]. "
            + ("This model was trained on them (`train --inspection`)." if trained_on_inspection else
               "This model was not trained on them (the default; `train --inspection` adds them): they stay "
               "a test of transfer to inspectors' writing."))
    return lines


def _grouped_origins(origins: dict[str, int]) -> dict[str, int]:
    """Row counts by origin, with assessment bundle notes (``bundle:<folder>/<bundle>``) counted per folder,
    largest first."""
    from collections import Counter

    from evidencenlp.sources.bundles import BUNDLE_ORIGIN

    grouped: Counter[str] = Counter()
    for origin, n in origins.items():
        key = origin.rsplit("/", 1)[0] if origin.startswith(f"{BUNDLE_ORIGIN}:") else origin
        grouped[key] += int(n)
    return dict(grouped.most_common())


def _inspection_only_note(classifier: EvidenceClassifier) -> str:
    """The Heads sentence on ``inspection_only`` (with a leading space), or ``""`` when it changed nothing: no
    router, or no training row of those origins."""
    prefixes = tuple(classifier.inspection_only)
    origins = classifier.training_data_.get("origins", {})
    if (not prefixes or getattr(classifier, "router_head_", None) is None
            or not any(str(o).startswith(prefixes) for o in origins)):
        return ""
    return (f" Notes whose origin starts with {' or '.join(f'`{o}`' for o in prefixes)} (`inspection_only`) teach "
            "those three tasks through the inspection expert only, never the all-rows expert that public feedback "
            "is routed to; every other head learns from them as usual.")


def write_model_card(classifier: EvidenceClassifier, directory: Path) -> Path:
    """Render the model card next to the heads. Cross-validated figures come from ``cv_metrics.json``
    (written by ``evidencenlp evaluate --save-cv``) when present."""
    holdout = classifier.metrics_.get("holdout", {})
    origins = _grouped_origins(classifier.training_data_.get("origins", {}))
    lines = [
        "# Model card: evidencenlp heads",
        "",
        f"- **Model version:** `{classifier.model_version}`",
        f"- **Encoder:** {classifier.encoder_} (frozen; embeddings L2-normalised, 384 dimensions)",
        "- **Heads:** per task (key question, SAF quality statement, evidence category, band, band direction) a "
        "multinomial logistic regression on the embedding plus cosine-similarity features to the framework sentences "
        "and a wording cue, with a temperature fitted on out-of-fold logits of notes; word 1-2-gram TF-IDF + linear "
        f"SVM heads ({', '.join(t.replace('_', ' ') for t in classifier.text_tasks) or 'none'}) and character "
        f"2-5-gram heads ({', '.join(t.replace('_', ' ') for t in classifier.char_tasks) or 'none'}), "
        "mixed with weights learned out of fold (see Ensembles). Key question, statement and direction are learned "
        "twice — on all rows and on the inspection rows only — and a router (is this public feedback?) mixes the two "
        "experts."
        + _inspection_only_note(classifier)
        + " Key question and statement form one joint distribution with its own fitted temperature; the "
        "suggested statement is its most probable and the key question that statement's, so every display ranks "
        "from one distribution. The band agrees with a blend of the direction head and its own "
        "direction. King's Fund principles: one binary logistic regression per principle.",
        f"- **Frameworks:** {', '.join(f'{k} {v}' for k, v in classifier.frameworks_version_.items())}",
        f"- **Training data:** {classifier.training_data_.get('rows', '?')} rows, sha256 "
        f"`{classifier.training_data_.get('sha256', '?')}`; by origin: "
        + ", ".join(f"{k}: {v}" for k, v in origins.items()),
        f"- **Hyper-parameters:** `{json.dumps(classifier.get_params(), default=list)}`",
        "- **Format:** `heads.npz` (plain numeric and string arrays, loaded with `allow_pickle=False`) + "
        "`heads.json`; nothing executes on load.",
        f"- **Joint key question x statement temperature:** {classifier.joint_temperature_:.3f}",
        f"- **needs_review thresholds:** {json.dumps(classifier.thresholds_)}",
        "",
        "## Intended use",
        "Suggest, for an inspector to confirm or correct, where a piece of evidence sits in CQC's framework "
        "and which band it points to, with the framework sentence that explains the suggestion. It never rates "
        "a service: a band suggestion is about one note, and ratings come from people applying the rules.",
        "",
        "## Held-out figures",
        holdout.get("split", "(not measured)"),
        "",
        *_metrics_lines(holdout),
        "",
    ]
    sources = classifier.training_data_.get("sources") or {}
    if sources:
        lines += ["## Training sources", ""]
        for kind, info in sources.items():
            extra = ", ".join(f"{k}: {v}" for k, v in info.items() if k != "rows")
            lines.append(f"- **{kind}**: {info.get('rows', '?')} rows" + (f" ({extra})" if extra else ""))
        lines.append("")
    weights = getattr(classifier, "weights_", {})
    if weights:
        lines += ["## Ensembles", "Weights of each task's components (embedding head, word TF-IDF, character TF-IDF), "
                  "learned out of fold on non-framework rows:", ""]
        lines += [f"- {task}: {', '.join(f'{w:.1f}' for w in ws)}" for task, ws in weights.items()]
        lines.append("")
    review = classifier.metrics_.get("review")
    if review:
        risk = "risk" in str(review.get("method", ""))
        what = ("the risk model's probability that the key question is right" if risk
                else "key question probability")
        dwhat = "that the direction is right" if risk else "direction probability"
        lines += ["## When it says needs_review", (
            f"Thresholds chosen on {review.get('rated_rows', review.get('held_out_rows', '?'))} rated held-out rows so "
            "that among notes not flagged the "
            f"key question is wrong in at most {review['targets']['kq_error']:.0%} and the band direction in at most "
            f"{review['targets']['direction_error']:.0%}: {what} ≥ {review['key_question']:.3f}, "
            f"{dwhat} ≥ {review['direction']:.3f}."
            + (f" The {review['method']}; it is fitted on the held-out predictions; the thresholds are "
               "chosen on its cross-fitted (5-fold) outputs." if risk else "")
            + (f" {review['abstained_rows']} held-out notes the tool abstains on (no content, not English) are "
               "never rated and take no part." if review.get("abstained_rows") else "")), "",
            "| rows | coverage (not flagged) | key question wrong, not flagged | direction wrong, not flagged "
            "| key question wrong, all | direction wrong, all |", "|---|---|---|---|---|---|"]

        def f(v: object) -> str:
            return "–" if v is None else f"{v:.3f}"

        def table(block: dict, prefix: str = "") -> None:
            for name in ("all", "corpus", "real_feedback"):
                r = block.get(name)
                if r:
                    lines.append(f"| {prefix}{name} (n={r['rows']}) | {f(r['coverage'])} | "
                                 f"{f(r['kq_error_unflagged'])} | {f(r['direction_error_unflagged'])} | "
                                 f"{f(r['kq_error_all'])} | {f(r['direction_error_all'])} |")
        table(review)
        if review.get("nested"):
            table(review["nested"], "nested, risk model: ")
        if review.get("plain"):
            table(review["plain"], "nested, probabilities only: ")
        if review.get("nested"):
            lines += ["", "Nested rows: each fifth of the held-out notes is judged by thresholds (and a risk model) "
                      "chosen on the other four fifths only — what the choice gives on notes it never saw; "
                      "'probabilities only' is the previous rule (the key question's and the direction's own "
                      "probabilities) measured the same way."]
        if "weak_match" in review:
            lines += ["", f"Weak-match threshold: an explanation whose cosine to the note is below "
                      f"{review['weak_match']:.3f} is marked `weak`: the 10th percentile, over the labelled notes "
                      "with a statement and a band, of the similarity of each note to the explanation of its own "
                      "(right) statement and band — a weak match is weaker than 9 in 10 right explanations."
                      + (f" (The other rule tried, the similarity below which the suggested statement is more often "
                         f"wrong than right on the held-out notes, gave {review['weak_match_heldout']:.3f}: on these "
                         "mostly short feedback comments the statement is right more often than not at almost any "
                         "similarity, so it would mark almost nothing.)" if "weak_match_heldout" in review else "")]
        lines.append("")
    for name, title in (("transfer_trusts.json", "Transfer to unseen trusts (leave one trust out)"),
                        ("transfer_inspection.json", "Transfer to inspectors' own writing (held-out CQC reports)")):
        path = directory / name
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        lines += [f"## {title}", data.get("description", ""), "",
                  "| held out | model | key question macro-F1 [95% CI] | accuracy | direction accuracy |",
                  "|---|---|---|---|---|"]
        rows = [(fold["fold"], fold["metrics"]) for fold in data["folds"]]
        if len(data["folds"]) > 1:
            rows.append(("mean", data["mean"]))
        for held, metrics in rows:
            for model, ms in metrics.items():
                def cell(key: str, ms: dict = ms) -> str:
                    m = ms.get(key)
                    return "–" if not m else f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"
                lines.append(f"| {held} | {model} | {cell('kq_macro_f1')} | {cell('kq_accuracy')} | "
                             f"{cell('direction_accuracy')} |")
        lines.append("")
    lines += [
        "## What was tried (leave one trust out on phase 1 unless said; key question macro-F1 over 4 key questions)",
        "- TF-IDF + linear SVM on the training trusts' comments (the baseline): 0.606 mean in a helper's experiment; "
        "0.605 here.",
        "- Logistic regression on the embedding alone: 0.675; character n-gram model alone: 0.650; word TF-IDF alone: "
        "no better than the baseline.",
        "- Embedding + word + character heads, weights learned out of fold: 0.704 on phase 1 alone, 0.714 with the "
        "corpus at low weight — kept.",
        "- One model on feedback + corpus at equal weight: LOTO 0.712 (direction 0.882) but corpus CV statement "
        "macro-F1 fell to 0.459 (below the 0.468 of the previous release); a feedback-vs-inspection router mixing an "
        "all-rows expert and an inspection-only expert fixed it (corpus CV statement 0.498) — kept.",
        "- Band direction from a direction head trained on criticality + corpus bands, blended with the band head's own "
        "direction (weight learned per source): kept. Using the FFT question type as a feature: +0.1-0.2 on trust A, "
        "−0.1 to −0.2 on trusts B and C (it encodes each trust's coding habits) — rejected. Domain indicator feature: "
        "±0.01 key question, −0.02 to −0.07 direction — rejected. Direction from all phase-1 rows incl. unmapped "
        "subcategories: −0.09 on trust A in the helper's runs (kept here at the default; the router and corpus limit "
        "its effect). VADER sentiment features: −0.006. Per-class threshold biases: +0.003 (noise) — rejected. "
        "Low-confidence mapping rows: −0.044 — excluded.",
    ]
    lines += _experiment_lines(directory, trained_on_inspection="inspection" in sources)
    lines.append("")
    lines += _backend_lines(directory / BACKENDS_FILE)
    cv_path = directory / CV_FILE
    if cv_path.is_file():
        cv = json.loads(cv_path.read_text(encoding="utf-8"))
        lines += ["## Cross-validated figures and baselines", cv.get("description", ""), ""]
        lines += cv.get("markdown", [])
        lines.append("")
    lines += [
        "## Limits",
        "- The hand-written corpus was written for this project by its authors (see training/DATASHEET.md): "
        "real inspection notes will differ in vocabulary and length, so figures on it are optimistic.",
        "- Framework-derived training sentences are in the frameworks' formal register, not notes'.",
        "- Band is judged from one note's wording; it cannot see the rest of the evidence. Negation, hedging "
        "and numbers that decide a band remain hard.",
        "- Evidence category is learned only from the corpus. On real patient feedback about 40% of comments get a "
        "category other than people_experience: when a file's source is known, use `tag --evidence-category`.",
        "- The TF-IDF heads can pick up the corpus writers' wording habits (e.g. 'co-designed' for outstanding).",
        "- Real patient feedback (pxtextmining phase 1) has no well-led comments, so well-led is unmeasured on "
        "real data.",
        "- English only; identifiers are redacted by rules and word lists (names, NHS, hospital and NI numbers, "
        "phones, postcodes, emails, dates of birth, street addresses) and can be missed: see the README's Privacy "
        "section for recall on sentences written by others.",
        "",
    ]
    path = directory / "MODEL_CARD.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)
    return path
