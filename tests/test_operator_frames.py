"""DataFrames through a real Airflow: ``airflow dags test`` runs tests/dags_frames against a
real influxd (``api="v1"``). Frames arrive through XCom (Airflow serializes pandas frames
itself) and as a decorated function's return value; bad rows are named by source and row;
nothing is written when strict validation fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_cli import airflow_home, failed_run_output, output_of, returned_summary, run_dag, v1_connection
from servers import InfluxDB1

pytest.importorskip("pandas")
pytest.importorskip("polars")

DAGS = Path(__file__).parent / "dags_frames"
DATABASES = [
    "iw_fr_parse_count",
    "iw_fr_xcom",
    "iw_fr_decorated_polars",
    "iw_fr_bad_row",
    "iw_fr_bad_row_skip",
    "iw_fr_conflict",
    "iw_fr_missing_column",
    "iw_fr_no_frame",
    "iw_fr_text_declared",
]
MARCH_1 = 1_709_251_200_000_000_000  # 2024-03-01T00:00:00Z in ns
HOUR = 3_600_000_000_000


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[dict[str, str]]:
    conn = v1_connection(influxd.url, "frames-token")
    env = airflow_home(tmp_path_factory.mktemp("airflow"), DAGS, conn)
    for db in DATABASES:
        influxd.create(db)
    yield env


def test_a_pandas_frame_from_xcom_is_written_row_for_row(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_fr_xcom", "2024-03-02")
    assert run.returncode == 0, output_of(run)[-3000:]
    rows = influxd.rows("SELECT * FROM energy", "iw_fr_xcom")
    got = sorted((r["time"], r["site"], r["kwh"], r["count"], r["note"]) for r in rows)
    assert got == [
        (MARCH_1, "north", 1.0, 10, 'say "hi"'),
        (MARCH_1 + HOUR, "south yard", 2.0, None, "ok"),
        (MARCH_1 + 3 * HOUR, "south yard", 4.0, 40, "ok"),
    ]
    # kwh is declared float: written as a float although the column became float64 anyway;
    # count stayed an integer although it has missing values.
    keys = influxd.query("SHOW FIELD KEYS FROM energy", "iw_fr_xcom")[0]["values"]
    assert sorted(keys) == [["count", "integer"], ["kwh", "float"], ["note", "string"]]
    assert "XCom of make: 1 row(s) of the frame were not written: every field value was missing (rows 2)" in (
        output_of(run)
    )
    assert [r["other"] for r in influxd.rows("SELECT * FROM extra", "iw_fr_xcom")] == [5]
    summary = returned_summary(airflow_env, "iw_fr_xcom", ("write", "polars_rows"))
    assert (summary["lines"], summary["rows_without_fields"]) == (4, 1)
    # Run again: the same points, overwritten, nothing added.
    again = run_dag(airflow_env, "iw_fr_xcom", "2024-03-03")
    assert again.returncode == 0, output_of(again)[-3000:]
    assert len(influxd.rows("SELECT * FROM energy", "iw_fr_xcom")) == 3


def test_a_decorated_function_returning_a_polars_frame(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_fr_decorated_polars", "2024-03-02")
    assert run.returncode == 0, output_of(run)[-3000:]
    stamp = 1_709_337_600_000_000_000  # no time column: the run's data interval end (logical date)
    cpu = influxd.rows("SELECT * FROM cpu", "iw_fr_decorated_polars")
    disk = influxd.rows('SELECT * FROM "disk io"', "iw_fr_decorated_polars")
    assert [(r["time"], r["host"], r["v"]) for r in cpu] == [(stamp, "a", 0.5)]
    assert [(r["time"], r.get("host"), r["v"]) for r in disk] == [(stamp, None, 2.0)]


STRICT_FAILURES = [
    (
        "iw_fr_bad_row",
        "InvalidInputError: 1 invalid line(s) or record(s); nothing was written: XCom of counts, row 1: "
        "field 'count': declared int, but 2.5 has a fractional part",
    ),
    (
        "iw_fr_conflict",
        "XCom of ints, row 0: field 'v' of measurement 'm' is an integer here but a float in "
        "line_protocol, line 1",
    ),
    ("iw_fr_missing_column", "XCom of frame: tag column 'nope' is not a column of the frame"),
    ("iw_fr_no_frame", "tag_columns map the columns of a DataFrame, but no input of this task is one"),
    (
        "iw_fr_text_declared",
        "line_protocol, line 2: column 3: field 'count' is a float here, but field_types declares it "
        "an integer",
    ),
]


@pytest.fixture(scope="module")
def strict_run(airflow_env: dict[str, str]) -> str:
    """The output of one run of iw_fr_strict, whose tasks are the STRICT_FAILURES cases."""
    return failed_run_output(airflow_env, "iw_fr_strict", "2024-03-02")


@pytest.mark.parametrize(("name", "message"), STRICT_FAILURES, ids=[row[0] for row in STRICT_FAILURES])
def test_bad_frames_name_source_and_row_and_write_nothing(
    strict_run: str, influxd: InfluxDB1, name: str, message: str
) -> None:
    assert message in strict_run
    assert influxd.query("SHOW MEASUREMENTS", name) == []


def test_skip_drops_only_the_bad_row(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    run = run_dag(airflow_env, "iw_fr_bad_row_skip", "2024-03-02")
    assert run.returncode == 0, output_of(run)[-3000:]
    assert "Skipping XCom of counts_skip, row 1: field 'count': declared int" in output_of(run)
    assert sorted(r["count"] for r in influxd.rows("SELECT * FROM c", "iw_fr_bad_row_skip")) == [1, 3]
    assert returned_summary(airflow_env, "iw_fr_bad_row_skip", ("write", "polars_rows"))["skipped"] == 1


def test_frames_and_records_with_times_are_not_parsed_again(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    """Rows and records are encoded with their time: neither the check nor the send
    runs the general grammar over each entry to find it (the check learns each shape
    of line once, then matches the rest with the fast paths)."""
    run = run_dag(airflow_env, "iw_fr_parse_count", "2024-03-02")
    assert run.returncode == 0, output_of(run)[-3000:]
    parsed = re.search(r"The general grammar parsed (\d+) entries", output_of(run))
    assert parsed is not None, output_of(run)[-3000:]
    assert int(parsed.group(1)) <= 4  # one per shape of line: energy, power
    (energy,) = influxd.query("SELECT count(kwh) FROM energy", "iw_fr_parse_count")[0]["values"]
    (power,) = influxd.query("SELECT count(kw) FROM power", "iw_fr_parse_count")[0]["values"]
    assert (energy[1], power[1]) == (2_000, 2_000)
