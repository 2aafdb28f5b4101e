"""Domain plug-ins: how a domain package adds CLI verbs, graders, recipe stages and rule-based models.

A domain exposes a :class:`DomainPlugin` through the ``fathom.domains`` entry-point group::

    [project.entry-points."fathom.domains"]
    shipping = "fathom.domains.shipping:plugin"

Everything in it is a ``"module:attribute"`` string, imported only when used, so the core never
imports a domain and ``fathom --help`` stays fast. A plug-in that fails to load is warned about by
name and skipped; it cannot break the CLI.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from fathom.errors import FathomWarning

__all__ = ["DomainPlugin", "domain_plugins", "load_ref"]


@dataclass(frozen=True)
class DomainPlugin:
    """What a domain brings. All values are lazy ``"module:attribute"`` references."""

    name: str
    """Short name, also the CLI verb group (``fathom shipping ...``)."""
    cli: str | None = None
    """A ``click`` command or group."""
    graders: dict[str, str] = field(default_factory=dict)
    """Grader name -> factory taking keyword parameters and returning a grader."""
    stages: dict[str, str] = field(default_factory=dict)
    """Recipe stage name -> stage function."""
    backends: dict[str, str] = field(default_factory=dict)
    """Rule-based model name -> factory taking keyword options and returning a backend; the model spec
    ``rule:NAME`` names it (a distillation teacher, a baseline for ``fathom eval``)."""


def load_ref(ref: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


@cache
def domain_plugins() -> dict[str, DomainPlugin]:
    """All installed domain plug-ins by name (entry-point group ``fathom.domains``)."""
    found: dict[str, DomainPlugin] = {}
    for ep in entry_points(group="fathom.domains"):
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plug-in must not break Fathom
            warnings.warn(f"Fathom domain plug-in {ep.name!r} failed to load: {exc}", FathomWarning,
                          stacklevel=2)
            continue
        found[plugin.name] = plugin
    return found
