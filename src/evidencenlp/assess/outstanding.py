""""What would make this outstanding": the nearest unmet outstanding descriptor for a statement scored good.

The SAF statement is linked to topics of the draft v6 framework (``cqc-pcc-v6-draft``) by
``frameworks/crosswalk.yaml``; each topic lists descriptors per band. With the encoder, the candidate
outstanding descriptors are ranked by cosine similarity to the mean embedding of the statement's
notes, and a descriptor already matched (cosine >= ``met_similarity``) by a note in the best band
counts as met and is skipped. Without the encoder, the first outstanding descriptor of the first
linked topic is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from evidencenlp.assess.model import AssessOptions, OutstandingHint, StatementAssessment
from evidencenlp.encoder.base import Embedder
from evidencenlp.frameworks import V6_ID, Crosswalk, Framework


def outstanding_descriptors(statement: str, frameworks: Mapping[str, Framework], crosswalk: Crosswalk | None,
                            best_band: str) -> list[tuple[str, str, str]]:
    """``(topic id, topic title, descriptor)`` for every best-band descriptor of the linked v6 topics."""
    row = crosswalk.row(statement) if crosswalk else None
    v6 = frameworks.get(V6_ID)
    if row is None or v6 is None:
        return []
    topics = {t["id"]: t for t in v6.section("topics")}
    out = []
    for topic_id in row.v6:
        topic = topics.get(topic_id)
        if topic is None:
            continue
        for text in (topic.get("descriptors") or {}).get(best_band) or []:
            out.append((topic_id, str(topic.get("title", topic_id)), str(text)))
    return out


def add_hints(statements: Sequence[StatementAssessment], frameworks: Mapping[str, Framework],
              crosswalk: Crosswalk | None, good_score: int, best_band: str, options: AssessOptions,
              embedder: Embedder | None = None) -> int:
    """Set ``what_would_make_outstanding`` on every statement scored ``good_score``; returns how many.

    ``embedder`` (the one chosen for the run, e.g. ``--backend static``; default: torch) embeds the
    descriptors and notes when ``options.use_encoder``."""
    targets = [(s, outstanding_descriptors(s.statement, frameworks, crosswalk, best_band))
               for s in statements if s.score == good_score]
    targets = [(s, c) for s, c in targets if c]
    if not targets:
        return 0
    if not options.use_encoder:
        for s, cands in targets:
            topic, title, text = cands[0]
            s.what_would_make_outstanding = OutstandingHint(topic, title, text, None, "first descriptor (no encoder)")
        return len(targets)
    from evidencenlp.encoder import load_embedder

    texts = sorted({c[2] for _, cands in targets for c in cands})
    note_texts = sorted({n.text for s, _ in targets for n in s.notes if n.text})
    vectors = (embedder or load_embedder("torch")).encode(texts + note_texts)
    desc_vec = dict(zip(texts, vectors[: len(texts)]))
    note_vec = dict(zip(note_texts, vectors[len(texts):]))
    for s, cands in targets:
        notes = [n for n in s.notes if n.text in note_vec]
        if not notes:
            topic, title, text = cands[0]
            s.what_would_make_outstanding = OutstandingHint(topic, title, text, None, "first descriptor (no note text)")
            continue
        weights = np.array([max(n.weight, 1e-6) for n in notes], dtype=np.float32)
        centre = (np.stack([note_vec[n.text] for n in notes]) * weights[:, None]).sum(axis=0)
        centre /= float(np.linalg.norm(centre)) or 1.0
        best_notes = [note_vec[n.text] for n in notes if n.band == best_band]
        ranked = sorted(cands, key=lambda c: -float(desc_vec[c[2]] @ centre))
        chosen = None
        for cand in ranked:
            met = any(float(desc_vec[cand[2]] @ v) >= options.met_similarity for v in best_notes)
            if not met:
                chosen = cand
                break
        if chosen is None:
            continue  # every outstanding descriptor is already matched by an outstanding note
        s.what_would_make_outstanding = OutstandingHint(
            chosen[0], chosen[1], chosen[2], float(desc_vec[chosen[2]] @ centre),
            "most similar to the statement's notes (weighted mean embedding) among descriptors not yet met")
    return len(targets)
