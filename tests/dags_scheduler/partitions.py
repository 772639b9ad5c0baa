"""Test DAGs for the real scheduler: an hourly write on a partition timetable, whose
bucket's alias is the schedule of a partitioned consumer (Airflow 3.2+, which these
DAGs need; only ``tests/test_asset_scheduling.py`` loads them)."""

from typing import Any

import pendulum
from airflow.sdk import DAG, CronPartitionTimetable, PartitionedAssetTimetable, task

from influxdb_write.operators import InfluxDBWriteOperator, influxdb_asset

PARTITIONED = influxdb_asset("iw_part")
START = pendulum.datetime(2024, 1, 1, tz="UTC")
# No scheduled run: the test triggers the partition it checks. (Two first events through
# a new alias at the same moment race in Airflow 3.3.2: one task fails with "UNIQUE
# constraint failed: asset.name, asset.uri" as both create the asset; see the README.)
NEVER = pendulum.datetime(2099, 1, 1, tz="UTC")

with DAG(
    "iw_part_write",
    schedule=CronPartitionTimetable("0 * * * *", timezone="UTC"),
    start_date=NEVER,
    catchup=False,
):
    InfluxDBWriteOperator(
        task_id="write",
        bucket="iw_part",
        line_protocol="part,key={{ partition_key | lp_tag }} v=1",
        outlets=[PARTITIONED],
    )

with DAG("iw_part_consumer", schedule=PartitionedAssetTimetable(assets=PARTITIONED), start_date=START):

    @task(multiple_outputs=False)
    def read(triggering_asset_events: Any = None, partition_key: Any = None) -> dict[str, Any]:
        (event,) = triggering_asset_events[PARTITIONED]
        return {
            "partition_key": partition_key,
            "event_partition_key": event.partition_key,
            "lines": event.extra["lines"],
        }

    read()
