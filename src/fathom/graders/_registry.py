"""Graders by name, with parameters, so recipes can say ``grader: {name: tool_call, weights: ...}``.

Built-ins are listed in ``_BUILTIN`` as lazy ``"module:factory"`` references; domain plug-ins add
theirs through :class:`fathom._plugins.DomainPlugin.graders`; :func:`register_grader` adds one at run
time (one :class:`fathom._registry.Registry` merges the three). A factory takes keyword parameters
and returns a grader (see :mod:`fathom.graders._protocol`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fathom._registry import Registry
from fathom.errors import ConfigError, UnknownGraderError, did_you_mean
from fathom.graders._protocol import Grader

__all__ = ["build_grader", "grader_names", "register_grader"]

# name -> "module:factory"
_BUILTIN: dict[str, str] = {
    "bleu": "fathom.graders._text:bleu",
    "chrf": "fathom.graders._text:chrf",
    "exact": "fathom.graders._text:exact",
    "faithfulness": "fathom.graders._faithfulness:faithfulness",
    "forgetting": "fathom.graders._forgetting:forgetting",
    "json_schema": "fathom.graders._json_schema:json_schema",
    "llm_judge": "fathom.graders._judge:llm_judge",
    "openai": "fathom.graders._openai:openai_grader",
    "regex": "fathom.graders._text:regex",
    "rouge_l": "fathom.graders._text:rouge_l",
    "sql_exec": "fathom.graders._sql:sql_exec",
    "tool_call": "fathom.graders._toolcall:tool_call",
    "weighted": "fathom.graders._weighted:weighted",
}
_GRADERS: Registry[Callable[..., Grader]] = Registry("grader", _BUILTIN, lambda plugin: plugin.graders,
                                                    error=UnknownGraderError)
_REGISTERED = _GRADERS.registered


def register_grader(name: str) -> Callable[[Callable[..., Grader]], Callable[..., Grader]]:
    """Decorator registering a grader factory under ``name`` (for user code and tests)."""
    return _GRADERS.register(name)


def grader_names() -> list[str]:
    """Every grader name that :func:`build_grader` accepts."""
    return _GRADERS.names()


def build_grader(spec: str | dict[str, Any]) -> Grader:
    """Build a grader from ``"name"`` or ``{"name": ..., **params}``.

    Raises:
        UnknownGraderError: the name is not registered (with a did-you-mean).
        ConfigError: the parameters do not fit the grader's factory.
    """
    params = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = params.pop("name", None)
    factory = _GRADERS.load(name)
    _check_params(str(name), factory, params)
    try:
        return factory(**params)
    except TypeError as exc:
        raise ConfigError([f"grader {name!r}: {exc}"]) from exc


def _check_params(name: str, factory: Callable[..., Grader], params: dict[str, Any]) -> None:
    """Raise one ConfigError naming every parameter the factory does not take (with did-you-mean)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins and C callables: let the call itself complain
        return
    accepted = [p.name for p in signature.parameters.values()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return
    problems = [f"grader {name!r}: unknown parameter {key!r}. {did_you_mean(key, accepted)} "
                f"Valid: {', '.join(accepted) or '(none)'}." for key in params if key not in accepted]
    if problems:
        raise ConfigError(problems)
