"""One registry of named things: built-in references, domain plug-ins' references, run-time names.

Graders, recipe stages and CLI verbs are each found by name in three places: the core's own
``"module:attribute"`` references, those a domain plug-in brings (:class:`fathom._plugins.DomainPlugin`)
and those registered at run time (tests, user code). :class:`Registry` merges the three, imports a
reference only when it is looked up, and says "did you mean" about a name it does not know.

Covers: merging, precedence, lazy loading, unknown-name messages. Not covered: what the things are
or how they are checked (each registry's owner: ``fathom.graders``, ``fathom.recipes``, ``fathom.cli``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from fathom._plugins import DomainPlugin, domain_plugins, load_ref
from fathom.errors import FathomError, did_you_mean

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> things, from built-in refs, plug-in refs and run-time registrations.

    Later sources win: plug-ins override built-ins and run-time names override both, unless
    ``builtin_wins`` (then a plug-in cannot shadow a built-in; run-time names still win).

    >>> r = Registry("encoder", {"dumps": "json:dumps"})
    >>> r.get("dumps")([1])
    '[1]'
    >>> r.unknown("dump")
    "unknown encoder 'dump'. Did you mean 'dumps'? Available: dumps."
    """

    def __init__(self, kind: str, builtin: dict[str, str],
                 plugin_refs: Callable[[DomainPlugin], dict[str, str]] | None = None, *,
                 builtin_wins: bool = False, error: type[FathomError] = FathomError):
        self.kind = kind
        """What the names name, for messages ("grader", "stage")."""
        self.builtin = builtin
        """Built-in name -> ``"module:attribute"``."""
        self.registered: dict[str, T | str] = {}
        """Names registered at run time (:meth:`register`, :meth:`add`)."""
        self._plugin_refs = plugin_refs
        self._builtin_wins = builtin_wins
        self._error = error

    def add(self, name: str, thing: T | str) -> None:
        """Register ``thing`` (or a ``"module:attribute"`` reference to it) under ``name``."""
        self.registered[name] = thing

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def deco(thing: T) -> T:
            self.add(name, thing)
            return thing

        return deco

    def refs(self) -> dict[str, T | str]:
        """Every name with its thing or its (not yet imported) reference."""
        plugins: dict[str, T | str] = {}
        for plugin in domain_plugins().values() if self._plugin_refs else ():
            plugins.update(self._plugin_refs(plugin))  # type: ignore[misc]
        refs: dict[str, T | str] = {**plugins, **self.builtin} if self._builtin_wins else {**self.builtin, **plugins}
        refs.update(self.registered)
        return refs

    def names(self) -> list[str]:
        """Every known name, sorted."""
        return sorted(self.refs())

    def __contains__(self, name: object) -> bool:
        return name in self.refs()

    def get(self, name: Any) -> T | None:
        """The thing called ``name`` (imported now if it is a reference), or None."""
        ref = self.refs().get(name)
        if ref is None:
            return None
        return load_ref(ref) if isinstance(ref, str) else ref

    def load(self, name: Any) -> T:
        """The thing called ``name``; raises the registry's error with a did-you-mean when unknown."""
        thing = self.get(name)
        if thing is None:
            message = self.unknown(name)
            raise self._error(message[0].upper() + message[1:])
        return thing

    def unknown(self, name: Any) -> str:
        """``"unknown <kind> 'x'. Did you mean 'y'? Available: ..."``, for messages and problems."""
        names = self.names()
        parts = [f"unknown {self.kind} {name!r}.", did_you_mean(str(name), names), f"Available: {', '.join(names)}."]
        return " ".join(p for p in parts if p)
