"""A small real HTTP server on loopback that answers from a script, for fault injection.

Each request takes the next scripted reply (the last one repeats). A reply is a
status with headers and body, or one of these faults:

- ``"drop"``: read the request, then close the connection without an answer;
- ``"hang"``: read the request and never answer (until the server closes);
- ``("slow", seconds, reply)``: answer after ``seconds``;
- ``("trickle", seconds, reply)``: send the answer one byte every ``seconds``;
- ``("body_trickle", seconds, reply)``: send the head at once, then the body one
  byte every ``seconds`` (a proxy relays it so; it holds a trickled head back);
- ``("echo", status)``: answer ``status`` with the request's headers in the body,
  as some proxies' error pages do;
- ``("head_trickle", seconds, reply)``: send the status line of ``reply`` at once,
  then header lines one byte every ``seconds``, never ending the headers;
- ``("cut", raw)``: send the bytes ``raw`` (an answer cut short: headers without
  their blank line, or a body shorter than its Content-Length), then close;
- a function of the :class:`Received` request returning a reply: a server model
  that answers by what it was sent.

Every request is recorded with its method, path, query, headers and
decompressed body, so tests assert exactly what was sent. A GET (what a client
that follows a redirect sends) is recorded and answered 200, as a naive server would.
If ``https`` is given as ``(certfile, keyfile)``, the server speaks TLS.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest


class Sleeps(list[float]):
    """A client's ``sleep``: records each retry wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class Reply:
    status: int = 204
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


Script = (
    Reply
    | str
    | tuple[str, float, Reply]
    | tuple[str, int]
    | tuple[str, bytes]
    | Callable[["Received"], Reply]
)


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str

    @property
    def lines(self) -> list[str]:
        return self.body.split("\n") if self.body else []


class FaultServer:
    def __init__(self, https: tuple[str, str] | None = None) -> None:
        self.script: list[Script] = [Reply()]
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _record(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                url = urlsplit(self.path)
                with server._lock:
                    server.received.append(
                        Received(
                            self.command,
                            url.path,
                            {k: v[0] for k, v in parse_qs(url.query).items()},
                            dict(self.headers.items()),
                            raw.decode("utf-8"),
                        )
                    )

            def do_GET(self) -> None:
                self._record()
                self._answer(Reply(200, "<html>a page</html>", {"Content-Type": "text/html"}))

            def do_POST(self) -> None:
                self._record()
                with server._lock:
                    step = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                    received = server.received[-1]
                if callable(step):
                    self._answer(step(received))
                elif step == "drop":
                    self.close_connection = True
                    self.connection.close()
                elif step == "hang":
                    server._closing.wait()
                    self.close_connection = True
                elif isinstance(step, Reply):
                    self._answer(step)
                elif step[0] == "cut":
                    self.close_connection = True
                    self.wfile.write(cast(bytes, step[1]))
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_WR)
                elif step[0] == "head_trickle":
                    _, seconds, reply = cast(tuple[str, float, Reply], step)
                    self._trickle_head(reply, seconds)
                elif step[0] == "echo":
                    headers = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
                    self._answer(Reply(int(step[1]), json.dumps({"message": f"bad request. {headers}"})))
                else:
                    kind, seconds, reply = cast(tuple[str, float, Reply], step)
                    if kind == "slow":
                        time.sleep(seconds)
                    trickle = seconds if kind in ("trickle", "body_trickle") else 0.0
                    self._answer(reply, trickle=trickle, head_first=kind == "body_trickle")

            def _trickle_head(self, reply: Reply, seconds: float) -> None:
                self.close_connection = True
                try:
                    self.wfile.write(f"HTTP/1.1 {reply.status} X\r\n".encode())
                    self.wfile.flush()
                    while not server._closing.wait(seconds):
                        for byte in b"X-Pad: still coming\r\n":
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            if server._closing.wait(seconds):
                                return
                except OSError:  # the client gave up
                    pass

            def _answer(self, reply: Reply, trickle: float = 0.0, head_first: bool = False) -> None:
                body = reply.body.encode()
                head = [f"HTTP/1.1 {reply.status} X", f"Content-Length: {len(body)}"]
                head += [f"{name}: {value}" for name, value in reply.headers.items()]
                if "Content-Type" not in reply.headers and body:
                    head.append("Content-Type: application/json")
                raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
                if not trickle:
                    self.wfile.write(raw)
                    return
                self.close_connection = True
                start = len(raw) - len(body) if head_first else 0
                try:
                    self.wfile.write(raw[:start])
                    self.wfile.flush()
                    for index in range(start, len(raw)):
                        if server._closing.wait(trickle):
                            return
                        self.wfile.write(raw[index : index + 1])
                        self.wfile.flush()
                except OSError:  # the client gave up
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if https is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*https)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def will(self, *steps: Script) -> FaultServer:
        self.script = list(steps)
        self.received = []
        return self

    def close(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.close()
