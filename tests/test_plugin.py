"""The provider's Airflow plugin, which lets Test work on Airflow 3.3.1 and 3.3.2. The
browser test (tests/test_ui.py) clicks Test; these check what the middleware
changes and what it leaves alone."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
from typing import Any

import pytest

from influxdb_write.plugin import ConnectionTestPortFix, InfluxDBWritePlugin, without_port_zero

UI_BODY = {
    "conn_type": "influxdb_write",
    "connection_id": "influx",
    "host": "http://influxdb:8086",
    "password": "***",
    "port": 0,
    "extra": "{}",
}

UNCHANGED = [
    ("another type", {**UI_BODY, "conn_type": "http"}),
    ("a real port", {**UI_BODY, "port": 8086}),
    ("no port", {k: v for k, v in UI_BODY.items() if k != "port"}),
    ("false is not 0", {**UI_BODY, "port": False}),
]


def test_drops_port_zero_from_a_test_of_an_influxdb_write_connection() -> None:
    assert json.loads(without_port_zero(json.dumps(UI_BODY).encode())) == {
        k: v for k, v in UI_BODY.items() if k != "port"
    }


@pytest.mark.parametrize(("name", "body"), UNCHANGED, ids=[row[0] for row in UNCHANGED])
def test_leaves_every_other_body_alone(name: str, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    assert without_port_zero(raw) is raw
    assert without_port_zero(b"not json") == b"not json"


def _call(path: str, method: str, body: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """What an ASGI app behind the middleware receives for one request."""
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        seen["body"], seen["headers"] = message["body"], dict(scope["headers"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        pass

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"content-length", b"%d" % len(body))],
    }
    asyncio.run(ConnectionTestPortFix(app)(scope, receive, send))
    return seen["body"], seen["headers"]


def test_rewrites_only_post_to_the_test_endpoint() -> None:
    body = json.dumps(UI_BODY).encode()
    rewritten, headers = _call("/api/v2/connections/test", "POST", body)
    assert b'"port"' not in rewritten and headers[b"content-length"] == str(len(rewritten)).encode()
    assert _call("/prefix/api/v2/connections/test", "POST", body)[0] == rewritten  # behind a base_url
    assert _call("/api/v2/connections", "POST", body)[0] == body  # saving keeps what was sent
    assert _call("/api/v2/connections/test", "GET", body)[0] == body


def test_registered_as_an_airflow_plugin_with_its_middleware() -> None:
    # As Airflow finds plugins: in every distribution on sys.path (importlib's own lookup
    # may take a stale egg-info that an in-place build left in plugins/).
    loaded = {
        entry.load()
        for dist in importlib.metadata.distributions()
        for entry in dist.entry_points
        if entry.group == "airflow.plugins" and entry.name == "influxdb_write"
    }
    assert loaded == {InfluxDBWritePlugin}
    (middleware,) = InfluxDBWritePlugin.fastapi_root_middlewares
    assert middleware["middleware"] is ConnectionTestPortFix
