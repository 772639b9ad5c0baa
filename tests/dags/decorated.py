"""Test DAG: the @task.influxdb_write decorator."""

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def iw_decorator():
    @task.influxdb_write(bucket="iw_decorator", precision="s")
    def readings(factor: int, ds=None):
        return [{"measurement": "decorated", "tags": {"ds": ds}, "fields": {"v": factor * 2}}]

    readings(21)


iw_decorator()
