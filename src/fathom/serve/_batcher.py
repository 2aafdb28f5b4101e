"""Micro-batching: requests that arrive close together are generated in one backend call.

One worker thread owns the backend (so a backend is only ever called from one thread at a time).
It takes the first waiting request, keeps collecting for up to ``window_s`` seconds or until
``max_batch_size`` requests are in hand, and runs them through ``backend.generate`` at once.
Requests arriving while a batch runs queue up and form the next batch without waiting further.

If a batch fails, each of its requests is retried on its own, so one bad request (say, messages
the chat template rejects) fails alone; a request that has already streamed text (``on_text``) is
not retried but fails with the batch's error, since its client would get the text twice. The whole
batch goes to the backend in one call even when sampling settings or adapters differ: Fathom's backends
honour each request's own temperature, seed, ``max_tokens`` and stop strings inside a batch (see
:mod:`fathom.backends._hf_rows`) and group requests by ``ChatRequest.adapter`` themselves, so grouping
here would only add calls.

A request whose ``cancel`` event is set (its client went away) or whose future was cancelled before
its batch starts is not sent to the backend: it resolves at once to an empty ``"cancelled"``
completion. Once a batch runs, cancelling is the backend's job (see ``ChatRequest.cancel``). When
``max_queued`` requests already wait, or after :meth:`Batcher.close`, :meth:`Batcher.submit`
raises :class:`Unavailable` (the server answers 503).

Not covered: continuous batching (joining a batch mid-generation) and request priorities.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from fathom.backends import Backend, ChatRequest, Completion, completion_from_text
from fathom.errors import BackendError, ConfigError

__all__ = ["BatchStats", "Batcher", "Unavailable"]


class Unavailable(BackendError):
    """The batcher takes no more requests for now: it is closed, or ``max_queued`` requests wait."""


@dataclass
class BatchStats:
    """Counts for monitoring and tests."""

    batches: int = 0
    requests: int = 0
    cancelled: int = 0
    """Requests that resolved as cancelled without reaching the backend."""
    sizes: dict[int, int] = field(default_factory=dict)
    """Batch size -> how many batches had that size."""


_Item = tuple[ChatRequest, "Future[Completion]"]


class Batcher:
    """Collect concurrent requests into batches for one backend.

    Args:
        backend: the backend every batch goes to.
        max_batch_size: most requests per backend call.
        window_s: how long to wait for more requests after the first one arrives.
        max_queued: most requests waiting for a batch; beyond it :meth:`submit` raises :class:`Unavailable`.
    """

    def __init__(self, backend: Backend, *, max_batch_size: int = 8, window_s: float = 0.01, max_queued: int = 1024):
        if max_batch_size < 1 or window_s < 0 or max_queued < 1:
            raise ConfigError([f"max_batch_size and max_queued must be >= 1 and window_s >= 0, got "
                               f"{max_batch_size}, {max_queued} and {window_s}"])
        self.backend = backend
        self.max_batch_size = max_batch_size
        self.window_s = window_s
        self.max_queued = max_queued
        self.stats = BatchStats()
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, request: ChatRequest) -> Future[Completion]:
        """Queue a request; the future resolves to its completion (or the backend's exception).

        Raises:
            Unavailable: the batcher is closed, or ``max_queued`` requests already wait.
        """
        future: Future[Completion] = Future()
        with self._lock:
            if self._closed:
                raise Unavailable("the batcher is closed; the server is shutting down")
            if self._queue.qsize() >= self.max_queued:
                raise Unavailable(f"{self._queue.qsize()} requests already wait for the model (the most this "
                                  f"server queues); retry in a moment")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fathom-batcher", daemon=True)
                self._thread.start()
            self._queue.put((request, future))
        return future

    def close(self, timeout: float | None = 30.0) -> None:
        """Finish the batch in progress, fail queued requests, and stop the worker."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def _collect(self, first: _Item) -> tuple[list[_Item], bool]:
        batch = [first]
        deadline = time.monotonic() + self.window_s
        while len(batch) < self.max_batch_size:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch, stop = self._collect(first)
            self._generate(batch)
        while True:  # fail whatever is still queued after close()
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[1].set_exception(Unavailable("the server is shutting down"))

    def _live(self, batch: list[_Item]) -> list[_Item]:
        """The items somebody still waits for; cancelled ones resolve now, without the backend."""
        live = []
        for request, future in batch:
            if not future.set_running_or_notify_cancel():
                self.stats.cancelled += 1
            elif _is_cancelled(request):
                self.stats.cancelled += 1
                future.set_result(_cancelled())
            else:
                live.append((request, future))
        return live

    def _generate(self, batch: list[_Item]) -> None:
        live = self._live(batch)
        if not live:
            return
        self.stats.batches += 1
        self.stats.requests += len(live)
        self.stats.sizes[len(live)] = self.stats.sizes.get(len(live), 0) + 1
        streamed: set[int] = set()
        try:
            completions = self.backend.generate([_noting(r, i, streamed) for i, (r, _) in enumerate(live)])
        except Exception as exc:  # every waiting request must hear about the failure
            if len(live) == 1:
                live[0][1].set_exception(exc)
                return
            # one bad request must not fail its neighbours: retry each on its own, except those that have
            # streamed text already (their client would get it twice)
            for i, item in enumerate(live):
                if i in streamed:
                    item[1].set_exception(exc)
                else:
                    self._generate_one(item)
            return
        # one completion per request (the Backend contract); not strict=True: a ValueError here would
        # end the worker thread and leave every later request waiting
        for (_, future), completion in zip(live, completions, strict=False):
            future.set_result(completion)
        for _, future in live[len(completions):]:
            future.set_exception(BackendError(f"the backend returned {len(completions)} completions for "
                                              f"{len(live)} requests"))

    def _generate_one(self, item: _Item) -> None:
        request, future = item
        if _is_cancelled(request):
            self.stats.cancelled += 1
            future.set_result(_cancelled())
            return
        try:
            [completion] = self.backend.generate([request])
        except Exception as exc:  # handed to the waiting request, which reports it
            future.set_exception(exc)
        else:
            future.set_result(completion)


def _noting(request: ChatRequest, index: int, streamed: set[int]) -> ChatRequest:
    """``request`` with an ``on_text`` that also notes ``index`` in ``streamed`` once text was sent."""
    on_text = request.on_text
    if on_text is None:
        return request

    def noted(piece: str) -> None:
        streamed.add(index)
        on_text(piece)

    return dataclasses.replace(request, on_text=noted)


def _is_cancelled(request: ChatRequest) -> bool:
    return request.cancel is not None and request.cancel.is_set()


def _cancelled() -> Completion:
    """The completion of a request abandoned before it reached the backend."""
    return completion_from_text("", finish_reason="cancelled", prompt_tokens=0, completion_tokens=0)
