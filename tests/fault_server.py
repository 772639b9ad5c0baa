"""A small real HTTP server on loopback that answers from a script, for fault injection.

Each request takes the next scripted reply (the last one repeats). A reply is a
status with headers and body, ``"drop"`` (close the connection without an
answer) or ``("slow", seconds, reply)``. Every request is recorded with its
path, query, headers and decompressed body, so tests assert exactly what was sent.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Reply:
    status: int = 204
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


Script = Reply | str | tuple[str, float, Reply]


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str

    @property
    def lines(self) -> list[str]:
        return self.body.split("\n") if self.body else []


class FaultServer:
    def __init__(self) -> None:
        self.script: list[Script] = [Reply()]
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                url = urlsplit(self.path)
                with server._lock:
                    server.received.append(
                        Received(
                            url.path,
                            {k: v[0] for k, v in parse_qs(url.query).items()},
                            dict(self.headers.items()),
                            raw.decode("utf-8"),
                        )
                    )
                    step = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if step == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(step, tuple):
                    _, seconds, step = step
                    time.sleep(seconds)
                assert isinstance(step, Reply)
                body = step.body.encode()
                self.send_response(step.status)
                for name, value in step.headers.items():
                    self.send_header(name, value)
                if "Content-Type" not in step.headers and body:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def will(self, *steps: Script) -> FaultServer:
        self.script = list(steps)
        self.received = []
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.close()
