"""The operator and decorator in a real Airflow 3: ``airflow dags test`` runs the DAGs
in tests/dags against a real influxd, with the connection given as AIRFLOW_CONN_*."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_cli import airflow_home, json_out, logged_lines, metadata_db, output_of, run_dag
from servers import InfluxDB1

DAGS = Path(__file__).parent / "dags"
TOKEN = "operator-token-never-shown-7f3"


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[dict[str, str]]:
    conn = {
        "conn_type": "influxdb_write",
        "host": influxd.url,
        "password": TOKEN,
        "extra": {"api": "v1", "bucket": "default_db"},
    }
    env = airflow_home(tmp_path_factory.mktemp("airflow"), DAGS, conn)
    for db in (
        "iw_sources",
        "iw_collect",
        "iw_collector",
        "iw_strict",
        "iw_dry_run",
        "iw_skip",
        "iw_off",
        "iw_decorator",
    ):
        influxd.create(db)
    yield env


def asset_events(env: dict[str, str], dag_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The asset events the runs of ``dag_id`` emitted: URI and extra."""
    with metadata_db(env) as db:
        rows = db.execute(
            "SELECT asset.uri, asset_event.extra FROM asset_event "
            "JOIN asset ON asset.id = asset_event.asset_id "
            "WHERE asset_event.source_dag_id = ? ORDER BY asset_event.id",
            (dag_id,),
        ).fetchall()
    return [(uri, json.loads(extra)) for uri, extra in rows]


def test_dags_parse_without_errors(airflow_env: dict[str, str]) -> None:
    assert json_out(airflow_env, "dags", "list-import-errors", "-l") == []
    listed = json_out(airflow_env, "dags", "list", "-l")
    assert isinstance(listed, list)
    assert {d["dag_id"] for d in listed} == {
        "iw_sources",
        "iw_collect",
        "iw_collector",
        "iw_wrong_outlet",
        "iw_strict",
        "iw_dry_run",
        "iw_skip",
        "iw_off",
        "iw_decorator",
        "iw_lineage",
        "iw_lineage_off",
        "iw_lineage_fail",
        "iw_lineage_many",
    }


def test_every_source_lands(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    run = run_dag(airflow_env, "iw_sources", "2024-03-01")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    interval_end = 1709251200000000000  # 2024-03-01: a test run's data interval ends at its logical date
    inline = influxd.rows("SELECT * FROM inline", "iw_sources")
    assert [(r["v"], r["time"]) for r in inline] == [(21.5, interval_end)]
    temps = influxd.rows("SELECT * FROM room_temp", "iw_sources")
    assert sorted((r["sensor"], r["room"], r["celsius"], r["time"]) for r in temps) == [
        ("a", "living room", 21.5, interval_end),
        ("b", "living room", 21.5, interval_end),
    ]
    recs = influxd.rows("SELECT * FROM recs", "iw_sources")
    assert [(r["room"], r["c"], r["time"]) for r in recs] == [("living room", 1.5, interval_end)]
    files = influxd.rows("SELECT * FROM from_file", "iw_sources")
    assert sorted((r["v"], r["time"]) for r in files) == [(1, interval_end), (2, 1700000000000000000)]
    mapped = influxd.rows("SELECT * FROM mapped", "iw_sources")
    assert sorted((r["site"], r["n"], r["f"]) for r in mapped) == [
        ("b, c", None, 2.0),
        ("living room", 1, None),
    ]
    stored = influxd.rows("SELECT * FROM stored", "iw_sources")
    assert [(r["src"], r["v"], r["time"]) for r in stored] == [("object_storage", 3, interval_end)]
    # Airflow 3.0's `dags test` logs its own requests to mask the secret, token
    # included, at debug level; every other line must be free of it.
    assert all(TOKEN not in line for line in logged_lines(run))

    with metadata_db(airflow_env) as db:
        rows = db.execute(
            "SELECT asset.uri, asset_event.extra FROM asset_event "
            "JOIN asset ON asset.id = asset_event.asset_id WHERE asset_event.source_dag_id = 'iw_sources'"
        ).fetchall()
        xcoms = db.execute("SELECT task_id, key, value FROM xcom WHERE dag_id = 'iw_sources'").fetchall()
        rendered = db.execute("SELECT rendered_fields FROM rendered_task_instance_fields").fetchall()
    links = {task: json.loads(value) for task, key, value in xcoms if key == "_link_InfluxDBBucketLink"}
    assert links["records"] == ""  # InfluxDB 1.x has no bucket page: no link (the UI shows none)
    returned = {task: json.loads(value) for task, key, value in xcoms if key == "return_value"}
    assert returned["path"]["lines"] == 2 and set(returned["path"]) == {
        "bucket",
        "lines",
        "batches",
        "bytes",
        "compressed_bytes",
        "retries",
        "seconds",
        "skipped",
        "overwritten",
        "empty",
        "rows_without_fields",
        "resumed_after_lines",
        "dry_run",
    }
    assert all(TOKEN not in str(row) for row in xcoms + rendered)
    assert any("living room" in str(row) for row in rendered)
    ((uri, extra),) = rows
    # The asset names the server and the bucket, not the connection id.
    assert uri == f"influxdb://{influxd.url.removeprefix('http://')}/iw_sources"
    summary = json.loads(extra)
    assert summary["lines"] == 1 and summary["bucket"] == "iw_sources" and summary["batches"] == 1
    assert set(summary) == set(returned["path"]) - {"empty"}  # Airflow 3.0 takes no list in it


def test_collects_mapped_upstreams_and_reruns_do_not_duplicate(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    for _ in range(2):
        run = run_dag(airflow_env, "iw_collect", "2024-03-01T05:00:00+00:00")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = influxd.rows("SELECT * FROM collected", "iw_collect")
    assert len(rows) == 7
    assert {r["time"] for r in rows} == {1709269200000000000}  # 05:00, the logical date of a test run
    assert sorted((r["shard"], r["kind"], r["n"]) for r in rows) == [
        ("1", "line", 1),
        ("1", "line2", 0),
        ("2", "line", 2),
        ("2", "line2", 0),
        ("3", "line", 3),
        ("3", "line2", 0),
        ("r", "record", 7),
    ]


def test_a_large_xcom_is_pulled_without_collections_and_checked_frozen(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    """Pulling 60,000 records makes Python's collector scan them again and again
    (hundreds of collections, several over every object); the operator pauses it
    while pulling, then freezes what it pulled while checking and writing, and
    leaves the collector as it found it."""
    run = run_dag(airflow_env, "iw_collector", "2024-03-01")
    assert run.returncode == 0, output_of(run)[-3000:]
    found = re.search(
        r"Collections while pulling: (\d+); frozen at the check: (\d+); "
        r"collector before (\(.*?\)), after (\(.*?\))",
        output_of(run),
    )
    assert found is not None, output_of(run)[-3000:]
    assert int(found.group(1)) == 0
    assert int(found.group(2)) >= 3 * 60_000  # each record's dict, tags and fields at least
    assert found.group(3) == found.group(4)
    ((count,),) = [row["values"] for row in influxd.query("SELECT count(v) FROM many", "iw_collector")]
    assert count[1] == 60_000


def test_strict_validation_writes_nothing_and_names_lines(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_strict", "2024-03-01")
    output = output_of(run)
    assert "2 invalid line(s) or record(s); nothing was written" in output
    assert "line_protocol, line 2: column 9: expected '=' after field key 'line': 'bad line here'" in output
    assert "line_protocol, line 4: column 12: value 'NaN' of field 'v' has no known type" in output
    assert run.returncode != 0
    assert influxd.query("SELECT * FROM good", "iw_strict") == []
    assert asset_events(airflow_env, "iw_strict") == []


def test_dry_run_sends_nothing_and_skip_drops_bad_lines(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_dry_run", "2024-03-01")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Dry run: 2 lines for bucket 'iw_dry_run'" in run.stdout + run.stderr
    assert influxd.query("SELECT * FROM good", "iw_dry_run") == []
    assert asset_events(airflow_env, "iw_dry_run") == []  # no consumer is queued for a dry run
    run = run_dag(airflow_env, "iw_skip", "2024-03-01")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sorted(r["n"] for r in influxd.rows("SELECT * FROM good", "iw_skip")) == ["1", "2"]
    ((uri, extra),) = asset_events(airflow_env, "iw_skip")  # what was written, named by server and bucket
    assert uri == f"influxdb://{influxd.url.removeprefix('http://')}/iw_skip"
    assert (extra["lines"], extra["skipped"]) == (2, 2)


def test_an_outlet_naming_another_bucket_fails_before_writing(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_wrong_outlet", "2024-03-01")
    assert run.returncode != 0
    assert (
        "outlet influxdb_asset('iw_skip', 'influxdb_write_default') names another bucket or connection than "
        "this task writes to (bucket 'iw_off' of connection 'influxdb_write_default'); nothing was written. "
        "Use influxdb_asset('iw_off', 'influxdb_write_default')"
    ) in output_of(run)
    assert influxd.query("SELECT * FROM good WHERE n = '9'", "iw_off") == []
    assert asset_events(airflow_env, "iw_wrong_outlet") == []


def test_validate_off_sends_everything_and_reports_the_server_verdict(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_off", "2024-03-01")
    output = output_of(run)
    assert run.returncode != 0
    assert "PartialWriteError: the server rejected 2 line(s) or record(s):" in output
    assert "line_protocol, line 2: invalid field format: 'bad line here'" in output
    assert "line_protocol, line 4: invalid number: 'good,n=3 v=NaN'" in output
    # InfluxDB 1.x stores the valid lines of a partial write.
    assert sorted(r["n"] for r in influxd.rows("SELECT * FROM good", "iw_off")) == ["1", "2"]
    assert asset_events(airflow_env, "iw_off") == []  # a failed write adds no event


def test_decorator_writes_what_the_function_returns(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    run = run_dag(airflow_env, "iw_decorator", "2024-03-01")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = influxd.rows("SELECT * FROM decorated", "iw_decorator")
    assert [(r["ds"], r["v"], r["time"]) for r in rows] == [("2024-03-01", 42, 1709251200000000000)]
