"""``fathom serve``: an OpenAI-compatible HTTP server for one model (and its LoRA adapters, on demand).

A thin layer over :func:`fathom.serve.create_app` and :func:`fathom.serve.run_server`: the options are
the app's arguments (limits, batching, aliases) and the backend's (engine, adapters, device,
parallelism). The port is bound and ``--adapter``/``--alias`` are checked before the model loads, so
a busy port or a typo is reported at once.
"""

from __future__ import annotations

from pathlib import Path

import click

from fathom.cli._options import PARALLEL_HELP, parallel_option

DEFAULT_MAX_TOKENS = 256


def _pair(value: str, form: str, example: str, ctx: click.Context, param: click.Parameter) -> tuple[str, str]:
    """``KEY=VALUE`` as ``(key, value)``; a usage error naming the value when it is not of that form."""
    key, sep, rest = value.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise click.BadParameter(f"{value!r} is not {form} (for example {example})", ctx, param)
    return key.strip(), rest.strip()


def _adapter_folders(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """``--adapter NAME=PATH`` values as ``{name: path}``: each name once, each path an existing adapter folder
    (or, for llama.cpp, a ``.gguf`` adapter file)."""
    folders: dict[str, str] = {}
    for value in values:
        name, path = _pair(value, "NAME=PATH", "shipping=runs/sft/adapter", ctx, param)
        if name in folders:
            raise click.BadParameter(f"{value!r}: the name {name!r} is given twice ({folders[name]} and {path}); "
                                     f"give each adapter its own name", ctx, param)
        found = Path(path).expanduser()
        if not (found.is_dir() or (found.is_file() and found.suffix.lower() == ".gguf")):
            raise click.BadParameter(f"{value!r}: there is no adapter folder {path!r}; give the folder that "
                                     f"`fathom train sft --out` wrote", ctx, param)
        folders[name] = path
    return folders


def _alias_names(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """``--alias ALIAS=ADAPTER`` values as ``{alias: adapter}``, each alias once."""
    aliases: dict[str, str] = {}
    for value in values:
        alias, adapter = _pair(value, "ALIAS=ADAPTER", "forecast=shipping", ctx, param)
        if alias in aliases:
            raise click.BadParameter(f"{value!r}: the alias {alias!r} is given twice; give it once", ctx, param)
        aliases[alias] = adapter
    return aliases


def _spec_adapter(model: str) -> list[str]:
    """The adapter a MODEL spec brings itself: an adapter folder is served under its folder name."""
    from fathom.models import AdapterSpec, resolve_model

    spec = resolve_model(model)
    return [spec.path.name] if isinstance(spec, AdapterSpec) else []


@click.command()
@click.argument("model")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one (the URL is printed).")
@click.option("--model-name", default=None,
              help="Name clients request for the base model; adapters are served as NAME:ADAPTER (default: MODEL "
                   "as given).")
@parallel_option(8, "--batch-size", help_text=PARALLEL_HELP + " Also the most client requests generated together.")
@click.option("--batch-window-ms", default=10.0, show_default=True, type=click.FloatRange(min=0.0),
              help="How long a request waits for others to batch with.")
@click.option("--max-tokens", default=None, type=click.IntRange(min=1),
              help="Token limit for requests that set none.  [default: 256, or --max-tokens-cap when lower]")
@click.option("--max-tokens-cap", default=4096, show_default=True, type=click.IntRange(min=1),
              help="Most tokens one request may ask for; asking for more is refused with 400 (not clamped).")
@click.option("--max-body-mb", default=1.0, show_default=True, type=click.FloatRange(min=0.0, min_open=True),
              help="Largest request body in MB; a larger one is refused with 413 before it is read.")
@click.option("--engine", default=None, type=click.Choice(["transformers", "llamacpp", "vllm"]),
              help="What runs a local MODEL: transformers (PyTorch), llamacpp (llama.cpp in-process) or vllm "
                   "(a vllm serve process on a GPU, multi-LoRA).  "
                   "[default: llamacpp for a .gguf file, else transformers]")
@click.option("--adapter", "adapters", multiple=True, callback=_adapter_folders, metavar="NAME=PATH",
              help="A LoRA adapter folder to serve on MODEL, loaded once; clients pick it with model "
                   "\"<model name>:NAME\" (repeatable).")
@click.option("--alias", "aliases", multiple=True, callback=_alias_names, metavar="ALIAS=ADAPTER",
              help="Another model name for an adapter: model \"ALIAS\" means \"<model name>:ADAPTER\" "
                   "(repeatable).")
@click.option("--device", default=None, help="Local models: cpu, cuda, ... (default: a GPU if there is one).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="uvicorn log level.")
def serve(model: str, host: str, port: int, model_name: str | None, parallel: int, batch_window_ms: float,
          max_tokens: int | None, max_tokens_cap: int, max_body_mb: float, engine: str | None,
          adapters: dict[str, str], aliases: dict[str, str], device: str | None, log_level: str) -> None:
    """Serve MODEL at /v1/chat/completions, /v1/models and /health (OpenAI-compatible).

    \b
    Streaming (stream: true) sends text as it is generated; a client that disconnects has its
    request cancelled, so its batch slot frees at once. Limits a single request cannot pass:
      - the body size (--max-body-mb): 413;
      - max_tokens above --max-tokens-cap or not below the model's context: 400;
      - a prompt longer than the model's context: 400 (a prompt that fits but leaves less room
        than max_tokens ends at the context with finish_reason "length").
    tool_choice "required" or a named function is checked and retried once with a nudge; a model
    that still does not call the tool gets a 422. Backend failures are 502, a full queue 503.

    \b
    Adapters on demand: the base model loads once and every --adapter is served beside it, on
    either engine. /v1/models lists the base name, "<name>:NAME" for each adapter and each
    --alias; a request's "model" picks one, and any other name gets a 404 listing them:
      fathom serve smollm2-135m --adapter shipping=runs/sft/adapter --alias forecast=shipping
    Here model "smollm2-135m" is the base, and "smollm2-135m:shipping" and "forecast" the adapter.
    """
    from fathom.backends import load_backend
    from fathom.errors import ConfigError
    from fathom.serve import ModelRoutes, bind_socket, create_app, run_server

    if max_tokens is None:
        max_tokens = min(DEFAULT_MAX_TOKENS, max_tokens_cap)
    elif max_tokens > max_tokens_cap:
        raise ConfigError([f"--max-tokens ({max_tokens}) is above --max-tokens-cap ({max_tokens_cap}); lower "
                           f"--max-tokens or raise --max-tokens-cap"], title="invalid serve options")

    name = model_name or model
    if aliases:  # an alias naming no adapter is reported now, not after the model has loaded
        ModelRoutes(name, [*_spec_adapter(model), *adapters], aliases)
    sock = bind_socket(host, port)  # a busy port is reported now, not after the model has loaded
    options = {"adapters": adapters} if adapters else {}
    backend = load_backend(model, backend=engine, parallel=parallel, device=device, **options)
    app = create_app(backend, model_name=name, max_batch_size=parallel, batch_window_ms=batch_window_ms,
                     default_max_tokens=max_tokens, max_tokens_cap=max_tokens_cap,
                     max_body_mb=max_body_mb, aliases=aliases)
    served = app.state.routes.names

    def ready(url: str) -> None:
        click.echo(f"Serving {name} at {url}/v1 (Ctrl+C to stop)")
        if len(served) > 1:
            click.echo(f"Models: {', '.join(served)}")

    run_server(app, log_level=log_level, on_ready=ready, sock=sock)
