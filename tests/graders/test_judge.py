"""The LLM-judge panel against a real OpenAI-compatible server on loopback (see conftest.py).

Judges are given as model spec URLs and reach the scripted server through Fathom's HTTP backend
(``fathom.backends.load_backend``), so request building, parsing, repair, caching and pooling are
tested end to end.
"""

from __future__ import annotations

import math
import re
import socket
from typing import Any

import pytest

from fathom.errors import BackendError, ConfigError
from fathom.graders import build_grader, krippendorff_alpha_interval, llm_judge, panel_agreement, parse_judge_reply

ScriptedJudges = Any  # the `judges` fixture's type, defined in tests/graders/conftest.py

EXAMPLE = {"messages": [{"role": "user", "content": "Forecast for Viking?"},
                        {"role": "assistant", "content": "Southwest 5 to 7, rain, good."}],
           "meta": {"id": "v1"}}


def criterion(messages: list[dict[str, Any]]) -> str:
    match = re.search(r"## Criterion: (\w+)", messages[1]["content"])
    return match.group(1) if match else "pairwise"


def is_repair(messages: list[dict[str, Any]]) -> bool:
    return len(messages) > 2 and "could not be read" in messages[-1]["content"]


def test_rubric_scores_parse_and_pool(judges: ScriptedJudges) -> None:
    replies = {"accuracy": '{"reason": "matches the reference", "score": 5}',
               "completeness": 'Sure!\n```json\n{"reason": "misses the sea state", "score": 4,}\n```',
               "relevance": '{"reason": "on point", "score": 3}'}
    judges.script = lambda model, messages: replies[criterion(messages)]
    grade = build_grader({"name": "llm_judge", "judges": f"{judges.url}#judge-a"})
    g = grade(EXAMPLE, "Southwest 5 to 7, rain, good.")
    # (5-1)/4 = 1, (4-1)/4 = 0.75 (trailing comma and fence tolerated), (3-1)/4 = 0.5; mean 0.75
    assert g.components["accuracy"] == 1.0 and g.components["completeness"] == 0.75
    assert g.components["relevance"] == 0.5 and g.score == pytest.approx(0.75)
    assert g.components["judge.judge-a"] == pytest.approx(0.75)
    assert g.components["judge_unparsed"] == 0.0 and g.components["judge_spread"] == 0.0
    assert "completeness 0.75: misses the sea state" in g.reason
    assert len(judges.requests) == 3  # one criterion per call
    body = judges.requests[0]
    assert body["temperature"] == 0.0 and body["model"] == "judge-a"
    user = body["messages"][1]["content"]
    assert "## Reference answer (known to be correct)\nSouthwest 5 to 7, rain, good." in user
    assert "Forecast for Viking?" in user and '"reason"' in user


def test_calls_are_cached_per_grader_instance(judges: ScriptedJudges) -> None:
    grade = llm_judge(judges=f"{judges.url}#judge-a", criteria=["accuracy"])
    first = grade(EXAMPLE, "Southwest 5")
    second = grade(EXAMPLE, "Southwest 5")
    assert first == second and len(judges.requests) == 1
    assert grade.stats["cache_hits"] == 1 and grade.stats["requests"] == 1
    grade(EXAMPLE, "Northerly 3")  # a different completion is a new call
    assert len(judges.requests) == 2
    llm_judge(judges=f"{judges.url}#judge-a", criteria=["accuracy"])(EXAMPLE, "Southwest 5")
    assert len(judges.requests) == 3  # a new instance has its own cache


def test_malformed_reply_is_repaired_once(judges: ScriptedJudges) -> None:
    def script(model: str, messages: list[dict[str, Any]]) -> str:
        return '{"reason": "fixed", "score": 2}' if is_repair(messages) else "I would give it 2 out of 5."

    judges.script = script
    grade = llm_judge(judges=f"{judges.url}#judge-a", criteria=["accuracy"])
    g = grade(EXAMPLE, "Southwest 5")
    assert g.score == 0.25 and g.components["judge_unparsed"] == 0.0  # (2 - 1) / 4
    assert grade.stats["repairs"] == 1 and grade.stats["unparsed"] == 0
    repair = judges.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": "I would give it 2 out of 5."}
    assert "no JSON object in the reply" in repair[-1]["content"]


def test_unparseable_after_repair_scores_minimum(judges: ScriptedJudges) -> None:
    replies = {"accuracy": '{"reason": "good", "score": 5}', "completeness": '{"reason": "too high", "score": 11}',
               "relevance": "{'reason': 'single quotes', 'score': 4"}
    judges.script = lambda model, messages: replies[criterion(messages)]
    grade = llm_judge(judges=f"{judges.url}#judge-a")
    g = grade(EXAMPLE, "Southwest 5")
    # completeness (out of range) and relevance (not JSON) stay unreadable after their repair:
    # each counts as the minimum (0); score = (1 + 0 + 0) / 3; 2 of 3 replies unparsed
    assert g.components["completeness"] == 0.0 and g.components["relevance"] == 0.0
    assert g.score == pytest.approx(1 / 3)
    assert g.components["judge_unparsed"] == pytest.approx(2 / 3)
    assert grade.stats["unparsed"] == 2 and grade.stats["repairs"] == 2
    assert len(judges.requests) == 5  # 3 first calls + 2 repairs
    assert "2 judge replies unreadable" in g.reason


def test_panel_pools_judges_and_reports_spread(judges: ScriptedJudges) -> None:
    judges.script = lambda model, messages: f'{{"reason": "r", "score": {5 if model == "judge-a" else 3}}}'
    grade = llm_judge(judges=[f"{judges.url}#judge-a", {"spec": f"{judges.url}#judge-b", "retries": 0}],
                      criteria=["accuracy", {"name": "tone", "description": "Is it in Shipping Forecast style?",
                                             "low": 0, "high": 10, "weight": 3}])
    g = grade(EXAMPLE, "Southwest 5")
    # judge-a: accuracy (5-1)/4 = 1, tone 5/10 = 0.5 -> (1 + 3 * 0.5) / 4 = 0.625
    # judge-b: accuracy (3-1)/4 = 0.5, tone 3/10 = 0.3 -> (0.5 + 0.9) / 4 = 0.35
    assert g.components["judge.judge-a"] == pytest.approx(0.625)
    assert g.components["judge.judge-b"] == pytest.approx(0.35)
    assert g.components["accuracy"] == pytest.approx(0.75) and g.components["tone"] == pytest.approx(0.4)
    assert g.score == pytest.approx((0.625 + 0.35) / 2)
    assert g.components["judge_spread"] == pytest.approx(0.275)
    agreement = grade.agreement([g, grade(EXAMPLE, "Northerly 3")], criterion="accuracy")
    assert agreement["mean_abs_diff"] == pytest.approx(0.5) and agreement["judges"] == 2


def test_pairwise_counts_only_consistent_wins(judges: ScriptedJudges) -> None:
    good, bad = "Southwest 5 to 7, rain, good.", "Sunny."

    def script(model: str, messages: list[dict[str, Any]]) -> str:
        first = messages[1]["content"].split("## Response A\n")[1].split("\n")[0]
        if model == "biased":  # always prefers the first position
            return '{"reason": "first is better", "winner": "A"}'
        if model == "broken":
            return "A, obviously"
        return '{"reason": "matches", "winner": "%s"}' % ("A" if first == good else "B")

    judges.script = script
    fair_and_biased = llm_judge(judges=[f"{judges.url}#fair", f"{judges.url}#biased"])
    result = fair_and_biased.judge_pairwise(EXAMPLE, good, bad)
    assert result.votes == {"fair": "a", "biased": "tie"}
    assert result.consistent == {"fair": True, "biased": False}
    assert result.winner == "tie" and result.score_a == 0.5  # 1 vote each for "a" and "tie"
    two_fair = llm_judge(judges=[f"{judges.url}#fair", f"{judges.url}#fair", f"{judges.url}#biased"])
    result = two_fair.judge_pairwise(EXAMPLE, bad, good)
    assert result.votes == {"fair": "b", "fair#2": "b", "biased": "tie"} and result.winner == "b"
    broken = llm_judge(judges=f"{judges.url}#broken").judge_pairwise(EXAMPLE, good, bad)
    assert broken.winner == "tie" and broken.unparsed == 2  # both orders unreadable after repair


def test_judge_server_errors_surface() -> None:
    with socket.socket() as closed:  # bound but not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        grade = llm_judge(judges={"spec": f"http://127.0.0.1:{port}/v1#nobody", "retries": 0, "timeout": 2})
        with pytest.raises(BackendError, match="failed after 1 attempts"):
            grade(EXAMPLE, "x")


def test_config_errors_are_listed_together() -> None:
    with pytest.raises(ConfigError) as info:
        llm_judge(judges=[42, {"model": "x"}], criteria=None, max_tokens=0)
    text = str(info.value)
    assert "judges[0]" in text and "judges[1]" in text and "max_tokens" in text
    with pytest.raises(ConfigError, match="'clarity' is not a default criterion"):
        llm_judge(judges="http://127.0.0.1:9/v1#x", criteria=["clarity"])
    with pytest.raises(ConfigError, match="low and high must be integers"):
        llm_judge(judges="http://127.0.0.1:9/v1#x", criteria=[{"name": "a", "description": "b", "low": 5, "high": 1}])


def test_parse_judge_reply_edge_cases() -> None:
    assert parse_judge_reply('{"reason": "x", "score": "4"}') == (4, "x", "")
    assert parse_judge_reply('{"reason": "x", "score": 4.0}') == (4, "x", "")
    assert parse_judge_reply('{"reason": "x", "score": 4.5}')[0] is None
    assert parse_judge_reply('{"reason": "x", "score": true}')[0] is None
    assert parse_judge_reply('{"score": 4} or maybe {"score": 5}')[0] is None  # two objects: not JSON
    assert parse_judge_reply('{"score": 0}', low=0, high=1) == (0, "", "")


def test_krippendorff_alpha_matches_the_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x
    # 12 units with missing values; the published interval alpha is 0.849.
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
    c = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
    agreement = panel_agreement({"a": a, "b": b, "c": c, "d": d})
    assert round(agreement["krippendorff_alpha"], 3) == 0.849
    assert agreement["items"] == 11  # unit 12 has one value and is not pairable
    assert math.isnan(krippendorff_alpha_interval([[2, 2], [2, 2]]))  # no variation: undefined
