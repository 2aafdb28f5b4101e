"""Trainer callbacks: ``metrics.jsonl`` with training throughput, and a rich progress bar.

Covers: :func:`metrics_callback` (one JSON object per log event: step, epoch, loss, eval_loss,
learning_rate, tokens, tokens_per_s...) and :func:`progress_callback` (step/total, loss, eval loss,
tokens/s on stderr). Both are built lazily because ``transformers`` is a heavy import.

Throughput counts real (non-padding) tokens over the time spent inside optimizer steps, so evaluation,
checkpointing and logging do not dilute it. Not covered: the loss curve (:mod:`fathom.train._plot`).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text

__all__ = ["metrics_callback", "progress_callback", "read_metrics", "run_callbacks", "truncate_metrics"]


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` file (empty when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def truncate_metrics(path: str | Path, step: int) -> None:
    """Drop records logged after ``step`` (a killed run logged past the checkpoint it resumes from)."""
    path = Path(path)
    if path.exists():
        kept = [r for r in read_metrics(path) if r.get("step", 0) <= step]
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))


_CUMULATIVE = ("train_runtime", "train_tokens_per_second")


def _clean(logs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in logs.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        out[key] = value if isinstance(value, int) or math.isfinite(value) else None
    return out


def metrics_callback(path: str | Path) -> Any:
    """A callback appending each log event to ``path`` as one JSON line.

    It also adds ``tokens_per_s`` to the training log events it sees, so callbacks after it (the
    progress bar) can show it, and its ``throughput()`` gives the rate over the whole session.
    """
    from transformers import TrainerCallback

    class MetricsFileCallback(TrainerCallback):
        def __init__(self) -> None:
            self.path = Path(path)
            self.step_seconds = 0.0  # since the last training log event
            self.step_started = 0.0
            self.tokens_at_last_log = 0
            self.session_seconds = 0.0  # since training (or its resumption) began
            self.session_tokens = 0
            self.session_steps = 0
            self.tokens_at_begin = 0

        def throughput(self) -> float | None:
            """Real tokens per second of optimizer steps since training (or its resumption) began."""
            return self.session_tokens / self.session_seconds if self.session_seconds > 0 else None

        def seconds_per_step(self) -> float | None:
            """Seconds per optimizer step since training (or its resumption) began."""
            return self.session_seconds / self.session_steps if self.session_steps else None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.tokens_at_last_log = self.tokens_at_begin = state.num_input_tokens_seen
            self.step_seconds = self.session_seconds = 0.0
            self.session_steps = 0

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.step_started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            elapsed = time.perf_counter() - self.step_started
            self.step_seconds += elapsed
            self.session_seconds += elapsed
            self.session_steps += 1
            self.session_tokens = state.num_input_tokens_seen - self.tokens_at_begin

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if logs is None:
                return
            if "loss" in logs and self.step_seconds > 0:
                tokens = state.num_input_tokens_seen - self.tokens_at_last_log
                logs["tokens_per_s"] = round(tokens / self.step_seconds, 1)
                self.tokens_at_last_log, self.step_seconds = state.num_input_tokens_seen, 0.0
            record = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), **_clean(logs)}
            if "loss" in logs:  # transformers' cumulative speed since the session began; ours is per interval
                for key in _CUMULATIVE:
                    record.pop(key, None)
            if "num_input_tokens_seen" in record:
                record["tokens"] = record.pop("num_input_tokens_seen")
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")

    return MetricsFileCallback()


_SFT_FIELDS = {"loss": "loss", "eval": "eval_loss", "tok/s": "tokens_per_s"}


def progress_callback(description: str = "Fine-tuning", fields: dict[str, str] | None = None) -> Any:
    """A callback drawing a rich progress bar on stderr: step/total, the latest value of each log key in
    ``fields`` (label -> key; default loss, eval loss and tokens/s), elapsed time and ETA."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from transformers import TrainerCallback

    shown_keys = dict(fields or _SFT_FIELDS)
    slots = {label: f"f{i}" for i, label in enumerate(shown_keys)}

    class RichProgressCallback(TrainerCallback):
        def __init__(self) -> None:
            self.progress: Progress | None = None
            self.task: Any = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            columns = "  ".join(f"{label} {{task.fields[{slot}]}}" for label, slot in slots.items())
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(columns),
                TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=False)
            self.progress.start()
            blank: dict[str, Any] = dict.fromkeys(slots.values(), "-")
            self.task = self.progress.add_task(description, total=state.max_steps, completed=state.global_step,
                                               **blank)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.progress is not None:
                self.progress.update(self.task, completed=state.global_step)

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if self.progress is None or not logs:
                return
            shown: dict[str, Any] = {slots[label]: (f"{logs[key]:.0f}" if key.endswith("per_s") else f"{logs[key]:.4g}")
                     for label, key in shown_keys.items() if isinstance(logs.get(key), (int, float))}
            self.progress.update(self.task, **shown)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.progress is not None:
                self.progress.update(self.task, completed=state.global_step)
                self.progress.stop()
                self.progress = None

    return RichProgressCallback()


def run_callbacks(metrics: Any, extra: Any, *, progress: str | None, fields: dict[str, str] | None = None,
                  patience: int | None = None) -> list[Any]:
    """A run's callbacks in order: the metrics file, the caller's, the progress bar (``progress`` is its
    description; None for none) and early stopping after ``patience`` evaluations without improvement."""
    callbacks = [metrics, *extra]
    if progress is not None:
        callbacks.append(progress_callback(progress, fields))
    if patience:
        from transformers import EarlyStoppingCallback

        callbacks.append(EarlyStoppingCallback(early_stopping_patience=patience))
    return callbacks
