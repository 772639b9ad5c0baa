"""Typed record templates and mapped upstream places, in a real Airflow against a real influxd.

``airflow dags test`` runs the DAGs of tests/dags_places; what landed is read back
with InfluxQL, field types included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_cli import airflow_home, failed_run_output, metadata_db, output_of, run_dag, v1_connection
from servers import InfluxDB1

DAGS = Path(__file__).parent / "dags_places"
INTERVAL_END = 1709251200 * 10**9  # 2024-03-01, a test run's data interval end
HOUR = 3600 * 10**9


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[dict[str, str]]:
    conn = v1_connection(influxd.url, "places-token")
    env = airflow_home(tmp_path_factory.mktemp("airflow"), DAGS, conn)
    for name in ("float", "text", "int", "mixed", "decorated", "whole", "mapped_ok"):
        influxd.create(f"iw_pl_{name}")
    for name in ("text", "records", "lines", "record", "frame"):
        influxd.create(f"iw_pl_mapped_{name}")
    yield env


def field_types(influxd: InfluxDB1, db: str) -> dict[str, str]:
    (series,) = influxd.query("SHOW FIELD KEYS FROM m", db)
    return {key: kind for key, kind in series["values"]}


@pytest.fixture(scope="module")
def typed_run(airflow_env: dict[str, str]) -> None:
    """One run of iw_pl_typed, whose tasks each write a database of their own, read
    back by the tests (whether the run succeeded, each test sees in its data)."""
    run_dag(airflow_env, "iw_pl_typed", "2024-03-01")


@pytest.mark.parametrize(
    ("db", "value", "kind"),
    [
        ("float", 21.5, "float"),
        ("text", "abc", "string"),
        ("int", 3, "integer"),
        ("decorated", 21.5, "float"),
    ],
)
def test_a_record_value_that_is_one_expression_keeps_its_type(
    typed_run: None, influxd: InfluxDB1, db: str, value: object, kind: str
) -> None:
    """The example of docs/templates.md, records=[{"measurement": "m", "fields": {"v": "{{ params.v }}"}}]."""
    assert field_types(influxd, f"iw_pl_{db}") == {"v": kind}
    assert [row["v"] for row in influxd.rows("SELECT v FROM m", f"iw_pl_{db}")] == [value]


def test_text_around_an_expression_is_text_and_tags_stay_text(
    typed_run: None, airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    """Blanks around the one expression do not make it text; words do. A tag is text
    (7 is the tag "7"); a None field is left out; a datetime time keeps its type."""
    assert field_types(influxd, "iw_pl_mixed") == {"label": "string", "spaced": "float", "v": "float"}
    (row,) = influxd.rows("SELECT * FROM m", "iw_pl_mixed")
    assert row == {"time": INTERVAL_END - HOUR, "site": "7", "v": 21.5, "spaced": 21.5, "label": "21.5 kWh"}
    # The rendered field Airflow keeps for the UI shows the typed values.
    with metadata_db(airflow_env) as db:
        (rendered,) = db.execute(
            "SELECT rendered_fields FROM rendered_task_instance_fields WHERE dag_id = 'iw_pl_typed' "
            "AND task_id = 'mixed'"
        ).fetchone()
    (record,) = json.loads(rendered)["records"]
    assert record["fields"] == {"v": 21.5, "spaced": 21.5, "label": "21.5 kWh", "gone": None}
    assert record["tags"] == {"site": "7"}
    assert record["time"].startswith("2024-02-29")


def test_the_whole_field_as_one_expression_is_the_records_it_evaluates_to(
    typed_run: None, influxd: InfluxDB1
) -> None:
    assert field_types(influxd, "iw_pl_whole") == {"v": "float", "w": "integer"}
    assert [(row["v"], row["w"]) for row in influxd.rows("SELECT v, w FROM m", "iw_pl_whole")] == [(1.5, 2)]


@pytest.fixture(scope="module")
def mapped_run(airflow_env: dict[str, str]) -> str:
    return failed_run_output(airflow_env, "iw_pl_mapped", "2024-03-01")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("text", "XCom of text[map_index=4], line 2: column 7: expected value for field 'v'"),
        (
            "records",
            "XCom of records[map_index=4], record 2: fields: no fields; a point needs at least one field",
        ),
        ("lines", "XCom of lines[map_index=4], line 2: column 9: duplicate field key 'v'"),
        ("record", "XCom of record[map_index=4], record 1: measurement: measurement is empty"),
        (
            "frame",
            "XCom of frame[map_index=4], row 1: field 'count': declared int, but 2.5 has a fractional part",
        ),
    ],
)
def test_a_mapped_upstream_is_named_by_map_index_after_a_skipped_one(
    mapped_run: str, influxd: InfluxDB1, name: str, message: str
) -> None:
    """Index 2 was skipped (and, for records, index 1 returned nothing): the bad entry
    came from map index 4, the third value pulled, and nothing was written."""
    assert f"1 invalid line(s) or record(s); nothing was written: {message}" in mapped_run
    assert influxd.query("SHOW MEASUREMENTS", f"iw_pl_mapped_{name}") == []


def test_skip_names_the_map_index_and_writes_every_other_line(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    """Index 2 skipped, index 1 returned nothing: each map index is asked for its value."""
    run = run_dag(airflow_env, "iw_pl_mapped_ok", "2024-03-01")
    assert run.returncode == 0, output_of(run)[-3000:]
    skipped = "Skipping XCom of lines[map_index=4], line 2: column 7: expected value for field 'v'"
    assert skipped in output_of(run)
    rows = influxd.rows("SELECT v, i FROM ok", "iw_pl_mapped_ok")
    assert sorted((row["i"], row["v"]) for row in rows) == [("0", 0), ("3", 3), ("4", 4)]
