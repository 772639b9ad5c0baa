"""Test DAG: every data source of InfluxDBWriteOperator in one task each."""

import pendulum
from airflow.sdk import DAG, Param

from influxdb_write.operators import InfluxDBWriteOperator, influxdb_asset

with DAG(
    "iw_sources",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    template_searchpath=[__file__.rsplit("/", 1)[0] + "/templates"],
    params={
        "sensors": Param(["a", "b"], type="array"),
        "room": "living room",
        "celsius": 21.5,
        "stored": "stored.lp",
    },
):
    InfluxDBWriteOperator(
        task_id="template_string",
        bucket="iw_sources",
        line_protocol="inline,run={{ run_id | replace(':', '_') }} v={{ params.celsius }}",
    )
    InfluxDBWriteOperator(task_id="template_file", bucket="iw_sources", line_protocol="reading.lp")
    InfluxDBWriteOperator(
        task_id="records",
        bucket="iw_sources",
        precision="s",
        records=[{"measurement": "recs", "tags": {"room": "{{ params.room }}"}, "fields": {"c": 1.5}}],
        outlets=[influxdb_asset("iw_sources")],
    )
    # Mapped: the lp_* filters reach templates rendered through MappedOperator too.
    InfluxDBWriteOperator.partial(task_id="mapped_template", bucket="iw_sources").expand(
        line_protocol=[
            "mapped,site={{ params.room | lp_tag }} n={{ 1 | lp_field }}",
            "mapped,site={{ 'b, c' | lp_tag }} f={{ 2 | lp_field(ints_as_floats=True) }}",
        ]
    )
    InfluxDBWriteOperator(
        task_id="path",
        bucket="iw_sources",
        path=__file__.rsplit("/", 1)[0] + "/data/points.lp",
    )
    InfluxDBWriteOperator(
        task_id="object_storage_path",
        bucket="iw_sources",
        path="file://" + __file__.rsplit("/", 1)[0] + "/data/{{ params.stored }}",
    )
