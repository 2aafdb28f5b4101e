"""The evaluation runner: files written, cache-based resume, summaries, comparisons, `fathom grade`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from fathom.backends._protocol import ChatRequest, Completion
from fathom.cli import cli
from fathom.datasets._io import write_jsonl
from fathom.errors import DataError
from fathom.evaluate import CacheUse, EvalConfig, EvalSummary, compare_runs, evaluate, grade_completions
from fathom.graders._protocol import Grade, completion_text
from fathom.graders._registry import register_grader


class EchoBackend:
    """Answers with the last user message upper-cased when `upper`, else verbatim; records calls."""

    supports_batching: ClassVar[bool] = True

    def __init__(self, upper: bool = False, fail_after: int | None = None):
        self.model_name = "echo-upper" if upper else "echo"
        self.upper, self.fail_after, self.calls = upper, fail_after, []

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt("killed")
        self.calls.append(len(requests))
        out = []
        for r in requests:
            text = r.messages[-1]["content"]
            text = text.upper() if self.upper else text
            out.append(Completion({"role": "assistant", "content": text}, text, "stop", 3, 2))
        return out


@register_grader("t_exact")
def exact_grader() -> Any:
    def grade(example: dict[str, Any], completion: Any) -> Grade:
        ok = completion_text(completion) == example["reference"]["text"]
        return Grade(float(ok), {"match": float(ok), "length": min(1.0, len(completion_text(completion)) / 10)},
                     {}, "" if ok else "differs")
    return grade


def examples(n: int = 12) -> list[dict[str, Any]]:
    return [{"messages": [{"role": "user", "content": f"word{i}" if i % 3 else f"WORD{i}"},
                          {"role": "assistant", "content": f"WORD{i}"}],
             "reference": {"text": f"WORD{i}"}, "meta": {"id": f"ex{i}"}} for i in range(n)]


def test_eval_writes_results_summary_report(tmp_path: Path) -> None:
    grader = exact_grader()
    summary = evaluate(EchoBackend(), examples(), grader, tmp_path / "run", config=EvalConfig(batch_size=5), quiet=True)
    assert summary.n == 12
    assert summary.score.mean == pytest.approx(4 / 12)  # ids 0, 3, 6, 9 are already upper-case
    assert summary.score.ci_low <= summary.score.mean <= summary.score.ci_high
    assert set(summary.components) == {"match", "length"}
    rows = [json.loads(line) for line in (tmp_path / "run/results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"ex{i}" for i in range(12)]
    assert rows[1]["reason"] == "differs" and rows[1]["prompt"] == [{"role": "user", "content": "word1"}]
    page = (tmp_path / "run/report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2 and "Worst 10 examples" in page
    assert json.loads((tmp_path / "run/manifest.json").read_text())["kind"] == "eval"
    on_disk = json.loads((tmp_path / "run/summary.json").read_text())  # the keys other tools read
    assert list(on_disk) == ["n", "score", "components", "gates", "model", "data", "grader", "sampling",
                             "timings_s", "cache", "counts"]
    assert on_disk["score"] == {"mean": summary.score.mean, "ci_low": summary.score.ci_low,
                                "ci_high": summary.score.ci_high, "n": 12}
    assert EvalSummary.read(tmp_path / "run") == summary


def test_killed_eval_resumes_without_regenerating(tmp_path: Path) -> None:
    grader = exact_grader()
    killed = EchoBackend(fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        evaluate(killed, examples(), grader, tmp_path / "run", config=EvalConfig(batch_size=5), quiet=True)
    assert killed.calls == [5, 5]
    again = EchoBackend()
    summary = evaluate(again, examples(), grader, tmp_path / "run", config=EvalConfig(batch_size=5), quiet=True)
    assert again.calls == [2]  # only the two examples of the batch that never finished
    assert summary.cache == CacheUse(generated=2, reused=10)
    regrade = EchoBackend()
    evaluate(regrade, examples(), grader, tmp_path / "run", quiet=True)
    assert regrade.calls == []


def test_fewshot_turns_go_before_the_prompt(tmp_path: Path) -> None:
    backend = EchoBackend()
    shots = examples(2)
    evaluate(backend, examples(1), exact_grader(), tmp_path / "run", config=EvalConfig(fewshot=shots), quiet=True)
    row = json.loads((tmp_path / "run/results.jsonl").read_text())
    assert [m["content"] for m in row["prompt"]] == ["WORD0", "WORD0", "word1", "WORD1", "WORD0"]


def test_compare_paired_differences(tmp_path: Path) -> None:
    evaluate(EchoBackend(), examples(), exact_grader(), tmp_path / "base", quiet=True)
    evaluate(EchoBackend(upper=True), examples(), exact_grader(), tmp_path / "tuned", quiet=True)
    result = compare_runs([tmp_path / "base", tmp_path / "tuned"], tmp_path / "cmp")
    tuned = result["runs"]["tuned"]
    assert tuned["means"]["score"] == 1.0
    assert tuned["vs_baseline"]["score"]["diff"] == pytest.approx(8 / 12)
    assert tuned["vs_baseline"]["score"]["ci_low"] > 0
    assert (tmp_path / "cmp/compare.png").stat().st_size > 1000
    cli_out = CliRunner().invoke(cli, ["eval", "compare", str(tmp_path / "base"), str(tmp_path / "tuned")])
    assert cli_out.exit_code == 0 and json.loads(cli_out.output)["shared_examples"] == 12
    with pytest.raises(DataError, match="not an evaluation run folder"):
        compare_runs([tmp_path / "base", tmp_path])


def test_grade_cli_by_id_and_by_order(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "ex.jsonl", examples(3))
    by_id = write_jsonl(tmp_path / "c1.jsonl", [{"id": "ex2", "role": "assistant", "content": "WORD2"},
                                                {"id": "ex0", "role": "assistant", "content": "nope"},
                                                {"id": "ex1", "role": "assistant", "content": "WORD1"}])
    result = CliRunner().invoke(cli, ["grade", "--grader", "t_exact", "--data", str(data), "--completions", str(by_id)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["id"], r["score"]) for r in rows] == [("ex0", 0.0), ("ex1", 1.0), ("ex2", 1.0)]
    assert set(rows[0]) == {"id", "score", "components", "gates", "reason"}
    by_order = [{"role": "assistant", "content": "WORD0"}, {"role": "assistant", "content": "x"},
                {"role": "assistant", "content": "WORD2"}]
    assert [r["score"] for r in grade_completions(exact_grader(), examples(3), by_order)] == [1.0, 0.0, 1.0]
    with pytest.raises(DataError, match="matched by line order"):
        grade_completions(exact_grader(), examples(3), by_order[:2])
    bad = CliRunner().invoke(cli, ["grade", "--grader", "t_exac", "--data", str(data), "--completions", str(by_id)])
    assert bad.exit_code != 0


def test_report_plots_scores_and_lists_count_components(tmp_path: Path) -> None:
    class CountingGrader:
        counts: ClassVar[tuple[str, ...]] = ("calls_made",)

        def __call__(self, example: dict[str, Any], completion: Any) -> Grade:
            return Grade(0.5, {"match": 0.5, "calls_made": 1.0, "arg_total": 3.0}, {}, "")

    summary = evaluate(EchoBackend(), examples(4), CountingGrader(), tmp_path / "run", quiet=True)
    assert summary.counts == ["calls_made"]
    page = (tmp_path / "run/report.html").read_text()
    assert "Not plotted (counts, not shares): arg_total, calls_made." in page  # declared, or outside [0, 1]


def test_cli_and_stage_evaluate_through_one_function(tiny_model_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`fathom eval` and the recipe's eval stage both call evaluate_model, with the same settings."""
    import fathom.evaluate
    from fathom.recipes._core_stages import eval_stage
    from fathom.recipes._stages import StageContext

    calls: list[dict[str, Any]] = []
    real = fathom.evaluate.evaluate_model

    def spy(*args: Any, **kwargs: Any) -> EvalSummary:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(fathom.evaluate, "evaluate_model", spy)
    data = tmp_path / "test.jsonl"
    write_jsonl(data, examples(3))
    result = CliRunner().invoke(cli, ["eval", "--model", str(tiny_model_dir), "--data", str(data), "--grader", "exact",
                                      "--out", str(tmp_path / "cli"), "--max-tokens", "4"])
    assert result.exit_code == 0, result.output
    assert "over 3 examples" in result.output
    ctx = StageContext(name="eval", out_dir=tmp_path / "stage", recipe="test", seed=0, quiet=True)
    stage = eval_stage(ctx, model=str(tiny_model_dir), data=data, grader="exact", max_tokens=4)
    assert stage["n"] == 3 and len(calls) == 2
    assert calls[0]["max_tokens"] == calls[1]["max_tokens"] == 4
    on_disk = [json.loads((tmp_path / run / "summary.json").read_text()) for run in ("cli", "stage")]
    assert on_disk[0]["score"] == on_disk[1]["score"] and on_disk[0]["sampling"]["max_tokens"] == 4
