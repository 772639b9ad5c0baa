"""The operator's decisions about a saved checkpoint (influxdb_write.durable).

The store here is a dict with the task state store's ``get``/``set``/``delete``;
the real one, across real retries, is exercised by tests/test_resume.py. These
cases are the ones a real run cannot reach cheaply: a person's clear, another
target, a value from another version, and ``resume="never"``/``"always"``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from influxdb_write.client.checkpoints import Checkpoint
from influxdb_write.durable import KEY, Checkpoints, every

TARGET = {"url": "http://db", "bucket": "b", "precision": "s", "sources": ["file /in.lp"]}
SAVED = Checkpoint(30_000, "ab" * 16, "", 30_000)


class Store(dict[str, Any]):
    def set(self, key: str, value: Any) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


class TI:
    def __init__(self, try_number: int, max_tries: int) -> None:
        self.try_number, self.max_tries = try_number, max_tries


def checkpoints(
    store: Any, try_number: int, max_tries: int, mode: str = "retries", **target: Any
) -> Checkpoints:
    context = {"ti": TI(try_number, max_tries), "task_state_store": store}
    return Checkpoints.of(context, mode, {**TARGET, **target}, retries=2)


def saved_by_try_1() -> Store:
    store = Store()
    first = checkpoints(store, 1, 2)
    first.save(SAVED)
    first.close()
    return store


def test_an_automatic_retry_resumes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    retry = checkpoints(saved_by_try_1(), 2, 2)
    assert retry.resume_from() == SAVED
    retry.announce(SAVED)
    assert "Resuming after line 30000 of file /in.lp (30000 lines confirmed by try 1)" in caplog.text


def test_a_clear_starts_over_saying_why(caplog: pytest.LogCaptureFixture) -> None:
    # Cleared after try 3 with retries=2: Airflow sets max_tries to 3 + 2, so this run of tries starts at 4.
    assert checkpoints(saved_by_try_1(), 4, 5).resume_from() is None
    assert (
        "Not resuming: the task was cleared after try 1, which starts its tries over "
        "(resume='always' resumes after a clear too); writing from the first line"
    ) in caplog.text


@pytest.mark.parametrize("mode", ["retries", "always"])
@pytest.mark.parametrize(
    "change", [{"bucket": "other"}, {"precision": "ms"}, {"sources": ["file /other.lp"]}]
)
def test_another_target_starts_over_saying_why(
    caplog: pytest.LogCaptureFixture, mode: str, change: dict[str, Any]
) -> None:
    assert checkpoints(saved_by_try_1(), 2, 2, mode, **change).resume_from() is None
    assert (
        "Not resuming: the connection, bucket, precision, default time, validation or sources changed; "
        "writing from the first line"
    ) in caplog.text


def test_resume_always_resumes_after_a_clear() -> None:
    assert checkpoints(saved_by_try_1(), 4, 5, "always").resume_from() == SAVED


def test_resume_never_saves_nothing_and_reads_nothing() -> None:
    store = Store()
    never = checkpoints(store, 1, 2, "never")
    never.save(SAVED)
    never.close()
    assert store == {} and never.resume_from() is None and not never.saving
    assert checkpoints(saved_by_try_1(), 2, 2, "never").resume_from() is None


def test_a_value_this_version_cannot_read_is_not_resumed(caplog: pytest.LogCaptureFixture) -> None:
    store = saved_by_try_1()
    store[KEY]["checkpoint"] = {"lines": "30000"}
    assert checkpoints(store, 2, 2).resume_from() is None
    assert "Not resuming: the saved checkpoint is not one this version reads" in caplog.text


def test_a_finished_write_deletes_its_checkpoint() -> None:
    store = saved_by_try_1()
    retry = checkpoints(store, 2, 2)
    assert retry.resume_from() == SAVED
    retry.done()
    assert store == {}


class CountingStore(Store):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.calls += 1
        return super().get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.calls += 1
        super().set(key, value)

    def delete(self, key: str) -> None:
        self.calls += 1
        super().delete(key)


@pytest.mark.parametrize(
    ("try_number", "max_tries", "retries", "mode", "saving"),
    [
        (1, 2, 2, "retries", True),  # Airflow retries a failure of this try
        (3, 2, 2, "retries", False),  # the last try: nothing would resume
        (1, 0, 0, "retries", False),  # no retries (Airflow's default): nothing would resume
        (1, 0, 0, "always", True),  # a person's clear may resume
        (1, 2, 2, "never", False),
    ],
)
def test_checkpoints_are_saved_only_where_a_try_can_use_them(
    try_number: int, max_tries: int, retries: int, mode: str, saving: bool
) -> None:
    store = CountingStore()
    context = {"ti": TI(try_number, max_tries), "task_state_store": store}
    write = Checkpoints.of(context, mode, TARGET, retries=retries)
    assert write.saving is saving
    write.resume_from()
    write.save(SAVED)
    write.done()
    # Nothing found, nothing saved: one read, and no delete (each is a round trip to the supervisor).
    assert store.calls == (3 if saving else 0 if mode == "never" else 1)


def test_before_airflow_3_3_a_retry_says_it_starts_over(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    first = Checkpoints.of({"ti": TI(1, 2)}, "retries", TARGET, retries=2)
    assert first.resume_from() is None and not first.saving and "Not resuming" not in caplog.text
    Checkpoints.of({"ti": TI(2, 2)}, "retries", TARGET, retries=2)
    assert "Not resuming: this Airflow has no task state store (Airflow 3.3 and later)" in caplog.text


@pytest.mark.parametrize(
    ("total", "lines"),
    [(None, 50_000), (1_000, 5_000), (60_000, 5_000), (400_000, 16_000), (10**6, 40_000), (10**7, 50_000)],
)
def test_checkpoints_are_saved_every_4_percent_within_bounds(total: int | None, lines: int) -> None:
    assert every(total) == lines


class SlowStore(Store):
    """Each save takes a while, as one through the supervisor does."""

    def __init__(self) -> None:
        super().__init__()
        self.saves: list[int] = []

    def set(self, key: str, value: Any) -> None:
        time.sleep(0.05)
        self.saves.append(value["checkpoint"]["lines"])
        super().set(key, value)


def test_saves_do_not_hold_the_write_up_and_the_last_is_saved_on_close() -> None:
    store = SlowStore()
    saving = checkpoints(store, 1, 2)
    began = time.monotonic()
    for lines in range(5_000, 55_000, 5_000):
        saving.save(Checkpoint(lines, "ab" * 16, "", lines))
    handed = time.monotonic() - began
    saving.close()
    assert handed < 0.05  # ten saves handed over without waiting for one
    # A later checkpoint replaces one still waiting; the last one handed over is always saved.
    assert store.saves[-1] == 50_000 and len(store.saves) < 10
    assert store[KEY]["checkpoint"]["lines"] == 50_000


def test_done_waits_for_a_save_in_flight_before_it_deletes() -> None:
    store = SlowStore()
    saving = checkpoints(store, 1, 2)
    saving.save(SAVED)
    saving.done()
    assert store == {} and store.saves == [30_000]
