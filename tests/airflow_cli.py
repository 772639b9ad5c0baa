"""Run a real Airflow through its CLI, in a temporary home, as the DAG tests need it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow_home(
    home: Path, dags: Path, connection: dict[str, Any] | None, **extra_env: str
) -> dict[str, str]:
    """An environment with a migrated SQLite database in ``home``, the DAGs of
    ``dags`` registered with their assets (as the DAG processor would), and
    ``connection`` as the default ``influxdb_write`` connection (None: no
    connection and no Variable defined at all, as where DAG files are parsed in
    many deployments)."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if connection or not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))
        },
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **({"AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT": json.dumps(connection)} if connection else {}),
        **extra_env,
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run([AIRFLOW, "dags", "reserialize"], env=env, check=True, capture_output=True, timeout=300)
    return env


# Airflow 3.4 keeps XComs and rendered fields in new tables keyed by task instance id
# (and calls a map index a region index); these views give the tests the columns of the
# tables they replace.
_VIEWS_3_4 = (
    "CREATE TEMP VIEW xcom AS SELECT ti.dag_id, ti.task_id, ti.run_id, ti.region_index AS map_index, "
    "x.key, x.value, x.timestamp FROM xcom_v2 x JOIN task_instance ti ON ti.id = x.task_instance_id",
    "CREATE TEMP VIEW rendered_task_instance_fields AS SELECT ti.dag_id, ti.task_id, ti.run_id, "
    "ti.region_index AS map_index, r.rendered_fields "
    "FROM rtif_v2 r JOIN task_instance ti ON ti.id = r.task_instance_id",
)


def metadata_db(env: dict[str, str]) -> sqlite3.Connection:
    """The SQLite metadata database of the Airflow home of ``env``, with the tables
    ``xcom`` and ``rendered_task_instance_fields`` as Airflow 3.0-3.3 name them."""
    db = sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "xcom" not in tables and "xcom_v2" in tables:
        for view in _VIEWS_3_4:
            db.execute(view)
    return db


def v1_connection(url: str, token: str) -> dict[str, Any]:
    """The connection of the operator tests: a real influxd 1.x at ``url``."""
    return {
        "conn_type": "influxdb_write",
        "host": url,
        "password": token,
        "extra": {"api": "v1", "bucket": "default_db"},
    }


def returned_summary(env: dict[str, str], dag_id: str, task_ids: tuple[str, ...] = ()) -> dict[str, Any]:
    """The return value (XCom) of the task of ``dag_id`` that returned one (of one of
    ``task_ids`` if given), as stored in the run's metadata database."""
    query = "SELECT value FROM xcom WHERE dag_id = ? AND key = 'return_value'"
    if task_ids:
        query += f" AND task_id IN ({', '.join('?' * len(task_ids))})"
    with metadata_db(env) as db:
        (value,) = db.execute(query, (dag_id, *task_ids)).fetchone()
    summary: dict[str, Any] = json.loads(value)
    return summary


def run_dag(env: dict[str, str], dag_id: str, date: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIRFLOW, "dags", "test", dag_id, date, *args], env=env, capture_output=True, text=True, timeout=300
    )


def failed_run_output(env: dict[str, str], dag_id: str, date: str) -> str:
    """The output of a DAG run that must fail (a DAG whose tasks are cases that each
    fail on their own, checked against it one by one), as :func:`output_of` gives it."""
    run = run_dag(env, dag_id, date)
    assert run.returncode != 0, output_of(run)[-3000:]
    return output_of(run)


def json_out(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run(
        [AIRFLOW, *args, "-o", "json"], env=env, capture_output=True, text=True, check=True, timeout=300
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def output_of(run: subprocess.CompletedProcess[str], separator: str = " ") -> str:
    """The run's output in one line of text, with the boxes Airflow draws around
    tracebacks undone. Airflow 3.0 also folds long words across lines; with
    ``separator=""`` all whitespace goes, so a folded path still matches."""
    return re.sub(r"[\s│]+", separator, run.stdout + run.stderr)


def logged_lines(run: subprocess.CompletedProcess[str]) -> list[str]:
    """The run's output lines, without those where Airflow 3.0's ``dags test``
    logs its own request to mask a secret (``MaskSecret(...)``, debug level)."""
    return [line for line in (run.stdout + run.stderr).splitlines() if "MaskSecret(" not in line]
