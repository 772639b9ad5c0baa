"""The background threads that send batches while the caller builds the next ones."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from .batching import Batch

# A batch and its place in the write (0, 1, 2, ...): batches are handed over in that order.
Item = tuple[int, Batch]


class Stopped(Exception):
    """Raised inside a send when the write was abandoned; ends the sender quietly.
    Its argument says whether the batch may have reached the server."""


class Sender:
    """Sends batches on ``workers`` background threads (one: strictly one after the
    other), so that encoding overlaps compression (zlib releases the GIL) and the
    server's work. At most ``depth`` batches wait besides those being sent, so
    memory stays bounded. After a failure, or once a send raised :class:`Stopped`,
    the rest is taken off the queue but not sent (so a producer blocked on a full
    queue goes on); ``error`` holds the failure of the earliest batch that failed.
    """

    def __init__(self, send: Callable[[int, Batch], None], depth: int = 2, workers: int = 1) -> None:
        self._send = send
        self._queue: queue.Queue[Item | None] = queue.Queue(maxsize=max(depth, workers))
        self._errors: list[tuple[int, BaseException]] = []
        self._lock = threading.Lock()
        self.stopped = False
        # Waited on instead of Thread.join(): a join interrupted by a signal (Ctrl-C,
        # Airflow's timeout) can leave the thread marked as finished while it runs
        # (CPython's bpo-45274 handling in Thread._wait_for_tstate_lock).
        self._finished = [threading.Event() for _ in range(workers)]
        for number, finished in enumerate(self._finished):
            name = "influxdb-write-sender" if workers == 1 else f"influxdb-write-sender-{number + 1}"
            threading.Thread(target=self._run, args=(finished,), name=name, daemon=True).start()

    @property
    def error(self) -> BaseException | None:
        """The failure of the earliest batch that failed, if any did."""
        with self._lock:
            return min(self._errors, key=lambda found: found[0])[1] if self._errors else None

    def _run(self, finished: threading.Event) -> None:
        try:
            self._send_all()
        finally:
            finished.set()

    def _send_all(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._errors or self.stopped:
                continue
            try:
                self._send(*item)
            except Stopped:
                self.stopped = True
            except BaseException as exc:  # handed to the caller's thread
                with self._lock:
                    self._errors.append((item[0], exc))

    def put(self, index: int, batch: Batch) -> bool:
        """Queue ``batch``, the write's ``index``-th; False once sending has failed (stop producing)."""
        if self._errors:
            return False
        self._queue.put((index, batch))
        return True

    def close(self) -> None:
        """Wait until every batch handed over has been sent or has failed."""
        for _ in self._finished:
            self._queue.put(None)
        for finished in self._finished:
            finished.wait()

    def abandon(self, stop: Callable[[], None], wait: float) -> None:
        """Call ``stop`` (which must make the sends in progress raise :class:`Stopped`
        soon), drop the waiting batches, and wait up to ``wait`` seconds for the threads."""
        stop()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        for _ in self._finished:
            try:
                self._queue.put_nowait(None)
            except queue.Full:  # pragma: no cover - the queue was just drained
                pass
        for finished in self._finished:
            finished.wait(wait)
