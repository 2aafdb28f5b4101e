"""The SFT loss computed where it is taken: the LM head runs only at positions whose next token is learned.

A causal LM's head turns every hidden state into a vocabulary-sized row of logits (49,152 for
SmolLM2), yet with assistant-only labels most positions are ignored by the loss. :func:`masked_lm_loss`
runs the backbone, keeps the hidden states whose next-token label is not -100 and applies the head to
those alone, so a chat with a long prompt and a short answer pays for the answer's logits only. The
value equals the usual token-averaged cross-entropy. TRL's own fused head does this on CUDA (Triton)
but scores every position elsewhere; this is the same idea for any device.

:class:`MaskedLossSFTTrainer` is TRL's ``SFTTrainer`` with ``compute_loss`` replaced by it (the
extension point TRL documents); evaluation goes through the same path.

Not covered: DFT or label-smoothed losses, MoE auxiliary losses, sequence parallelism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fathom.errors import TrainingError
from fathom.train._data import IGNORE_INDEX

if TYPE_CHECKING:
    import torch

__all__ = ["masked_lm_loss", "sft_trainer_class"]

_BACKBONE_INPUTS = ("input_ids", "attention_mask", "position_ids")


def masked_lm_loss(model: Any, inputs: dict[str, Any],
                   num_items_in_batch: int | torch.Tensor | None = None) -> tuple[torch.Tensor, int, int]:
    """Mean next-token cross-entropy over labelled positions, with the LM head applied only there.

    Args:
        model: a causal LM (``LlamaForCausalLM``...) or a PEFT model wrapping one.
        inputs: a collated batch with ``input_ids``, ``labels`` and ``attention_mask`` (or
            ``position_ids`` for padding-free batches).
        num_items_in_batch: labelled tokens in the whole accumulated batch (the Trainer passes it so
            gradient accumulation averages over tokens, not micro-batches); default: this batch's.

    Returns:
        ``(loss, labelled tokens, correctly predicted tokens)``.
    """
    import torch
    import torch.nn.functional as F
    from peft import PeftModel

    lm: Any = model.get_base_model() if isinstance(model, PeftModel) else model
    backbone: Any = lm.base_model
    hidden = backbone(**{k: inputs[k] for k in _BACKBONE_INPUTS if k in inputs}, use_cache=False).last_hidden_state
    targets = inputs["labels"][:, 1:]
    keep = targets != IGNORE_INDEX
    head: Any = lm.get_output_embeddings()
    logits = head(hidden[:, :-1][keep]).float()
    labels = targets[keep]
    divisor = keep.sum() if num_items_in_batch is None else num_items_in_batch
    loss = F.cross_entropy(logits, labels, reduction="sum") / torch.as_tensor(divisor).clamp(min=1)
    with torch.no_grad():
        correct = int((logits.argmax(-1) == labels).sum())
    return loss, int(keep.sum()), correct


def sft_trainer_class() -> type:
    """TRL's ``SFTTrainer`` with :func:`masked_lm_loss` as its loss (built lazily: TRL is a heavy import)."""
    from trl.trainer.sft_trainer import SFTTrainer

    class MaskedLossSFTTrainer(SFTTrainer):
        """``SFTTrainer`` whose loss applies the LM head only at labelled positions."""

        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            if return_outputs:
                raise TrainingError("This trainer computes the loss without full logits, so it cannot return them "
                                    "(compute_metrics and preprocess_logits_for_metrics are not supported).")
            mode = "train" if model.training else "eval"
            # The backbone is called directly, not through the forward Accelerate wraps in autocast, so mixed
            # precision (bf16 matmuls, about 2x faster on a CPU with native bf16) is applied here explicitly
            with self.accelerator.autocast():
                loss, labelled, correct = masked_lm_loss(model, inputs, num_items_in_batch)
            # Picked up by SFTTrainer.log(), which averages each list into the logged value
            self._metrics[mode]["mean_token_accuracy"].append(correct / labelled if labelled else 0.0)
            return loss

    return MaskedLossSFTTrainer
