"""Test DAGs: whole-input checks of InfluxDBWriteOperator (files, records, empty input, line numbers).

The files are made by tests/test_operator_input.py in the folder the Variable
``iw_input_dir`` names.
"""

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from influxdb_write.operators import InfluxDBWriteOperator

FILE = "{{ var.value.iw_input_dir }}/"
NAN_AND_GOOD = [
    {"measurement": "nan", "fields": {"v": float("nan")}},
    {"measurement": "nan", "fields": {"v": 1.0}},
]

CASES: list[tuple[str, dict[str, Any]]] = [
    ("iw_in_unclosed", {"path": FILE + "unclosed.lp"}),
    ("iw_in_unclosed_skip", {"path": FILE + "unclosed.lp", "validate": "skip"}),
    ("iw_in_not_utf8", {"path": FILE + "latin1.lp"}),
    ("iw_in_bom", {"path": FILE + "bom.lp"}),
    ("iw_in_too_large", {"path": FILE + "too_large.lp"}),
    (
        "iw_in_types",
        {"line_protocol": "typed v=1i", "records": [{"measurement": "typed", "fields": {"v": 1.5}}]},
    ),
    # Records with keys 1 and "1" are refused too (tests/test_decoder.py), but Airflow 3.0
    # cannot store such a rendered field at all.
    ("iw_in_duplicates", {"line_protocol": "dup a=1,a=2\ndup,t=1,t=2 v=1"}),
    ("iw_in_unsigned", {"line_protocol": "uns v=1u"}),
    (
        "iw_in_nan",
        {"records": NAN_AND_GOOD},
    ),
    (
        "iw_in_nan_skip",
        {
            "records": NAN_AND_GOOD,
            "validate": "skip",
        },
    ),
    (
        "iw_in_rejected",
        {
            "records": [{"measurement": "rej", "fields": {"v": 1}}],
            "line_protocol": "# c\n\nrej v=1i 1\nrej v= 2",
            "validate": "off",
        },
    ),
    ("iw_in_empty_fail", {"line_protocol": "# only a comment", "if_empty": "fail"}),
]
# The cases strict validation must refuse run as the tasks of one DAG, one
# `airflow dags test` for all: each task writes (or must not write) its own database.
STRICT = {
    "iw_in_unclosed",
    "iw_in_not_utf8",
    "iw_in_too_large",
    "iw_in_types",
    "iw_in_duplicates",
    "iw_in_unsigned",
    "iw_in_nan",
    "iw_in_empty_fail",
}
with DAG("iw_in_strict", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    for dag_id, options in CASES:
        if dag_id in STRICT:
            InfluxDBWriteOperator(task_id=dag_id, bucket=dag_id, **options)
for dag_id, options in CASES:
    if dag_id not in STRICT:
        with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
            InfluxDBWriteOperator(task_id="write", bucket=dag_id, **options)


with DAG("iw_in_empty", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):

    @task
    def nothing() -> None:
        return None

    write = InfluxDBWriteOperator(
        task_id="write",
        bucket="iw_in_empty",
        line_protocol="{{ '' }}",
        xcom_from="nothing",
        path=FILE + "empty.lp",
    )
    nothing() >> write


with DAG(
    "iw_in_off_bad_record", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False
):

    @task
    def readings() -> list[dict[str, Any]]:
        good = [{"measurement": "off", "fields": {"v": n}, "time": n} for n in range(1, 12_001)]
        return [*good[:10_500], {"measurement": "off", "fields": {"v": [1, 2]}}, *good[10_500:]]

    readings() >> InfluxDBWriteOperator(
        task_id="write", bucket="iw_in_off_bad_record", xcom_from="readings", validate="off", precision="s"
    )
