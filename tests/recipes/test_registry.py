"""The one :class:`fathom._registry.Registry` behind graders, recipe stages and CLI verbs: precedence of
built-in, plug-in and run-time names, lazy imports, did-you-mean errors."""

from __future__ import annotations

import sys

import pytest

import fathom._registry as registry_module
from fathom._plugins import DomainPlugin
from fathom._registry import Registry
from fathom.errors import UnknownGraderError


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = DomainPlugin(name="fake", cli="json:loads", graders={"shared": "json:loads", "own": "json:dumps"})
    monkeypatch.setattr(registry_module, "domain_plugins", lambda: {"fake": fake})


@pytest.mark.usefixtures("plugin")
def test_plugins_override_builtins_and_run_time_names_override_both() -> None:
    r: Registry[object] = Registry("grader", {"shared": "json:dumps", "base": "json:dumps"}, lambda p: p.graders)
    assert r.refs() == {"shared": "json:loads", "base": "json:dumps", "own": "json:dumps"}
    r.add("shared", len)
    assert r.get("shared") is len
    assert r.names() == ["base", "own", "shared"]


@pytest.mark.usefixtures("plugin")
def test_builtin_wins_keeps_plugins_from_shadowing_core_names() -> None:
    r: Registry[object] = Registry("command", {"fake": "json:dumps"}, lambda p: {p.name: p.cli} if p.cli else {},
                                   builtin_wins=True)
    assert r.refs() == {"fake": "json:dumps"}


def test_references_are_imported_only_when_looked_up() -> None:
    sys.modules.pop("colorsys", None)
    r: Registry[object] = Registry("thing", {"hls": "colorsys:rgb_to_hls"})
    assert "hls" in r and "colorsys" not in sys.modules
    assert r.load("hls")(1.0, 1.0, 1.0) == (0.0, 1.0, 0.0)


def test_unknown_names_get_a_did_you_mean_and_the_registry_error() -> None:
    r: Registry[object] = Registry("grader", {"rouge_l": "json:dumps"}, error=UnknownGraderError)
    assert r.get("rogue_l") is None
    with pytest.raises(UnknownGraderError,
                       match=r"^Unknown grader 'rogue_l'. Did you mean 'rouge_l'\? Available: rouge_l.$"):
        r.load("rogue_l")
    assert r.unknown("zzz") == "unknown grader 'zzz'. Available: rouge_l."


def test_the_three_registries_share_it() -> None:
    from fathom.cli import cli
    from fathom.graders._registry import _GRADERS
    from fathom.recipes._stages import _STAGES

    assert isinstance(_GRADERS, Registry) and isinstance(_STAGES, Registry)
    assert {"run", "shipping"} <= set(cli.list_commands(None))  # type: ignore[arg-type]
    assert "shipping" in _GRADERS and "shipping_data" in _STAGES  # the shipping plug-in's names
