"""A scripted teacher for the synth tests: answers built from the chunk, with misbehaviour on cue.

Every chunk gets three items about its *last* sentence (the part no earlier chunk repeats) and the
asset named in it (``P-101`` style): a ``fact`` answer quoting the sentence, a ``status`` call and a
``maintain`` sequence. Markers in the chunk text change that:

* ``MALFORMED``: the first answer is cut-off JSON; the repair request gets the valid one.
* ``BROKEN``: every answer is cut-off JSON (``malformed_json`` after the repair).
* ``WRONGTOOL``: the status item calls ``get_stats`` (``unknown_tool``).
* ``BADARGS``: the status item passes ``asset: 101`` (``bad_arguments``).
* ``WRONGSEQ``: the maintain item calls only ``get_status`` (``wrong_sequence``).
* ``UNGROUNDED``: the fact item quotes a sentence the chunk does not hold (``ungrounded``).
* ``DUPLICATE``: the maintain item asks the fact item's question (``duplicate``).
* ``SHORT``: only two items (``missing``).
* ``PARAPHRASE``: the status item becomes a second fact item, reworded (``near_duplicate``).
* ``EXTRA``: a fourth item (``surplus``: not asked for, so not counted).
* ``family=NAME``: the items' family is NAME (default: the asset).
* ``ERROR500`` (server only): the first request for the chunk answers HTTP 500; the retry succeeds.
* ``DOWN`` (server only): every request answers HTTP 500 (``teacher_error``).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from typing import Any

from fathom.synth import TeacherRequest, sentence_spans

TOOLS = [
    {"type": "function", "function": {"name": "get_status", "description": "Live status of an asset.",
                                      "parameters": {"type": "object", "properties": {"asset": {"type": "string"}},
                                                     "required": ["asset"]}}},
    {"type": "function", "function": {"name": "schedule_work", "description": "Schedule work on an asset.",
                                      "parameters": {"type": "object", "properties": {
                                          "asset": {"type": "string"}, "task": {"type": "string"},
                                          "days": {"type": "integer"}}, "required": ["asset", "task", "days"]}}},
]
CATEGORIES = {
    "fact": {"description": "A question a sentence of the document answers.", "tools": []},
    "status": {"description": "The live status of an asset the document names.", "tools": ["get_status"]},
    "maintain": {"description": "Check an asset, then schedule work on it.", "tools": ["get_status", "schedule_work"]},
}
_ASSET = re.compile(r"\b[A-Z]{1,3}-\d{1,4}\b")
_SOURCE = re.compile(r"^source: (?P<source>.+) \(part (?P<part>\d+)\)$", re.MULTILINE)


def chunk_of(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """``(chunk id, chunk text)`` from the rendered task prompt's first user message."""
    user = next(m["content"] for m in messages if m["role"] == "user")
    match = _SOURCE.search(user)
    assert match, user[:200]
    return f"{match['source']}#{int(match['part']) - 1}", user[match.end():].strip()


def is_repair(messages: list[dict[str, Any]]) -> bool:
    return messages[-1]["role"] == "user" and len(messages) > 2


def items_for(text: str) -> list[dict[str, Any]]:
    spans = sentence_spans(text)
    sentence = text[spans[-1][0]:spans[-1][1]]
    found = _ASSET.findall(sentence) or _ASSET.findall(text) or ["X-0"]
    asset = found[0]
    fact = {"category": "fact", "question": f"What does the documentation say about {asset}?",
            "tool_calls": [], "answer": sentence, "quotes": [sentence], "family": asset}
    status = {"category": "status", "question": f"What is the current status of {asset}?",
              "tool_calls": [{"name": "get_status", "arguments": {"asset": asset}}], "answer": None,
              "quotes": [], "family": asset}
    maintain = {"category": "maintain", "question": f"Check {asset} and schedule its inspection in 7 days.",
                "tool_calls": [{"name": "get_status", "arguments": {"asset": asset}},
                               {"name": "schedule_work", "arguments": {"asset": asset, "task": "inspection",
                                                                       "days": 7}}],
                "answer": None, "quotes": [], "family": asset}
    if "WRONGTOOL" in text:
        status["tool_calls"][0]["name"] = "get_stats"
    if "BADARGS" in text:
        status["tool_calls"][0]["arguments"] = {"asset": 101}
    if "WRONGSEQ" in text:
        maintain["tool_calls"] = maintain["tool_calls"][:1]
    if "UNGROUNDED" in text:
        fact["quotes"] = [f"{asset} was replaced by a robot in 1999."]
    if "DUPLICATE" in text:
        maintain["question"] = fact["question"]
    family = re.search(r"family=(\w+)", text)
    if family:
        for item in (fact, status, maintain):
            item["family"] = family[1]
    if "PARAPHRASE" in text:
        status = {**fact, "question": f"What exactly does the documentation say about {asset}?"}
    items = [fact, status, maintain]
    if "EXTRA" in text:
        items.append({**fact, "question": f"Where is {asset} described?"})
    return items[:2] if "SHORT" in text else items


def answer_text(messages: list[dict[str, Any]]) -> str:
    _, text = chunk_of(messages)
    good = json.dumps({"examples": items_for(text)})
    if "BROKEN" in text or ("MALFORMED" in text and not is_repair(messages)):
        return "Here you go: " + good[: len(good) // 2]
    return good


class ScriptedTeacher:
    """The script as an in-process :class:`~fathom.synth.Teacher`, counting requests per chunk."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def complete(self, request: TeacherRequest) -> str:
        with self._lock:
            self.calls[request.chunk.id] += 1
        return answer_text(list(request.messages))
