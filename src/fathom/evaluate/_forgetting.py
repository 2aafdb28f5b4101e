"""The forgetting check: did fine-tuning cost a model its general ability?

``forgetting_check(base, {"sft": tuned}, out)`` evaluates the base model and each tuned one on the same
general-ability set (the shipped :func:`~fathom.evaluate.general_set`, or your own file) with the
ordinary evaluation runner, greedily, and writes into ``out``:

* ``runs/<name>/``: each model's evaluation run folder (re-running reuses its completion cache);
* ``forgetting.json``: per model the overall score and the score per category; per tuned model the
  paired difference from the base with a paired-bootstrap 95% interval (overall and per category) and
  a verdict; the same for lm-eval tasks when any ran (``lm_eval/<name>/`` holds their caches);
* ``forgetting.md`` (the table and verdicts) and ``forgetting.png`` (scores per category).

A difference is *measurable* when its interval excludes zero. Scores are shares in [0, 1]; the
verdicts speak in points (hundredths).
Not covered: the set's questions (:mod:`fathom.evaluate._general_set`), drawing conclusions from a
single run (sampling noise beyond the bootstrap, prompt sensitivity).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text, check_writable, write_manifest
from fathom.backends import Backend, Sampling
from fathom.datasets import read_jsonl
from fathom.errors import ConfigError, FathomError, Problem
from fathom.evaluate._general_set import GENERAL_SET, category_of, describe_set, general_set_path
from fathom.evaluate._run import EvalConfig, evaluate, example_id, model_identity
from fathom.evaluate._stats import bootstrap_mean, paired_bootstrap

__all__ = ["forgetting_check", "verdict"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ModelArg = str | Backend


def verdict(diff: Mapping[str, Any]) -> str:
    """One line for a paired difference ``{"mean", "low", "high"}`` (shares), in points.

    >>> verdict({"mean": -0.123, "low": -0.18, "high": -0.065})
    'forgetting: -12.3 points [-18.0, -6.5], measurable'
    >>> verdict({"mean": -0.01, "low": -0.04, "high": 0.02})
    'no measurable forgetting: -1.0 points [-4.0, +2.0]'
    """
    mean, low, high = (100 * float(diff[k]) for k in ("mean", "low", "high"))
    figures = f"{mean:+.1f} points [{low:+.1f}, {high:+.1f}]"
    if high < 0:
        return f"forgetting: {figures}, measurable"
    if low > 0:
        return f"no forgetting: {figures}, measurably better"
    return f"no measurable forgetting: {figures}"


def _difference(base: Sequence[float], tuned: Sequence[float], seed: int) -> dict[str, Any]:
    d = paired_bootstrap(base, tuned, seed=seed)
    out = {"mean": d["diff"], "low": d["ci_low"], "high": d["ci_high"], "p_tuned_better": d["p_b_better"],
           "n": d["n"]}
    if d["n"]:
        out["outcome"] = "forgetting" if d["ci_high"] < 0 else "improvement" if d["ci_low"] > 0 else "none"
    return out


def _problems(base: tuple[str, ModelArg], tuned: Mapping[str, ModelArg], data: str | Path | None,
              max_tokens: int, limit: int | None, per_category: int | None) -> list[Problem]:
    from fathom.models import resolve_model

    problems = []
    if not tuned:
        problems.append(Problem("--tuned", "no tuned model; give at least one (NAME=SPEC or a spec)"))
    names = [base[0], *tuned]
    for name in dict.fromkeys(names):
        if not _NAME.match(name):
            problems.append(Problem(name, "a model name is 1-64 letters, digits, '.', '_' or '-' (it names a "
                                          "folder); write NAME=SPEC to choose one"))
        if names.count(name) > 1:
            problems.append(Problem(name, f"{names.count(name)} models have this name; give each its own (NAME=SPEC)"))
    for name, model in [base, *tuned.items()]:
        if isinstance(model, str):
            try:
                resolve_model(model)
            except FathomError as exc:
                problems.append(Problem(name, str(exc)))
    if data is not None and not Path(data).is_file():
        problems.append(Problem("--data", f"{data}: no such file; give a JSONL file of Fathom examples"))
    if max_tokens < 1:
        problems.append(Problem("--max-tokens", f"must be at least 1, got {max_tokens}"))
    for flag, value in (("--limit", limit), ("--per-category", per_category)):
        if value is not None and value < 1:
            problems.append(Problem(flag, f"must be at least 1, got {value}"))
    return problems


def _select(examples: list[dict[str, Any]], limit: int | None, per_category: int | None) -> list[dict[str, Any]]:
    """The first ``per_category`` examples of each category (all when None), then the first ``limit`` of those."""
    if per_category is not None:
        seen: dict[str, int] = {}
        kept = []
        for example in examples:
            category = category_of(example)
            seen[category] = seen.get(category, 0) + 1
            if seen[category] <= per_category:
                kept.append(example)
        examples = kept
    return examples[:limit] if limit is not None else examples


@contextlib.contextmanager
def _data_file(data: str | Path | None) -> Iterator[Path]:
    if data is not None:
        yield Path(data)
    else:
        with general_set_path() as path:
            yield path


def _scores(run: Path, examples: list[dict[str, Any]]) -> dict[str, tuple[str, float]]:
    """Example id -> (category, score), from a run folder's ``results.jsonl``."""
    category = {example_id(e, i): category_of(e) for i, e in enumerate(examples)}
    return {str(r["id"]): (category.get(str(r["id"]), "uncategorised"), float(r["score"]))
            for r in read_jsonl(run / "results.jsonl")}


def _model_entry(model: ModelArg, run: Path, scores: dict[str, tuple[str, float]], summary: Any,
                 seed: int) -> dict[str, Any]:
    per: dict[str, list[float]] = {}
    for cat, score in scores.values():
        per.setdefault(cat, []).append(score)
    estimates = {c: bootstrap_mean(v, seed=seed) for c, v in sorted(per.items())}
    return {"model": model if isinstance(model, str) else model.model_name, "score": summary.score.mean,
            "ci_low": summary.score.ci_low, "ci_high": summary.score.ci_high, "n": summary.n,
            "per_category": {c: e["mean"] for c, e in estimates.items()},
            "per_category_ci": {c: [e["ci_low"], e["ci_high"]] for c, e in estimates.items()}, "run": str(run)}


def _paired(base: dict[str, tuple[str, float]], tuned: dict[str, tuple[str, float]], seed: int) -> dict[str, Any]:
    shared = sorted(set(base) & set(tuned))
    diff = _difference([base[i][1] for i in shared], [tuned[i][1] for i in shared], seed)
    by_category: dict[str, list[str]] = {}
    for i in shared:
        by_category.setdefault(base[i][0], []).append(i)
    diff["per_category"] = {cat: _difference([base[i][1] for i in ids], [tuned[i][1] for i in ids], seed)
                            for cat, ids in sorted(by_category.items())}
    diff["verdict"] = verdict(diff) if diff["n"] else "no shared examples"
    return diff


def forgetting_check(base: ModelArg, tuned: Mapping[str, ModelArg], out: str | Path, *, base_name: str = "base",
                     data: str | Path | None = None, grader: str | dict[str, Any] = "forgetting",
                     max_tokens: int = 64, batch_size: int = 16, limit: int | None = None,
                     per_category: int | None = None, seed: int = 0,
                     backend_options: dict[str, Any] | None = None, lm_eval_tasks: Sequence[str] = (),
                     lm_eval_include: Sequence[str | Path] = (), lm_eval_limit: int | None = None,
                     lm_eval_chat: bool = True, quiet: bool = False) -> dict[str, Any]:
    """Compare a base model and tuned models on a general-ability set; write ``out/forgetting.json`` and a report.

    Args:
        base: the model before fine-tuning: a spec (``smollm2-135m``, a folder, a URL) or a built backend.
        tuned: name -> fine-tuned model (spec or backend); each is compared with ``base``.
        out: the output folder (re-use it to resume: finished generations are cached).
        base_name: the base model's name in the report and in difference keys (``"sft-base"``).
        data: a JSONL file of Fathom examples (default: the shipped set); ``meta.category`` groups them.
        grader: the grader spec (default ``forgetting``: each example's ``meta.check``).
        max_tokens: new tokens per answer (greedy decoding).
        batch_size: requests per backend call.
        limit: evaluate only the first N examples.
        per_category: evaluate only the first N examples of each category (a quick, balanced subset).
        seed: the bootstrap's (and lm-eval's) seed.
        backend_options: passed to :func:`fathom.backends.load_backend` for specs (``backend``,
            ``parallel``, ``gguf_type``...), the same for every model.
        lm_eval_tasks: lm-evaluation-harness tasks to run on every model too (needs lm-eval).
        lm_eval_include: folders of lm-eval task YAML files of your own.
        lm_eval_limit: documents per lm-eval task.
        lm_eval_chat: let lm-eval build chats rendered with each model's template (else one user turn).
        quiet: no progress bars.

    Returns:
        The ``forgetting.json`` object: ``set``, ``base``, ``models``, ``differences``, ``verdicts``,
        ``settings`` and, with lm-eval tasks, ``lm_eval``.

    Raises:
        ConfigError: every problem with the models, names and settings at once, before anything runs.
        MissingDependencyError: lm-eval tasks were asked for and lm-eval is not installed.
    """
    from fathom.evaluate._forgetting_report import write_report
    from fathom.graders import build_grader

    models: dict[str, ModelArg] = {base_name: base, **tuned}
    problems = _problems((base_name, base), tuned, data, max_tokens, limit, per_category)
    if lm_eval_tasks:
        from fathom.evaluate._lm_eval import lm_eval_task_problems

        problems += lm_eval_task_problems(list(lm_eval_tasks), list(lm_eval_include))
    if problems:
        raise ConfigError(problems, title="forgetting check: invalid input")
    out = Path(out)
    check_writable(out / "forgetting.json")
    grade = build_grader(grader)
    config = EvalConfig(sampling=Sampling(max_tokens=max_tokens, temperature=0.0), batch_size=batch_size)
    result: dict[str, Any] = {"set": {}, "base": base_name, "models": {}, "differences": {}, "verdicts": {}}
    scores: dict[str, dict[str, tuple[str, float]]] = {}
    with _data_file(data) as path:
        examples = _select(read_jsonl(path), limit, per_category)
        result["set"] = describe_set(examples, GENERAL_SET if data is None else Path(data).name, path)
    for name, model in models.items():
        run = out / "runs" / name
        summary = evaluate(model, examples, grade, run, config=config, grader_spec=grader, quiet=quiet,
                           backend_options=backend_options)
        scores[name] = _scores(run, examples)
        result["models"][name] = _model_entry(model, run, scores[name], summary, seed)
    for name in tuned:
        key = f"{name}-{base_name}"
        result["differences"][key] = _paired(scores[base_name], scores[name], seed)
        result["verdicts"][key] = result["differences"][key]["verdict"]
    result["settings"] = {"max_tokens": max_tokens, "temperature": 0.0, "limit": limit,
                          "per_category": per_category, "seed": seed,
                          "grader": grader, "backend_options": backend_options or {}}
    if lm_eval_tasks:
        result["lm_eval"] = _lm_eval_all(models, base_name, out, list(lm_eval_tasks), list(lm_eval_include),
                                         lm_eval_limit, lm_eval_chat, max_tokens, batch_size, seed, backend_options)
    atomic_write_text(out / "forgetting.json", json.dumps(result, indent=2) + "\n")
    write_report(out, result)
    write_manifest(out, kind="forgetting", config={"models": {n: result["models"][n]["model"] for n in models},
                                                   **result["settings"]},
                   inputs={"data": data} if data is not None else None)
    return result


def _lm_eval_all(models: dict[str, ModelArg], base_name: str, out: Path, tasks: list[str], include: list[str | Path],
                 limit: int | None, chat: bool, max_tokens: int, batch_size: int, seed: int,
                 backend_options: dict[str, Any] | None) -> dict[str, Any]:
    """Every model on the lm-eval tasks, and each tuned model's paired differences from the base per metric."""
    from fathom.evaluate._lm_eval import run_lm_eval

    runs = {}
    for name, model in models.items():
        identity = model_identity(model) if isinstance(model, str) else model.model_name
        if isinstance(model, str) and backend_options and backend_options.get("backend"):
            identity += f"|backend={backend_options['backend']}"
        runs[name] = run_lm_eval(model, tasks, out / "lm_eval" / name, identity=identity, include=include,
                                 limit=limit, chat=chat, max_tokens=max_tokens, batch_size=batch_size, seed=seed,
                                 backend_options=backend_options)
    differences: dict[str, dict[str, dict[str, Any]]] = {}
    base_docs = runs[base_name]["documents"]
    for name in (n for n in models if n != base_name):
        per_task: dict[str, dict[str, Any]] = {}
        for task, metrics in runs[name]["documents"].items():
            for metric, values in metrics.items():
                reference = base_docs.get(task, {}).get(metric, {})
                shared = sorted(set(values) & set(reference))
                if shared:
                    per_task.setdefault(task, {})[metric] = _difference(
                        [reference[d] for d in shared], [values[d] for d in shared], seed)
        differences[f"{name}-{base_name}"] = per_task
    return {"tasks": tasks, "models": {n: r["metrics"] for n, r in runs.items()},
            "n_samples": runs[base_name]["n_samples"], "differences": differences}
