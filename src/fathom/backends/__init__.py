"""Generation backends: ``generate(requests) -> completions`` for a batch of chat requests.

Covers: the contract (:class:`Backend`, :class:`ChatRequest`, :class:`Sampling`,
:class:`Completion`), local transformers generation (:class:`TransformersBackend`), llama.cpp in-process
(:class:`LlamaCppBackend`, GGUF files and converted models, LoRA adapters per request), vLLM on a GPU
(:class:`VLLMBackend`, a ``vllm serve`` process with multi-LoRA), any
OpenAI-compatible HTTP endpoint (:class:`OpenAIHTTPBackend`), building one from a model spec
(:func:`load_backend`, whose ``parallel=`` is the one parallelism policy: batch size for a local model,
concurrency for an endpoint; ``rule:NAME`` builds a rule-based model a domain registers with
:func:`register_rule_backend`, listed by :func:`rule_backend_names`), parsing ``<tool_call>`` output into
OpenAI tool calls, generating a JSONL file of completions (:func:`generate_file`, the library side of
``fathom generate``), checking a GGUF export against its PyTorch model (:func:`check_parity`), and the
progress bar long generation runs share (:func:`progress_bar`).
Not covered: serving (``fathom.serve``), grading (``fathom.graders``).

The backend classes import their heavy dependencies (torch, transformers, xllamacpp) only when built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fathom.backends._files import (
    GenerateSummary,
    check_prompt_file,
    completion_record,
    example_id,
    generate_file,
    prompt_messages,
)
from fathom.backends._load import BACKENDS, RULE_PREFIX, load_backend, register_rule_backend, rule_backend_names
from fathom.backends._parity import PARITY_PROMPTS, ParityReport, check_parity
from fathom.backends._progress import progress_bar
from fathom.backends._protocol import Backend, ChatRequest, Completion, Sampling
from fathom.backends._toolcalls import (
    ParsedToolCalls,
    completion_from_text,
    parse_tool_calls,
    parse_tool_calls_detailed,
)

if TYPE_CHECKING:
    from fathom.backends._http import OpenAIHTTPBackend
    from fathom.backends._llamacpp import LlamaCppBackend
    from fathom.backends._transformers import TransformersBackend
    from fathom.backends._vllm import VLLMBackend

__all__ = [
    "BACKENDS",
    "PARITY_PROMPTS",
    "RULE_PREFIX",
    "Backend",
    "ChatRequest",
    "Completion",
    "GenerateSummary",
    "LlamaCppBackend",
    "OpenAIHTTPBackend",
    "ParityReport",
    "ParsedToolCalls",
    "Sampling",
    "TransformersBackend",
    "VLLMBackend",
    "check_parity",
    "check_prompt_file",
    "completion_from_text",
    "completion_record",
    "example_id",
    "generate_file",
    "load_backend",
    "parse_tool_calls",
    "parse_tool_calls_detailed",
    "progress_bar",
    "prompt_messages",
    "register_rule_backend",
    "rule_backend_names",
]

_LAZY = {"OpenAIHTTPBackend": "fathom.backends._http", "LlamaCppBackend": "fathom.backends._llamacpp",
         "TransformersBackend": "fathom.backends._transformers", "VLLMBackend": "fathom.backends._vllm"}


def __getattr__(name: str) -> Any:
    """Import the backend classes on first use (their modules pull in httpx or torch)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fathom.backends' has no attribute {name!r}")
