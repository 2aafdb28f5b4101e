"""The forgetting check's report: ``forgetting.md`` (tables and verdicts) and ``forgetting.png``.

Both are drawn from the ``forgetting.json`` object alone (:func:`fathom.evaluate.forgetting_check`
returns it), so a report can be rebuilt from the file. Not covered: computing the figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_bytes, atomic_write_text

__all__ = ["render_markdown", "write_report"]


def _points(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _interval(diff: dict[str, Any]) -> str:
    if not diff.get("n"):
        return "–"
    return f"{100 * diff['mean']:+.1f} [{100 * diff['low']:+.1f}, {100 * diff['high']:+.1f}]"


def _score_table(result: dict[str, Any]) -> list[str]:
    names, base = list(result["models"]), result["base"]
    tuned = [n for n in names if n != base]
    header = ["category", "n", *names, *(f"{n} − {base} (95% CI)" for n in tuned)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    counts = result["set"]["per_category"]
    models, diffs = result["models"], result["differences"]
    row = ["**overall**", str(result["set"]["n"]), *(_points(models[n]["score"]) for n in names),
           *(_interval(diffs[f"{n}-{base}"]) for n in tuned)]
    lines.append("| " + " | ".join(row) + " |")
    for cat, n in counts.items():
        row = [cat, str(n), *(_points(models[m]["per_category"].get(cat)) for m in names),
               *(_interval(diffs[f"{m}-{base}"]["per_category"].get(cat, {})) for m in tuned)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _lm_eval_table(lm_eval: dict[str, Any], base: str) -> list[str]:
    names = list(lm_eval["models"])
    tuned = [n for n in names if n != base]
    header = ["task", "metric", *names, *(f"{n} − {base} (95% CI)" for n in tuned)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for task, metrics in lm_eval["models"][base].items():
        for metric in metrics:
            diffs = [lm_eval["differences"][f"{n}-{base}"].get(task, {}).get(metric, {}) for n in tuned]
            row = [task, metric, *(f"{lm_eval['models'][n].get(task, {}).get(metric, float('nan')):.4f}"
                                   for n in names), *(_interval(d) for d in diffs)]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def render_markdown(result: dict[str, Any]) -> str:
    """The report: what was measured, the score table (points), the verdicts, lm-eval tasks if any."""
    s, settings = result["set"], result["settings"]
    sizes = ", ".join(f"{c} {n}" for c, n in s["per_category"].items())
    lines = ["# Forgetting check", "",
             f"Set: {s['name']} ({s['n']} examples: {sizes}); greedy decoding, at most {settings['max_tokens']} "
             f"new tokens; scores in points (100 = every answer right); intervals are paired-bootstrap 95% "
             f"(seed {settings['seed']}).", "", *_score_table(result), "", "## Verdicts", ""]
    lines += [f"- {key}: {text}" for key, text in result["verdicts"].items()]
    if "lm_eval" in result:
        lines += ["", "## lm-evaluation-harness", "", *_lm_eval_table(result["lm_eval"], result["base"])]
    return "\n".join(lines) + "\n"


def write_report(out: Path, result: dict[str, Any]) -> None:
    """Write ``out/forgetting.md`` and ``out/forgetting.png`` (scores per category, one bar per model)."""
    from fathom.evaluate._plots import bars_with_ci

    atomic_write_text(out / "forgetting.md", render_markdown(result))
    series = {}
    for name, model in result["models"].items():
        values = {"overall": {"mean": model["score"], "ci_low": model["ci_low"], "ci_high": model["ci_high"]}}
        values |= {cat: {"mean": v, "ci_low": model["per_category_ci"][cat][0],
                         "ci_high": model["per_category_ci"][cat][1]} for cat, v in model["per_category"].items()}
        series[name] = values
    png = bars_with_ci(series, f"General ability on {result['set']['name']} ({result['set']['n']} examples)",
                       "score (95% CI)")
    atomic_write_bytes(out / "forgetting.png", png)
