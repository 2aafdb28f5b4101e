"""Self-contained HTML reports (plots embedded as base64 PNG; no network, no scripts)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fathom._manifest import atomic_write_text
from fathom.evaluate._plots import bars_with_ci, histogram

if TYPE_CHECKING:
    from fathom.evaluate._summary import EvalSummary

__all__ = ["html_page", "img_tag", "write_report"]

_CSS = (
    "\n"
    "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;"
    "padding:0 1rem}\n"
    "h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}\n"
    "table{border-collapse:collapse;width:100%;font-size:.85rem}"
    "td,th{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top;text-align:left}\n"
    "th{background:#f3f5f8}pre{white-space:pre-wrap;margin:0;font-size:.8rem}"
    ".num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "img{max-width:100%;height:auto}.muted{color:#666;font-size:.85rem}\n"
)


def img_tag(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def html_page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else html.escape(str(x))


def _message_text(message: dict[str, Any] | None) -> str:
    if not message:
        return ""
    text = message.get("content") or ""
    if message.get("tool_calls"):
        text += ("\n" if text else "") + json.dumps(message["tool_calls"], ensure_ascii=False)
    return text


def write_report(out: Path, rows: list[dict[str, Any]], summary: EvalSummary, worst: int = 10) -> Path:
    """Write ``out/report.html``: headline, component bars, score histogram, worst examples."""
    metrics = {"score": summary.score, **summary.components}
    parts = [f"<p class=muted>model <b>{html.escape(summary.model)}</b> · data "
             f"{html.escape(summary.data)} · grader {html.escape(json.dumps(summary.grader, default=str))}"
             f" · {summary.n} examples</p>",
             "<table><tr><th>metric</th><th>mean</th><th>95% CI</th></tr>"]
    for name, m in metrics.items():
        parts.append(f"<tr><td>{html.escape(name)}</td><td class=num>{_fmt(m.mean)}</td>"
                     f"<td class=num>{_fmt(m.ci_low)} – {_fmt(m.ci_high)}</td></tr>")
    parts.append("</table>")
    if summary.gates:
        parts.append("<p>" + " · ".join(f"gate <b>{html.escape(g)}</b> passed {rate:.1%}"
                                        for g, rate in summary.gates.items()) + "</p>")
    # Shares in [0, 1] share one axis; counts a grader also reports (calls made, arguments...) stay in the table
    shares = {k: {"mean": m.mean, "ci_low": m.ci_low, "ci_high": m.ci_high} for k, m in metrics.items()
              if k not in summary.counts and m.ci_low is not None and m.ci_high is not None
              and m.ci_low >= 0 and m.ci_high <= 1}
    counts = [k for k in metrics if k not in shares]
    parts.append("<h2>Components</h2>" + img_tag(bars_with_ci({"run": shares}, "Mean score by component"),
                                                 "component bars"))
    if counts:
        parts.append(f"<p class=muted>Not plotted (counts, not shares): {html.escape(', '.join(counts))}.</p>")
    parts.append("<h2>Score distribution</h2>" + img_tag(histogram([r["score"] for r in rows], "Scores"),
                                                         "score histogram"))
    parts.append(f"<h2>Worst {min(worst, len(rows))} examples</h2><table><tr><th>id</th><th>score</th>"
                 "<th>reason</th><th>completion</th><th>reference</th></tr>")
    for r in sorted(rows, key=lambda r: r["score"])[:worst]:
        ref = r.get("reference")
        ref_text = ref.get("text", json.dumps(ref, ensure_ascii=False)) if isinstance(ref, dict) else ref
        parts.append(f"<tr><td>{html.escape(str(r['id']))}</td><td class=num>{_fmt(r['score'])}</td>"
                     f"<td>{html.escape(r.get('reason') or '')}</td>"
                     f"<td><pre>{html.escape(_message_text(r['completion'])[:600])}</pre></td>"
                     f"<td><pre>{html.escape(str(ref_text or '')[:600])}</pre></td></tr>")
    parts.append("</table>")
    cache = {"generated": summary.cache.generated, "reused": summary.cache.reused}
    parts.append(f"<p class=muted>timings: {html.escape(json.dumps(summary.timings_s))} · cache: "
                 f"{html.escape(json.dumps(cache))}</p>")
    path = out / "report.html"
    atomic_write_text(path, html_page(f"Evaluation: {summary.model}", "".join(parts)))
    return path
