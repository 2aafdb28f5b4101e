"""Rendering a chat request into prompt token ids: the one place every local engine does it.

Both local backends (transformers, llama.cpp) render with the model's tool-aware chat template through
the Hugging Face tokenizer, so a request is the same tokens on each engine.
"""

from __future__ import annotations

from typing import Any

from fathom.backends._protocol import ChatRequest
from fathom.errors import BackendError

__all__ = ["prompt_token_ids"]


def prompt_token_ids(tokenizer: Any, request: ChatRequest, model_name: str) -> list[int]:
    """The token ids of ``request``'s rendered prompt (chat template + generation prompt).

    Raises:
        BackendError: the template could not render the messages or tools (named with ``model_name``).
    """
    from fathom.models import prepare_messages

    tools: Any = request.tools
    try:
        text = tokenizer.apply_chat_template(prepare_messages(request.messages), tools=tools,
                                             add_generation_prompt=True, tokenize=False)
    except Exception as exc:  # jinja and tokenizer errors have many types; report them as ours
        raise BackendError(f"Could not render the chat template for {model_name!r}: {exc}. "
                           f"Check the messages (roles, content) and tools of the request.") from exc
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
