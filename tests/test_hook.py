"""The connection, the hook and the provider registration, with a real Airflow 3."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

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


def test_hook_writes_a_frame(monkeypatch: pytest.MonkeyPatch, victoria: VictoriaMetrics) -> None:
    pd = pytest.importorskip("pandas")
    conn = {"conn_type": "influxdb_write", "host": victoria.url, "password": TOKEN, "extra": {"bucket": "b"}}
    monkeypatch.setenv("AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT", json.dumps(conn))
    frame = pd.DataFrame(
        {
            "host": ["a", "b"],
            "kwh": [1, 2],
            "time": pd.to_datetime([1_700_000_000, 1_700_000_060], unit="s", utc=True),
        }
    )
    result = InfluxDBWriteHook().write(
        frame,
        measurement="hook_frame",
        tag_columns=["host"],
        time_column="time",
        field_types={"kwh": "float"},
    )
    assert result.lines == 2
    series = victoria.export('{__name__="hook_frame_kwh"}')
    assert sorted((s["metric"]["host"], s["values"], s["timestamps"]) for s in series) == [
        ("a", [1.0], [1_700_000_000_000]),
        ("b", [2.0], [1_700_000_060_000]),
    ]


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


CHECKS = [
    # name, server reply, host, extra, ok, words the message must hold
    (
        "401",
        Reply(401, '{"code":"unauthorized","message":"unauthorized access"}'),
        "fault",
        {},
        False,
        ["token is invalid", "unauthorized access"],
    ),
    (
        "404",
        Reply(404, '{"code":"not found","message":"bucket \\"b\\" not found"}'),
        "fault",
        {},
        False,
        ['bucket "b" not found', "Check the bucket and org"],
    ),
    (
        "2.x refuses the empty body only after auth",
        Reply(400, '{"code":"invalid","message":"writing requires points"}'),
        "fault",
        {},
        True,
        ["accepts writes to 'b'"],
    ),
    (
        "v1 database missing",
        None,
        "influxd",
        {"bucket": "nodb", "api": "v1"},
        False,
        ['database not found: "nodb"'],
    ),
    ("nothing listens", None, "http://127.0.0.1:9", {}, False, ["cannot reach http://127.0.0.1:9"]),
    ("TLS to a plain server", None, "tls", {}, False, ["TLS failed"]),
    ("no URL", None, None, {}, False, ["neither a host", "connection 'check'"]),
    ("no bucket", None, "fault", {"bucket": None}, False, ["Set the bucket extra"]),
]


@pytest.mark.parametrize(
    ("name", "reply", "host", "extra", "ok", "words"), CHECKS, ids=[row[0] for row in CHECKS]
)
def test_test_connection_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
    fault: FaultServer,
    influxd: InfluxDB1,
    name: str,
    reply: Reply | None,
    host: str | None,
    extra: dict[str, Any],
    ok: bool,
    words: list[str],
) -> None:
    if reply is not None:
        fault.will(reply)
    url = {"fault": fault.url, "influxd": influxd.url, "tls": fault.url.replace("http", "https")}.get(
        host or "", host
    )
    extra = {k: v for k, v in {"bucket": "b", **extra}.items() if v is not None}
    conn = {
        "conn_type": "influxdb_write",
        "password": TOKEN,
        "extra": extra,
        **({"host": url} if url else {}),
    }
    monkeypatch.setenv("AIRFLOW_CONN_CHECK", json.dumps(conn))
    got_ok, message = InfluxDBWriteHook("check").test_connection()
    assert got_ok is ok, message
    assert all(word in message for word in words), message
    assert TOKEN not in message
    if reply is not None:
        (request,) = fault.received
        assert request.body == "" and request.headers["Authorization"] == f"Token {TOKEN}"


def test_provider_info_matches_airflow_schema() -> None:
    schema = json.loads(resources.files("airflow").joinpath("provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    (conn,) = info["connection-types"]
    assert conn["conn-fields"]["region"]["schema"]["enum"][1:] == list(REGIONS)
    assert conn["ui-field-behaviour"]["relabeling"]["password"] == "API token"
    assert info["extra-links"] == ["influxdb_write.operators.InfluxDBBucketLink"]
    assert [i["integration-name"] for i in info["integrations"]] == ["InfluxDB"]


def test_providers_manager_discovers_the_connection_type(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    bin_dir = Path(sys.executable).parent
    hooks, widgets, links = (
        subprocess.run(
            [bin_dir / "airflow", "providers", listing],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
        for listing in ("hooks", "widgets", "links")
    )
    assert "influxdb_write.hooks.InfluxDBWriteHook" in hooks and "InfluxDB (write)" in hooks
    assert "influxdb_write.operators.InfluxDBBucketLink" in links
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


class _BucketsAPI(BaseHTTPRequestHandler):
    """``GET /api/v2/buckets`` of an InfluxDB 2.x, for one bucket; records what it was asked."""

    asked: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.asked.append((self.path, self.headers.get("Authorization", "")))
        body = json.dumps({"buckets": [{"id": "b1d", "orgID": "o1d", "name": "metrics"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def buckets_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BucketsAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("api", ["v1", "v3"])
def test_no_bucket_link_where_influxdb_has_no_bucket_page(monkeypatch: pytest.MonkeyPatch, api: str) -> None:
    conn = {
        "conn_type": "influxdb_write",
        "host": "http://127.0.0.1:9",
        "password": TOKEN,
        "extra": {"api": api},
    }
    monkeypatch.setenv("AIRFLOW_CONN_LINK", json.dumps(conn))
    assert InfluxDBWriteHook("link").bucket_url("metrics") is None


def test_bucket_link_opens_the_bucket_page_of_influxdb_2(
    monkeypatch: pytest.MonkeyPatch, buckets_api: str, fault: FaultServer
) -> None:
    conn = {"conn_type": "influxdb_write", "host": buckets_api, "password": TOKEN, "extra": {"org": "acme"}}
    monkeypatch.setenv("AIRFLOW_CONN_LINK", json.dumps(conn))
    assert InfluxDBWriteHook("link").bucket_url("metrics") == f"{buckets_api}/orgs/o1d/load-data/buckets/b1d"
    assert _BucketsAPI.asked[-1] == ("/api/v2/buckets?name=metrics&org=acme", f"Token {TOKEN}")
    # A server that does not answer the lookup: the link opens its home page.
    monkeypatch.setenv("AIRFLOW_CONN_LINK", json.dumps({**conn, "host": fault.url}))
    assert InfluxDBWriteHook("link").bucket_url("metrics") == fault.url


def test_the_readme_network_examples_parse_as_they_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON and the URI of "Behind a proxy, a private CA or a gateway" (docs/connection.md)
    are connections that read as the page says."""
    readme = (Path(__file__).resolve().parent.parent / "docs" / "connection.md").read_text(encoding="utf-8")
    start = readme.index("## Behind a proxy, a private CA or a gateway")
    section = readme[start : readme.index("\n## ", start + 1)]
    (example,) = re.findall(r"```json\n(.*?)```", section, re.DOTALL)
    monkeypatch.setenv("AIRFLOW_CONN_README_JSON", json.dumps(json.loads(example)))
    tls = InfluxDBWriteHook("readme_json").settings
    assert tls.url == "https://influxdb.corp.example:8086" and tls.proxy_from_env is False
    assert tls.ca_cert and tls.ca_cert.startswith("-----BEGIN CERTIFICATE-----\n")
    assert tls.client_cert == "/opt/airflow/certs/worker.pem"
    assert tls.client_key == "/opt/airflow/certs/worker.key" and tls.client_key_password == "<key password>"
    (uri,) = re.findall(r"AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT='([^']+)'", section)
    monkeypatch.setenv("AIRFLOW_CONN_README_URI", uri)
    proxied = InfluxDBWriteHook("readme_uri").settings
    assert proxied.url == "https://influxdb.corp.example:8086" and proxied.bucket == "metrics"
    assert proxied.proxy == "http://alice:p%40ss@proxy.corp.example:3128"
    assert proxied.headers == {"X-Tenant": "acme"} and proxied.token == "<API token>"
