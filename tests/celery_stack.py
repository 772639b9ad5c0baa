"""A distributed Airflow on one machine, for the Celery tests.

- PostgreSQL (Debian ``postgresql``), the metadata database and Celery's result
  backend: initialised and run as the ``postgres`` user (when the tests run as
  root) in its own temporary folder, on a free loopback port, with its socket in
  that folder;
- Redis (Debian ``redis-server``), the Celery broker, on a free loopback port;
- the API server, scheduler and DAG processor of :mod:`airflow_stack`, on the
  ``CeleryExecutor``;
- Celery workers (``airflow celery worker``), each named: task instances record
  the name as their hostname (see :mod:`worker_hostname`), so a test can tell
  which worker ran what.

Every process is stopped by :meth:`CeleryStack.stop`; with ``CI`` set, a missing
server binary or Python package fails the test instead of skipping it.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_stack import AIRFLOW, AirflowStack, start_airflow
from servers import Server, free_port, need_binary

TESTS = Path(__file__).parent
CELERY_PACKAGES = ("airflow.providers.celery", "psycopg2", "asyncpg")


def missing(message: str) -> None:
    """A server or package the tests need is not installed: fail under CI, else skip."""
    message += " (make test installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def need_celery_packages() -> None:
    for name in CELERY_PACKAGES:
        if importlib.util.find_spec(name) is None:
            missing(f"the Python package {name} is not installed")


def postgres_binary(name: str) -> str:
    """A PostgreSQL server program: Debian keeps them off the PATH, in
    ``/usr/lib/postgresql/<version>/bin``; the newest version wins."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda path: int(Path(path).parts[4]))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        missing(f"PostgreSQL's {name} is not installed (Debian package postgresql)")
    return str(path)


@dataclass
class Postgres(Server):
    folder: Path = Path()

    def stop(self) -> None:
        """Stop the server and remove its folder, data included."""
        self.process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """Initialise a cluster and start it; ``url`` is SQLAlchemy's for the database
    ``airflow``. As root, the folder is the ``postgres`` user's (PostgreSQL refuses
    to run as root) and lies under the system's temporary folder, which that user
    can reach."""
    initdb, server = postgres_binary("initdb"), postgres_binary("postgres")
    createdb, isready = postgres_binary("createdb"), postgres_binary("pg_isready")
    folder = Path(tempfile.mkdtemp(prefix="influxdb-write-postgres-"))
    user: str | None = None
    if os.geteuid() == 0:
        user = "postgres"
        shutil.chown(folder, user, user)
    data, log = folder / "data", folder / "postgres.log"
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"],
        user=user,
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(folder),
        "max_connections": "200",
        # A throwaway test database: durability is not worth the time.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    args = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
    process = subprocess.Popen(
        [server, "-D", str(data), *args],
        user=user,
        cwd=folder,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    postgres = Postgres(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/airflow", process, folder)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run([isready, "-h", "127.0.0.1", "-p", str(port)], capture_output=True).returncode:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        subprocess.run(
            [createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "airflow"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except BaseException:
        postgres.stop()
        raise
    return postgres


@dataclass
class Redis(Server):
    pass


def start_redis(folder: Path) -> Redis:
    """A Redis that keeps nothing on disk, logging to ``folder/redis.log``."""
    binary = need_binary("redis-server")
    port = free_port()
    log = folder / "redis.log"
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    redis = Redis(f"redis://127.0.0.1:{port}/0", process)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return redis
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            redis.stop()
            raise RuntimeError(f"redis-server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from ``/proc``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


@dataclass
class CeleryStack:
    """The running stack; workers are started and stopped one by one, or killed."""

    airflow: AirflowStack
    postgres: Postgres
    redis: Redis
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    worker_logs: list[Path] = field(default_factory=list)  # of every worker started, stopped ones too

    def start_worker(self, name: str, concurrency: int) -> None:
        """Start an ``airflow celery worker`` of ``concurrency`` processes whose task
        instances record ``name`` as their hostname; it logs to ``<home>/<name>.log``."""
        home = self.airflow.home
        env = {
            **self.airflow.env,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_hostname.hostname",
            "INFLUXDB_WRITE_TEST_WORKER": name,
        }
        args = ["--concurrency", str(concurrency), "--celery-hostname", f"{name}@%h"]
        args += ["--pid", str(home / f"{name}.pid"), "--skip-serve-logs"]
        path = home / f"{name}.log"
        if path not in self.worker_logs:
            self.worker_logs.append(path)
        log = path.open("ab")  # a worker started again adds to its log
        self.workers[name] = subprocess.Popen(
            [AIRFLOW, "celery", "worker", *args], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home
        )
        self.airflow.processes[name] = self.workers[name]

    def wait_for_workers(self) -> None:
        """Until every worker answers Celery's ping, so the first tasks find them all."""
        app = "airflow.providers.celery.executors.celery_executor.app"
        ping = [str(AIRFLOW.parent / "celery"), "--app", app, "inspect", "ping"]

        def all_answer() -> bool:
            answer = subprocess.run(ping, env=self.airflow.env, capture_output=True, text=True, timeout=60)
            return all(f"{name}@" in answer.stdout for name in self.workers)

        self.airflow.wait_for("the Celery workers to answer", all_answer, seconds=120)

    def stop_worker(self, name: str) -> None:
        """Celery's warm shutdown: the worker finishes what it runs, then exits."""
        process = self.workers.pop(name)
        self.airflow.processes.pop(name)
        process.terminate()
        process.wait(timeout=120)

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker with every process under it, as when its machine is lost:
        the whole tree is stopped first, so no process is forked after the kill."""
        process = self.workers.pop(name)
        self.airflow.processes.pop(name)
        stopped: set[int] = set()
        while tree := [pid for pid in process_tree(process.pid) if pid not in stopped]:
            for pid in tree:
                _signal(pid, signal.SIGSTOP)
                stopped.add(pid)
        for pid in stopped:
            _signal(pid, signal.SIGKILL)
        process.wait(timeout=30)

    def log_tail(self, chars: int = 3000) -> str:
        """The ends of the logs of Airflow's processes and of every worker started."""
        worker_logs = "\n".join(
            f"--- {path.name}:\n{path.read_text(errors='replace')[-chars:]}" for path in self.worker_logs
        )
        return f"{self.airflow.log_tail(chars)}\n{worker_logs}"

    def stop(self) -> None:
        """Stop the workers, Airflow, Redis and PostgreSQL (whose folder is removed)."""
        for process in self.workers.values():
            if process.poll() is None:
                process.terminate()
        for process in self.workers.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in process_tree(process.pid):
                    _signal(pid, signal.SIGKILL)
                process.wait()
        self.airflow.stop()
        self.redis.stop()
        self.postgres.stop()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def start_celery_stack(home: Path, dags: Path, **extra_env: str) -> CeleryStack:
    """PostgreSQL, Redis and Airflow on the CeleryExecutor, without workers yet
    (:meth:`CeleryStack.start_worker`). ``extra_env`` adds settings for every process."""
    need_celery_packages()
    postgres = start_postgres()
    try:
        redis = start_redis(home)
    except BaseException:
        postgres.stop()
        raise
    settings: dict[str, Any] = {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url,
        "AIRFLOW__CELERY__BROKER_URL": redis.url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{postgres.url}",
        **extra_env,
    }
    try:
        airflow = start_airflow(home, dags, **settings)
    except BaseException:
        redis.stop()
        postgres.stop()
        raise
    return CeleryStack(airflow, postgres, redis)
