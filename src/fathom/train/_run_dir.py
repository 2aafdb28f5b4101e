"""The run folder of a fine-tuning run: starting it, resuming it, and telling finished checkpoints apart.

Layout of ``OUT``::

    sft_args.json          the arguments the run started with (checked again on --resume; rft_args.json,
                           dpo_args.json, cpt_args.json for the other methods)
    checkpoints/checkpoint-N/   trainer checkpoints (weights, optimizer, scheduler, RNG, trainer_state.json)
    metrics.jsonl  loss.png  manifest.json   (reward.png for RFT, dpo.png for DPO; CPT adds
                           perplexity_before.json, RFT reward_check.json)
    adapter_config.json adapter_model.safetensors fathom.json  (or config.json model.safetensors)
    tokenizer files        the final model is a model spec: ``fathom generate --model OUT``
    result.json            written last: the run is finished

A trainer checkpoint writes ``trainer_state.json`` last, so a checkpoint whose state file parses and
names its own step is complete; a kill while saving leaves one that is not, and it is removed on resume
while every complete one stays. Not covered: the training itself (:mod:`fathom.train._sft`).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from fathom._files import atomic_dir
from fathom._manifest import atomic_write_text, file_sha256
from fathom.errors import ConfigError, Problem

__all__ = ["ARGS_FILE", "RESULT_FILE", "checkpoint_step", "complete_checkpoints", "file_sha", "save_final",
           "start_run"]

ARGS_FILE = "sft_args.json"
RESULT_FILE = "result.json"
CHECKPOINTS = "checkpoints"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# Fields that may differ between a run and its resumption
_MAY_CHANGE = {"resume", "progress", "device", "reward_check", "reward_check_prompts"}


def _is_complete(folder: Path, step: int) -> bool:
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("global_step") == step


def complete_checkpoints(out: str | Path) -> list[Path]:
    """Finished checkpoints of the run in ``out``, oldest step first."""
    folder = Path(out) / CHECKPOINTS
    found = []
    for child in folder.iterdir() if folder.is_dir() else []:
        match = _CHECKPOINT.match(child.name)
        if match and child.is_dir() and _is_complete(child, int(match.group(1))):
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def _remove_incomplete(out: Path) -> list[Path]:
    folder = out / CHECKPOINTS
    keep = set(complete_checkpoints(out))
    removed = []
    for child in folder.iterdir() if folder.is_dir() else []:
        if _CHECKPOINT.match(child.name) and child.is_dir() and child not in keep:
            shutil.rmtree(child)
            removed.append(child)
    return removed


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[Problem]:
    problems = []
    for key in sorted(set(saved) | set(now)):
        if key in _MAY_CHANGE or saved.get(key) == now.get(key):
            continue
        flag = "--" + key.replace("_", "-")
        problems.append(Problem(flag, f"was {saved.get(key)!r} when the run started, now {now.get(key)!r}; "
                                      f"resume with the same arguments, or start a new run in another --out folder"))
    return problems


def start_run(out: str | Path, config: dict[str, Any], *, resume: bool,
              args_name: str = ARGS_FILE) -> tuple[str, Path | None]:
    """Prepare ``out`` for a run and say how to proceed.

    Args:
        out: the run folder.
        config: the run's arguments (JSON-ready, see :meth:`fathom.train.SFTArgs.to_dict`).
        resume: continue the run already in ``out`` (a missing or empty folder starts a new one).
        args_name: the file the arguments are kept in (``sft_args.json``, ``rft_args.json``...).

    Returns:
        ``("new", None)``, ``("resume", checkpoint or None)`` (None: the run was killed before its first
        checkpoint and restarts from step 0), or ``("finished", None)`` (nothing left to do).

    Raises:
        ConfigError: ``out`` holds files but ``resume`` is false, holds no Fathom run, or the run there was
            started with different arguments.
    """
    out = Path(out)
    args_file = out / args_name
    holds_files = out.is_dir() and any(out.iterdir())
    if out.exists() and not out.is_dir():
        raise ConfigError([Problem("--out", f"{out} is a file; pass a folder for the run")])
    if not holds_files:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args_file, json.dumps(config, indent=2) + "\n")
        return "new", None
    if not resume:
        raise ConfigError([Problem("--out", f"{out} already holds files; pass --resume to continue the run there, "
                                            f"or choose a new or empty folder")])
    if not args_file.exists():
        raise ConfigError([Problem("--resume", f"{out} holds files but no {args_name}, so it is not a Fathom "
                                               f"training run; choose a new or empty --out folder")])
    problems = _differences(json.loads(args_file.read_text(encoding="utf-8")), config)
    if problems:
        raise ConfigError(problems, title=f"cannot resume the run in {out}")
    if (out / RESULT_FILE).exists():
        return "finished", None
    _remove_incomplete(out)
    done = complete_checkpoints(out)
    return "resume", done[-1] if done else None


def checkpoint_step(checkpoint: Path | None) -> int:
    """The step of a ``checkpoint-N`` folder (0 for None: a run that starts from scratch)."""
    return int(checkpoint.name.rsplit("-", 1)[1]) if checkpoint else 0


def file_sha(path: Any) -> str | None:
    """SHA-256 of a data file recorded with the run's arguments (None when there is no such file)."""
    return file_sha256(path) if path is not None and Path(path).is_file() else None


def save_final(trainer: Any, tokenizer: Any, out: Path, meta: dict[str, str]) -> None:
    """Write the model, tokenizer and ``fathom.json`` into a temporary folder, then move them into ``out``
    (each file replaces its namesake; the run's checkpoints and logs stay)."""
    with atomic_dir(out, exists="merge") as tmp:
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / "fathom.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
        (tmp / "README.md").unlink(missing_ok=True)  # TRL's model card names a hub repo we never push to
        (tmp / "training_args.bin").unlink(missing_ok=True)  # a pickle; the checkpoints keep theirs
