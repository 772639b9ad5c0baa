"""The sample DAGs in dags/, end to end: ``airflow dags test`` in a real Airflow 3
against a real influxd (``api="v1"``, so each bucket is a database), checking
what landed."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_cli import AIRFLOW, airflow_home, json_out, logged_lines, output_of, run_dag
from servers import InfluxDB1, VictoriaMetrics, free_port

DAGS = Path(__file__).parent.parent / "dags"
LANDING = DAGS / "data" / "landing"
TOKEN = "sample-dags-token-never-shown-d41"
SAMPLE_DAGS = {
    "influxdb_etl_meter_readings",
    "influxdb_manual_write",
    "influxdb_http_checks",
    "influxdb_write_summary",
}


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[dict[str, str]]:
    conn = {"conn_type": "influxdb_write", "host": influxd.url, "password": TOKEN, "extra": {"api": "v1"}}
    # As in docker-compose.yaml: the repository's plugins/ is Airflow's plugins folder.
    plugins = {"AIRFLOW__CORE__PLUGINS_FOLDER": str(DAGS.parent / "plugins")}
    env = airflow_home(tmp_path_factory.mktemp("airflow"), DAGS, conn, **plugins)
    for db in ("energy", "manual", "monitoring"):
        influxd.create(db)
    # DAGs start paused, and only unpaused consumers are queued by an asset event.
    subprocess.run(
        [AIRFLOW, "dags", "unpause", "influxdb_write_summary"], env=env, check=True, capture_output=True
    )
    yield env


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


def landed_readings(influxd: InfluxDB1) -> set[tuple[Any, ...]]:
    rows = influxd.rows("SELECT * FROM meter_reading", "energy")
    return {(r["time"], r["meter"], r["site"], r["kwh"], r["voltage"], r["status"]) for r in rows}


def csv_readings(*hours: str) -> set[tuple[Any, ...]]:
    readings = set()
    for hour in hours:
        with (LANDING / "2025-01-01" / f"{hour}.csv").open(newline="") as stream:
            for row in csv.DictReader(stream):
                readings.add(
                    (
                        ns(row["time"]),
                        row["meter"],
                        row["site"],
                        float(row["kwh"]),
                        float(row["voltage"]),
                        row["status"],
                    )
                )
    return readings


def assert_ok(run: Any) -> None:
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert all(TOKEN not in line for line in logged_lines(run))


def test_sample_dags_parse_without_errors(airflow_env: dict[str, str]) -> None:
    assert json_out(airflow_env, "dags", "list-import-errors", "-l") == []
    assert {d["dag_id"] for d in json_out(airflow_env, "dags", "list", "-l")} == SAMPLE_DAGS


def test_etl_writes_exactly_its_interval_and_reruns_are_idempotent(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    # A run at 04:00 covers [03:00, 04:00): exactly the rows of 03.csv.
    for _ in range(2):
        assert_ok(run_dag(airflow_env, "influxdb_etl_meter_readings", "2025-01-01T04:00:00+00:00"))
        assert landed_readings(influxd) == csv_readings("03")
    assert any(site == "Main St, Block 4" for _, _, site, *_ in landed_readings(influxd))

    # A manual run at 05:30 covers the last complete hour, [04:00, 05:00).
    assert_ok(run_dag(airflow_env, "influxdb_etl_meter_readings", "2025-01-01T05:30:00+00:00"))
    assert landed_readings(influxd) == csv_readings("03", "04")

    with sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db") as db:
        events = db.execute(
            "SELECT asset.uri, asset_event.extra FROM asset_event "
            "JOIN asset ON asset.id = asset_event.asset_id ORDER BY asset_event.id"
        ).fetchall()
        queued = db.execute(
            "SELECT asset_dag_run_queue.target_dag_id FROM asset_dag_run_queue "
            "JOIN asset ON asset.id = asset_dag_run_queue.asset_id "
            "WHERE asset.uri = 'influxdb://influxdb_write_default/energy'"
        ).fetchall()
    assert [uri for uri, _ in events] == ["influxdb://influxdb_write_default/energy"] * 3
    assert [json.loads(extra)["lines"] for _, extra in events] == [36, 36, 36]
    assert queued == [("influxdb_write_summary",)]  # the scheduler will run the consumer

    # The consumer logs the summary of the latest write.
    run = run_dag(airflow_env, "influxdb_write_summary", "2025-01-01T06:00:00+00:00")
    assert_ok(run)
    assert "energy: 36 lines in 1 batch(es)" in output_of(run)


def test_etl_interval_across_files_takes_only_its_rows() -> None:
    """Intervals need not be whole hours (a custom schedule): each file gives the
    rows inside the interval, and counts the others, which are a neighbour's."""
    spec = importlib.util.spec_from_file_location("etl", DAGS / "influxdb_etl_meter_readings.py")
    assert spec is not None and spec.loader is not None
    etl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(etl)
    start, end = (
        datetime(2025, 1, 1, 4, 30, tzinfo=timezone.utc),
        datetime(2025, 1, 1, 5, 30, tzinfo=timezone.utc),
    )
    files = etl.hourly_files(LANDING, start, end)
    assert [f.name for f in files] == ["04.csv", "05.csv"]
    read = [etl.read_readings(path, start, end) for path in files]
    assert [(len(rows), elsewhere) for rows, elsewhere in read] == [(18, 18), (18, 18)]
    times = {ns(r["time"].isoformat()) for rows, _ in read for r in rows}
    expected = {r[0] for r in csv_readings("04", "05") if ns(start.isoformat()) <= r[0] < ns(end.isoformat())}
    assert times == expected
    with pytest.raises(ValueError, match=r"data interval .* is empty"):
        etl.hourly_files(LANDING, start, start)


def test_etl_bad_row_fails_naming_file_and_line_and_writes_nothing(
    airflow_env: dict[str, str], influxd: InfluxDB1, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(LANDING, landing)
    bad = landing / "2025-01-01" / "01.csv"
    lines = bad.read_text().splitlines()
    assert lines[4].startswith("2025-01-01T01:05:00Z,m-001,North Yard,")
    lines[4] = lines[4].replace(lines[4].split(",")[3], "n/a", 1)
    bad.write_text("\n".join(lines) + "\n")
    before = landed_readings(influxd)

    env = {**airflow_env, "AIRFLOW_VAR_METER_LANDING_DIR": str(landing)}
    run = run_dag(env, "influxdb_etl_meter_readings", "2025-01-01T02:00:00+00:00")
    assert run.returncode != 0
    assert f"{bad},line5:couldnotconvertstringtofloat:'n/a'" in output_of(run, separator="")
    assert landed_readings(influxd) == before


def test_manual_write_lands_what_was_typed(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    conf: dict[str, Any] = {
        "measurement": "hand reading",
        "tags": {"site": "lab, room=2", "by": "Ann"},
        "fields": {"temp": 21, "note": 'said "ok" \\ fine', "checked": True},
        "time": "2025-02-01T09:30:00Z",
    }
    assert_ok(
        run_dag(airflow_env, "influxdb_manual_write", "2025-02-01T10:00:00+00:00", "-c", json.dumps(conf))
    )
    # No time given: the point gets the run's logical date.
    conf = {"measurement": "hand reading", "tags": {"site": "yard"}, "fields": {"temp": 4.5}, "time": None}
    assert_ok(
        run_dag(airflow_env, "influxdb_manual_write", "2025-02-01T11:00:00+00:00", "-c", json.dumps(conf))
    )

    rows = influxd.rows('SELECT * FROM "hand reading"', "manual")
    assert [(r["time"], r["site"], r["by"], r["temp"], r["note"], r["checked"]) for r in rows] == [
        (ns("2025-02-01T09:30:00Z"), "lab, room=2", "Ann", 21.0, 'said "ok" \\ fine', True),
        (ns("2025-02-01T11:00:00Z"), "yard", None, 4.5, None, None),
    ]
    # 21 typed into the form is a float field, so 21.5 can follow it.
    types = influxd.query('SHOW FIELD KEYS FROM "hand reading"', "manual")[0]["values"]
    assert ["temp", "float"] in types


def test_manual_write_refuses_what_cannot_be_written(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    conf = {"measurement": "refused", "tags": {"site": "ends in \\"}, "fields": {"v": 1}, "time": None}
    run = run_dag(airflow_env, "influxdb_manual_write", "2025-02-01T12:00:00+00:00", "-c", json.dumps(conf))
    assert run.returncode != 0
    assert "tag value 'ends in \\\\' ends with a backslash" in output_of(run)
    assert influxd.query("SHOW MEASUREMENTS", "manual")[0]["values"] == [["hand reading"]]


def test_http_checks_collects_every_mapped_result_in_one_write(
    airflow_env: dict[str, str], influxd: InfluxDB1, victoria: VictoriaMetrics
) -> None:
    targets = {
        "influxd": f"{influxd.url}/ping",
        "victoria": f"{victoria.url}/health",
        "nothing": f"http://127.0.0.1:{free_port()}/",
    }
    for _ in range(2):  # a re-run rewrites the same points
        run = run_dag(
            airflow_env,
            "influxdb_http_checks",
            "2025-03-01T10:00:00+00:00",
            "-c",
            json.dumps({"targets": targets}),
        )
        assert_ok(run)
    checks = influxd.rows("SELECT * FROM http_check", "monitoring")
    assert sorted((r["target"], r["status"], r["up"], r["error"], r["url"]) for r in checks) == [
        ("influxd", 204, True, "", targets["influxd"]),
        ("nothing", 0, False, "ConnectionError", targets["nothing"]),
        ("victoria", 200, True, "", targets["victoria"]),
    ]
    assert {r["time"] for r in checks} == {ns("2025-03-01T10:00:00Z")}
    assert all(isinstance(r["seconds"], float) for r in checks)
    summary = influxd.rows("SELECT * FROM http_check_summary", "monitoring")
    assert [(r["up"], r["down"], r["time"]) for r in summary] == [(2, 1, ns("2025-03-01T10:00:00Z"))]

    with sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db") as db:
        (returned,) = db.execute(
            "SELECT value FROM xcom WHERE dag_id = 'influxdb_http_checks' AND task_id = 'write' "
            "AND key = 'return_value' ORDER BY timestamp DESC LIMIT 1"
        ).fetchone()
        labels = db.execute(
            "SELECT rendered_map_index FROM task_instance "
            "WHERE dag_id = 'influxdb_http_checks' AND task_id = 'check'"
        ).fetchall()
    assert json.loads(returned)["lines"] == 4 and json.loads(returned)["batches"] == 1
    assert sorted(label for (label,) in labels) == ["influxd", "nothing", "victoria"]
