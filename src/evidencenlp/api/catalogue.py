"""What ``GET /v1/frameworks`` answers: the frameworks loaded and the label space suggestions come from.

Everything is read from the framework data (:mod:`evidencenlp.frameworks`) and its
:class:`~evidencenlp.taxonomy.Taxonomy`; no label is listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evidencenlp.frameworks import Framework
from evidencenlp.taxonomy import DIRECTIONS, Taxonomy

#: the descriptive fields an item may carry in a framework file, copied as they are when present
ITEM_FIELDS: tuple[str, ...] = ("key_question", "score", "description", "we_statement", "definition")


def _items(taxonomy: Taxonomy, ids: tuple[str, ...], declared: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``ids`` in taxonomy order, each with its title and the descriptive fields its framework item has."""
    out = []
    for label in ids:
        item = declared.get(label, {})
        out.append({"id": label, "title": taxonomy.title(label),
                    **{k: item[k] for k in ITEM_FIELDS if item.get(k) not in (None, "")}})
    return out


def describe_frameworks(frameworks: Mapping[str, Framework], taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """The loaded ``frameworks`` (id, title, version, publisher, counts) and the label space of ``taxonomy``
    (default: built from ``frameworks``): key questions, statements, bands (best first, with scores
    and direction), evidence categories, principles and directions, each with its title and text."""
    taxonomy = taxonomy or Taxonomy.from_frameworks(frameworks)
    primary = frameworks[taxonomy.framework]

    def declared(section: str, where: list[Framework]) -> dict[str, Mapping[str, Any]]:
        return {str(item["id"]): item for fw in where for item in fw.section(section)}

    bands = _items(taxonomy, taxonomy.bands, declared("bands", [primary]))
    for band in bands:
        band["score"] = taxonomy.band_score(band["id"])
        band["direction"] = taxonomy.direction_of(band["id"])
    return {
        "frameworks": [{"id": fw.id, "title": fw.title, "version": fw.version, "publisher": fw.publisher,
                        "primary": fw.id == taxonomy.framework, "counts": fw.counts()}
                       for fw in frameworks.values()],
        "label_space": {
            "framework": taxonomy.framework,
            "key_questions": _items(taxonomy, taxonomy.key_questions, declared("key_questions", [primary])),
            "statements": [{**item, "key_question": kq} for item, kq in
                           zip(_items(taxonomy, taxonomy.statements, declared("quality_statements", [primary])),
                               taxonomy.statement_kq)],
            "bands": bands,
            "evidence_categories": _items(taxonomy, taxonomy.categories,
                                          declared("evidence_categories", [primary])),
            "principles": _items(taxonomy, taxonomy.principles,
                                 declared("principles", list(frameworks.values()))),
            "directions": list(DIRECTIONS),
        },
    }
