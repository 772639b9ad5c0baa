"""The sample DAGs in dags/, end to end: ``airflow dags test`` in a real Airflow 3
against a real influxd (``api="v1"``, so each bucket is a database), checking
what landed."""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import airflow.sdk
import pytest

from airflow_cli import AIRFLOW, airflow_home, json_out, logged_lines, metadata_db, output_of, run_dag
from influxdb_write.line_protocol import parse_lines
from servers import InfluxDB1, VictoriaMetrics, free_port

DAGS = Path(__file__).parent.parent / "dags"
LANDING = DAGS / "data" / "landing"
TOKEN = "sample-dags-token-never-shown-d41"
SAMPLE_DAGS = {
    "influxdb_etl_meter_readings",
    "influxdb_etl_meter_frames",
    "influxdb_manual_write",
    "influxdb_http_checks",
    "influxdb_write_summary",
    "influxdb_backfill_archive",
}
if hasattr(airflow.sdk, "CronPartitionTimetable"):  # Airflow 3.2+
    SAMPLE_DAGS |= {"influxdb_etl_meter_partitions", "influxdb_partition_summary"}


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


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda path: path.name)
def test_dag_docs_are_markdown(path: Path) -> None:
    """Each sample DAG's docstring is its ``doc_md``, which the UI renders as Markdown:
    reStructuredText's ``::`` code blocks and double-backtick literals would show as typed."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc and "doc_md=__doc__" in path.read_text(encoding="utf-8")
    blocks = [line for line in doc.splitlines() if line.rstrip().endswith("::")]
    assert not blocks, f"{path.name}: reStructuredText code block(s) {blocks}; use a ``` fence"
    literals = re.findall(r"(?<!`)``[^`]+``(?!`)", doc)
    assert not literals, f"{path.name}: reStructuredText literal(s) {literals}; use single backticks"


def test_sample_dags_parse_without_errors(airflow_env: dict[str, str]) -> None:
    assert json_out(airflow_env, "dags", "list-import-errors", "-l") == []
    assert {d["dag_id"] for d in json_out(airflow_env, "dags", "list", "-l")} == SAMPLE_DAGS


def test_sample_dags_parse_with_no_connection_and_no_variable(tmp_path: Path) -> None:
    """Many deployments define connections and Variables only where tasks run: DAG
    files must not read them when they are parsed."""
    env = airflow_home(tmp_path / "airflow", DAGS, None)
    assert not [key for key in env if key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]
    assert json_out(env, "dags", "list-import-errors", "-l") == []
    assert {d["dag_id"] for d in json_out(env, "dags", "list", "-l")} == SAMPLE_DAGS


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

    # The asset names the server and bucket written, not the connection id.
    energy = f"influxdb://{influxd.url.removeprefix('http://')}/energy"
    with metadata_db(airflow_env) as db:
        events = db.execute(
            "SELECT asset.uri, asset_event.extra FROM asset_event "
            "JOIN asset ON asset.id = asset_event.asset_id ORDER BY asset_event.id"
        ).fetchall()
        queued = db.execute(
            "SELECT asset_dag_run_queue.target_dag_id FROM asset_dag_run_queue "
            "JOIN asset ON asset.id = asset_dag_run_queue.asset_id WHERE asset.uri = ?",
            (energy,),
        ).fetchall()
    assert [uri for uri, _ in events] == [energy] * 3
    assert [json.loads(extra)["lines"] for _, extra in events] == [36, 36, 36]
    # The scheduler will run the consumer (Airflow 3.4 queues one row per event, 3.0-3.3 one).
    assert set(queued) == {("influxdb_write_summary",)}

    # The consumer logs the summary of the latest write.
    run = run_dag(airflow_env, "influxdb_write_summary", "2025-01-01T06:00:00+00:00")
    assert_ok(run)
    assert "energy: 36 lines in 1 batch(es)" in output_of(run)


def test_frame_etl_writes_hourly_summaries_once(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    """The pandas ETL: one point per meter for [03:00, 04:00), as computed here from
    03.csv without pandas; typed as field_types says; the same after a re-run."""
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    with (LANDING / "2025-01-01" / "03.csv").open(newline="") as stream:
        for row in csv.DictReader(stream):
            meter = expected.setdefault((row["meter"], row["site"]), {"kwh": [], "voltage": [], "not_ok": 0})
            meter["kwh"].append(float(row["kwh"]))
            meter["voltage"].append(float(row["voltage"]))
            meter["not_ok"] += row["status"] != "ok"
    for _ in range(2):
        assert_ok(run_dag(airflow_env, "influxdb_etl_meter_frames", "2025-01-01T04:00:00+00:00"))
        rows = influxd.rows("SELECT * FROM meter_hourly", "energy")
        assert len(rows) == len(expected) == 3
        for row in rows:
            want = expected[(row["meter"], row["site"])]
            assert row["time"] == ns("2025-01-01T03:00:00Z")
            assert row["kwh"] == pytest.approx(sum(want["kwh"]))
            assert row["voltage_mean"] == pytest.approx(sum(want["voltage"]) / len(want["voltage"]))
            assert row["voltage_min"] == min(want["voltage"])
            assert (row["readings"], row["not_ok"]) == (len(want["kwh"]), want["not_ok"])
    keys = dict(map(tuple, influxd.query("SHOW FIELD KEYS FROM meter_hourly", "energy")[0]["values"]))
    assert keys == {
        "kwh": "float",
        "voltage_mean": "float",
        "voltage_min": "float",
        "readings": "integer",
        "not_ok": "integer",
    }


def test_etl_interval_across_files_takes_only_its_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Intervals need not be whole hours (a custom schedule): each file gives the
    rows inside the interval, and counts the others, which are a neighbour's."""
    # The DAG's asset names the connection's server, read as the file is imported.
    conn = {"conn_type": "influxdb_write", "host": "http://influxdb:8086"}
    monkeypatch.setenv("AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT", json.dumps(conn))
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
        "site": "lab, room=2",
        "sensor": "Ann's =probe",
        "field": "temp",
        "value": 21,
        "note": 'said "ok" \\ fine',
        "time": "2025-02-01T09:30:00Z",
    }
    assert_ok(
        run_dag(airflow_env, "influxdb_manual_write", "2025-02-01T10:00:00+00:00", "-c", json.dumps(conf))
    )
    # No time given: the point gets the run's logical date; no sensor, no tag.
    conf = {"measurement": "hand reading", "site": "yard", "field": "ok", "value": True, "time": None}
    assert_ok(
        run_dag(airflow_env, "influxdb_manual_write", "2025-02-01T11:00:00+00:00", "-c", json.dumps(conf))
    )

    rows = influxd.rows('SELECT * FROM "hand reading"', "manual")
    assert [(r["time"], r["site"], r["sensor"], r["temp"], r["note"], r["ok"]) for r in rows] == [
        (ns("2025-02-01T09:30:00Z"), "lab, room=2", "Ann's =probe", 21.0, 'said "ok" \\ fine', None),
        (ns("2025-02-01T11:00:00Z"), "yard", None, None, None, True),
    ]
    # 21 typed into the form is a float field, so 21.5 can follow it.
    types = influxd.query('SHOW FIELD KEYS FROM "hand reading"', "manual")[0]["values"]
    assert ["temp", "float"] in types


def test_manual_write_refuses_what_cannot_be_written(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    conf = {"measurement": "refused", "site": "ends in \\", "field": "v", "value": 1}
    run = run_dag(airflow_env, "influxdb_manual_write", "2025-02-01T12:00:00+00:00", "-c", json.dumps(conf))
    assert run.returncode != 0
    # The task's own error, raised by execute (outside Airflow's "Pre Execute" log group).
    assert (
        "TemplateRenderError: line_protocol could not be rendered, so nothing was written: "
        "ValueError: tag value 'ends in \\\\' ends with a backslash"
    ) in output_of(run)
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

    with metadata_db(airflow_env) as db:
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


def test_backfill_writes_each_hourly_file_once_with_one_asset_event(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    """The sample archive's day, 2024-12-31, in one process (``airflow dags test``;
    ``test_celery_backfill.py`` runs the DAG on Celery workers, re-runs included): one
    mapped write per hourly file, then one asset event for the day. The day's points
    are deleted at the end, so other tests find ``meter_reading`` as they expect."""
    archive = sorted((DAGS / "data" / "archive" / "2024-12-31").glob("*.lp"))
    assert [path.stem for path in archive] == [f"{hour:02d}" for hour in range(24)]
    in_files = {
        (int(line.time or 0) * 1_000_000_000, line.tags["meter"], line.tags["site"], *line.fields.values())
        for path in archive
        for line in parse_lines(path.read_text(), precision="s")
    }
    columns = ("time", "meter", "site", "kwh", "voltage", "status")
    day = "time >= '2024-12-31T00:00:00Z' AND time < '2025-01-01T00:00:00Z'"
    query = f"SELECT {', '.join(columns)} FROM meter_reading WHERE {day}"
    assert influxd.rows(query, "energy") == []
    try:
        # A daily run at midnight on 2025-01-01 covers the day before.
        assert_ok(run_dag(airflow_env, "influxdb_backfill_archive", "2025-01-01T00:00:00+00:00"))
        rows = influxd.rows(query, "energy")
        assert {tuple(row[key] for key in columns) for row in rows} == in_files
        assert len(rows) == len(in_files) == 24 * 36
    finally:
        influxd.query(f"DELETE FROM meter_reading WHERE {day}", "energy")

    with metadata_db(airflow_env) as db:
        labels = db.execute(
            "SELECT rendered_map_index FROM task_instance "
            "WHERE dag_id = 'influxdb_backfill_archive' AND task_id = 'write_partition'"
        ).fetchall()
        extras = db.execute(
            "SELECT extra FROM asset_event WHERE source_dag_id = 'influxdb_backfill_archive' ORDER BY id"
        ).fetchall()
    assert sorted(label for (label,) in labels) == [f"2024-12-31/{path.name}" for path in archive]
    totals = [json.loads(extra) for (extra,) in extras]
    assert [(t["partitions"], t["lines"], t["batches"]) for t in totals] == [(24, 864, 24)]

    # The backfill command of docs/getting-started.md makes one run, for the day 2024-12-31 (a run's
    # logical date is its interval's start).
    dates = ["--from-date", "2024-12-31T00:00:00+00:00", "--to-date", "2024-12-31T00:00:00+00:00"]
    backfill = subprocess.run(
        [AIRFLOW, "backfill", "create", "--dag-id", "influxdb_backfill_archive", "--dry-run", *dates],
        env=airflow_env,
        capture_output=True,
        text=True,
        check=True,
    )
    attempted = backfill.stdout.split("to be attempted:")[1]
    assert re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00", attempted) == ["2024-12-31 00:00:00+00:00"]
