"""Every 10 minutes: check HTTP endpoints in parallel, then write all results in one request.

This shows collecting from upstream tasks. `check` is mapped over the targets,
one task instance per target, and each returns a record. `summarize` returns a
line of line protocol. One `InfluxDBWriteOperator` collects both with
`xcom_from` and writes them to the `monitoring` bucket in one request, once
every check has finished.

The records have no time of their own. The operator stamps them with the run's
data interval end, so a retry or a re-run rewrites the same points.

The targets are the `targets` param, a map of name to URL. By default they are
the InfluxDB and Airflow API servers of the docker-compose quickstart; trigger
the DAG with other targets from the UI form. A target that is down is a result
(`up=false`), not a task failure.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pendulum
import requests
from airflow.sdk import Param, dag, get_current_context, task

from influxdb_write.operators import InfluxDBWriteOperator

DEFAULT_TARGETS = {
    "influxdb": "http://influxdb:8086/health",
    "airflow-api": "http://airflow-apiserver:8080/api/v2/version",
}


@dag(
    schedule=timedelta(minutes=10),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["influxdb", "example"],
    doc_md=__doc__,
    params={
        "targets": Param(
            DEFAULT_TARGETS,
            type="object",
            minProperties=1,
            additionalProperties={"type": "string", "format": "uri"},
            title="Targets",
            description="Name to URL of each endpoint to check.",
        )
    },
)
def influxdb_http_checks() -> None:
    @task
    def list_targets(params: Any = None) -> list[dict[str, str]]:
        return [{"name": name, "url": url} for name, url in sorted(params["targets"].items())]

    # multiple_outputs=False: each check's result is one XCom, not one more per key.
    # map_index_template: the UI labels each mapped check with its target.
    @task(map_index_template="{{ target_name }}", multiple_outputs=False)
    def check(target: dict[str, str]) -> dict[str, Any]:
        get_current_context()["target_name"] = target["name"]
        started = time.monotonic()
        try:
            status, error = requests.get(target["url"], timeout=(5, 10)).status_code, ""
        except requests.RequestException as exc:
            status, error = 0, type(exc).__name__
        return {
            "measurement": "http_check",
            "tags": {"target": target["name"]},
            "fields": {
                "status": status,
                "up": 200 <= status < 400,
                "seconds": round(time.monotonic() - started, 6),
                "error": error,
                "url": target["url"],
            },
        }

    @task
    def summarize(results: Any) -> str:
        up = sum(1 for result in results if result["fields"]["up"])
        return f"http_check_summary up={up}i,down={len(results) - up}i"

    write = InfluxDBWriteOperator(task_id="write", bucket="monitoring", xcom_from=["check", "summarize"])

    results = check.expand(target=list_targets())
    [results, summarize(results)] >> write


influxdb_http_checks()
