"""Micro-batching: requests that arrive close together are generated in one backend call.

One worker thread owns the backend (so a backend is only ever called from one thread at a time).
It takes the first waiting request, keeps collecting for up to ``window_s`` seconds or until
``max_batch_size`` requests are in hand, and runs them through ``backend.generate`` at once.
Requests arriving while a batch runs queue up and form the next batch without waiting further.

If a batch fails, each of its requests is retried on its own, so one bad request (say, messages
the chat template rejects) fails alone. The whole batch goes to the backend in one call even when
sampling settings differ: Fathom's
backends honour each request's own temperature, seed, ``max_tokens`` and stop strings inside a
batch (see :mod:`fathom.backends._hf_rows`), so grouping would only add calls.

Not covered: continuous batching (joining a batch mid-generation) and request priorities.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from fathom.backends import Backend, ChatRequest, Completion
from fathom.errors import BackendError, ConfigError

__all__ = ["BatchStats", "Batcher"]


@dataclass
class BatchStats:
    """Counts for monitoring and tests."""

    batches: int = 0
    requests: int = 0
    sizes: dict[int, int] = field(default_factory=dict)
    """Batch size -> how many batches had that size."""


_Item = tuple[ChatRequest, "Future[Completion]"]


class Batcher:
    """Collect concurrent requests into batches for one backend.

    Args:
        backend: the backend every batch goes to.
        max_batch_size: most requests per backend call.
        window_s: how long to wait for more requests after the first one arrives.
    """

    def __init__(self, backend: Backend, *, max_batch_size: int = 8, window_s: float = 0.01):
        if max_batch_size < 1 or window_s < 0:
            raise ConfigError([f"max_batch_size must be >= 1 and window_s >= 0, got {max_batch_size}, {window_s}"])
        self.backend = backend
        self.max_batch_size = max_batch_size
        self.window_s = window_s
        self.stats = BatchStats()
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, request: ChatRequest) -> Future[Completion]:
        """Queue a request; the future resolves to its completion (or the backend's exception)."""
        future: Future[Completion] = Future()
        with self._lock:
            if self._closed:
                raise BackendError("the batcher is closed; the server is shutting down")
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
                item[1].set_exception(BackendError("the server is shutting down"))

    def _generate(self, batch: list[_Item]) -> None:
        live = [(r, f) for r, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        self.stats.batches += 1
        self.stats.requests += len(live)
        self.stats.sizes[len(live)] = self.stats.sizes.get(len(live), 0) + 1
        try:
            completions = self.backend.generate([r for r, _ in live])
        except Exception as exc:  # every waiting request must hear about the failure
            if len(live) == 1:
                live[0][1].set_exception(exc)
            else:  # one bad request must not fail its neighbours: retry each on its own
                for item in live:
                    self._generate_one(item)
            return
        # one completion per request (the Backend contract); not strict=True: a ValueError here would
        # end the worker thread and leave every later request waiting
        for (_, future), completion in zip(live, completions, strict=False):
            future.set_result(completion)

    def _generate_one(self, item: _Item) -> None:
        request, future = item
        try:
            [completion] = self.backend.generate([request])
        except Exception as exc:  # handed to the waiting request, which reports it
            future.set_exception(exc)
        else:
            future.set_result(completion)
