"""A tiny random-weights model with the bundled tokenizer, for fast tests and smoke runs.

2 layers, 64 dims: it trains and generates in milliseconds, exercises every code path of the real
model (same tokenizer, same chat template, Llama architecture) and says nothing about quality.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["make_tiny_model"]


def make_tiny_model(out_dir: str | Path, *, seed: int = 0, layers: int = 2, hidden: int = 64) -> Path:
    """Write a random Llama model with the bundled SmolLM2 tokenizer to ``out_dir``; return it."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from fathom.models._bundled import bundled_dir

    out = Path(out_dir)
    if (out / "config.json").exists():
        return out
    tokenizer = AutoTokenizer.from_pretrained(bundled_dir("smollm2-135m"))
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
