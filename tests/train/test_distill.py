"""Distillation: a scripted rule-based teacher graded into kept rows and dead letters (with reasons), the
student trained on what was kept, resuming from cached answers, logit distillation between two tiny models
with one tokenizer lowering the student's KL to the teacher, and bad input refused before any model loads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from tests.cli._run import run

from fathom.backends import ChatRequest, Completion, load_backend, register_rule_backend
from fathom.errors import ConfigError, DataError
from fathom.train._distill import distill, grade_teacher_answers


class CapitalsTeacher:
    """Knows two capitals, says nothing about "Atlantis", and is wrong about the rest."""

    supports_batching: ClassVar[bool] = False
    model_name = "rule:test-capitals"
    calls = 0

    def __init__(self, *, wrong: str = "Paris"):
        self.wrong = wrong

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        CapitalsTeacher.calls += len(requests)
        known = {"France": "Paris", "Norway": "Oslo"}
        out = []
        for request in requests:
            country = request.messages[-1]["content"].removeprefix("Capital of ").rstrip("?")
            text = "" if country == "Atlantis" else known.get(country, self.wrong)
            out.append(Completion(message={"role": "assistant", "content": text}, text=text))
        return out


register_rule_backend("test-capitals")(CapitalsTeacher)

CAPITALS = {"France": "Paris", "Norway": "Oslo", "Peru": "Lima", "Atlantis": "Poseidonis"}


def _prompts(path: Path, countries: Sequence[str]) -> Path:
    rows = [{"messages": [{"role": "user", "content": f"Capital of {c}?"}], "reference": {"text": CAPITALS[c]},
             "meta": {"id": f"{c}-{i}"}} for i, c in enumerate(countries)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_rule_backend_spec_and_its_errors() -> None:
    assert isinstance(load_backend("rule:test-capitals", wrong="Rome"), CapitalsTeacher)
    with pytest.raises(ConfigError, match=r"no rule-based model 'test-capital'\. Did you mean 'test-capitals'"):
        load_backend("rule:test-capital")
    with pytest.raises(ConfigError, match="unexpected keyword"):
        load_backend("rule:test-capitals", colour="red")


def test_grading_keeps_passing_answers_and_explains_every_rejection() -> None:
    examples = [{"messages": [{"role": "user", "content": f"Capital of {c}?"}], "reference": {"text": CAPITALS[c]},
                 "meta": {"id": c}} for c in ("France", "Peru", "Atlantis", "Norway")]
    answers = [{"message": {"role": "assistant", "content": "Paris"}, "finish_reason": "stop"},
               {"message": {"role": "assistant", "content": "Paris"}, "finish_reason": "stop"},
               {"message": {"role": "assistant", "content": ""}, "finish_reason": "stop"},
               {"message": {"role": "assistant", "content": "Oslo"}, "finish_reason": "length"}]
    from fathom.graders import build_grader

    kept, rejected, scores = grade_teacher_answers(build_grader("exact"), examples, answers, threshold=1.0,
                                                   teacher="t")
    assert [k["meta"]["id"] for k in kept] == ["France"]
    assert kept[0]["messages"][-1] == {"role": "assistant", "content": "Paris"}
    assert kept[0]["meta"]["distill"] == {"teacher": "t", "score": 1.0}
    assert [(r["id"], r["reason"]) for r in rejected] == [("Peru", "below_threshold"), ("Atlantis", "empty"),
                                                          ("Norway", "cut_off")]
    assert "score 0.000 < 1.0" in rejected[0]["detail"] and rejected[0]["answer"]["content"] == "Paris"
    assert rejected[2]["score"] == 1.0  # a cut-off answer is graded, yet never kept
    assert scores == [1.0, 0.0, 1.0]


def test_distill_end_to_end_with_a_rule_teacher(tmp_path: Path, tiny_model_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = _prompts(tmp_path / "prompts.jsonl", ["France", "Peru", "Atlantis", "Norway"] * 3)
    out = tmp_path / "run"
    args = ["distill", "--teacher", "rule:test-capitals", "--student", str(tiny_model_dir), "--data", str(data),
            "--grader", "exact", "--threshold", "1", "--out", str(out), "--quiet", "--kl-examples", "0",
            "--student-option", "max_steps=2", "--student-option", "batch_size=2"]
    code, stdout, stderr = run(args, capsys)
    assert code == 0, stderr
    summary = json.loads((out / "teacher_summary.json").read_text())
    assert (summary["prompts"], summary["kept"], summary["rejected"]) == (12, 6, 6)
    assert summary["reasons"] == {"empty": 3, "cut_off": 0, "below_threshold": 3, "grader_error": 0}
    dead = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    assert {d["id"].split("-")[0] for d in dead} == {"Peru", "Atlantis"}
    peru = next(d for d in dead if d["id"].startswith("Peru"))
    assert peru["reason"] == "below_threshold" and peru["answer"]["content"] == "Paris"
    assert "matches none" in peru["detail"] and peru["example"]["reference"] == {"text": "Lima"}
    train = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert sorted({t["messages"][-1]["content"] for t in train}) == ["Oslo", "Paris"]
    result = json.loads((out / "result.json").read_text())
    assert result["method"] == "sft" and result["student_result"]["steps"] == 2
    assert (out / "student" / "adapter_config.json").is_file()
    assert "kept 6 (50.0%), rejected 6 (3 empty, 3 below_threshold)" in stdout

    # the same run again: refused without --resume; with it, every answer comes from the cache
    code, _, stderr = run(args, capsys)
    assert code == 2 and "already holds a distillation run; add --resume" in stderr
    before = CapitalsTeacher.calls
    code, _, stderr = run([*args, "--resume"], capsys)
    assert code == 0, stderr
    assert CapitalsTeacher.calls == before
    assert json.loads((out / "teacher_summary.json").read_text())["cached"] == 12
    code, _, stderr = run([*args[:-1], "batch_size=4", "--resume"], capsys)  # changed arguments
    assert code == 2 and "student-options" in stderr and "resume with the same arguments" in stderr


@pytest.mark.parametrize(("extra", "message"), [
    (["--threshold", "1.5"], "--threshold: must be a grade in [0, 1]"),
    (["--method", "logits"], "is not a local model (an endpoint or a rule-based model gives text"),
    (["--student-option", "epochz=2"], "epochz"),
])
def test_bad_arguments_exit_2_before_any_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    extra: list[str], message: str) -> None:
    data = _prompts(tmp_path / "p.jsonl", ["France"])
    before = CapitalsTeacher.calls
    code, _, stderr = run(["distill", "--teacher", "rule:test-capitals", "--student", "/nonexistent/model",
                           "--data", str(data), "--grader", "exact", "--out", str(tmp_path / "o"), "--quiet",
                           *extra], capsys)
    assert code == 2, stderr
    assert message in stderr
    assert CapitalsTeacher.calls == before and not (tmp_path / "o").exists()


def test_bad_data_is_refused_before_the_teacher_runs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises((DataError, ConfigError), match=r"empty|no prompts|holds no"):
        distill(teacher="rule:test-capitals", student="x", data=empty, grader="exact", out=tmp_path / "a")
    unreferenced = tmp_path / "noref.jsonl"
    unreferenced.write_text(json.dumps({"messages": [{"role": "user", "content": "Capital of Peru?"}]}) + "\n")
    with pytest.raises(DataError, match="the grader cannot grade these examples"):
        distill(teacher="rule:test-capitals", student="x", data=unreferenced, grader="exact", out=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_nothing_passing_is_an_error_that_keeps_the_dead_letters(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = _prompts(tmp_path / "p.jsonl", ["Peru", "Atlantis"])
    with pytest.raises(DataError, match=r"no teacher answer scored 1\.0 or more"):
        distill(teacher="rule:test-capitals", student=str(tiny_model_dir), data=data, grader="exact",
                out=tmp_path / "o", threshold=1.0)
    assert len((tmp_path / "o" / "rejected.jsonl").read_text().splitlines()) == 2


def test_logit_distillation_lowers_the_students_kl_to_the_teacher(tmp_path: Path, tiny_model_dir: Path) -> None:
    """Two tiny Llamas with the bundled tokenizer: the teacher is a random one fine-tuned a few steps to answer
    "<Topic> is here."; what is measured is how closely the student's next-token distributions follow the
    teacher's on held-out teacher answers."""
    from fathom.models import make_tiny_model
    from fathom.train import SFTArgs, train_sft

    topics = ["tides", "fog", "gales", "swell", "rain", "ice", "haze", "squalls", "sleet", "calm", "thunder",
              "drizzle", "snow", "mist"]
    rows = [{"messages": [{"role": "user", "content": f"Say something about {t}."},
                          {"role": "assistant", "content": f"{t.capitalize()} is here."}],
             "reference": {"text": f"{t.capitalize()} is here."}, "meta": {"id": t}} for t in topics]
    data = tmp_path / "examples.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    teacher = train_sft(SFTArgs(model=str(make_tiny_model(tmp_path / "random", seed=1)), data=str(data),
                                out=str(tmp_path / "teacher"), full=True, max_steps=40, learning_rate=0.01,
                                batch_size=7, device="cpu", progress=False)).out
    result = distill(teacher=str(teacher), student=str(tiny_model_dir), data=data, grader="rouge_l",
                     out=tmp_path / "run", threshold=0.0, method="logits", max_tokens=12, kl_examples=4,
                     keep_cut_off=True, device="cpu",
                     student_options={"max_steps": 12, "learning_rate": 0.01, "batch_size": 4,
                                      "max_completion_length": 12, "lora_rank": None, "beta": 0.0,
                                      "temperature": 1.0})
    assert result.teacher.kept == len(topics), result.teacher
    assert result.kl_to_teacher is not None
    assert result.kl_to_teacher["after"] < 0.8 * result.kl_to_teacher["before"], result.kl_to_teacher
    assert result.student_result["steps"] == 12
    assert (tmp_path / "run" / "student" / "config.json").is_file()


def test_logits_refuses_a_teacher_with_another_vocabulary(tmp_path: Path, tiny_model_dir: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    config = json.loads((tiny_model_dir / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "vocab_size": 1000}))
    data = _prompts(tmp_path / "p.jsonl", ["France"])
    with pytest.raises(ConfigError, match="vocabulary of 1000 tokens, the student"):
        distill(teacher=str(other), student=str(tiny_model_dir), data=data, grader="exact", out=tmp_path / "o",
                method="logits")
    assert not (tmp_path / "o").exists()

