"""Test DAGs: one write of several measurements, from text and records, whose lineage
names each measurement with its schema and counts (``tests/test_lineage.py``)."""

from typing import Any

import pendulum
from airflow.sdk import DAG

from influxdb_write.operators import InfluxDBWriteOperator

# Escapes, blanks before an entry, a name that is not ASCII and a string across lines:
# each measurement's name and keys as InfluxDB stores them.
ENTRIES = [
    "cpu,host=a,region=eu usage=0.5,count=3i,ok=true 1709251200000000000",
    "cpu,host=b usage=0.7,count=4i 1709251201000000000",
    'cpu\\ load,data\\,center=x msg="a, b" 1709251200000000000',
    'cpu\\ load,data\\,center=y msg="line\none" 1709251201000000000',
    "  température,pièce=salon v=21.5 1709251200000000000",
    "cpu,host=c,zone=z usage=0.9 1709251202000000000",
]
LINES = "\n".join(ENTRIES)
RECORDS = [
    {"measurement": "mem", "tags": {"host": f"h{i}"}, "fields": {"free": i, "note": "ok"}, "time": i}
    for i in range(1, 6)
]

CASES: list[tuple[str, dict[str, Any]]] = [("iw_lineage", {}), ("iw_lineage_off", {"validate": "off"})]
for dag_id, options in CASES:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
        InfluxDBWriteOperator(
            task_id="write", bucket=dag_id, line_protocol=LINES, records=RECORDS, precision="ns", **options
        )

# 5,000 lines of "a" and "b" (the first batch), then 2,000 of "c" (the second), for a
# connection to a server that confirms the first batch and refuses the second.
FAILING = "\n".join(
    [f"{'ab'[i % 2]},n={i} v={i}i {i}" for i in range(5000)] + [f"c,n={i} v={i}i {i}" for i in range(2000)]
)
with DAG("iw_lineage_fail", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    InfluxDBWriteOperator(
        task_id="write", bucket="iw_lineage_fail", influxdb_conn_id="iw_faulty", line_protocol=FAILING
    )

# More measurements than lineage lists one by one (MAX_MEASUREMENTS).
with DAG("iw_lineage_many", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    InfluxDBWriteOperator(
        task_id="write", bucket="iw_lineage_many", line_protocol="\n".join(f"m{i} v=1 1" for i in range(101))
    )
