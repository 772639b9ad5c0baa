"""Writes that a test interrupts: one by its execution timeout, one by SIGTERM."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from influxdb_write.operators import InfluxDBWriteOperator

LINES = "\n".join(f"m,host=h{i} v={i}i {i}" for i in range(1, 11))

with DAG("iw_timeout", schedule=None, start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)):
    InfluxDBWriteOperator(
        task_id="write", line_protocol=LINES, precision="s", execution_timeout=dt.timedelta(seconds=3)
    )

with DAG("iw_killed", schedule=None, start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)):
    InfluxDBWriteOperator(task_id="write", line_protocol=LINES, precision="s")

# Two batches (the client's default is 5,000 lines a batch): after a strict check the
# operator sends them two at a time; without one, one at a time.
MANY = "\n".join(f"m,host=h{i % 7} v={i}i {i}" for i in range(1, 10_001))
for validate in ("strict", "off"):
    with DAG(
        f"iw_in_flight_{validate}", schedule=None, start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    ):
        InfluxDBWriteOperator(
            task_id="write",
            line_protocol=MANY,
            precision="s",
            validate=validate,
            execution_timeout=dt.timedelta(seconds=4),
        )
