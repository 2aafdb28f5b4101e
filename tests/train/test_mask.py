"""The loss mask, checked on the batches the trainer actually draws from its dataloader.

Labels must be -100 everywhere except the assistant's text, tool calls and closing <|im_end|>, for
chats with a system prompt, tools, tool calls, tool results and several turns; prompts must be
rendered exactly as generation renders them (tools included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from transformers import TrainerCallback

from fathom.models import SMOLLM2_TOOL_TEMPLATE
from fathom.train import IGNORE_INDEX, SFTArgs, tokenize_example, train_sft

PARIS_CALL = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call><|im_end|>'
DOGGER_CALL = ('Checking.\n<tool_call>[{"name": "sea_state", "arguments": {"area": "Dogger", "hours": 12}}]'
               '</tool_call><|im_end|>')


class BatchProbe(TrainerCallback):
    """Records every batch of the training dataloader and the tokenizer, then stops the run."""

    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.tokenizer: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.tokenizer = kwargs["processing_class"]
        self.batches = [dict(batch) for batch in kwargs["train_dataloader"]]


def _spans(labels: list[int]) -> list[list[int]]:
    spans: list[list[int]] = []
    previous = IGNORE_INDEX
    for label in labels:
        if label != IGNORE_INDEX:
            if previous == IGNORE_INDEX:
                spans.append([])
            spans[-1].append(label)
        previous = label
    return spans


def test_trainer_batches_learn_only_assistant_tokens(tiny_model_dir: Path, tmp_path: Path, chats: Any) -> None:
    weighted = chats.multi_turn_chat()
    weighted["messages"][1]["weight"] = 0  # "Hi, how can I help?" stays in context but is not learned
    weighted["messages"][0]["content"] = "Hello there!"
    rows = [chats.tool_chat("Paris"), chats.multi_turn_chat(), weighted]
    data = chats.write_jsonl(tmp_path / "train.jsonl", rows)
    probe = BatchProbe()
    train_sft(SFTArgs(model=str(tiny_model_dir), data=data, out=tmp_path / "run", max_steps=1, batch_size=2,
                      progress=False), callbacks=[probe])

    tokenizer = probe.tokenizer
    assert tokenizer.chat_template == SMOLLM2_TOOL_TEMPLATE
    expected = {
        "Weather in Paris?": [PARIS_CALL, "It is 18C and sunny in Paris.<|im_end|>"],
        "<|im_start|>user\nHello!": ["Hi, how can I help?<|im_end|>", DOGGER_CALL, "Moderate, 2.1 metres.<|im_end|>"],
        "Hello there!": [DOGGER_CALL, "Moderate, 2.1 metres.<|im_end|>"],
    }
    seen = []
    for batch in probe.batches:
        for ids, labels, mask in zip(batch["input_ids"].tolist(), batch["labels"].tolist(),
                                     batch["attention_mask"].tolist(), strict=True):
            text = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
            key = next(k for k in expected if k in text)
            seen.append(key)
            assert [tokenizer.decode(span) for span in _spans(labels)] == expected[key], key
            assert all(label in (IGNORE_INDEX, i) for i, label in zip(ids, labels, strict=True))
            assert all(label == IGNORE_INDEX for label, m in zip(labels, mask, strict=True) if not m)
            # Everything outside the spans is context: system prompt, tool schemas, user turns, tool results
            context = tokenizer.decode([i for i, label, m in zip(ids, labels, mask, strict=True)
                                        if m and label == IGNORE_INDEX])
            assert "<|im_start|>assistant\n" in context and "<|im_start|>user\n" in context
            if key == "Weather in Paris?":
                assert "You are a weather assistant." in context and "<tools>" in context
                assert "<|im_start|>tool\n18C, sunny<|im_end|>" in context
    assert sorted(seen) == sorted(expected)


def test_training_prompt_is_what_generation_renders(tiny_model_dir: Path, chats: Any) -> None:
    """Tools reach the template in training exactly as in generation: same ids up to the first answer."""
    from fathom.backends import ChatRequest, TransformersBackend

    backend = TransformersBackend(str(tiny_model_dir), device="cpu")
    for example in (chats.tool_chat("Oslo"), chats.multi_turn_chat()):
        row = tokenize_example(backend.tokenizer, example)
        first_answer = next(i for i, m in enumerate(example["messages"]) if m["role"] == "assistant")
        prompt = backend.prompt_ids(ChatRequest(example["messages"][:first_answer], tools=example["tools"]))
        assert row["input_ids"][:len(prompt)] == prompt
        assert all(label == IGNORE_INDEX for label in row["labels"][:len(prompt)])
        assert row["labels"][len(prompt)] == row["input_ids"][len(prompt)]


def test_truncation_keeps_the_start(tiny_model_dir: Path, chats: Any) -> None:
    from fathom.models import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    full = tokenize_example(tokenizer, chats.tool_chat())
    cut = tokenize_example(tokenizer, chats.tool_chat(), max_seq_len=40)
    assert cut["input_ids"] == full["input_ids"][:40] and cut["labels"] == full["labels"][:40]


def test_template_without_generation_markers_is_refused(tiny_model_dir: Path, chats: Any) -> None:
    from fathom.errors import TrainingError
    from fathom.models import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    tokenizer.chat_template = SMOLLM2_TOOL_TEMPLATE.replace("{%- generation -%}", "").replace(
        "{%- endgeneration -%}", "")
    with pytest.raises(TrainingError, match="generation"):
        tokenize_example(tokenizer, chats.simple_chat("Hi", "Hello"))


def test_masked_loss_equals_the_full_logits_loss(tiny_model_dir: Path, chats: Any) -> None:
    """Applying the LM head only at labelled positions changes the cost, not the loss or its gradient."""
    import torch
    from peft import LoraConfig, get_peft_model

    from fathom.models import load_model
    from fathom.train import masked_lm_loss

    model, tokenizer = load_model(str(tiny_model_dir), device="cpu")
    model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    rows = [tokenize_example(tokenizer, ex) for ex in (chats.tool_chat(), chats.multi_turn_chat())]
    width = max(len(r["input_ids"]) for r in rows)
    batch = {"input_ids": torch.tensor([r["input_ids"] + [0] * (width - len(r["input_ids"])) for r in rows]),
             "labels": torch.tensor([r["labels"] + [IGNORE_INDEX] * (width - len(r["labels"])) for r in rows]),
             "attention_mask": torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"]))
                                             for r in rows])}
    reference = model(**batch).loss
    reference.backward()
    want = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    loss, labelled, _ = masked_lm_loss(model, batch)
    loss.backward()
    torch.testing.assert_close(loss, reference)
    assert labelled == sum(sum(label != IGNORE_INDEX for label in r["labels"][1:]) for r in rows)
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            torch.testing.assert_close(parameter.grad, want[name], atol=1e-6, rtol=1e-4)
