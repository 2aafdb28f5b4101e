"""LoRA and full SFT on the tiny model: files written, best checkpoint, early stopping, merge, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import fathom.train
from fathom.cli import cli
from fathom.models import resolve_model
from fathom.train import SFTArgs, complete_checkpoints, merge_adapter, read_metrics, train_sft

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def test_public_api_is_pinned() -> None:
    assert sorted(fathom.train.__all__) == [
        "ALGORITHMS", "CPTArgs", "CPTResult", "Corpus", "DISTILL_METHODS", "DISTILL_REASONS", "DPOArgs",
        "DPOResult", "DPO_LOSS_TYPES", "DTYPES", "DemoResult", "DistillResult", "GRPO_LOSS_TYPES", "IGNORE_INDEX",
        "LoopArgs", "ONLINE_DPO_LOSS_TYPES", "PairStats", "PairSummary", "REWARD_CHECKS", "RFTArgs", "RFTResult",
        "SCHEDULERS", "SFTArgs", "SFTResult", "TeacherSummary", "TokenStats", "TrainArgs", "activation_memory",
        "check_shared_vocabulary", "complete_checkpoints", "distill", "field_help", "grade_teacher_answers",
        "kl_to_teacher", "masked_lm_loss", "merge_adapter", "mine_pairs", "mine_pairs_file", "pack_documents",
        "parse_mix", "perplexity", "plot_losses", "plot_preferences", "plot_rewards", "read_corpus",
        "read_metrics", "read_pairs", "read_prompts", "read_training_examples", "run_demo", "sea_state_examples",
        "sea_state_word", "teach", "tokenize_example", "tokenize_examples", "tokenize_pair", "tokenize_pairs",
        "train_cpt", "train_dpo", "train_logits", "train_rft", "train_sft"]


def _lora(tiny: Path, out: Path, data: Path, eval_data: Path | None = None, **kw: Any) -> Any:
    kw.setdefault("learning_rate", 5e-3)
    return train_sft(SFTArgs(model=str(tiny), data=data, eval_data=eval_data, out=out, batch_size=4,
                             logging_steps=2, progress=False, **kw))


def test_lora_run_writes_a_loadable_adapter_and_records(tiny_model_dir: Path, tmp_path: Path, train_file: Path,
                                                         eval_file: Path) -> None:
    result = _lora(tiny_model_dir, tmp_path / "run", train_file, eval_file, max_steps=8, eval_steps=4)
    out = Path(result.out)
    for name in ("adapter_config.json", "adapter_model.safetensors", "fathom.json", "metrics.jsonl", "loss.png",
                 "manifest.json", "result.json", "sft_args.json", *TOKENIZER_FILES):
        assert (out / name).is_file(), name
    assert json.loads((out / "fathom.json").read_text()) == {"base": str(tiny_model_dir)}
    spec = resolve_model(str(out))
    assert (spec.kind, spec.base) == ("adapter", str(tiny_model_dir))
    assert (result.kind, result.steps, result.planned_steps, result.stopped_early) == ("lora", 8, 8, False)
    assert result.best_checkpoint and Path(result.best_checkpoint).parent == out / "checkpoints"
    assert [p.name for p in complete_checkpoints(out)] == ["checkpoint-4", "checkpoint-8"]

    records = read_metrics(out / "metrics.jsonl")
    train = [r for r in records if "loss" in r]
    evals = [r for r in records if "eval_loss" in r]
    assert [r["step"] for r in train] == [1, 2, 4, 6, 8] and [r["step"] for r in evals] == [4, 8]
    assert {"epoch", "learning_rate", "tokens", "tokens_per_s", "grad_norm"} <= set(train[-1])
    assert result.eval_loss == min(r["eval_loss"] for r in evals)
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sft" and manifest["config"]["model"] == str(tiny_model_dir)
    assert set(manifest["inputs"]) == {"train", "eval"} and len(manifest["inputs"]["train"]["sha256"]) == 64
    assert {"torch", "transformers", "trl", "peft"} <= set(manifest["versions"])
    assert "git_revision" in manifest and manifest["result"]["steps"] == 8

    from fathom.models import load_model

    model, tokenizer = load_model(str(out), device="cpu")
    assert type(model).__name__ == "PeftModelForCausalLM" and tokenizer.chat_template


def test_final_adapter_is_the_best_checkpoint_and_early_stopping_stops(tiny_model_dir: Path, tmp_path: Path,
                                                                       chats: Any) -> None:
    """Train on one answer, evaluate on another: eval loss only rises, so the first checkpoint is best."""
    from safetensors.torch import load_file

    prompts = [f"Say a word ({i})" for i in range(16)]
    alpha, omega = " ".join(["alpha"] * 8), " ".join(["omega"] * 8)
    train = chats.write_jsonl(tmp_path / "train.jsonl", [chats.simple_chat(p, alpha) for p in prompts])
    val = chats.write_jsonl(tmp_path / "val.jsonl", [chats.simple_chat(p, omega) for p in prompts[:4]])
    result = _lora(tiny_model_dir, tmp_path / "run", train, val, max_steps=40, eval_steps=2,
                   early_stopping_patience=2, learning_rate=2e-2, warmup=0.0, lr_scheduler="constant")
    evals = [(r["step"], r["eval_loss"]) for r in read_metrics(Path(result.out) / "metrics.jsonl") if "eval_loss" in r]
    best_step, best_loss = min(evals, key=lambda e: e[1])
    assert result.stopped_early and result.planned_steps == 40
    assert result.steps == best_step + 2 * 2 < 40  # two evaluations without improvement, then stop
    assert result.eval_loss == best_loss
    assert result.best_checkpoint == str(Path(result.out) / "checkpoints" / f"checkpoint-{best_step}")
    final = load_file(Path(result.out) / "adapter_model.safetensors")
    best = load_file(Path(result.best_checkpoint) / "adapter_model.safetensors")
    assert final.keys() == best.keys() and all((final[k] == best[k]).all() for k in final)


def test_full_fine_tuning_writes_a_complete_model(tiny_model_dir: Path, tmp_path: Path, train_file: Path) -> None:
    result = train_sft(SFTArgs(model=str(tiny_model_dir), data=train_file, out=tmp_path / "full", full=True,
                               max_steps=2, batch_size=4, progress=False))
    out = Path(result.out)
    assert result.kind == "full" and resolve_model(str(out)).kind == "local"
    for name in ("config.json", "model.safetensors", *TOKENIZER_FILES):
        assert (out / name).is_file(), name
    assert not (out / "adapter_config.json").exists()
    assert json.loads((out / "fathom.json").read_text()) == {"trained_from": str(tiny_model_dir)}


def test_merge_equals_the_adapter(tiny_model_dir: Path, tmp_path: Path, train_file: Path) -> None:
    import torch

    from fathom.models import load_model

    result = _lora(tiny_model_dir, tmp_path / "run", train_file, max_steps=4, learning_rate=5e-2)
    merged_dir = merge_adapter(result.out, tmp_path / "merged")
    assert resolve_model(str(merged_dir)).kind == "local" and (merged_dir / "tokenizer.json").is_file()
    peft_model, tokenizer = load_model(result.out, device="cpu")
    merged, _ = load_model(str(merged_dir), device="cpu")
    base, _ = load_model(str(tiny_model_dir), device="cpu")
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "Weather in Oslo?"}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)
    with torch.no_grad():
        want, got, before = (m(**ids).logits for m in (peft_model, merged, base))
    assert not torch.allclose(want, before, atol=1e-3)  # the adapter changed the model...
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)  # ...and the merge kept that change


def test_cli_sft_and_merge(tiny_model_dir: Path, tmp_path: Path, train_file: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["train", "sft", "--model", str(tiny_model_dir), "--data", str(train_file), "--out",
                               str(tmp_path / "run"), "--max-steps", "2", "--batch-size", "4", "--lora-rank", "4",
                               "--target-modules", "q_proj,v_proj", "--quiet"])
    assert done.exit_code == 0, done.output
    assert "steps 2/2" in done.output and "fathom generate --model" in done.output
    config = json.loads((tmp_path / "run" / "adapter_config.json").read_text())
    assert config["r"] == 4 and sorted(config["target_modules"]) == ["q_proj", "v_proj"]
    merged = runner.invoke(cli, ["train", "merge", str(tmp_path / "run"), "--out", str(tmp_path / "merged")])
    assert merged.exit_code == 0, merged.output
    assert (tmp_path / "merged" / "model.safetensors").is_file()


def test_checkpointing_is_chosen_by_memory(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoConfig

    from fathom.train import _setup, activation_memory

    config = AutoConfig.from_pretrained(tiny_model_dir)  # 2 layers, hidden 64, intermediate 128
    assert activation_memory(config, 1000) == 2 * (16 * 64 + 6 * 128) * 4 * 1000

    class Model:
        pass

    model = Model()
    model.config = config  # type: ignore[attr-defined]
    args = SFTArgs(model="m", data="d", out="o", batch_size=8)
    need = activation_memory(config, 8 * 500)
    monkeypatch.setattr(_setup, "free_memory", lambda device: 2 * need + 2)
    assert not _setup.use_checkpointing(args, model, 8 * 500, "cpu")
    monkeypatch.setattr(_setup, "free_memory", lambda device: 2 * need - 2)
    assert _setup.use_checkpointing(args, model, 8 * 500, "cpu")
    assert not _setup.use_checkpointing(SFTArgs(model="m", data="d", out="o", gradient_checkpointing=False),
                                        model, 500, "cpu")


def test_bf16_autocast_reaches_the_masked_loss(tiny_model_dir: Path, tmp_path: Path, train_file: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The loss calls the backbone directly (not the forward Accelerate wraps), so it must apply autocast itself."""
    import torch

    import fathom.train._loss as loss_module

    seen: list[tuple[bool, Any]] = []
    real = loss_module.masked_lm_loss

    def recording(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
        seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        return real(model, inputs, num_items_in_batch)

    monkeypatch.setattr(loss_module, "masked_lm_loss", recording)
    train_sft(SFTArgs(model=str(tiny_model_dir), data=train_file, out=tmp_path / "run", max_steps=1, batch_size=2,
                      device="cpu", progress=False, extra={"bf16": True}))
    assert seen and seen[0] == (True, torch.bfloat16)
