"""The provider's Airflow plugin: lets **Test** in the connection list work on Airflow 3.3.1 and 3.3.2.

Those versions' UI sends ``port: 0`` when it tests a saved connection that has no
port (``Number(null)`` in the browser), and their API refuses the test with
"400 Bad Request: The host or port to test differs from the stored connection",
because 0 is not the stored NULL. Our form hides Port, so no ``influxdb_write``
connection could ever be tested from the UI. The API's fix (apache/airflow PR
#73298) treats port 0 like no port; until a release has it, this middleware
does the same, for ``influxdb_write`` connections only: it drops ``"port": 0``
from the request body, so the API compares the host alone. Port 0 addresses no
server, so this never lets a test reuse stored credentials against another
destination. Airflow 3.0 has no Test button; Airflow versions with the fix
behave the same with or without the middleware.

Registered through the ``airflow.plugins`` entry point; the API server adds the
middleware at start-up. Other processes import this module without using it, so
it imports nothing beyond the standard library and Airflow's plugin base.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from airflow.plugins_manager import AirflowPlugin

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

TEST_PATH = "/api/v2/connections/test"
CONN_TYPE = "influxdb_write"


def without_port_zero(body: bytes) -> bytes:
    """The test request ``body`` without ``"port": 0`` if it tests an
    ``influxdb_write`` connection; any other body unchanged."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or data.get("conn_type") != CONN_TYPE:
        return body
    port = data.get("port")
    if port != 0 or isinstance(port, bool):
        return body
    del data["port"]
    return json.dumps(data).encode()


class ConnectionTestPortFix:
    """ASGI middleware that applies :func:`without_port_zero` to ``POST .../api/v2/connections/test``.

    Every other request passes through untouched, without its body being read.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(TEST_PATH):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = without_port_zero(b"".join(chunks))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        request = {"type": "http.request", "body": body, "more_body": False}
        await self.app({**scope, "headers": headers}, _replay([request], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that returns ``messages`` first, then reads on from ``receive``."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class InfluxDBWritePlugin(AirflowPlugin):
    """Adds :class:`ConnectionTestPortFix` to the API server."""

    name = "influxdb_write"
    fastapi_root_middlewares = [  # noqa: RUF012  (the attribute Airflow reads)
        {"name": "influxdb_write: Test without a port", "middleware": ConnectionTestPortFix}
    ]
