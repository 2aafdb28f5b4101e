"""GGUF export: refusals with precise errors, the written metadata, and atomic writes.

Numerical parity of the exports is tested where llama.cpp runs them (tests/backends/test_llamacpp.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fathom.errors import ConfigError, ModelError


def _field(reader: object, key: str) -> object:
    field = reader.fields[key]  # type: ignore[attr-defined]
    value = field.parts[field.data[0]]
    return bytes(value).decode() if value.dtype.kind == "u" and value.dtype.itemsize == 1 else value[0]


def test_bad_quant_names_the_valid_types(tiny_model_dir: Path, tmp_path: Path) -> None:
    from fathom.models import export_gguf

    with pytest.raises(ConfigError, match=r"unknown GGUF type 'q8'.*Did you mean 'q8_0'.*Valid: f32, f16"):
        export_gguf(str(tiny_model_dir), tmp_path / "m.gguf", quant="q8")
    with pytest.raises(ConfigError, match=r"K-quants .* llama-quantize"):
        export_gguf(str(tiny_model_dir), tmp_path / "m.gguf", quant="q4_k_m")


def test_output_must_be_a_gguf_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    from fathom.models import export_gguf

    with pytest.raises(ConfigError, match=r"must be a \.gguf file, got .*model\.bin"):
        export_gguf(str(tiny_model_dir), tmp_path / "model.bin")


def test_non_llama_model_is_refused_by_name(tmp_path: Path, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from fathom.models import export_gguf

    folder = tmp_path / "gpt2"
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=49152)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    with pytest.raises(ModelError, match=r"'gpt2' model; Fathom's GGUF export writes Llama-architecture"):
        export_gguf(str(folder), tmp_path / "m.gguf")
    assert not list(tmp_path.glob("*.gguf")) and not list(tmp_path.glob(".*tmp"))


def test_metadata_and_tensor_types(tiny_model_dir: Path, tmp_path: Path) -> None:
    import gguf

    from fathom.models import export_gguf

    out = export_gguf(str(tiny_model_dir), tmp_path / "tiny.gguf", quant="q8_0")
    reader = gguf.GGUFReader(out.path)
    assert _field(reader, "general.architecture") == "llama"
    assert _field(reader, "tokenizer.ggml.pre") == "smollm"
    assert int(_field(reader, "llama.block_count")) == 2  # type: ignore[call-overload]
    template = str(_field(reader, "tokenizer.chat_template"))
    assert "<tools>" in template and "{%- generation" not in template and "endgeneration" not in template
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    assert types["blk.0.attn_norm.weight"] == "F32"
    assert types["blk.0.attn_q.weight"] == "Q8_0"
    assert "output.weight" not in types  # tied to the embeddings, as the bundled model is
    assert out.tensors == len(types)


@pytest.mark.parametrize("quant", ["q4_0"])
def test_four_bit_types_keep_the_token_embedding_at_q8_0(tiny_model_dir: Path, tmp_path: Path, quant: str) -> None:
    """As llama.cpp does, and as the GGUF the bundled model ships in (Q4_1 weights, Q8_0 embedding) is laid out."""
    import gguf

    from fathom.models import export_gguf

    out = export_gguf(str(tiny_model_dir), tmp_path / "tiny.gguf", quant=quant)
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(out.path).tensors}
    assert types["token_embd.weight"] == "Q8_0"
    assert types["blk.0.attn_q.weight"] == quant.upper() and types["blk.0.attn_norm.weight"] == "F32"


def test_adapter_refusals(tiny_model_dir: Path, tmp_path: Path) -> None:
    from fathom.models import export_gguf_adapter

    with pytest.raises(ModelError, match=r"is a local model, not a LoRA adapter folder"):
        export_gguf_adapter(str(tiny_model_dir), tmp_path / "a.gguf")
    folder = tmp_path / "dora"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_dora": True, "modules_to_save": ["lm_head"],
        "base_model_name_or_path": str(tiny_model_dir)}))
    with pytest.raises(ModelError, match=r"DoRA adapters have no llama.cpp form; modules_to_save"):
        export_gguf_adapter(str(folder), tmp_path / "a.gguf")


def test_adapter_metadata_writes_alpha(tiny_model_dir: Path, tmp_path: Path) -> None:
    import gguf
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from fathom.models import export_gguf_adapter

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(tmp_path / "lora")
    out = export_gguf_adapter(str(tmp_path / "lora"), tmp_path / "lora.gguf")
    reader = gguf.GGUFReader(out.path)
    assert _field(reader, "general.type") == "adapter"
    assert _field(reader, "adapter.type") == "lora"
    assert float(_field(reader, "adapter.lora.alpha")) == 16.0  # type: ignore[arg-type]
    names = sorted(t.name for t in reader.tensors)
    assert names[:2] == ["blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b"]
    assert out.tensors == 2 * 2 * 2  # two layers, two modules, A and B


def test_missing_gguf_file_is_a_clear_error(tmp_path: Path) -> None:
    from fathom.errors import UnknownModelError
    from fathom.models import resolve_model

    with pytest.raises(UnknownModelError, match=r"looks like a GGUF file but there is no such file"):
        resolve_model(str(tmp_path / "nope.gguf"))
