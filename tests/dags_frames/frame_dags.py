"""Test DAGs: DataFrames written by InfluxDBWriteOperator and @task.influxdb_write.

Each DAG writes to the influxd database named as the DAG (tests/test_operator_frames.py).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from influxdb_write.operators import InfluxDBWriteOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")


def readings() -> Any:
    """Four rows: a nullable integer column, a NaN, a categorical tag, one row with no field value."""
    import pandas as pd

    return pd.DataFrame(
        {
            "site": pd.Categorical(["north", "south yard", "north", "south yard"]),
            "time": pd.date_range("2024-03-01T00:00:00Z", periods=4, freq="h", unit="us"),
            "kwh": [1, 2, None, 4],
            "count": pd.array([10, None, None, 40], dtype="Int64"),
            "note": ['say "hi"', "ok", None, "ok"],
        }
    )


def dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False)


MAPPING: dict[str, Any] = {"measurement": "energy", "tag_columns": ["site"], "time_column": "time"}

with dag("iw_fr_xcom"):

    @task
    def make() -> Any:
        return readings()

    # field_types also declares a field of the line protocol input, which the frame does not have.
    make() >> InfluxDBWriteOperator(
        task_id="write",
        bucket="iw_fr_xcom",
        xcom_from="make",
        line_protocol="extra other=5i",
        field_types={"kwh": "float", "other": "int"},
        **MAPPING,
    )

with dag("iw_fr_decorated_polars"):

    @task.influxdb_write(bucket="iw_fr_decorated_polars", measurement_column="name", tag_columns="host")
    def polars_rows() -> Any:
        import polars as pl

        return pl.DataFrame({"name": ["cpu", "disk io"], "host": ["a", None], "v": [0.5, 2.0]})

    polars_rows()

with dag("iw_fr_bad_row_skip"):

    @task
    def counts_skip() -> Any:
        import pandas as pd

        return pd.DataFrame({"id": ["a", "b", "c"], "count": [1.0, 2.5, 3.0]})

    counts_skip() >> InfluxDBWriteOperator(
        task_id="write",
        bucket="iw_fr_bad_row_skip",
        xcom_from="counts_skip",
        measurement="c",
        tag_columns=["id"],
        field_types={"count": "int"},
        validate="skip",
    )

# The cases strict validation must refuse: the tasks of one DAG, one `airflow dags test`
# for all; each writes (or must not write) the database named as the task.
with dag("iw_fr_strict"):

    @task
    def counts() -> Any:
        import pandas as pd

        return pd.DataFrame({"count": [1.0, 2.5, 3.0]})

    @task
    def ints() -> Any:
        import pandas as pd

        return pd.DataFrame({"v": [1, 2]})

    @task
    def frame() -> Any:
        return readings()

    counts() >> InfluxDBWriteOperator(
        task_id="iw_fr_bad_row",
        bucket="iw_fr_bad_row",
        xcom_from="counts",
        measurement="c",
        field_types={"count": "int"},
    )
    ints() >> InfluxDBWriteOperator(
        task_id="iw_fr_conflict",
        bucket="iw_fr_conflict",
        line_protocol="m v=1.5",
        xcom_from="ints",
        measurement="m",
    )
    frame() >> InfluxDBWriteOperator(
        task_id="iw_fr_missing_column",
        bucket="iw_fr_missing_column",
        xcom_from="frame",
        measurement="m",
        tag_columns=["nope"],
    )
    InfluxDBWriteOperator(
        task_id="iw_fr_no_frame",
        bucket="iw_fr_no_frame",
        records=[{"measurement": "m", "fields": {"v": 1}}],
        tag_columns=["host"],
    )
    InfluxDBWriteOperator(
        task_id="iw_fr_text_declared",
        bucket="iw_fr_text_declared",
        line_protocol="m count=1i\nm count=2.5",
        field_types={"count": "int"},
    )
