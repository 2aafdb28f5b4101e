"""The package boundaries of ``architecture.md``, checked on the source tree.

* Packages talk through their public faces: ``fathom.X._y`` (a private module of package
  ``fathom.X``, at any depth: ``fathom.domains.shipping.vocab._vocab`` belongs to
  ``fathom.domains.shipping.vocab``) is imported only by modules inside ``fathom.X``. Top-level
  shared internals (``fathom._manifest``, ``fathom._plugins``, ...) are the core's and exempt.
* The core never imports a domain (``fathom.domains...``); domains come in as plug-ins.
* Every name a package lists in ``__all__`` exists, and the faces without a test of their own are
  pinned here.

Imports are read with :mod:`ast` (``import``, ``from ... import``, relative ones resolved, inside
functions too) plus lazy references written as strings (``"fathom.x._y:attr"``), so a rule cannot
be dodged by importing late. Each rule is proved on a small tree with a deliberate violation.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
_REF = re.compile(r"^fathom(\.[A-Za-z_][A-Za-z0-9_]*)+:[A-Za-z_][A-Za-z0-9_.]*$")  # "module:attr"


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted((root / "fathom").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imported_names(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) for every import and string reference in one source file."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    package = _package_of(module, path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            yield node.lineno, base
            for alias in node.names:  # `from fathom.x import _y`: a private module (or name) of fathom.x
                if alias.name.startswith("_"):
                    yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _REF.match(node.value):
            yield node.lineno, node.value.partition(":")[0]


def private_owner(target: str) -> str | None:
    """The package whose private module ``target`` is, or None (public, or a top-level internal)."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i]) if i >= 2 else None
    return None


def violations(root: Path) -> list[str]:
    """Every boundary crossed in the tree under ``root`` (a ``src`` folder holding ``fathom``)."""
    modules = _modules(root)
    problems = []
    for module, path in modules.items():
        in_domain = module.startswith("fathom.domains")
        for line, target in imported_names(module, path):
            if not target.startswith("fathom"):
                continue
            where = f"{path.relative_to(root)}:{line}"
            owner = private_owner(target)
            if owner and module != owner and not module.startswith(owner + "."):
                problems.append(f"{where}: {module} imports {target}, private to {owner} (import from {owner})")
            if not in_domain and target.startswith("fathom.domains"):
                problems.append(f"{where}: core module {module} imports the domain module {target}")
    return problems


def test_the_source_tree_keeps_its_boundaries() -> None:
    assert violations(SRC) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


_CLEAN = {
    "fathom/__init__.py": "",
    "fathom/_manifest.py": "",
    "fathom/backends/__init__.py": "from fathom.backends._protocol import Sampling\n",
    "fathom/backends/_protocol.py": "from fathom._manifest import x\nSampling = 1\n",
    "fathom/evaluate/__init__.py": "",
    "fathom/evaluate/_run.py": "from fathom.backends import Sampling\nfrom ._other import y\n",
    "fathom/evaluate/_other.py": "",
    "fathom/domains/__init__.py": "",
    "fathom/domains/shipping/__init__.py": "REF = 'fathom.domains.shipping.lm:stage'\n",
    "fathom/domains/shipping/vocab/__init__.py": "from fathom.domains.shipping.vocab._vocab import POINTS\n",
    "fathom/domains/shipping/vocab/_vocab.py": "POINTS = 8\n",
    "fathom/domains/shipping/lm/__init__.py": "from fathom.evaluate import x\n",
    "fathom/domains/shipping/lm/_prompt.py": "from fathom.domains.shipping.vocab import POINTS\n",
}


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    assert violations(_tree(tmp_path, _CLEAN)) == []


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("fathom/evaluate/_run.py", "from fathom.backends._protocol import Sampling\n", "private to fathom.backends"),
    ("fathom/evaluate/_run.py", "def f():\n    import fathom.backends._protocol\n", "private to fathom.backends"),
    ("fathom/evaluate/_run.py", "from fathom.backends import _protocol\n", "private to fathom.backends"),
    ("fathom/evaluate/_run.py", "REF = 'fathom.backends._protocol:Sampling'\n", "private to fathom.backends"),
    ("fathom/domains/shipping/lm/_prompt.py", "from fathom.domains.shipping.vocab._vocab import POINTS\n",
     "private to fathom.domains.shipping.vocab"),
    ("fathom/domains/shipping/lm/_prompt.py", "from ..vocab._vocab import POINTS\n",
     "private to fathom.domains.shipping.vocab"),
    ("fathom/evaluate/_run.py", "import fathom.domains.shipping\n", "core module fathom.evaluate._run imports"),
    ("fathom/backends/__init__.py", "from fathom.domains.shipping.vocab import POINTS\n", "core module"),
])
def test_a_deliberate_violation_is_caught(tmp_path: Path, module: str, source: str, expected: str) -> None:
    root = _tree(tmp_path, {**_CLEAN, module: source})
    found = violations(root)
    assert len(found) == 1 and expected in found[0], found


def _packages() -> list[str]:
    return sorted(m for m, p in _modules(SRC).items() if p.name == "__init__.py" and "._" not in m)


@pytest.mark.parametrize("package", _packages())
def test_every_exported_name_exists(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in getattr(module, "__all__", []) if not hasattr(module, name)]
    assert missing == []


PINNED = {
    "fathom.evaluate": [
        "CacheUse", "Estimate", "EvalConfig", "EvalSummary", "bootstrap_mean", "build_request", "compare_runs",
        "evaluate", "evaluate_model", "example_id", "forgetting_check", "forgetting_html", "forgetting_summary",
        "general_set", "grade_completions", "html_page",
        "img_tag", "paired_bootstrap", "png_bytes", "summarise"],
}


@pytest.mark.parametrize("package", sorted(PINNED))
def test_public_faces_are_pinned(package: str) -> None:
    assert sorted(importlib.import_module(package).__all__) == PINNED[package]
