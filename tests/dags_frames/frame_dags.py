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


class ParseCountingWrite(InfluxDBWriteOperator):
    """The operator, logging how many entries the general grammar parsed while it ran
    (``grammar.parse_entry`` as the decoder calls it), for tests/test_operator_frames.py."""

    def execute(self, context: Any) -> Any:
        from influxdb_write.line_protocol import decoder

        parse_entry, calls = decoder.parse_entry, [0]

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            return parse_entry(*args, **kwargs)

        decoder.parse_entry = counted
        try:
            return super().execute(context)
        finally:
            decoder.parse_entry = parse_entry
            self.log.info("The general grammar parsed %d entries", calls[0])


PARSE_COUNT_ROWS = 2_000

with dag("iw_fr_parse_count"):

    @task
    def timed_rows() -> Any:
        import pandas as pd

        frame = pd.DataFrame(
            {
                "site": [f"site {i % 7}" for i in range(PARSE_COUNT_ROWS)],
                "time": pd.date_range("2024-03-01T00:00:00Z", periods=PARSE_COUNT_ROWS, freq="s"),
                "kwh": [i / 4 for i in range(PARSE_COUNT_ROWS)],
                "count": list(range(PARSE_COUNT_ROWS)),
                "note": ['say "hi"', "ok"] * (PARSE_COUNT_ROWS // 2),
            }
        )
        return frame

    @task
    def timed_records() -> list[dict[str, Any]]:
        start = 1_709_251_200_000_000_000
        return [
            {
                "measurement": "power",
                "tags": {"site": f"site {i % 7}"},
                "fields": {"kw": i / 4, "count": i, "note": "ok"},
                "time": start + i * 1_000_000_000,
            }
            for i in range(PARSE_COUNT_ROWS)
        ]

    [timed_rows(), timed_records()] >> ParseCountingWrite(
        task_id="write", bucket="iw_fr_parse_count", xcom_from=["timed_rows", "timed_records"], **MAPPING
    )
