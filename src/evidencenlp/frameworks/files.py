"""Load and validate framework files; expose their matchable texts.

A framework file is YAML (or JSON) validated against ``schemas/framework.schema.json``.
Validation errors name the file, the path of the bad field and what was expected, so a user
adding a sector framework can fix it without reading Python.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks.ids import CROSSWALK_FILE, MAX_ERRORS_SHOWN
from evidencenlp.frameworks.stamp import folder_stamp
from evidencenlp.paths import frameworks_dir


@dataclass(frozen=True)
class FrameworkText:
    """One matchable sentence of a framework, with what it is evidence of.

    ``item`` is the id of the thing the text belongs to (a SAF statement, a v6 topic, a KLOE or
    prompt, a principle); ``band`` is set for band descriptors and ratings characteristics.
    """

    framework: str
    item: str
    kind: str
    text: str
    key_question: str | None = None
    band: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Framework:
    """A validated framework: its identity plus the raw document in the file's own structure."""

    id: str
    title: str
    version: str
    publisher: str
    source: str
    path: Path
    data: dict[str, Any] = field(repr=False, hash=False, compare=False)

    def section(self, name: str) -> list[dict[str, Any]]:
        """The list under ``name`` (e.g. ``"topics"``), or an empty list when absent."""
        return list(self.data.get(name) or [])

    def counts(self) -> dict[str, int]:
        """Number of items per section, and of band descriptors/ratings in all."""
        counts = {
            name: len(self.section(name))
            for name in ("key_questions", "quality_statements", "evidence_categories", "bands",
                         "topics", "kloes", "principles")
            if self.section(name)
        }
        descriptors = sum(1 for t in self.texts() if t.band is not None)
        if descriptors:
            counts["band_descriptors"] = descriptors
        return counts

    def texts(self) -> list[FrameworkText]:
        """Every matchable sentence of this framework, in file order."""
        return list(_iter_texts(self))


#: libyaml's safe loader when PyYAML was built with it (about 10x faster on the framework files), same results
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(text: str) -> Any:
    """Parse YAML safely (no object construction), with libyaml when available."""
    return yaml.load(text, Loader=_YAML_LOADER)  # a safe loader: plain data only


def _iter_texts(fw: Framework):
    src = fw.source
    for kq in fw.section("key_questions"):
        ksrc = kq.get("source", src)
        for i, stmt in enumerate(kq.get("i_statements") or []):
            yield FrameworkText(fw.id, f"{kq['id']}#i{i + 1}", "i_statement", stmt["text"], kq["id"], None, ksrc)
        for band, items in (kq.get("ratings") or {}).items():
            for text in items:
                yield FrameworkText(fw.id, kq["id"], "key_question_rating", text, kq["id"], band, ksrc)
    for qs in fw.section("quality_statements"):
        text = f"{qs['title']}. {qs['we_statement']}"
        yield FrameworkText(fw.id, qs["id"], "quality_statement", text, qs["key_question"], None,
                            qs.get("source") or src)
    for topic in fw.section("topics"):
        yield FrameworkText(fw.id, topic["id"], "topic_question", topic["question"], topic["key_question"],
                            None, topic["source"])
        for band, texts in (topic.get("descriptors") or {}).items():
            for text in texts:
                yield FrameworkText(fw.id, topic["id"], "descriptor", text, topic["key_question"], band,
                                    topic["source"])
    for kloe in fw.section("kloes"):
        for prompt in kloe["prompts"]:
            yield FrameworkText(fw.id, prompt["id"], "prompt", prompt["text"], kloe["key_question"], None,
                                kloe["source"])
        for band, texts in (kloe.get("ratings") or {}).items():
            for text in texts:
                yield FrameworkText(fw.id, kloe["id"], "rating", text, kloe["key_question"], band, kloe["source"])
    for principle in fw.section("principles"):
        yield FrameworkText(fw.id, principle["id"], "principle", f"{principle['title']}. {principle['definition']}",
                            None, None, principle["source"])
        for text in principle["illustrations"]:
            yield FrameworkText(fw.id, principle["id"], "illustration", text, None, None, principle["source"])


@lru_cache(maxsize=4)
def _schema(name: str) -> Draft202012Validator:
    text = resources.files("evidencenlp.schemas").joinpath(name).read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


def _field_path(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _explain(error: ValidationError) -> str:
    """A short 'expected …' phrase for a schema error."""
    validator, expected = error.validator, error.validator_value
    if validator == "required":
        return error.message.replace("is a required property", "is required but missing")
    if validator == "enum":
        return f"expected one of {', '.join(map(str, expected))}; got {error.instance!r}"
    if validator == "type":
        return f"expected {expected}; got {type(error.instance).__name__} {error.instance!r:.60}"
    if validator == "pattern":
        return f"expected text matching {expected}; got {error.instance!r:.60}"
    if validator == "not":
        return f"expected plain text without HTML tags; got {error.instance!r:.60}"
    if validator == "minLength":
        return "expected non-empty text"
    if validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    return error.message


def read_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON framework file into a dict; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FrameworkError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise FrameworkError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise FrameworkError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else _load_yaml(text)
    except json.JSONDecodeError as exc:
        raise FrameworkError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrameworkError(f"{path}: {where}invalid YAML ({problem})") from None
    if not isinstance(doc, dict):
        raise FrameworkError(f"{path}: expected a mapping of fields (id, title, version, …) at the top level; "
                             f"got {type(doc).__name__}")
    return doc


def validate_document(doc: dict[str, Any], path: Path, schema: str = "framework.schema.json") -> None:
    """Raise :class:`FrameworkError` listing every schema and consistency problem of ``doc``."""
    errors = sorted(_schema(schema).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"at {_field_path(e)}: {_explain(e)}" for e in errors]
    if not problems and schema == "framework.schema.json":
        problems = _consistency_problems(doc, _label_space(doc, path))
    if problems:
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        tail = f"\n  … and {more} more" if more else ""
        raise FrameworkError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(shown) + tail)


def _declared(doc: dict[str, Any]) -> tuple[set[str], set[str]]:
    return ({str(k.get("id")) for k in doc.get("key_questions") or []},
            {str(b.get("id")) for b in doc.get("bands") or []})


def _label_space(doc: dict[str, Any], path: Path) -> tuple[set[str], set[str]]:
    """The key questions and bands that references in ``doc`` may use.

    A file that declares quality statements declares its own label space. Any other file (a v6
    topic list, KLOEs) uses the label space of the primary framework beside it, or of the packaged
    frameworks when none is beside it. Files are only read here (no recursion into validation).
    """
    if doc.get("quality_statements"):
        return _declared(doc)
    for folder in (path.parent, frameworks_dir()):
        found = _primary_labels(*folder_stamp(folder)) if folder.is_dir() else None
        if found is not None:
            return found
    return set(), set()


@lru_cache(maxsize=16)
def _primary_labels(folder: str, _stamp: tuple[tuple[str, int, int], ...]) -> tuple[set[str], set[str]] | None:
    """The label space declared in ``folder``; cached under the one rule of the package (until a file changes)."""
    for candidate in sorted(Path(folder).glob("*.y*ml")):
        try:
            other = _load_yaml(candidate.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(other, dict) and other.get("quality_statements") and other.get("key_questions"):
            return _declared(other)
    return None


def _consistency_problems(doc: dict[str, Any], labels: tuple[set[str], set[str]] = (set(), set())) -> list[str]:
    """Checks the schema cannot express: unique ids, key questions and bands that exist in the label space."""
    problems: list[str] = []
    for section in ("key_questions", "quality_statements", "evidence_categories", "bands", "topics",
                    "kloes", "principles"):
        ids = Counter(item.get("id") for item in doc.get(section) or [])
        problems += [f"at {section}: id {i!r} appears {n} times; ids must be unique" for i, n in ids.items() if n > 1]
    prompt_ids = Counter(p["id"] for k in doc.get("kloes") or [] for p in k.get("prompts", []))
    problems += [f"at kloes: prompt id {i!r} appears {n} times" for i, n in prompt_ids.items() if n > 1]
    declared = {kq["id"] for kq in doc.get("key_questions") or []} or labels[0]
    bands = {b["id"] for b in doc.get("bands") or []} or labels[1]
    if bands:
        for section in ("topics", "kloes"):
            for i, item in enumerate(doc.get(section) or []):
                for field_name in ("descriptors", "ratings"):
                    for band in (item.get(field_name) or {}):
                        if band not in bands:
                            problems.append(f"at {section}[{i}].{field_name}: expected bands of the label space "
                                            f"({', '.join(sorted(bands))}); got {band!r}")
    if declared:
        for section in ("quality_statements", "topics", "kloes"):
            for i, item in enumerate(doc.get(section) or []):
                if item["key_question"] not in declared:
                    problems.append(f"at {section}[{i}].key_question: expected one of the file's key "
                                    f"questions ({', '.join(sorted(declared))}); got {item['key_question']!r}")
    return problems


def load_framework_file(path: Path | str) -> Framework:
    """Read and validate one framework file. Raises :class:`FrameworkError` with a precise message."""
    path = Path(path)
    doc = read_document(path)
    validate_document(doc, path)
    return Framework(id=doc["id"], title=doc["title"], version=str(doc["version"]), publisher=doc["publisher"],
                     source=doc["source"], path=path, data=doc)


def framework_files(directory: Path | None = None) -> list[Path]:
    """The framework files in ``directory`` (default :func:`paths.frameworks_dir`), crosswalk excluded."""
    directory = directory or frameworks_dir()
    if not directory.is_dir():
        raise FrameworkError(f"{directory}: frameworks folder not found (set EVIDENCENLP_FRAMEWORKS)")
    return sorted(p for p in directory.iterdir()
                  if p.suffix.lower() in {".yaml", ".yml", ".json"} and p.name != CROSSWALK_FILE)


def load_frameworks(directory: Path | None = None) -> dict[str, Framework]:
    """Load every framework in ``directory``, keyed by id; duplicate ids are an error."""
    found: dict[str, Framework] = {}
    for path in framework_files(directory):
        fw = load_framework_file(path)
        if fw.id in found:
            raise FrameworkError(f"{path}: framework id {fw.id!r} is already used by {found[fw.id].path}")
        found[fw.id] = fw
    return found
