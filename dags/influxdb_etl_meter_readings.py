"""Hourly ETL: electricity meter readings from CSV files into the `energy` bucket.

**Source.** An exporter drops one CSV file per hour (UTC) into a landing
folder, as `<landing>/<YYYY-MM-DD>/<HH>.csv`, with the columns
`time,meter,site,kwh,voltage,status`. The folder is the Airflow Variable
`meter_landing_dir`; without it, `data/landing` beside this file, which holds
sample files for 2025-01-01 from 00:00 to 06:00 UTC.

**Each run:**

1. `wait_for_files` waits (a sensor in reschedule mode, so it holds no worker
   slot) until every hourly file of the run's data interval has landed.
2. `load_readings` reads those files and keeps exactly the rows whose time is
   inside the data interval `[start, end)`. A malformed row, or a row in the
   wrong hour's file, fails the task naming the file and line; then nothing is
   written.
3. `@task.influxdb_write` writes the rows as points at second precision and
   emits an asset event for the bucket that carries the write summary;
   `influxdb_write_summary` runs on it.

**Idempotent.** Every point carries its own time from the file, and InfluxDB
keeps one point per series and time. A re-run or a backfill of an hour rewrites
the same points; it never adds copies.

Load the sample day: six hourly runs, each named by its interval's start. The
scheduler runs a backfill only while the DAG is unpaused:

```sh
airflow dags unpause influxdb_etl_meter_readings
airflow backfill create --dag-id influxdb_etl_meter_readings \\
    --from-date 2025-01-01T00:00:00+00:00 --to-date 2025-01-01T05:00:00+00:00
```
"""

from __future__ import annotations

import csv
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Variable, dag, task

from influxdb_write.operators import influxdb_asset

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.0 keeps it outside the Task SDK
    from airflow.timetables.interval import CronDataIntervalTimetable

log = logging.getLogger(__name__)

BUCKET = "energy"
SAMPLE_LANDING = Path(__file__).parent / "data" / "landing"
COLUMNS = ["time", "meter", "site", "kwh", "voltage", "status"]


def landing_dir() -> Path:
    """Read when a task runs (only `extract_readings` calls it), never at parse time."""
    # ruff's AIR003 sees a module-level function, not its only caller, a task.
    return Path(Variable.get("meter_landing_dir", default=str(SAMPLE_LANDING)))  # noqa: AIR003


def hourly_files(landing: Path, start: datetime, end: datetime) -> list[Path]:
    """The landing files of the hours that overlap ``[start, end)``."""
    if start >= end:
        raise ValueError(
            f"the data interval {start} to {end} is empty; schedule this DAG with a "
            "data interval timetable such as CronDataIntervalTimetable"
        )
    hour = start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    files = []
    while hour < end:
        files.append(landing / f"{hour:%Y-%m-%d}" / f"{hour:%H}.csv")
        hour += timedelta(hours=1)
    return files


def read_readings(path: Path, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], int]:
    """The rows of one hourly file inside ``[start, end)`` as records, and how many
    rows belong to the file's hour but to a neighbouring interval."""
    hour = datetime.strptime(f"{path.parent.name} {path.stem}", "%Y-%m-%d %H").replace(tzinfo=timezone.utc)
    records, elsewhere = [], 0
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames != COLUMNS:
            raise ValueError(f"{path}: header is {reader.fieldnames}, expected {COLUMNS}")
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            try:
                when = datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
                fields = {"kwh": float(row["kwh"]), "voltage": float(row["voltage"]), "status": row["status"]}
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where}: {exc}") from exc
            if when.tzinfo is None:
                raise ValueError(f"{where}: time {row['time']!r} has no UTC offset")
            if not hour <= when < hour + timedelta(hours=1):
                raise ValueError(f"{where}: time {row['time']} is outside the file's hour {hour:%H}:00")
            if not start <= when < end:
                elsewhere += 1
                continue
            records.append(
                {
                    "measurement": "meter_reading",
                    "tags": {"meter": row["meter"], "site": row["site"]},
                    "fields": fields,
                    "time": when,
                }
            )
    return records, elsewhere


@dag(
    # A data interval timetable: each run covers [start, end). A plain "@hourly"
    # or timedelta gives Airflow 3 runs whose interval is a single instant.
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["influxdb", "example"],
    doc_md=__doc__,
)
def influxdb_etl_meter_readings() -> None:
    @task.sensor(poke_interval=300, timeout=2 * 3600, mode="reschedule")
    def wait_for_files(data_interval_start: Any = None, data_interval_end: Any = None) -> bool:
        files = hourly_files(landing_dir(), data_interval_start, data_interval_end)
        missing = [str(path) for path in files if not path.exists()]
        if missing:
            log.info("Waiting for %d file(s): %s", len(missing), ", ".join(missing))
        return not missing

    @task.influxdb_write(bucket=BUCKET, precision="s", outlets=[influxdb_asset(BUCKET)])
    def load_readings(data_interval_start: Any = None, data_interval_end: Any = None) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for path in hourly_files(landing_dir(), data_interval_start, data_interval_end):
            rows, elsewhere = read_readings(path, data_interval_start, data_interval_end)
            log.info("%s: %d rows in this interval, %d in a neighbouring one", path, len(rows), elsewhere)
            records.extend(rows)
        return records

    wait_for_files() >> load_readings()


influxdb_etl_meter_readings()
