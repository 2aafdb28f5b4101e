"""Fixtures for the tests of ``scripts/``: each script loaded as a module (``scripts/`` is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"fathom_script_{name}", SCRIPTS / f"{name}.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"scripts/{name}.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def gen_cli_docs() -> ModuleType:
    return _load("gen_cli_docs")


@pytest.fixture(scope="session")
def screenshot_script() -> ModuleType:
    return _load("screenshot")


@pytest.fixture(scope="session")
def toolcall_set() -> ModuleType:
    return _load("make_toolcall_set")
