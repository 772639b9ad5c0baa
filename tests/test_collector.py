"""The garbage collector's pause and freeze around a task's input (``influxdb_write.collector``):
each leaves the collector as it found it, also when its block raises."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from influxdb_write import collector


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_paused_turns_collection_off_inside_and_back_on_after_even_on_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_paused_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_frozen_keeps_what_exists_out_of_collections_and_hands_it_back() -> None:
    gc.unfreeze()
    kept = [[i] for i in range(1_000)]
    with pytest.raises(RuntimeError), collector.frozen():
        assert gc.get_freeze_count() >= len(kept)
        raise RuntimeError("inside")
    assert gc.get_freeze_count() == 0


def test_frozen_leaves_what_a_parent_process_froze_frozen() -> None:
    # The count is not a snapshot: frozen objects that die (a frame's temporaries)
    # leave it. What a parent froze and still holds must stay frozen.
    gc.unfreeze()
    held = [[i] for i in range(10_000)]
    gc.freeze()  # as Airflow's executors leave a forked process
    with collector.frozen():
        pass
    assert gc.get_freeze_count() >= len(held)
