"""``rule:shipping-writer`` (:class:`ShippingWriterBackend`): the writer answering from the prompt alone.

* uniform areas (directions on the 8 points) come back exactly as the full writer writes them;
* on seeded random runs (``random_stats`` -> ``examples_from_stats``, as the ``shipping_data`` stage
  builds examples) the shipping grader scores it high, force and sea state always agree (the prompt
  carries them exactly) and some texts differ (what the prompt rounds away);
* the backend contract: message shape, order, the last user message, stop strings, streaming, cancel;
* prompts that are not area prompts raise one DataError naming the request, the line and a valid
  prompt.

Figures measured when the thresholds were set (seeds 0-2, 93 areas): exact text 0.903, tolerant
score 0.995, strict 0.984.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fathom.backends import Backend, ChatRequest, Sampling
from fathom.domains.shipping.lm import ShippingWriterBackend, area_messages, area_prompt, examples_from_stats
from fathom.domains.shipping.lm._writer_backend import area_from_prompt
from fathom.domains.shipping.writer import random_stats, uniform_area, write_area
from fathom.errors import DataError
from fathom.graders import build_grader

GOOD = area_prompt("Viking", uniform_area(direction=270, force=6))

UNIFORM: dict[str, dict[str, Any]] = {
    "west 6": {"direction": 270, "force": 6},
    "3 or less": {"direction": 0, "force": 1},
    "gale, high": {"direction": 225, "force": 8, "hs_m": 6.5},
    "violent storm": {"direction": 315, "force": 11, "hs_m": 12.0},
    "no wave data": {"direction": 180, "force": 5, "hs_m": None},
    "no visibility data": {"direction": 180, "force": 5, "vis_m": None, "rate_mmh": 1.0},
    "rain, moderate": {"direction": 180, "force": 5, "rate_mmh": 1.0, "vis_m": 6000.0},
    "drizzle, poor": {"direction": 225, "force": 4, "rate_mmh": 0.3, "vis_m": 3000.0},
    "showers": {"direction": 315, "force": 6, "rate_mmh": 2.0, "convective": True},
    "thundery showers": {"direction": 315, "force": 7, "rate_mmh": 6.0, "convective": True},
    "snow": {"direction": 0, "force": 6, "rate_mmh": 1.0, "t2m_c": -2.0},
    "wintry showers": {"direction": 0, "force": 6, "rate_mmh": 1.0, "convective": True, "t2m_c": -2.0},
    "fog": {"direction": 90, "force": 2, "vis_m": 500.0},
    "veering": {"direction": 180, "force": 5, "later": {"direction": 270}},
    "backing": {"direction": 270, "force": 5, "later": {"direction": 180}},
    "increasing": {"direction": 270, "force": 5, "later": {"force": 8, "hs_m": 6.5}},
    "decreasing": {"direction": 270, "force": 8, "hs_m": 6.5, "later": {"force": 4, "hs_m": 1.5}},
    "rain later": {"direction": 180, "force": 5, "later": {"rate_mmh": 1.0}},
    "rain then fair": {"direction": 180, "force": 5, "rate_mmh": 1.0, "later": {"rate_mmh": 0.0}},
    "fog later": {"direction": 90, "force": 3, "later": {"vis_m": 500.0}},
    "low centre, steady": {"direction": 270, "force": 7, "low_centre_hours": 25},
}


def _chat(prompt: str, **sampling: Any) -> ChatRequest:
    return ChatRequest([area_messages("Viking", uniform_area())[0], {"role": "user", "content": prompt}],
                       sampling=Sampling(**sampling))


@pytest.fixture(scope="module")
def random_examples() -> list[dict[str, Any]]:
    """93 examples: seed 0 without wave or visibility data, seeds 1 and 2 with both."""
    return [e for seed in range(3)
            for e in examples_from_stats(f"seed{seed}", random_stats(seed, steps=False, waves=seed % 3 != 0,
                                                                     visibility=seed % 4 != 0))]


def _answers(examples: list[dict[str, Any]]) -> list[str]:
    done = ShippingWriterBackend().generate([ChatRequest(e["messages"][:-1]) for e in examples])
    return [c.text for c in done]


# ---------------------------------------------------------------- agreement with the full writer
@pytest.mark.parametrize("case", sorted(UNIFORM))
def test_uniform_areas_agree_exactly(case: str) -> None:
    [example] = examples_from_stats("uniform", {"areas": {"Viking": uniform_area(**UNIFORM[case])}})
    [answer] = _answers([example])
    assert answer == example["messages"][-1]["content"]
    assert build_grader({"name": "shipping", "mode": "strict"})(example, answer).score == 1.0


def test_random_runs_score_high(random_examples: list[dict[str, Any]]) -> None:
    answers = _answers(random_examples)
    n = len(random_examples)
    tolerant, strict = build_grader("shipping"), build_grader({"name": "shipping", "mode": "strict"})
    exact = sum(a == e["messages"][-1]["content"] for a, e in zip(answers, random_examples, strict=True)) / n
    assert sum(tolerant(e, a).score for e, a in zip(random_examples, answers, strict=True)) / n >= 0.97
    assert sum(strict(e, a).score for e, a in zip(random_examples, answers, strict=True)) / n >= 0.95
    assert 0.8 <= exact < 1.0  # lossy on purpose: the prompt rounds shares and drops small ones


def test_force_and_sea_state_always_agree(random_examples: list[dict[str, Any]]) -> None:
    for e in random_examples:  # the reference fields are the full writer's
        ours = write_area(area_from_prompt(e["messages"][1]["content"])[1]).fields.to_dict()
        ref = e["reference"]["fields"]
        assert (ours["force"], ours["sea_state"]) == (ref["force"], ref["sea_state"]), e["meta"]["id"]


def test_rebuilt_statistics_give_back_the_prompts_ranges(random_examples: list[dict[str, Any]]) -> None:
    for e in random_examples:
        prompt = e["messages"][1]["content"]
        name, area = area_from_prompt(prompt)
        again = area_prompt(name, area)
        for line, other in zip(prompt.split("\n")[1:], again.split("\n")[1:], strict=True):
            assert line.split(" | ")[:3] == other.split(" | ")[:3]  # direction shares, force, sea


# ---------------------------------------------------------------- the backend contract
def test_is_a_backend_without_batching() -> None:
    backend = ShippingWriterBackend()
    assert isinstance(backend, Backend)
    assert (backend.model_name, backend.supports_batching) == ("rule:shipping-writer", False)
    assert backend.generate([]) == []


def test_completion_shape_order_and_last_user_message() -> None:
    other = area_prompt("Viking", uniform_area(direction=0, force=8, hs_m=6.5))
    history = ChatRequest([{"role": "user", "content": "earlier turn"}, {"role": "assistant", "content": "x"},
                           {"role": "user", "content": other}])
    first, second = ShippingWriterBackend().generate([_chat(GOOD), history])
    assert first.message == {"role": "assistant", "content": "West 6. Rough. Fair. Good."}
    assert (first.text, first.finish_reason, first.prompt_tokens, first.completion_tokens) == (
        "West 6. Rough. Fair. Good.", "stop", 0, 0)
    assert second.text == "North gale 8. High. Fair. Good."


def test_stop_strings_streaming_and_cancel() -> None:
    pieces: list[str] = []
    request = _chat(GOOD, stop=[". Fair"])
    request.on_text = pieces.append
    [done] = ShippingWriterBackend().generate([request])
    assert done.text == "West 6. Rough" and pieces == ["West 6. Rough"]
    cancelled = _chat(GOOD)
    cancelled.cancel = threading.Event()
    cancelled.cancel.set()
    assert ShippingWriterBackend().generate([cancelled])[0].finish_reason == "cancelled"


# ---------------------------------------------------------------- prompts it cannot read
FIRST, SECOND = GOOD.split("\n")[1:]


@pytest.mark.parametrize(("prompt", "says"), [
    ("", "1 line(s), not 3"),
    ("Write me a poem about the sea.", "1 line(s), not 3"),
    (f"{FIRST}\n{SECOND}", "2 line(s), not 3"),
    (f"{FIRST}\n{FIRST}\n{SECOND}", "is not an area name line"),
    (f"Viking\n{SECOND}\n{FIRST}", "line 2: 'second:"),
    (f"Viking\n{FIRST}\n{SECOND.replace('F6', 'F6-')}", "line 3: "),
    (f"Viking\n{FIRST.replace('sea rough', 'sea wavy')}\n{SECOND}", "the sea part 'sea wavy' does not read"),
    (f"Viking\n{FIRST.replace(' | dry', '')}\n{SECOND}", "4 part(s)"),
    (f"Viking\n{FIRST.replace('W100', 'W140')}\n{SECOND}", "over 100%"),
    (f"Viking\n{FIRST.replace('F6', 'F7-5')}\n{SECOND}", "not a Beaufort range"),
    (f"Viking\n{FIRST.replace('F6', 'F1-2')}\n{SECOND}", "force ranges 1-2 and 6-6 are not ones"),
    (f"Viking\n{FIRST.replace('F6', 'F6 occ9')}\n{SECOND}", "force ranges 6-6 occ 9"),
    (f"Viking\n{FIRST.replace('sea rough', 'sea slight-rough')}\n{SECOND}", "sea-state classes 1-3"),
])
def test_a_bad_prompt_names_request_line_and_valid_form(prompt: str, says: str) -> None:
    with pytest.raises(DataError) as caught:
        ShippingWriterBackend().generate([_chat(GOOD), _chat(prompt)])
    message = str(caught.value)
    assert "request 1" in message and "request 0" not in message
    assert says in message
    assert "an area prompt is 3 lines" in message and "first: dir" in message  # what a valid one looks like


def test_every_bad_request_is_listed_and_a_missing_user_message_too() -> None:
    with pytest.raises(DataError) as caught:
        ShippingWriterBackend().generate([_chat("nonsense"), ChatRequest([{"role": "system", "content": "x"}]),
                                          _chat(GOOD)])
    problems = [p.where for p in caught.value.problems]
    assert problems == ["request 0: prompt", "request 1"]
    assert "needs a user message" in str(caught.value)
