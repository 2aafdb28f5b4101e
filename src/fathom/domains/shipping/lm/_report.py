"""The Shipping Forecast recipe report (``uses: shipping_report``): HTML, PNG and summary.json.

Reads the evaluation run folders of the models compared (base, fine-tuned, ...), the fine-tuning
run's metrics and the recipe's stage manifests, and writes into the stage folder:

* ``summary.json``: ``{"models": {name: {"tolerant", "strict", "per_field": {field: {"tolerant",
  "strict"}}, "n", "parse_rate"}}, "timings_s": {stage: seconds, ..., "total": ...}, "data": ...}``;
* ``per_field.png``: per-field accuracy, tolerant and strict, for every model;
* ``report.html``: the same figures, the loss curve, timings, and one test run's area forecasts
  side by side (reference and each model) with the fields that missed.

Per-field accuracies count an output that does not parse as a miss on every field, so they agree
with the grader's score (a failed ``parses`` gate scores 0).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom.datasets import read_jsonl
from fathom.domains.shipping.score import COMPONENTS
from fathom.errors import DomainError
from fathom.recipes import StageContext

__all__ = ["model_accuracy", "shipping_report_stage"]

FIELD_NAMES = list(COMPONENTS.values())


def model_accuracy(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Tolerant and strict accuracy, overall and per field, from an evaluation's ``results.jsonl`` rows."""
    n = len(results)
    if n == 0:
        raise DomainError("an evaluation with no results cannot be reported; check the test set is not empty.")
    ok = [bool(r["gates"].get("parses", True)) for r in results]
    per_field: dict[str, dict[str, float]] = {}
    for field in FIELD_NAMES:
        tol = sum(r["components"].get(field, 0.0) for r, good in zip(results, ok, strict=True) if good) / n
        strict = sum(r["components"].get(f"strict_{field}", 0.0)
                     for r, good in zip(results, ok, strict=True) if good) / n
        per_field[field] = {"tolerant": round(tol, 4), "strict": round(strict, 4)}
    return {"tolerant": round(sum(v["tolerant"] for v in per_field.values()) / len(per_field), 4),
            "strict": round(sum(v["strict"] for v in per_field.values()) / len(per_field), 4),
            "per_field": per_field, "n": n, "parse_rate": round(sum(ok) / n, 4)}


def _per_field_png(models: dict[str, dict[str, Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from fathom.evaluate import png_bytes

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    x = np.arange(len(FIELD_NAMES) + 1)
    width = 0.8 / max(1, len(models))
    for ax, mode in zip(axes, ("tolerant", "strict"), strict=True):
        for i, (name, m) in enumerate(models.items()):
            values = [m["per_field"][f][mode] for f in FIELD_NAMES] + [m[mode]]
            bars = ax.bar(x + i * width, values, width, label=name)
            ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=7, padding=1)
        ax.set_xticks(x + width * (len(models) - 1) / 2, [f.replace("_", " ") for f in FIELD_NAMES] + ["overall"],
                      rotation=20, fontsize=8)
        ax.set_ylim(0, 1.08)
        ax.set_title(f"{mode} field accuracy")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share of area forecasts")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="upper center", ncol=len(labels), frameon=False)
    fig.subplots_adjust(top=0.82)
    return png_bytes(fig)


def _timings(run_dir: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for manifest in sorted(run_dir.glob("*/manifest.json")):
        data = json.loads(manifest.read_text())
        if data.get("status") == "complete" and "seconds" in data:
            out[manifest.parent.name] = float(data["seconds"])
    out["total"] = round(sum(out.values()), 1)
    return out


def _side_by_side(names: list[str], results: list[list[dict[str, Any]]], limit: int = 31) -> str:
    by_id = [{r["id"]: r for r in rows} for rows in results]
    ids = [r["id"] for r in results[0]]
    first_run = ids[0].split("/")[0] if ids else ""
    chosen = [i for i in ids if i.split("/")[0] == first_run][:limit]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for i in chosen:
        ref = by_id[0][i].get("reference") or {}
        cells = []
        for rows_by_id in by_id:
            r = rows_by_id.get(i)
            if r is None:
                cells.append("<td>–</td>")
                continue
            text = (r["completion"] or {}).get("content") or ""
            cells.append(f"<td>{html.escape(text)}<br><span class=muted>{r['score']:.2f} "
                         f"{html.escape(r.get('reason') or '')}</span></td>")
        rows.append(f"<tr><td><b>{html.escape(str(ref.get('area', i)))}</b></td>"
                    f"<td>{html.escape(str(ref.get('text', '')))}</td>{''.join(cells)}</tr>")
    return (f"<h2>Run {html.escape(first_run)}: area forecasts side by side</h2>"
            f"<table><tr><th>area</th><th>reference</th>{head}</tr>{''.join(rows)}</table>")


def shipping_report_stage(ctx: StageContext, evals: list[str], names: list[str] | None = None,
                          sft: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the recipe report from evaluation folders (the first is the baseline) and an SFT run folder.

    Args:
        evals: evaluation run folders (each with ``results.jsonl``), baseline first.
        names: a display name per evaluation (default: the folder names).
        sft: the fine-tuning stage folder (its ``model/metrics.jsonl`` and loss-curve PNG are shown).
        data: the dataset stage's outputs (split sizes and days are shown).
    """
    from fathom.evaluate import html_page, img_tag

    labels = names or [Path(e).name for e in evals]
    if len(labels) != len(evals):
        raise DomainError(f"names has {len(labels)} entries for {len(evals)} evaluations; "
                          f"give one name per evaluation.")
    results = [read_jsonl(Path(e) / "results.jsonl") for e in evals]
    models = {label: model_accuracy(rows) for label, rows in zip(labels, results, strict=True)}
    summary: dict[str, Any] = {"models": models, "timings_s": _timings(ctx.out_dir.parent)}
    if data:
        summary["data"] = {"sizes": data.get("sizes"), "days": data.get("days")}
    if len(labels) > 1:
        summary["gain_tolerant_points"] = round(100 * (models[labels[-1]]["tolerant"]
                                                       - models[labels[0]]["tolerant"]), 1)
    atomic_write_text(ctx.out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    png = _per_field_png(models)
    (ctx.out_dir / "per_field.png").write_bytes(png)

    parts = ["<p class=muted>References on synthetic runs come from Fathom's rule-based writer; with an archive "
             "of issued bulletins they are the forecasters' own. Tolerant: direction within 45°, force within "
             "1 Beaufort at both ends, sea state and visibility within one class, weather by the overlap (F1) "
             "of its types. Strict: exact."
             "</p><table><tr><th>model</th><th>tolerant</th><th>strict</th><th>parses</th><th>n</th>"
             + "".join(f"<th>{html.escape(f)}<br>(tol / strict)</th>" for f in FIELD_NAMES) + "</tr>"]
    for label, m in models.items():
        parts.append(f"<tr><td>{html.escape(label)}</td><td class=num>{m['tolerant']:.1%}</td>"
                     f"<td class=num>{m['strict']:.1%}</td><td class=num>{m['parse_rate']:.0%}</td>"
                     f"<td class=num>{m['n']}</td>"
                     + "".join(f"<td class=num>{m['per_field'][f]['tolerant']:.0%} / "
                               f"{m['per_field'][f]['strict']:.0%}</td>"
                               for f in FIELD_NAMES) + "</tr>")
    parts.append("</table>" + img_tag(png, "per-field accuracy"))
    plot = Path(sft) / "model" / "loss.png" if sft else None
    if plot is not None and not plot.exists():
        found = sorted(Path(str(sft)).rglob("*.png"))
        plot = found[0] if found else None
    if plot is not None:
        parts.append("<h2>Training and validation loss</h2>" + img_tag(plot.read_bytes(), "loss curve"))
    parts.append(_side_by_side(labels, results))
    timing_rows = "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{v:.1f}</td></tr>"
                          for k, v in summary["timings_s"].items())
    parts.append(f"<h2>Timings (seconds)</h2><table><tr><th>stage</th><th>s</th></tr>{timing_rows}</table>")
    if data:
        parts.append(f"<p class=muted>data: {html.escape(json.dumps(summary['data']))}</p>")
    report = ctx.out_dir / "report.html"
    atomic_write_text(report, html_page("Shipping Forecast: base vs fine-tuned", "".join(parts)))
    return {"report": str(report), "summary": str(ctx.out_dir / "summary.json"),
            "png": str(ctx.out_dir / "per_field.png"),
            **{f"{label}_tolerant": m["tolerant"] for label, m in models.items()}}
