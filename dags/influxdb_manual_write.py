"""Write a point from the Airflow UI: **Trigger**, fill in the form, and the point lands.

The form comes from the typed params below: bucket, measurement, tags, values
and an optional time. The task renders ``templates/manual_point.lp.j2`` with
them and writes the line. The template's ``lp_*`` filters escape every part
exactly, so text typed into the form lands as typed, spaces, commas and quotes
included. What cannot be written at all (an empty tag value, a tag value that
ends in a backslash, a name that starts with ``#``) fails the run with a message
that names it, and nothing is written.

Numbers typed into the form are written as floats. InfluxDB fixes a field's
type with its first write, and a form cannot tell 21 from 21.0.

Without a time, the point gets the run's logical date, so clearing and
re-running the same run rewrites the point instead of adding a second one.

From the command line::

    airflow dags trigger influxdb_manual_write --conf '{"tags": {"site": "lab 2"}, "fields": {"temp": 21.5}}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from influxdb_write.operators import InfluxDBWriteOperator

with DAG(
    "influxdb_manual_write",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["influxdb", "example"],
    doc_md=__doc__,
    params={
        "bucket": Param("manual", type="string", minLength=1, title="Bucket"),
        "measurement": Param("manual_reading", type="string", minLength=1, title="Measurement"),
        "tags": Param(
            {"site": "lab"},
            type="object",
            additionalProperties={"type": "string", "minLength": 1},
            title="Tags",
            description="Tag key to value. Values are text; leave out a tag rather than leave it empty.",
        ),
        "fields": Param(
            {"temperature": 21.5, "note": "checked by hand"},
            type="object",
            minProperties=1,
            additionalProperties={"type": ["number", "string", "boolean"]},
            title="Values",
            description="Field key to value: a number, text, or true/false.",
        ),
        "time": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Time",
            description="When the value was observed. Empty: the run's logical date.",
        ),
    },
):
    InfluxDBWriteOperator(
        task_id="write_point",
        bucket="{{ params.bucket }}",
        precision="s",
        line_protocol="templates/manual_point.lp.j2",
    )
