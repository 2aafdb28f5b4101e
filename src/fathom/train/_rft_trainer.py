"""TRL's GRPO/RLOO trainer with two Fathom additions: validation by the grader, and rollout timing.

* **Validation by the grader, not the loss.** An RL loss says little about quality (with ``beta=0`` it
  sits near 0 by design, trl#3452), so :meth:`evaluate` decodes the held-out prompts greedily with the
  current weights and scores them with the reward's grader. It returns ``eval_score`` (and
  ``eval_<component>`` means), which the Trainer's own machinery then uses to keep the best checkpoint
  (``metric_for_best_model="eval_score"``) and to stop early.
* **Rollout timing.** Each generation call logs ``rollout/seconds`` and ``rollout/tokens_per_s``
  (completion tokens per second), the cost that dominates RFT on a CPU (trl#2610).

The subclass overrides TRL's ``_generate_single_turn`` (a private method, present in GRPO and RLOO of
TRL 1.16) only to time it; everything else is TRL's. Built lazily (:func:`rft_trainer_class`) because
TRL is a heavy import. Not covered: multi-turn tool rollouts and vLLM timing (vLLM runs through TRL).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fathom.graders import Grader

__all__ = ["Validator", "rft_trainer_class"]


@dataclass
class Validator:
    """Greedy completions of held-out prompts, scored by the grader: ``{"eval_score": mean, ...}``."""

    examples: Sequence[dict[str, Any]]
    grader: Grader
    tokenizer: Any
    max_tokens: int
    batch_size: int = 16

    def __call__(self, model: Any) -> dict[str, float]:
        from fathom.backends import ChatRequest, Sampling, TransformersBackend, prompt_messages

        backend = TransformersBackend(model, tokenizer=self.tokenizer, batch_size=self.batch_size)
        sampling = Sampling(max_tokens=self.max_tokens, temperature=0.0)
        requests = [ChatRequest(prompt_messages(e), e.get("tools"), sampling) for e in self.examples]
        was_training = model.training
        model.eval()
        try:
            completions = backend.generate(requests)
        finally:
            model.train(was_training)
        grades = [self.grader(e, c.message) for e, c in zip(self.examples, completions, strict=True)]
        metrics = {"eval_score": sum(g.score for g in grades) / len(grades)}
        names = sorted({k for g in grades for k in g.components})
        for name in names:
            values = [g.components[name] for g in grades if name in g.components]
            metrics[f"eval_{name}"] = sum(values) / len(values)
        return metrics


def rft_trainer_class(algorithm: str) -> type:
    """The trainer class for ``algorithm`` (``grpo`` or ``rloo``) with grader validation and rollout timing."""
    from trl.trainer.grpo_trainer import GRPOTrainer
    from trl.trainer.rloo_trainer import RLOOTrainer

    base: Any = GRPOTrainer if algorithm == "grpo" else RLOOTrainer

    class FathomRFTTrainer(base):  # type: ignore[misc]
        validator: Validator | None = None

        def _generate_single_turn(self, prompt_ids: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = super()._generate_single_turn(prompt_ids, *args, **kwargs)
            seconds = time.perf_counter() - started
            # GRPO returns (completion ids, logprobs), RLOO the completion ids alone
            completion_ids = result[0] if isinstance(result, tuple) else result
            tokens = sum(len(ids) for ids in completion_ids)
            model: Any = self.model
            mode = "train" if model.training else "eval"
            self._metrics[mode]["rollout/seconds"].append(seconds)
            self._metrics[mode]["rollout/tokens_per_s"].append(tokens / seconds if seconds > 0 else math.nan)
            return result

        def evaluate(self, eval_dataset: Any = None, ignore_keys: Any = None,
                     metric_key_prefix: str = "eval") -> dict[str, float]:
            if self.validator is None:
                return {}
            model: Any = self.model
            metrics = self.validator(model)
            was_training = model.training
            model.eval()  # TRL's log() files metrics under the mode the model is in
            try:
                self.log(dict(metrics))
            finally:
                model.train(was_training)
            handler: Any = self.callback_handler
            self.control = handler.on_evaluate(self.args, self.state, self.control, metrics)  # type: ignore[has-type]
            return metrics

    FathomRFTTrainer.__name__ = FathomRFTTrainer.__qualname__ = f"Fathom{base.__name__}"
    return FathomRFTTrainer
