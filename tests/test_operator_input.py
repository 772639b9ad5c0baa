"""Whole-input checks of the operator in a real Airflow: ``airflow dags test`` runs the
DAGs of tests/dags_input against a real influxd (``api="v1"``), on files made here.

Strict validation must fail before anything is sent, naming the source, the line
or record and what is wrong; skip mode must drop only the bad line; server-side
rejections must name the source's own line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_cli import airflow_home, failed_run_output, output_of, returned_summary, run_dag, v1_connection
from servers import InfluxDB1

DAGS = Path(__file__).parent / "dags_input"
GOOD_AFTER_UNCLOSED = 1001
TOO_LARGE = 25_000_000  # over the 24 MB that v1 requests may carry
UNCLOSED = 'good,n=bad s="no closing quote'
LATIN1 = ["m v=1", "m,city=Zürich v=2"]
QUOTE_COLUMN = UNCLOSED.index('"') + 1
LATIN1_COLUMN = LATIN1[1].index("ü") + 1
LATIN1_OFFSET = len(LATIN1[0]) + 1 + LATIN1[1].index("ü")  # 0-based; all ASCII before it


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("input")
    lines = ["good,n=0 v=0", UNCLOSED]
    lines += [f"good,n={k} v={k}" for k in range(1, GOOD_AFTER_UNCLOSED + 1)]
    (folder / "unclosed.lp").write_text("\n".join(lines) + "\n")
    (folder / "latin1.lp").write_bytes("\n".join(LATIN1).encode("latin-1"))
    (folder / "bom.lp").write_bytes("\ufeffbom v=1\n".encode())
    (folder / "empty.lp").write_text("")
    with (folder / "too_large.lp").open("w") as out:
        out.write("m v=1\n" * 6_000)
        out.write("m " + "v=1," * (TOO_LARGE // 4) + "w=1\n")
    return folder


@pytest.fixture(scope="module")
def airflow_env(
    tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1, files: Path
) -> Iterator[dict[str, str]]:
    conn = v1_connection(influxd.url, "input-checks-token")
    env = airflow_home(tmp_path_factory.mktemp("airflow"), DAGS, conn, AIRFLOW_VAR_IW_INPUT_DIR=str(files))
    for db in ("iw_in_unclosed", "iw_in_unclosed_skip", "iw_in_bom", "iw_in_nan_skip", "iw_in_rejected"):
        influxd.create(db)
    for db in ("iw_in_not_utf8", "iw_in_too_large", "iw_in_types", "iw_in_duplicates", "iw_in_unsigned"):
        influxd.create(db)
    for db in ("iw_in_nan", "iw_in_empty", "iw_in_empty_fail", "iw_in_off_bad_record"):
        influxd.create(db)
    yield env


# (DAG, what the failed run must say); nothing may be written
STRICT_FAILURES = [
    (
        "iw_in_unclosed",
        "InvalidInputError: 1 invalid line(s) or record(s); nothing was written: file {files}/unclosed.lp, "
        f"line 2: column {QUOTE_COLUMN}: missing closing quote of string field 's': none follows "
        f"before the end of the input: {UNCLOSED!r}",
    ),
    (
        "iw_in_not_utf8",
        f"file {{files}}/latin1.lp, line 2: column {LATIN1_COLUMN}: invalid UTF-8 byte 0xfc at byte "
        f"{LATIN1_OFFSET} of the input; line protocol must be UTF-8 text",
    ),
    (
        "iw_in_too_large",
        "file {files}/too_large.lp, line 6001: column 1: the line is " + str(TOO_LARGE + 5) + " bytes, "
        "more than the 23999980 bytes one request may carry",
    ),
    (
        "iw_in_types",
        "records, record 1: field 'v' of measurement 'typed' is a float here but an integer in "
        "line_protocol, line 1; InfluxDB rejects a write that gives one field two types",
    ),
    (
        "iw_in_duplicates",
        f"2 invalid line(s) or record(s); nothing was written: line_protocol, line 1: column "
        f"{'dup a=1,a=2'.rindex('a=') + 1}: duplicate "
        "field key 'a'; InfluxDB would keep only its last value: 'dup a=1,a=2' line_protocol, line 2: "
        f"column {'dup,t=1,t=2 v=1'.index('t=2') + 1}: duplicate tag key 't': 'dup,t=1,t=2 v=1'",
    ),
    (
        "iw_in_unsigned",
        "line_protocol, line 1: column 7: unsigned integer '1u' for field 'v': InfluxDB 1.x has no unsigned "
        "type (api='v1'); write 1i, or a float: 'uns v=1u'",
    ),
    (
        "iw_in_nan",
        "InvalidInputError: 1 invalid line(s) or record(s); nothing was written: records, record 1: field "
        "'v': nan cannot be written: line protocol has no NaN or Inf",
    ),
    (
        "iw_in_empty_fail",
        "EmptyInputError: nothing to write in line_protocol (if_empty='fail'); nothing was written.",
    ),
]


@pytest.fixture(scope="module")
def strict_run(airflow_env: dict[str, str]) -> str:
    """The output of one run of iw_in_strict, whose tasks are the STRICT_FAILURES cases."""
    return failed_run_output(airflow_env, "iw_in_strict", "2024-03-01")


@pytest.mark.parametrize(("name", "message"), STRICT_FAILURES, ids=[row[0] for row in STRICT_FAILURES])
def test_strict_validation_names_the_problem_and_writes_nothing(
    strict_run: str, influxd: InfluxDB1, files: Path, name: str, message: str
) -> None:
    assert message.format(files=files) in strict_run
    assert "Out of range float values" not in strict_run
    assert influxd.query("SHOW MEASUREMENTS", name) == []


def test_skip_drops_only_the_line_with_the_unclosed_quote(
    airflow_env: dict[str, str], influxd: InfluxDB1, files: Path
) -> None:
    run = run_dag(airflow_env, "iw_in_unclosed_skip", "2024-03-01")
    assert run.returncode == 0, output_of(run)[-3000:]
    skipped = f"Skipping file {files}/unclosed.lp, line 2: column {QUOTE_COLUMN}: missing closing quote"
    assert skipped in output_of(run)
    rows = influxd.rows("SELECT * FROM good", "iw_in_unclosed_skip")
    assert sorted(int(r["n"]) for r in rows) == list(range(GOOD_AFTER_UNCLOSED + 1))
    summary = returned_summary(airflow_env, "iw_in_unclosed_skip")
    assert (summary["lines"], summary["skipped"]) == (GOOD_AFTER_UNCLOSED + 1, 1)


def test_skip_drops_a_record_with_nan_and_writes_the_others(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_in_nan_skip", "2024-03-01")
    assert run.returncode == 0, output_of(run)[-3000:]
    assert "Skipping records, record 1: field 'v': nan cannot be written" in output_of(run)
    assert [r["v"] for r in influxd.rows("SELECT * FROM nan", "iw_in_nan_skip")] == [1.0]
    assert returned_summary(airflow_env, "iw_in_nan_skip")["skipped"] == 1


def test_without_validation_a_record_that_cannot_be_encoded_ends_the_write_naming_it(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    """validate="off" sends records as they are encoded, a chunk at a time: at one the
    encoder refuses, the write stops, naming it; the batches before it are written
    (the 10,500 records before it make two full batches of 5,000 and one part)."""
    output = failed_run_output(airflow_env, "iw_in_off_bad_record", "2024-03-01")
    assert "XCom of readings, record 10501: field 'v'" in output
    assert "this record cannot be sent; 10000 lines were written before it" in output
    stored = influxd.rows("SELECT v FROM off", "iw_in_off_bad_record")
    assert [row["v"] for row in stored] == list(range(1, 10_001))


def test_a_byte_order_mark_is_not_part_of_the_measurement(
    airflow_env: dict[str, str], influxd: InfluxDB1
) -> None:
    run = run_dag(airflow_env, "iw_in_bom", "2024-03-01")
    assert run.returncode == 0, output_of(run)[-3000:]
    assert influxd.query("SHOW MEASUREMENTS", "iw_in_bom")[0]["values"] == [["bom"]]


def test_the_server_rejections_name_each_source_line(airflow_env: dict[str, str], influxd: InfluxDB1) -> None:
    run = run_dag(airflow_env, "iw_in_rejected", "2024-03-01")
    assert run.returncode != 0
    output = output_of(run)
    # The client sent the record as line 1, so it numbers the bad line 3; the user's line is 4.
    assert "PartialWriteError: the server rejected 1 line(s) or record(s): line_protocol, line 4: " in output
    assert "'rej v= 2'" in output
    assert sorted(r["v"] for r in influxd.rows("SELECT * FROM rej", "iw_in_rejected")) == [1, 1]


def test_empty_sources_are_named_in_the_log_and_the_summary(airflow_env: dict[str, str], files: Path) -> None:
    run = run_dag(airflow_env, "iw_in_empty", "2024-03-01")
    assert run.returncode == 0, output_of(run)[-3000:]
    output = output_of(run)
    for name in ("line_protocol", "XCom of nothing", f"file {files}/empty.lp"):
        assert f"{name} is empty: it holds no line or record to write" in output
    summary = returned_summary(airflow_env, "iw_in_empty")
    assert summary["empty"] == ["line_protocol", "XCom of nothing", f"file {files}/empty.lp"]
    assert summary["lines"] == 0
