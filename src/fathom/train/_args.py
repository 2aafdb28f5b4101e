"""The arguments of supervised fine-tuning (:class:`SFTArgs`), checked as a whole before anything runs, and
the parts other methods share (:class:`TrainArgs`: model, data, LoRA, precision; :class:`LoopArgs`: the
optimisation loop).

Covers: every option of ``fathom train sft`` with its type, default and meaning, cross-field checks
that name the flag to change, and the effective values that depend on other fields (learning rate,
LoRA settings, save interval). Not covered: running the training (:mod:`fathom.train._sft`), the options
of the other methods (``_rft_args``, ``_dpo_args``, ``_cpt_args``).
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fathom.errors import ConfigError, Problem, did_you_mean

__all__ = ["DTYPES", "SCHEDULERS", "LoopArgs", "SFTArgs", "TrainArgs", "field_help"]

SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
              "inverse_sqrt")
"""Learning-rate schedules (names of ``transformers.SchedulerType``)."""
DTYPES = ("float32", "bfloat16", "float16")
"""Weight dtypes a model can be trained in."""

_LORA_DEFAULTS = {"lora_rank": 16, "lora_alpha": 32, "lora_dropout": 0.0}
_LORA_FIELDS = ("lora_rank", "lora_alpha", "lora_dropout", "target_modules", "lora_layers")
_FLAG = {name: "--" + name.replace("_", "-") for name in
         ("lora_rank", "lora_alpha", "lora_dropout", "target_modules", "lora_layers", "max_steps", "learning_rate",
          "batch_size", "grad_accum", "max_seq_len", "eval_steps", "save_steps", "logging_steps",
          "early_stopping_patience", "save_total_limit", "eval_data", "lr_scheduler", "warmup", "dtype")}
_FLAG.update(epochs="--epochs", full="--full")


def _chat_templates() -> tuple[str, ...]:
    from fathom.models import CHAT_TEMPLATES

    return tuple(CHAT_TEMPLATES)


@dataclass
class TrainArgs:
    """What every fine-tuning method shares: the model, data and run folder, LoRA or full training, precision,
    device, seed, resume and pass-through options. :class:`SFTArgs` and :class:`~fathom.train.RFTArgs` extend it.

    Each field is also a ``fathom train ...`` option (``lora_rank`` is ``--lora-rank``).
    """

    model: str
    """Model to fine-tune: a bundled name (``smollm2-135m``), a Hugging Face id, a local model folder, or a
    LoRA adapter folder (its training continues; with ``full`` it is merged into its base first)."""
    data: str | os.PathLike[str]
    """Training examples: JSON Lines, one Fathom chat example per line (``messages``, optional ``tools``)."""
    out: str | os.PathLike[str]
    """Run folder. It receives checkpoints, ``metrics.jsonl``, a curve PNG, ``manifest.json`` and the final
    adapter (or full model) with its tokenizer, so the folder itself is a model spec."""

    full: bool = False
    """Train every weight instead of a LoRA adapter (more memory, no LoRA options)."""
    lora_rank: int | None = None
    """LoRA rank r (default 16): higher fits more, costs memory and time."""
    lora_alpha: int | None = None
    """LoRA scaling alpha (default 32; the update is scaled by alpha / rank)."""
    lora_dropout: float | None = None
    """Dropout on the LoRA input (default 0: dropout copies every adapter input, costing memory and time)."""
    target_modules: list[str] | None = None
    """Module names that get LoRA adapters (default ``all-linear``: every linear projection except the LM head)."""
    lora_layers: int | None = None
    """Put LoRA adapters on the top N transformer layers only (default: every layer). The backward pass then
    stops at the lowest adapted layer, so a step costs less; see ``benchmarks/sft_throughput.py``."""

    chat_template: str | None = None
    """The chat template to train with, saved with the model so that everything loading it later renders
    prompts the same way: ``tool-card`` (Fathom's template with the tools as one line each instead of their
    JSON schemas, about a fifth of the prompt, for a model fine-tuned on a fixed tool set), ``tool-json``, or a
    Jinja file. Default: the model's own (an adapter's, when continuing one)."""

    seed: int = 0
    """Seed for adapter initialisation, data order, sampling and dropout."""
    device: str | None = None
    """``"cpu"``, ``"cuda"``... (default: a GPU when there is one)."""
    dtype: str | None = None
    """Weight dtype, one of :data:`DTYPES`, with no autocast (default: float32 weights with bfloat16 autocast
    where the hardware does bf16 natively, plain float32 elsewhere; on GPU a LoRA base is loaded in bfloat16)."""
    gradient_checkpointing: bool | None = None
    """Recompute activations in the backward pass: a fraction of the memory for about 40% more time. Default:
    only when the largest batch's activations (batch size x longest example) would not fit in half the free
    memory (see :func:`fathom.train.activation_memory`)."""
    resume: bool = False
    """Continue the run in ``out`` from its latest complete checkpoint (the other arguments must match)."""
    progress: bool = True
    """Show a progress bar on stderr."""

    extra: dict[str, Any] = field(default_factory=dict)
    """Further TRL config / ``transformers.TrainingArguments`` fields, passed through unchanged."""

    def __post_init__(self) -> None:
        if self.target_modules is not None and isinstance(self.target_modules, str):
            self.target_modules = [m for m in self.target_modules.replace(",", " ").split() if m]
        problems = self._problems()
        if problems:
            raise ConfigError(problems, title="invalid training arguments")

    def _problems(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.chat_template is not None and self.chat_template not in _chat_templates() \
                and not Path(self.chat_template).is_file():
            problems.append(Problem("--chat-template", f"{self.chat_template!r} is neither a template name "
                                                       f"({', '.join(_chat_templates())}) nor a Jinja file"))

        def bad(name: str, message: str) -> None:
            problems.append(Problem(_FLAG.get(name, name), message))

        if self.full:
            for name in _LORA_FIELDS:
                if getattr(self, name) is not None:
                    bad(name, f"is a LoRA setting, but --full trains every weight without LoRA; "
                              f"drop {_FLAG[name]} or --full")
        for name in ("lora_rank", "lora_alpha", "lora_layers"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                bad(name, f"must be a whole number of at least 1, got {value!r}")
        if self.lora_dropout is not None and not 0 <= self.lora_dropout < 1:
            bad("lora_dropout", f"must be in [0, 1), got {self.lora_dropout}")
        if self.target_modules is not None and not self.target_modules:
            bad("target_modules", "is empty; name at least one module (e.g. q_proj,v_proj) or leave it unset")
        if self.dtype is not None and self.dtype not in DTYPES:
            bad("dtype", f"unknown dtype {self.dtype!r}; choose one of: {', '.join(DTYPES)}")
        return problems

    def effective_lora(self) -> dict[str, Any] | None:
        """The LoRA settings with defaults filled in, or None with ``full``."""
        if self.full:
            return None
        settings: dict[str, Any] = {k: getattr(self, k) if getattr(self, k) is not None else v
                                    for k, v in _LORA_DEFAULTS.items()}
        modules = list(self.target_modules or [])
        settings["target_modules"] = modules if modules and modules != ["all-linear"] else "all-linear"
        if self.lora_layers is not None:
            settings["lora_layers"] = self.lora_layers
        return settings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (paths absolute), as stored in the run folder and its manifest."""
        out = asdict(self)
        for key in ("data", "out", "eval_data"):
            if out.get(key) is not None:
                out[key] = str(Path(out[key]).expanduser().resolve())
        return out


@dataclass
class LoopArgs(TrainArgs):
    """The optimisation loop every trainer-driven method shares (SFT, DPO, continued pre-training): schedule,
    batch, sequence length, evaluation and checkpoint intervals, early stopping. Checked as a whole with the
    fields of :class:`TrainArgs`; subclasses say whether they evaluate on held-out data
    (:meth:`has_held_out`)."""

    epochs: float = 3.0
    """Passes over the training data (ignored when ``max_steps`` is set)."""
    max_steps: int | None = None
    """Optimizer steps to run; overrides ``epochs``."""
    learning_rate: float | None = None
    """Peak learning rate (default 2e-4 with LoRA, 2e-5 with ``full``)."""
    lr_scheduler: str = "cosine"
    """Learning-rate schedule after warm-up (one of :data:`SCHEDULERS`)."""
    warmup: float = 0.03
    """Linear warm-up: a fraction of the total steps when below 1, else a number of steps."""
    batch_size: int = 8
    """Examples per forward pass."""
    grad_accum: int = 1
    """Forward passes whose gradients are summed before each optimizer step."""
    max_seq_len: int = 2048
    """Longest tokenized example; longer ones are truncated (keeping the start), not dropped."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""

    eval_steps: int = 50
    """Steps between evaluations (with held-out data)."""
    save_steps: int | None = None
    """Steps between checkpoints (default: every evaluation with held-out data, else every 100 steps).
    With held-out data it must be a multiple of ``eval_steps``."""
    logging_steps: int = 10
    """Steps between log events (``metrics.jsonl`` lines and progress-bar updates)."""
    early_stopping_patience: int | None = None
    """Stop after this many evaluations without a lower eval loss (needs held-out data; None: never)."""
    save_total_limit: int = 2
    """Checkpoints kept in ``out/checkpoints`` (the best one is always kept on top of these)."""

    def has_held_out(self) -> bool:
        """Whether the run evaluates on held-out data (``eval_data`` given, for the methods that take it)."""
        return getattr(self, "eval_data", None) is not None

    def _problems(self) -> list[Problem]:
        problems = super()._problems()

        def bad(name: str, message: str) -> None:
            problems.append(Problem(_FLAG.get(name, name), message))

        for name in ("batch_size", "grad_accum", "eval_steps", "logging_steps", "save_total_limit"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                bad(name, f"must be a whole number of at least 1, got {value!r}")
        for name in ("max_steps", "save_steps", "early_stopping_patience"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                bad(name, f"must be a whole number of at least 1 (or left unset), got {value!r}")
        if self.max_seq_len < 16:
            bad("max_seq_len", f"must be at least 16 tokens, got {self.max_seq_len}")
        if self.max_steps is None and not self.epochs > 0:
            bad("epochs", f"must be above 0, got {self.epochs}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            bad("learning_rate", f"must be above 0, got {self.learning_rate}")
        if self.warmup < 0:
            bad("warmup", f"must be 0 or more (a fraction below 1, or a number of steps), got {self.warmup}")
        if self.lr_scheduler not in SCHEDULERS:
            hint = did_you_mean(self.lr_scheduler, SCHEDULERS)
            bad("lr_scheduler", f"unknown schedule {self.lr_scheduler!r}. {hint + ' ' if hint else ''}"
                                f"Choose one of: {', '.join(SCHEDULERS)}")
        if not self.has_held_out() and self.early_stopping_patience is not None:
            bad("early_stopping_patience", "needs held-out examples to watch; add --eval-data FILE")
        if (self.has_held_out() and self.save_steps is not None and isinstance(self.save_steps, int)
                and isinstance(self.eval_steps, int) and self.eval_steps > 0 and self.save_steps % self.eval_steps):
            bad("save_steps", f"must be a multiple of --eval-steps ({self.eval_steps}) so the best checkpoint "
                              f"is on disk, got {self.save_steps}")
        return problems

    def effective_learning_rate(self) -> float:
        """The learning rate, defaulting to 2e-4 for LoRA and 2e-5 for full fine-tuning."""
        if self.learning_rate is not None:
            return self.learning_rate
        return 2e-5 if self.full else 2e-4

    def effective_save_steps(self) -> int:
        """Steps between checkpoints, defaulting to the evaluation interval (or 100 without held-out data)."""
        if self.save_steps is not None:
            return self.save_steps
        return self.eval_steps if self.has_held_out() else 100


@dataclass
class SFTArgs(LoopArgs):
    """Supervised fine-tuning of a causal language model on chat examples, with LoRA or in full.

    Every field is also a ``fathom train sft`` option (``lora_rank`` is ``--lora-rank``); the shared ones are
    documented on :class:`TrainArgs` and :class:`LoopArgs`.

    >>> SFTArgs(model="smollm2-135m", data="train.jsonl", out="runs/sft").effective_lora()
    {'lora_rank': 16, 'lora_alpha': 32, 'lora_dropout': 0.0, 'target_modules': 'all-linear'}
    >>> SFTArgs(model="m", data="d.jsonl", out="o", full=True, lora_rank=8)
    Traceback (most recent call last):
    ...
    fathom.errors.ConfigError: invalid training arguments (1):
      - --lora-rank: is a LoRA setting, but --full trains every weight without LoRA; drop --lora-rank or --full
    """

    eval_data: str | os.PathLike[str] | None = None
    """Held-out examples for the evaluation loss. With them, the final model is the best checkpoint."""

    loss_positions_only: bool = True
    """Apply the LM head only where the loss is taken (assistant tokens) instead of at every position; the
    loss is the same, training is faster (see ``benchmarks/sft_throughput.py``)."""
    group_by_length: bool = True
    """Batch examples of similar length together to cut padding (the order is still seeded)."""


def field_help(cls: type = SFTArgs) -> dict[str, str]:
    """Each dataclass field's docstring (the string literal under it), joined into one line.

    This is where ``fathom train sft --help`` takes its option help from.

    >>> field_help()["lora_rank"]
    'LoRA rank r (default 16): higher fits more, costs memory and time.'
    """
    import ast
    import inspect
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed([k for k in cls.__mro__ if k is not object and "__dataclass_fields__" in vars(k)]):
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        constants = vars(sys.modules[klass.__module__])
        for node, after in itertools.pairwise(body):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                text = " ".join(after.value.value.split()).replace("``", "")
                docs[node.target.id] = re.sub(r":\w+:`([^`]*)`", functools.partial(_named_match, constants=constants),
                                              text)
    return docs


def _named_match(match: re.Match[str], constants: dict[str, Any]) -> str:
    return _named_values(match.group(1), constants)


def _named_values(name: str, constants: dict[str, Any]) -> str:
    """A reference to a tuple of names (``:data:`DTYPES```) becomes the names, so help lists them."""
    value = constants.get(name)
    if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return name
