"""The template teacher: the reply's JSON shape, quotes found verbatim in the chunk, tool calls that
pass the tools' own schemas, determinism, families that can be held out, and precise refusals."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import pypdf
import pytest

from fathom.domains.factory import (
    CATEGORIES,
    FAMILIES,
    FactoryTemplateTeacher,
    Plant,
    documents,
    heldout_families,
    passages,
    plant_tools,
    tool_schemas,
)
from fathom.domains.factory.categories import Category
from fathom.errors import ConfigError


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    text: str
    index: int
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    chunk: Chunk
    categories: tuple[Any, ...] = tuple(CATEGORIES)
    tools: tuple[dict[str, Any], ...] = tuple(tool_schemas())
    messages: tuple[dict[str, Any], ...] = ()
    n: int = 12
    seed: int = 0


def _chunks() -> list[Chunk]:
    """Every passage, plus the PDF's text as pypdf reads it, cut in 1500-character pieces."""
    chunks = [Chunk(f"{p.source}#{i}", p.source, p.text, i) for i, p in enumerate(passages())]
    pdf = next(d for d in documents() if d.name.endswith(".pdf"))
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    chunks += [Chunk(f"pdf#{i}", pdf.name, text[i: i + 1500], i) for i in range(0, len(text), 1500)]
    return chunks


@pytest.fixture(scope="module")
def replies() -> list[tuple[Chunk, dict[str, Any]]]:
    teacher = FactoryTemplateTeacher(seed=0)
    return [(chunk, json.loads(teacher.complete(Request(chunk)))) for chunk in _chunks()]


def test_the_reply_has_the_agreed_shape(replies: list[tuple[Chunk, dict[str, Any]]]) -> None:
    tools = {c.name: list(c.tools) for c in CATEGORIES}
    count = 0
    for _, reply in replies:
        assert list(reply) == ["examples"] and len(reply["examples"]) <= 12
        for example in reply["examples"]:
            count += 1
            assert list(example) == ["category", "question", "tool_calls", "answer", "quotes", "family"]
            assert example["family"] in FAMILIES[example["category"]]
            assert [c["name"] for c in example["tool_calls"]] == tools[example["category"]]
            assert (example["answer"] is None) == bool(example["tool_calls"])
            assert isinstance(example["question"], str) and "{" not in example["question"]
            assert example["quotes"] and all(isinstance(q, str) and q for q in example["quotes"])
    assert count > 500


def test_quotes_are_verbatim_in_the_chunk(replies: list[tuple[Chunk, dict[str, Any]]]) -> None:
    for chunk, reply in replies:
        for example in reply["examples"]:
            for quote in example["quotes"]:
                assert quote in chunk.text, (chunk.id, example["family"], quote)


def test_tool_calls_pass_the_tools_schemas_and_run(replies: list[tuple[Chunk, dict[str, Any]]]) -> None:
    registry = plant_tools(Plant.simulated(hours=2))
    for _, reply in replies:
        for example in reply["examples"]:
            for call in example["tool_calls"]:
                registry.call(call["name"], call["arguments"])  # raises on any bad argument or device


def test_every_category_and_family_is_produced_somewhere(replies: list[tuple[Chunk, dict[str, Any]]]) -> None:
    produced = {e["family"] for _, reply in replies for e in reply["examples"]}
    for seed in (1, 2):  # a refusal family needs one of a few safety chunks: give them more draws
        teacher = FactoryTemplateTeacher(seed=seed)
        for chunk, _ in replies:
            produced |= {e["family"] for e in json.loads(teacher.complete(Request(chunk)))["examples"]}
    assert produced == {f for ids in FAMILIES.values() for f in ids}


def test_arguments_come_from_the_question() -> None:
    text = "TUN-231  Air temperature above setpoint band (setpoint + 3 °C)\n1. Check the CT-24 evaporator fans."
    reply = json.loads(FactoryTemplateTeacher().complete(Request(Chunk("c", "tunnel.txt", text, 0), n=40)))
    seen = set()
    for example in reply["examples"]:
        question, calls = example["question"], example["tool_calls"]
        for call in calls:
            args = call["arguments"]
            if "device" in args and call["name"] == "search_manuals":
                assert "CT-24" in question and args["device"] == "tunnel-1"
            if call["name"] == "search_manuals":
                assert args["query"].startswith("TUN-231") or args["query"] in question
            if call["name"] == "get_telemetry":
                assert str(args["minutes"]) in question or (args["minutes"] % 60 == 0 and "hour" in question)
            if call["name"] == "create_work_order":
                assert args["priority"] in question and args["device"] == "tunnel-1"
        seen.add(example["category"])
    assert seen == set(FAMILIES) - {"no_tool"}  # nothing here to refuse or define


def test_the_same_request_gives_the_same_reply() -> None:
    chunk = Chunk("tunnel#1", "tunnel-1_manual.txt", next(d.text for d in documents()
                                                         if d.name == "tunnel-1_manual.txt"), 1)
    teacher = FactoryTemplateTeacher(seed=0)
    first = teacher.complete(Request(chunk))
    assert first == FactoryTemplateTeacher(seed=0).complete(Request(chunk))
    assert first != teacher.complete(Request(chunk, seed=1))
    assert first != FactoryTemplateTeacher(seed=1).complete(Request(chunk))


def test_a_chunk_with_nothing_to_ground_gives_no_examples() -> None:
    reply = json.loads(FactoryTemplateTeacher().complete(Request(Chunk("x", "x.txt", "Lorem ipsum dolor sit.", 0))))
    assert reply == {"examples": []}


def test_families_can_be_partitioned_and_restricted() -> None:
    assert all(len(ids) >= 6 and len(set(ids)) == len(ids) for ids in FAMILIES.values())
    held = heldout_families(0.3, seed=4)
    assert held == heldout_families(0.3, seed=4)
    for ids in FAMILIES.values():
        assert 1 <= len(held & set(ids)) < len(ids)
    assert heldout_families(0.0) == frozenset() and heldout_families(1.0) == {f for v in FAMILIES.values() for f in v}
    train = {f for ids in FAMILIES.values() for f in ids} - held
    teacher = FactoryTemplateTeacher(seed=0, families=train)
    produced = {e["family"] for chunk in _chunks()[:40]
                for e in json.loads(teacher.complete(Request(chunk)))["examples"]}
    assert produced and produced <= train
    with pytest.raises(ConfigError, match="between 0 and 1"):
        heldout_families(1.5)
    with pytest.raises(ConfigError, match=r"unknown family 'status/terser'\. Did you mean 'status/terse'\?"):
        FactoryTemplateTeacher(families=["status/terser"])


def test_requests_the_teacher_cannot_serve_are_refused() -> None:
    chunk = Chunk("c", "s", "TUN-231 on tunnel-1", 0)
    with pytest.raises(ConfigError) as info:
        FactoryTemplateTeacher().complete(Request(chunk, categories=(Category("statuss", "?", ("list_devices",)),)))
    assert "'statuss' is not a factory category. Did you mean 'status'? Valid: status, live_reading" in str(info.value)
    with pytest.raises(ConfigError, match="expects tools \\['search_manuals'\\], but the factory mapping says"):
        FactoryTemplateTeacher().complete(Request(chunk, categories=(Category("status", "", ("search_manuals",)),)))
    with pytest.raises(ConfigError, match="needs tool\\(s\\) get_telemetry, search_manuals, which the request does "
                                          "not offer"):
        FactoryTemplateTeacher().complete(Request(chunk, tools=tuple(tool_schemas()[:1]),
                                                  categories=(CATEGORIES[6],)))
