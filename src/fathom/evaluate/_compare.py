"""Side-by-side comparison of evaluation runs with paired bootstrap differences."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom.datasets import read_jsonl
from fathom.errors import DataError, Problem
from fathom.evaluate._plots import bars_with_ci
from fathom.evaluate._report import html_page, img_tag
from fathom.evaluate._stats import paired_bootstrap

__all__ = ["compare_runs"]


def _load(run: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    summary_path, results_path = run / "summary.json", run / "results.jsonl"
    missing = [str(p) for p in (summary_path, results_path) if not p.exists()]
    if missing:
        raise DataError([Problem(str(run), f"not an evaluation run folder (missing {', '.join(missing)}); "
                                           f"create one with `fathom eval --out {run}`")])
    return json.loads(summary_path.read_text()), {str(r["id"]): r for r in read_jsonl(results_path)}


def compare_runs(runs: Sequence[str | Path], out: str | Path | None = None, *, names: list[str] | None = None,
                 seed: int = 0) -> dict[str, Any]:
    """Compare runs on the examples they share; differences are against the first run.

    Writes ``compare.json``, ``compare.png`` and ``compare.html`` into ``out`` when given.
    """
    paths = [Path(r) for r in runs]
    labels = names or [p.name for p in paths]
    loaded = [_load(p) for p in paths]
    shared = sorted(set.intersection(*(set(rows) for _, rows in loaded)), key=str)
    base_rows = loaded[0][1]
    metrics = ["score", *sorted(set.intersection(*(set(s["components"]) for s, _ in loaded)))]

    def values(rows: dict[str, dict[str, Any]], metric: str) -> list[float]:
        return [rows[i]["score"] if metric == "score" else rows[i]["components"].get(metric, 0.0) for i in shared]

    result: dict[str, Any] = {"runs": {}, "shared_examples": len(shared), "baseline": labels[0]}
    for label, (summary, rows) in zip(labels, loaded, strict=True):
        result["runs"][label] = {
            "model": summary.get("model"),
            "means": {m: sum(values(rows, m)) / max(1, len(shared)) for m in metrics},
            "vs_baseline": {m: paired_bootstrap(values(base_rows, m), values(rows, m), seed=seed) for m in metrics}
            if rows is not base_rows else {},
        }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "compare.json", json.dumps(result, indent=2) + "\n")
        series = {label: {m: {"mean": v, "ci_low": v, "ci_high": v} for m, v in r["means"].items()}
                  for label, r in result["runs"].items()}
        png = bars_with_ci(series, f"Runs compared on {len(shared)} shared examples", "mean")
        (out / "compare.png").write_bytes(png)
        rows_html = "".join(
            f"<tr><td>{html.escape(label)}</td><td>{html.escape(m)}</td><td class=num>{r['means'][m]:.3f}</td>"
            + (f"<td class=num>{d['diff']:+.3f}</td><td class=num>{d['ci_low']:+.3f} – {d['ci_high']:+.3f}</td>"
               if (d := r["vs_baseline"].get(m)) else "<td>baseline</td><td></td>") + "</tr>"
            for label, r in result["runs"].items() for m in metrics)
        body = (img_tag(png, "comparison") + "<table><tr><th>run</th><th>metric</th><th>mean</th>"
                f"<th>diff vs {html.escape(labels[0])}</th><th>95% CI</th></tr>{rows_html}</table>")
        atomic_write_text(out / "compare.html", html_page("Comparison of evaluation runs", body))
    return result
