"""Test DAG: mapped upstream tasks produce lines and records; one operator writes them all."""

import pendulum
from airflow.sdk import dag, task

from influxdb_write.operators import InfluxDBWriteOperator


@dag(schedule="@hourly", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def iw_collect():
    @task
    def lines(shard: int) -> list[str]:
        return [f"collected,shard={shard},kind=line n={shard}i", f"collected,shard={shard},kind=line2 n=0i"]

    @task
    def records() -> list[dict]:
        return [{"measurement": "collected", "tags": {"shard": "r", "kind": "record"}, "fields": {"n": 7}}]

    write = InfluxDBWriteOperator(task_id="write", bucket="iw_collect", xcom_from=["lines", "records"])
    [lines.expand(shard=[1, 2, 3]), records()] >> write


iw_collect()
