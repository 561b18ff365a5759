"""The static encoder's shared tokens (issue 24): :meth:`StaticEmbedder.encode_pieces` gives exactly
:meth:`StaticEmbedder.encode`'s vectors, bit for bit, whichever pieces it is told about.

A note's clauses are tokenised from the note's own tokens when both ends fall between words; these
tests compare with encoding every text on its own, on the training corpus's notes and their clauses
(as ``tag`` analyses them), on cuts at every place of a few awkward notes (inside words, at digits,
apostrophes, typographic quotes, emoji, control characters, long words), on notes past the
``MAX_TOKENS`` cut, and on pieces that are not what they claim to be.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidencenlp.encoder import load_embedder
from evidencenlp.encoder.static import _cut_between_words
from evidencenlp.topics import sentence_offsets

CORPUS = Path(__file__).resolve().parents[1] / "training" / "corpus"

AWKWARD = [
    "The nurse's care was great, but the wait—two hours—was not.",
    "Staff were “really” kind… parking £5; café closed 9-5pm, ward B12 isn’t clean",
    "Dr. Smith (A&E) was 10/10!!! 👍🏽 Food: cold; tea - lukewarm",
    "Great\x0bservice but\tslow\r\nreception, unbelievably" + "x" * 120 + " long word, fine",
    "ÉCOLE Straße naïve résumé but İstanbul staff, all good",
    "[UNK] tokens ### and ##ing pieces, plus 12,345.67 numbers",
    "the word [unk] or [Pad] in a note: tokenised as the added tokens, [NAME] is not one",
    "Parking was 5-10 mins away; staff (mostly) great: A+ care, 24/7 -- thanks!!!",
    "It's 'ok' I guess...but the wait,the wait!\nAnd\tthe [NAME] at reception x2",
    "No.1 ward's toilets,unclean;nurses@desk ignored us ‘again’ “twice” – sorry…",
]


@pytest.fixture(scope="module")
def static():
    return load_embedder("static")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _every_cut(text: str) -> list[tuple[int, int]]:
    """Every (start, end) of ``text`` whose piece is stripped and not blank."""
    return [(a, b) for a in range(len(text)) for b in range(a + 1, len(text) + 1)
            if text[a:b].strip() == text[a:b]]


def test_corpus_notes_and_their_clauses_encode_as_each_text_alone(static) -> None:
    from evidencenlp.topics import segments

    notes = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(CORPUS.glob("*.csv"))])["text"].dropna().tolist()
    notes = list(dict.fromkeys(notes))[:3000]
    texts, pieces = list(notes), {}
    for i, note in enumerate(notes):
        segs = segments([note])
        if len(segs) < 2:
            continue
        pieces[i] = [(*span, len(texts) + k) for k, span in enumerate(sentence_offsets(note, segs)) if span]
        texts += segs
    assert len(pieces) > 500
    assert _same(static.encode_pieces(texts, pieces), static.encode(texts))


def test_a_note_cut_anywhere_encodes_as_itself(static) -> None:
    """Each awkward note cut once or twice at many places: a copy of it with those pieces."""
    rng = np.random.default_rng(0)
    texts: list[str] = []
    pieces: dict[int, list[tuple[int, int, int]]] = {}
    shared = 0
    for note in AWKWARD:
        anywhere = _every_cut(note)
        between = [(a, b) for a, b in anywhere if _cut_between_words(note, a, b, 10_000)] or anywhere
        for n in range(120):
            cuts = between if n % 4 < 2 else anywhere
            chosen = sorted(cuts[k] for k in rng.choice(len(cuts), size=1 + n % 2, replace=False))
            if len(chosen) == 2 and chosen[1][0] < chosen[0][1]:
                chosen = chosen[:1]
            whole = len(texts)
            texts.append(note)
            pieces[whole] = [(a, b, whole + 1 + k) for k, (a, b) in enumerate(chosen)]
            texts += [note[a:b] for a, b in chosen]
            shared += all(_cut_between_words(note, a, b, 10_000) for a, b in chosen)
    assert shared > 100 and shared < len(pieces) - 100  # both routes are taken
    assert _same(static.encode_pieces(texts, pieces), static.encode(texts))


def test_long_notes_and_wrong_pieces_fall_back_to_encoding(static) -> None:
    long_note = "The staff, the food and the garden were lovely. " * 60  # more than MAX_TOKENS tokens
    texts = [long_note, "kind staff, but cold food", "the food and the garden were lovely.", "cold food",
             "staff", "", "   ", "kind staff", "but cold food", "kind staff, but cold food"]
    cases: list[dict[int, list[tuple[int, int, int]]]] = [
        {0: [(17, 53, 2)]},  # past the token cut
        {1: [(16, 25, 3), (5, 10, 4)]},  # out of order
        {1: [(5, 10, 4)]},  # right ("staff")
        {1: [(0, 10, 4)]},  # "kind staff" is not the text it claims to be ("staff")
        {1: [(0, 10, 7), (12, 25, 1)]},  # a piece claiming to be its own note
        {1: [(0, 10, 7), (12, 25, 8)], 9: [(0, 10, 7)]},  # right, twice
        {1: [(0, 10, 7), (5, 25, 8)]},  # overlapping
        {1: [(0, 10, 7)], 7: [(0, 4, 1)]},  # a piece that has pieces
        {9: [(0, 25, 1)], 1: [(0, 10, 7), (12, 25, 8)]},  # a piece that is put together from its own pieces
        {1: [(0, 0, 5)], 6: [(0, 3, 6)]},  # empty, itself
        {1: []},
    ]
    for pieces in cases:
        assert _same(static.encode_pieces(texts, pieces), static.encode(texts)), pieces


def test_cut_between_words() -> None:
    note = "Good staff, isn’t it—great"
    assert _cut_between_words(note, 0, 10, 1000)
    assert not _cut_between_words(note, 1, 10, 1000)  # splits "Good"
    assert not _cut_between_words(note, 0, 9, 1000)  # splits "staff"
    assert _cut_between_words(note, 12, 17, 1000)  # "isn’t": the apostrophe is a word of its own
    assert _cut_between_words(note, 21, len(note), 1000)  # after the dash
    assert not _cut_between_words(note, 0, 10, 20)  # the note is past the character cut
    assert not _cut_between_words(note, 5, 5, 1000)
    assert not _cut_between_words(note + " café", 0, 10, 1000)  # not plain text: never shared
    assert not _cut_between_words("Good\x0bstaff", 0, 4, 1000)  # a character the normaliser removes


def test_an_unchecked_model2vec_release_falls_back_to_encode(static, monkeypatch):
    """With a model2vec release the shared tokens were not checked against, every text is tokenised on
    its own (the same vectors, by ``encode`` itself)."""
    import model2vec

    from evidencenlp.encoder import static as static_module

    texts = ["Kind staff, but the wait was long", "Kind staff,", "but the wait was long"]
    pieces = {0: [(0, 11, 1), (12, 33, 2)]}
    calls = []
    real_encode = type(static).encode

    def counting_encode(self, *args, **kwargs):
        calls.append(len(args[0]))
        return real_encode(self, *args, **kwargs)

    monkeypatch.setattr(type(static), "encode", counting_encode)
    assert static_module._pieces_supported(static.model) == str(model2vec.__version__).startswith(
        static_module.PIECES_MODEL2VEC_RELEASES)
    monkeypatch.setattr(model2vec, "__version__", "99.0.0")
    assert not static_module._pieces_supported(static.model)
    got = static.encode_pieces(texts, pieces)
    assert calls == [3]
    np.testing.assert_array_equal(got, real_encode(static, texts))


def _joined_note_and_pieces(note: str, cuts: list[int]) -> tuple[list[str], dict[int, list[tuple[int, int, int]]]]:
    """``note`` and its pieces between consecutive ``cuts`` (character offsets), as ``encode_pieces`` takes them."""
    bounds = [0, *cuts, len(note)]
    spans = [(a, b) for a, b in zip(bounds, bounds[1:]) if note[a:b].strip()]
    return [note, *(note[a:b] for a, b in spans)], {0: [(a, b, 1 + k) for k, (a, b) in enumerate(spans)]}


@pytest.mark.parametrize("words", [127, 128, 129, 200])
def test_notes_near_the_token_cut_within_the_character_cut(static, words: int) -> None:
    """Punctuation-dense notes short enough in characters to be shared but with about ``MAX_TOKENS``
    tokens (253 to 400, a trailing comma adding one): put together only when under the cut."""
    from evidencenlp.encoder.base import MAX_TOKENS

    for note in (", ".join(["a"] * words), ", ".join(["a"] * words) + ","):
        assert len(note) <= MAX_TOKENS * int(static.model.median_token_length)  # shareable by length
        for cuts in ([len(note) // 2 - len(note) // 2 % 3 + 1], [3, len(note) - 2]):
            texts, pieces = _joined_note_and_pieces(note, cuts)
            assert _same(static.encode_pieces(texts, pieces), static.encode(texts)), (words, cuts)


def test_a_plain_note_with_pieces_is_not_tokenised_again(static, monkeypatch) -> None:
    """The shared path is taken (not only correct when it falls back): a plain note cut between words is
    never given to the tokenizer whole, a note that is not plain is."""
    plain = "Kind staff, but the wait was long"
    accented = "Kind staff, but the café was shut"
    texts = [plain, "Kind staff,", "but the wait was long", accented, "Kind staff,", "but the café was shut"]
    pieces = {0: [(0, 11, 1), (12, 33, 2)], 3: [(0, 11, 4), (12, 33, 5)]}
    seen: list[str] = []
    real_tokens = type(static)._tokens

    def spying_tokens(self, batch):
        seen.extend(batch)
        return real_tokens(self, batch)

    monkeypatch.setattr(type(static), "_tokens", spying_tokens)
    got = static.encode_pieces(texts, pieces)
    monkeypatch.undo()
    assert _same(got, static.encode(texts))
    assert plain not in seen and accented in seen



def test_span_pooling_averages_as_encode_bit_for_bit(static) -> None:
    """``encode_spans`` averages and normalises as model2vec's ``encode`` (and :meth:`encode_pieces`) do:
    the corpus notes and their pooled clauses are each text encoded alone, bit for bit (a 1-D norm
    instead of model2vec's row norm differed in the last bit for about 1 in 100 notes)."""
    from evidencenlp.topics import segments

    notes = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(CORPUS.glob("*.csv"))])["text"].dropna().tolist()
    notes = list(dict.fromkeys(notes))[:3000]
    segs = [segments([note]) for note in notes]
    whole, pooled_vectors, pooled = static.encode_spans(notes, [sentence_offsets(n, s) for n, s in zip(notes, segs)])
    assert _same(whole, static.encode(notes))
    alone = static.encode([s for ss in segs for s in ss])
    assert pooled.sum() > 1000
    assert _same(pooled_vectors[pooled], alone[pooled])
