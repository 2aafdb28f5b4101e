"""The factory recipe's own stages: ``factory_docs`` (the plant's documents and categories) and ``factory_report``.

``factory_report`` reads the ``tool_call`` evaluations of the models a recipe trained and writes
``report/summary.json``, whose keys are a contract::

    {"models": {name: {"score", "ci95", "components": {component: mean}, "per_category": {category:
                {"score", "ci95", "n"}}, "n"}},
     "differences": {"rft-sft": {"mean", "ci95", "n"}, ...},      # paired by example, bootstrap 95% CI
     "data": {"asked", "kept", "rejected": {reason: count}, "splits": {split: size}},
     "worst": [{"id", "category", "question", "expected", "got", "score"}, ...],
     "forgetting": {"base", "n", "scores", "differences", "verdicts"}}   # with a forgetting stage given

plus ``report.html`` (the climb overall, per component and per category, with intervals, a per-category
plot, and the worst examples of the last model). ``score`` is the weighted tool-call score, the mean over
the test examples. Not covered: running the evaluations (the recipe's ``eval`` stages do).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom.errors import DomainError
from fathom.recipes import StageContext

__all__ = ["factory_docs_stage", "factory_report_stage"]

RESAMPLES = 2000
_COMPONENTS = ("name_f1", "arg_accuracy", "sequence", "exact_match", "json_valid", "schema_valid")
"""The components reported: tool selection, arguments, order, whole-call exactness and validity."""


def factory_docs_stage(ctx: StageContext) -> dict[str, Any]:
    """Write the plant's documents and the categories file into the stage folder."""
    from fathom.domains.factory.categories import write_categories
    from fathom.domains.factory.docs import write_documents

    documents = ctx.out_dir / "documents"
    written = write_documents(documents)
    categories = ctx.out_dir / "categories.yaml"
    write_categories(categories)
    return {"documents": str(documents), "categories": str(categories), "count": len(written)}


factory_docs_stage.outputs = ("documents", "categories", "count")  # type: ignore[attr-defined]


def _rows(folder: str) -> list[dict[str, Any]]:
    path = Path(folder) / "results.jsonl"
    if not path.is_file():
        raise DomainError(f"no evaluation results at {path}; give factory_report the folders of `eval` stages "
                          f"(e.g. \"${{sft_eval.dir}}\").")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise DomainError(f"{path} holds no results; was the evaluation interrupted? Run the recipe again.")
    return rows


def _estimate(values: list[float], seed: int) -> dict[str, Any]:
    from fathom.evaluate import bootstrap_mean

    est = bootstrap_mean(values, resamples=RESAMPLES, seed=seed)
    return {"score": round(est["mean"], 6), "ci95": [round(est["ci_low"], 6), round(est["ci_high"], 6)],
            "n": est["n"]}


def model_scores(rows: list[dict[str, Any]], categories: dict[str, str], seed: int = 0) -> dict[str, Any]:
    """Score, interval, component means and per-category scores of one evaluation's rows."""
    overall = _estimate([float(r["score"]) for r in rows], seed)
    components = {}
    for name in _COMPONENTS:
        values = [float(r["components"][name]) for r in rows if name in (r.get("components") or {})]
        if values:
            components[name] = round(sum(values) / len(values), 6)
    by_category: dict[str, list[float]] = {}
    for r in rows:
        by_category.setdefault(categories.get(str(r["id"]), "unknown"), []).append(float(r["score"]))
    per_category = {name: _estimate(values, seed) for name, values in sorted(by_category.items())}
    return {"score": overall["score"], "ci95": overall["ci95"], "components": components,
            "per_category": per_category, "n": overall["n"]}


def _paired(a_rows: list[dict[str, Any]], b_rows: list[dict[str, Any]], labels: tuple[str, str],
            seed: int) -> dict[str, Any]:
    """``b - a`` paired by example id, with its bootstrap interval."""
    from fathom.evaluate import paired_bootstrap

    a, b = ({str(r["id"]): float(r["score"]) for r in rows} for rows in (a_rows, b_rows))
    if a.keys() != b.keys():
        raise DomainError(f"cannot pair {labels[1]!r} with {labels[0]!r}: they were evaluated on different "
                          f"examples ({len(a.keys() ^ b.keys())} ids in one only); evaluate both on the same test set.")
    ids = sorted(a)
    est = paired_bootstrap([a[i] for i in ids], [b[i] for i in ids], resamples=RESAMPLES, seed=seed)
    return {"mean": round(est["diff"], 6), "ci95": [round(est["ci_low"], 6), round(est["ci_high"], 6)], "n": len(ids)}


def _calls_text(message: Any) -> str:
    if not isinstance(message, dict):
        return str(message)
    calls = message.get("tool_calls") or []
    if calls:
        return "; ".join(f"{c['function']['name']}({c['function']['arguments']})" for c in calls)
    return f"(no call) {message.get('content') or ''}"[:300]


def _worst(rows: list[dict[str, Any]], examples: dict[str, dict[str, Any]], limit: int = 10) -> list[dict[str, Any]]:
    out = []
    for r in sorted(rows, key=lambda r: (float(r["score"]), str(r["id"])))[:limit]:
        example = examples.get(str(r["id"]), {})
        question = next((m.get("content") for m in reversed(example.get("messages", [])) if m.get("role") == "user"),
                        None)
        expected = {"tool_calls": (example.get("reference") or {}).get("tool_calls", [])}
        out.append({"id": r["id"], "category": (example.get("meta") or {}).get("category"), "question": question,
                    "expected": _calls_text(expected), "got": _calls_text(r.get("completion")),
                    "score": r["score"], "reason": r.get("reason")})
    return out


def _per_category_png(models: dict[str, dict[str, Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categories = sorted({c for m in models.values() for c in m["per_category"]})
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(categories)), 3.6), dpi=110)
    width = 0.8 / max(1, len(models))
    for i, (name, model) in enumerate(models.items()):
        xs = [j + i * width for j in range(len(categories))]
        ys = [100 * model["per_category"].get(c, {}).get("score", 0.0) for c in categories]
        lows = [100 * (model["per_category"].get(c, {}).get("score", 0.0) - model["per_category"].get(c, {})
                       .get("ci95", [0, 0])[0]) for c in categories]
        highs = [100 * (model["per_category"].get(c, {}).get("ci95", [0, 0])[1] - model["per_category"].get(c, {})
                        .get("score", 0.0)) for c in categories]
        ax.bar(xs, ys, width, label=f"{name} ({100 * model['score']:.1f}%)", yerr=[lows, highs], capsize=2)
    ax.set_xticks([j + width * (len(models) - 1) / 2 for j in range(len(categories))], categories, rotation=30,
                  ha="right", fontsize=8)
    ax.set_ylabel("weighted tool-call score (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _html(summary: dict[str, Any], png: bytes, forgetting_figure: Path | None) -> str:
    from fathom.evaluate import forgetting_html

    models = summary["models"]
    parts = ["<!doctype html><meta charset=utf-8><title>factory-tools report</title>",
             "<style>body{font:14px system-ui;margin:2em;max-width:1100px}td,th{padding:2px 8px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}.muted{color:#666}</style>",
             "<h1>Tool-calling agent: base → SFT → RFT</h1>",
             "<p>Weighted tool-call score on held-out documents and paraphrase families (mean over test examples, "
             "bootstrap 95% interval).</p><table><tr><th>model</th><th>score</th><th>95% CI</th>"
             + "".join(f"<th>{c}</th>" for c in _COMPONENTS) + "<th>n</th></tr>"]
    for name, m in models.items():
        parts.append(f"<tr><td>{html.escape(name)}</td><td>{100 * m['score']:.1f}%</td>"
                     f"<td>{100 * m['ci95'][0]:.1f}–{100 * m['ci95'][1]:.1f}</td>"
                     + "".join(f"<td>{100 * m['components'].get(c, 0):.1f}</td>" for c in _COMPONENTS)
                     + f"<td>{m['n']}</td></tr>")
    parts.append("</table>")
    if summary.get("differences"):
        parts.append("<h2>Differences (paired)</h2><table><tr><th>pair</th><th>points</th><th>95% CI</th></tr>")
        for name, d in summary["differences"].items():
            parts.append(f"<tr><td>{html.escape(name)}</td><td>{100 * d['mean']:+.1f}</td>"
                         f"<td>{100 * d['ci95'][0]:+.1f} to {100 * d['ci95'][1]:+.1f}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Per category</h2><img alt='per-category scores' src='data:image/png;base64,"
                 + base64.b64encode(png).decode() + "'><table><tr><th>category</th>"
                 + "".join(f"<th>{html.escape(n)}</th>" for n in models) + "<th>n</th></tr>")
    categories = sorted({c for m in models.values() for c in m["per_category"]})
    for c in categories:
        cells = "".join(f"<td>{100 * m['per_category'].get(c, {}).get('score', 0):.1f}%</td>" for m in models.values())
        n = next(iter(models.values()))["per_category"].get(c, {}).get("n", 0)
        parts.append(f"<tr><td>{html.escape(c)}</td>{cells}<td>{n}</td></tr>")
    parts.append("</table>")
    last = list(models)[-1]
    parts.append(f"<h2>Worst examples ({html.escape(last)})</h2><table><tr><th>category</th><th>question</th>"
                 "<th>expected</th><th>got</th><th>score</th></tr>")
    for w in summary.get("worst", []):
        parts.append("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(w[k]))}</td>"
                                      for k in ("category", "question", "expected", "got"))
                     + f"<td>{w['score']:.2f}</td></tr>")
    parts.append("</table>")
    if summary.get("forgetting"):
        parts.append(forgetting_html(summary["forgetting"], forgetting_figure))
    if summary.get("data"):
        parts.append(f"<p class=muted>data: {html.escape(json.dumps(summary['data']))}</p>")
    if summary.get("extra"):
        parts.append(f"<p class=muted>{html.escape(json.dumps(summary['extra']))}</p>")
    return "\n".join(parts)


def factory_report_stage(ctx: StageContext, evals: list[str], names: list[str], test: str,
                         synth: str | None = None, differences: list[str] | None = None,
                         forgetting: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Summarise ``tool_call`` evaluations (``evals``, labelled ``names``) of the same ``test`` file.

    Args:
        evals: the evaluation folders (``${stage.dir}`` of ``eval`` stages).
        names: a label for each, e.g. ``[base, sft, rft]``.
        test: the test JSONL they evaluated (for each example's category and question).
        synth: the synth stage's ``summary.json`` (for ``data``: asked, kept, rejected, splits).
        differences: pairs ``"b-a"`` to report as paired differences (default: each model minus the one before).
        forgetting: the ``forgetting.json`` of a forgetting stage (``${forgetting.forgetting}``): each model's
            general-set score and its paired difference from the base go to ``summary.json`` and the report.
        extra: figures from other stages to keep beside the report.
    """
    from fathom.datasets import read_jsonl

    if len(evals) != len(names) or not evals:
        raise DomainError(f"factory_report: give one name per evaluation; got {len(evals)} evals and "
                          f"{len(names)} names ({names}).")
    examples = {str((e.get("meta") or {}).get("id")): e for e in read_jsonl(test)}
    categories = {i: str((e.get("meta") or {}).get("category", "unknown")) for i, e in examples.items()}
    results = {name: _rows(folder) for name, folder in zip(names, evals, strict=True)}
    models = {name: model_scores(rows, categories, ctx.seed) for name, rows in results.items()}
    specs = differences if differences is not None else [f"{b}-{a}" for a, b in itertools.pairwise(names)]
    diffs = {}
    for spec in specs:
        b, _, a = spec.partition("-")
        if a not in results or b not in results:
            raise DomainError(f"factory_report: difference {spec!r} names a model not among {names}; write it as "
                              f"\"later-earlier\", e.g. \"rft-sft\".")
        diffs[spec] = _paired(results[a], results[b], (a, b), ctx.seed)
    summary: dict[str, Any] = {"models": models, "differences": diffs, "worst": _worst(results[names[-1]], examples)}
    if synth is not None:
        s = json.loads(Path(synth).read_text(encoding="utf-8"))
        summary["data"] = {"asked": s["asked"], "kept": s["kept"], "rejected": s["rejected"], "splits": s["splits"]}
    if forgetting:
        from fathom.evaluate import forgetting_summary

        summary["forgetting"] = forgetting_summary(forgetting)
    if extra:
        summary["extra"] = extra
    atomic_write_text(ctx.out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    png = _per_category_png(models)
    (ctx.out_dir / "per_category.png").write_bytes(png)
    figure = Path(forgetting).with_name("forgetting.png") if forgetting else None
    atomic_write_text(ctx.out_dir / "report.html", _html(summary, png, figure))
    if not ctx.quiet:
        for name, m in models.items():
            print(f"[{ctx.name}] {name}: {100 * m['score']:.1f}% [{100 * m['ci95'][0]:.1f}, {100 * m['ci95'][1]:.1f}] "
                  f"over {m['n']} test examples")
    return {"summary": str(ctx.out_dir / "summary.json"), "report": str(ctx.out_dir / "report.html"),
            "scores": {name: m["score"] for name, m in models.items()}}


factory_report_stage.outputs = ("summary", "report", "scores")  # type: ignore[attr-defined]
