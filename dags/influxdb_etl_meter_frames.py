"""Hourly ETL with pandas: per-meter hourly summaries into the `energy` bucket.

**Source.** The hourly CSV files of `influxdb_etl_meter_readings`
(`<landing>/<YYYY-MM-DD>/<HH>.csv`, columns `time,meter,site,kwh,voltage,status`;
the Airflow Variable `meter_landing_dir`, or the sample day in `data/landing`).

**Each run** reads the files of its data interval with pandas, keeps the rows
inside `[start, end)`, and returns one row per meter and hour: energy used,
mean and lowest voltage, the number of readings and of readings not `ok`.
`@task.influxdb_write` writes that DataFrame as it is returned:

- `measurement="meter_hourly"`, `tag_columns=["meter", "site"]`: the other
  columns are fields;
- `time_column="hour"`: the start of each row's hour, timezone-aware;
- `field_types`: `kwh` and the voltages are always floats and the counts always
  integers, whatever pandas infers from one hour's data (an hour whose energy
  values all happen to be whole numbers would otherwise be written as integers,
  and InfluxDB would refuse every later float for that field).

A missing value leaves its field out of that row's line; a row with no value
left is not written and is counted in the task's summary.

**Idempotent.** Each point's time is its hour, so a re-run or a backfill of an
hour rewrites the same points; it never adds copies.

```sh
airflow dags test influxdb_etl_meter_frames 2025-01-01T04:00:00+00:00
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Variable, dag, task

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.0 keeps it outside the Task SDK
    from airflow.timetables.interval import CronDataIntervalTimetable

SAMPLE_LANDING = Path(__file__).parent / "data" / "landing"


def hourly_summary(landing: Path, start: Any, end: Any) -> Any:
    """One row per meter and hour of ``[start, end)``, from the hourly CSV files."""
    import pandas as pd  # imported when the task runs: DAG files are parsed often

    hours = pd.date_range(start, end, freq="h", inclusive="left")
    files = [landing / f"{hour:%Y-%m-%d}" / f"{hour:%H}.csv" for hour in hours]
    missing = [str(path) for path in files if not path.exists()]
    if missing:
        raise FileNotFoundError(f"hourly file(s) not there yet: {', '.join(missing)}")
    readings = pd.concat([pd.read_csv(path, dtype={"status": "string"}) for path in files])
    readings["time"] = pd.to_datetime(readings["time"], utc=True)
    readings = readings[(readings["time"] >= start) & (readings["time"] < end)]
    readings["hour"] = readings["time"].dt.floor("h")
    readings["not_ok"] = readings["status"] != "ok"
    grouped = readings.groupby(["hour", "meter", "site"], observed=True)
    return grouped.agg(
        kwh=("kwh", "sum"),
        voltage_mean=("voltage", "mean"),
        voltage_min=("voltage", "min"),
        readings=("kwh", "size"),
        not_ok=("not_ok", "sum"),
    ).reset_index()


@dag(
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["influxdb", "example", "pandas"],
    doc_md=__doc__,
)
def influxdb_etl_meter_frames() -> None:
    @task.influxdb_write(
        bucket="energy",
        precision="s",
        measurement="meter_hourly",
        tag_columns=["meter", "site"],
        time_column="hour",
        field_types={
            "kwh": "float",
            "voltage_mean": "float",
            "voltage_min": "float",
            "readings": "int",
            "not_ok": "int",
        },
    )
    def summarize_hour(data_interval_start: Any = None, data_interval_end: Any = None) -> Any:
        landing = Path(Variable.get("meter_landing_dir", default=str(SAMPLE_LANDING)))
        return hourly_summary(landing, data_interval_start, data_interval_end)

    summarize_hour()


influxdb_etl_meter_frames()
