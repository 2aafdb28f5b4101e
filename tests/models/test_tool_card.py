"""The ``tool-card`` chat template: the tools as one line each, calls rendered as with the JSON template,
and a training run's choice refused early when it names no template."""

from __future__ import annotations

from pathlib import Path

import pytest

from fathom.errors import ConfigError
from fathom.models import CHAT_TEMPLATES, load_tokenizer, prepare_messages, set_chat_template
from fathom.train import SFTArgs

TOOLS = [{"type": "function", "function": {
    "name": "create_work_order", "description": "Raise a work order.\n\nReturns: its id.",
    "parameters": {"type": "object", "required": ["device", "priority"], "properties": {
        "device": {"type": "string"}, "priority": {"type": "string", "enum": ["low", "high"]},
        "summary": {"type": "string"}}}}}]
MESSAGES = [{"role": "system", "content": "You help."}, {"role": "user", "content": "Order for oven-1, high."},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c0", "type": "function", "function": {
                "name": "create_work_order", "arguments": '{"device": "oven-1", "priority": "high"}'}}]}]


def _render(tiny_model_dir: Path, template: str) -> tuple[str, int]:
    tokenizer = set_chat_template(load_tokenizer(str(tiny_model_dir)), template)
    text = tokenizer.apply_chat_template(prepare_messages(MESSAGES), tools=TOOLS, tokenize=False)
    return text, len(tokenizer(text)["input_ids"])


def test_the_card_lists_each_tool_on_one_line_and_renders_calls_like_the_json_template(tiny_model_dir: Path) -> None:
    card, card_tokens = _render(tiny_model_dir, "tool-card")
    full, full_tokens = _render(tiny_model_dir, "tool-json")
    assert "- create_work_order(device, priority: low|high, summary?): Raise a work order." in card
    assert "Returns" not in card and '"properties"' not in card
    call = ('<tool_call>[{"name": "create_work_order", "arguments": {"device": "oven-1", "priority": "high"}}]'
            '</tool_call>')
    assert call in card and call in full
    assert card.split("<|im_start|>user")[1] == full.split("<|im_start|>user")[1]  # the turns are the same
    assert card_tokens < full_tokens


def test_an_unknown_template_is_refused_before_anything_loads(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither a template name"):
        SFTArgs(model="smollm2-135m", data=tmp_path / "d.jsonl", out=tmp_path / "o", chat_template="tool-cards")
    with pytest.raises(ConfigError, match="nor a Jinja file"):
        set_chat_template(object(), "nope")
    assert set(CHAT_TEMPLATES) == {"tool-card", "tool-json"}
