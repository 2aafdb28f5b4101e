"""Fixtures for the backend tests: a tiny random model whose greedy output depends on the prompt.

The shared ``tiny_model_dir`` ties input and output embeddings, so greedily it repeats its last
input token ("\\n") whatever the prompt; tests of ordering, padding and stop strings need outputs
that differ between prompts. This one has the same tokenizer, template and size, untied.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def varied_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("varied-model")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                         initializer_range=0.1, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def random_adapter(model_dir: Path, out: Path, seed: int) -> Path:
    """A PEFT LoRA adapter on ``model_dir`` with random weights big enough to change greedy outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    config = LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    peft_model = get_peft_model(model, config)
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:  # big enough to change greedy outputs
            torch.nn.init.normal_(param, std=0.5)
    peft_model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def adapters(varied_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two random adapters, ``alpha`` and ``beta``, on ``varied_model_dir`` (written once per session)."""
    root = tmp_path_factory.mktemp("adapters")
    return {"alpha": random_adapter(varied_model_dir, root / "alpha", 1),
            "beta": random_adapter(varied_model_dir, root / "beta", 2)}

