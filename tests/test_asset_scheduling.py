"""Asset events on a real scheduler: a DAG scheduled on a bucket's alias runs for a
write that landed, and not for a dry run or a write refused by validation
(``tests/dags_scheduler/asset_runs.py``; API server, scheduler and DAG processor
from ``airflow_stack.py``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from airflow_stack import start_airflow
from servers import InfluxDB1

DAGS = Path(__file__).parent / "dags_scheduler"
TOKEN = "scheduler-token-never-shown-71d"
CONSUMER = "iw_sched_consumer"


def test_a_consumer_runs_for_a_write_that_landed_only(
    tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1
) -> None:
    influxd.create("iw_sched")
    conn = {"conn_type": "influxdb_write", "host": influxd.url, "password": TOKEN, "extra": {"api": "v1"}}
    stack = start_airflow(
        tmp_path_factory.mktemp("airflow-scheduler"),
        DAGS,
        AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT=json.dumps(conn),
    )
    try:
        dag_ids = {"iw_sched_dry_run", "iw_sched_refused", "iw_sched_write", CONSUMER}
        stack.wait_for_dags(dag_ids)
        for dag_id in dag_ids:
            assert stack.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}).ok

        def run(dag_id: str) -> str:
            answer = stack.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
            assert answer.ok, answer.text
            state: str = stack.wait_for_run(dag_id, answer.json()["dag_run_id"])["state"]
            return state

        def consumer_runs() -> list[dict[str, object]]:
            runs: list[dict[str, object]] = stack.api("GET", f"/dags/{CONSUMER}/dagRuns").json()["dag_runs"]
            return runs

        assert run("iw_sched_dry_run") == "success"
        assert run("iw_sched_refused") == "failed"
        time.sleep(10)  # ten scheduler loops: a consumer queued by either would have a run by now
        assert consumer_runs() == []
        assert run("iw_sched_write") == "success"
        (consumer,) = stack.wait_for("the consumer's run", consumer_runs, seconds=120)
        finished = stack.wait_for_run(CONSUMER, str(consumer["dag_run_id"]))
        assert finished["state"] == "success", stack.log_tail()
        events = stack.api("GET", f"/dags/{CONSUMER}/dagRuns/{consumer['dag_run_id']}/upstreamAssetEvents")
        (event,) = events.json()["asset_events"]
        assert event["source_dag_id"] == "iw_sched_write"
        assert event["uri"] == f"influxdb://{influxd.url.removeprefix('http://')}/iw_sched"
        assert event["extra"]["lines"] == 1
        assert [row["run"] for row in influxd.rows("SELECT * FROM sched", "iw_sched")] == ["written"]
        time.sleep(5)
        assert len(consumer_runs()) == 1
    finally:
        stack.stop()
