"""The arguments of preference optimisation (:class:`DPOArgs`), checked as a whole before anything loads.

Covers: every option of ``fathom train dpo`` with its type, default and meaning; offline DPO (TRL's
``DPOTrainer`` on chosen/rejected pairs) and online DPO (``--online``: TRL's experimental
``OnlineDPOTrainer`` samples two answers per prompt and a Fathom grader picks the chosen one); cross-field
checks that name the flag to change (a grader without ``--online``, an online loss TRL lacks...).
Not covered: running the training (:mod:`fathom.train._dpo`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fathom.errors import Problem, did_you_mean
from fathom.train._args import LoopArgs

__all__ = ["DPO_LOSS_TYPES", "ONLINE_DPO_LOSS_TYPES", "DPOArgs"]

DPO_LOSS_TYPES = ("sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot",
                  "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm")
"""DPO losses of ``trl.DPOConfig.loss_type`` (TRL 1.16); several combine, weighted by ``loss_weights``."""
ONLINE_DPO_LOSS_TYPES = ("sigmoid", "ipo")
"""The losses TRL's ``OnlineDPOTrainer`` implements."""
_ONLINE_DEFAULTS: dict[str, Any] = {"max_completion_length": 64, "temperature": 0.9}
_ONLINE_ONLY = ("grader", "max_completion_length", "temperature", "missing_eos_penalty")


@dataclass
class DPOArgs(LoopArgs):
    """Direct preference optimisation: raise the likelihood of the chosen answer over the rejected one, relative
    to the starting model (the reference), with LoRA or in full.

    Every field is also a ``fathom train dpo`` option; the shared ones are documented on
    :class:`~fathom.train.TrainArgs` and :class:`~fathom.train.LoopArgs`. ``model`` may be a base model (a new
    adapter is trained, the base is the reference) or an SFT adapter folder (it continues, and a frozen copy of
    it is the reference).

    >>> args = DPOArgs(model="runs/sft", data="pairs.jsonl", out="runs/dpo")
    >>> args.loss_type, args.beta, args.effective_learning_rate()
    (['sigmoid'], 0.1, 5e-05)
    >>> DPOArgs(model="m", data="d.jsonl", out="o", beta=0, grader="exact")
    Traceback (most recent call last):
    ...
    fathom.errors.ConfigError: invalid training arguments (2):
      - --beta: must be above 0, got 0
      - --grader: is an online DPO option (the grader ranks two sampled answers); add --online, or drop it
    """

    data: str | os.PathLike[str]
    """Preference pairs: JSON Lines of Fathom DPO rows (``messages`` ending in a user turn, ``chosen`` and
    ``rejected`` assistant messages), or the same pairs as OpenAI or Amazon Nova DPO rows. With ``online``:
    prompts (chat examples ending in the user's turn, each with the ``reference`` the grader needs)."""
    eval_data: str | os.PathLike[str] | None = None
    """Held-out pairs for the evaluation loss and reward margin (with ``online``: held-out prompts, whose greedy
    answers the grader scores). With them, the final model is the best checkpoint."""

    epochs: float = 1.0
    """Passes over the training data (ignored when ``max_steps`` is set)."""
    learning_rate: float | None = None
    """Peak learning rate (default 5e-5 with LoRA, 1e-6, TRL's, with ``full``)."""
    batch_size: int = 4
    """Pairs per forward pass (each pair is two sequences, chosen and rejected)."""
    max_seq_len: int = 1024
    """Longest prompt + answer in tokens; longer ones are truncated (keeping the start), and a pair whose prompt
    alone fills it is dropped (nothing of its answers would be left to compare)."""

    beta: float = 0.1
    """How far the model may move from the reference: higher keeps it closer (for ``ipo``, the regulariser tau)."""
    loss_type: list[str] | str = "sigmoid"
    """The preference loss, one of :data:`DPO_LOSS_TYPES`; several (comma-separated, e.g. ``sigmoid,sft``)
    are combined with ``loss_weights``. Online DPO takes ``sigmoid`` or ``ipo``."""
    loss_weights: list[float] | str | None = None
    """Weights of the combined losses, one per ``loss_type`` (default: 1 each)."""

    online: bool = False
    """Online DPO: sample two answers per prompt with the current weights, let ``grader`` pick the chosen one,
    and learn from that pair (TRL's experimental ``OnlineDPOTrainer``)."""
    grader: str | dict[str, Any] = ""
    """With ``online``: the grader that ranks the two sampled answers (a name or spec, the same object
    ``fathom eval`` scores with)."""
    max_completion_length: int | None = None
    """With ``online``: most tokens per sampled answer (default 64)."""
    temperature: float | None = None
    """With ``online``: sampling temperature of the two answers (default 0.9, TRL's)."""
    missing_eos_penalty: float | None = None
    """With ``online``: subtracted from the grade of an answer that never ends (default: none)."""

    def __post_init__(self) -> None:
        if isinstance(self.loss_type, str):
            self.loss_type = [t for t in self.loss_type.replace(",", " ").split() if t]
        else:
            self.loss_type = list(self.loss_type)
        if self.loss_weights is not None and isinstance(self.loss_weights, str):
            self.loss_weights = _floats(self.loss_weights)
        super().__post_init__()

    def _problems(self) -> list[Problem]:
        problems = super()._problems()

        def bad(flag: str, message: str) -> None:
            problems.append(Problem(flag, message))

        if not self.beta > 0:
            bad("--beta", f"must be above 0, got {self.beta}")
        if not self.loss_type:
            bad("--loss-type", f"is empty; name at least one of: {', '.join(DPO_LOSS_TYPES)}")
        for name in self.loss_type:
            if name not in DPO_LOSS_TYPES:
                hint = did_you_mean(name, DPO_LOSS_TYPES)
                bad("--loss-type", f"unknown loss {name!r}. {hint + ' ' if hint else ''}"
                                   f"Choose from: {', '.join(DPO_LOSS_TYPES)}")
        if self.loss_weights is not None:
            if not isinstance(self.loss_weights, list) or not all(isinstance(w, (int, float)) for w in
                                                                  self.loss_weights):
                bad("--loss-weights", f"must be numbers, one per --loss-type, got {self.loss_weights!r}")
            elif len(self.loss_weights) != len(self.loss_type):
                bad("--loss-weights", f"gives {len(self.loss_weights)} weight(s) for {len(self.loss_type)} loss "
                                      f"type(s) ({', '.join(self.loss_type)}); give one per --loss-type")
        if self.online:
            problems.extend(self._online_problems())
        else:
            for name in _ONLINE_ONLY:
                if getattr(self, name) not in (None, ""):
                    bad(_flag(name), _OFFLINE_MESSAGES.get(name, "is an online DPO option; add --online, or drop it"))
        return problems

    def _online_problems(self) -> list[Problem]:
        problems = []
        if not self.grader:
            problems.append(Problem("--grader", "is required with --online: name the grader that picks the chosen "
                                                "of the two sampled answers (see `fathom grader check`)"))
        if len(self.loss_type) != 1 or self.loss_type[0] not in ONLINE_DPO_LOSS_TYPES:
            problems.append(Problem("--loss-type", f"online DPO takes one of {', '.join(ONLINE_DPO_LOSS_TYPES)} "
                                                   f"(TRL's OnlineDPOTrainer has no other), got "
                                                   f"{','.join(self.loss_type) or 'none'}"))
        if self.loss_weights is not None:
            problems.append(Problem("--loss-weights", "online DPO takes a single loss; drop --loss-weights"))
        length = self.max_completion_length
        if length is not None and (not isinstance(length, int) or length < 1):
            problems.append(Problem("--max-completion-length", f"must be a whole number of at least 1, got {length!r}"))
        elif self.effective_max_completion_length() >= self.max_seq_len:
            problems.append(Problem("--max-completion-length", f"({self.effective_max_completion_length()}) must be "
                                                               f"below --max-seq-len ({self.max_seq_len}), which "
                                                               f"holds the prompt and the answer"))
        if self.temperature is not None and not self.temperature > 0:
            problems.append(Problem("--temperature", f"must be above 0 (the two answers are sampled), "
                                                     f"got {self.temperature}"))
        if self.missing_eos_penalty is not None and self.missing_eos_penalty < 0:
            problems.append(Problem("--missing-eos-penalty", f"must be 0 or more, got {self.missing_eos_penalty}"))
        return problems

    def effective_learning_rate(self) -> float:
        """The learning rate, defaulting to 5e-5 for LoRA and 1e-6 (TRL's default) for full fine-tuning."""
        if self.learning_rate is not None:
            return self.learning_rate
        return 1e-6 if self.full else 5e-5

    def effective_max_completion_length(self) -> int:
        """Online DPO: most tokens per sampled answer (as given, else 64)."""
        value = self.max_completion_length
        return value if value is not None else int(_ONLINE_DEFAULTS["max_completion_length"])

    def effective_temperature(self) -> float:
        """Online DPO: the sampling temperature (as given, else 0.9)."""
        return self.temperature if self.temperature is not None else float(_ONLINE_DEFAULTS["temperature"])


_OFFLINE_MESSAGES = {
    "grader": "is an online DPO option (the grader ranks two sampled answers); add --online, or drop it",
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _floats(text: str) -> list[float] | str:
    try:
        return [float(w) for w in text.replace(",", " ").split()]
    except ValueError:
        return text
