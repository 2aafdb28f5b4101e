"""``fathom serve``: an OpenAI-compatible HTTP server for one model.

A thin layer over :func:`fathom.serve.create_app` and :func:`fathom.serve.run_server`: the options are
the app's arguments (limits, batching) and the backend's (device, parallelism); the port is bound
before the model loads, so a busy port is reported at once.
"""

from __future__ import annotations

import click

from fathom.cli._options import PARALLEL_HELP, parallel_option

DEFAULT_MAX_TOKENS = 256


@click.command()
@click.argument("model")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one (the URL is printed).")
@click.option("--model-name", default=None, help="Name clients request (default: MODEL as given).")
@parallel_option(8, "--batch-size", help_text=PARALLEL_HELP + " Also the most client requests generated together.")
@click.option("--batch-window-ms", default=10.0, show_default=True, type=click.FloatRange(min=0.0),
              help="How long a request waits for others to batch with.")
@click.option("--max-tokens", default=None, type=click.IntRange(min=1),
              help="Token limit for requests that set none.  [default: 256, or --max-tokens-cap when lower]")
@click.option("--max-tokens-cap", default=4096, show_default=True, type=click.IntRange(min=1),
              help="Most tokens one request may ask for; asking for more is refused with 400 (not clamped).")
@click.option("--max-body-mb", default=1.0, show_default=True, type=click.FloatRange(min=0.0, min_open=True),
              help="Largest request body in MB; a larger one is refused with 413 before it is read.")
@click.option("--device", default=None, help="Local models: cpu, cuda, ... (default: a GPU if there is one).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="uvicorn log level.")
def serve(model: str, host: str, port: int, model_name: str | None, parallel: int, batch_window_ms: float,
          max_tokens: int | None, max_tokens_cap: int, max_body_mb: float, device: str | None,
          log_level: str) -> None:
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
    """
    from fathom.backends import load_backend
    from fathom.errors import ConfigError
    from fathom.serve import bind_socket, create_app, run_server

    if max_tokens is None:
        max_tokens = min(DEFAULT_MAX_TOKENS, max_tokens_cap)
    elif max_tokens > max_tokens_cap:
        raise ConfigError([f"--max-tokens ({max_tokens}) is above --max-tokens-cap ({max_tokens_cap}); lower "
                           f"--max-tokens or raise --max-tokens-cap"], title="invalid serve options")

    sock = bind_socket(host, port)  # a busy port is reported now, not after the model has loaded
    backend = load_backend(model, parallel=parallel, device=device)
    name = model_name or model
    app = create_app(backend, model_name=name, max_batch_size=parallel, batch_window_ms=batch_window_ms,
                     default_max_tokens=max_tokens, max_tokens_cap=max_tokens_cap,
                     max_body_mb=max_body_mb)

    def ready(url: str) -> None:
        click.echo(f"Serving {name} at {url}/v1 (Ctrl+C to stop)")

    run_server(app, log_level=log_level, on_ready=ready, sock=sock)
