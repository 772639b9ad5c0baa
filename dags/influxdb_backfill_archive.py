"""Backfill: an archive of hourly line protocol files into `energy`, one task per file.

**Source.** The metering system that came before the hourly ETL exported one
line protocol file per hour (UTC), `<archive>/<YYYY-MM-DD>/<HH>.lp`, every line
with its own timestamp in seconds. The archive is the Airflow Variable
`meter_archive_dir`: a folder, or an object storage URL such as
`s3://meter-archive` (read through an Airflow connection for it). Without the
Variable, `data/archive` beside this file, which holds a sample day, 2024-12-31.

**Each run loads its data interval** (a day, when scheduled or backfilled):

1. `list_partitions` names the hourly files of the interval, in order. A
   missing file fails the run, naming it, before anything is written.
2. `write_partition` is one `InfluxDBWriteOperator` mapped over those files:
   one task instance per hour, labelled with its file. Each streams its file to
   InfluxDB and returns its own summary. The executor spreads the task instances
   over its workers (Celery, Kubernetes). They run in the pool
   `influxdb_writes`, whose slots cap the concurrent writes to InfluxDB across
   every run and every DAG that uses the pool, and at most
   `max_active_tis_per_dagrun` of them run at once for one day, so a backfill
   leaves a slot free for others (the hourly ETL) when the pool is larger.
3. `publish` adds the summaries up and adds one asset event on the bucket
   through its alias, `influxdb_asset("energy")`, only once every hour of the
   day is in, and only if lines were written: a consumer such as
   `influxdb_write_summary` never sees half a day, nor a day with nothing in it.

**Exactly once per run, safe to re-run.** The partitions come from the data
interval, not from whatever the folder holds, so every hour is one task
instance and no file is written twice in a run. Every line carries its time,
and InfluxDB keeps one point per series and time: a partition retried after a
lost worker, or a whole run cleared and run again, rewrites the same points and
adds none.

Create the pool first: a task in a pool that does not exist is never scheduled.
Then load the sample day, one run (a backfill has its own limit on runs at once):

```sh
airflow pools set influxdb_writes 4 "Concurrent writes to InfluxDB"
airflow dags unpause influxdb_backfill_archive
airflow backfill create --dag-id influxdb_backfill_archive --max-active-runs 1 \\
    --from-date 2024-12-31T00:00:00+00:00 --to-date 2024-12-31T00:00:00+00:00
```
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import ObjectStoragePath, Variable, dag, task

from influxdb_write.hooks import InfluxDBWriteHook
from influxdb_write.operators import InfluxDBWriteOperator, influxdb_asset

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.0 keeps it outside the Task SDK
    from airflow.timetables.interval import CronDataIntervalTimetable

BUCKET = "energy"
POOL = "influxdb_writes"
SAMPLE_ARCHIVE = Path(__file__).parent / "data" / "archive"
SUMMED = ("lines", "batches", "bytes", "compressed_bytes", "retries", "skipped")
ENERGY = influxdb_asset(BUCKET)


def archive_dir() -> str:
    """Read when a task runs (only `list_partitions` calls it), never at parse time."""
    # ruff's AIR003 sees a module-level function, not its only caller, a task.
    return str(Variable.get("meter_archive_dir", default=str(SAMPLE_ARCHIVE))).rstrip("/")  # noqa: AIR003


def hourly_partitions(archive: str, start: datetime, end: datetime) -> list[str]:
    """The files of the hours that overlap ``[start, end)``, in time order."""
    if start >= end:
        raise ValueError(
            f"the data interval {start} to {end} is empty; schedule this DAG with a "
            "data interval timetable such as CronDataIntervalTimetable"
        )
    hour = start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    partitions = []
    while hour < end:
        partitions.append(f"{archive}/{hour:%Y-%m-%d}/{hour:%H}.lp")
        hour += timedelta(hours=1)
    return partitions


def exists(path: str) -> bool:
    return ObjectStoragePath(path).exists() if "://" in path else Path(path).is_file()


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    # The archive's first day. A run for an earlier day gets no task instances, and
    # succeeds having written nothing.
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    # Days load one after another, so consumers of the asset see them in order.
    max_active_runs=1,
    default_args={"retries": 3},
    tags=["influxdb", "example"],
    doc_md=__doc__,
)
def influxdb_backfill_archive() -> None:
    @task
    def list_partitions(data_interval_start: Any = None, data_interval_end: Any = None) -> list[str]:
        partitions = hourly_partitions(archive_dir(), data_interval_start, data_interval_end)
        missing = [path for path in partitions if not exists(path)]
        if missing:
            raise FileNotFoundError(f"{len(missing)} partition(s) missing: {', '.join(missing)}")
        return partitions

    write_partition = InfluxDBWriteOperator.partial(
        task_id="write_partition",
        bucket=BUCKET,
        precision="s",
        pool=POOL,
        max_active_tis_per_dagrun=3,
        execution_timeout=timedelta(hours=1),
        # The UI labels each mapped task instance with its file, such as 2024-12-31/05.lp.
        map_index_template="{{ task.path.rsplit('/', 2)[1:] | join('/') }}",
    ).expand(path=list_partitions())

    @task(outlets=[ENERGY], multiple_outputs=False)  # one XCom: the totals, not one per key
    def publish(summaries: Any, outlet_events: Any = None) -> dict[str, Any]:
        """One asset event for the whole day, with the partitions' summaries added up
        (`seconds` is the sum of their write times, not the run's wall time)."""
        summaries = list(summaries)
        totals: dict[str, Any] = {"bucket": BUCKET, "partitions": len(summaries), "dry_run": False}
        totals.update({key: sum(summary[key] for summary in summaries) for key in SUMMED})
        totals["seconds"] = round(sum(summary["seconds"] for summary in summaries), 6)
        if totals["lines"]:  # an event only for what was written
            outlet_events[ENERGY].add(InfluxDBWriteHook().asset(BUCKET), extra=totals)
        return totals

    publish(write_partition.output)


influxdb_backfill_archive()
