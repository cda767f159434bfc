"""The map in ``docs/architecture.md`` is true: no import runs up a layer, and every module it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT

SRC = ROOT / "src"
PACKAGE = SRC / "subledger"

#: The layers of ``docs/architecture.md``, from the bottom. A module may import from its own layer and those below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__version__", "errors", "money", "text", "settings", "posting", "chart", "calendar", "permissions", "models"),
    ("storage", "canonical"),
    ("context", "journal", "fingerprint", "state", "balances", "queries", "reports", "audit"),
    ("export", "plugins"),
    ("checks",),
    ("operations",),
    ("api",),
    ("cli", "fava_ext", "demo", "http", "__main__"),
)


def _layer(module: str) -> int:
    """The layer of ``subledger.X...`` (by its first component below the package)."""
    top = module.split(".")[1] if "." in module else ""
    for n, names in enumerate(LAYERS):
        if top in names:
            return n
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``subledger`` import in ``path``, the names of ``from subledger import x`` included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("subledger.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "subledger":
                found += [(node.lineno, f"subledger.{a.name}") for a in node.names]
            elif node.module.startswith("subledger."):
                found.append((node.lineno, node.module))
    return found


def test_no_import_runs_up_a_layer() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or path == PACKAGE / "__init__.py":
            continue
        module = _module(path)
        here = _layer(module)
        for line, target in _imports(path):
            if _layer(target) > here:
                upward.append(f"{path.relative_to(ROOT)}:{line} {module} imports {target}")
    assert upward == []


def test_every_module_the_map_names_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`(src/subledger/[\w/.]+)`", text))
    assert len(named) >= 10
    assert sorted(p for p in named if not (ROOT / p).exists()) == []
    short = set(re.findall(r"`((?:storage|operations|checks|export|models|cli)/[\w/]+\.py)`", text))
    assert sorted(p for p in short if not (PACKAGE / p).exists()) == []


def test_test_modules_share_helpers_through_conftest_only() -> None:
    """A helper one test module needs from another lives in ``conftest.py``: importing a test module runs its
    module-level code and ties the two files' test collection together."""
    tests = ROOT / "tests"
    names = {p.stem for p in tests.glob("test_*.py")}
    crossing = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module]
            else:
                continue
            crossing += [f"{path.relative_to(ROOT)}:{node.lineno} imports {m}" for m in imported if m in names]
    assert crossing == []


def test_no_module_imports_another_modules_private_name() -> None:
    """A name another module needs is public there: ``_name`` promises that only its own module uses it."""
    private = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("subledger"):
                names = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                private += [f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{n}" for n in names]
    assert private == []


def test_interfaces_read_the_book_through_books_and_queries() -> None:
    """The command line, the HTTP service and the Fava extension build no query of their own on the book's tables:
    what they show comes from ``Books`` or ``queries`` (``http/clients.py`` keeps the service's own clients and
    tokens, its one store)."""
    found = []
    for folder in ("cli", "http", "fava_ext"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            if path == PACKAGE / "http" / "clients.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                names = [node.module]
                if node.module == "subledger.storage":
                    names = [f"subledger.storage.{a.name}" for a in node.names]
                found += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n == "subledger.storage.schema"]
    assert found == []
