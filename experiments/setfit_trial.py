"""SetFit-style contrastive fine-tuning of the encoder, measured on the leave-one-trust-out test (issue 14).

    python experiments/setfit_trial.py --phase1 ../shared/data/pxtextmining-phase1/text_data.csv

For each phase-1 trust in turn, in one run:

1. **baseline**: the shipped classifier configuration fitted on the packaged encoder's embeddings of
   the fold's training rows (corpus + framework-derived + the other two trusts' comments), scored on
   the held-out trust (the same figures as ``evidencenlp evaluate --transfer trusts``);
2. **fine-tuned**: a fresh copy of the packaged encoder fine-tuned SetFit-style on contrastive pairs
   drawn from *that fold's training rows only* (same key question → cosine 1, different → 0;
   CosineSimilarityLoss, AdamW), then the framework sentences, the training rows and the held-out
   trust re-embedded with it and the same classifier fitted and scored.

The rule from the issue: keep fine-tuning only if it wins by >= 0.03 key question macro-F1 (mean of
the three folds). Writes the figures to ``--out`` (default ``models/setfit_trial.json``); prints no
note text. CPU only; about 10 minutes a fold on 2 cores with the defaults.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp import encoder
from evidencenlp.evaluation.cv import embed
from evidencenlp.evaluation.run import load_index, shipped_params
from evidencenlp.evaluation.transfer import predict_all_models, score
from evidencenlp.matching import FrameworkIndex
from evidencenlp.training import TrainingOptions, training_frame

ROOT = Path(__file__).resolve().parents[1]


def contrastive_pairs(labels: np.ndarray, n_pairs: int, rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """``n_pairs`` (i, j, target) pairs, half same-label (1.0) and half different-label (0.0), anchors drawn
    class-balanced (SetFit's sampling) from the rows with a label."""
    classes = sorted({str(x) for x in labels if x})
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    others = {c: np.flatnonzero((labels != c) & (labels != "")) for c in classes}
    pairs: list[tuple[int, int, float]] = []
    for n in range(n_pairs):
        c = classes[n % len(classes)]
        i = int(rng.choice(by_class[c]))
        if n % 2 == 0:
            pairs.append((i, int(rng.choice(by_class[c])), 1.0))
        else:
            pairs.append((i, int(rng.choice(others[c])), 0.0))
    rng.shuffle(pairs)  # type: ignore[arg-type]
    return pairs


def fine_tune(texts: list[str], pairs: list[tuple[int, int, float]], batch_size: int, lr: float,
              max_tokens: int, seed: int) -> Any:
    """A fresh copy of the packaged encoder, fine-tuned on ``pairs`` for one pass (CosineSimilarityLoss)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(seed)
    model = SentenceTransformer(str(encoder.model_path()), device="cpu", local_files_only=True)
    model.max_seq_length = max_tokens
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    steps = (len(pairs) + batch_size - 1) // batch_size
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    started, losses = time.perf_counter(), []
    for step in range(steps):
        batch = pairs[step * batch_size:(step + 1) * batch_size]
        a = model.tokenize([texts[i] for i, _, _ in batch])
        b = model.tokenize([texts[j] for _, j, _ in batch])
        ea = model(a)["sentence_embedding"]
        eb = model(b)["sentence_embedding"]
        target = torch.tensor([t for _, _, t in batch], dtype=ea.dtype)
        loss = torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(ea, eb), target)
        loss.backward()
        optimiser.step()
        scheduler.step()
        optimiser.zero_grad()
        losses.append(loss.item())
        if (step + 1) % 50 == 0 or step + 1 == steps:
            print(f"    step {step + 1}/{steps}: loss {np.mean(losses[-50:]):.4f} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    model.eval()
    model.max_seq_length = encoder.MAX_TOKENS
    return model


def values(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: round(float(m.value), 4) for k, m in metrics.items()}


def embed_with(model: Any, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False), dtype=np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase1", type=Path, required=True)
    ap.add_argument("--pairs", type=int, default=4000, help="contrastive pairs per fold")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--max-tokens", type=int, default=128, help="truncation while fine-tuning only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", nargs="*", default=None, help="only these trusts (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "setfit_trial.json")
    args = ap.parse_args()

    import torch
    torch.set_num_threads(2)
    index = load_index()
    params = shipped_params()
    frame = training_frame(TrainingOptions(corpus=True, framework_examples=True, phase1=args.phase1), index)
    vectors = embed(frame["text"].tolist(), name="training")
    texts = frame["text"].astype(str).tolist()
    is_feedback = frame["origin"].str.startswith("phase1").to_numpy()
    groups = frame["group"].fillna("").astype(str).to_numpy()
    trusts = sorted(set(groups[is_feedback]))
    rng = np.random.default_rng(args.seed)
    def say(message: str) -> None:
        print(message, flush=True)

    results: dict[str, Any] = {"what": __doc__.strip().splitlines()[0], "settings": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in ("out", "phase1")},
        "folds": {}}
    for trust in (args.folds or trusts):
        held = is_feedback & (groups == trust)
        train_idx, test_idx = np.flatnonzero(~held), np.flatnonzero(held)
        train = frame.iloc[train_idx].reset_index(drop=True)
        test = frame.iloc[test_idx].reset_index(drop=True)
        feedback_train = frame.iloc[np.flatnonzero(is_feedback & ~held)].reset_index(drop=True)
        say(f"fold {trust}: train {len(train):,} rows, test {len(test):,} comments")
        base = predict_all_models(train, vectors[train_idx], test, vectors[test_idx], index, params,
                                  feedback_train, say)
        fold: dict[str, Any] = {"n_train": len(train), "n_test": len(test)}
        for name in ("classifier", "tfidf_svm_same_rows"):
            kq, direction = base[name]
            fold[name] = values(score(test, kq, direction, seed=args.seed))
        labels = train["key_question"].fillna("").astype(str).to_numpy()
        pairs = contrastive_pairs(labels, args.pairs, rng)
        say(f"  fine-tuning on {len(pairs):,} pairs from the training rows …")
        started = time.perf_counter()
        model = fine_tune(train["text"].astype(str).tolist(), pairs, args.batch_size, args.lr, args.max_tokens,
                          args.seed)
        fold["fine_tune_seconds"] = round(time.perf_counter() - started, 1)
        say("  re-embedding the framework, training rows and test comments …")
        ft_index = FrameworkIndex(index.frameworks, index.crosswalk,
                                  vectors=embed_with(model, [t.text for t in index.texts]))
        ft_vecs = embed_with(model, texts)
        tuned = predict_all_models(train, ft_vecs[train_idx], test, ft_vecs[test_idx], ft_index, params, None,
                                   say, baselines=False)
        kq, direction = tuned["classifier"]
        fold["fine_tuned"] = values(score(test, kq, direction, seed=args.seed))
        results["folds"][trust] = fold
        say(f"  {trust}: " + json.dumps({k: fold[k] for k in ("classifier", "fine_tuned", "tfidf_svm_same_rows")}))
        del model
    keys = sorted({k for f in results["folds"].values() for k in f["fine_tuned"]})
    results["mean"] = {m: {k: round(float(np.mean([f[m][k] for f in results["folds"].values()])), 4) for k in keys}
                       for m in ("classifier", "fine_tuned", "tfidf_svm_same_rows")}
    gain = results["mean"]["fine_tuned"].get("kq_macro_f1", 0.0) - results["mean"]["classifier"].get("kq_macro_f1", 0.0)
    results["kq_macro_f1_gain"] = round(gain, 4)
    results["keep"] = bool(gain >= 0.03)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(json.dumps(results["mean"], indent=1))
    print(f"key question macro-F1 gain {gain:+.4f}: {'keep' if results['keep'] else 'do not keep'} (rule: >= +0.03)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
