"""Test DAGs: strict validation writes nothing; dry run sends nothing; skip drops bad
lines; off sends everything and the server judges. Each names its bucket as an
outlet, which gets an event only where lines were written."""

from typing import Any

import pendulum
from airflow.sdk import DAG

from influxdb_write.operators import InfluxDBWriteOperator, influxdb_asset

BAD = "good,n=1 v=1\nbad line here\ngood,n=2 v=2\ngood,n=3 v=NaN"

CASES: list[tuple[str, dict[str, Any]]] = [
    ("iw_strict", {}),
    ("iw_dry_run", {"dry_run": True, "validate": "skip"}),
    ("iw_skip", {"validate": "skip"}),
    ("iw_off", {"validate": "off"}),
]
for dag_id, options in CASES:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
        InfluxDBWriteOperator(
            task_id="write", bucket=dag_id, line_protocol=BAD, outlets=[influxdb_asset(dag_id)], **options
        )

with DAG("iw_wrong_outlet", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    InfluxDBWriteOperator(
        task_id="write", bucket="iw_off", line_protocol="good,n=9 v=9", outlets=[influxdb_asset("iw_skip")]
    )
