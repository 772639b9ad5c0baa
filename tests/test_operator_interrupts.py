"""Airflow stopping a write: the execution timeout and SIGTERM (which calls ``on_kill``)
abandon it within seconds, and the log says what was confirmed and what is unknown.

Real Airflow (``airflow dags test``) against a fault server that reads the
request and never answers; the connection's read timeout is 60 s, so a write
that waited for it would outlast every bound asserted here.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_cli import AIRFLOW, airflow_home, logged_lines, output_of, run_dag
from fault_server import FaultServer

DAGS = Path(__file__).parent / "dags_interrupts"
TOKEN = "interrupt-token-never-shown-91c"
ABANDONED = "Write abandoned: 0 line(s) confirmed written; lines 1-10 were sent without an answer"


@pytest.fixture(scope="module")
def hanging() -> Iterator[FaultServer]:
    server = FaultServer()
    server.will("hang")
    yield server
    server.close()


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, hanging: FaultServer) -> dict[str, str]:
    conn = {
        "conn_type": "influxdb_write",
        "host": hanging.url,
        "password": TOKEN,
        "extra": {"org": "o", "bucket": "b", "timeout": 60},
    }
    return airflow_home(tmp_path_factory.mktemp("airflow"), DAGS, conn)


def test_execution_timeout_abandons_the_write(airflow_env: dict[str, str], hanging: FaultServer) -> None:
    hanging.will("hang")
    started = time.monotonic()
    run = run_dag(airflow_env, "iw_timeout", "2024-03-01")
    took = time.monotonic() - started
    output = output_of(run)
    assert run.returncode != 0 or "failed" in output.lower()
    assert "AirflowTaskTimeout" in output, output[-3000:]
    assert ABANDONED in output
    assert "RetriesExhaustedError" not in output
    assert took < 45, f"airflow dags test took {took:.0f}s"
    assert [r.method for r in hanging.received].count("POST") == 1
    assert not [line for line in logged_lines(run) if TOKEN in line]


def test_sigterm_calls_on_kill_which_abandons_the_write(
    airflow_env: dict[str, str], hanging: FaultServer
) -> None:
    hanging.will("hang")
    process = subprocess.Popen(
        [AIRFLOW, "dags", "test", "iw_killed", "2024-03-01"],
        env=airflow_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        # Wait for the write itself: the bucket link's GET comes first.
        while not [r for r in hanging.received if r.method == "POST"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert hanging.received, "the task never sent its write"
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
        took = time.monotonic() - signalled
    finally:
        process.kill()
    output = " ".join(out.split())
    assert "Task stopped: abandoning the write to InfluxDB" in output, output[-3000:]
    assert "the write was aborted" in output and ABANDONED.split(";")[1].strip() in output
    assert took < 20, f"the task took {took:.0f}s to stop after SIGTERM"
    assert [r.method for r in hanging.received].count("POST") == 1
    # Airflow 3.0's own debug lines carry its request to mask the token (MaskSecret(...)).
    assert not [line for line in out.splitlines() if TOKEN in line and "MaskSecret(" not in line]


@pytest.mark.parametrize(("validate", "posts"), [("strict", 2), ("off", 1)])
def test_after_a_strict_check_two_batches_wait_for_an_answer_at_once(
    airflow_env: dict[str, str], hanging: FaultServer, validate: str, posts: int
) -> None:
    """The strict check proved that the order of the batches changes nothing, so the
    operator sends the second before the first is answered; without the check it
    waits. Abandoned, the write names every batch sent without an answer."""
    hanging.will("hang")
    run = run_dag(airflow_env, f"iw_in_flight_{validate}", "2024-03-01")
    output = " ".join(output_of(run).split())
    assert "AirflowTaskTimeout" in output, output[-3000:]
    assert [r.method for r in hanging.received].count("POST") == posts
    unknown = "lines 1-5000 and lines 5001-10000" if posts == 2 else "lines 1-5000"
    assert f"0 line(s) confirmed written; {unknown} were sent without an answer" in output
