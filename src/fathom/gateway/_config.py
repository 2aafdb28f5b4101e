"""``gateway.yaml``: upstreams, the models clients may ask for and how each is routed, and where state lives.

Covers: :class:`GatewayConfig` (:func:`load_config`, strict: an unknown key is an error with did-you-mean,
every problem listed at once, paths relative to the file), the upstreams (:class:`UpstreamConfig`) and
the models (:class:`ModelConfig`: weighted :class:`Route` s over upstreams, tried in turn on failure).
Not covered: the key, ledger and guardrail formats (their own modules), changing the config of a running
gateway (restart it).

Example::

    state: ./gateway-state            # keys.db, ledger.db (SQLite, WAL)
    redis: redis://10.0.0.5:6379/0    # optional: limits shared by several gateway processes
    upstreams:
      - {name: cpu, url: "http://127.0.0.1:8000/v1"}
      - {name: gpu, url: "http://10.0.0.7:8000/v1", api_key_env: VLLM_KEY, timeout_s: 120}
    models:
      - name: shipping
        adapter: shipping
        routes:
          - {upstream: gpu, model: shipping, weight: 3}
          - {upstream: cpu, model: "smollm2-135m:shipping", weight: 1}
    prices: ./prices.yaml
    guardrails: ./policy.yaml
    chat_logs: {enabled: true, retention_days: 30}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fathom.errors import ConfigError, Problem, did_you_mean

__all__ = ["GatewayConfig", "ModelConfig", "Route", "UpstreamConfig", "load_config"]

_TOP = {"state", "redis", "upstreams", "models", "prices", "guardrails", "chat_logs", "max_body_mb",
        "default_max_tokens", "max_tokens_cap", "templates", "breaker"}
_UPSTREAM = {"name", "url", "api_key_env", "timeout_s", "connect_timeout_s", "max_connections"}
_MODEL = {"name", "routes", "adapter"}
_ROUTE = {"upstream", "model", "weight"}
_CHAT_LOGS = {"enabled", "retention_days"}
_BREAKER = {"failures", "cooldown_s", "health_interval_s"}


@dataclass(frozen=True)
class UpstreamConfig:
    """One OpenAI-compatible server (``fathom serve``, llama.cpp's server, vLLM, a hosted API)."""

    name: str
    url: str
    """The API root, ending in ``/v1``."""
    api_key_env: str | None = None
    """Environment variable holding the upstream's own key (never the client's)."""
    timeout_s: float = 120.0
    connect_timeout_s: float = 2.0
    max_connections: int = 256


@dataclass(frozen=True)
class Route:
    """Where one model goes: an upstream, the model name to ask it for, and a routing weight."""

    upstream: str
    model: str
    weight: float = 1.0


@dataclass(frozen=True)
class ModelConfig:
    """A model clients may ask for, with its routes (weighted; the others are the failover order)."""

    name: str
    routes: tuple[Route, ...]
    adapter: str | None = None
    """The adapter the model is, for the ledger and the metric labels."""


@dataclass(frozen=True)
class GatewayConfig:
    """A whole ``gateway.yaml``, checked (use :func:`load_config`)."""

    path: Path
    state_dir: Path
    upstreams: dict[str, UpstreamConfig]
    models: dict[str, ModelConfig]
    redis_url: str | None = None
    prices: Path | None = None
    guardrails: Path | None = None
    templates: Path | None = None
    chat_logs: bool = False
    retention_days: float = 30.0
    max_body_mb: float = 1.0
    default_max_tokens: int = 256
    """Tokens reserved for a request that sets no ``max_tokens`` (and sent upstream as its limit)."""
    max_tokens_cap: int = 8192
    breaker_failures: int = 3
    """Consecutive failures that open an upstream's circuit."""
    breaker_cooldown_s: float = 10.0
    health_interval_s: float = 5.0
    extra: dict[str, Any] = field(default_factory=dict)


def _unknown(where: str, raw: dict[str, Any], allowed: set[str], problems: list[Problem]) -> None:
    for key in raw:
        if key not in allowed:
            problems.append(Problem(f"{where}{key}", f"unknown key. {did_you_mean(str(key), sorted(allowed))} "
                                                     f"Valid keys: {', '.join(sorted(allowed))}."))


def _number(raw: dict[str, Any], key: str, default: float, where: str, problems: list[Problem], *,
            minimum: float = 0.0, integer: bool = False) -> Any:
    value = raw.get(key, default)
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= minimum:
        problems.append(Problem(f"{where}{key}", f"must be a {'whole ' if integer else ''}number above {minimum}, "
                                                 f"got {value!r}"))
        return default
    return value


def _path(base: Path, value: Any, where: str, problems: list[Problem], *, must_exist: bool) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(Problem(where, f"must be a path, got {value!r}"))
        return None
    path = (base / value).expanduser() if not Path(value).is_absolute() else Path(value)
    if must_exist and not path.is_file():
        problems.append(Problem(where, f"{path} does not exist"))
    return path


def _upstreams(raw: Any, problems: list[Problem]) -> dict[str, UpstreamConfig]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("upstreams", "must be a non-empty list of {name, url}"))
        return {}
    out: dict[str, UpstreamConfig] = {}
    for i, item in enumerate(raw):
        where = f"upstreams[{i}]."
        if not isinstance(item, dict):
            problems.append(Problem(where[:-1], f"must be a mapping with name and url, got {item!r}"))
            continue
        _unknown(where, item, _UPSTREAM, problems)
        name, url = item.get("name"), item.get("url")
        if not isinstance(name, str) or not name:
            problems.append(Problem(f"{where}name", "must be a non-empty string"))
            continue
        if name in out:
            problems.append(Problem(f"{where}name", f"{name!r} is given twice"))
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            problems.append(Problem(f"{where}url", f"must start with http:// or https://, got {url!r}"))
            continue
        url = url.rstrip("/")
        if not url.endswith("/v1") and url.count("/") == 2:
            url += "/v1"
        key_env = item.get("api_key_env")
        if key_env is not None and not isinstance(key_env, str):
            problems.append(Problem(f"{where}api_key_env", f"must be an environment variable name, got {key_env!r}"))
            key_env = None
        out[name] = UpstreamConfig(
            name=name, url=url, api_key_env=key_env,
            timeout_s=float(_number(item, "timeout_s", 120.0, where, problems)),
            connect_timeout_s=float(_number(item, "connect_timeout_s", 2.0, where, problems)),
            max_connections=int(_number(item, "max_connections", 256, where, problems, integer=True)))
    return out


def _models(raw: Any, upstreams: dict[str, UpstreamConfig], problems: list[Problem]) -> dict[str, ModelConfig]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("models", "must be a non-empty list of {name, routes}"))
        return {}
    out: dict[str, ModelConfig] = {}
    for i, item in enumerate(raw):
        where = f"models[{i}]."
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            problems.append(Problem(where[:-1], f"must be a mapping with a non-empty name, got {item!r}"))
            continue
        _unknown(where, item, _MODEL, problems)
        name = item["name"]
        if name in out:
            problems.append(Problem(f"{where}name", f"{name!r} is given twice"))
        routes_raw = item.get("routes")
        if not isinstance(routes_raw, list) or not routes_raw:
            problems.append(Problem(f"{where}routes", "must be a non-empty list of {upstream, model, weight}"))
            continue
        routes = []
        for j, route in enumerate(routes_raw):
            rwhere = f"{where}routes[{j}]."
            if not isinstance(route, dict):
                problems.append(Problem(rwhere[:-1], f"must be a mapping, got {route!r}"))
                continue
            _unknown(rwhere, route, _ROUTE, problems)
            upstream = route.get("upstream")
            if upstream not in upstreams:
                problems.append(Problem(f"{rwhere}upstream", f"unknown upstream {upstream!r}. "
                                                             f"{did_you_mean(str(upstream), list(upstreams))} "
                                                             f"Upstreams: {', '.join(upstreams) or 'none'}."))
                continue
            model = route.get("model", name)
            if not isinstance(model, str) or not model:
                problems.append(Problem(f"{rwhere}model", f"must be a non-empty string, got {model!r}"))
                continue
            weight = float(_number(route, "weight", 1.0, rwhere, problems))
            routes.append(Route(upstream=str(upstream), model=model, weight=weight))
        adapter = item.get("adapter")
        if adapter is not None and not isinstance(adapter, str):
            problems.append(Problem(f"{where}adapter", f"must be a string, got {adapter!r}"))
            adapter = None
        if routes:
            out[name] = ModelConfig(name=name, routes=tuple(routes), adapter=adapter)
    return out


def load_config(path: str | Path) -> GatewayConfig:
    """Read and check a ``gateway.yaml``; every problem is listed in one :class:`~fathom.errors.ConfigError`."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError([Problem("config", f"{path} does not exist; write one (see docs/gateway.md)")],
                          title="no gateway config")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError([Problem("config", f"{path} is not valid YAML: {exc}")], title="invalid gateway config") \
            from None
    if not isinstance(raw, dict):
        raise ConfigError([Problem("config", f"{path} must hold a mapping, got {type(raw).__name__}")],
                          title="invalid gateway config")
    problems: list[Problem] = []
    _unknown("", raw, _TOP, problems)
    base = path.parent.resolve()
    upstreams = _upstreams(raw.get("upstreams"), problems)
    models = _models(raw.get("models"), upstreams, problems)
    state = _path(base, raw.get("state", "./gateway-state"), "state", problems, must_exist=False)
    redis_url = raw.get("redis")
    if redis_url is not None and (not isinstance(redis_url, str) or not redis_url.startswith(("redis://", "rediss://",
                                                                                              "unix://"))):
        problems.append(Problem("redis", f"must be a redis:// URL, got {redis_url!r}"))
    logs = raw.get("chat_logs") or {}
    if not isinstance(logs, dict):
        problems.append(Problem("chat_logs", f"must be a mapping {{enabled, retention_days}}, got {logs!r}"))
        logs = {}
    _unknown("chat_logs.", logs, _CHAT_LOGS, problems)
    breaker = raw.get("breaker") or {}
    if not isinstance(breaker, dict):
        problems.append(Problem("breaker", f"must be a mapping, got {breaker!r}"))
        breaker = {}
    _unknown("breaker.", breaker, _BREAKER, problems)
    config = GatewayConfig(
        path=path, state_dir=state or base / "gateway-state", upstreams=upstreams, models=models,
        redis_url=redis_url if isinstance(redis_url, str) else None,
        prices=_path(base, raw.get("prices"), "prices", problems, must_exist=True),
        guardrails=_path(base, raw.get("guardrails"), "guardrails", problems, must_exist=True),
        templates=_path(base, raw.get("templates"), "templates", problems, must_exist=True),
        chat_logs=bool(logs.get("enabled", False)),
        retention_days=float(_number(logs, "retention_days", 30.0, "chat_logs.", problems)),
        max_body_mb=float(_number(raw, "max_body_mb", 1.0, "", problems)),
        default_max_tokens=int(_number(raw, "default_max_tokens", 256, "", problems, integer=True)),
        max_tokens_cap=int(_number(raw, "max_tokens_cap", 8192, "", problems, integer=True)),
        breaker_failures=int(_number(breaker, "failures", 3, "breaker.", problems, integer=True)),
        breaker_cooldown_s=float(_number(breaker, "cooldown_s", 10.0, "breaker.", problems)),
        health_interval_s=float(_number(breaker, "health_interval_s", 5.0, "breaker.", problems)))
    if problems:
        raise ConfigError([Problem(f"{path.name}:{p.where}", p.message) for p in problems],
                          title="invalid gateway config")
    return config
