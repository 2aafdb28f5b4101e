"""TransformersBackend streaming (``on_text``) and cancelling (``cancel``), on the tiny random model.

To make the model write a chosen text (multi-byte characters split across byte-level tokens), its
``forward`` is wrapped to force each next token; everything else (generate, the stopper, decoding) is
the real code path.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fathom.backends import ChatRequest, Sampling

TEXT = "héllo € 日本語 🙂 ok"


def stable_prefix(text: str, stops: tuple[str, ...] = ()) -> str:
    from fathom.backends._hf_rows import stable_prefix as real

    return real(text, stops)


@pytest.fixture(scope="module")
def backend(tiny_model_dir: Path) -> Any:
    from fathom.backends import TransformersBackend

    return TransformersBackend(str(tiny_model_dir), device="cpu", batch_size=4)


@pytest.fixture
def force(backend: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[list[list[int]]], list[int]]:
    """``force(scripts)``: from now on row ``i`` of each batch generates ``scripts[i]`` then end-of-sequence.
    Returns the list of forward calls' input lengths (so tests can count steps)."""

    def install(scripts: list[list[int]]) -> list[int]:
        import torch

        eos = backend.tokenizer.eos_token_id
        calls: list[int] = []
        real_forward = backend.model.forward

        @functools.wraps(real_forward)  # generate reads forward's signature
        def forced(*args: Any, **kwargs: Any) -> Any:
            out = real_forward(*args, **kwargs)
            step = len(calls)
            calls.append(kwargs["input_ids"].shape[1])
            logits = torch.full_like(out.logits[:, -1, :], float("-inf"))
            for row in range(logits.shape[0]):
                script = scripts[row] + [eos]
                logits[row, script[min(step, len(script) - 1)]] = 0.0
            out.logits[:, -1, :] = logits
            return out

        monkeypatch.setattr(backend.model, "forward", forced)
        return calls

    return install


def _ids(backend: Any, text: str) -> list[int]:
    return list(backend.tokenizer(text, add_special_tokens=False)["input_ids"])


def _request(pieces: list[str] | None = None, **sampling: Any) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": "Hi"}], sampling=Sampling(max_tokens=64, **sampling),
                       on_text=pieces.append if pieces is not None else None)


def test_the_forced_text_really_splits_characters_across_tokens(backend: Any) -> None:
    ids = _ids(backend, TEXT)
    partial = [backend.tokenizer.decode(ids[:k]) for k in range(1, len(ids))]
    assert sum(p.endswith("\ufffd") for p in partial) >= 2  # what a naive per-token stream would send


def test_pieces_are_whole_characters_and_join_to_the_text(backend: Any, force: Any) -> None:
    force([_ids(backend, TEXT)])
    pieces: list[str] = []
    [done] = backend.generate([_request(pieces)])
    assert done.text == TEXT and done.finish_reason == "stop"
    assert len(pieces) > 3 and "".join(pieces) == done.text
    assert not any("\ufffd" in p for p in pieces)


def test_pieces_never_reach_into_a_stop_string(backend: Any, force: Any) -> None:
    force([_ids(backend, TEXT)])
    pieces: list[str] = []
    [done] = backend.generate([_request(pieces, stop=["日本語"])])
    assert done.text == "héllo € " and done.finish_reason == "stop"
    assert "".join(pieces) == done.text and not any("日" in p for p in pieces)


def test_a_stop_string_that_never_completes_is_released_at_the_end(backend: Any, force: Any) -> None:
    force([_ids(backend, TEXT)])
    pieces: list[str] = []
    [done] = backend.generate([_request(pieces, stop=["ok!"])])
    assert done.text == TEXT and "".join(pieces) == TEXT
    assert pieces[-1].endswith("ok")  # "ok" could have started "ok!": it came with the last piece


def test_cancel_ends_the_row_at_its_next_token(backend: Any, force: Any) -> None:
    calls = force([_ids(backend, TEXT)])
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 2:
            cancel.set()

    request = ChatRequest([{"role": "user", "content": "Hi"}], sampling=Sampling(max_tokens=64), on_text=on_text,
                          cancel=cancel)
    [done] = backend.generate([request])
    assert done.finish_reason == "cancelled" and done.text == "".join(pieces)
    assert TEXT.startswith(done.text) and done.text != TEXT
    assert len(calls) == done.completion_tokens < len(_ids(backend, TEXT))


def test_generate_returns_once_every_row_is_finished_or_cancelled(backend: Any, force: Any) -> None:
    long = _ids(backend, "one two three four five six seven eight nine ten " * 3)
    calls = force([long, _ids(backend, "short")])
    cancel = threading.Event()
    first: list[str] = []

    def on_text(piece: str) -> None:
        first.append(piece)
        if len(first) == 3:
            cancel.set()

    cancelled = ChatRequest([{"role": "user", "content": "Hi"}], sampling=Sampling(max_tokens=60), on_text=on_text,
                            cancel=cancel)
    short: list[str] = []
    a, b = backend.generate([cancelled, _request(short)])
    assert (a.finish_reason, b.finish_reason) == ("cancelled", "stop")
    assert b.text == "short" == "".join(short) and a.text == "".join(first)
    assert len(calls) < 10 < len(long)  # stopped at the cancel, not after the long row's 30 tokens


def test_a_request_cancelled_before_its_batch_is_not_generated(backend: Any, force: Any) -> None:
    calls = force([_ids(backend, "fine")])
    cancel = threading.Event()
    cancel.set()
    gone = ChatRequest([{"role": "user", "content": "Hi"}], cancel=cancel)
    done, live = backend.generate([gone, _request()])
    assert (done.finish_reason, done.text, done.completion_tokens) == ("cancelled", "", 0)
    assert live.text == "fine" and len(calls) == 2  # one row generated: "fine" is one token, then the end


def test_context_length_and_prompts_that_do_not_fit(backend: Any, force: Any) -> None:
    from fathom.errors import ConfigError

    assert backend.context_length == 2048
    long = ChatRequest([{"role": "user", "content": "word " * 2100}])
    with pytest.raises(ConfigError, match=r"request 1: the prompt is \d{4} tokens, but .* holds 2048 tokens"):
        backend.generate([_request(), long])
    # a prompt that fits, with more max_tokens than the room it leaves: generation ends at the context
    calls = force([_ids(backend, "x") * 50])
    room = 2048 - len(backend.prompt_ids(ChatRequest([{"role": "user", "content": "word " * 2000}])))
    [done] = backend.generate([ChatRequest([{"role": "user", "content": "word " * 2000}],
                                           sampling=Sampling(max_tokens=500))])
    assert 0 < room < 50
    assert (done.finish_reason, done.completion_tokens, len(calls)) == ("length", room, room)


@pytest.mark.parametrize("text", [TEXT, "naïve café", "🙂🙃 日本", "plain ascii"])
def test_stable_prefix_on_byte_split_input(text: str) -> None:
    data = text.encode()
    sent = ""
    for end in range(1, len(data) + 1):
        stable = stable_prefix(data[:end].decode("utf-8", errors="replace"))
        assert "\ufffd" not in stable and stable.startswith(sent)
        sent = stable
    assert sent == text


def test_stable_prefix_holds_back_what_could_start_a_stop_string() -> None:
    assert stable_prefix("The answer ##", ("###",)) == "The answer "
    assert stable_prefix("The answer #", ("###", "END")) == "The answer "
    assert stable_prefix("The E", ("###", "END")) == "The "
    assert stable_prefix("The EN\ufffd", ("END",)) == "The "
    assert stable_prefix("a#b", ("###",)) == "a#b"
    assert stable_prefix("xx", ("x" * 1000,)) == ""


def test_a_near_zero_temperature_samples_without_nan(backend: Any) -> None:
    [done] = backend.generate([ChatRequest([{"role": "user", "content": "Hi"}],
                                           sampling=Sampling(max_tokens=4, temperature=1e-300, seed=1))])
    assert done.completion_tokens >= 1
