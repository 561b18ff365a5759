"""The label space comes from the framework data; a user's own sector framework works unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks import load_frameworks
from evidencenlp.taxonomy import Taxonomy, default_taxonomy

REPO = Path(__file__).resolve().parents[1]


def test_default_taxonomy_reads_the_saf_file() -> None:
    t = default_taxonomy()
    saf = yaml.safe_load((REPO / "frameworks" / "cqc-saf-2023.yaml").read_text(encoding="utf-8"))
    assert t.key_questions == tuple(k["id"] for k in saf["key_questions"])
    assert t.statements == tuple(q["id"] for q in saf["quality_statements"])
    assert t.bands == tuple(b["id"] for b in sorted(saf["bands"], key=lambda b: -b["score"]))
    assert t.band_scores == tuple(sorted((b["score"] for b in saf["bands"]), reverse=True))
    assert t.categories == tuple(c["id"] for c in saf["evidence_categories"])
    assert len(t.principles) == 5
    for statement in t.statements:
        assert statement in t.statements_of(t.key_question_of(statement))
    assert t.direction_of(t.bands[0]) == "positive" and t.direction_of(t.bands[-1]) == "negative"
    assert Taxonomy.from_dict(t.to_dict()) == t


def test_a_sector_framework_with_its_own_labels_needs_no_code(tmp_path: Path) -> None:
    folder = tmp_path / "frameworks"
    folder.mkdir()
    shutil.copy(REPO / "frameworks" / "crosswalk.yaml", folder)  # not needed by the taxonomy
    doc = yaml.safe_load((REPO / "frameworks" / "cqc-saf-2023.yaml").read_text(encoding="utf-8"))
    doc["id"] = "my-sector-2026"
    doc["key_questions"] = [{**kq, "id": kq["id"] + "-x"} for kq in doc["key_questions"][:2]]
    doc["quality_statements"] = [{**q, "id": f"x.{i}", "key_question": doc["key_questions"][i % 2]["id"]}
                                 for i, q in enumerate(doc["quality_statements"][:4])]
    doc["bands"] = [{**b, "id": f"level-{b['score']}"} for b in doc["bands"]]
    (folder / "my-sector.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    t = Taxonomy.from_frameworks(load_frameworks(folder))
    assert t.framework == "my-sector-2026"
    assert t.key_questions == ("safe-x", "effective-x")
    assert t.statements_of("effective-x") == ("x.1", "x.3")
    assert t.bands == ("level-4", "level-3", "level-2", "level-1")
    with pytest.raises(KeyError, match="unknown task"):
        t.labels("colour")


def test_no_framework_declaring_statements_is_a_clear_error(tmp_path: Path) -> None:
    fws = load_frameworks(REPO / "frameworks")
    del fws["cqc-saf-2023"]
    with pytest.raises(FrameworkError, match="declares quality_statements"):
        Taxonomy.from_frameworks(fws)


def test_label_lists_live_only_in_the_framework_data_and_the_taxonomy() -> None:
    src = REPO / "src" / "evidencenlp"
    offenders = []
    for path in src.rglob("*.py"):
        if path.name == "taxonomy.py" or "framework_build" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for listing in ('"outstanding", "good", "requires_improvement"', '"safe", "effective", "caring"',
                        '"people_experience", "staff_leaders_feedback"'):
            if listing in text:
                offenders.append(f"{path.relative_to(src)}: {listing}")
    assert not offenders, offenders
