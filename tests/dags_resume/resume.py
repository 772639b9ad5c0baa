"""Test DAGs: a write whose first try is stopped mid-write, and its retry (tests/test_resume.py).

The file ``{{ var.value.iw_resume_file }}`` is written through a counting proxy
in front of influxd (connection ``iw_resume``), which stalls one request so that
the first try's ``execution_timeout`` stops the write. ``iw_resume_changed``
rewrites one value of the file when its first try fails, so its retry must
start over.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG

from influxdb_write.operators import InfluxDBWriteOperator


def change_the_file(context: Any) -> None:
    path = Path(context["var"]["value"].get("iw_resume_file"))
    text = path.read_text()
    path.write_text(text.replace(" v=10i ", " v=-10i ", 1))


for dag_id, callback in (("iw_resume", None), ("iw_resume_changed", change_the_file)):
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
        InfluxDBWriteOperator(
            task_id="write",
            influxdb_conn_id="iw_resume",
            bucket="iw_resume",
            path="{{ var.value.iw_resume_file }}",
            on_retry_callback=callback,
            retries=1,
            retry_delay=dt.timedelta(seconds=1),
            execution_timeout=dt.timedelta(seconds=8),
        )
