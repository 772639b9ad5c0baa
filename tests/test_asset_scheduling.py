"""Asset events on a real scheduler: a DAG scheduled on a bucket's alias runs for a
write that landed, and not for a dry run or a write refused by validation
(``tests/dags_scheduler/asset_runs.py``; API server, scheduler and DAG processor
from ``airflow_stack.py``)."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import airflow.sdk
import pytest

from airflow_cli import v1_connection
from airflow_stack import AirflowStack, start_airflow
from servers import InfluxDB1, start_influxd

DAGS = Path(__file__).parent / "dags_scheduler"
SAMPLES = Path(__file__).parent.parent / "dags"
TOKEN = "scheduler-token-never-shown-71d"
CONSUMER = "iw_sched_consumer"


def task_logs(home: Path, run_id: str) -> str:
    """The task logs of a run, for a failure's message."""
    return "\n".join(path.read_text()[-3000:] for path in home.glob(f"logs/**/run_id={run_id}/**/*.log"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[AirflowStack]:
    """One running Airflow for the module, its DAGs unpaused (the partitioned writer has
    no scheduled run: its start date is far ahead)."""
    for db in ("iw_sched", "iw_part"):
        influxd.create(db)
    conn = json.dumps(v1_connection(influxd.url, TOKEN))
    running = start_airflow(
        tmp_path_factory.mktemp("airflow-scheduler"), DAGS, AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT=conn
    )
    try:
        dag_ids = {"iw_sched_dry_run", "iw_sched_refused", "iw_sched_write", CONSUMER}
        if hasattr(airflow.sdk, "CronPartitionTimetable"):
            dag_ids |= {"iw_part_write", "iw_part_consumer"}
        running.wait_for_dags(dag_ids)
        for dag_id in dag_ids:
            assert running.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}).ok
        yield running
    finally:
        running.stop()


def test_a_consumer_runs_for_a_write_that_landed_only(stack: AirflowStack, influxd: InfluxDB1) -> None:
    """Each of the three writes names the alias; the consumer runs once, for the one
    that landed, with its event."""

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


def test_a_partitioned_write_stamps_its_partition_and_carries_it_to_the_consumer(
    stack: AirflowStack, influxd: InfluxDB1
) -> None:
    """Airflow 3.2+: a run of a partition timetable writes its untimed line at the
    partition's date (so a second run of the partition overwrites it), its asset event
    through the alias carries the partition key, and the DAG scheduled on the alias by a
    partitioned asset timetable runs for that partition."""
    if not hasattr(airflow.sdk, "CronPartitionTimetable"):
        pytest.skip("partitions came with Airflow 3.2")
    key, hour = "2024-03-01T10:00:00", 1709287200 * 10**9  # the partition date, in ns

    def write() -> str:
        body = {"logical_date": None, "partition_key": key}
        answer = stack.api("POST", "/dags/iw_part_write/dagRuns", json=body)
        assert answer.ok, answer.text
        run_id: str = answer.json()["dag_run_id"]
        finished = stack.wait_for_run("iw_part_write", run_id)
        assert finished["state"] == "success", task_logs(stack.home, run_id)
        return run_id

    def written() -> list[tuple[int, int]]:
        rows = influxd.rows("SELECT * FROM part", "iw_part")
        return [(row["time"], row["v"]) for row in rows if row["key"] == key]

    first = write()
    assert written() == [(hour, 1)]
    events = stack.api("GET", "/assets/events", params={"source_run_id": first}).json()["asset_events"]
    assert [(event["source_run_id"], event["partition_key"]) for event in events] == [(first, key)]

    def consumed() -> list[dict[str, object]]:
        runs = stack.api("GET", "/dags/iw_part_consumer/dagRuns").json()["dag_runs"]
        return [run for run in runs if run["partition_key"] == key]

    (consumer,) = stack.wait_for("the consumer's run of the partition", consumed, seconds=180)
    run_id = str(consumer["dag_run_id"])
    assert stack.wait_for_run("iw_part_consumer", run_id)["state"] == "success", stack.log_tail()
    path = f"/dags/iw_part_consumer/dagRuns/{run_id}/taskInstances/read/xcomEntries/return_value"
    returned = stack.api("GET", path, params={"deserialize": True}).json()["value"]
    assert returned == {"partition_key": key, "event_partition_key": key, "lines": 1}

    write()  # the same partition again: the same point, overwritten
    assert written() == [(hour, 1)]


def test_the_sample_partition_pair_loads_one_hour_and_summarises_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """``dags/influxdb_etl_meter_partitions.py`` on a real scheduler: the partition
    2025-01-01T03:00:00 loads exactly the rows of 03.csv (on an influxd of its own: the
    sample DAG tests own the ``energy`` database of the shared one), and the summary
    DAG runs for that partition with the write's summary."""
    if not hasattr(airflow.sdk, "CronPartitionTimetable"):
        pytest.skip("partitions came with Airflow 3.2")
    hour = SAMPLES / "data" / "landing" / "2025-01-01" / "03.csv"
    with hour.open(newline="") as stream:
        expected = {(row["time"], row["meter"], float(row["kwh"])) for row in csv.DictReader(stream)}
    influxd = start_influxd(tmp_path_factory.mktemp("influxd-partitions"))
    try:
        influxd.create("energy")
        stack = start_airflow(
            tmp_path_factory.mktemp("airflow-samples"),
            SAMPLES,
            AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT=json.dumps(v1_connection(influxd.url, TOKEN)),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(SAMPLES.parent / "plugins"),
        )
        try:
            etl, summary, key = (
                "influxdb_etl_meter_partitions",
                "influxdb_partition_summary",
                "2025-01-01T03:00:00",
            )
            stack.wait_for_dags({etl, summary})
            for dag_id in (etl, summary):
                assert stack.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}).ok
            answer = stack.api(
                "POST", f"/dags/{etl}/dagRuns", json={"logical_date": None, "partition_key": key}
            )
            assert answer.ok, answer.text
            run_id = answer.json()["dag_run_id"]
            assert stack.wait_for_run(etl, run_id)["state"] == "success", task_logs(stack.home, run_id)
            rows = influxd.query("SELECT time, meter, kwh FROM meter_reading", "energy")
            landed = {
                (datetime.fromtimestamp(time / 1e9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), meter, kwh)
                for series in rows
                for time, meter, kwh in series["values"]
            }
            assert landed == expected

            def consumed() -> list[dict[str, object]]:
                runs = stack.api("GET", f"/dags/{summary}/dagRuns").json()["dag_runs"]
                return [run for run in runs if run["partition_key"] == key]

            (consumer,) = stack.wait_for("the summary's run of the partition", consumed, seconds=180)
            consumer_id = str(consumer["dag_run_id"])
            assert stack.wait_for_run(summary, consumer_id)["state"] == "success", task_logs(
                stack.home, consumer_id
            )
            path = (
                f"/dags/{summary}/dagRuns/{consumer_id}/taskInstances/log_partition/xcomEntries/return_value"
            )
            returned = stack.api("GET", path, params={"deserialize": True}).json()["value"]
            assert (returned["partition_key"], returned["bucket"], returned["lines"]) == (
                key,
                "energy",
                len(expected),
            )
        finally:
            stack.stop()
    finally:
        influxd.stop()
