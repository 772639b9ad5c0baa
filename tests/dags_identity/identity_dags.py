"""Test DAGs: point identity. Entries of one write that land on one point and give a field
two values are refused under strict validation, counted under skip; merges of other fields
and repeated values are written. Each DAG writes to the influxd database named as the DAG
(tests/test_operator_identity.py)."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from influxdb_write.operators import InfluxDBWriteOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")


def dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False)


def no_time() -> Any:
    import pandas as pd

    return pd.DataFrame({"v": [1.0, 2.0, 3.0]})  # a RangeIndex and no time column


def two_sites() -> Any:
    import pandas as pd

    at = pd.Timestamp("2024-03-01T00:00:00Z")
    return pd.DataFrame({"time": [at, at], "site": ["north", "south"], "kwh": [1.5, 2.5]})


def ten_readings() -> Any:
    import pandas as pd

    times = pd.date_range("2024-03-01T00:00:00Z", periods=10, freq="100ms")
    return pd.DataFrame({"time": times, "v": [float(i) for i in range(10)]})


CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("iw_id_no_time", no_time, {"measurement": "m"}),
    ("iw_id_no_time_skip", no_time, {"measurement": "m", "validate": "skip"}),
    ("iw_id_no_time_off", no_time, {"measurement": "m", "validate": "off"}),
    ("iw_id_no_tags", two_sites, {"measurement": "energy", "time_column": "time"}),
    ("iw_id_precision", ten_readings, {"measurement": "m", "time_column": "time", "precision": "s"}),
]
for dag_id, make, options in CASES:
    with dag(dag_id):
        task(task_id="make")(make)() >> InfluxDBWriteOperator(
            task_id="write", bucket=dag_id, xcom_from="make", **options
        )

with dag("iw_id_merge"):
    # Disjoint fields of one point from three sources, a value repeated: all written.
    InfluxDBWriteOperator(
        task_id="write",
        bucket="iw_id_merge",
        line_protocol=(
            "m,site=a,zone=1 temp=20.5 1709251200000000000\nm,zone=1,site=a hum=40i 1709251200000000000"
        ),
        records=[
            {
                "measurement": "m",
                "tags": {"site": "a", "zone": "1"},
                "fields": {"temp": 20.5},
                "time": 1709251200000000000,
            },
            {
                "measurement": "m",
                "tags": {"site": "a", "zone": "1"},
                "fields": {"wind": 3.0},
                "time": 1709251200000000000,
            },
        ],
    )

with dag("iw_id_lines"):
    # Lines without a timestamp all get the run's time; two values of v, in two inputs.
    InfluxDBWriteOperator(
        task_id="write",
        bucket="iw_id_lines",
        line_protocol="m,site=a v=1\nm,site=b v=1",
        records=[{"measurement": "m", "tags": {"site": "a"}, "fields": {"v": 2.0}}],
    )
