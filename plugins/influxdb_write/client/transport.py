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

Proxies, CAs and client certificates are the client's own settings, not the
environment's: the session does not read ``.netrc`` (its Basic auth would
replace the token) and takes a proxy only when it is given one
(:mod:`.proxy` reads the environment's). Requests through a proxy are watched
and ended like direct ones.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
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
    that another attempt cannot fix (TLS, a proxy's refusal, a malformed URL, an
    abandoned write). ``kind`` names the cause for advice: one of :data:`KINDS`
    or empty."""

    def __init__(self, description: str, *, sent: bool, retryable: bool = True, kind: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.sent = sent
        self.retryable = retryable
        self.kind = kind


# TLS: the server's certificate is not trusted, is for another name, the server
# wants a client certificate, refused ours, does not speak TLS, or another TLS
# failure. Proxy: it wants (other) credentials, refused to carry the request.
KINDS = (
    "untrusted",
    "hostname",
    "client_cert_required",
    "client_cert_refused",
    "not_tls",
    "tls_closed",
    "tls",
    "proxy_auth",
    "proxy_refused",
)
# OpenSSL's names of the alerts a server sends when it wants, or refuses, a client certificate.
_NO_CLIENT_CERT = ("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE")
_CLIENT_CERT_REFUSED = (
    "UNKNOWN_CA",
    "BAD_CERTIFICATE",
    "CERTIFICATE_UNKNOWN",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
    "UNSUPPORTED_CERTIFICATE",
    "ACCESS_DENIED",
)
_TUNNEL = re.compile(r"Tunnel connection failed: (\d{3})\s*([^'\"()]*)")
# Refusals that write nothing, whose head is enough: a proxy asking for, or refusing,
# credentials may close before reading the body it refused, and cut its own page short.
_REFUSED_UNREAD = (401, 403, 407)


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


_WATCHED_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """Watched connections, direct or through a proxy; with ``ssl_context``, TLS
    trusts and presents only what that context holds."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        self._ssl_context = ssl_context
        super().__init__()

    def _tls(self) -> dict[str, Any]:
        return {"ssl_context": self._ssl_context} if self._ssl_context is not None else {}

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **kwargs, **self._tls())
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        new = proxy not in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs, **(self._tls() if new else {}))
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if self._ssl_context is None:  # else the context's CAs alone, not certifi's added to them
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call,unused-ignore]


class Transport:
    """POSTs with a whole-request deadline; :meth:`abort` ends every request in
    progress and refuses new ones. Thread-safe."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float],
        verify: bool | str,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
    ) -> None:
        from .tls import default_ca_bundle

        self.timeout = timeout
        self.verify: bool | str = True if ssl_context else default_ca_bundle() if verify is True else verify
        self.proxy = proxy
        self.proxies = {"http": proxy, "https": proxy} if proxy else {}
        self._session = requests.Session()
        self._session.trust_env = False
        adapter = _WatchedAdapter(ssl_context)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._attempts: set[_Attempt] = set()
        self._lock = threading.Lock()
        self.aborted = False

    def send(
        self,
        method: str,
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
            response = self._session.request(
                method,
                url,
                params=params,
                data=body,
                headers=dict(headers),
                auth=auth,
                timeout=self.timeout,
                verify=self.verify,
                proxies=self.proxies,
                allow_redirects=False,
                stream=True,
            )
            try:
                text = response.text
            except requests.RequestException:
                response.close()
                if response.status_code not in _REFUSED_UNREAD or attempt.ended_by is not None:
                    raise
                text = ""
            if attempt.ended_by is not None:
                # Ended while the answer was read: what arrived may be any part of it.
                raise requests.ConnectionError(f"the request was ended ({attempt.ended_by})")
        except requests.RequestException as exc:
            raise _failure(exc, attempt, seconds, self.proxy) from exc
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


def _failure(
    exc: requests.RequestException, attempt: _Attempt, seconds: float, proxy: str | None
) -> TransportFailure:
    """What went wrong, in words, and whether the request may have been received."""
    if attempt.ended_by == "abort":
        return TransportFailure("abandoned while waiting for the answer", sent=True, retryable=False)
    if attempt.ended_by == "deadline":
        return TransportFailure(f"no complete answer within {seconds:.1f}s", sent=True)
    name = type(exc).__name__
    causes = list(_causes(exc))
    tls = next((cause for cause in causes if isinstance(cause, ssl.SSLError)), None)
    if isinstance(exc, requests.exceptions.SSLError) or tls is not None:
        return _tls_failure(tls, name)
    if isinstance(exc, requests.exceptions.ProxyError) and proxy:
        return _proxy_failure(causes, proxy, name)
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


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, urllib3's ``reason`` and exceptions in ``args``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(item for item in inner if isinstance(item, BaseException))


def _tls_failure(error: ssl.SSLError | None, name: str) -> TransportFailure:
    """A TLS failure, with its cause in OpenSSL's words; never retried, nothing was written."""
    reason = str(getattr(error, "reason", "") or "")
    detail = getattr(error, "verify_message", "") or reason.replace("_", " ").lower() or name
    if isinstance(error, ssl.SSLCertVerificationError):
        kind = "hostname" if "mismatch" in detail.lower() else "untrusted"
        what = f"TLS failed: the server's certificate was refused ({detail})"
        return TransportFailure(what, sent=False, retryable=False, kind=kind)
    if any(alert in reason for alert in _NO_CLIENT_CERT):
        kind, what = "client_cert_required", "the server asked for a client certificate"
    elif any(alert in reason for alert in _CLIENT_CERT_REFUSED):
        kind, what = "client_cert_refused", "the server refused the client certificate"
    elif isinstance(error, ssl.SSLEOFError):
        # TLS 1.3: a server refusing a missing client certificate may close before its alert arrives.
        kind, what = "tls_closed", "the server closed the connection during the handshake"
    elif reason == "WRONG_VERSION_NUMBER":
        kind, what = "not_tls", "the server did not answer in TLS"
    else:
        kind, what = "tls", "the handshake failed"
    return TransportFailure(f"TLS failed: {what} ({detail})", sent=False, retryable=False, kind=kind)


def _proxy_failure(causes: list[BaseException], proxy: str, name: str) -> TransportFailure:
    """The proxy refused to open a tunnel (not retried), or could not be reached."""
    from .proxy import redact_proxy

    shown = redact_proxy(proxy)
    for cause in causes:
        found = _TUNNEL.search(str(cause))
        if found:
            status, words = int(found.group(1)), found.group(2).strip()
            kind = "proxy_auth" if status in (401, 407) else "proxy_refused"
            return TransportFailure(
                f"the proxy {shown} refused to open a tunnel to the server ({status} {words})",
                sent=False,
                retryable=False,
                kind=kind,
            )
    return TransportFailure(f"could not connect to the proxy {shown}: {name}", sent=False)
