"""Test DAGs: typed record templates, and mapped upstream tasks named by map index.

Run by tests/test_operator_places.py against a real influxd (``api="v1"``).
"""

from typing import Any

import pendulum
from airflow.sdk import DAG, task

try:
    from airflow.sdk.exceptions import AirflowSkipException
except ImportError:  # Airflow 3.0
    from airflow.exceptions import AirflowSkipException  # type: ignore[no-redef,unused-ignore]

from influxdb_write.operators import InfluxDBWriteOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")
README = [{"measurement": "m", "fields": {"v": "{{ params.v }}"}}]  # the README's example, as written
MIXED = [
    {
        "measurement": "m",
        "tags": {"site": "{{ params.site }}"},
        "fields": {
            "v": "{{ params.v }}",
            "spaced": " {{ params.v }}\n",
            "label": "{{ params.v }} kWh",
            "gone": "{{ params.none }}",
        },
        "time": "{{ data_interval_end - macros.timedelta(hours=1) }}",
    }
]

with DAG("iw_pl_typed", schedule=None, start_date=START, catchup=False):
    for name, value in (("float", 21.5), ("text", "abc"), ("int", 3)):
        InfluxDBWriteOperator(task_id=name, bucket=f"iw_pl_{name}", params={"v": value}, records=README)
    InfluxDBWriteOperator(
        task_id="mixed", bucket="iw_pl_mixed", params={"v": 21.5, "site": 7, "none": None}, records=MIXED
    )

    InfluxDBWriteOperator(
        task_id="whole",
        bucket="iw_pl_whole",
        params={
            "readings": [{"measurement": "m", "fields": {"v": 1.5}}, {"measurement": "m", "fields": {"w": 2}}]
        },
        records="{{ params.readings }}",
    )

    @task.influxdb_write(bucket="iw_pl_decorated", params={"v": 21.5}, records=README)
    def decorated() -> list[str]:
        return []

    decorated()


with DAG("iw_pl_mapped", schedule=None, start_date=START, catchup=False):
    # Each upstream is mapped over five indexes: 2 is skipped, and the bad entry
    # comes from index 4, third of the values returned.

    @task
    def text(i: int) -> str:
        if i == 2:
            raise AirflowSkipException("nothing for this index")
        return f"ok,i={i} v=1\nbad v=" if i == 4 else f"ok,i={i} v=1"

    @task
    def records(i: int) -> list[dict[str, Any]] | None:
        if i == 2:
            raise AirflowSkipException("nothing for this index")
        if i == 1:
            return None  # succeeds with no value: the values no longer match the states
        good = {"measurement": "ok", "tags": {"i": str(i)}, "fields": {"v": 1}}
        return [good, {"measurement": "bad", "fields": {}}] if i == 4 else [good]

    @task
    def lines(i: int) -> list[str]:
        if i == 2:
            raise AirflowSkipException("nothing for this index")
        return [f"ok,i={i} v=1", "bad v=1,v=2"] if i == 4 else [f"ok,i={i} v=1"]

    @task
    def record(i: int) -> Any:  # not dict: Airflow would push each key as an XCom of its own
        if i == 2:
            raise AirflowSkipException("nothing for this index")
        return {"measurement": "ok" if i != 4 else "", "tags": {"i": str(i)}, "fields": {"v": 1}}

    @task
    def frame(i: int) -> Any:
        import pandas as pd

        if i == 2:
            raise AirflowSkipException("nothing for this index")
        return pd.DataFrame({"count": [1, 2.5 if i == 4 else 2]})

    cases: tuple[tuple[str, Any, dict[str, Any]], ...] = (
        ("text", text, {}),
        ("records", records, {}),
        ("lines", lines, {}),
        ("record", record, {}),
        ("frame", frame, {"measurement": "fr", "field_types": {"count": "int"}}),
    )
    for name, upstream, options in cases:
        write = InfluxDBWriteOperator(
            task_id=f"write_{name}",
            bucket=f"iw_pl_mapped_{name}",
            xcom_from=name,
            trigger_rule="none_failed",
            **options,
        )
        upstream.expand(i=[0, 1, 2, 3, 4]) >> write


with DAG("iw_pl_mapped_ok", schedule=None, start_date=START, catchup=False):
    # Index 2 is skipped, index 1 returns nothing, index 4 returns a bad line after a good one.

    @task
    def lines(i: int) -> str | None:
        if i == 2:
            raise AirflowSkipException("nothing for this index")
        if i == 1:
            return None
        return f"ok,i={i} v={i}" + ("\nbad v=" if i == 4 else "")

    write = InfluxDBWriteOperator(
        task_id="write",
        bucket="iw_pl_mapped_ok",
        xcom_from="lines",
        trigger_rule="none_failed",
        validate="skip",
    )
    lines.expand(i=[0, 1, 2, 3, 4]) >> write
