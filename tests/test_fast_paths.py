"""The static path's fast paths give exactly what the plain paths give (issue 24, item 1).

Batch redaction with pre-filters (:mod:`evidencenlp.identifiers.batch`), the abstention screen's
shortcuts, and the text heads' batch n-grams and sparse TF-IDF are each compared with the plain
computation on a few thousand varied notes: the training corpus, the redaction test sets, and
variants of them (lower case, capitals, invisible characters, no punctuation).
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix

from evidencenlp import abstain
from evidencenlp.identifiers import find_identifiers
from evidencenlp.identifiers.batch import find_identifiers_many, may_hold_name
from evidencenlp.identifiers.names import find_name_spans
from evidencenlp.text import redact_many, redact_only

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).resolve().parents[1] / "training" / "corpus"


def _notes() -> list[str]:
    notes = [json.loads(line)["text"] for path in sorted(DATA.glob("redaction_*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    notes += pd.concat([pd.read_csv(p, dtype=str) for p in sorted(CORPUS.glob("*.csv"))])["text"].dropna().tolist()
    return notes


def _variants(notes: list[str]) -> list[str]:
    """Each note as written, lower-cased, in capitals, with a zero-width space and with a no-break space
    after its first word, and without commas and full stops (a sample of each, to keep the test fast)."""
    out = list(notes)
    out += [n.lower() for n in notes[::3]]
    out += [n.upper() for n in notes[1::5]]
    out += [n.replace(" ", "\u200b", 1) for n in notes[2::7]]
    out += [n.replace(" ", "\u00a0", 1) for n in notes[3::7]]
    out += [n.replace(",", "").replace(".", "") for n in notes[4::5]]
    out += ["", " ", "I", "ok", "Mr", "mrs jones", "nurse Blessing", "The carer, Blessing, sang", "J. Smith came",
            "MrsPatel rang", "Name: jo bloggs", "jenny on ward 4", "my mum sheila", "SHEILA ON NIGHTS",
            "Ask for Priya", "thanks to Will", "Dr.Ahmed", "Bronagh the SALT", "Jas from the pharmacy",
            "jo [at] example dot com", "jo@example.com", "NHS 943 476 5919", "Zoë was kind", "Seán O’Neill"]
    return out


@pytest.fixture(scope="module")
def notes() -> list[str]:
    return _variants(_notes())


@pytest.mark.parametrize("step", [pytest.param(1, marks=pytest.mark.slow), 5])
def test_batch_redaction_finds_exactly_what_the_plain_path_finds(notes: list[str], step: int) -> None:
    notes = notes[::step]
    assert len(notes) > 4000 // step
    fast = find_identifiers_many(notes)
    plain = [find_identifiers(n) for n in notes]
    differ = [i for i, (a, b) in enumerate(zip(fast, plain)) if a != b]
    assert differ == [], f"{len(differ)} notes differ, e.g. note #{differ[:3]}"
    assert sum(map(bool, plain)) > 500 // step  # the sets hold plenty of identifiers, so this compares something


def test_name_prefilter_never_skips_a_note_with_a_name(notes: list[str]) -> None:
    with_names = [n for n in notes if find_name_spans(n)]
    assert len(with_names) > 300
    assert all(may_hold_name(n) for n in with_names)
    # and it does skip notes: most corpus notes hold no name
    assert sum(not may_hold_name(n) for n in notes) > len(notes) // 3


def test_redact_many_equals_redact_only(notes: list[str]) -> None:
    sample = notes[1::6]
    assert redact_many(sample) == [redact_only(n) for n in sample]


def test_abstention_shortcuts_agree_with_the_plain_counts(notes: list[str]) -> None:
    from evidencenlp.identifiers.lexicon import fold

    for note in notes:
        text = unicodedata.normalize("NFKC", note).translate(abstain._APOSTROPHES)
        evidence = abstain._language_evidence(text)
        # letters of the evidence counted from its length, as the plain count gives them
        assert abstain._evidence_letters(evidence) == abstain._letter_count(evidence)
        # the words the "plainly English" test looks up are already folded
        assert all(fold(w) == w for w in abstain._WORD.findall(evidence))
        # no word holding a digit reaches the evidence (the digit test is skipped for all-letter words)
        assert not any(c.isdigit() for c in evidence)


def _tfidf_reference(head, texts: list[str]) -> csr_matrix:
    """The TF-IDF matrix as scikit-learn builds it: CountVectorizer with the head's vocabulary,
    sublinear tf, idf weights, l2-normalised rows (the path before the batch shortcuts)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    vocab = {str(t): i for i, t in enumerate(head.vocabulary_)}
    X = CountVectorizer(vocabulary=vocab, ngram_range=head.ngram_range, analyzer=head.analyzer,
                        strip_accents="unicode", lowercase=True, dtype=np.float64).transform(texts).tocsr()
    X.data = 1.0 + np.log(X.data)
    X = normalize(X.multiply(head.idf_).tocsr(), norm="l2", copy=False)
    X.sort_indices()
    return X


@pytest.mark.parametrize("analyzer", ["word", pytest.param("char_wb", marks=pytest.mark.slow)])
def test_text_head_batch_tfidf_equals_scikit_learn(notes: list[str], analyzer: str) -> None:
    from evidencenlp.heads import SharedCounts, TextHead

    corpus = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(CORPUS.glob("*.csv"))]).dropna(
        subset=["text", "key_question"])[:600]
    head = TextHead(analyzer=analyzer, min_df=1 if analyzer == "word" else 2).fit(
        corpus["text"].tolist(), corpus["key_question"].tolist())
    texts = notes[::7] + ["", "   ", "Café crème, naïve résumé", "ÉCOLE", "a b c", "x"]
    shared = SharedCounts(texts)
    fast = head.transform(shared)
    ref = _tfidf_reference(head, texts)
    assert np.array_equal(fast.indptr, ref.indptr) and np.array_equal(fast.indices, ref.indices)
    assert np.array_equal(fast.data, ref.data)
    assert np.array_equal(head.decision_function(shared), np.asarray(ref @ head.coef_.T + head.intercept_))


def test_word_grams_are_the_analyzers_grams(notes: list[str]) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from evidencenlp.heads import _word_grams

    for ngram_range in ((1, 1), (1, 2), (2, 3)):
        vec = CountVectorizer(ngram_range=ngram_range, strip_accents="unicode", lowercase=True)
        texts = notes[::5] + ["", "one", "two words"]
        rows, grams = _word_grams(vec, texts)
        analyse = vec.build_analyzer()
        got: list[Counter[str]] = [Counter() for _ in texts]
        for row, gram in zip(rows.tolist(), grams):
            got[row][gram] += 1
        assert got == [Counter(analyse(t)) for t in texts]


@pytest.mark.parametrize("cases", sorted(p.name for p in DATA.glob("redaction_*.jsonl")))
def test_redaction_sets_score_the_same_through_the_batch_path(cases: str) -> None:
    from evidencenlp.evaluation.redaction import score_file

    plain = score_file(DATA / cases)
    fast = score_file(DATA / cases, finder=lambda text: find_identifiers_many([text])[0])
    assert fast == plain
    assert plain.n_cases > 100 and plain.per_kind  # a scored set, compared field by field


def _group_max_plain(sims: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """The per-group loop :func:`~evidencenlp.frameworks.index.group_max` replaces."""
    out = np.full((sims.shape[0], len(masks)), -1.0, dtype=np.float32)
    for g, cols in enumerate(masks):
        if cols.any():
            out[:, g] = sims[:, cols].max(axis=1)
    return out


@pytest.mark.parametrize("rows", [0, 1, 255, 256, 257, 1000])
def test_group_max_equals_the_per_group_loop(rows: int) -> None:
    from evidencenlp.frameworks.index import group_max

    rng = np.random.default_rng(rows)
    sims = rng.uniform(-1, 1, (rows, 300)).astype(np.float32)
    if rows > 3:
        sims[3, 7] = np.nan  # a NaN wins its groups' maximum either way
    masks = [rng.random(300) < p for p in (0.0, 0.01, 0.2, 0.5, 1.0, 0.0)]
    masks[2][masks[3]] = True  # overlapping groups: a column in several
    got = group_max(sims, [np.flatnonzero(m) for m in masks])
    assert got.dtype == np.float32
    assert np.array_equal(got, _group_max_plain(sims, masks), equal_nan=True)


def test_framework_features_equal_the_per_group_loop() -> None:
    from evidencenlp.encoder import load_embedder
    from evidencenlp.frameworks import load_framework_set
    from evidencenlp.frameworks.index import FrameworkIndex

    fs = load_framework_set()
    rng = np.random.default_rng(0)
    n_texts = sum(len(fw.texts()) for fw in fs.frameworks.values())
    index = FrameworkIndex(fs.frameworks, fs.crosswalk, vectors=np.eye(n_texts, 8, dtype=np.float32),
                           embedder=load_embedder("static"))  # not used: the vectors are given
    sims = rng.uniform(-1, 1, (600, n_texts)).astype(np.float32)
    st = index.statement_scores(sims)
    assert np.array_equal(st, _group_max_plain(sims, [index.link[:, s] for s in range(len(index.statements))]))
    assert np.array_equal(index.band_scores(sims),
                          _group_max_plain(sims, [index.band_of == b for b in range(len(index.taxonomy.bands))]))
    assert np.array_equal(index.principle_scores(sims),
                          _group_max_plain(sims, [index.principle_of == p for p in range(len(index.principles))]))
