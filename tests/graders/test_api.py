"""The public surface of ``fathom.graders``: ``__all__`` is pinned, and every built-in grader is
registered, buildable by name and documented with a passing and a failing doctest."""

from __future__ import annotations

import doctest

import pytest

import fathom.graders
from fathom.graders import Grade, build_grader, grader_names, register_grader
from fathom.graders._registry import _BUILTIN, _REGISTERED

EXPECTED_ALL = [
    "DEFAULT_CRITERIA", "DEFAULT_PROBES", "DEFAULT_TOOL_CALL_WEIGHTS", "REWARD_ADVICE", "CheckThresholds",
    "ComponentStats", "Criterion", "Grade", "Grader", "LLMJudge", "OpenAIGrader", "PairwiseResult", "Probe",
    "ProbeResult", "PythonSandbox", "RewardCheck", "SandboxResult", "StrictStats", "TrlReward", "as_trl_reward",
    "bleu", "build_grader", "check_reward", "check_tool_references", "chrf", "completion_message", "completion_text",
    "content_tokens", "exact", "faithfulness", "forgetting", "grader_names", "grading_problems",
    "json_schema", "krippendorff_alpha_interval", "llm_judge", "nova_lambda_handler", "openai_grader",
    "panel_agreement", "parse_judge_reply", "regex", "register_grader", "rouge_l", "run_reward_check", "sql_exec",
    "tool_call", "tool_reference_problems", "weighted", "write_nova_lambda",
]
BUILTINS = ["bleu", "chrf", "exact", "faithfulness", "forgetting", "json_schema", "llm_judge", "openai", "regex",
            "rouge_l", "sql_exec", "tool_call", "weighted"]


def _factory(name: str) -> object:
    """The public factory a built-in name refers to (``openai`` -> ``openai_grader``)."""
    return getattr(fathom.graders, _BUILTIN[name].rpartition(":")[2])


def test_all_is_pinned() -> None:
    assert fathom.graders.__all__ == EXPECTED_ALL
    for name in EXPECTED_ALL:
        assert hasattr(fathom.graders, name), name


def test_builtins_are_registered_and_public() -> None:
    assert sorted(_BUILTIN) == BUILTINS
    assert set(BUILTINS) <= set(grader_names())
    for name in BUILTINS:
        assert _factory(name).__module__.startswith("fathom.graders._"), name


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_documents_a_pass_and_a_fail(name: str) -> None:
    factory = _factory(name)
    doc = factory.__doc__ or ""
    assert "Why:" in doc, f"{name}: the docstring must say why the check matters"
    examples = [ex for ex in doctest.DocTestParser().get_examples(doc) if ex.want.strip()]
    wants = " ".join(ex.want for ex in examples)
    assert "1.0" in wants or "0.75" in wants, f"{name}: no passing example"
    assert "0.0" in wants or "0.25" in wants or "True" in wants, f"{name}: no failing example"


def test_register_grader_adds_a_name() -> None:
    @register_grader("always_half")
    def always_half() -> object:
        return lambda example, completion: Grade(0.5)

    try:
        assert "always_half" in grader_names()
        assert build_grader("always_half")({}, "x").score == 0.5
    finally:
        _REGISTERED.pop("always_half")


def test_grade_contract() -> None:
    assert Grade(0.8, gates={"json_valid": False}).score == 0.0  # a failed gate zeroes the score
    with pytest.raises(ValueError, match=r"Grade.score must be in \[0, 1\]"):
        Grade(1.5)
