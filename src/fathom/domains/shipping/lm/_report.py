"""The Shipping Forecast recipe report (``uses: shipping_report``): HTML, PNG and summary.json.

Reads the evaluation run folders of the models compared (base, fine-tuned, ...), the fine-tuning
run's metrics and the recipe's stage manifests, and writes into the stage folder:

* ``summary.json``: ``{"models": {name: {"tolerant", "strict", "per_field": {field: {"tolerant",
  "strict"}}, "n", "parse_rate"}}, "timings_s": {stage: seconds, ..., "total": ...}, "data": ...}``,
  and with ``differences`` asked for, ``"differences": {"A-B": {"tolerant": {"mean", "ci95": [lo,
  hi]}, "strict": {...}, "n"}}``: model A's accuracy minus model B's, per example paired by id, with
  a seeded paired-bootstrap percentile interval (:func:`fathom.evaluate.paired_bootstrap`);
* ``per_field.png``: per-field accuracy, tolerant and strict, for every model;
* ``report.html``: the same figures and differences, the SFT loss curve, the RFT reward curve,
  timings, and one test run's area forecasts side by side (reference and each model) with the
  fields that missed.

Per-field accuracies count an output that does not parse as a miss on every field, so they agree
with the grader's score (a failed ``parses`` gate scores 0); an example's accuracy is the mean
over the five fields, so the mean of the examples' accuracies is the model's.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom.datasets import read_jsonl
from fathom.domains.shipping.score import COMPONENTS
from fathom.errors import DomainError, Problem, did_you_mean
from fathom.recipes import StageContext

__all__ = ["example_accuracy", "model_accuracy", "report_argument_problems", "shipping_report_stage"]

FIELD_NAMES = list(COMPONENTS.values())
RESAMPLES = 10_000
"""Bootstrap resamples for the interval of a difference (cheap: a few hundred examples each)."""


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


def example_accuracy(row: dict[str, Any], mode: str = "tolerant") -> float:
    """One ``results.jsonl`` row's accuracy: the mean over the five fields, 0 when the output does not parse.

    >>> row = {"gates": {"parses": True}, "components": {f: 1.0 for f in FIELD_NAMES} | {"weather": 0.5}}
    >>> example_accuracy(row), example_accuracy({**row, "gates": {"parses": False}})
    (0.9, 0.0)
    """
    if not row["gates"].get("parses", True):
        return 0.0
    prefix = "" if mode == "tolerant" else "strict_"
    return sum(float(row["components"].get(prefix + f, 0.0)) for f in FIELD_NAMES) / len(FIELD_NAMES)


def _difference_pair(spec: str, names: list[str]) -> tuple[str, str] | None:
    """``"rft-sft"`` -> ``("rft", "sft")``: the one split at a hyphen with a known name on each side.

    Names may hold hyphens themselves (``fine-tuned-base``); None when no split, or more than one, fits.
    """
    splits = [(spec[:i], spec[i + 1:]) for i, ch in enumerate(spec) if ch == "-"]
    fits = [(a, b) for a, b in splits if a in names and b in names and a != b]
    return fits[0] if len(fits) == 1 else None


def _difference_problem(spec: Any, names: list[str]) -> str | None:
    if isinstance(spec, str) and _difference_pair(spec, names) is not None:
        return None
    pairs = [f"{a}-{b}" for a in names for b in names if a != b]
    parts = [f"{spec!r} does not name two different models as \"A-B\" (A minus B).",
             did_you_mean(spec, pairs) if isinstance(spec, str) else "",
             f"Model names: {', '.join(names)} (e.g. {pairs[-1]!r})." if pairs else f"Model names: {names}."]
    return " ".join(p for p in parts if p)


def report_argument_problems(known: dict[str, Any]) -> list[Problem]:
    """Checks before the recipe runs: each of ``differences`` names two of ``names`` (when both are given)."""
    names, differences = known.get("names"), known.get("differences")
    if not isinstance(names, list) or len(names) < 2 or not isinstance(differences, list):
        return []  # folder-name labels are only known when the evaluations have run
    found = [_difference_problem(d, [str(n) for n in names]) for d in differences]
    return [Problem("differences", p) for p in found if p is not None]


def _paired_difference(label_a: str, rows_a: list[dict[str, Any]], label_b: str,
                       rows_b: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    """A minus B, per example paired by id, with a paired-bootstrap 95% percentile interval."""
    from fathom.evaluate import paired_bootstrap

    by_id = []
    for label, rows in ((label_a, rows_a), (label_b, rows_b)):
        keyed = {str(r["id"]): r for r in rows}
        if len(keyed) != len(rows):
            raise DomainError(f"the {label!r} evaluation has {len(rows) - len(keyed)} repeated example id(s), so "
                              f"its results cannot be paired; re-run that evaluation into a fresh folder.")
        by_id.append(keyed)
    only_a, only_b = sorted(by_id[0].keys() - by_id[1].keys()), sorted(by_id[1].keys() - by_id[0].keys())
    if only_a or only_b:
        raise DomainError(f"cannot pair {label_a!r} with {label_b!r}: {len(only_a)} example id(s) only in "
                          f"{label_a!r} (e.g. {only_a[:3]}), {len(only_b)} only in {label_b!r} (e.g. {only_b[:3]}); "
                          f"evaluate both models on the same test set.")
    ids = sorted(by_id[0])
    out: dict[str, Any] = {}
    for mode in ("tolerant", "strict"):
        a = [example_accuracy(by_id[0][i], mode) for i in ids]
        b = [example_accuracy(by_id[1][i], mode) for i in ids]
        est = paired_bootstrap(b, a, resamples=RESAMPLES, seed=seed)  # its diff is its second minus its first
        out[mode] = {"mean": round(est["diff"], 6), "ci95": [round(est["ci_low"], 6), round(est["ci_high"], 6)]}
    out["n"] = len(ids)
    return out


def _differences(specs: list[str], labels: list[str], results: list[list[dict[str, Any]]],
                 seed: int) -> dict[str, Any]:
    problems = [p for p in (_difference_problem(s, labels) for s in specs) if p is not None]
    if problems:
        raise DomainError("differences: " + " ".join(problems))
    rows = dict(zip(labels, results, strict=True))
    out = {}
    for spec in specs:
        a, b = _difference_pair(spec, labels) or ("", "")
        out[spec] = _paired_difference(a, rows[a], b, rows[b], seed)
    return out


def _differences_html(differences: dict[str, Any]) -> str:
    def cells(d: dict[str, Any]) -> str:
        (tl, th), (sl, sh) = d["tolerant"]["ci95"], d["strict"]["ci95"]
        return (f"<td class=num>{d['tolerant']['mean']:+.1%}</td><td class=num>{tl:+.1%} to {th:+.1%}</td>"
                f"<td class=num>{d['strict']['mean']:+.1%}</td><td class=num>{sl:+.1%} to {sh:+.1%}</td>")

    rows = "".join(f"<tr><td>{html.escape(spec)}</td><td class=num>{d['n']}</td>{cells(d)}</tr>"
                   for spec, d in differences.items())
    return ("<h2>Differences (paired by example)</h2><p class=muted>A-B: A's accuracy minus B's on the same "
            f"examples; 95% paired-bootstrap interval ({RESAMPLES:,} resamples). An interval that excludes 0 "
            "is a difference the test set can tell apart.</p><table><tr><th>A-B</th><th>n</th><th>tolerant</th>"
            f"<th>95% CI</th><th>strict</th><th>95% CI</th></tr>{rows}</table>")


def _plot(folder: str | None, name: str) -> Path | None:
    """``<folder>/model/<name>``, else the first PNG anywhere under ``folder``, else None."""
    if folder is None:
        return None
    plot = Path(folder) / "model" / name
    if not plot.exists():
        found = sorted(Path(folder).rglob("*.png"))
        return found[0] if found else None
    return plot


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
                          sft: str | None = None, data: dict[str, Any] | None = None,
                          differences: list[str] | None = None, rft: str | None = None,
                          forgetting: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the recipe report from evaluation folders (the first is the baseline) and the training run folders.

    Args:
        evals: evaluation run folders (each with ``results.jsonl``), baseline first.
        names: a display name per evaluation (default: the folder names).
        sft: the fine-tuning stage folder (its ``model/metrics.jsonl`` and loss-curve PNG are shown).
        data: the dataset stage's outputs (split sizes and days are shown).
        differences: paired differences to estimate, each ``"A-B"`` (A minus B) naming two of ``names``,
            e.g. ``["rft-sft", "sft-base"]``; the interval is a seeded paired bootstrap.
        rft: the RFT stage folder (its ``model/reward.png``, else any PNG in it, is shown).
        forgetting: the ``forgetting.json`` of a forgetting stage: each model's general-set score and its paired
            difference from the base go to ``summary.json`` (``forgetting``) and the report, with its figure.
        extra: other stages' figures to keep in ``summary.json`` (``extra``) and list in the report, e.g.
            ``{cpt: "${cpt.perplexity}", distill_kept: "${distill.kept}"}``.
    """
    from fathom.evaluate import forgetting_html, forgetting_summary, html_page, img_tag

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
    if differences:
        summary["differences"] = _differences(differences, labels, results, ctx.seed)
    if forgetting:
        summary["forgetting"] = forgetting_summary(forgetting)
    if extra:
        summary["extra"] = extra
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
    if differences:
        parts.append(_differences_html(summary["differences"]))
    if (plot := _plot(sft, "loss.png")) is not None:
        parts.append("<h2>Training and validation loss</h2>" + img_tag(plot.read_bytes(), "loss curve"))
    if (plot := _plot(rft, "reward.png")) is not None:
        parts.append("<h2>RFT reward and validation</h2>" + img_tag(plot.read_bytes(), "reward curve"))
    if forgetting:
        parts.append(forgetting_html(summary["forgetting"], Path(forgetting).with_name("forgetting.png")))
    if extra:
        parts.append("<h2>Other figures</h2><pre>" + html.escape(json.dumps(extra, indent=2)) + "</pre>")
    parts.append(_side_by_side(labels, results))
    timing_rows = "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{v:.1f}</td></tr>"
                          for k, v in summary["timings_s"].items())
    parts.append(f"<h2>Timings (seconds)</h2><table><tr><th>stage</th><th>s</th></tr>{timing_rows}</table>")
    if data:
        parts.append(f"<p class=muted>data: {html.escape(json.dumps(summary['data']))}</p>")
    report = ctx.out_dir / "report.html"
    title = "base vs fine-tuned" if len(labels) <= 2 else ", ".join(labels[:-1]) + " and " + labels[-1]
    atomic_write_text(report, html_page(f"Shipping Forecast: {title}", "".join(parts)))
    return {"report": str(report), "summary": str(ctx.out_dir / "summary.json"),
            "png": str(ctx.out_dir / "per_field.png"),
            **{f"{label}_tolerant": m["tolerant"] for label, m in models.items()}}


shipping_report_stage.check_args = report_argument_problems  # type: ignore[attr-defined]
