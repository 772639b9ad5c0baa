"""Point identity in a real Airflow: ``airflow dags test`` runs tests/dags_identity against a
real influxd (``api="v1"``) and reads back what was stored.

Entries of one write that land on one point (measurement, tag set, timestamp after
precision, the default time included) and give a field two values are refused under strict
validation, naming both places, the point and the likely cause, with nothing written: rows
of a frame without a time column, rows of different sites without ``tag_columns``, readings
100 ms apart written with ``precision="s"``, lines and records without a time. Merges of
other fields and repeated values are written; ``validate="skip"`` keeps the last value and
counts the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_cli import airflow_home, failed_run_output, output_of, returned_summary, run_dag, v1_connection
from servers import InfluxDB1

pytest.importorskip("pandas")

DAGS = Path(__file__).parent / "dags_identity"
DATABASES = [
    "iw_id_no_time",
    "iw_id_no_time_skip",
    "iw_id_no_time_off",
    "iw_id_no_tags",
    "iw_id_precision",
    "iw_id_merge",
    "iw_id_lines",
]
MARCH_1 = 1_709_251_200_000_000_000  # 2024-03-01T00:00:00Z in ns
MARCH_2 = MARCH_1 + 86_400_000_000_000  # the run's date: the default time of entries without one


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[dict[str, str]]:
    conn = v1_connection(influxd.url, "identity-token")
    env = airflow_home(tmp_path_factory.mktemp("airflow"), DAGS, conn)
    for db in DATABASES:
        influxd.create(db)
    yield env


REFUSED = [
    (
        "iw_id_no_time",
        "2 invalid line(s) or record(s); nothing was written: XCom of make, row 1: field 'v' is 2.0 here, "
        "but row 0 gives the same point (measurement 'm', no tags, time 1709337600000000000, the write's "
        "default time) the value 1.0; InfluxDB keeps one value per field of a point, so the earlier value "
        "would be lost. Likely cause: the frame's rows have no time (no time_column, no DatetimeIndex), so "
        "each got the write's default time; pass time_column= or index the frame by time.",
    ),
    (
        "iw_id_no_tags",
        "1 invalid line(s) or record(s); nothing was written: XCom of make, row 1: fields 'site' 'south' "
        "here, 'north' there, 'kwh' 2.5 here, 1.5 there: row 0 gives the same point (measurement 'energy', "
        "no tags, time 1709251200000000000) other values; InfluxDB keeps one value per field of a point, so "
        "the earlier value would be lost. Likely cause: 'site' tells the rows' series apart and belongs in "
        "tag_columns; or the input gives the same time twice",
    ),
    (
        "iw_id_precision",
        "9 invalid line(s) or record(s); nothing was written: XCom of make, row 1: field 'v' is 1.0 here, "
        "but row 0 gives the same point (measurement 'm', no tags, time 1709251200) the value 0.0; InfluxDB "
        "keeps one value per field of a point, so the earlier value would be lost. Likely cause: their "
        "times differ by less than one s and became the same at precision='s': write with a finer "
        "precision; or a column telling the rows' series apart is missing from tag_columns",
    ),
    (
        "iw_id_lines",
        "1 invalid line(s) or record(s); nothing was written: records, record 1: field 'v' is 2.0 here, but "
        "line_protocol, line 1 gives the same point (measurement 'm', tags {'site': 'a'}, time "
        "1709337600000000000, the write's default time) the value 1.0; InfluxDB keeps one value per field "
        'of a point, so the earlier value would be lost. Likely cause: records without a "time" get the '
        "write's default time, so they land on one point; give each its time, or a tag telling them apart",
    ),
]


@pytest.mark.parametrize(("dag_id", "expected"), REFUSED, ids=[case[0] for case in REFUSED])
def test_entries_that_would_overwrite_a_value_are_refused_and_nothing_is_written(
    airflow_env: dict[str, str], influxd: InfluxDB1, dag_id: str, expected: str
) -> None:
    out = failed_run_output(airflow_env, dag_id, "2024-03-02")
    assert "InvalidInputError" in out
    assert expected in out, out[-4000:]
    assert influxd.query("SHOW MEASUREMENTS", dag_id) == []


def test_disjoint_fields_and_repeated_values_merge_into_one_point(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_id_merge", "2024-03-02")
    assert run.returncode == 0, output_of(run)[-3000:]
    rows = influxd.rows("SELECT * FROM m", "iw_id_merge")
    assert rows == [{"time": MARCH_1, "site": "a", "zone": "1", "temp": 20.5, "hum": 40, "wind": 3.0}]
    summary = returned_summary(airflow_env, "iw_id_merge", ("write",))
    assert (summary["lines"], summary["overwritten"]) == (4, 0)


def test_skip_keeps_the_last_value_and_counts_the_others(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_id_no_time_skip", "2024-03-02")
    assert run.returncode == 0, output_of(run)[-3000:]
    rows = influxd.rows("SELECT * FROM m", "iw_id_no_time_skip")
    assert rows == [{"time": MARCH_2, "v": 3.0}]
    summary = returned_summary(airflow_env, "iw_id_no_time_skip", ("write",))
    assert (summary["lines"], summary["skipped"], summary["overwritten"]) == (3, 0, 2)
    out = output_of(run)
    assert "Overwritten: XCom of make, row 1: field 'v' is 2.0 here, but row 0 gives the same point" in out
    assert "2 entries lost a field value to a later entry of the same point; InfluxDB keeps the last" in out


def test_off_checks_nothing(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    run = run_dag(airflow_env, "iw_id_no_time_off", "2024-03-02")
    assert run.returncode == 0, output_of(run)[-3000:]
    assert influxd.rows("SELECT * FROM m", "iw_id_no_time_off") == [{"time": MARCH_2, "v": 3.0}]
    summary = returned_summary(airflow_env, "iw_id_no_time_off", ("write",))
    assert (summary["lines"], summary["overwritten"]) == (3, 0)
    assert "Overwritten" not in output_of(run)
