"""Server-sent events in OpenAI's ``chat.completion.chunk`` format, fed by a backend's ``on_text``.

Covers: :class:`TextPipe`, the thread-safe bridge from the generating thread (``on_text`` pieces and
the end of the request) to an asyncio queue, with the disconnect check while waiting;
:class:`ContentFilter`, which turns raw generated text into the content deltas a client sees;
:class:`SSEResponse`, a streaming response that cancels its request however the stream ends; and the
chunk builders.

What a client receives, in order: a role chunk, content deltas as text arrives, the rest of the final
content, the tool calls (one delta holding all of them, once generation is done), a chunk with the
finish reason, a usage chunk when ``stream_options.include_usage`` is set, and ``data: [DONE]``.
The content deltas joined equal the non-streamed ``message.content``: leading whitespace is dropped
and trailing whitespace held back (the final content is stripped), and while tools are on nothing
from ``<tool_call>`` on is streamed as content (an ending that could start the tag is held back).
A failure after the first chunk is sent as an ``{"error": ...}`` event (the openai client raises it).

Not covered: streaming tool-call arguments as they are generated, ``n > 1``, logprobs.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Future
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from fathom.backends import Completion

__all__ = ["POLL_S", "ClientGone", "ContentFilter", "SSEResponse", "TextPipe", "chunk_event", "done_event",
           "ending_events", "error_event", "replay_events", "usage_event"]

POLL_S = 0.1
"""How often a waiting request checks whether its client is still connected."""

TOOL_TAG = "<tool_call>"


class ClientGone(Exception):
    """The client disconnected while its request was waiting or streaming."""


class TextPipe:
    """Pieces of text from the generating thread to the event loop, ending with the request's end.

    Args:
        loop: the event loop the request is handled on.
        cancel: the request's cancel event, set when the client goes away.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, cancel: threading.Event):
        self._loop = loop
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.cancel = cancel
        self.future: Future[Completion] | None = None

    def _put(self, item: str | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop has closed (server shut down): nobody is left to read it
            self.cancel.set()

    def on_text(self, piece: str) -> None:
        """The ``ChatRequest.on_text`` callback (called from the generating thread)."""
        self._put(piece)

    def watch(self, future: Future[Completion]) -> None:
        """Mark the end of the pieces when ``future`` resolves."""
        self.future = future
        future.add_done_callback(lambda _: self._put(None))

    def abandon(self) -> None:
        """Stop the request if it is still running: nobody waits for it any more."""
        if self.future is None or not self.future.done():
            self.cancel.set()
            if self.future is not None:
                self.future.cancel()

    async def next(self, http: Request) -> str | None:
        """The next piece, or None once the request has ended; :class:`ClientGone` if the client left."""
        while True:
            try:
                return await asyncio.wait_for(self._queue.get(), POLL_S)
            except TimeoutError:
                if await http.is_disconnected():
                    self.abandon()
                    raise ClientGone() from None


class ContentFilter:
    """Raw generated text in, content deltas out (see the module docstring for the rules).

    Args:
        tools_on: whether the text may hold ``<tool_call>`` blocks that are not content.
    """

    def __init__(self, tools_on: bool):
        self._tools_on = tools_on
        self._text = ""
        self.sent = ""

    def feed(self, piece: str) -> str:
        """Add a piece of raw text; return the content delta that can be sent now ("" for none)."""
        self._text += piece
        visible = self._text
        if self._tools_on:
            tag = visible.find(TOOL_TAG)
            visible = visible[:tag] if tag >= 0 else visible[:_partial_tag_start(visible)]
        return self._advance(visible.strip())

    def finish(self, content: str | None) -> str:
        """The rest of the final ``content``: what was not streamed yet ("" when it was all sent)."""
        return self._advance(content or "")

    def _advance(self, visible: str) -> str:
        if len(visible) <= len(self.sent) or not visible.startswith(self.sent):
            return ""
        delta, self.sent = visible[len(self.sent):], visible
        return delta


def _partial_tag_start(text: str) -> int:
    """Where an ending of ``text`` that could grow into ``<tool_call>`` starts (``len(text)``: none)."""
    for start in range(max(0, len(text) - len(TOOL_TAG) + 1), len(text)):
        if TOOL_TAG.startswith(text[start:]):
            return start
    return len(text)


def chunk_event(head: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> str:
    """One ``chat.completion.chunk`` event with a single choice."""
    chunk = {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


def usage_event(head: dict[str, Any], usage: dict[str, int]) -> str:
    """The final usage chunk (no choices), sent when ``stream_options.include_usage`` is set."""
    return f"data: {json.dumps({**head, 'choices': [], 'usage': usage})}\n\n"


def error_event(body: dict[str, Any]) -> str:
    """An error in the middle of a stream (OpenAI's error shape as the event's data)."""
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def done_event() -> str:
    return "data: [DONE]\n\n"


def ending_events(head: dict[str, Any], message: dict[str, Any], reason: str, usage: dict[str, int] | None,
                  content: ContentFilter) -> list[str]:
    """The events after the last piece: the rest of the content, the tool calls, finish, usage, done."""
    events = []
    rest = content.finish(message.get("content"))
    if rest:
        events.append(chunk_event(head, {"content": rest}))
    if message.get("tool_calls"):
        calls = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
        events.append(chunk_event(head, {"tool_calls": calls}))
    events.append(chunk_event(head, {}, reason))
    if usage is not None:
        events.append(usage_event(head, usage))
    events.append(done_event())
    return events


async def replay_events(head: dict[str, Any], message: dict[str, Any], reason: str,
                        usage: dict[str, int] | None) -> AsyncGenerator[str, None]:
    """The whole stream of a completion that is already finished (validated tool calls)."""
    yield chunk_event(head, {"role": "assistant", "content": ""})
    for event in ending_events(head, message, reason, usage, ContentFilter(tools_on=False)):
        yield event


class SSEResponse(StreamingResponse):
    """A ``text/event-stream`` response that calls ``on_close`` however the stream ends (finished,
    client gone, server stopping), so an abandoned request is cancelled at once.

    Args:
        events: the events to send.
        on_close: called once the response is over.
    """

    def __init__(self, events: AsyncGenerator[str, None], on_close: Callable[[], None]):
        super().__init__(events, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._events = events
        self._on_close = on_close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()
            await self._events.aclose()
