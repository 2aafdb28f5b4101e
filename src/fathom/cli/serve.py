"""``fathom serve``: an OpenAI-compatible HTTP server for one model."""

from __future__ import annotations

import click

from fathom.cli._options import PARALLEL_HELP, parallel_option


@click.command()
@click.argument("model")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one (the URL is printed).")
@click.option("--model-name", default=None, help="Name clients request (default: MODEL as given).")
@parallel_option(8, "--batch-size", help_text=PARALLEL_HELP + " Also the most client requests generated together.")
@click.option("--batch-window-ms", default=10.0, show_default=True, type=click.FloatRange(min=0.0),
              help="How long a request waits for others to batch with.")
@click.option("--max-tokens", default=256, show_default=True, type=click.IntRange(min=1),
              help="Token limit for requests that set none.")
@click.option("--device", default=None, help="Local models: cpu, cuda, ... (default: a GPU if there is one).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="uvicorn log level.")
def serve(model: str, host: str, port: int, model_name: str | None, parallel: int, batch_window_ms: float,
          max_tokens: int, device: str | None, log_level: str) -> None:
    """Serve MODEL at /v1/chat/completions, /v1/models and /health (OpenAI-compatible)."""
    from fathom.backends import load_backend
    from fathom.serve import bind_socket, create_app, run_server

    sock = bind_socket(host, port)  # a busy port is reported now, not after the model has loaded
    backend = load_backend(model, parallel=parallel, device=device)
    name = model_name or model
    app = create_app(backend, model_name=name, max_batch_size=parallel, batch_window_ms=batch_window_ms,
                     default_max_tokens=max_tokens)

    def ready(url: str) -> None:
        click.echo(f"Serving {name} at {url}/v1 (Ctrl+C to stop)")

    run_server(app, log_level=log_level, on_ready=ready, sock=sock)
