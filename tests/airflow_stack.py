"""A real Airflow, running: API server, scheduler and DAG processor on free loopback
ports with a temporary home and SQLite, for the tests that need the UI or the
scheduler (``airflow dags test`` needs neither).

Every user is an admin (the simple auth manager's ``all_admins``), so the browser
needs no login; the REST API takes a token from ``/auth/token``. The processes'
output goes to ``<home>/<process>.log``, shown when something does not start.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from servers import free_port

AIRFLOW = Path(sys.executable).parent / "airflow"
PROCESSES = ("api-server", "scheduler", "dag-processor")


@dataclass
class AirflowStack:
    home: Path
    url: str
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    groups: set[int] = field(default_factory=set)  # process groups led by processes started here
    _token: str = ""

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {name}.log:\n{(self.home / f'{name}.log').read_text(errors='replace')[-chars:]}"
            for name in PROCESSES
            if (self.home / f"{name}.log").exists()
        )

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A REST API call (``path`` after ``/api/v2``), with a token."""
        if not self._token:
            answer = requests.get(f"{self.url}/auth/token", timeout=30)
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=60, **kwargs)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, check=True, timeout=300
        )

    def wait_for(self, what: str, check: Callable[[], Any], seconds: float = 120) -> Any:
        """``check()``'s first truthy value, polled until ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}\n{self.log_tail()}")
            value = check()
            if value:
                return value
            time.sleep(0.5)
        raise TimeoutError(f"{what} did not happen within {seconds}s\n{self.log_tail()}")

    def wait_for_dags(self, dag_ids: set[str]) -> None:
        def listed() -> bool:
            answer = self.api("GET", "/dags", params={"limit": 100})
            return answer.ok and dag_ids <= {d["dag_id"] for d in answer.json()["dags"]}

        self.wait_for(f"the DAGs {sorted(dag_ids)} to be listed", listed, seconds=180)

    def wait_for_run(self, dag_id: str, run_id: str, seconds: float = 180) -> dict[str, Any]:
        """The finished run (state ``success`` or ``failed``)."""

        def finished() -> dict[str, Any] | None:
            run: dict[str, Any] = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()
            return run if run.get("state") in ("success", "failed") else None

        result: dict[str, Any] = self.wait_for(f"run {run_id} of {dag_id} to finish", finished, seconds)
        return result

    def stop(self) -> None:
        """Stop every process; those started here with their children (the scheduler's
        executor workers and log server would outlive it), as each leads a process group."""
        for process in self.processes.values():
            if process.pid in self.groups:
                _signal_group(process.pid, signal.SIGTERM)
            elif process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for group in self.groups:
            _signal_group(group, signal.SIGKILL)  # what is left of it


def _signal_group(group: int, number: int) -> None:
    try:
        os.killpg(group, number)
    except ProcessLookupError:  # the group is gone
        pass


def start_airflow(home: Path, dags: Path, **extra_env: str) -> AirflowStack:
    """Migrate a SQLite database in ``home``, start the three processes, and wait
    until the API server answers. ``extra_env`` adds settings and connections."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "1",
        **extra_env,
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    stack = AirflowStack(home, url, env)
    try:
        for name in PROCESSES:
            args = ["--port", str(port), "--host", "127.0.0.1"] if name == "api-server" else []
            log = (home / f"{name}.log").open("wb")
            stack.processes[name] = subprocess.Popen(
                [AIRFLOW, name, *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=home,
                start_new_session=True,  # a process group, stopped as one
            )
            stack.groups.add(stack.processes[name].pid)

        def answers() -> bool:
            try:
                return requests.get(f"{url}/api/v2/monitor/health", timeout=2).ok
            except requests.ConnectionError:
                return False

        stack.wait_for("the API server to answer", answers, seconds=120)
    except BaseException:
        stack.stop()
        raise
    return stack


def connection_json(stack: AirflowStack, conn_id: str) -> dict[str, Any]:
    """A saved connection as the REST API lists it (password masked)."""
    answer = stack.api("GET", f"/connections/{conn_id}")
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    if result.get("extra"):
        result["extra"] = json.loads(result["extra"])
    return result
