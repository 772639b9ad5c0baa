"""Test DAGs for the real scheduler: three writes naming one bucket's alias as their
outlet (a dry run, a write refused by validation, a write that lands) and a DAG
scheduled on that alias, which must run for the last one only."""

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from influxdb_write.operators import InfluxDBWriteOperator, influxdb_asset

BUCKET = influxdb_asset("iw_sched")
START = pendulum.datetime(2024, 1, 1, tz="UTC")

WRITES: dict[str, dict[str, Any]] = {
    "iw_sched_dry_run": {"line_protocol": "sched,run=dry v=1", "dry_run": True},
    "iw_sched_refused": {"line_protocol": "sched,run=refused v=1\nnot line protocol"},
    "iw_sched_write": {"line_protocol": "sched,run=written v=1"},
}
for dag_id, options in WRITES.items():
    with DAG(dag_id, schedule=None, start_date=START, catchup=False):
        InfluxDBWriteOperator(task_id="write", bucket="iw_sched", outlets=[BUCKET], **options)

with DAG("iw_sched_consumer", schedule=[BUCKET], start_date=START, catchup=False):

    @task(multiple_outputs=False)
    def read(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        return [dict(event.extra) for event in triggering_asset_events[BUCKET]]

    read()
