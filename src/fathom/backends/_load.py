"""``load_backend(spec)``: one model spec string in, a ready :class:`~fathom.backends.Backend` out.

* ``http(s)://host:port/v1`` (model name after ``#`` or ``model=``): :class:`OpenAIHTTPBackend`.
* a ``.gguf`` file: :class:`LlamaCppBackend` (llama.cpp in-process).
* ``rule:NAME``: a rule-based model a domain plug-in registers (``DomainPlugin.backends``), e.g.
  ``rule:shipping-writer``; ``options`` go to its factory. :func:`register_rule_backend` adds one at run time.
* anything else (bundled name, hub id, folder, adapter): :class:`TransformersBackend`, or
  :class:`LlamaCppBackend` with ``backend="llamacpp"`` (the model is converted to GGUF once), or
  :class:`VLLMBackend` with ``backend="vllm"`` (a ``vllm serve`` process on a GPU).

``parallel=`` is the one parallelism setting every engine reads the same way: requests in flight at once,
which is the batch size of a local model (``batch_size=``) and the number of concurrent requests to an
endpoint (``concurrency=``). Each engine class names the option it maps to (``parallel_option``), so
commands never decide "is this a URL?" themselves.

``backend=`` names the engine explicitly; an unknown name is an error with did-you-mean.
Not covered: picking an engine automatically from the hardware.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fathom._registry import Registry
from fathom.backends._protocol import Backend
from fathom.errors import ConfigError, Problem, did_you_mean
from fathom.models import is_remote

if TYPE_CHECKING:
    from fathom.backends._http import OpenAIHTTPBackend
    from fathom.backends._llamacpp import LlamaCppBackend
    from fathom.backends._transformers import TransformersBackend
    from fathom.backends._vllm import VLLMBackend

__all__ = ["BACKENDS", "RULE_PREFIX", "load_backend", "register_rule_backend", "rule_backend_names"]

RULE_PREFIX = "rule:"
"""Model specs starting with this name a registered rule-based backend."""

_RULES: Registry[Callable[..., Backend]] = Registry("rule-based model", {}, lambda plugin: plugin.backends,
                                                    error=ConfigError)


def register_rule_backend(name: str) -> Callable[[Callable[..., Backend]], Callable[..., Backend]]:
    """Decorator registering a rule-based backend factory as ``rule:NAME`` (for user code and tests)."""
    return _RULES.register(name)


def rule_backend_names() -> list[str]:
    """The names ``rule:NAME`` accepts."""
    return _RULES.names()


def _rule_backend(spec: str, options: dict[str, Any]) -> Backend:
    name = spec[len(RULE_PREFIX):]
    known = _RULES.names()
    if name not in known:
        hint = did_you_mean(name, known)
        raise ConfigError([Problem("model", f"no rule-based model {name!r}. {hint + ' ' if hint else ''}"
                                            f"Registered: {', '.join(RULE_PREFIX + n for n in known) or 'none'}.")],
                          title="invalid model spec")
    factory = _RULES.load(name)
    try:
        engine = factory(**options)
    except TypeError as exc:
        raise ConfigError([Problem("options", f"{spec}: {exc}")], title="invalid backend options") from exc
    if not isinstance(engine, Backend):
        raise ConfigError([Problem("model", f"{spec}'s factory returned a {type(engine).__name__}, not a backend "
                                            f"(an object with generate(requests))")], title="invalid model spec")
    return engine

BACKENDS = ("transformers", "openai", "llamacpp", "vllm")
"""Engines :func:`load_backend` can build."""


def _check_options(cls: type, options: dict[str, Any], skip: set[str]) -> None:
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    valid = sorted(n for n, p in params.items() if n != "self" and n not in skip
                   and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
    problems = [Problem(name, f"not an option of {cls.__name__}. {did_you_mean(name, valid)} "
                              f"Valid options: {', '.join(valid)}.")
                for name in options if name not in valid]
    if problems:
        raise ConfigError(problems, title="invalid backend options")


def _with_parallel(cls: type[OpenAIHTTPBackend | TransformersBackend | LlamaCppBackend | VLLMBackend],
                   options: dict[str, Any],
                   parallel: int | None) -> dict[str, Any]:
    """``options`` with ``parallel`` set as the engine's own option (``cls.parallel_option``)."""
    if parallel is None:
        return options
    name = cls.parallel_option
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        problem = f"requests in flight at once must be a whole number >= 1, got {parallel!r}"
    elif options.get(name, parallel) != parallel:
        problem = (f"parallel={parallel} and {name}={options[name]} disagree; {cls.__name__} reads parallel as "
                   f"{name}, so give only parallel")
    else:
        return {**options, name: parallel}
    raise ConfigError([Problem("parallel", problem)], title="invalid backend options")


def load_backend(spec: str, *, backend: str | None = None, parallel: int | None = None, device: str | None = None,
                 **options: Any) -> Backend:
    """Build the backend a model spec names.

    Args:
        spec: a model spec: ``"smollm2-135m"``, a hub id, a local folder or adapter,
            ``"http://host:port/v1#model"``, or ``"rule:NAME"`` (a registered rule-based model).
        backend: ``"transformers"``, ``"llamacpp"``, ``"vllm"`` or ``"openai"`` (default: ``"openai"`` for URLs,
            ``"llamacpp"`` for ``.gguf`` files, else ``"transformers"``).
        parallel: requests in flight at once: the batch size of a local model, the concurrent
            requests to an endpoint (default: the engine's own, 8).
        device: where a transformers model runs, ``"cpu"``, ``"cuda"``... (default: a GPU when there is
            one); endpoints and llama.cpp ignore it, so a command can pass its ``--device`` whatever the spec.
        **options: keyword arguments of the backend class (``batch_size=``, ``dtype=`` for
            transformers; ``model=``, ``concurrency=``, ``retries=`` for HTTP...).

    Raises:
        ConfigError: an unknown backend name or option (every bad option is listed), or a
            ``parallel`` below 1 or contradicting ``batch_size=``/``concurrency=``.
        MissingDependencyError: the engine's package (xllamacpp, vLLM) is not installed.

    >>> load_backend("smollm2-135m", backend="vlm")
    Traceback (most recent call last):
    ...
    fathom.errors.ConfigError: invalid backend (1):
      - backend: unknown backend 'vlm'. Did you mean 'vllm'? Available: transformers, openai, llamacpp, vllm.
    """
    if spec.startswith(RULE_PREFIX):
        if backend not in (None, "rule"):
            raise ConfigError([Problem("backend", f"{spec!r} is a rule-based model; drop backend={backend!r}")],
                              title="invalid backend")
        return _rule_backend(spec, {k: v for k, v in options.items() if k != "progress"})
    remote = is_remote(spec)
    name = backend or ("openai" if remote else "llamacpp" if spec.lower().endswith(".gguf") else "transformers")
    if name not in BACKENDS:
        hint = did_you_mean(name, list(BACKENDS))
        raise ConfigError([Problem("backend", f"unknown backend {name!r}. {hint + ' ' if hint else ''}"
                                              f"Available: {', '.join(BACKENDS)}.")],
                          title="invalid backend")
    if name == "openai":
        from fathom.backends._http import OpenAIHTTPBackend

        if not remote:
            raise ConfigError([Problem("spec", f"backend 'openai' needs a URL like http://host:port/v1#model, "
                                               f"got {spec!r}")], title="invalid backend")
        _check_options(OpenAIHTTPBackend, options, skip={"base_url"})
        return OpenAIHTTPBackend(spec, **_with_parallel(OpenAIHTTPBackend, options, parallel))
    if remote:
        raise ConfigError([Problem("spec", f"{spec!r} is a remote endpoint; the {name} backend needs local "
                                           f"weights. Drop backend={name!r} to use HTTP.")],
                          title="invalid backend")
    if name == "llamacpp":
        from fathom.backends._llamacpp import LlamaCppBackend

        _check_options(LlamaCppBackend, options, skip={"model"})
        return LlamaCppBackend(spec, **_with_parallel(LlamaCppBackend, options, parallel))
    if name == "vllm":
        from fathom.backends._vllm import VLLMBackend

        _check_options(VLLMBackend, options, skip={"model"})
        return VLLMBackend(spec, **_with_parallel(VLLMBackend, options, parallel))
    from fathom.backends._transformers import TransformersBackend

    _check_options(TransformersBackend, options, skip={"model"})
    return TransformersBackend(spec, device=device, **_with_parallel(TransformersBackend, options, parallel))
