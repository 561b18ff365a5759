"""The framework library: loading, validation errors, counts, ids, crosswalk coverage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks import (
    KLOE_ID,
    PRINCIPLES_ID,
    SAF_ID,
    V6_ID,
    load_crosswalk,
    load_framework_file,
    load_frameworks,
)

HTML = re.compile(r"<[a-zA-Z/][^>]*>")


@pytest.fixture(scope="module")
def fws():
    return load_frameworks()


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def test_the_four_frameworks_with_versions(fws) -> None:
    assert set(fws) == {SAF_ID, V6_ID, KLOE_ID, PRINCIPLES_ID}
    assert all(fw.version for fw in fws.values())


def test_counts(fws) -> None:
    saf, v6, kloe, kf = fws[SAF_ID], fws[V6_ID], fws[KLOE_ID], fws[PRINCIPLES_ID]
    assert len(saf.section("quality_statements")) == 34
    assert len(saf.section("evidence_categories")) == 6
    assert [b["score"] for b in saf.section("bands")] == [4, 3, 2, 1]
    assert len(v6.section("topics")) == 26
    assert [len(p["illustrations"]) for p in kf.section("principles")] == [6, 6, 6, 6, 4]
    assert len(kloe.section("kloes")) == 27


def test_every_item_has_a_source_and_no_string_holds_html(fws) -> None:
    for fw in fws.values():
        assert fw.source
        for text in fw.texts():
            assert text.source, (fw.id, text.item)
        for s in _strings(fw.data):
            assert not HTML.search(s), (fw.id, s[:80])


def test_texts_cover_every_band_of_every_v6_topic(fws) -> None:
    texts = fws[V6_ID].texts()
    for topic in fws[V6_ID].section("topics"):
        bands = {t.band for t in texts if t.item == topic["id"] and t.kind == "descriptor"}
        assert bands == {"outstanding", "good", "requires_improvement", "inadequate"}, topic["id"]


def test_crosswalk_covers_every_saf_statement_and_v6_topic(fws) -> None:
    cw = load_crosswalk(frameworks=fws)
    saf_ids = [q["id"] for q in fws[SAF_ID].section("quality_statements")]
    assert sorted(r.saf for r in cw.rows) == sorted(saf_ids)
    topics = {t["id"] for t in fws[V6_ID].section("topics")}
    assert topics == {t for r in cw.rows for t in r.v6}
    assert any(r.judgement for r in cw.rows)
    some_topic = next(iter(topics))
    assert all(some_topic in cw.row(s).v6 for s in cw.saf_for_v6(some_topic))
    assert cw.saf_for_kloe("S1.1") == cw.saf_for_kloe("S1")


def _write(tmp_path: Path, doc: object, name: str = "fw.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


GOOD = {"id": "my-sector", "title": "My sector framework", "version": "1", "publisher": "Me", "source": "here",
        "topics": [{"id": "safe.x", "key_question": "safe", "title": "X", "question": "Is it safe?", "scope": [],
                    "descriptors": {"good": ["It is safe."]}, "source": "here"}]}


def test_a_valid_user_framework_loads(tmp_path: Path) -> None:
    fw = load_framework_file(_write(tmp_path, GOOD))
    assert fw.id == "my-sector" and fw.counts()["topics"] == 1


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d.pop("version"), "'version' is required"),
    (lambda d: d["topics"][0].update(key_question="safety"), "topics[0].key_question: expected one of"),
    (lambda d: d["topics"][0]["descriptors"].update(great=["x"]), "topics[0].descriptors"),
    (lambda d: d["topics"][0]["descriptors"].update(good=["<li>It is safe</li>"]), "without HTML"),
    (lambda d: d["topics"].append(dict(d["topics"][0])), "appears 2 times"),
    (lambda d: d.update(id="Bad Id"), "at id: expected text matching"),
])
def test_malformed_user_framework_names_field_and_expectation(tmp_path: Path, mutate, expected: str) -> None:
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    mutate(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(FrameworkError) as err:
        load_framework_file(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_unparseable_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"broken.yaml: line \d+, column \d+: invalid YAML"):
        load_framework_file(path)


def test_cli_validate_gives_clear_error_without_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from evidencenlp.cli import app

    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    doc["topics"][0]["key_question"] = "safety"
    path = _write(tmp_path, doc)
    result = CliRunner().invoke(app, ["frameworks", "validate", str(path)])
    assert result.exit_code == 2
    # the command exits with code 2 through SystemExit (a clean exit), never with another exception
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "topics[0].key_question" in result.output and "safety" in result.output
    ok = CliRunner().invoke(app, ["frameworks", "validate", str(_write(tmp_path, GOOD, "ok.yaml"))])
    assert ok.exit_code == 0 and "valid" in ok.output


def test_cli_list_and_show(fws) -> None:
    import json

    from typer.testing import CliRunner

    from evidencenlp.cli import app

    listed = CliRunner().invoke(app, ["frameworks", "list"])
    assert listed.exit_code == 0 and all(i[:10] in listed.output for i in fws)
    shown = CliRunner().invoke(app, ["frameworks", "show", PRINCIPLES_ID, "--format", "json"])
    assert shown.exit_code == 0
    doc = json.loads(shown.output)
    assert [p["id"] for p in doc["principles"]] == ["person_centred", "compassionate_inclusive_leadership",
                                                    "equity_inclusion", "learning_improvement_innovation",
                                                    "purposeful_positive_difference"]
    assert '"id": "person_centred"' in shown.output
    missing = CliRunner().invoke(app, ["frameworks", "show", "nope"])
    assert missing.exit_code == 2 and "known:" in missing.output


def test_framework_set_is_loaded_once_per_folder_and_again_when_a_file_changes(tmp_path: Path) -> None:
    """One cache rule: the set of a folder is reused until a file in it changes."""
    import os
    import shutil

    from evidencenlp.frameworks import load_framework_set
    from evidencenlp.paths import frameworks_dir
    from evidencenlp.taxonomy import default_taxonomy

    folder = tmp_path / "fw"
    shutil.copytree(frameworks_dir(), folder)
    first = load_framework_set(folder)
    assert load_framework_set(folder) is first and default_taxonomy(folder) is first.taxonomy
    assert first.crosswalk.version == first.version["crosswalk"]
    saf = first.frameworks[SAF_ID].path
    text = saf.read_text(encoding="utf-8").replace("version: ", "version: x", 1)
    saf.write_text(text, encoding="utf-8")
    os.utime(saf, ns=(saf.stat().st_atime_ns, saf.stat().st_mtime_ns + 10**9))
    again = load_framework_set(folder)
    assert again is not first and again.frameworks[SAF_ID].version != first.frameworks[SAF_ID].version


def test_framework_set_without_crosswalk_raises_only_when_the_crosswalk_is_used(tmp_path: Path) -> None:
    import shutil

    from evidencenlp.errors import FrameworkError
    from evidencenlp.frameworks import load_framework_set
    from evidencenlp.paths import frameworks_dir

    folder = tmp_path / "fw"
    shutil.copytree(frameworks_dir(), folder)
    (folder / "crosswalk.yaml").unlink()
    fs = load_framework_set(folder)
    assert fs.taxonomy.statements and "crosswalk" not in fs.version
    with pytest.raises(FrameworkError, match="crosswalk.yaml: file not found"):
        _ = fs.crosswalk
