"""The import picture of the house (ARCHITECTURE.md): no import circle, no private name imported across modules.

The imports of every module under ``src/evidencenlp`` are read with :mod:`ast` (imports under
``if TYPE_CHECKING:`` are left out: they never run). What other work still owns is listed in the
allow-lists below; an entry that no longer occurs fails the test too, so the lists only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "evidencenlp"

#: the packages and modules whose imports must form no circle among themselves (issue 20, items 2-5)
OWNED: tuple[str, ...] = ("evidencenlp.encoder", "evidencenlp.frameworks", "evidencenlp.classifier",
                          "evidencenlp.sources", "evidencenlp.training", "evidencenlp.evaluation",
                          "evidencenlp.taxonomy", "evidencenlp.matching", "evidencenlp.training_data",
                          "evidencenlp.suggest", "evidencenlp.heads", "evidencenlp.cues")

#: private names still imported across modules, in code owned by other work: (importing module, source, name).
#: Empty since the tagging package (issue 20, item 1); an entry added here must be removed when its import goes.
ALLOWED_PRIVATE: set[tuple[str, str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> list[tuple[str, str | None]]:
    """``(imported module, imported name or None)`` for every import in ``module`` that runs."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub, None) if sub in MODULES else (base, alias.name))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [(m, n) for m, n in found if m == PACKAGE or m.startswith(PACKAGE + ".")]


GRAPH: dict[str, set[str]] = {m: {t for t, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _unit(module: str) -> str | None:
    return next((u for u in OWNED if module == u or module.startswith(u + ".")), None)


def test_the_scan_sees_the_package() -> None:
    assert "evidencenlp.encoder.static" in MODULES and "evidencenlp.frameworks.set" in GRAPH
    assert "evidencenlp.frameworks.files" in GRAPH["evidencenlp.frameworks.set"]


def test_no_module_imports_itself_back() -> None:
    """No circle of modules anywhere in the package."""
    assert _cycles(GRAPH) == []


def test_no_circle_among_the_owned_packages() -> None:
    """Collapse each owned package to one node: still no circle (e.g. taxonomy <-> frameworks, training <->
    evaluation, frameworks <-> matching)."""
    units: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        unit = _unit(module)
        if unit is None:
            continue
        units.setdefault(unit, set()).update(u for t in targets if (u := _unit(t)) is not None and u != unit)
    assert _cycles(units) == []


def test_training_and_evaluation_do_not_import_each_other() -> None:
    for module, targets in GRAPH.items():
        if _unit(module) == "evidencenlp.evaluation":
            assert not any(_unit(t) == "evidencenlp.training" for t in targets), module
        if _unit(module) == "evidencenlp.training":
            assert not any(_unit(t) == "evidencenlp.evaluation" for t in targets), module


def _private_imports() -> set[tuple[str, str, str]]:
    found = set()
    for module in MODULES:
        for source, name in _imports(module):
            if name and name.startswith("_") and not name.startswith("__") and source != module:
                found.add((module, source, name))
    return found


def test_no_private_name_is_imported_across_modules() -> None:
    found = _private_imports()
    assert found - ALLOWED_PRIVATE == set(), "import the public name instead (or make it public)"


def test_the_allow_list_has_no_stale_entry() -> None:
    """When other work removes a private import, remove it from the allow-list too (the test gets stricter)."""
    assert ALLOWED_PRIVATE - _private_imports() == set()


#: the shells beside the library (``python -m evidencenlp`` is the CLI's entry point)
SHELLS: tuple[str, ...] = ("evidencenlp.cli", "evidencenlp.web", "evidencenlp.tui", "evidencenlp.api",
                           "evidencenlp.__main__")


def _shell(module: str) -> str | None:
    return next((s for s in SHELLS if module == s or module.startswith(s + ".")), None)


def test_the_library_imports_no_shell() -> None:
    """The library never imports the CLI, the web app, the terminal review or the API (they sit beside it)."""
    found = sorted((module, target) for module, targets in GRAPH.items() if _shell(module) is None
                   for target in targets if _shell(target) is not None)
    assert found == []


def test_the_shells_are_beside_the_review_library() -> None:
    assert "evidencenlp.web.app" in MODULES and "evidencenlp.tui.session" in MODULES
    assert not any(m.startswith(("evidencenlp.review.web", "evidencenlp.review.tui")) for m in MODULES)
