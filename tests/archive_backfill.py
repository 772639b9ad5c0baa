"""The backfill sample DAG (``dags/influxdb_backfill_archive.py``) on a running Celery
stack, for the tests and for ``scripts/celery_throughput.py``: an archive of hourly
line protocol files to load, and a handle that triggers runs of the DAG through
the REST API and reads back what they did, from Airflow and from influxd.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from celery_stack import CeleryStack, start_celery_stack
from servers import InfluxDB1, start_influxd

DAGS = Path(__file__).parent.parent / "dags"
DAG_ID = "influxdb_backfill_archive"
TASK_ID = "write_partition"
POOL = "influxdb_writes"
HEARTBEAT_TIMEOUT = 12
MEASUREMENT = "meter_load"
METERS = 100


@dataclass(frozen=True)
class Partition:
    """One hourly file of the archive, with what it holds."""

    hour: datetime
    path: Path
    lines: int
    total_wh: int

    @property
    def label(self) -> str:
        return f"{self.hour:%Y-%m-%d}/{self.hour:%H}.lp"


@dataclass
class Backfill:
    """A running stack with the DAG unpaused, its influxd, and the archive folder that
    the Variable ``meter_archive_dir`` names."""

    stack: CeleryStack
    influxd: InfluxDB1
    archive: Path

    def stop(self) -> None:
        try:
            self.stack.stop()
        finally:
            self.influxd.stop()

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.stack.airflow.api(method, path, **kwargs)
        if not answer.ok:
            raise AssertionError(f"{method} {path}: {answer.status_code} {answer.text[:1000]}")
        return answer.json()

    def trigger(self, run_id: str, partitions: list[Partition]) -> None:
        """A run whose data interval covers exactly ``partitions`` (consecutive hours)."""
        start, end = partitions[0].hour, partitions[-1].hour + timedelta(hours=1)
        interval = {"data_interval_start": start.isoformat(), "data_interval_end": end.isoformat()}
        body = {"dag_run_id": run_id, "logical_date": start.isoformat(), **interval}
        self.api("POST", f"/dags/{DAG_ID}/dagRuns", json=body)

    def wait_for_success(self, run_id: str, seconds: float = 180) -> dict[str, Any]:
        run = self.stack.airflow.wait_for_run(DAG_ID, run_id, seconds)
        if run["state"] != "success":
            raise AssertionError(f"{run}\n{self.stack.log_tail()}")
        return run

    def mapped(self, run_id: str) -> list[dict[str, Any]]:
        """The run's mapped task instances (latest try of each), by map index."""
        answer = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/listMapped")
        return sorted(answer["task_instances"], key=lambda ti: ti["map_index"])

    def tries(self, run_id: str, map_index: int) -> list[dict[str, Any]]:
        path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/{map_index}/tries"
        return sorted(self.api("GET", path)["task_instances"], key=lambda ti: ti["try_number"])

    def returned(self, run_id: str, task_id: str, map_index: int = -1) -> Any:
        path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        value = self.api("GET", path, params={"map_index": map_index})["value"]
        return json.loads(value) if isinstance(value, str) else value

    def landed(self, partitions: list[Partition]) -> dict[datetime, tuple[int, int]]:
        """Points and the sum of ``wh`` per hour, read back from influxd, over the partitions' hours."""
        start, end = partitions[0].hour, partitions[-1].hour + timedelta(hours=1)
        query = (
            f"SELECT count(wh), sum(wh) FROM {MEASUREMENT} WHERE time >= '{start.isoformat()}' "
            f"AND time < '{end.isoformat()}' GROUP BY time(1h)"
        )
        rows = self.influxd.rows(query, "energy")
        return {
            datetime.fromtimestamp(row["time"] / 1e9, timezone.utc): (row["count"], row["sum"])
            for row in rows
            if row["count"]
        }

    def everything(self) -> list[Any]:
        """Points and the sum of ``wh`` in the whole measurement, whatever their time."""
        return [
            row[1:]
            for series in self.influxd.query(f"SELECT count(wh), sum(wh) FROM {MEASUREMENT}", "energy")
            for row in series["values"]
        ]


def expected(partitions: list[Partition]) -> dict[datetime, tuple[int, int]]:
    return {p.hour: (p.lines, p.total_wh) for p in partitions}


def write_archive(archive: Path, start: datetime, hours: int, lines: int) -> list[Partition]:
    """Hourly line protocol files, ``lines`` points each, every line with its own time
    (``METERS`` series, one point per second each) and an integer field to add up."""
    partitions = []
    for offset in range(hours):
        hour = start + timedelta(hours=offset)
        path = archive / f"{hour:%Y-%m-%d}" / f"{hour:%H}.lp"
        path.parent.mkdir(parents=True, exist_ok=True)
        base = int(hour.timestamp())
        values = [(i * 7919 + offset * 104729) % 100_000 for i in range(lines)]
        text = "".join(
            f"{MEASUREMENT},meter=m-{i % METERS:03d} wh={value}i {base + i // METERS}\n"
            for i, value in enumerate(values)
        )
        path.write_text(text)
        partitions.append(Partition(hour, path, lines, sum(values)))
    return partitions


def start_backfill(folder: Path, workers: list[str], concurrency: int, pool_slots: int) -> Backfill:
    """influxd, and Airflow on Celery with ``workers`` (each running ``concurrency``
    task instances at most) and the pool of ``pool_slots``, all in ``folder``, with the
    DAG unpaused. The caller stops it with :meth:`Backfill.stop`."""
    influxd = start_influxd(_mkdir(folder / "influxd"))
    archive = _mkdir(folder / "archive")
    settings = {
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(DAGS.parent / "plugins"),
        "AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT": json.dumps(
            {"conn_type": "influxdb_write", "host": influxd.url, "extra": {"api": "v1"}}
        ),
        "AIRFLOW_VAR_METER_ARCHIVE_DIR": str(archive),
        # A lost worker's task instance is failed, and retried, after this many seconds
        # without a heartbeat; its workers heartbeat every 2 s.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
        # A message that a lost worker had taken but not started is sent again after this.
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "30",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
        # Only the runs asked for: no scheduled run for the latest day when the DAG is unpaused.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    try:
        influxd.create("energy")
        stack = start_celery_stack(_mkdir(folder / "airflow"), DAGS, **settings)
    except BaseException:
        influxd.stop()
        raise
    backfill = Backfill(stack, influxd, archive)
    try:
        for name in workers:
            stack.start_worker(name, concurrency)
        stack.airflow.cli("pools", "set", POOL, str(pool_slots), "Concurrent writes to InfluxDB")
        stack.airflow.wait_for_dags({DAG_ID})
        backfill.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
        stack.wait_for_workers()
    except BaseException:
        backfill.stop()
        raise
    return backfill


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path
