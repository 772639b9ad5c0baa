"""One HTTP request to the server, bounded in time as a whole and abortable.

``requests`` applies its read timeout to each socket read, so a server that
trickles one byte a second keeps a request alive forever. Here every request
runs under a deadline: a timer shuts the connection's socket down when it
passes, or at once when the write is abandoned (Ctrl-C, an Airflow timeout, a
killed task), which ends the blocked read in the sending thread. Redirects are
never followed: a redirected POST becomes an empty GET that "succeeds".

An answer that did not arrive whole is no answer: ``http.client`` reads the end
of the stream as the end of the headers, so a ``204`` whose headers the deadline
or the server cut short would pass for a confirmation. Such a head is refused
(:class:`_WholeHeadResponse`), a body shorter than its Content-Length is refused
by urllib3, and a request the deadline ended is a failure whatever was read.

This is also the one place where ``requests``' exceptions become ours:
:class:`TransportFailure` says in words what happened and whether the request
may have reached the server.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


@dataclass(frozen=True)
class Answer:
    """The server's answer to one request."""

    status: int
    text: str
    headers: Mapping[str, str]


class TransportFailure(Exception):
    """No answer came. ``sent`` is False only when the request certainly did not
    reach the server (nothing could connect); ``retryable`` is False for failures
    that another attempt cannot fix (TLS, a malformed URL, an abandoned write);
    ``tls`` marks a refused certificate or handshake."""

    def __init__(self, description: str, *, sent: bool, retryable: bool = True, tls: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.sent = sent
        self.retryable = retryable
        self.tls = tls


class _Attempt:
    """The connection of one request in progress, so another thread can end it."""

    def __init__(self) -> None:
        self.connection: HTTPConnection | None = None
        self.ended_by: str | None = None  # "deadline" or "abort"
        self._lock = threading.Lock()

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self.connection = connection
            if self.ended_by is not None:
                _shut(connection)

    def end(self, why: str) -> None:
        with self._lock:
            if self.ended_by is None:
                self.ended_by = why
            if self.connection is not None:
                _shut(self.connection)


def _shut(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_current = threading.local()


class _LastLine:
    """A response's file, remembering whether the last line read was the end of the stream."""

    def __init__(self, fp: Any) -> None:
        self._fp = fp
        self.ended = False

    def readline(self, *args: Any) -> bytes:
        line: bytes = self._fp.readline(*args)
        self.ended = line == b""
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


class _WholeHeadResponse(http.client.HTTPResponse):
    """Refuses a head that ended with the stream instead of its blank line: the
    status may say 204, but the server (or the deadline) cut the answer short."""

    def begin(self) -> None:
        real = self.fp
        watched = _LastLine(real)
        self.fp = watched  # type: ignore[assignment]
        try:
            super().begin()
        finally:
            current: Any = self.fp
            if current is watched:  # not closed meanwhile: give the body reads the real file
                self.fp = real
        if watched.ended:
            raise http.client.IncompleteRead(b"", None)


class _WatchedConnection(HTTPConnection):
    """Hands itself to the current thread's attempt when it connects or sends, so a
    reused keep-alive connection is watched as well as a new one; its answers must
    arrive whole (:class:`_WholeHeadResponse`)."""

    response_class = _WholeHeadResponse

    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


def _watch(connection: HTTPConnection) -> None:
    attempt: _Attempt | None = getattr(_current, "attempt", None)
    if attempt is not None:
        attempt.attach(connection)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class Transport:
    """POSTs with a whole-request deadline; :meth:`abort` ends every request in
    progress and refuses new ones. Thread-safe."""

    def __init__(self, *, timeout: tuple[float, float], verify: bool | str) -> None:
        self.timeout = timeout
        self.verify = verify
        self._session = requests.Session()
        adapter = _WatchedAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._attempts: set[_Attempt] = set()
        self._lock = threading.Lock()
        self.aborted = False

    def post(
        self,
        url: str,
        *,
        params: Mapping[str, str],
        body: bytes,
        headers: Mapping[str, str],
        auth: tuple[str, str] | None,
        seconds: float,
    ) -> Answer:
        """Send one request and read the whole answer within ``seconds``.

        Raises :class:`TransportFailure` when no answer came.
        """
        attempt = _Attempt()
        with self._lock:
            if self.aborted:
                raise TransportFailure("the write was abandoned", sent=False, retryable=False)
            self._attempts.add(attempt)
        timer = threading.Timer(max(seconds, 0.0), attempt.end, ("deadline",))
        timer.daemon = True
        _current.attempt = attempt
        timer.start()
        try:
            response = self._session.post(
                url,
                params=params,
                data=body,
                headers=dict(headers),
                auth=auth,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
            )
            text = response.text
            if attempt.ended_by is not None:
                # Ended while the answer was read: what arrived may be any part of it.
                raise requests.ConnectionError(f"the request was ended ({attempt.ended_by})")
        except requests.RequestException as exc:
            raise _failure(exc, attempt, seconds) from exc
        finally:
            timer.cancel()
            _current.attempt = None
            with self._lock:
                self._attempts.discard(attempt)
        return Answer(response.status_code, text, response.headers)

    def abort(self) -> None:
        """End every request in progress now; later requests fail at once."""
        with self._lock:
            self.aborted = True
            attempts = list(self._attempts)
        for attempt in attempts:
            attempt.end("abort")

    def close(self) -> None:
        self._session.close()


def _failure(exc: requests.RequestException, attempt: _Attempt, seconds: float) -> TransportFailure:
    """What went wrong, in words, and whether the request may have been received."""
    if attempt.ended_by == "abort":
        return TransportFailure("abandoned while waiting for the answer", sent=True, retryable=False)
    if attempt.ended_by == "deadline":
        return TransportFailure(f"no complete answer within {seconds:.1f}s", sent=True)
    name = type(exc).__name__
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportFailure(f"TLS failed: {name}", sent=False, retryable=False, tls=True)
    if isinstance(exc, requests.ConnectTimeout):
        return TransportFailure(f"timed out connecting: {name}", sent=False)
    if isinstance(exc, requests.Timeout):
        return TransportFailure(f"timed out waiting for the answer: {name}", sent=True)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader)):
        return TransportFailure(f"the request could not be made: {name}", sent=False, retryable=False)
    # requests raises ConnectionError both when nothing answered (urllib3's
    # MaxRetryError wrapping NewConnectionError, DNS failures included) and when
    # the server dropped the connection after the request went out.
    reason = exc.args[0] if exc.args else None
    if isinstance(getattr(reason, "reason", None), urllib3.exceptions.NewConnectionError):
        return TransportFailure(f"could not connect: {name}", sent=False)
    return TransportFailure(f"the connection was dropped before a complete answer: {name}", sent=True)
