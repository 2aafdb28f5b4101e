"""Graders by name, with parameters, so recipes can say ``grader: {name: tool_call, weights: ...}``.

Built-ins are listed in ``_BUILTIN`` as lazy ``"module:factory"`` references; domain plug-ins add
theirs through :class:`fathom._plugins.DomainPlugin.graders`. A factory takes keyword parameters
and returns a grader (see :mod:`fathom.graders._protocol`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fathom._plugins import domain_plugins, load_ref
from fathom.errors import ConfigError, UnknownGraderError, did_you_mean
from fathom.graders._protocol import Grader

__all__ = ["build_grader", "grader_names", "register_grader"]

# name -> "module:factory"; filled by the grader modules' authors.
_BUILTIN: dict[str, str] = {}
_REGISTERED: dict[str, Callable[..., Grader]] = {}


def register_grader(name: str) -> Callable[[Callable[..., Grader]], Callable[..., Grader]]:
    """Decorator registering a grader factory under ``name`` (for user code and tests)."""

    def deco(factory: Callable[..., Grader]) -> Callable[..., Grader]:
        _REGISTERED[name] = factory
        return factory

    return deco


def _all_refs() -> dict[str, str | Callable[..., Grader]]:
    refs: dict[str, str | Callable[..., Grader]] = dict(_BUILTIN)
    for plugin in domain_plugins().values():
        refs.update(plugin.graders)
    refs.update(_REGISTERED)
    return refs


def grader_names() -> list[str]:
    """Every grader name that :func:`build_grader` accepts."""
    return sorted(_all_refs())


def build_grader(spec: str | dict[str, Any]) -> Grader:
    """Build a grader from ``"name"`` or ``{"name": ..., **params}``.

    Raises:
        UnknownGraderError: the name is not registered (with a did-you-mean).
        ConfigError: the parameters do not fit the grader's factory.
    """
    params = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = params.pop("name", None)
    refs = _all_refs()
    if name not in refs:
        raise UnknownGraderError(f"Unknown grader {name!r}. {did_you_mean(str(name), refs)} "
                                 f"Available: {', '.join(sorted(refs))}.")
    ref = refs[name]
    factory = load_ref(ref) if isinstance(ref, str) else ref
    try:
        return factory(**params)
    except TypeError as exc:
        raise ConfigError([f"grader {name!r}: {exc}"]) from exc
