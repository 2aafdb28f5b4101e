"""Evaluation: run a model over a dataset, grade, summarise with CIs, report and compare.

Covers: cached generation (a re-run regenerates nothing finished), grading with any Fathom grader,
``results.jsonl`` / ``summary.json`` / ``report.html``, paired comparisons of runs, grading existing
completions. Not covered: the graders themselves (``fathom.graders``) and backends (``fathom.backends``).
"""

from __future__ import annotations

from fathom.evaluate._compare import compare_runs
from fathom.evaluate._grade_file import grade_completions
from fathom.evaluate._run import EvalConfig, build_request, evaluate, example_id, summarise
from fathom.evaluate._stats import bootstrap_mean, paired_bootstrap

__all__ = [
    "EvalConfig",
    "bootstrap_mean",
    "build_request",
    "compare_runs",
    "evaluate",
    "example_id",
    "grade_completions",
    "paired_bootstrap",
    "summarise",
]
