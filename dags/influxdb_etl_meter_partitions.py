"""Hourly partitions (Airflow 3.2+): each hour of meter readings is a partition,
loaded once into the `energy` bucket; a second DAG runs for each partition written.

`influxdb_etl_meter_partitions` runs on a partition timetable: at the top of each
hour it loads the hour before (`run_offset=-1`), whose partition key is that hour,
`2025-01-01T03:00:00`. It reads the hour's CSV file from the landing folder (the
Variable `meter_landing_dir`, or the sample day in `data/landing`; see
`influxdb_etl_meter_readings`) into a pandas DataFrame and returns it to
`@task.influxdb_write`, which writes each row as a point of `meter_reading`. Rows
carry their own times, and a row without one would get the partition's date, so
another run of the same partition rewrites the same points.

The write adds its event through the bucket's alias, `influxdb_asset("energy")`,
and Airflow puts the run's partition key on it. `influxdb_partition_summary` is
scheduled on the alias with a partitioned asset timetable, so it runs once for
each partition written, with that partition's key and the write's summary.

Load one hour of the sample day (the file's rows of 03:00 to 04:00), by hand or
from the Trigger form, with its partition key:

```sh
airflow dags unpause influxdb_etl_meter_partitions
airflow dags unpause influxdb_partition_summary
curl -X POST "$AIRFLOW_URL/api/v2/dags/influxdb_etl_meter_partitions/dagRuns" \\
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -d '{"logical_date": null, "partition_key": "2025-01-01T03:00:00"}'
```

On Airflow 3.0 and 3.1, which have no partitions, this file defines nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Variable, dag, task

from influxdb_write.operators import influxdb_asset

try:
    from airflow.sdk import CronPartitionTimetable, PartitionedAssetTimetable
except ImportError:  # Airflow 3.0 and 3.1: no partitions
    CronPartitionTimetable = PartitionedAssetTimetable = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

ENERGY = influxdb_asset("energy")
SAMPLE_LANDING = Path(__file__).parent / "data" / "landing"

if CronPartitionTimetable is not None:

    @dag(
        # Each run at hh:00 loads the hour before it: the partition hh-1:00.
        schedule=CronPartitionTimetable("0 * * * *", timezone="UTC", run_offset=-1),
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        tags=["influxdb", "example"],
        doc_md=__doc__,
    )
    def influxdb_etl_meter_partitions() -> None:
        @task.influxdb_write(
            bucket="energy",
            precision="s",
            outlets=[ENERGY],
            measurement="meter_reading",
            tag_columns=["meter", "site"],
            time_column="time",
            field_types={"kwh": "float", "voltage": "float"},  # as the records ETL writes them
        )
        def load_hour(partition_date: Any = None) -> Any:
            import pandas as pd  # imported when the task runs: DAG files are parsed often

            landing = Path(Variable.get("meter_landing_dir", default=str(SAMPLE_LANDING)))
            path = landing / f"{partition_date:%Y-%m-%d}" / f"{partition_date:%H}.csv"
            readings = pd.read_csv(path, dtype={"meter": "string", "site": "string", "status": "string"})
            readings["time"] = pd.to_datetime(readings["time"], utc=True)
            log.info("%s: %d rows for the partition %s", path, len(readings), f"{partition_date:%Y-%m-%dT%H}")
            return readings

        load_hour()

    @dag(
        schedule=PartitionedAssetTimetable(assets=ENERGY),
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        tags=["influxdb", "example"],
        doc_md=__doc__,
    )
    def influxdb_partition_summary() -> None:
        @task(multiple_outputs=False)  # one XCom: the summary, not one per key
        def log_partition(partition_key: Any = None, triggering_asset_events: Any = None) -> dict[str, Any]:
            (event,) = triggering_asset_events[ENERGY]
            log.info(
                "Partition %s: %d lines written to %s", partition_key, event.extra["lines"], event.asset.uri
            )
            return {"partition_key": partition_key, **event.extra}

        log_partition()

    influxdb_etl_meter_partitions()
    influxdb_partition_summary()
