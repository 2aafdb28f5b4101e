"""The Shipping Forecast dataset builder, as a recipe stage (``uses: shipping_data``).

From model runs to chat examples, one per (run, sea area):

* **runs**: synthetic ones (a date range, two runs a day, written by the synthetic NWP generator)
  or a folder of the user's own NetCDF runs (``nwp_dir``) with matching reference bulletins
  (``bulletins``: JSON Lines in the layout of the real-bulletin archive, each record naming its
  ``run`` folder);
* **prompt**: the area's compact statistics (:mod:`~fathom.domains.shipping.lm._prompt`);
* **target**: the area's forecast text ("Wind. Sea state. Weather. Visibility."): on synthetic runs
  the rule-based writer's, with real bulletins the forecasters';
* **reference**: the text and its parsed fields, for the shipping grader;
* **split by date**: the last ``test_days`` days are the test set, the ``val_days`` before them
  validation, the rest training; all runs of one day share a split, so no day is in two.
* **prompt files**: ``train_prompts.jsonl`` and ``val_prompts.jsonl`` hold the same rows as
  ``train.jsonl`` and ``val.jsonl`` without the final assistant turn (``reference`` and ``meta``
  kept), for RFT, whose trainer generates the answers itself and refuses rows that end in one.

Statistics are cached per run under the stage folder, so an interrupted build resumes.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

from fathom.datasets import prompt_messages, read_jsonl, write_jsonl
from fathom.domains.shipping.areas import sea_areas
from fathom.domains.shipping.lm._prompt import area_messages
from fathom.errors import ConfigError, DomainError, Problem
from fathom.recipes import InputPath, StageContext

__all__ = ["build_dataset_stage", "dataset_argument_problems", "examples_from_stats"]


def _run_day(run: str) -> str:
    """``20250101T12Z`` -> ``2025-01-01``."""
    return f"{run[:4]}-{run[4:6]}-{run[6:8]}"


def examples_from_stats(run: str, stats: dict[str, Any],
                        references: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One example per sea area of a run. Without ``references`` the writer supplies the targets."""
    from fathom.domains.shipping.parse import parse_area_text
    from fathom.domains.shipping.writer import write_area

    examples = []
    for name, area in stats["areas"].items():
        if references is not None:
            if name not in references:
                continue
            text = references[name]
            wind, sea, weather, vis = (text.split(". ") + ["", "", "", ""])[:4]
            fields = parse_area_text(wind, sea, weather, vis, names=[name]).with_names(()).to_dict()
        else:
            written = write_area(area)
            text, fields = written.body, written.fields.to_dict()
        examples.append({
            "messages": area_messages(name, area) + [{"role": "assistant", "content": text}],
            "reference": {"text": text, "fields": fields, "area": name, "run": run},
            "meta": {"id": f"{run}/{name}", "source": _run_day(run), "run": run, "area": name},
        })
    return examples


def _references(path: Path) -> dict[str, dict[str, str]]:
    """Run folder name -> area -> reference text, from bulletin records with a ``run`` key."""
    canonical = {a.name.lower(): a.name for a in sea_areas()}
    for a in sea_areas():
        canonical.update({alias.lower(): a.name for alias in a.aliases})
    out: dict[str, dict[str, str]] = {}
    for line, record in enumerate(read_jsonl(path), 1):
        if "run" not in record:
            raise DomainError(f"{path}:{line}: a reference bulletin needs a 'run' key naming its run folder "
                              f"(e.g. \"20250101T00Z\"); got keys {sorted(record)}.")
        texts = out.setdefault(str(record["run"]), {})
        for entry in record.get("areas") or []:
            text = ". ".join(str(entry.get(k, "")).strip().rstrip(".")
                             for k in ("wind", "sea_state", "weather", "visibility")) + "."
            for name in entry.get("names") or []:
                if name.lower() in canonical:
                    texts[canonical[name.lower()]] = text
    return out


def _split_by_day(examples: list[dict[str, Any]], val_days: int, test_days: int) -> dict[str, list[dict[str, Any]]]:
    days = sorted({e["meta"]["source"] for e in examples})
    if len(days) < val_days + test_days + 1:
        raise DomainError(f"{len(days)} days of runs cannot make {test_days} test day(s), {val_days} validation "
                          f"day(s) and at least one training day; use more days "
                          f"(e.g. days: {val_days + test_days + 4}).")
    test = set(days[len(days) - test_days:])
    val = set(days[len(days) - test_days - val_days:len(days) - test_days])
    split: dict[str, list[dict[str, Any]]] = {"train": [], "val": [], "test": []}
    for e in examples:
        day = e["meta"]["source"]
        split["test" if day in test else "val" if day in val else "train"].append(e)
    return split


def dataset_argument_problems(args: dict[str, Any]) -> list[Problem]:
    """Range and cross-field checks of the ``shipping_data`` arguments in ``args`` (absent ones: unknown yet).

    >>> [p.where for p in dataset_argument_problems({"days": 3, "val_days": 1, "test_days": 2, "nwp_dir": None})]
    ['test_days']
    >>> dataset_argument_problems({"days": 4, "val_days": 1, "test_days": 2, "nwp_dir": None})
    []
    """
    problems = [Problem(name, f"must be a whole number of at least {low}, got {args[name]!r}")
                for name, low in (("val_days", 0), ("test_days", 1), ("max_train", 1), ("max_val", 0),
                                  ("fewshot", 0), ("workers", 1))
                if isinstance(args.get(name), int) and args[name] < low]
    if ("nwp_dir" in args and "bulletins" in args) and (args["nwp_dir"] is None) != (args["bulletins"] is None):
        problems.append(Problem("bulletins" if args["bulletins"] is None else "nwp_dir",
                                "nwp_dir and bulletins go together: your own runs need your own reference "
                                "bulletins (without both, synthetic runs are generated and the rule-based writer "
                                "gives the targets)"))
    if "nwp_dir" in args and args["nwp_dir"] is None:
        problems += _synthetic_run_problems(args)
    return problems


def _synthetic_run_problems(args: dict[str, Any]) -> list[Problem]:
    """``start``, ``days`` and ``runs_per_day`` plan synthetic runs; the held-out days must leave training days."""
    problems = []
    try:
        start = datetime.fromisoformat(str(args.get("start", "2025-01-01")))
    except ValueError:
        problems.append(Problem("start", f"must be an ISO date such as \"2025-01-01\", got {args['start']!r}"))
        start = datetime(2025, 1, 1)
    if "days" in args:
        problems += _plan_problems("days", start, args["days"], 1)
    if "runs_per_day" in args:
        problems += _plan_problems("runs_per_day", start, 1, args["runs_per_day"])
    days, val, test = args.get("days"), args.get("val_days"), args.get("test_days")
    if not (isinstance(days, int) and isinstance(val, int) and isinstance(test, int)) or min(days, val + 1, test) < 1:
        return problems  # each of them is checked on its own
    if days < val + test + 1:
        problems.append(Problem("test_days", f"{test} test day(s) and {val} validation day(s) leave no training day "
                                             f"out of days: {days}; lower test_days or val_days, or raise days to "
                                             f"at least {val + test + 1}"))
    return problems


def _plan_problems(name: str, start: datetime, days: Any, runs_per_day: Any) -> list[Problem]:
    from fathom.domains.shipping.nwp import run_starts

    try:
        run_starts(start, days, runs_per_day)  # the one home of the rules for days and runs_per_day
    except DomainError as exc:
        return [Problem(name, str(exc))]
    return []


def build_dataset_stage(ctx: StageContext, start: str = "2025-01-01", days: int = 14, runs_per_day: int = 2,
                        resolution: float = 0.25, val_days: int = 1, test_days: int = 2,
                        max_train: int | None = None, max_val: int | None = 62, fewshot: int = 3,
                        nwp_dir: InputPath | None = None, bulletins: InputPath | None = None,
                        workers: int = 1) -> dict[str, Any]:
    """Build train/val/test examples (and train/val prompt files) from model runs; returns their paths and sizes.

    Args:
        start: first day of synthetic runs (ISO date).
        days: number of days of synthetic runs.
        runs_per_day: synthetic runs per day (2: 00Z and 12Z).
        resolution: synthetic grid spacing in degrees.
        val_days: days held out for validation (just before the test days).
        test_days: the latest days, held out for testing.
        max_train: keep at most this many training examples (a seeded sample), or all.
        max_val: keep at most this many validation examples (validation loss costs time).
        fewshot: how many training examples go to ``fewshot.jsonl`` (for few-shot baselines).
        nwp_dir: use the runs in this folder instead of synthetic ones (needs ``bulletins``).
        bulletins: reference bulletins for ``nwp_dir`` runs (JSON Lines with a ``run`` key).
        workers: processes computing statistics (1: in this process, which is fastest for a few dozen runs).
    """
    problems = dataset_argument_problems(locals())  # first statement: locals() is exactly the arguments
    if problems:
        raise ConfigError(problems, title="invalid shipping_data arguments")
    from fathom.domains.shipping.stats import compute_stats_many, find_runs, run_name

    if nwp_dir is None:
        from fathom.domains.shipping.nwp import write_runs

        run_dirs = write_runs(datetime.fromisoformat(start), days, ctx.out_dir / "nwp", seed=ctx.seed,
                              resolution=resolution, runs_per_day=runs_per_day, progress=not ctx.quiet)
        runs = [[*sorted(d.glob("*.nc"))] for d in run_dirs]
        references = None
    else:
        runs = find_runs([nwp_dir])
        references = _references(Path(str(bulletins)))
    names = [run_name(r) for r in runs]
    all_stats = compute_stats_many(runs, scheduler="synchronous" if workers <= 1 else "processes",
                                   workers=workers, out_dir=ctx.out_dir / "stats", progress=not ctx.quiet)
    examples: list[dict[str, Any]] = []
    for name, stats in zip(names, all_stats, strict=True):
        refs = None if references is None else references.get(name, {})
        examples += examples_from_stats(name, stats, refs)
    split = _split_by_day(examples, val_days, test_days)
    rng = random.Random(ctx.seed)
    if max_train is not None and len(split["train"]) > max_train:
        split["train"] = sorted(rng.sample(split["train"], max_train), key=lambda e: e["meta"]["id"])
    if max_val is not None and len(split["val"]) > max_val:
        split["val"] = sorted(rng.sample(split["val"], max_val), key=lambda e: e["meta"]["id"])
    shots = rng.sample(split["train"], min(fewshot, len(split["train"])))
    out: dict[str, Any] = {}
    for key, rows in {**split, "fewshot": shots}.items():
        out[key] = str(write_jsonl(ctx.out_dir / f"{key}.jsonl", rows))
    for key in ("train", "val"):  # for RFT, which generates the answer itself
        prompts = [{**row, "messages": prompt_messages(row)} for row in split[key]]
        out[f"{key}_prompts"] = str(write_jsonl(ctx.out_dir / f"{key}_prompts.jsonl", prompts))
    out["sizes"] = {k: len(v) for k, v in split.items()}
    out["days"] = {k: sorted({e["meta"]["source"] for e in v}) for k, v in split.items()}
    out["runs"] = len(runs)
    if not ctx.quiet:
        from rich.console import Console

        Console(stderr=True).print(f"shipping data: {len(runs)} runs -> train {out['sizes']['train']}, "
                                   f"val {out['sizes']['val']}, test {out['sizes']['test']} examples "
                                   f"(test days {', '.join(out['days']['test'])})")
    (ctx.out_dir / "sizes.json").write_text(json.dumps({"sizes": out["sizes"], "days": out["days"]}, indent=2) + "\n")
    return out


build_dataset_stage.outputs = (  # type: ignore[attr-defined]
    "train", "val", "test", "fewshot", "train_prompts", "val_prompts", "sizes", "days", "runs")
build_dataset_stage.check_args = dataset_argument_problems  # type: ignore[attr-defined]
