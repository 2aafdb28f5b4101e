"""lm-evaluation-harness on Fathom models: the adapter's log-likelihoods equal lm-eval's own HF model's, its
generation requests say what the task asked, and ``--lm-eval-task`` runs local YAML tasks (a JSONL file
beside them, nothing from the hub) inside the forgetting check, with paired differences per document."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

pytest.importorskip("lm_eval", reason="lm-eval is not installed (pip install 'fathom[lm-eval]')")

from lm_eval.api.instance import Instance
from tests.cli._run import run

from fathom.backends import ChatRequest, Completion, load_backend
from fathom.errors import ConfigError
from fathom.evaluate import forgetting_check
from fathom.evaluate._lm_eval_model import FathomLM


class Adder:
    """Answers "Q: a+b" prompts with the sum (plus ``off``); records the requests it got."""

    supports_batching: ClassVar[bool] = True

    def __init__(self, name: str, off: int = 0):
        self.model_name, self.off, self.requests = name, off, []

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        self.requests += list(requests)
        out = []
        for request in requests:
            match = re.search(r"Q: (\d+)\+(\d+)", request.messages[-1]["content"])
            text = str(int(match.group(1)) + int(match.group(2)) + self.off) if match else "?"
            out.append(Completion({"role": "assistant", "content": text}, text))
        return out


def _tasks(folder: Path, n: int = 12) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "sums.jsonl"
    data.write_text("".join(json.dumps({"question": f"{i}+{i + 3}", "answer": str(2 * i + 3)}) + "\n"
                            for i in range(n)))
    common = (f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\ntest_split: test\n"
              "doc_to_text: \"Q: {{question}}\\nA:\"\n")
    (folder / "sums_gen.yaml").write_text(
        "task: fathom_sums_gen\n" + common + "output_type: generate_until\ndoc_to_target: \"{{answer}}\"\n"
        "generation_kwargs:\n  until: [\"\\n\"]\n  max_gen_toks: 6\n"
        "metric_list:\n  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n")
    (folder / "sums_mc.yaml").write_text(
        "task: fathom_sums_mc\n" + common + "output_type: multiple_choice\n"
        "doc_to_choice: \"{{[answer, '0']}}\"\ndoc_to_target: 0\n"
        "metric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n")
    return folder


def _instances(kind: str, args: list[tuple[Any, ...]]) -> list[Instance]:
    return [Instance(kind, {}, a, i) for i, a in enumerate(args)]


def test_loglikelihoods_equal_lm_evals_own_hf_model(tiny_model_dir: Path) -> None:
    from lm_eval.models.huggingface import HFLM

    pairs = [("Q: 2+2\nA:", " 4"), ("The sky is", " blue today"), ("", "hello world"), ("Hello ", "there")]
    reference = HFLM(pretrained=str(tiny_model_dir), device="cpu", batch_size=2, dtype="float32")
    ours = FathomLM(load_backend(str(tiny_model_dir), device="cpu"), batch_size=3)
    expected = reference.loglikelihood(_instances("loglikelihood", pairs))
    got = ours.loglikelihood(_instances("loglikelihood", pairs))
    assert [g for _, g in got] == [g for _, g in expected]
    assert [lp for lp, _ in got] == pytest.approx([lp for lp, _ in expected], abs=1e-4)
    text = [("a longer text to score in rolling windows, " * 3,)]
    assert ours.loglikelihood_rolling(_instances("loglikelihood_rolling", text)) == pytest.approx(
        reference.loglikelihood_rolling(_instances("loglikelihood_rolling", text)), abs=1e-3)


def test_generation_requests_carry_the_tasks_settings_and_chats() -> None:
    backend = Adder("adder")
    lm = FathomLM(backend, max_tokens=9)
    chat = lm.apply_chat_template([{"role": "system", "content": "Add."}, {"role": "user", "content": "Q: 1+2"}])
    texts = lm.generate_until(_instances("generate_until", [
        ("Q: 2+2\nA:", {"until": ["\n", "Q:"], "max_gen_toks": 5}), (chat, {"until": "\n\n", "do_sample": False})]))
    assert texts == ["4", "3"]
    raw, built = backend.requests
    assert raw.messages == [{"role": "user", "content": "Q: 2+2\nA:"}]
    assert raw.sampling.stop == ("\n", "Q:") and raw.sampling.max_tokens == 5 and raw.sampling.temperature == 0
    assert built.messages[0] == {"role": "system", "content": "Add."} and built.sampling.max_tokens == 9
    with pytest.raises(ConfigError, match=r"only the transformers engine gives.*--engine transformers"):
        lm.loglikelihood(_instances("loglikelihood", [("Q: 2+2\nA:", " 4")]))


def test_lm_eval_tasks_in_the_forgetting_check_are_compared_per_document(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path / "tasks")
    result = forgetting_check(Adder("right"), {"sft": Adder("wrong", off=1)}, tmp_path / "out", per_category=1,
                              lm_eval_tasks=["fathom_sums_gen"], lm_eval_include=[tasks], quiet=True)
    lm = result["lm_eval"]
    assert lm["tasks"] == ["fathom_sums_gen"] and lm["n_samples"] == {"fathom_sums_gen": 12}
    assert lm["models"]["base"]["fathom_sums_gen"]["exact_match,none"] == 1.0
    assert lm["models"]["sft"]["fathom_sums_gen"]["exact_match,none"] == 0.0
    diff = lm["differences"]["sft-base"]["fathom_sums_gen"]["exact_match,none"]
    assert diff["mean"] == -1.0 and diff["n"] == 12 and diff["outcome"] == "forgetting"
    assert "| fathom_sums_gen | exact_match,none | 1.0000 | 0.0000 | -100.0 [-100.0, -100.0] |" in (
        tmp_path / "out/forgetting.md").read_text()


def test_cli_runs_local_tasks_on_two_tiny_models(tiny_model_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from fathom.models import make_tiny_model

    tuned = make_tiny_model(tmp_path / "tuned", seed=1)
    tasks = _tasks(tmp_path / "tasks", n=4)
    code, stdout, stderr = run(["eval", "forgetting", "--base", str(tiny_model_dir), "--tuned", f"sft={tuned}",
                                "--out", str(tmp_path / "out"), "--per-category", "1", "--max-tokens", "2",
                                "--lm-eval-task", "fathom_sums_gen", "--lm-eval-task", "fathom_sums_mc",
                                "--lm-eval-include", str(tasks), "--json"], capsys)
    assert code == 0, stderr
    lm = json.loads(stdout)["lm_eval"]
    assert set(lm["models"]["sft"]) == {"fathom_sums_gen", "fathom_sums_mc"}
    assert 0.0 <= lm["models"]["sft"]["fathom_sums_mc"]["acc,none"] <= 1.0
    assert lm["differences"]["sft-base"]["fathom_sums_mc"]["acc,none"]["n"] == 4
    assert list((tmp_path / "out/lm_eval/sft").glob("cache-*.db")), "responses are cached for a re-run"


def test_an_unknown_task_is_named_before_any_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = _tasks(tmp_path / "tasks")
    code, _, stderr = run(["eval", "forgetting", "--base", "smollm2-135m", "--tuned", "smollm2-135m",
                           "--out", str(tmp_path / "out"), "--lm-eval-task", "fathom_sums_gne",
                           "--lm-eval-include", str(tasks), "--lm-eval-include", str(tmp_path / "nope")], capsys)
    assert code == 2 and "--lm-eval-include: " in stderr and "no such folder" in stderr, stderr
    code, _, stderr = run(["eval", "forgetting", "--base", "smollm2-135m", "--tuned", "smollm2-135m",
                           "--out", str(tmp_path / "out"), "--lm-eval-task", "fathom_sums_gne",
                           "--lm-eval-include", str(tasks)], capsys)
    assert code == 2 and "unknown lm-eval task 'fathom_sums_gne'. Did you mean 'fathom_sums_gen'?" in stderr, stderr
    assert not (tmp_path / "out").exists()
