"""Durable writes in real Airflow: a try stopped mid-write, and a retry that resumes.

``airflow dags test`` runs both tries of a task (``retries=1``); Airflow 3.3's
task state store keeps the checkpoint between them. The file goes through a
counting proxy (the tests' fault server, forwarding to influxd) that stalls its
7th request past the task's ``execution_timeout``: the first try stops there
(the 8th, sent meanwhile, lands), the retry must send only what the first try's
checkpoint did not confirm (the 8th again: a checkpoint counts only lines
confirmed from the first on), and influxd must hold exactly the file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from airflow_cli import airflow_home, logged_lines, output_of, run_dag
from fault_server import FaultServer, Received, Reply
from servers import InfluxDB1

DAGS = Path(__file__).parent / "dags_resume"
TOKEN = "resume-token-never-shown-2d4"
LINES = (
    60_000  # 12 batches of 5,000; with strict validation a checkpoint every 5,000 lines (5%, at least 5,000)
)


def airflow_version() -> tuple[int, int]:
    import airflow

    major, minor = airflow.__version__.split(".")[:2]
    return int(major), int(minor)


def forward_to(influxd: InfluxDB1) -> Callable[[Received], Reply]:
    def forward(request: Received) -> Reply:
        answer = requests.post(
            f"{influxd.url}{request.path}",
            params=request.query,
            data="\n".join(request.lines).encode(),
            timeout=30,
        )
        return Reply(answer.status_code, answer.text)

    return forward


def write_file(path: Path) -> None:
    with path.open("w") as out:
        for i in range(1, LINES + 1):
            out.write(f"resumed,series=s{i % 97} v={i}i {1_700_000_000 + i}\n")


@pytest.mark.parametrize("dag_id", ["iw_resume", "iw_resume_changed"])
def test_a_retry_resumes_after_what_the_stopped_try_confirmed(
    dag_id: str, tmp_path: Path, influxd: InfluxDB1, fault: FaultServer
) -> None:
    data = tmp_path / "in.lp"
    write_file(data)
    influxd.query('DROP DATABASE "iw_resume"')
    influxd.create("iw_resume")
    forward = forward_to(influxd)
    stalled: list[Received] = []

    def stall_the_seventh_batch_once(request: Received) -> Reply:
        """Lines 30001-35000 (the 7th batch) stall the first time, past the timeout; after
        the strict check two batches are in flight, so it is known by its first line,
        not by when it arrives."""
        if not stalled and request.lines and request.lines[0].endswith(f" {1_700_000_000 + 30_001}"):
            stalled.append(request)
            time.sleep(30)
            return Reply(204)
        return forward(request)

    fault.will(stall_the_seventh_batch_once)
    conn = {
        "conn_type": "influxdb_write",
        "host": fault.url,
        "password": TOKEN,
        "extra": {"api": "v1", "precision": "s"},
    }
    env = airflow_home(
        tmp_path / "home",
        DAGS,
        None,
        AIRFLOW_CONN_IW_RESUME=json.dumps(conn),
        AIRFLOW_VAR_IW_RESUME_FILE=str(data),
    )
    run = run_dag(env, dag_id, "2024-03-01")
    output = output_of(run)
    assert run.returncode == 0, output[-3000:]
    assert "AirflowTaskTimeout" in output
    sent = [len(request.lines) for request in fault.received]
    # The 7th batch stalled (never forwarded); after the strict check two batches are
    # in flight, so the 8th went out meanwhile and landed, past the checkpoint.
    first, second = sent[:8], sent[8:]
    assert first == [5000] * 8
    stored = influxd.rows("SELECT * FROM resumed", "iw_resume")
    expected = {i: i for i in range(1, LINES + 1)}
    if dag_id == "iw_resume_changed":
        expected[10] = -10
    assert len(stored) == LINES
    assert {row["time"] // 1_000_000_000 - 1_700_000_000: row["v"] for row in stored} == expected
    if airflow_version() < (3, 3):
        assert "Not resuming: this Airflow has no task state store (Airflow 3.3 and later)" in output
        assert sum(second) == LINES
        return
    if dag_id == "iw_resume":
        # The retry sends only what the first try's checkpoint did not confirm: the
        # stalled batch and those after it.
        assert "Resuming after line 30000 of file" in output and "(30000 lines confirmed by try 1)" in output
        assert sum(second) == LINES - 30_000
    else:
        assert (
            "Not resuming: the input's first 30000 lines differ from those the checkpoint confirmed" in output
        )
        assert "writing from the first line" in output
        assert sum(second) == LINES
    assert all(TOKEN not in line for line in logged_lines(run))
