"""The background thread that sends batches in order while the caller builds the next ones."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from .batching import Batch


class Stopped(Exception):
    """Raised inside a send when the write was abandoned; ends the sender quietly."""


class Sender:
    """Sends batches in order on one background thread, so that encoding overlaps
    compression (zlib releases the GIL) and the server's work. At most ``depth``
    batches wait, so memory stays bounded. After a failure, or once a send raised
    :class:`Stopped`, the rest is taken off the queue but not sent (so a producer
    blocked on a full queue goes on); ``error`` holds the failure.
    """

    def __init__(self, send: Callable[[Batch], None], depth: int = 2) -> None:
        self._send = send
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.stopped = False
        # Waited on instead of Thread.join(): a join interrupted by a signal (Ctrl-C,
        # Airflow's timeout) can leave the thread marked as finished while it runs
        # (CPython's bpo-45274 handling in Thread._wait_for_tstate_lock).
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="influxdb-write-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._send_all()
        finally:
            self._finished.set()

    def _send_all(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is not None or self.stopped:
                continue
            try:
                self._send(batch)
            except Stopped:
                self.stopped = True
            except BaseException as exc:  # handed to the caller's thread
                self.error = exc

    def put(self, batch: Batch) -> bool:
        """Queue ``batch``; False once sending has failed (stop producing)."""
        if self.error is not None:
            return False
        self._queue.put(batch)
        return True

    def close(self) -> None:
        """Wait until every batch handed over has been sent or has failed."""
        self._queue.put(None)
        self._finished.wait()

    def abandon(self, stop: Callable[[], None], wait: float) -> None:
        """Call ``stop`` (which must make the send in progress raise :class:`Stopped`
        soon), drop the waiting batches, and wait up to ``wait`` seconds for the thread."""
        stop()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._queue.put_nowait(None)
        except queue.Full:  # pragma: no cover - the queue was just drained
            pass
        self._finished.wait(wait)
