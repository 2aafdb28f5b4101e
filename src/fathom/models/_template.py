"""The tool-aware chat template used for training, generation and serving.

SmolLM2-135M-Instruct's template, as shipped in its GGUF, renders neither tools nor tool calls and
fails on ``content: None``. :data:`SMOLLM2_TOOL_TEMPLATE` is the same ChatML layout plus SmolLM2's
function-calling form: tool schemas in the system turn inside ``<tools>``, calls as
``<tool_call>[{"name": ..., "arguments": {...}}]</tool_call>`` (a JSON list), and results as ``tool``
turns. Assistant turns are wrapped in ``{% generation %}`` so ``return_assistant_tokens_mask``
marks exactly the tokens the model must learn (text, tool calls and the closing ``<|im_end|>``).

A model whose own template already renders tools keeps it (:func:`ensure_tool_template`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

__all__ = ["CHAT_TEMPLATES", "SMOLLM2_TOOL_CARD_TEMPLATE", "SMOLLM2_TOOL_TEMPLATE", "ensure_tool_template",
           "prepare_messages", "set_chat_template", "template_handles_tools"]

TOOL_SYSTEM_PROMPT = (
    "You are an expert in composing functions. You are given a question and a set of possible functions. "
    "Based on the question, you will need to make one or more function/tool calls to achieve the purpose. "
    "If none of the functions can be used, point it out and refuse to answer. If the given question lacks "
    "the parameters required by the function, also point it out.\n\n"
    "You have access to the following tools:\n"
)
TOOL_FORMAT_PROMPT = (
    "\n\nThe output MUST strictly adhere to the following format, and NO other text MUST be included.\n"
    "The example format is as follows. Please make sure the parameter type is correct. If no function call "
    "is needed, please make the tool calls an empty list '[]'.\n"
    '<tool_call>[\n{"name": "func_name1", "arguments": {"argument1": "value1", "argument2": "value2"}},\n'
    "... (more tool calls as required)\n]</tool_call>"
)

SMOLLM2_TOOL_TEMPLATE = (
    "{%- set default_system = 'You are a helpful AI assistant named SmolLM, trained by Hugging Face' -%}"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] or '' -%}{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set system = default_system -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{{- '<|im_start|>system\\n' + system -}}"
    "{%- if tools -%}"
    "{{- '\\n\\n' + " + json.dumps(TOOL_SYSTEM_PROMPT) + " + '<tools>' + (tools | tojson) + '</tools>' + "
    + json.dumps(TOOL_FORMAT_PROMPT) + " -}}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- for message in loop_messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- generation -%}"
    "{%- if message['content'] -%}{{- message['content'] -}}{%- endif -%}"
    "{%- if message['tool_calls'] is defined and message['tool_calls'] -%}"
    "{%- if message['content'] -%}{{- '\\n' -}}{%- endif -%}"
    "{{- '<tool_call>[' -}}"
    "{%- for call in message['tool_calls'] -%}"
    "{%- set f = call['function'] if call['function'] is defined else call -%}"
    "{{- '{\"name\": ' + (f['name'] | tojson) + ', \"arguments\": ' + (f['arguments'] | tojson) + '}' -}}"
    "{%- if not loop.last -%}{{- ', ' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{{- ']</tool_call>' -}}"
    "{%- endif -%}"
    "{{- '<|im_end|>' -}}"
    "{%- endgeneration -%}"
    "{{- '\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)


TOOL_CARD_PROMPT = ("Tools (call them as <tool_call>[{\"name\": ..., \"arguments\": {...}}]</tool_call>; "
                    "answer in words when none is needed; ? marks an optional argument):")

SMOLLM2_TOOL_CARD_TEMPLATE = SMOLLM2_TOOL_TEMPLATE.replace(
    "{{- '\\n\\n' + " + json.dumps(TOOL_SYSTEM_PROMPT) + " + '<tools>' + (tools | tojson) + '</tools>' + "
    + json.dumps(TOOL_FORMAT_PROMPT) + " -}}",
    "{{- '\\n\\n' + " + json.dumps(TOOL_CARD_PROMPT) + " -}}"
    "{%- for t in tools -%}"
    "{%- set f = t['function'] if t['function'] is defined else t -%}"
    "{%- set params = f['parameters'] if f['parameters'] is defined and f['parameters'] else {} -%}"
    "{%- set props = params['properties'] if params['properties'] is defined else {} -%}"
    "{%- set required = params['required'] if params['required'] is defined else [] -%}"
    "{{- '\\n- ' + f['name'] + '(' -}}"
    "{%- for name, p in props.items() -%}"
    "{{- name -}}{%- if name not in required -%}{{- '?' -}}{%- endif -%}"
    "{%- if p['enum'] is defined -%}{{- ': ' + (p['enum'] | join('|')) -}}{%- endif -%}"
    "{%- if not loop.last -%}{{- ', ' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{{- ')' -}}"
    "{%- if f['description'] is defined and f['description'] -%}"
    "{{- ': ' + f['description'].split('\\n')[0] -}}{%- endif -%}"
    "{%- endfor -%}")
"""The same template with the tools as a card, one line each (``- name(arg, optional?, enum: a|b): summary``),
instead of their JSON schemas: about a fifth of the prompt, for a model fine-tuned on a fixed tool set
(the schemas still travel with each request, so calls are parsed and checked against them)."""

CHAT_TEMPLATES: dict[str, str] = {"tool-card": SMOLLM2_TOOL_CARD_TEMPLATE, "tool-json": SMOLLM2_TOOL_TEMPLATE}
"""Named chat templates a training run may set (``chat_template``): ``tool-card`` and ``tool-json``."""


def set_chat_template(tokenizer: Any, choice: str) -> Any:
    """Give ``tokenizer`` the chat template ``choice``: a name in :data:`CHAT_TEMPLATES` or a Jinja file.

    Returns the same tokenizer (modified in place).

    Raises:
        ConfigError: an unknown name, or a file that does not exist or cannot be read.
    """
    from pathlib import Path

    from fathom.errors import ConfigError, Problem

    if choice in CHAT_TEMPLATES:
        tokenizer.chat_template = CHAT_TEMPLATES[choice]
        return tokenizer
    path = Path(choice)
    if not path.is_file():
        raise ConfigError([Problem("chat_template", f"{choice!r} is neither a template name "
                                                    f"({', '.join(CHAT_TEMPLATES)}) nor a Jinja file")])
    try:
        tokenizer.chat_template = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem("chat_template", f"cannot read {path}: {exc}")]) from exc
    return tokenizer


def prepare_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy messages into the shape chat templates expect.

    Tool-call ``arguments`` given as JSON strings (OpenAI style) become dicts, and ``None``
    content becomes ``""``. The input is not modified.

    >>> prepare_messages([{"role": "assistant", "content": None, "tool_calls": [
    ...     {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]}])[0]
    ... # doctest: +NORMALIZE_WHITESPACE
    {'role': 'assistant', 'content': '',
     'tool_calls': [{'id': '1', 'type': 'function', 'function': {'name': 'f', 'arguments': {'x': 1}}}]}
    """
    out = copy.deepcopy(messages)
    for message in out:
        if message.get("content") is None:
            message["content"] = ""
        for call in message.get("tool_calls") or []:
            fn = call.get("function", call)
            if isinstance(fn.get("arguments"), str):
                fn["arguments"] = json.loads(fn["arguments"] or "{}")
    return out


_PROBE_TOOLS = [{"type": "function", "function": {"name": "probe_tool_zz", "description": "probe",
                                                   "parameters": {"type": "object", "properties": {}}}}]
_PROBE_MESSAGES = [
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "probe_call_qq", "arguments": {}}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "probe_result_ww"},
]


def template_handles_tools(tokenizer: Any) -> bool:
    """True when the tokenizer's chat template renders tool schemas, tool calls and tool results."""
    if not getattr(tokenizer, "chat_template", None):
        return False
    try:
        text = tokenizer.apply_chat_template(_PROBE_MESSAGES, tools=_PROBE_TOOLS, tokenize=False)
    except Exception:  # a template that raises on tools does not handle them
        return False
    return all(s in text for s in ("probe_tool_zz", "probe_call_qq", "probe_result_ww"))


def ensure_tool_template(tokenizer: Any) -> Any:
    """Give the tokenizer :data:`SMOLLM2_TOOL_TEMPLATE` unless its own template handles tools.

    Returns the same tokenizer (modified in place).
    """
    if not template_handles_tools(tokenizer):
        tokenizer.chat_template = SMOLLM2_TOOL_TEMPLATE
    return tokenizer
