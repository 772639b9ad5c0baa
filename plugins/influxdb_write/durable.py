"""Durable writes: checkpoints in Airflow's task state store, so that a retry resumes.

When a worker dies mid-write (OOM kill, a reclaimed spot instance, a deploy),
Airflow retries the task. Re-sending everything is safe, since stamped lines
overwrite, but it doubles the time, the server's load and, on InfluxDB Cloud,
the write quota. Airflow 3.3's task state store (AIP-103) keeps values across
the tries of one task instance; the operator saves there how far the server
confirmed the write (:class:`~influxdb_write.client.checkpoints.Checkpoint`:
lines, and a fingerprint of their content), and a later try that finds the same
write resumes after it. What makes it "the same write":

- the same target and form: connection URL and API, bucket, org, precision,
  default time, validation mode and source names (:func:`identity`);
- the same content up to the checkpoint: the client fingerprints the re-read
  input's first lines before it sends anything, and starts over if they differ;
- the same run of tries: a person clearing the task starts a new run of tries
  (Airflow raises its ``max_tries``), which starts over unless ``resume="always"``.

Before Airflow 3.3 there is no task state store: writes start over, as they
always did, and a retry says so in its log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

from .client.checkpoints import Checkpoint

log = logging.getLogger(__name__)

KEY = "influxdb_write.checkpoint"
# Save a checkpoint each time this many more lines are confirmed: 4% of an input
# whose size the check counted, within these bounds; the upper one otherwise. A
# checkpoint is saved when the sender takes a batch and sending goes on meanwhile,
# so the server may hold up to six batches past it (docs/idempotency.md counts
# them): a crash re-sends at most the unconfirmed lines plus 4% of the input plus
# six batches: at most 7% from 1,000,000 lines at the default batch size.
MIN_EVERY, MAX_EVERY = 5_000, 50_000


def every(total: int | None) -> int:
    """Lines between two saved checkpoints, for an input of ``total`` lines (None: not counted)."""
    return MAX_EVERY if total is None else min(MAX_EVERY, max(MIN_EVERY, total // 25))


def identity(target: Mapping[str, Any]) -> str:
    """A digest of what, besides the content, must not change for a retry to resume."""
    return hashlib.sha256(json.dumps(target, sort_keys=True, default=str).encode()).hexdigest()[:32]


class Checkpoints:
    """The checkpoints of one task instance's write.

    ``store`` is the context's ``task_state_store`` (None before Airflow 3.3);
    ``first_try`` the first try of the current run of tries, which a person's
    clear moves on.
    """

    def __init__(
        self,
        store: Any,
        *,
        mode: str,
        identity: str,
        try_number: int,
        first_try: int,
        names: list[str],
        retried: bool = True,
    ) -> None:
        self.store = store if mode != "never" else None
        # Saved only where a try can use them: an automatic retry will follow a
        # failure of this one, or resume="always" lets a person's clear resume.
        self.saving = self.store is not None and (retried or mode == "always")
        self._found = False  # a checkpoint was read, or saved: done() deletes it
        self.names = names  # the sources' names, to name the only one in a write of one
        self.mode = mode
        self.identity = identity
        self.try_number = try_number
        self.first_try = first_try
        self.saved_by: Any = None  # the try that saved the checkpoint resumed after
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: Checkpoint | None = None
        self._saver: threading.Thread | None = None
        self._closing = False

    @classmethod
    def of(
        cls, context: Mapping[str, Any], mode: str, target: Mapping[str, Any], retries: int
    ) -> Checkpoints:
        """The checkpoints of the running task's write to ``target`` (see :func:`identity`)."""
        ti = context["ti"]
        try_number = int(getattr(ti, "try_number", 1) or 1)
        max_tries = int(getattr(ti, "max_tries", 0) or 0)  # Airflow retries a try up to this number
        store = context.get("task_state_store")
        if store is None and try_number > 1 and mode != "never":
            log.info(
                "Not resuming: this Airflow has no task state store (Airflow 3.3 and later); "
                "writing from the first line"
            )
        return cls(
            store,
            mode=mode,
            identity=identity(target),
            try_number=try_number,
            first_try=max(1, max_tries - retries + 1),
            names=list(target["sources"]),
            retried=retries > 0 and try_number <= max_tries,
        )

    def resume_from(self) -> Checkpoint | None:
        """The checkpoint to resume after, or None (logging why, when one exists)."""
        if self.store is None:
            return None
        saved = self.store.get(KEY)
        if saved is None:
            return None
        self._found = True
        checkpoint = Checkpoint.from_dict(saved.get("checkpoint")) if isinstance(saved, dict) else None
        why = None
        if checkpoint is None:
            why = "the saved checkpoint is not one this version reads"
        elif saved.get("identity") != self.identity:
            why = "the connection, bucket, precision, default time, validation or sources changed"
        elif saved.get("first_try") != self.first_try and self.mode != "always":
            why = (
                f"the task was cleared after try {saved.get('try')}, which starts its tries over "
                "(resume='always' resumes after a clear too)"
            )
        if why is not None or checkpoint is None:
            log.warning("Not resuming: %s; writing from the first line", why)
            return None
        self.saved_by = saved.get("try")
        return checkpoint

    def announce(self, checkpoint: Checkpoint) -> None:
        """Log the resume, once the client has proved the input starts as confirmed."""
        source = checkpoint.source or (self.names[0] if len(self.names) == 1 else "")
        where = f" of {source}" if source else ""
        log.info(
            "Resuming after line %d%s (%d lines confirmed by try %s)",
            checkpoint.line,
            where,
            checkpoint.lines,
            self.saved_by,
        )

    def save(self, checkpoint: Checkpoint) -> None:
        """Save ``checkpoint`` in the background: a save is a round trip through the
        task's supervisor (several ms), which the write should not wait for. A later
        checkpoint replaces one still waiting; :meth:`close` waits for the last."""
        if not self.saving:
            return
        with self._lock:
            self._found = True
            self._pending = checkpoint
            if self._saver is None:
                self._saver = threading.Thread(
                    target=self._save_pending, name="influxdb-checkpoints", daemon=True
                )
                self._saver.start()
        self._wake.set()

    def _save_pending(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                checkpoint, self._pending = self._pending, None
                closing = self._closing
            if checkpoint is not None and self.store is not None:
                value = {
                    "checkpoint": checkpoint.as_dict(),
                    "identity": self.identity,
                    "try": self.try_number,
                    "first_try": self.first_try,
                }
                try:
                    self.store.set(KEY, value)
                except Exception as exc:  # a checkpoint lost costs a longer retry, never the write
                    log.warning("Could not save the checkpoint after %d lines: %s", checkpoint.lines, exc)
            if closing:
                return

    def close(self) -> None:
        """Wait until the last checkpoint handed over is saved."""
        with self._lock:
            saver, self._closing = self._saver, True
        if saver is not None:
            self._wake.set()
            saver.join()

    def done(self) -> None:
        """The write finished: the next run of this task starts from the first line."""
        self.close()
        if self.store is not None and self._found:
            self.store.delete(KEY)
