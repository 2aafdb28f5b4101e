"""Does a GGUF export say what its PyTorch model says? Greedy outputs and next-token log-probabilities, side by side.

Covers: :func:`check_parity`, which runs fixed prompts (:data:`PARITY_PROMPTS`) through a transformers model
and through llama.cpp on its GGUF, and reports how many greedy completions match and the largest difference
in the log-probabilities of the first generated token's top candidates. A float32 or float16 export of a
correct conversion matches on greedy text and differs by well under 0.01 nats; a wrong tensor layout shows
up at once as unrelated text and differences of whole nats. Quantised exports differ by design: their cost
is measured by the task's grader (``fathom eval`` on the GGUF), not here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fathom.backends._protocol import ChatRequest, Sampling

__all__ = ["PARITY_PROMPTS", "ParityReport", "check_parity"]

PARITY_PROMPTS = (
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "List three colours.",
    "Explain rain in one sentence.",
    "Translate 'good morning' into Spanish.",
    "What is 12 plus 30?",
)
"""The fixed prompts of the parity check (short, varied, answerable)."""


@dataclass
class ParityReport:
    """The outcome of :func:`check_parity`."""

    prompts: int
    matched: int
    """Prompts whose greedy completions are identical."""
    max_logprob_diff: float
    """Largest |difference| of the first generated token's top-5 log-probabilities (nats)."""
    mismatches: list[dict[str, str]] = field(default_factory=list)
    """``{"prompt", "pytorch", "llamacpp"}`` for each prompt whose completions differ."""

    @property
    def ok(self) -> bool:
        """All greedy completions identical."""
        return self.matched == self.prompts

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _torch_logprobs(model: Any, ids: list[int]) -> Any:
    import torch

    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids], device=model.device)).logits[0, -1].float()
    return torch.log_softmax(logits, dim=-1)


def check_parity(model: str, gguf: str | Path, *, prompts: tuple[str, ...] = PARITY_PROMPTS, max_tokens: int = 24,
                 adapter: str | None = None) -> ParityReport:
    """Compare a model spec run by transformers (float32, CPU) with a GGUF run by llama.cpp.

    Args:
        model: the PyTorch side: a model spec (a folder, the bundled name, an adapter folder).
        gguf: the GGUF file of the same model (for an adapter: of its base, with ``adapter`` given).
        prompts: user messages to complete greedily.
        max_tokens: tokens per completion.
        adapter: a LoRA adapter to run on ``gguf`` in llama.cpp: its llama.cpp ``.gguf`` file, or its folder
            (converted once).
    """
    from fathom.backends._llamacpp import LlamaCppBackend
    from fathom.backends._transformers import TransformersBackend

    torch_side = TransformersBackend(model, device="cpu", dtype="float32", batch_size=len(prompts))
    llama = LlamaCppBackend(str(gguf), parallel=1, adapters={"checked": adapter} if adapter else None)
    sampling = Sampling(max_tokens=max_tokens)
    requests = [ChatRequest([{"role": "user", "content": p}], sampling=sampling) for p in prompts]
    on_llama = [ChatRequest(r.messages, sampling=sampling, adapter="checked" if adapter else None) for r in requests]
    expected = torch_side.generate(requests)  # an adapter spec runs its own adapter by default
    got = llama.generate(on_llama)
    worst = 0.0
    for request, llama_request in zip(requests, on_llama, strict=True):
        ids = torch_side.prompt_ids(request)
        reference = _torch_logprobs(torch_side.model, ids)
        for token, logprob in llama.first_token_logprobs(llama_request, top=5):
            worst = max(worst, abs(float(reference[token]) - logprob))
    mismatches = [{"prompt": p, "pytorch": e.text, "llamacpp": g.text}
                  for p, e, g in zip(prompts, expected, got, strict=True) if e.text != g.text]
    return ParityReport(prompts=len(prompts), matched=len(prompts) - len(mismatches),
                        max_logprob_diff=round(worst, 6), mismatches=mismatches)
