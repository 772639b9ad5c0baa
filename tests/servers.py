"""Real servers for the tests, started on free loopback ports in temporary folders.

- VictoriaMetrics (Debian ``victoria-metrics``) speaks ``/api/v2/write`` with gzip;
  data is read back through ``/api/v1/export``.
- InfluxDB 1.6.7 (Debian ``influxdb``, ``influxd``) is the real line protocol
  parser and storage engine, written through ``/write`` and read with InfluxQL.

With ``CI`` set, a missing server binary fails the test; elsewhere it skips.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make test installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {seconds}s: {log.read_text()[-2000:]}")


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class VictoriaMetrics(Server):
    def flush(self) -> None:
        requests.get(f"{self.url}/internal/force_flush", timeout=10).raise_for_status()

    def export(self, match: str = '{__name__!=""}') -> list[dict[str, Any]]:
        """Every series matching ``match``: ``{"metric": {...}, "values": [...], "timestamps": [...]}``."""
        self.flush()
        response = requests.post(
            f"{self.url}/api/v1/export", data={"match[]": match, "start": "0"}, timeout=30
        )
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line]


@dataclass
class InfluxDB1(Server):
    def query(self, q: str, db: str = "") -> list[dict[str, Any]]:
        """InfluxQL results as a list of ``{"name", "columns", "values", "tags"}`` series."""
        response = requests.post(
            f"{self.url}/query", params={"db": db, "epoch": "ns"}, data={"q": q}, timeout=30
        )
        response.raise_for_status()
        result = response.json()["results"][0]
        if "error" in result:
            raise RuntimeError(result["error"])
        return list(result.get("series", []))

    def rows(self, q: str, db: str) -> list[dict[str, Any]]:
        rows = []
        for series in self.query(q, db):
            for values in series["values"]:
                row = dict(zip(series["columns"], values, strict=True))
                row.update(series.get("tags") or {})
                rows.append(row)
        return rows

    def create(self, db: str) -> str:
        self.query(f'CREATE DATABASE "{db}"')
        return db


def start_victoria_metrics(folder: Path) -> VictoriaMetrics:
    binary = need_binary("victoria-metrics")
    port = free_port()
    log = folder / "victoria-metrics.log"
    process = subprocess.Popen(
        [
            binary,
            f"-storageDataPath={folder / 'data'}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=100y",
            "-search.disableCache",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/health", process, log)
    return VictoriaMetrics(url, process)


INFLUXD_CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{folder}/meta"
[data]
  dir = "{folder}/data"
  wal-dir = "{folder}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  auth-enabled = false
  log-enabled = false
[monitor]
  store-enabled = false
"""


def start_influxd(folder: Path) -> InfluxDB1:
    binary = need_binary("influxd")
    port, rpc = free_port(), free_port()
    config = folder / "influxd.conf"
    config.write_text(INFLUXD_CONFIG.format(folder=folder, port=port, rpc=rpc))
    log = folder / "influxd.log"
    process = subprocess.Popen(
        [binary, "-config", str(config)], stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/ping", process, log)
    return InfluxDB1(url, process)


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    server = start_victoria_metrics(tmp_path_factory.mktemp("victoria"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB1]:
    server = start_influxd(tmp_path_factory.mktemp("influxd"))
    yield server
    server.stop()
