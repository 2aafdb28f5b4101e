"""Reward checks before RL (``check_reward``, ``run_reward_check``): a binary reward is flagged
``binary``, hackable ones ``hackable`` with the probe named, and the ``shipping`` grader passes
every probe and is ``ready`` on references with field-level perturbations. No model is needed: the
samples are injected, or come from a scripted backend that records its requests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from fathom.backends import ChatRequest, Completion
from fathom.errors import ConfigError, DataError
from fathom.graders import (
    DEFAULT_PROBES,
    REWARD_ADVICE,
    Grade,
    build_grader,
    check_reward,
    completion_text,
    run_reward_check,
)

JUNK = "Sorry, I cannot forecast that."


@pytest.fixture(scope="module")
def shipping_pool() -> list[dict[str, Any]]:
    """Every sea area of two synthetic runs (62 examples), built by the shipping dataset builder."""
    from fathom.domains.shipping.lm import examples_from_stats
    from fathom.domains.shipping.writer import random_stats

    return [*examples_from_stats("20250105T00Z", random_stats(0)),
            *examples_from_stats("20250105T12Z", random_stats(1))]


@pytest.fixture(scope="module")
def shipping_examples(shipping_pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first 12 areas of the first run: neighbours, so their forecasts are much alike."""
    return shipping_pool[:12]


def _swap(text: str, other: str, fields: set[int]) -> str:
    """``text`` with the sentences at ``fields`` (0 wind ... 3 visibility) taken from ``other``."""
    mine, theirs = text.split(". "), other.split(". ")
    return ". ".join(theirs[j] if j in fields else mine[j] for j in range(4))


def perturbed(examples: Sequence[dict[str, Any]], i: int) -> list[str]:
    """8 plausible samples for example ``i``: the reference, five with one field from another area,
    one with two, and one that does not parse."""
    ref = examples[i]["reference"]["text"]
    other = [examples[(i + k) % len(examples)]["reference"]["text"] for k in range(7)]
    return [ref, *(_swap(ref, other[k], {(k - 1) % 4}) for k in range(1, 6)), _swap(ref, other[6], {0, 2}), JUNK]


def samples_for(examples: Sequence[dict[str, Any]]) -> list[list[str]]:
    return [perturbed(examples, i) for i in range(len(examples))]


def binary_grader(example: dict[str, Any], completion: Any) -> Grade:
    """All or nothing: 1 for the reference text exactly, else 0."""
    return Grade(float(completion_text(completion).strip() == example["reference"]["text"]))


def length_grader(example: dict[str, Any], completion: Any) -> Grade:
    """A reward that pays for length: 300 characters or more is full credit."""
    return Grade(min(1.0, len(completion_text(completion)) / 300))


def conversation_words_grader(example: dict[str, Any], completion: Any) -> Grade:
    """A buggy overlap reward: the share of the answer's words found anywhere in the conversation
    (prompt included), so echoing the prompt gets full credit."""
    words = completion_text(completion).lower().split()
    seen = {w for m in example["messages"] for w in str(m.get("content") or "").lower().split()}
    return Grade(sum(w in seen for w in words) / len(words) if words else 0.0)


# -- the shipping grader ------------------------------------------------------------------------

def test_shipping_grader_passes_every_probe_and_is_ready(shipping_examples: list[dict[str, Any]],
                                                         shipping_pool: list[dict[str, Any]]) -> None:
    strict = build_grader({"name": "shipping", "mode": "strict"})
    check = check_reward(build_grader("shipping"), shipping_examples, samples_for(shipping_examples), strict=strict,
                         pool=shipping_pool)
    assert check.failed_probes == [], check.render()
    assert check.advice == "ready" and check.issues == [], check.render()
    assert check.reference_score == 1.0
    probes = {p.name: p for p in check.probes}
    assert list(probes) == [p.name for p in DEFAULT_PROBES]
    for name in ("empty", "echo", "repeat", "long"):
        assert probes[name].mean == 0.0 and probes[name].n == len(shipping_examples), name  # the parse gate
    assert 0.0 < probes["wrong"].mean < probes["wrong"].threshold  # shared fields earn partial credit only
    assert probes["wrong"].n == len(shipping_examples)
    assert probes["duplicate_call"].passed is None and probes["duplicate_call"].n == 0  # no tool calls here
    # every prompt's samples differ, and the tolerant reward follows strict correctness closely
    assert check.zero_spread_share == 0.0 and check.reward.spread > 0.2
    assert check.strict.source == "shipping_grader_strict" and check.strict.correlation > 0.9
    assert check.strict.reward_when_correct == 1.0 > check.strict.reward_when_wrong
    assert {"wind_force", "strict_wind_force"} <= set(check.components) and check.gates["parses"] == 7 / 8
    assert "every probe stays under its limit" in check.advice_text


def test_shipping_grader_too_hard_and_too_easy(shipping_examples: list[dict[str, Any]]) -> None:
    grader = build_grader("shipping")
    hard = check_reward(grader, shipping_examples, [[JUNK, "Good."] for _ in shipping_examples])
    assert hard.advice == "too_hard" and hard.all_zero_share == 1.0
    assert "SFT first" in hard.advice_text
    easy = check_reward(grader, shipping_examples, [[e["reference"]["text"]] * 4 for e in shipping_examples])
    assert easy.advice == "too_easy" and easy.all_full_share == 1.0 and easy.zero_spread_share == 1.0


# -- hand-built rewards that must be flagged ------------------------------------------------------

def test_a_binary_reward_is_flagged_binary(shipping_examples: list[dict[str, Any]]) -> None:
    check = check_reward(binary_grader, shipping_examples, samples_for(shipping_examples))
    assert check.failed_probes == []  # exact match cannot be gamed, but it gives no partial credit
    assert check.extreme_share == 1.0 and 0.1 < check.reward.mean < 0.9
    assert check.advice == "binary" and check.issues == ["binary"]
    assert "partial credit" in check.advice_text


def test_a_reward_for_length_is_hackable_and_names_the_probes(shipping_examples: list[dict[str, Any]]) -> None:
    check = check_reward(length_grader, shipping_examples, samples_for(shipping_examples))
    assert check.advice == "hackable"
    assert {"long", "repeat"} <= set(check.failed_probes) and "empty" not in check.failed_probes
    assert "'long' (the reference plus other references" in check.advice_text
    assert "'repeat'" in check.advice_text


def test_credit_for_echoing_the_prompt_is_hackable(shipping_examples: list[dict[str, Any]]) -> None:
    check = check_reward(conversation_words_grader, shipping_examples, samples_for(shipping_examples))
    probes = {p.name: p for p in check.probes}
    assert probes["echo"].passed is False and probes["echo"].mean == 1.0
    assert check.advice == "hackable" and "'echo'" in check.advice_text
    assert probes["echo"].answer.startswith(shipping_examples[0]["messages"][1]["content"][:20])


def test_a_format_only_reward_is_hackable_by_a_wrong_answer(shipping_examples: list[dict[str, Any]],
                                                            shipping_pool: list[dict[str, Any]]) -> None:
    format_only = build_grader({"name": "regex", "pattern": r"^[A-Z][^.]*(\.[^.]*){3}\.$"})  # four sentences
    check = check_reward(format_only, shipping_examples, samples_for(shipping_examples), pool=shipping_pool)
    assert "wrong" in check.failed_probes and check.advice == "hackable"
    assert {p.name: p.mean for p in check.probes}["wrong"] == 1.0


def _tool_examples() -> list[dict[str, Any]]:
    tools = [{"type": "function", "function": {"name": name, "parameters": {
        "type": "object", "properties": {key: {"type": "string"}}, "required": [key]}}}
        for name, key in (("get_weather", "city"), ("get_time", "zone"))]
    calls = [("get_weather", "city", "Paris"), ("get_time", "zone", "UTC"), ("get_weather", "city", "Oslo")]
    rows = [{"messages": [{"role": "user", "content": f"What about {value}?"}], "tools": tools,
             "reference": {"tool_calls": [{"name": name, "arguments": {key: value}}]}} for name, key, value in calls]
    rows.append({"messages": [{"role": "user", "content": "Hello!"}], "tools": tools, "reference": {"tool_calls": []}})
    return rows


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": "",
            "tool_calls": [{"id": "c0", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]}


def right_call_present(example: dict[str, Any], completion: Any) -> Grade:
    """A lenient tool reward: full credit when every gold call appears among the calls made."""
    made = [(c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in (completion.get("tool_calls") if isinstance(completion, dict) else None) or []]
    gold = [(c["name"], c["arguments"]) for c in example["reference"]["tool_calls"]]
    return Grade(float(all(g in made for g in gold) and (bool(made) or not gold)))


def test_a_reward_blind_to_duplicate_calls_is_hackable() -> None:
    examples = _tool_examples()
    samples = [[_call("get_weather", {"city": "Paris"}), _call("get_time", {"zone": "UTC"})] for _ in examples]
    check = check_reward(right_call_present, examples, samples)
    probes = {p.name: p for p in check.probes}
    assert probes["duplicate_call"].passed is False and probes["duplicate_call"].n == 3  # not the no-call example
    assert check.advice == "hackable" and "'duplicate_call'" in check.advice_text
    assert probes["empty"].n == 3 and probes["long"].n == 0  # the no-call example has nothing to be wrong against
    # the tool_call grader counts a call made twice against exact_match and arg_accuracy, so the probe
    # stays under its limit (it scored 0.80 before; with one-argument calls now
    # 0.3 x name_f1 2/3 + 0.4 x arg_accuracy 1/2 + 0.2 x sequence 1/2 + 0.1 x exact 1/2 = 0.55)
    tool_call = {p.name: p for p in check_reward(build_grader("tool_call"), examples, samples).probes}
    assert tool_call["duplicate_call"].passed is True and tool_call["wrong"].passed is True
    assert tool_call["duplicate_call"].max == pytest.approx(0.55)


# -- the report ---------------------------------------------------------------------------------

def test_to_dict_is_json_with_the_documented_keys(shipping_examples: list[dict[str, Any]]) -> None:
    check = check_reward(build_grader("shipping"), shipping_examples, samples_for(shipping_examples))
    data = json.loads(json.dumps(check.to_dict()))
    assert data["schema"] == "fathom.reward_check/1" and data["advice"] in REWARD_ADVICE
    assert {"schema", "grader", "prompts", "n", "reward", "components", "gates", "zero_spread_share", "all_zero_share",
            "all_full_share", "extreme_share", "strict", "probes", "reference_score", "advice", "advice_text",
            "issues", "warnings", "thresholds", "meta"} == set(data)
    assert set(data["reward"]) == {"mean", "std", "spread", "zero_spread_share", "n"}
    assert set(data["probes"][0]) == {"name", "description", "threshold", "mean", "max", "n", "passed", "answer"}
    assert data["prompts"] == 12 and data["n"] == 8 and data["reward"]["n"] == 96
    text = check.render()
    assert "Advice: ready." in text and "wrong" in text and "duplicate_call  n/a" in text


def test_warnings_for_a_reward_that_does_not_follow_correctness(shipping_examples: list[dict[str, Any]]) -> None:
    tolerant = build_grader("shipping")

    def contrarian(example: dict[str, Any], completion: Any) -> Grade:
        return Grade(1.0 - tolerant(example, completion).score)

    check = check_reward(contrarian, shipping_examples, samples_for(shipping_examples),
                         strict=build_grader({"name": "shipping", "mode": "strict"}))
    assert check.strict.correlation is not None and check.strict.correlation < 0
    assert any("tracks strict correctness (shipping_grader_strict) weakly" in w for w in check.warnings)
    assert any("reference answers themselves score only 0.00" in w for w in check.warnings)
    assert any("the 'wrong' probe did not run" in w for w in check.warnings) is False  # 3 of 12 differ enough
    alike = check_reward(tolerant, shipping_examples[:3], samples_for(shipping_examples[:3]))
    assert {p.name: p.n for p in alike.probes}["wrong"] == 0  # three neighbouring areas: no clearly wrong answer
    assert any("the 'wrong' probe did not run" in w for w in alike.warnings)


def test_samples_must_match_the_examples_and_have_a_spread(shipping_examples: list[dict[str, Any]]) -> None:
    grader = build_grader("shipping")
    with pytest.raises(ConfigError, match="got 1 lists for 2 examples"):
        check_reward(grader, shipping_examples[:2], [["a", "b"]])
    with pytest.raises(ConfigError, match=r"at least 2 completions .* example\(s\) 2 have fewer"):
        check_reward(grader, shipping_examples[:2], [["a", "b"], ["a"]])


# -- sampling -----------------------------------------------------------------------------------

class ScriptedBackend:
    """Answers each request with a perturbed reference chosen by its seed; records every request."""

    supports_batching: ClassVar[bool] = True
    model_name = "scripted"

    def __init__(self, examples: Sequence[dict[str, Any]]) -> None:
        self.by_prompt = {ex["messages"][1]["content"]: perturbed(examples, i) for i, ex in enumerate(examples)}
        self.requests: list[ChatRequest] = []

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        self.requests.extend(requests)
        out = []
        for r in requests:
            options = self.by_prompt[r.messages[-1]["content"]]
            text = options[(r.sampling.seed or 0) % len(options)]
            out.append(Completion({"role": "assistant", "content": text}, text, "stop", 10, 20))
        return out


def test_run_reward_check_samples_n_seeded_copies_per_prompt(shipping_examples: list[dict[str, Any]]) -> None:
    backend = ScriptedBackend(shipping_examples)
    check = run_reward_check(build_grader("shipping"), shipping_examples, backend=backend, n=8, limit=5,
                             temperature=0.7, max_tokens=64, seed=8)
    assert len(backend.requests) == 5 * 8
    assert [r.sampling.seed for r in backend.requests] == list(range(8, 8 + 40))
    assert {(r.sampling.temperature, r.sampling.max_tokens) for r in backend.requests} == {(0.7, 64)}
    first = backend.requests[:8]
    assert all(r.messages == shipping_examples[0]["messages"][:2] for r in first)  # reference turn left out
    assert check.prompts == 5 and check.n == 8 and check.advice == "ready", check.render()
    assert check.meta == {"model": "scripted", "temperature": 0.7, "max_tokens": 64, "seed": 8,
                          "truncated_share": 0.0}


def test_run_reward_check_rejects_bad_arguments_before_sampling(shipping_examples: list[dict[str, Any]],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import fathom.backends

    def no_model(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the model must not load")

    monkeypatch.setattr(fathom.backends, "load_backend", no_model)
    grader = build_grader("shipping")
    with pytest.raises(ConfigError) as info:
        run_reward_check(grader, shipping_examples, model="tiny", n=1, temperature=0.0)
    text = str(info.value)
    assert "n: samples per prompt must be at least 2" in text and "temperature: must be > 0" in text
    with pytest.raises(ConfigError, match="not both"):
        run_reward_check(grader, shipping_examples, model="tiny", backend=ScriptedBackend(shipping_examples))
    no_reference = [{"messages": [{"role": "user", "content": "Viking"}]}]
    with pytest.raises(DataError, match="example 1: The shipping grader needs example\\['reference'\\]"):
        run_reward_check(grader, no_reference, model="tiny")
    with pytest.raises(ConfigError, match="example 1: has no prompt"):
        run_reward_check(grader, [{"messages": [{"role": "assistant", "content": "x"}]}], model="tiny")
