"""Write a reading from the Airflow UI: **Trigger**, fill in the form, and the point lands.

The form comes from the typed params below: the bucket, the measurement, two
tags (`site`, and `sensor` if given), one value under a name of your choice, an
optional text note and an optional time. The task renders
`templates/manual_point.lp.j2` with them and writes one line.

**What the form refuses, beside the field, before anything runs:** an empty
required field (bucket, measurement, site, value name, value), and a value that
is not a number or `true`/`false`: text goes in the note, and a list or an
object cannot be written at all. An empty sensor leaves the tag out, since
InfluxDB has no empty tag values.

**What the run refuses:** the template's `lp_*` filters escape every part
exactly, so text lands as typed, spaces, commas and quotes included. What
cannot be written at all (a tag value that ends in a backslash, a name that
starts with `#`) fails the run with a message that names it, and nothing is
written. The message is the task's error: open the failed task's log, or the
Overview's "Recent Failed Task Logs".

Numbers are written as floats: InfluxDB fixes a field's type with its first
write, and a form cannot tell 21 from 21.0.

Without a time, the point gets the run's logical date, so clearing and
re-running the same run rewrites the point instead of adding a second one.

From the command line:

```sh
airflow dags trigger influxdb_manual_write --conf '{"site": "lab 2", "field": "temp", "value": 21.5}'
```
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
    # Airflow 3.3's trigger form checks a field's type and whether it is empty, beside the
    # field; it does not check what is inside an object. So each part is a field of its own.
    params={
        "bucket": Param(
            "manual",
            type="string",
            minLength=1,
            title="Bucket",
            description="Where the point goes: an existing bucket (InfluxDB 1.x and 3: database).",
        ),
        "measurement": Param(
            "manual_reading",
            type="string",
            minLength=1,
            title="Measurement",
            description="What was measured, such as room_temperature: the point's measurement.",
        ),
        "site": Param(
            "lab",
            type="string",
            minLength=1,
            title="Site",
            description="Where it was measured: the site tag.",
        ),
        "sensor": Param(
            None,
            type=["null", "string"],
            title="Sensor",
            description="Which instrument, if it matters: the sensor tag. Empty leaves the tag out.",
        ),
        "field": Param(
            "temperature",
            type="string",
            minLength=1,
            title="Value name",
            description="The field key of the value, such as temperature or kwh.",
        ),
        "value": Param(
            21.5,
            type=["number", "boolean"],
            title="Value",
            description="A number, or true or false. Numbers are written as floats.",
        ),
        "note": Param(
            None,
            type=["null", "string"],
            title="Note",
            description="Optional text, written as the field note.",
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
