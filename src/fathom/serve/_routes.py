"""Which model names a server answers to, and the adapter each one means (adapters on demand).

One base model is loaded once; each LoRA adapter the backend registered is served as ``base:adapter``,
and an alias is another name for one adapter (``{"shipping": "shipping-v3"}``). A request's ``model``
picks the adapter (``ChatRequest.adapter``); the base name (or no ``model``) means the base. Any other
name is a 404 in OpenAI's error shape listing what is served.
Not covered: loading adapters while serving, aliases for the base model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fathom.errors import ConfigError, Problem, did_you_mean
from fathom.serve._schema import ApiError

__all__ = ["ModelRoutes"]


class ModelRoutes:
    """The model names served for one base and its adapters, in the order ``/v1/models`` lists them.

    Args:
        base: the base model's name (what clients request for the base).
        adapters: the adapter names the backend registered (``backend.adapters``).
        aliases: more names for adapters, ``{alias: adapter name}``.

    Raises:
        ConfigError: an alias names no registered adapter, or is empty or a name already served (every
            problem listed).

    >>> routes = ModelRoutes("tiny", ["alpha"], {"fast": "alpha"})
    >>> routes.names, routes.adapter_for("fast"), routes.adapter_for("tiny")
    (['tiny', 'tiny:alpha', 'fast'], 'alpha', None)
    """

    def __init__(self, base: str, adapters: Sequence[str] = (), aliases: Mapping[str, str] | None = None):
        self.base = base
        self._adapters: dict[str, str | None] = {base: None, **{f"{base}:{a}": a for a in adapters}}
        problems = []
        for alias, target in (aliases or {}).items():
            where = f"aliases[{alias!r}]"
            if not alias:
                problems.append(Problem(where, "an alias must be a non-empty name"))
            elif alias in self._adapters:
                problems.append(Problem(where, f"{alias!r} is served already (as "
                                               f"{'the base model' if alias == base else 'an adapter'}); pick "
                                               f"another alias"))
            elif target not in adapters:
                hint = did_you_mean(target, adapters)
                registered = ", ".join(adapters) or "none (register adapters with --adapter NAME=PATH)"
                problems.append(Problem(where, " ".join(filter(None, [f"{target!r} is not a registered adapter.",
                                                                      hint, f"Registered: {registered}."]))))
            else:
                self._adapters[alias] = target
        if problems:
            raise ConfigError(problems, title="invalid model aliases")

    @property
    def names(self) -> list[str]:
        """Every model name served: the base, ``base:adapter`` for each adapter, then the aliases."""
        return list(self._adapters)

    def adapter_for(self, model: str | None) -> str | None:
        """The adapter a request's ``model`` means (None: the base; so does no ``model`` at all).

        Raises:
            ApiError: a 404 (``model_not_found``) for a name this server does not serve, listing those it does.
        """
        if not model:
            return None
        if model not in self._adapters:
            hint = did_you_mean(model, self._adapters)
            raise ApiError(404, " ".join(filter(None, [
                f"The model {model!r} does not exist here.", hint,
                f"This server serves: {', '.join(self._adapters)} (see /v1/models)."])),
                param="model", code="model_not_found")
        return self._adapters[model]

    def listing(self, created: int) -> dict[str, Any]:
        """The body of ``GET /v1/models``."""
        return {"object": "list", "data": [{"id": name, "object": "model", "created": created, "owned_by": "fathom"}
                                           for name in self._adapters]}
