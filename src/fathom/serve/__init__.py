"""Serving a model behind an OpenAI-compatible HTTP API (``fathom serve``).

Covers: the web app (:func:`create_app`: ``/v1/chat/completions``, ``/v1/models``, ``/health``) with
real token streaming, cancel-on-disconnect, ``tool_choice`` checks and the limits one request cannot
pass (body size, prompt and token counts; :class:`BodyLimit` is the body-size middleware, which the
gateway uses too); adapters on demand (:class:`ModelRoutes`: one base model,
each LoRA adapter served as ``base:adapter`` or an alias, picked per request); micro-batching of
concurrent requests (:class:`Batcher`, :class:`Unavailable` when closed or full); and running the app
under uvicorn in the foreground (:func:`run_server`) or a background thread (:func:`start_server`,
``port=0`` for a free port).
Not covered: keys, rate limits, usage ledgers and guardrails (the gateway).
"""

from __future__ import annotations

from fathom.serve._app import create_app
from fathom.serve._batcher import Batcher, BatchStats, Unavailable
from fathom.serve._limits import BodyLimit
from fathom.serve._routes import ModelRoutes
from fathom.serve._schema import ChatCompletionBody, openai_error
from fathom.serve._server import RunningServer, bind_socket, run_server, start_server

__all__ = [
    "BatchStats",
    "Batcher",
    "BodyLimit",
    "ChatCompletionBody",
    "ModelRoutes",
    "RunningServer",
    "Unavailable",
    "bind_socket",
    "create_app",
    "openai_error",
    "run_server",
    "start_server",
]
