"""Fine-tuning: supervised (SFT), reinforcement (RFT), preference optimisation (DPO, offline and online) and
continued pre-training (CPT), LoRA or full, with TRL and PEFT; mining preference pairs; merging adapters.

Covers: :class:`TrainArgs` (what every method shares), :class:`SFTArgs` (every option of ``fathom train sft``,
checked up front), :func:`train_sft`
(one readable function: data, model, LoRA, TRL ``SFTTrainer``, best checkpoint, resume, metrics,
loss curve, manifest), :class:`SFTResult`, :func:`merge_adapter` (``fathom train merge``), the pieces a
recipe or test may reuse (:func:`tokenize_example` with assistant-only labels, :func:`masked_lm_loss`,
:func:`read_metrics`, :func:`plot_losses`, :func:`complete_checkpoints`, :func:`activation_memory`) and
the built-in quick-check task (:func:`run_demo`, ``fathom demo``); and RFT: :class:`RFTArgs`,
:func:`train_rft` (GRPO or RLOO from TRL with a Fathom grader as the reward, the reward checked before the
first step, validation by the grader, best checkpoint, resume), :class:`RFTResult`, :func:`read_prompts`,
:func:`plot_rewards`; DPO: :class:`DPOArgs`, :func:`train_dpo` (TRL's ``DPOTrainer`` on pairs tokenized as SFT
tokenizes answers, from a base model or an SFT adapter; ``online=True``: TRL's experimental
``OnlineDPOTrainer`` with a grader ranking two sampled answers), :class:`DPOResult`, :func:`read_pairs`
(Fathom, OpenAI, Nova or ShareGPT preference rows), :func:`tokenize_pair`, :func:`plot_preferences`, and
:func:`mine_pairs` / :func:`mine_pairs_file` (best vs worst of n graded samples, ``fathom data pairs``);
continued pre-training: :class:`CPTArgs`, :func:`train_cpt` (raw text packed into blocks, general text mixed
in by ratio, held-out perplexity before and after), :class:`CPTResult`, :func:`read_corpus`,
:func:`pack_documents`, :func:`perplexity`; distillation: :func:`distill` (``fathom distill``: a teacher
answers, the grader keeps what passes, the student learns it by SFT or, sharing the teacher's vocabulary, by
on-policy logit distillation with :func:`train_logits`), :func:`teach`, :func:`grade_teacher_answers`,
:class:`TeacherSummary`, :class:`DistillResult`, :func:`kl_to_teacher`, :func:`check_shared_vocabulary`.

Not covered (yet): PPO (TRL 1.16 has none; RFT's GRPO/RLOO replace it); generation
(``fathom.backends``).

Example::

    from fathom.train import SFTArgs, train_sft
    result = train_sft(SFTArgs(model="smollm2-135m", data="train.jsonl", eval_data="val.jsonl", out="runs/sft"))
    print(result.eval_loss, result.out)   # result.out is a model spec: an adapter on smollm2-135m
"""

from __future__ import annotations

from fathom.train._args import DTYPES, SCHEDULERS, LoopArgs, SFTArgs, TrainArgs, field_help
from fathom.train._callbacks import read_metrics
from fathom.train._cpt import perplexity, train_cpt
from fathom.train._cpt_args import CPTArgs, parse_mix
from fathom.train._cpt_data import Corpus, pack_documents, read_corpus
from fathom.train._data import IGNORE_INDEX, TokenStats, read_training_examples, tokenize_example, tokenize_examples
from fathom.train._demo import DemoResult, run_demo, sea_state_examples, sea_state_word
from fathom.train._distill import METHODS as DISTILL_METHODS
from fathom.train._distill import REASONS as DISTILL_REASONS
from fathom.train._distill import DistillResult, TeacherSummary, distill, grade_teacher_answers, teach
from fathom.train._distill_logits import check_shared_vocabulary, kl_to_teacher, train_logits
from fathom.train._dpo import train_dpo
from fathom.train._dpo_args import DPO_LOSS_TYPES, ONLINE_DPO_LOSS_TYPES, DPOArgs
from fathom.train._dpo_data import PairStats, read_pairs, tokenize_pair, tokenize_pairs
from fathom.train._loss import masked_lm_loss
from fathom.train._merge import merge_adapter
from fathom.train._pairs import PairSummary, mine_pairs, mine_pairs_file
from fathom.train._plot import plot_losses, plot_preferences, plot_rewards
from fathom.train._result import CPTResult, DPOResult, RFTResult, SFTResult
from fathom.train._rft import train_rft
from fathom.train._rft_args import ALGORITHMS, GRPO_LOSS_TYPES, REWARD_CHECKS, RFTArgs
from fathom.train._rft_data import read_prompts
from fathom.train._run_dir import complete_checkpoints
from fathom.train._setup import activation_memory
from fathom.train._sft import train_sft

__all__ = [
    "ALGORITHMS",
    "DISTILL_METHODS",
    "DISTILL_REASONS",
    "DPO_LOSS_TYPES",
    "DTYPES",
    "GRPO_LOSS_TYPES",
    "IGNORE_INDEX",
    "ONLINE_DPO_LOSS_TYPES",
    "REWARD_CHECKS",
    "SCHEDULERS",
    "CPTArgs",
    "CPTResult",
    "Corpus",
    "DPOArgs",
    "DPOResult",
    "DemoResult",
    "DistillResult",
    "LoopArgs",
    "PairStats",
    "PairSummary",
    "RFTArgs",
    "RFTResult",
    "SFTArgs",
    "SFTResult",
    "TeacherSummary",
    "TokenStats",
    "TrainArgs",
    "activation_memory",
    "check_shared_vocabulary",
    "complete_checkpoints",
    "distill",
    "field_help",
    "grade_teacher_answers",
    "kl_to_teacher",
    "masked_lm_loss",
    "merge_adapter",
    "mine_pairs",
    "mine_pairs_file",
    "pack_documents",
    "parse_mix",
    "perplexity",
    "plot_losses",
    "plot_preferences",
    "plot_rewards",
    "read_corpus",
    "read_metrics",
    "read_pairs",
    "read_prompts",
    "read_training_examples",
    "run_demo",
    "sea_state_examples",
    "sea_state_word",
    "teach",
    "tokenize_example",
    "tokenize_examples",
    "tokenize_pair",
    "tokenize_pairs",
    "train_cpt",
    "train_dpo",
    "train_logits",
    "train_rft",
    "train_sft",
]
