"""Evaluation: run a model over a dataset, grade, summarise with CIs, report and compare.

Covers: cached generation (a re-run regenerates nothing finished), grading with any Fathom grader,
``results.jsonl`` / ``summary.json`` / ``report.html``, paired comparisons of runs, grading existing
completions, the forgetting check (:func:`forgetting_check`: base vs fine-tuned models on the shipped
general-ability set, :func:`general_set`, and optionally lm-evaluation-harness tasks; a recipe report's
forgetting figures from its output with :func:`forgetting_summary` and :func:`forgetting_html`).
Not covered: the graders themselves (``fathom.graders``) and backends (``fathom.backends``).
"""

from __future__ import annotations

from fathom.evaluate._compare import compare_runs
from fathom.evaluate._forgetting import forgetting_check
from fathom.evaluate._forgetting_report import forgetting_html, forgetting_summary
from fathom.evaluate._general_set import general_set
from fathom.evaluate._grade_file import grade_completions
from fathom.evaluate._plots import png_bytes
from fathom.evaluate._report import html_page, img_tag
from fathom.evaluate._run import EvalConfig, build_request, evaluate, evaluate_model, example_id
from fathom.evaluate._stats import bootstrap_mean, paired_bootstrap
from fathom.evaluate._summary import CacheUse, Estimate, EvalSummary, summarise

__all__ = [
    "CacheUse",
    "Estimate",
    "EvalConfig",
    "EvalSummary",
    "bootstrap_mean",
    "build_request",
    "compare_runs",
    "evaluate",
    "evaluate_model",
    "example_id",
    "forgetting_check",
    "forgetting_html",
    "forgetting_summary",
    "general_set",
    "grade_completions",
    "html_page",
    "img_tag",
    "paired_bootstrap",
    "png_bytes",
    "summarise",
]
