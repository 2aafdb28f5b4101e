"""Fine-tuning: supervised (SFT) and reinforcement fine-tuning (RFT), LoRA or full, with TRL and PEFT;
merging adapters.

Covers: :class:`TrainArgs` (what every method shares), :class:`SFTArgs` (every option of ``fathom train sft``,
checked up front), :func:`train_sft`
(one readable function: data, model, LoRA, TRL ``SFTTrainer``, best checkpoint, resume, metrics,
loss curve, manifest), :class:`SFTResult`, :func:`merge_adapter` (``fathom train merge``), the pieces a
recipe or test may reuse (:func:`tokenize_example` with assistant-only labels, :func:`masked_lm_loss`,
:func:`read_metrics`, :func:`plot_losses`, :func:`complete_checkpoints`, :func:`activation_memory`) and
the built-in quick-check task (:func:`run_demo`, ``fathom demo``); and RFT: :class:`RFTArgs`,
:func:`train_rft` (GRPO or RLOO from TRL with a Fathom grader as the reward, the reward checked before the
first step, validation by the grader, best checkpoint, resume), :class:`RFTResult`, :func:`read_prompts`,
:func:`plot_rewards`.

Not covered (yet): DPO and distillation; generation (``fathom.backends``).

Example::

    from fathom.train import SFTArgs, train_sft
    result = train_sft(SFTArgs(model="smollm2-135m", data="train.jsonl", eval_data="val.jsonl", out="runs/sft"))
    print(result.eval_loss, result.out)   # result.out is a model spec: an adapter on smollm2-135m
"""

from __future__ import annotations

from fathom.train._args import DTYPES, SCHEDULERS, SFTArgs, TrainArgs, field_help
from fathom.train._callbacks import read_metrics
from fathom.train._data import IGNORE_INDEX, TokenStats, read_training_examples, tokenize_example, tokenize_examples
from fathom.train._demo import DemoResult, run_demo, sea_state_examples, sea_state_word
from fathom.train._loss import masked_lm_loss
from fathom.train._merge import merge_adapter
from fathom.train._plot import plot_losses, plot_rewards
from fathom.train._result import RFTResult, SFTResult
from fathom.train._rft import train_rft
from fathom.train._rft_args import ALGORITHMS, GRPO_LOSS_TYPES, REWARD_CHECKS, RFTArgs
from fathom.train._rft_data import read_prompts
from fathom.train._run_dir import complete_checkpoints
from fathom.train._setup import activation_memory
from fathom.train._sft import train_sft

__all__ = [
    "ALGORITHMS",
    "DTYPES",
    "GRPO_LOSS_TYPES",
    "IGNORE_INDEX",
    "REWARD_CHECKS",
    "SCHEDULERS",
    "DemoResult",
    "RFTArgs",
    "RFTResult",
    "SFTArgs",
    "SFTResult",
    "TokenStats",
    "TrainArgs",
    "activation_memory",
    "complete_checkpoints",
    "field_help",
    "masked_lm_loss",
    "merge_adapter",
    "plot_losses",
    "plot_rewards",
    "read_metrics",
    "read_prompts",
    "read_training_examples",
    "run_demo",
    "sea_state_examples",
    "sea_state_word",
    "tokenize_example",
    "tokenize_examples",
    "train_rft",
    "train_sft",
]
