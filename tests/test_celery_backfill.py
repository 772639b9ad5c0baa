"""The backfill sample DAG (``dags/influxdb_backfill_archive.py``) on a real distributed
executor: Airflow's CeleryExecutor with two Celery workers, PostgreSQL, Redis and a
real influxd, all on loopback (see :mod:`celery_stack`).

The DAG maps one ``InfluxDBWriteOperator`` over hourly line protocol files, in the
pool ``influxdb_writes``. The tests check that every partition lands exactly once,
that the mapped task instances ran on both workers, that the pool capped the
concurrent writes, that a worker killed with SIGKILL in the middle of a write is
survived exactly, and that re-running a whole run changes nothing.

One stack serves the module (starting it takes most of a minute). The pool has
fewer slots than the workers have processes, so the pool, not the workers, is
what limits the writes. Short heartbeat and queue timeouts let Airflow notice a
lost worker within seconds instead of minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import requests

from archive_backfill import (
    DAG_ID,
    MEASUREMENT,
    METERS,
    POOL,
    TASK_ID,
    Backfill,
    Partition,
    expected,
    start_backfill,
    write_archive,
)

# Two workers of two processes: four task instances at once, more than the pool's
# slots and than the DAG's max_active_tis_per_dagrun (3), so the pool is what binds.
POOL_SLOTS = 2
WORKERS, WORKER_CONCURRENCY = ("worker-1", "worker-2"), 2


def max_overlap(intervals: list[tuple[str, str]]) -> int:
    """The most intervals open at one instant; one that ends as another starts does not overlap it."""
    events = sorted(
        [(datetime.fromisoformat(start), 1) for start, _ in intervals]
        + [(datetime.fromisoformat(end), -1) for _, end in intervals]
    )
    open_now = most = 0
    for _, change in events:
        open_now += change
        most = max(most, open_now)
    return most


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfill]:
    started = start_backfill(
        tmp_path_factory.mktemp("backfill"), list(WORKERS), WORKER_CONCURRENCY, POOL_SLOTS
    )
    yield started
    started.stop()


@pytest.fixture(scope="module")
def spread_run(backfill: Backfill) -> tuple[str, list[Partition]]:
    """A run of 8 partitions of 60,000 lines on both workers, finished."""
    partitions = write_archive(backfill.archive, datetime(2024, 12, 5, tzinfo=timezone.utc), 8, 60_000)
    backfill.trigger("spread", partitions)
    backfill.wait_for_success("spread")
    return "spread", partitions


def test_every_partition_lands_exactly_once(
    backfill: Backfill, spread_run: tuple[str, list[Partition]]
) -> None:
    run_id, partitions = spread_run
    assert backfill.landed(partitions) == expected(partitions)

    # One task instance per partition, each labelled with its file, and each wrote all of its file.
    mapped = backfill.mapped(run_id)
    assert [ti["rendered_map_index"] for ti in mapped] == [p.label for p in partitions]
    assert [backfill.returned(run_id, TASK_ID, ti["map_index"])["lines"] for ti in mapped] == [
        p.lines for p in partitions
    ]
    totals = backfill.returned(run_id, "publish")
    assert (totals["partitions"], totals["lines"]) == (len(partitions), sum(p.lines for p in partitions))

    # One asset event for the run, carrying the totals.
    events = backfill.api("GET", "/assets/events", params={"source_dag_id": DAG_ID, "source_run_id": run_id})
    assert [event["extra"]["lines"] for event in events["asset_events"]] == [totals["lines"]]


def test_mapped_task_instances_ran_on_both_workers(
    backfill: Backfill, spread_run: tuple[str, list[Partition]]
) -> None:
    mapped = backfill.mapped(spread_run[0])
    assert {ti["hostname"] for ti in mapped} == set(WORKERS)


def test_the_pool_caps_concurrent_writes(backfill: Backfill, spread_run: tuple[str, list[Partition]]) -> None:
    """Each write runs inside its task instance's try, from its start to its end as
    Airflow records them; so no more writes overlap than these tries do."""
    run_id, partitions = spread_run
    tries = [t for ti in backfill.mapped(run_id) for t in backfill.tries(run_id, ti["map_index"])]
    assert len(tries) == len(partitions)
    assert {t["pool"] for t in tries} == {POOL}
    assert max_overlap([(t["start_date"], t["end_date"]) for t in tries]) == POOL_SLOTS


def test_rerunning_the_whole_run_changes_nothing(
    backfill: Backfill, spread_run: tuple[str, list[Partition]]
) -> None:
    run_id, partitions = spread_run
    before = backfill.landed(partitions), backfill.everything()
    backfill.api("POST", f"/dags/{DAG_ID}/dagRuns/{run_id}/clear", json={"dry_run": False})

    def rerun_done() -> bool:
        mapped = backfill.mapped(run_id)
        return all(ti["try_number"] == 2 and ti["state"] == "success" for ti in mapped)

    backfill.stack.airflow.wait_for("every partition to run again", rerun_done, seconds=180)
    backfill.wait_for_success(run_id)
    assert (backfill.landed(partitions), backfill.everything()) == before
    assert before[0] == expected(partitions)


def catch_a_write_in_progress(
    backfill: Backfill, run_id: str, partitions: list[Partition], worker: str, at_least: float = 0.0
) -> int:
    """The map index of a partition that ``worker`` is writing right now: more than
    ``at_least`` of its points (a fraction) have landed in influxd, not all."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for ti in backfill.mapped(run_id):
            if ti["state"] == "running" and ti["hostname"] == worker:
                partition = partitions[ti["map_index"]]
                landed = backfill.landed([partition]).get(partition.hour, (0, 0))[0]
                if max(0, at_least * partition.lines) < landed < partition.lines:
                    return int(ti["map_index"])
        time.sleep(0.05)
    raise AssertionError(f"never saw {worker} in the middle of a write\n{backfill.stack.log_tail()}")


def test_a_worker_killed_mid_write_is_retried_elsewhere_and_stays_exact(backfill: Backfill) -> None:
    """Worker 2 and every process under it get SIGKILL while influxd holds part of a
    partition it writes. Nothing reports the task's end: the scheduler fails it when
    its heartbeats stop, and its retry on worker 1 writes the partition again."""
    partitions = write_archive(backfill.archive, datetime(2024, 12, 6, tzinfo=timezone.utc), 6, 300_000)
    backfill.trigger("worker-lost", partitions)
    victim = catch_a_write_in_progress(backfill, "worker-lost", partitions, "worker-2", at_least=0.3)
    backfill.stack.kill_worker("worker-2")
    partition = partitions[victim]
    landed_at_kill = backfill.landed([partition])[partition.hour][0]

    backfill.wait_for_success("worker-lost", seconds=240)
    tries = backfill.tries("worker-lost", victim)
    assert [(t["try_number"], t["hostname"], t["state"]) for t in tries] == [
        (1, "worker-2", "failed"),
        (2, "worker-1", "success"),
    ]
    timeouts = backfill.api(
        "GET", "/eventLogs", params={"dag_id": DAG_ID, "run_id": "worker-lost", "event": "heartbeat timeout"}
    )
    assert (TASK_ID, victim, 1) in {
        (e["task_id"], e["map_index"], e["try_number"]) for e in timeouts["event_logs"]
    }
    assert backfill.landed(partitions) == expected(partitions)
    # On Airflow 3.3 the retry resumed after the last checkpoint the killed try saved
    # (every 4% of the input, 12,000 lines here). It counts only lines confirmed from the
    # first on, it is saved as the sender takes the next batch, and sending goes on while
    # it is saved, so influxd may hold up to six batches of 5,000 past it: two in flight
    # after the strict check, one waiting for its turn, two queued, one being handed over
    # (docs/idempotency.md). The retry sent at most what had not landed plus those.
    summary = backfill.returned("worker-lost", TASK_ID, victim)
    assert summary["lines"] == partition.lines and summary["resumed_after_lines"] > 0
    sent_again = partition.lines - summary["resumed_after_lines"]
    assert sent_again < partition.lines - landed_at_kill + 12_000 + 6 * 5_000


def points_written(backfill: Backfill) -> int:
    """influxd's own count of the points its HTTP API has written (``/debug/vars``)."""
    stats = requests.get(f"{backfill.influxd.url}/debug/vars", timeout=10).json()
    (httpd,) = [value for key, value in stats.items() if key.startswith("httpd")]
    return int(httpd["values"]["pointsWrittenOK"])


def stored(backfill: Backfill, partition: Partition) -> tuple[int, int]:
    """Points and the sum of ``wh`` over every time the partition's file holds (a file
    of more than 360,000 lines reaches past its hour: one point per meter a second)."""
    start = int(partition.hour.timestamp())
    end = start + -(-partition.lines // METERS)
    query = f"SELECT count(wh), sum(wh) FROM {MEASUREMENT} WHERE time >= {start}s AND time < {end}s"
    rows = backfill.influxd.rows(query, "energy")
    return (rows[0]["count"], rows[0]["sum"]) if rows else (0, 0)


def test_a_million_line_write_resumes_on_the_other_worker_after_a_kill(backfill: Backfill) -> None:
    """One partition of 1,000,000 lines runs on worker 2 alone (worker 1 is stopped
    until the write is under way); worker 2 gets SIGKILL after about half of it has
    landed. influxd's own counter of points written shows what the retry, on worker
    1, sent: at most what had not landed plus 5% of the input. influxd holds exactly
    the file, and a re-run of the whole DAG run changes nothing."""
    for name in WORKERS:
        if name not in backfill.stack.workers:
            backfill.stack.start_worker(name, WORKER_CONCURRENCY)
    backfill.stack.wait_for_workers()
    backfill.stack.stop_worker("worker-1")
    partitions = write_archive(backfill.archive, datetime(2024, 12, 7, tzinfo=timezone.utc), 1, 1_000_000)
    (partition,) = partitions
    written_before = points_written(backfill)
    backfill.trigger("million", partitions)
    # The write takes a few seconds: watch influxd's counter, which is cheap to read,
    # not the points themselves; worker 2 is the only worker, so it is the writer.
    deadline = time.monotonic() + 180
    while points_written(backfill) - written_before < partition.lines * 0.45:
        assert time.monotonic() < deadline, f"the write never got halfway\n{backfill.stack.log_tail()}"
        time.sleep(0.02)
    backfill.stack.kill_worker("worker-2")
    backfill.stack.start_worker("worker-1", WORKER_CONCURRENCY)
    time.sleep(1)  # a request influxd was answering when the worker died is counted now
    landed_at_kill = stored(backfill, partition)[0]
    written_at_kill = points_written(backfill)

    backfill.wait_for_success("million", seconds=300)
    sent_by_retry = points_written(backfill) - written_at_kill
    tries = backfill.tries("million", 0)
    assert [(t["try_number"], t["hostname"], t["state"]) for t in tries] == [
        (1, "worker-2", "failed"),
        (2, "worker-1", "success"),
    ]
    summary = backfill.returned("million", TASK_ID, 0)
    assert summary["lines"] == partition.lines
    assert summary["resumed_after_lines"] + sent_by_retry == partition.lines
    assert sent_by_retry <= partition.lines - landed_at_kill + partition.lines // 20
    assert stored(backfill, partition) == (partition.lines, partition.total_wh)

    before = stored(backfill, partition), backfill.everything()
    backfill.api("POST", f"/dags/{DAG_ID}/dagRuns/million/clear", json={"dry_run": False})
    backfill.stack.airflow.wait_for(
        "the run to run again",
        lambda: all(ti["try_number"] == 3 and ti["state"] == "success" for ti in backfill.mapped("million")),
        seconds=300,
    )
    backfill.wait_for_success("million", seconds=300)
    assert (stored(backfill, partition), backfill.everything()) == before
