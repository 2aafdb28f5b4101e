"""lm-evaluation-harness tasks on Fathom models, for ``fathom eval forgetting --lm-eval-task NAME``.

lm-eval is optional (``pip install 'fathom[lm-eval]'``); :func:`require_lm_eval` says how to get it.
:func:`lm_eval_task_problems` checks task names before any model loads; :func:`run_lm_eval` runs the
tasks on one model through :class:`fathom.evaluate._lm_eval_model.FathomLM` and keeps, besides each
task's metrics, every document's metric values, so two models can be compared pair by pair.
Responses are cached in the model's folder (lm-eval's SQLite cache, keyed by the model's weights), so an
interrupted run resumes.

Not covered: the harness's own model classes (``hf``, ``vllm``), its result logging and uploads.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fathom.backends import Backend
from fathom.errors import MissingDependencyError, Problem, did_you_mean

__all__ = ["LM_EVAL_INSTALL", "lm_eval_task_problems", "require_lm_eval", "run_lm_eval"]

LM_EVAL_INSTALL = "pip install 'fathom[lm-eval]'   (or: pip install lm-eval)"


def require_lm_eval() -> None:
    """Raise :class:`MissingDependencyError` naming the install command when lm-eval is missing."""
    try:
        import lm_eval  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("lm-evaluation-harness (the `lm-eval` package, for --lm-eval-task)",
                                     LM_EVAL_INSTALL) from exc


def _task_manager(tasks: Sequence[str], include: Sequence[str | Path]) -> Any:
    """A task index over the include folders alone when they hold every task (fast), else with lm-eval's own."""
    from lm_eval.tasks import TaskManager

    paths = [str(p) for p in include]
    if paths:
        local = TaskManager(include_path=paths, include_defaults=False)
        if all(t in local.all_tasks for t in tasks):
            return local
    return TaskManager(include_path=paths or None)


def lm_eval_task_problems(tasks: Sequence[str], include: Sequence[str | Path] = ()) -> list[Problem]:
    """One problem per task name lm-eval does not know (with a did-you-mean), per missing include folder."""
    require_lm_eval()
    problems = [Problem("--lm-eval-include", f"{p}: no such folder; give a folder of lm-eval task YAML files")
                for p in include if not Path(p).is_dir()]
    if problems:
        return problems
    known = _task_manager(tasks, include).all_tasks
    return [Problem("--lm-eval-task", f"unknown lm-eval task {t!r}. {did_you_mean(t, known)} "
                                      "See `lm-eval ls tasks`, or give --lm-eval-include for a folder of your own.")
            for t in tasks if t not in known]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _metrics(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``{task: {"metric,filter": value}}``, numbers only (stderr and names left out)."""
    out: dict[str, dict[str, float]] = {}
    for task, values in results.items():
        kept = {k: v for k, v in ((k, _number(v)) for k, v in values.items())
                if "," in k and "_stderr," not in k and v is not None}
        out[task] = dict(sorted(kept.items()))
    return out


def _per_document(samples: dict[str, list[dict[str, Any]]],
                  metrics: dict[str, dict[str, float]]) -> dict[str, dict[str, dict[str, float]]]:
    """``{task: {"metric,filter": {doc_id: value}}}`` for the metrics whose per-document values are numbers."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for task, rows in samples.items():
        per: dict[str, dict[str, float]] = {}
        for key in metrics.get(task, {}):
            metric, _, filter_name = key.partition(",")
            values = {str(r["doc_id"]): _number(r.get(metric)) for r in rows if r.get("filter") == filter_name}
            if values and all(v is not None for v in values.values()):
                per[key] = {doc: v for doc, v in values.items() if v is not None}
        out[task] = per
    return out


def run_lm_eval(model: str | Backend, tasks: Sequence[str], out: str | Path, *, identity: str,
                include: Sequence[str | Path] = (), limit: int | None = None, chat: bool = True,
                max_tokens: int = 256, batch_size: int = 16, seed: int = 0,
                backend_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run lm-eval ``tasks`` on one model; return ``{"metrics": {task: {metric: value}}, "documents": ...}``.

    Args:
        model: a model spec or a built backend.
        tasks: lm-eval task (or group) names.
        out: this model's folder (the response cache lives here).
        identity: what the cache key names (the spec plus a signature of its weights).
        include: folders of task YAML files of your own.
        limit: documents per task (all when None).
        chat: let the harness build chats (few-shot examples as turns), rendered by the model's template;
            else each prompt is one user turn.
        max_tokens: new tokens when a task does not set ``max_gen_toks``.
        batch_size: requests per backend call.
        seed: the harness's random seeds (few-shot sampling).
        backend_options: passed to :func:`fathom.backends.load_backend` when ``model`` is a spec.
    """
    require_lm_eval()
    from lm_eval import simple_evaluate

    from fathom.backends import load_backend
    from fathom.evaluate._lm_eval_model import FathomLM

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    backend = load_backend(model, **(backend_options or {})) if isinstance(model, str) else model
    key = hashlib.sha256(f"{identity}|chat={chat}|max_tokens={max_tokens}".encode()).hexdigest()[:16]
    evaluated = simple_evaluate(FathomLM(backend, max_tokens=max_tokens, batch_size=batch_size), tasks=list(tasks),
                                task_manager=_task_manager(tasks, include), limit=limit,
                                use_cache=str(folder / f"cache-{key}"), log_samples=True,
                                apply_chat_template=chat, bootstrap_iters=0, random_seed=seed,
                                numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed)
    metrics = _metrics(evaluated["results"])
    return {"metrics": metrics, "documents": _per_document(evaluated.get("samples") or {}, metrics),
            "n_samples": {t: int(n) for t, v in (evaluated.get("n-samples") or {}).items()
                          if (n := _number(v.get("effective") if isinstance(v, dict) else v)) is not None}}
