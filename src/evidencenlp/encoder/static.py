"""The ``static`` backend: a model2vec static model distilled at first use from the packaged encoder (one
vector per token, averaged), cached. Its embedding space differs, so it has heads of its own
(``models/static/``)."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp.encoder.base import (
    DEFAULT_BATCH_SIZE,
    EMBEDDING_DIM,
    MAX_TOKENS,
    SPACES,
    STATIC_RECIPE,
    force_offline,
    model_path,
    normalise,
    quiet_transformers,
)
from evidencenlp.encoder.build import backend_dir, build_once, weights_key
from evidencenlp.encoder.spans import Span, span_buffers, span_weights
from evidencenlp.errors import ModelError


class StaticEmbedder:
    """A model2vec static model distilled from the packaged encoder (built and loaded at first encode)."""

    backend = "static"
    space = SPACES["static"]
    recipe = STATIC_RECIPE

    def __init__(self) -> None:
        if importlib.util.find_spec("model2vec") is None:
            raise ModelError("the static backend needs model2vec: pip install \"evidencenlp[fast]\"")
        self._lock = threading.Lock()
        self._model: Any = None
        self._span_tokenizer: Any = None

    @property
    def model(self) -> Any:
        """The model2vec ``StaticModel`` (distilled and cached first when missing)."""
        with self._lock:
            if self._model is None:
                from model2vec import StaticModel

                self._model = load_static(StaticModel, self.build())
            return self._model

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (e.g. for a worker process) without the loaded model: it is loaded again there."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._model = None
        self._span_tokenizer = None

    @staticmethod
    def build() -> Path:
        """The cached static model's folder, distilled here first when missing (about 30–60 s on 2 cores)."""
        import model2vec

        folder = backend_dir(f"static-{weights_key(STATIC_RECIPE, model2vec.__version__)}")
        return build_once(folder, "model.safetensors", "static encoder", "about a minute", distill_static).parent

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts`` → float32 ``(len(texts), 384)``, rows L2-normalised."""
        if len(texts) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        model = self.model
        step = max(batch_size, 1024)
        parts = []
        for start in range(0, len(texts), step):
            chunk = list(texts[start:start + step])
            parts.append(model.encode(chunk, show_progress_bar=False, max_length=MAX_TOKENS,
                                      use_multiprocessing=False))
            if progress is not None:
                progress(len(chunk))
        return normalise(np.vstack(parts))


    def encode_pieces(self, texts: Sequence[str], pieces: Mapping[int, Sequence[tuple[int, int, int]]],
                      batch_size: int = DEFAULT_BATCH_SIZE,
                      progress: Callable[[int], None] | None = None) -> np.ndarray:
        """:meth:`encode` of ``texts``, bit for bit, without tokenising a text whose pieces are also encoded.

        ``pieces`` maps the index ``i`` of a text to its pieces among ``texts`` (a note's clauses: tagging
        encodes the notes and their clauses together), as ``(start, end, j)`` in order, with
        ``texts[j] == texts[i][start:end]``. The model's tokenizer (BERT normaliser and pre-tokeniser,
        WordPiece) makes the tokens of each word on its own, so when every cut between the pieces and
        the text between them falls between words, the text's tokens are the pieces' tokens and those of
        the text between them, in order: they are put together from those instead of tokenising the
        whole text again. That is done only where nothing else can differ (:func:`_cut_between_words`):
        the text plain (:data:`_PLAIN_TEXT`: no character the normaliser removes, splits or changes the
        length of), without any of the tokenizer's added tokens (``[UNK]``), within model2vec's
        character cut and, put together, under ``MAX_TOKENS`` tokens. Every other text is tokenised as
        :meth:`encode` does, and the vectors are averaged and normalised as model2vec's ``encode`` does
        it. Returns float32 ``(len(texts), 384)``, rows L2-normalised.
        """
        model = self.model
        if (not pieces or not _pieces_supported(model) or model.token_mapping is not None
                or model.weights is not None):
            return self.encode(texts, batch_size=batch_size, progress=progress)
        chars = MAX_TOKENS * int(model.median_token_length)
        # the tokenizer's added tokens ("[UNK]", "[PAD]") are matched in the raw text before any word is
        # made: a text holding one (in any case) is tokenised on its own
        added = [token.content.lower() for token in model.tokenizer.get_added_tokens_decoder().values()]
        joined: dict[int, list[int | str]] = {}  # a text made of pieces: its parts, a piece's index or the text between
        for i, parts in pieces.items():
            text = texts[i]
            if not parts or not _shareable(text, chars) or any(token in text.lower() for token in added):
                continue
            made: list[int | str] = []
            cursor = 0
            for start, end, j in parts:  # a piece that is itself made of pieces (``i`` included) is not used
                if (j in pieces or not cursor <= start < end <= len(text) or texts[j] != text[start:end]
                        or not (_between_words(text, start) and _between_words(text, end))):
                    break
                made += [text[cursor:start], j]
                cursor = end
            else:
                joined[i] = [*made, text[cursor:]]
        between = {part for parts in joined.values() for part in parts if isinstance(part, str) and part.strip()}
        ids: list[list[int]] = [[] for _ in texts]
        gaps: dict[str, list[int]] = {}
        model._set_max_length_in_tokenizer(MAX_TOKENS)  # what model2vec's encode sets (and resets) around a batch
        try:
            rest = [j for j in range(len(texts)) if j not in joined]
            for j, encoding in zip(rest, self._tokens([texts[j][:chars] for j in rest])):
                ids[j] = encoding
            gaps = dict(zip(between, self._tokens(list(between))))
            long = []
            for i, made in joined.items():
                row = [t for part in made for t in (ids[part] if isinstance(part, int) else gaps.get(part, []))]
                if len(row) < MAX_TOKENS:
                    ids[i] = row
                else:  # would be cut: tokenised whole, as encode does
                    long.append(i)
            for i, encoding in zip(long, self._tokens([texts[i][:chars] for i in long])):
                ids[i] = encoding
        finally:
            model._set_max_length_in_tokenizer(model.max_length)
        if model.unk_token_id is not None:
            unk = model.unk_token_id
            ids = [[t for t in row if t != unk] if unk in row else row for row in ids]
        step = max(batch_size, 1024)
        parts_out = []
        for first in range(0, len(texts), step):  # encode's chunks, then model2vec's batches of 1024
            chunk = ids[first:first + step]
            parts_out += [_mean_vectors(model, chunk[b:b + 1024]) for b in range(0, len(chunk), 1024)]
            if progress is not None:
                progress(len(chunk))
        return normalise(np.vstack(parts_out))

    def _tokens(self, texts: list[str]) -> list[list[int]]:
        """The token ids of each of ``texts`` (the model's tokenizer, as set up by the caller; unknown
        tokens kept)."""
        if not texts:
            return []
        return [encoding.ids for encoding in self.model.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Embed ``texts`` and pool each of their ``spans`` from the same tokens
        (:class:`evidencenlp.encoder.spans.SpanEmbedder`): a static model's text vector is the mean of its
        tokens' (weighted) vectors, so a span's is the mean over the tokens wholly inside it, as the span
        encoded alone would be. Texts are cut as :meth:`encode` cuts them (``MAX_TOKENS`` tokens, after
        model2vec's cut at ``MAX_TOKENS`` × the median token length in characters); a span ending past
        the cut, or holding no token, is not pooled. Returns the texts' vectors ``(n, 384)``, the spans'
        ``(m, 384)`` and which spans were pooled ``(m,)``; rows L2-normalised (zero when not pooled).
        """
        first, notes, vectors, pooled = span_buffers(len(texts), spans)
        if len(texts) == 0:
            return notes, vectors, pooled
        model = self.model
        with self._lock:
            if self._span_tokenizer is None:  # a copy: model2vec resets its own tokenizer's truncation
                from tokenizers import Tokenizer

                self._span_tokenizer = Tokenizer.from_str(model.tokenizer.to_str())
                self._span_tokenizer.enable_truncation(MAX_TOKENS)
        chars = MAX_TOKENS * int(model.median_token_length)
        step = max(batch_size, 1024)
        for start in range(0, len(texts), step):
            chunk = [t[:chars] for t in texts[start:start + step]]
            for r, enc in enumerate(self._span_tokenizer.encode_batch(chunk, add_special_tokens=False)):
                i = start + r
                ids = np.asarray(enc.ids, dtype=np.int64)
                offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
                cut = len(ids) >= MAX_TOKENS or len(texts[i]) > chars
                if model.unk_token_id is not None:
                    keep = ids != model.unk_token_id
                    ids, offsets = ids[keep], offsets[keep]
                if not len(ids):
                    continue
                rows = ids if model.token_mapping is None else model.token_mapping[ids]
                tokens = model.embedding[rows]
                if model.weights is not None:
                    tokens = tokens * model.weights[ids][:, None]
                notes[i] = _model2vec_mean(tokens, model.embedding.dtype)
                if first[i + 1] > first[i]:
                    window_end = int(offsets[-1, 1]) if cut else None
                    weights, ok = span_weights(offsets, np.zeros(len(ids), dtype=bool), spans[i], window_end)
                    for j in np.flatnonzero(ok):
                        vectors[first[i] + j] = _model2vec_mean(tokens[weights[j] > 0], model.embedding.dtype)
                    pooled[first[i]:first[i + 1]] = ok
            if progress is not None:
                progress(len(chunk))
        return normalise(notes), normalise(vectors), pooled


#: characters of a text whose tokens :meth:`StaticEmbedder.encode_pieces` may share with its pieces: printable
#: ASCII, tab and line ends, and the typographic quotes, dashes and ellipsis (Unicode punctuation without
#: accents or case): the BERT normaliser leaves each as one character (lower-cased, or a space), and its
#: pre-tokeniser ends a word at each that is not a letter or digit
_PLAIN_TEXT = re.compile("[\t\n\r\x20-\x7e\u2018\u2019\u201c\u201d\u2013\u2014\u2026]*")


#: the model2vec releases whose ``encode`` :meth:`StaticEmbedder.encode_pieces` reproduces (its batch
#: averaging and tokenizer set-up); with any other release it falls back to ``encode``
PIECES_MODEL2VEC_RELEASES = ("0.10.",)


def _pieces_supported(model: Any) -> bool:
    """True when the installed model2vec is a release :meth:`StaticEmbedder.encode_pieces` was checked
    against (:data:`PIECES_MODEL2VEC_RELEASES`) and ``model`` has the tokenizer hook it uses."""
    import model2vec

    version = str(getattr(model2vec, "__version__", ""))
    return (version.startswith(PIECES_MODEL2VEC_RELEASES)
            and callable(getattr(model, "_set_max_length_in_tokenizer", None)))


def _shareable(text: str, chars: int) -> bool:
    """True when ``text``'s tokens may be put together from its parts': it is plain (:data:`_PLAIN_TEXT`)
    and within model2vec's cut at ``chars`` characters."""
    return len(text) <= chars and _PLAIN_TEXT.fullmatch(text) is not None


def _between_words(text: str, at: int) -> bool:
    """True when a cut of plain ``text`` at ``at`` splits no word (BERT's pre-tokeniser ends a word at a
    space or a punctuation mark: in plain text, at any character that is not a letter or digit)."""
    return at <= 0 or at >= len(text) or not (text[at - 1].isalnum() and text[at].isalnum())


def _cut_between_words(text: str, start: int, end: int, chars: int) -> bool:
    """True when shareable ``text`` (:func:`_shareable`) has ``text[start:end]`` as a piece whose ends split
    no word (:func:`_between_words`)."""
    return (0 <= start < end <= len(text) and _shareable(text, chars) and _between_words(text, start)
            and _between_words(text, end))


def _mean_vectors(model: Any, ids: list[list[int]]) -> np.ndarray:
    """One batch of model2vec's ``StaticModel._encode_batch`` (model2vec 0.10; a model without token mapping
    or weights) from token ids already made: each row the mean of its tokens' vectors in the model's
    dtype (zero without tokens), L2-normalised and rounded back to that dtype when the model normalises."""
    dtype = model.embedding.dtype
    if dtype == np.int8:
        dtype = np.dtype(np.float32)
    out = np.zeros((len(ids), model.dim), dtype=dtype)
    buckets: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(ids):
        if row:
            buckets[len(row)].append(i)
    for indices in buckets.values():
        out[indices] = model.embedding[np.array([ids[i] for i in indices], dtype=np.int64)].mean(axis=1)
    return _model2vec_normalised(out) if model.normalize else out


def _model2vec_normalised(out: np.ndarray) -> np.ndarray:
    """Rows of ``out`` ``(n, dim)`` L2-normalised as model2vec 0.10's ``encode`` does it: in float32, each
    row's norm taken along the rows' axis, rounded back to ``out``'s dtype."""
    out32 = out.astype(np.float32)
    return (out32 / (np.linalg.norm(out32, axis=1, keepdims=True) + 1e-32)).astype(out.dtype)


def _model2vec_mean(tokens: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A text's vector from its tokens' ``(n_tokens, dim)`` as model2vec's ``encode`` computes it (the mean
    in the vectors' own dtype, L2-normalised as :func:`_model2vec_normalised` and rounded back to it), so
    the same text gives the same vector, bit for bit, either way."""
    mean = tokens.mean(axis=0, keepdims=True).astype(dtype if dtype != np.int8 else np.float32)
    return _model2vec_normalised(mean)[0]


def load_static(cls: Any, folder: Path) -> Any:
    """The cached static model, read directly from the folder :func:`distill_static` wrote (what
    ``StaticModel.from_pretrained`` reads, without importing the Hub client: about 1 s of start-up)."""
    import safetensors
    from tokenizers import Tokenizer

    try:
        with safetensors.safe_open(str(folder / "model.safetensors"), framework="numpy") as tensors:
            names = set(tensors.keys())
            vectors = tensors.get_tensor("embeddings")
            weights = tensors.get_tensor("weights") if "weights" in names else None
            mapping = tensors.get_tensor("mapping") if "mapping" in names else None
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except (OSError, ValueError, KeyError, safetensors.SafetensorError) as exc:
        raise ModelError(f"the cached static encoder at {folder} is unreadable ({type(exc).__name__}); "
                         "delete that folder and it is rebuilt at the next use") from None
    return cls(vectors=vectors, tokenizer=tokenizer, config=config, normalize=bool(config.get("normalize", True)),
               weights=weights, token_mapping=mapping, max_length=config.get("max_length", 512))


def distill_static(folder: Path) -> None:
    """Distil the packaged encoder into a model2vec static model saved in ``folder``."""
    try:
        from model2vec.distill import distill_from_model
    except ImportError:
        raise ModelError("distilling the static backend needs model2vec's distill extra: "
                         "pip install \"evidencenlp[fast]\"") from None
    from transformers import AutoModel, AutoTokenizer

    force_offline()
    quiet_transformers()
    body = AutoModel.from_pretrained(str(model_path()), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)
    static = distill_from_model(body, tokenizer, pca_dims=EMBEDDING_DIM, device="cpu")  # type: ignore[arg-type]
    static.save_pretrained(str(folder))
