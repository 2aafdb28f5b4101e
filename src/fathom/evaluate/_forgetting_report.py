"""The forgetting check's report: ``forgetting.md`` (tables and verdicts) and ``forgetting.png``.

Both are drawn from the ``forgetting.json`` object alone (:func:`fathom.evaluate.forgetting_check`
returns it), so a report can be rebuilt from the file; so are the figures a recipe report (shipping,
factory) carries: :func:`forgetting_summary` (for its ``summary.json``) and :func:`forgetting_html`.
Not covered: computing the figures.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_bytes, atomic_write_text
from fathom.errors import DataError, Problem

__all__ = ["forgetting_html", "forgetting_summary", "render_markdown", "write_report"]


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


def forgetting_summary(path: str | Path) -> dict[str, Any]:
    """A recipe report's ``forgetting`` entry from a ``forgetting.json``: ``base``, ``n``, ``scores`` (per model),
    ``differences`` (``"NAME-base"`` → ``mean``, ``low``, ``high``) and ``verdicts``.

    Raises:
        DataError: the file is missing or is not a forgetting check's output.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError([Problem(str(path), "does not exist; pass the forgetting stage's output, "
                                 "e.g. forgetting: ${forgetting.forgetting}")], title="forgetting figures")
    found = json.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in ("base", "models", "differences", "verdicts") if k not in found]
    if missing:
        raise DataError([Problem(str(path), f"lacks {', '.join(missing)}; give the forgetting.json that a "
                                 "forgetting check wrote (fathom eval forgetting --out DIR)")],
                        title="forgetting figures")
    return {"base": found["base"], "n": found.get("set", {}).get("n"),
            "scores": {name: m["score"] for name, m in found["models"].items()},
            "differences": {k: {key: d[key] for key in ("mean", "low", "high")}
                            for k, d in found["differences"].items()},
            "verdicts": found["verdicts"]}


def forgetting_html(summary: dict[str, Any], figure: str | Path | None = None) -> str:
    """An HTML section for a report: each model's general-set score, its difference from the base with the
    interval, the verdict, and ``figure`` (``forgetting.png``) when it exists."""
    from fathom.evaluate._report import img_tag

    base = summary["base"]
    rows = []
    for name, score in summary["scores"].items():
        key = f"{name}-{base}"
        d = summary["differences"].get(key)
        cells = (f"<td class=num>{100 * d['mean']:+.1f} [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]</td>"
                 f"<td>{html.escape(summary['verdicts'][key])}</td>" if d else "<td></td><td></td>")
        rows.append(f"<tr><td>{html.escape(name)}</td><td class=num>{score:.1%}</td>{cells}</tr>")
    out = ("<h2>Forgetting check (general-ability set)</h2><table><tr><th>model</th><th>score</th>"
           f"<th>vs {html.escape(base)} (points, 95% CI)</th><th>verdict</th></tr>{''.join(rows)}</table>")
    if figure is not None and Path(figure).is_file():
        out += img_tag(Path(figure).read_bytes(), "forgetting check")
    return out
