"""Mining DPO pairs: exact counts (kept, ties, below the margin, the margin itself) with a scripted backend and
grader; a tiny model's samples through ``fathom data pairs``; bad input refused before any model loads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from tests.cli._run import run

from fathom.backends import ChatRequest, Completion
from fathom.errors import ConfigError
from fathom.graders import Grade, register_grader
from fathom.train import mine_pairs, mine_pairs_file, read_pairs


class ScriptedBackend:
    """Answers each prompt with its scripted replies in order (one per sample), recording the requests."""

    supports_batching: ClassVar[bool] = True
    model_name = "scripted"

    def __init__(self, replies: dict[str, list[str]]):
        self.replies = replies
        self.requests: list[ChatRequest] = []

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        self.requests.extend(requests)
        served: dict[str, int] = {}
        out = []
        for request in requests:
            prompt = request.messages[-1]["content"]
            k = served[prompt] = served.get(prompt, -1) + 1
            text = self.replies[prompt][k]
            out.append(Completion(message={"role": "assistant", "content": text}, text=text))
        return out


@register_grader("test_pairs_score")
def _score() -> Any:
    """The answer is its own score: "0.75" scores 0.75 (anything else 0)."""
    def grade(example: dict[str, Any], completion: Any) -> Grade:
        try:
            return Grade(float(completion.get("content") or ""))
        except ValueError:
            return Grade(0.0)
    return grade


@register_grader("test_pairs_tie_or_hash")
def _tie_or_hash() -> Any:
    """``meta.kind == "tie"``: 0.5 for every answer; otherwise a score spread by the answer's text."""
    import hashlib

    def grade(example: dict[str, Any], completion: Any) -> Grade:
        if example["meta"]["kind"] == "tie":
            return Grade(0.5)
        text = (completion.get("content") or "") + json.dumps(completion.get("tool_calls"))
        return Grade(int(hashlib.sha256(text.encode()).hexdigest()[:6], 16) / 0xFFFFFF)
    return grade


def _prompt(name: str, **meta: Any) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": name}],
            "reference": {"text": "1"}, "meta": {"id": name, **meta}}


def test_best_and_worst_are_paired_only_above_the_margin() -> None:
    from fathom.graders import build_grader

    backend = ScriptedBackend({"spread": ["0.5", "1.0", "0.0", "0.25"], "tie": ["0.3", "0.3", "0.3", "0.3"],
                               "close": ["0.5", "0.55", "0.5", "0.52"],
                               "edge": ["0.625", "0.75", "0.625", "0.625"]})  # a gap of exactly the margin
    examples = [_prompt(k) for k in ("spread", "tie", "close", "edge")]
    pairs, summary = mine_pairs(build_grader("test_pairs_score"), examples, backend=backend, n=4, margin=0.125,
                                seed=7, grader_name="test_pairs_score")
    assert (summary.prompts, summary.pairs, summary.dropped_tie, summary.dropped_below_margin) == (4, 1, 1, 2)
    assert summary.mean_gap == 1.0 and summary.mean_best == pytest.approx((1.0 + 0.3 + 0.55 + 0.75) / 4)
    [pair] = pairs
    assert pair["chosen"] == {"role": "assistant", "content": "1.0"}
    assert pair["rejected"] == {"role": "assistant", "content": "0.0"}
    assert pair["messages"] == examples[0]["messages"] and pair["reference"] == {"text": "1"}
    assert pair["meta"] == {"id": "spread", "pair": {"chosen_score": 1.0, "rejected_score": 0.0, "n": 4}}
    seeds = [r.sampling.seed for r in backend.requests]
    assert seeds == list(range(7, 7 + 16)) and all(r.sampling.temperature == 0.8 for r in backend.requests)
    _, loose = mine_pairs(build_grader("test_pairs_score"), examples, backend=ScriptedBackend(backend.replies), n=4,
                          margin=0.0)
    assert (loose.pairs, loose.dropped_tie, loose.dropped_below_margin) == (3, 1, 0)  # a margin of 0 keeps any gap


def test_the_file_and_its_summary_are_written(tmp_path: Path) -> None:
    from fathom.graders import build_grader

    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps(_prompt(k)) + "\n" for k in ("spread", "tie")), encoding="utf-8")
    backend = ScriptedBackend({"spread": ["0.2", "0.9"], "tie": ["0.4", "0.4"]})
    summary = mine_pairs_file(build_grader("test_pairs_score"), data, tmp_path / "out" / "pairs.jsonl",
                              backend=backend, n=2)
    stored = json.loads((tmp_path / "out" / "pairs.summary.json").read_text(encoding="utf-8"))
    assert stored == summary.to_dict() and (stored["pairs"], stored["dropped_tie"]) == (1, 1)
    assert stored["out"] == str(tmp_path / "out" / "pairs.jsonl")
    assert len(read_pairs(tmp_path / "out" / "pairs.jsonl")) == 1  # what `fathom train dpo` reads


def test_a_tiny_model_mines_pairs_through_the_cli(tiny_model_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "prompts.jsonl"
    kinds = ["tie", "spread", "spread", "tie", "spread"]
    data.write_text("".join(json.dumps(_prompt(f"Say {i}", kind=k)) + "\n" for i, k in enumerate(kinds)),
                    encoding="utf-8")
    out = tmp_path / "pairs.jsonl"
    code, stdout, err = run(["data", "pairs", "--model", str(tiny_model_dir), "--data", str(data), "--grader",
                             "test_pairs_tie_or_hash", "--n", "3", "--margin", "0", "--temperature", "1.0",
                             "--max-tokens", "6", "--out", str(out), "--device", "cpu"], capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "pairs.summary.json").read_text(encoding="utf-8"))
    assert (summary["prompts"], summary["n"], summary["dropped_tie"]) == (5, 3, 2)
    assert summary["pairs"] + summary["dropped_below_margin"] + summary["dropped_tie"] == 5
    pairs = read_pairs(out)
    assert len(pairs) == summary["pairs"] == 3  # three sampled answers of a random model are three texts
    assert {p["meta"]["kind"] for p in pairs} == {"spread"}
    assert all(p["meta"]["pair"]["chosen_score"] > p["meta"]["pair"]["rejected_score"] for p in pairs)
    assert "kept 3 pair(s)" in stdout and "dropped 2 tie(s)" in stdout


@pytest.mark.parametrize(("extra", "expected"), [
    (["--n", "1"], "--n: must be at least 2"),
    (["--margin", "1.5"], "--margin: must be in [0, 1)"),
    (["--temperature", "0"], "--temperature: must be above 0"),
    (["--grader", "exakt"], "Did you mean 'exact'?"),
    (["--data", "missing.jsonl"], "missing.jsonl does not exist"),
    (["--data", "answers_only.jsonl"], "no prompt"),
    (["--data", "empty.jsonl"], "no prompts to sample"),
])
def test_bad_input_exits_2_before_a_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                no_model_load: None, extra: list[str], expected: str) -> None:
    (tmp_path / "prompts.jsonl").write_text(json.dumps(_prompt("Hi")) + "\n", encoding="utf-8")
    (tmp_path / "answers_only.jsonl").write_text(json.dumps({"messages": [{"role": "assistant", "content": "x"}]})
                                                 + "\n", encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    argv = ["data", "pairs", "--model", "smollm2-135m", "--grader", "exact", "--data", str(tmp_path / "prompts.jsonl"),
            "--out", str(tmp_path / "pairs.jsonl")]
    for i in range(0, len(extra), 2):
        value = str(tmp_path / extra[i + 1]) if extra[i] == "--data" else extra[i + 1]
        if extra[i] in argv:
            argv[argv.index(extra[i]) + 1] = value
        else:
            argv += [extra[i], value]
    code, out, err = run(argv, capsys)
    assert code == 2, out + err
    assert expected in err
    assert not (tmp_path / "pairs.jsonl").exists()


def test_library_arguments_are_checked_together() -> None:
    from fathom.graders import build_grader

    with pytest.raises(ConfigError) as info:
        mine_pairs(build_grader("exact"), [_prompt("x")], n=1, margin=-0.1, temperature=0)
    text = str(info.value)
    assert "--n" in text and "--margin" in text and "--temperature" in text and "give exactly one of model=" in text
