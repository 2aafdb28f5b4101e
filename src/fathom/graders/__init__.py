"""Graders: one ``grade(example, completion) -> Grade`` function serves data filtering, evaluation,
DPO pair mining and reinforcement-learning reward.

Covers: the contract (:class:`Grade`, :class:`Grader`), the registry (:func:`build_grader` turns a
recipe's ``grader: {name: ..., **params}`` into a grader), the generic graders (``exact``,
``regex``, ``rouge_l``, ``chrf``, ``bleu``, ``json_schema``, ``tool_call``, ``sql_exec``,
``llm_judge``, ``weighted``, ``faithfulness``: how much of an answer its sources support, with the
content words it compares, :func:`content_tokens`, also used by the gateway's topic judge; ``forgetting``:
each example's own check, named in ``meta.check``, for the general-ability set; ``openai``:
OpenAI grader configurations, with python graders run in a limited subprocess by :class:`PythonSandbox`),
the check of tool-call references against their examples' tools (:func:`check_tool_references`,
:func:`tool_reference_problems`; ``fathom data validate`` runs it), judge-panel helpers, adapters
that make a grader a TRL reward function or an Amazon Nova RFT reward Lambda, and reward checks
before RL (:func:`check_reward`, :func:`run_reward_check`: spread, strict correctness, hack probes,
advice), and :func:`grading_problems`: the examples a grader cannot grade, checked before a model loads.
Not covered: running evaluations over datasets (``fathom.evaluate``), domain graders (registered by
their domain plug-ins, e.g. ``shipping``).

>>> grade = build_grader({"name": "exact", "ignore_punctuation": True})
>>> grade({"reference": {"text": "Gale warning"}}, "gale warning!").score
1.0
"""

from __future__ import annotations

from fathom.graders._agreement import krippendorff_alpha_interval, panel_agreement
from fathom.graders._check import (
    REWARD_ADVICE,
    CheckThresholds,
    ComponentStats,
    RewardCheck,
    StrictStats,
    check_reward,
    run_reward_check,
)
from fathom.graders._faithfulness import content_tokens, faithfulness
from fathom.graders._forgetting import forgetting
from fathom.graders._json_schema import json_schema
from fathom.graders._judge import LLMJudge, PairwiseResult, llm_judge
from fathom.graders._judge_prompts import DEFAULT_CRITERIA, Criterion, parse_judge_reply
from fathom.graders._nova import nova_lambda_handler, write_nova_lambda
from fathom.graders._openai import OpenAIGrader, openai_grader
from fathom.graders._probes import DEFAULT_PROBES, Probe, ProbeResult
from fathom.graders._protocol import Grade, Grader, completion_message, completion_text, grading_problems
from fathom.graders._registry import build_grader, grader_names, register_grader
from fathom.graders._sandbox import PythonSandbox, SandboxResult
from fathom.graders._sql import sql_exec
from fathom.graders._text import bleu, chrf, exact, regex, rouge_l
from fathom.graders._toolcall import DEFAULT_TOOL_CALL_WEIGHTS, tool_call
from fathom.graders._toolcall_refs import check_tool_references, tool_reference_problems
from fathom.graders._trl import TrlReward, as_trl_reward
from fathom.graders._weighted import weighted

__all__ = [
    "DEFAULT_CRITERIA",
    "DEFAULT_PROBES",
    "DEFAULT_TOOL_CALL_WEIGHTS",
    "REWARD_ADVICE",
    "CheckThresholds",
    "ComponentStats",
    "Criterion",
    "Grade",
    "Grader",
    "LLMJudge",
    "OpenAIGrader",
    "PairwiseResult",
    "Probe",
    "ProbeResult",
    "PythonSandbox",
    "RewardCheck",
    "SandboxResult",
    "StrictStats",
    "TrlReward",
    "as_trl_reward",
    "bleu",
    "build_grader",
    "check_reward",
    "check_tool_references",
    "chrf",
    "completion_message",
    "completion_text",
    "content_tokens",
    "exact",
    "faithfulness",
    "forgetting",
    "grader_names",
    "grading_problems",
    "json_schema",
    "krippendorff_alpha_interval",
    "llm_judge",
    "nova_lambda_handler",
    "openai_grader",
    "panel_agreement",
    "parse_judge_reply",
    "regex",
    "register_grader",
    "rouge_l",
    "run_reward_check",
    "sql_exec",
    "tool_call",
    "tool_reference_problems",
    "weighted",
    "write_nova_lambda",
]
