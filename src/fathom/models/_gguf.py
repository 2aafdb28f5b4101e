"""Writing GGUF files for llama.cpp: a whole model (an adapter merged first) or a LoRA adapter on its own.

Covers: :func:`export_gguf` (``fathom export gguf``) at ``f32``, ``f16``, ``bf16``, ``q8_0`` or ``q4_0``
(:data:`GGUF_TYPES`; ``q4_1`` is left out: the bundled base exported at q4_1 runs well, with the shipping
adapter as a llama.cpp LoRA on it too, 88.3% tolerant, but the adapter merged and then exported at q4_1
scored 1.7%; the cause is not found), and :func:`export_gguf_adapter` (``fathom export gguf-adapter``) in
llama.cpp's adapter format (``general.type="adapter"``, ``adapter.lora.alpha`` always written, tensors
``<base tensor>.lora_a`` / ``.lora_b``). Llama-architecture models only (SmolLM2, Llama, the tiny test
models); anything else is refused by name.

Why written here rather than installed: llama.cpp's ``convert_hf_to_gguf.py`` and ``convert_lora_to_gguf.py``
are scripts in its source tree, not in any package on PyPI (the ``gguf`` wheel holds the file format and
the quantisers, which this module uses: ``GGUFWriter``, ``TensorNameMap``, ``gguf.quants``). What is left
is glue: the tensor names, the query/key row order llama.cpp's rotary embedding expects (the same
permutation the converter applies), the tokenizer metadata and the quantisation choices.

Quantisation follows llama.cpp's defaults: 1-D tensors (norms) stay float32; for the 4-bit types the
token embedding is stored at q8_0 (as in the GGUF the bundled model ships in). The K-quants (``q4_k_m``...)
need llama.cpp's C++ quantiser (``llama-quantize``), which no wheel here ships; use it on an ``f16``
export when you need them. Not covered: other architectures, tokenizers other than byte-level BPE,
importing GGUF back (the bundled model's conversion is transformers' own GGUF loader).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fathom.errors import ConfigError, ModelError, Problem, did_you_mean
from fathom.models._spec import AdapterSpec, BundledSpec, GGUFSpec, LocalSpec, ModelSpec, resolve_model

if TYPE_CHECKING:
    import numpy as np

__all__ = ["GGUF_TYPES", "GGUFExport", "adapter_gguf_for", "export_gguf", "export_gguf_adapter", "gguf_chat_template",
           "gguf_for"]

GGUF_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0")
"""Tensor types :func:`export_gguf` writes (``--quant``)."""
ADAPTER_TYPES = ("f32", "f16")
_FOUR_BIT = ("q4_0", "q4_1")


@dataclass(frozen=True)
class GGUFExport:
    """What an export wrote."""

    path: str
    quant: str
    bytes: int
    tensors: int
    seconds: float
    kind: str
    """``"model"`` or ``"adapter"``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_type(value: str, valid: tuple[str, ...], what: str) -> str:
    name = value.lower()
    if name not in valid:
        hint = did_you_mean(name, valid)
        extra = " K-quants (q4_k_m...) need llama.cpp's llama-quantize on an f16 export." if "_k" in name else ""
        raise ConfigError([Problem(what, f"unknown GGUF type {value!r}. {hint + ' ' if hint else ''}"
                                         f"Valid: {', '.join(valid)}.{extra}")], title="invalid export options")
    return name


def _llama_config(config: Any, source: str) -> None:
    if getattr(config, "model_type", None) != "llama":
        raise ModelError(f"{source} is a {getattr(config, 'model_type', '?')!r} model; Fathom's GGUF export writes "
                         f"Llama-architecture models (SmolLM2, Llama). Convert others with llama.cpp's "
                         f"convert_hf_to_gguf.py.")
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    if rope.get("rope_type", "default") not in ("default", None):
        raise ModelError(f"{source} uses {rope['rope_type']!r} rope scaling, which this export does not write; "
                         f"use llama.cpp's convert_hf_to_gguf.py.")


def _rope_theta(config: Any) -> float:
    rope = getattr(config, "rope_parameters", None) or {}
    return float(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0)))


def _head_dim(config: Any) -> int:
    return int(getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)


def _permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """Rows of a query/key projection in the order llama.cpp's rotary embedding expects.

    Hugging Face rotates the two halves of each head; GGUF Llama rotates interleaved pairs. This is the
    permutation llama.cpp's converter applies (``LlamaModel.permute``), for weights and LoRA ``B`` alike.
    """
    return (weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _tensor_name(hf_name: str, blocks: int) -> str:
    import gguf

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, blocks)
    found = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
    if found is None:
        raise ModelError(f"tensor {hf_name!r} has no GGUF Llama name; the model has layers this export does "
                         f"not know. Convert it with llama.cpp's convert_hf_to_gguf.py.")
    return str(found)


def gguf_chat_template(template: str) -> str:
    """A Hugging Face chat template as llama.cpp's Jinja engine can run it: without transformers'
    ``{% generation %}`` markers (they only mark assistant tokens for training).

    >>> gguf_chat_template("a{%- generation -%}b{%- endgeneration -%}c")
    'abc'
    """
    import re

    return re.sub(r"\{%-?\s*(end)?generation\s*-?%\}", "", template)


def _bundled_tokens() -> tuple[list[str], str] | None:
    """The bundled model's GGUF token list and pre-tokenizer name, when its package is installed."""
    import gguf

    from fathom.errors import MissingDependencyError
    from fathom.models._bundled import bundled_gguf

    try:
        reader = gguf.GGUFReader(str(bundled_gguf("smollm2-135m")))
    except MissingDependencyError:
        return None
    tokens = reader.fields["tokenizer.ggml.tokens"]
    values = [bytes(tokens.parts[i]).decode("utf-8") for i in tokens.data]
    pre = reader.fields["tokenizer.ggml.pre"]
    return values, bytes(pre.parts[pre.data[0]]).decode("utf-8")


def _add_tokenizer(writer: Any, tokenizer: Any, vocab_size: int, pre: str | None) -> None:
    """Byte-level BPE tokenizer metadata (tokens, types, merges, special ids, chat template)."""
    import gguf

    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    if backend.get("model", {}).get("type") != "BPE":
        raise ModelError(f"the tokenizer is {backend.get('model', {}).get('type')!r}, not byte-level BPE; "
                         f"convert this model with llama.cpp's convert_hf_to_gguf.py.")
    reverse = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)
    if pre is None:
        known = _bundled_tokens()
        if known is None or known[0] != tokens:
            raise ModelError("this tokenizer is not the bundled SmolLM2 one, so its pre-tokenizer name is unknown; "
                             "pass tokenizer_pre= (--tokenizer-pre) with llama.cpp's name for it "
                             "(e.g. 'llama-bpe', 'qwen2'), or convert with llama.cpp's convert_hf_to_gguf.py.")
        pre = known[1]
    merges = [m if isinstance(m, str) else " ".join(m) for m in backend["model"].get("merges", [])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for name, add in (("bos", writer.add_bos_token_id), ("eos", writer.add_eos_token_id),
                      ("unk", writer.add_unk_token_id), ("pad", writer.add_pad_token_id)):
        value = getattr(tokenizer, f"{name}_token_id", None)
        if isinstance(value, int):
            add(value)
    probe = tokenizer("a")["input_ids"]
    writer.add_add_bos_token(bool(probe) and probe[0] == tokenizer.bos_token_id)
    writer.add_add_space_prefix(False)
    if tokenizer.chat_template:
        writer.add_chat_template(gguf_chat_template(str(tokenizer.chat_template)))


def _add_llama(writer: Any, config: Any, name: str) -> None:
    writer.add_name(name)
    writer.add_context_length(int(config.max_position_embeddings))
    writer.add_embedding_length(int(config.hidden_size))
    writer.add_block_count(int(config.num_hidden_layers))
    writer.add_feed_forward_length(int(config.intermediate_size))
    writer.add_rope_dimension_count(_head_dim(config))
    writer.add_head_count(int(config.num_attention_heads))
    writer.add_head_count_kv(int(config.num_key_value_heads))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_rope_freq_base(_rope_theta(config))
    writer.add_vocab_size(int(config.vocab_size))


def _encode(data: np.ndarray, quant: str, gguf_name: str) -> tuple[np.ndarray, Any]:
    """The tensor as stored (array, GGML type) under llama.cpp's rules for ``quant``."""
    import gguf
    import numpy as np

    types = gguf.GGMLQuantizationType
    if data.ndim == 1 or quant == "f32":
        return data.astype(np.float32), types.F32
    if quant == "f16":
        return data.astype(np.float16), types.F16
    kind = "q8_0" if quant in _FOUR_BIT and gguf_name == "token_embd.weight" else quant
    qtype = {"bf16": types.BF16, "q8_0": types.Q8_0, "q4_0": types.Q4_0, "q4_1": types.Q4_1}[kind]
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if data.shape[-1] % block:  # rows that do not fill whole blocks stay f16, as llama.cpp does
        return data.astype(np.float16), types.F16
    return gguf.quants.quantize(data.astype(np.float32), qtype), qtype


_FILE_TYPES = {"f32": "ALL_F32", "f16": "MOSTLY_F16", "bf16": "MOSTLY_BF16", "q8_0": "MOSTLY_Q8_0",
               "q4_0": "MOSTLY_Q4_0", "q4_1": "MOSTLY_Q4_1"}


def _write(writer: Any, out: Path) -> None:
    """Write the GGUF into a temporary file beside ``out`` and rename it into place."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer.path = tmp
    try:
        writer.write_header_to_file(path=tmp)
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file(progress=False)
        writer.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _out_path(out: str | os.PathLike[str]) -> Path:
    path = Path(out).expanduser()
    if path.suffix != ".gguf":
        raise ConfigError([Problem("out", f"the output must be a .gguf file, got {str(out)!r}")],
                          title="invalid export options")
    if path.is_dir():
        raise ConfigError([Problem("out", f"{path} is a folder; give a file name ending in .gguf")],
                          title="invalid export options")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def export_gguf(model: str | ModelSpec, out: str | os.PathLike[str], *, quant: str = "f16",
                tokenizer_pre: str | None = None) -> GGUFExport:
    """Write a model (an adapter is merged into its base first) to one GGUF file for llama.cpp.

    Args:
        model: a local model spec: the bundled name, a folder, or an adapter folder.
        out: the ``.gguf`` file to write (written beside itself and renamed, so never half-written).
        quant: one of :data:`GGUF_TYPES`.
        tokenizer_pre: llama.cpp's pre-tokenizer name; needed only for tokenizers other than SmolLM2's.

    Raises:
        ConfigError: an unknown ``quant`` or an output that is not a ``.gguf`` file.
        ModelError: a model that is not Llama-architecture, or a tokenizer this export cannot describe.
    """
    import gguf

    from fathom.models._load import load_model

    quant = _check_type(quant, GGUF_TYPES, "quant")
    path = _out_path(out)
    spec = resolve_model(model) if isinstance(model, str) else model
    start = time.perf_counter()
    loaded, tokenizer = load_model(spec, device="cpu", dtype="float32")
    if isinstance(spec, AdapterSpec):
        loaded = loaded.merge_and_unload()  # type: ignore[operator]
    config = loaded.config
    _llama_config(config, spec.spec)
    writer = gguf.GGUFWriter(None, "llama")
    _add_llama(writer, config, Path(spec.spec).name or spec.spec)
    writer.add_file_type(getattr(gguf.LlamaFileType, _FILE_TYPES[quant]))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _add_tokenizer(writer, tokenizer, int(config.vocab_size), tokenizer_pre)
    blocks = int(config.num_hidden_layers)
    count = 0
    for hf_name, tensor in loaded.state_dict().items():
        if hf_name == "lm_head.weight" and config.tie_word_embeddings:
            continue
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        data = tensor.detach().float().numpy()
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = _permute(data, int(config.num_attention_heads))
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = _permute(data, int(config.num_key_value_heads))
        name = _tensor_name(hf_name, blocks)
        stored, qtype = _encode(data, quant, name)
        writer.add_tensor(name, stored, raw_dtype=qtype)
        count += 1
    _write(writer, path)
    return GGUFExport(path=str(path), quant=quant, bytes=path.stat().st_size, tensors=count,
                      seconds=round(time.perf_counter() - start, 2), kind="model")


def _adapter_settings(folder: Path) -> tuple[float, int]:
    """``(alpha as llama.cpp reads it, rank)`` from ``adapter_config.json``, refusing what GGUF cannot hold."""
    config = json.loads((folder / "adapter_config.json").read_text("utf-8"))
    problems = []
    if config.get("peft_type", "LORA") != "LORA":
        problems.append(f"peft_type is {config.get('peft_type')!r}; only LoRA adapters convert")
    if config.get("use_dora"):
        problems.append("DoRA adapters have no llama.cpp form")
    if config.get("modules_to_save"):
        problems.append(f"modules_to_save {config['modules_to_save']} are full layers, not LoRA")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        problems.append("per-layer rank_pattern/alpha_pattern cannot be written as one alpha")
    if problems:
        raise ModelError(f"{folder} cannot be written as a llama.cpp adapter: {'; '.join(problems)}. Merge it "
                         f"instead: `fathom export gguf {folder} --out model.gguf`.")
    rank, alpha = int(config["r"]), float(config.get("lora_alpha", config["r"]))
    if config.get("use_rslora"):  # PEFT scales by alpha/sqrt(r), llama.cpp by alpha/r
        alpha *= math.sqrt(rank)
    return alpha, rank


def export_gguf_adapter(adapter: str | os.PathLike[str], out: str | os.PathLike[str], *,
                        dtype: str = "f16") -> GGUFExport:
    """Write a PEFT LoRA adapter as a llama.cpp adapter GGUF (load it on its base's GGUF with ``--lora``).

    Args:
        adapter: the adapter folder (``fathom train sft --out``'s ``model`` folder).
        out: the ``.gguf`` file to write.
        dtype: ``"f16"`` or ``"f32"``.

    Raises:
        ModelError: not an adapter folder, a base that is not Llama-architecture, LoRA on the embeddings or
            ``lm_head`` (llama.cpp cannot load those), DoRA, ``modules_to_save`` or per-layer ranks.
    """
    import gguf
    import numpy as np
    from safetensors.numpy import load_file
    from transformers import AutoConfig

    from fathom.models._load import model_folder

    dtype = _check_type(dtype, ADAPTER_TYPES, "dtype")
    path = _out_path(out)
    spec = resolve_model(str(adapter))
    if not isinstance(spec, AdapterSpec):
        raise ModelError(f"{adapter} is a {spec.kind} model, not a LoRA adapter folder (adapter_config.json). "
                         f"Use `fathom export gguf` for whole models.")
    start = time.perf_counter()
    alpha, _ = _adapter_settings(spec.path)
    config = AutoConfig.from_pretrained(model_folder(spec.base))
    _llama_config(config, spec.base)
    weights_file = spec.path / "adapter_model.safetensors"
    if not weights_file.exists():
        raise ModelError(f"{spec.path} has no adapter_model.safetensors; save the adapter with safetensors "
                         f"(PEFT's default) and try again.")
    weights = load_file(str(weights_file))
    writer = gguf.GGUFWriter(None, "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    writer.add_name(spec.path.name)
    blocks, count = int(config.num_hidden_layers), 0
    for key in sorted(weights):
        module, _, part = key.removeprefix("base_model.model.").rpartition(".lora_")
        if part not in ("A.weight", "B.weight"):
            raise ModelError(f"{weights_file} holds {key!r}, which is not a LoRA A/B matrix; merge this adapter "
                             f"instead (`fathom export gguf`).")
        if module.endswith(("embed_tokens", "lm_head")):
            raise ModelError(f"{weights_file} puts LoRA on {module!r}; llama.cpp adapters cannot change the "
                             f"embeddings or the output layer. Merge instead (`fathom export gguf`), or train "
                             f"without them as targets.")
        data = weights[key].astype(np.float32)
        if part == "B.weight" and module.endswith("self_attn.q_proj"):
            data = _permute(data, int(config.num_attention_heads))
        elif part == "B.weight" and module.endswith("self_attn.k_proj"):
            data = _permute(data, int(config.num_key_value_heads))
        name = _tensor_name(module + ".weight", blocks) + (".lora_a" if part == "A.weight" else ".lora_b")
        stored = data.astype(np.float16) if dtype == "f16" else data
        writer.add_tensor(name, stored, raw_dtype=gguf.GGMLQuantizationType.F16 if dtype == "f16"
                          else gguf.GGMLQuantizationType.F32)
        count += 1
    _write(writer, path)
    return GGUFExport(path=str(path), quant=dtype, bytes=path.stat().st_size, tensors=count,
                      seconds=round(time.perf_counter() - start, 2), kind="adapter")


def _cache_file(stem: str, key: dict[str, Any], quant: str) -> Path:
    import hashlib

    from fathom._home import fathom_home

    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    folder = fathom_home() / "gguf"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stem}-{digest}-{quant}.gguf"


def _folder_key(folder: Path) -> dict[str, Any]:
    """What identifies a model folder's contents cheaply: every file's name, size and modification time."""
    return {"folder": str(folder), "files": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                                                   for p in folder.iterdir() if p.is_file())}


def gguf_for(model: str | ModelSpec, *, quant: str | None = None) -> Path:
    """A GGUF file llama.cpp can run for a local model spec, converting once into ``$FATHOM_HOME/gguf``.

    A GGUF file is itself; a bundled model is the GGUF it ships as (``quant=None``) or a cached export at
    ``quant``; a folder is a cached export (``f16`` unless ``quant`` says otherwise), redone when its files
    change. Adapters are not whole models: pass the base here and the adapter to :func:`adapter_gguf_for`.
    """
    from fathom.models._bundled import bundled_gguf

    spec = resolve_model(model) if isinstance(model, str) else model
    if isinstance(spec, GGUFSpec):
        return spec.path
    if isinstance(spec, BundledSpec) and quant is None:
        return bundled_gguf(spec.spec)
    quant = _check_type(quant or "f16", GGUF_TYPES, "quant")
    if isinstance(spec, BundledSpec):
        key: dict[str, Any] = {"bundled": spec.spec, "gguf": str(bundled_gguf(spec.spec))}
        stem = spec.spec
    elif isinstance(spec, LocalSpec):
        key, stem = _folder_key(spec.path), spec.path.name
    else:
        raise ModelError(f"{spec.spec!r} is a {spec.kind} model; llama.cpp needs local weights (a GGUF file, the "
                         f"bundled model or a model folder). Download hub models first: `fathom models pull`.")
    target = _cache_file(stem, {**key, "format": 1}, quant)
    if not target.exists():
        export_gguf(spec, target, quant=quant)
    return target


def adapter_gguf_for(adapter: str | os.PathLike[str]) -> Path:
    """The llama.cpp form of a PEFT LoRA adapter folder, converted once into ``$FATHOM_HOME/gguf``
    (keyed by the adapter weights' SHA-256, so a retrained adapter converts again)."""
    from fathom._manifest import file_sha256

    spec = resolve_model(str(adapter))
    if not isinstance(spec, AdapterSpec):
        raise ModelError(f"{adapter} is a {spec.kind} model, not a LoRA adapter folder (adapter_config.json).")
    weights = spec.path / "adapter_model.safetensors"
    key = {"adapter": str(spec.path), "sha": file_sha256(weights) if weights.exists() else None, "format": 1}
    target = _cache_file(spec.path.parent.name + "-" + spec.path.name, key, "f16")
    if not target.exists():
        export_gguf_adapter(spec.path, target)
    return target
