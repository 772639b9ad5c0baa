"""The connection, the hook and the provider registration, with a real Airflow 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from fault_server import FaultServer, Reply
from influxdb_write.hooks import InfluxDBWriteHook
from influxdb_write.provider import get_provider_info
from influxdb_write.regions import REGIONS
from influxdb_write.settings import ConnectionSettings
from servers import InfluxDB1, VictoriaMetrics

TOKEN = "tok-3f9a-never-shown"


def settings(
    host: str | None = None, extra: dict[str, Any] | None = None, **parts: Any
) -> ConnectionSettings:
    return ConnectionSettings.from_parts(
        host=host, port=parts.get("port"), login=parts.get("login"), password=TOKEN, extra=extra or {}
    )


def test_every_documented_region_resolves() -> None:
    assert len(REGIONS) == 7
    assert settings(extra={"region": "us-west-2-1"}).url == "https://us-west-2-1.aws.cloud2.influxdata.com"
    assert (
        settings(extra={"region": "us-central1-1"}).url == "https://us-central1-1.gcp.cloud2.influxdata.com"
    )
    assert settings(extra={"region": "eastus-1"}).url == "https://eastus-1.azure.cloud2.influxdata.com"
    with pytest.raises(
        ValueError, match="unknown InfluxDB Cloud region 'mars-1'; valid regions: us-west-2-1"
    ):
        settings(extra={"region": "mars-1"})


SETTINGS = [
    ("host wins over region", "http://db:8086", {"region": "eu-central-1-1"}, {"url": "http://db:8086"}),
    ("host without scheme is https", "influx.example.com", {}, {"url": "https://influx.example.com"}),
    ("port is added", "http://db", {"port": 9999}, {"url": "http://db:9999"}),
    (
        "defaults",
        "http://db",
        {},
        {
            "precision": "ns",
            "api": "v2",
            "timeout": 60.0,
            "verify_ssl": True,
            "gzip_level": 1,
            "org": None,
            "bucket": None,
        },
    ),
    (
        "every extra",
        "http://db",
        {
            "org": "o",
            "bucket": "b",
            "precision": "s",
            "api": "v1",
            "timeout": "5",
            "verify_ssl": "false",
            "gzip_level": 6,
        },
        {
            "org": "o",
            "bucket": "b",
            "precision": "s",
            "api": "v1",
            "timeout": 5.0,
            "verify_ssl": False,
            "gzip_level": 6,
        },
    ),
    (
        "prefixed and empty extras",
        "http://db",
        {"extra__influxdb_write__org": "o", "bucket": "", "api": None},
        {"org": "o", "bucket": None, "api": "v2"},
    ),
]


@pytest.mark.parametrize(("name", "host", "extra", "expected"), SETTINGS, ids=[row[0] for row in SETTINGS])
def test_settings(name: str, host: str, extra: dict[str, Any], expected: dict[str, Any]) -> None:
    port = extra.pop("port", None)
    got = settings(host, extra, port=port)
    assert {key: getattr(got, key) for key in expected} == expected
    assert got.token == TOKEN and TOKEN not in repr(got)


BAD = [
    ("nothing", None, {}, "neither a host .* nor a region extra"),
    ("typo", "http://db", {"bukcet": "b"}, r"unknown connection extra\(s\) bukcet; known extras: region"),
    ("precision", "http://db", {"precision": "n"}, "precision extra 'n' is not one of ns, us, ms, s"),
    ("api", "http://db", {"api": "v4"}, "api extra 'v4'"),
    ("verify", "http://db", {"verify_ssl": "maybe"}, "verify_ssl extra 'maybe'"),
]


@pytest.mark.parametrize(("name", "host", "extra", "problem"), BAD, ids=[row[0] for row in BAD])
def test_bad_settings(name: str, host: str | None, extra: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        settings(host, extra)


def test_hook_attributes() -> None:
    assert InfluxDBWriteHook.conn_name_attr == "influxdb_conn_id"
    assert InfluxDBWriteHook.default_conn_name == "influxdb_write_default"
    assert InfluxDBWriteHook.conn_type == "influxdb_write"
    assert InfluxDBWriteHook.hook_name == "InfluxDB (write)"


def test_connection_from_json_env(monkeypatch: pytest.MonkeyPatch, victoria: VictoriaMetrics) -> None:
    conn = {
        "conn_type": "influxdb_write",
        "host": victoria.url,
        "password": TOKEN,
        "extra": {"org": "acme", "bucket": "metrics", "precision": "s"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT", json.dumps(conn))
    hook = InfluxDBWriteHook()
    assert (hook.settings.url, hook.settings.org, hook.settings.bucket) == (victoria.url, "acme", "metrics")
    result = hook.write("hook_json value=1 1700000000")
    assert result.lines == 1
    (series,) = victoria.export('{__name__="hook_json_value"}')
    assert series["timestamps"] == [1_700_000_000_000]
    assert hook.test_connection() == (
        True,
        f"{victoria.url} accepts writes to 'metrics' with this token (v2 API)",
    )


def test_connection_from_uri_env(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"influxdb-write://:{TOKEN}@http%3A%2F%2Finflux%3A8086/?org=acme&bucket=metrics&api=v2"
    monkeypatch.setenv("AIRFLOW_CONN_INFLUX_URI", uri)
    hook = InfluxDBWriteHook("influx_uri")
    assert (hook.settings.url, hook.settings.org, hook.settings.bucket) == (
        "http://influx:8086",
        "acme",
        "metrics",
    )
    assert hook.settings.token == TOKEN
    monkeypatch.setenv("AIRFLOW_CONN_CLOUD_URI", f"influxdb-write://:{TOKEN}@/?region=us-east-1-1&bucket=b")
    assert InfluxDBWriteHook("cloud_uri").settings.url == "https://us-east-1-1.aws.cloud2.influxdata.com"


def _use(monkeypatch: pytest.MonkeyPatch, conn_id: str, **conn: Any) -> InfluxDBWriteHook:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "influxdb_write", **conn}))
    return InfluxDBWriteHook(conn_id)


def test_test_connection_failures_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, fault: FaultServer, influxd: InfluxDB1
) -> None:
    messages = []
    fault.will(Reply(401, '{"code":"unauthorized","message":"unauthorized access"}'))
    ok, message = _use(
        monkeypatch, "c401", host=fault.url, password=TOKEN, extra={"bucket": "b"}
    ).test_connection()
    assert not ok and "token is invalid" in message and "unauthorized access" in message
    messages.append(message)
    fault.will(Reply(404, '{"code":"not found","message":"bucket \\"b\\" not found"}'))
    ok, message = _use(
        monkeypatch, "c404", host=fault.url, password=TOKEN, extra={"bucket": "b"}
    ).test_connection()
    assert not ok and 'bucket "b" not found' in message and "Check the bucket and org" in message
    messages.append(message)
    fault.will(Reply(400, '{"code":"invalid","message":"writing requires points"}'))
    ok, message = _use(
        monkeypatch, "c2x", host=fault.url, password=TOKEN, extra={"bucket": "b"}
    ).test_connection()
    assert ok, message
    (request,) = fault.received
    assert request.body == "" and request.headers["Authorization"] == f"Token {TOKEN}"
    ok, message = _use(
        monkeypatch, "cv1", host=influxd.url, password=TOKEN, extra={"bucket": "nodb", "api": "v1"}
    ).test_connection()
    assert not ok and 'database not found: "nodb"' in message
    messages.append(message)
    ok, message = _use(
        monkeypatch, "cdown", host="http://127.0.0.1:9", password=TOKEN, extra={"bucket": "b"}
    ).test_connection()
    assert not ok and "cannot reach http://127.0.0.1:9" in message
    messages.append(message)
    ok, message = _use(
        monkeypatch, "ctls", host=fault.url.replace("http", "https"), password=TOKEN, extra={"bucket": "b"}
    ).test_connection()
    assert not ok and "TLS failed" in message
    messages.append(message)
    ok, message = _use(monkeypatch, "cnone", password=TOKEN, extra={"bucket": "b"}).test_connection()
    assert not ok and "neither a host" in message and "connection 'cnone'" in message
    messages.append(message)
    ok, message = _use(monkeypatch, "cnobucket", host=fault.url, password=TOKEN).test_connection()
    assert not ok and "Set the bucket extra" in message
    assert all(TOKEN not in m for m in messages)


def test_provider_info_matches_airflow_schema() -> None:
    schema = json.loads(resources.files("airflow").joinpath("provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    (conn,) = info["connection-types"]
    assert conn["conn-fields"]["region"]["schema"]["enum"][1:] == list(REGIONS)
    assert conn["ui-field-behaviour"]["relabeling"]["password"] == "API token"


def test_providers_manager_discovers_the_connection_type(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    bin_dir = Path(sys.executable).parent
    hooks = subprocess.run(
        [bin_dir / "airflow", "providers", "hooks"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    assert "influxdb_write.hooks.InfluxDBWriteHook" in hooks and "InfluxDB (write)" in hooks
    widgets = subprocess.run(
        [bin_dir / "airflow", "providers", "widgets"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    if _airflow_version() >= (3, 2):
        for field in ("region", "org", "bucket", "precision"):
            assert f"extra__influxdb_write__{field}" in widgets
    else:
        # 3.0 and 3.1 ask the hook, through the FAB provider's wtforms; the hook
        # serves the same definitions as the provider info.
        behaviour = InfluxDBWriteHook.get_ui_field_behaviour()
        assert behaviour["relabeling"]["password"] == "API token"
        assert behaviour["hidden_fields"] == ["schema", "port"]


def _airflow_version() -> tuple[int, int]:
    import airflow

    major, minor = airflow.__version__.split(".")[:2]
    return int(major), int(minor)
