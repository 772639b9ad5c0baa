"""InfluxDBWriteClient: streams line protocol to InfluxDB in gzip batches, with retries."""

from __future__ import annotations

import gzip
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import requests
import urllib3

from ..line_protocol.precision import check_precision
from .batching import Batch, Data, batches, numbered_entries
from .constants import APIS, DEFAULT_GZIP_LEVEL
from .errors import (
    AuthError,
    InfluxDBWriteError,
    NotFoundError,
    PartialWriteError,
    RejectedPointsError,
    RequestTooLargeError,
    RetriesExhaustedError,
    WriteHTTPError,
)
from .responses import rejected_lines, server_message
from .retry import RetryPolicy, jitter_source, parse_retry_after

log = logging.getLogger(__name__)

# InfluxDB Cloud refuses request bodies over 50 MB; stay well under it.
DEFAULT_MAX_BATCH_BYTES = 40_000_000
_V1_PRECISION = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}
PROGRESS_SECONDS = 10.0


@dataclass(frozen=True)
class WriteResult:
    """What one :meth:`InfluxDBWriteClient.write` did. Small and JSON-safe."""

    lines: int
    batches: int
    bytes: int
    compressed_bytes: int
    retries: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Progress:
    def __init__(self) -> None:
        self.lines = self.batches = self.bytes = self.compressed = self.retries = 0
        self.started = time.monotonic()
        self.reported = self.started


class _Sender:
    """Sends batches in order on one background thread while the caller's thread
    builds the next ones, so encoding overlaps compression (zlib releases the GIL)
    and the server's work. At most ``depth`` batches wait, so memory stays bounded.
    After a failure the rest is not sent; ``error`` holds it."""

    def __init__(self, send: Callable[[Batch], None], depth: int = 2) -> None:
        self._send = send
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="influxdb-write-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._send(batch)
                except BaseException as exc:  # handed to the caller's thread
                    self.error = exc

    def put(self, batch: Batch) -> bool:
        """Queue ``batch``; False once sending has failed (stop producing)."""
        if self.error is not None:
            return False
        self._queue.put(batch)
        return True

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class InfluxDBWriteClient:
    """Writes line protocol or records to InfluxDB; a context manager that closes its session.

    - ``url``: the server, e.g. ``https://us-east-1-1.aws.cloud2.influxdata.com``.
    - ``token``: API token, sent as ``Authorization: Token ...``; never logged or shown.
      With ``api="v1"``, ``username`` and ``password`` may be given instead (Basic auth).
    - ``org``: default org for v2 writes (InfluxDB Cloud takes it from the token).
    - ``api``: ``"v2"`` (``/api/v2/write``), ``"v1"`` (``/write``, InfluxDB 1.x and the
      v1-compatible endpoints) or ``"v3"`` (``/api/v3/write_lp``, InfluxDB 3 Core/Enterprise).
    - ``timeout``: ``(connect, read)`` seconds, default ``(10, 60)``; always set.
    - ``verify``: TLS verification, or a CA bundle path.
    - ``gzip_level``: 0 sends plain text; default 1 (see DEFAULT_GZIP_LEVEL).
    - ``max_batch_lines`` / ``max_batch_bytes``: batch limits; entries are never split.
    - ``retry``: a :class:`RetryPolicy`; ``sleep`` and ``rand`` are injectable for tests.
    - ``session``: a ``requests.Session`` to use (not closed by this client).
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        org: str | None = None,
        api: str = "v2",
        username: str | None = None,
        password: str | None = None,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        verify: bool | str = True,
        gzip_level: int = DEFAULT_GZIP_LEVEL,
        max_batch_lines: int = 5_000,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = jitter_source,
    ) -> None:
        if api not in APIS:
            raise ValueError(f"api {api!r} is not one of {', '.join(APIS)}")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url {url!r} must start with http:// or https://")
        if not 0 <= gzip_level <= 9:
            raise ValueError("gzip_level must be 0 (off) to 9")
        if max_batch_lines < 1 or max_batch_bytes < 1:
            raise ValueError("max_batch_lines and max_batch_bytes must be positive")
        self.url = url.rstrip("/")
        self.org = org
        self.api = api
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.gzip_level = gzip_level
        self.max_batch_lines = max_batch_lines
        self.max_batch_bytes = max_batch_bytes
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        self._own_session = session is None
        self._session = session or requests.Session()
        self._verify = verify
        self._headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Accept": "application/json",
        }
        if token:
            self._headers["Authorization"] = f"Token {token}"
        self._auth = (username, password or "") if username else None

    def __repr__(self) -> str:
        return f"InfluxDBWriteClient(url={self.url!r}, org={self.org!r}, api={self.api!r})"

    def __enter__(self) -> InfluxDBWriteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def _endpoint(self, bucket: str, precision: str, org: str | None) -> tuple[str, dict[str, str]]:
        if self.api == "v2":
            params = {"bucket": bucket, "precision": precision}
            if org:
                params["org"] = org
            return f"{self.url}/api/v2/write", params
        if self.api == "v1":
            db, _, rp = bucket.partition("/")
            params = {"db": db, "precision": _V1_PRECISION[precision]}
            if rp:
                params["rp"] = rp
            return f"{self.url}/write", params
        return f"{self.url}/api/v3/write_lp", {"db": bucket, "precision": precision}

    def write(self, bucket: str, data: Data, *, precision: str = "ns", org: str | None = None) -> WriteResult:
        """Write ``data`` to ``bucket`` (v1: ``db`` or ``db/rp``; v3: the database).

        ``data`` is consumed as a stream of batches; each batch is sent once it is
        full, so a failure can leave earlier batches written: the error's
        ``lines_written`` says how many. Raises an :class:`InfluxDBWriteError`
        subclass; never returns partially.
        """
        check_precision(precision)
        if not bucket:
            raise ValueError("bucket is empty; say which bucket (v1/v3: database) to write to")
        if isinstance(data, (str, bytes)) and len(data) > self.max_batch_bytes:
            # In-memory text: find an oversized line before anything is sent.
            for number, line in enumerate(_lines_of(data), 1):
                if len(line) > self.max_batch_bytes:
                    raise RequestTooLargeError(
                        f"line {number} is over max_batch_bytes={self.max_batch_bytes}; "
                        "no request can carry it; nothing was sent"
                    )
        url, params = self._endpoint(bucket, precision, org or self.org)
        progress = _Progress()
        sender = _Sender(lambda batch: self._send(url, params, batch, progress))
        failure: BaseException | None = None
        try:
            for batch in batches(
                numbered_entries(data, precision=precision),
                max_lines=self.max_batch_lines,
                max_bytes=self.max_batch_bytes,
            ):
                if not sender.put(batch):
                    break
                self._report(progress, final=False)
        except BaseException as exc:  # re-raised below, after the sender stops
            failure = exc
        sender.close()  # waits for every batch already handed over
        if sender.error is not None:
            raise sender.error
        if isinstance(failure, InfluxDBWriteError):
            if failure.status is None and not failure.lines_written:  # raised before any request
                failure.lines_written = progress.lines
            raise failure
        if isinstance(failure, ValueError):  # a record that cannot be encoded, met mid-stream
            raise InfluxDBWriteError(
                f"{failure}; {progress.lines} lines were written before it", lines_written=progress.lines
            ) from failure
        if failure is not None:
            raise failure
        self._report(progress, final=True)
        return WriteResult(
            lines=progress.lines,
            batches=progress.batches,
            bytes=progress.bytes,
            compressed_bytes=progress.compressed,
            retries=progress.retries,
            seconds=round(time.monotonic() - progress.started, 6),
        )

    def check_write(self, bucket: str, *, org: str | None = None) -> str:
        """Prove that the token may write to ``bucket`` without writing a point.

        Sends an empty write: servers check the token and the bucket before they
        look at the body. 2xx, or InfluxDB 2.x's 400 "writing requires points",
        means yes; anything else raises the same typed error a write would, or an
        :class:`InfluxDBWriteError` naming the transport problem (DNS, refused, TLS).
        Returns a sentence saying what was checked.
        """
        url, params = self._endpoint(bucket, "ns", org or self.org)
        try:
            response = self._session.post(
                url,
                params=params,
                data=b"",
                headers=self._headers,
                auth=self._auth,
                timeout=self.timeout,
                verify=self._verify,
            )
        except requests.exceptions.SSLError as exc:
            raise InfluxDBWriteError(
                f"TLS failed for {self.url}: {type(exc).__name__}; check the URL's scheme and "
                "certificate, or set verify_ssl to false for a self-signed server"
            ) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise InfluxDBWriteError(
                f"cannot reach {self.url} ({_transport_message(exc)}); check the URL or region"
            ) from exc
        text = response.text
        message = server_message(text, response.headers.get("Content-Type", ""))
        empty_refused = response.status_code == 400 and "requires points" in message
        if response.status_code >= 300 and not empty_refused:
            raise _http_error(response.status_code, message, text, _EMPTY, 0)
        return f"{self.url} accepts writes to {bucket!r} with this token ({self.api} API)"

    def _report(self, progress: _Progress, *, final: bool) -> None:
        now = time.monotonic()
        if not final and now - progress.reported < PROGRESS_SECONDS:
            return
        progress.reported = now
        elapsed = max(now - progress.started, 1e-9)
        log.info(
            "%s %d lines in %d batches (%.0f lines/s, %d retries)",
            "Wrote" if final else "Writing:",
            progress.lines,
            progress.batches,
            progress.lines / elapsed,
            progress.retries,
        )

    def _send(self, url: str, params: dict[str, str], batch: Batch, progress: _Progress) -> None:
        body = batch.body()
        if len(body) > self.max_batch_bytes and len(batch.entries) > 1:
            for half in batch.halves():
                self._send(url, params, half, progress)
            return
        payload = gzip.compress(body, self.gzip_level, mtime=0) if self.gzip_level else body
        headers = dict(self._headers)
        if self.gzip_level:
            headers["Content-Encoding"] = "gzip"
        elapsed = 0.0  # time spent on this batch: requests plus waits
        attempt = 0
        while True:
            cause: BaseException | None = None
            retry_after = None
            sent = time.monotonic()
            try:
                response = self._session.post(
                    url,
                    params=params,
                    data=payload,
                    headers=headers,
                    auth=self._auth,
                    timeout=self.timeout,
                    verify=self._verify,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                status, message, cause = None, _transport_message(exc), exc
            else:
                status = response.status_code
                if status in (200, 204):
                    progress.lines += len(batch.entries)
                    progress.batches += 1
                    progress.bytes += len(body)
                    progress.compressed += len(payload)
                    return
                text = response.text
                message = server_message(text, response.headers.get("Content-Type", ""))
                if status == 413:
                    if len(batch.entries) == 1:
                        raise RequestTooLargeError(
                            f"line {batch.numbers[0]} alone is too large for the server (413): "
                            f"{message}; {progress.lines} lines were written before it",
                            status=status,
                            server_message=message,
                            lines_written=progress.lines,
                        )
                    log.warning("413 request too large: splitting a batch of %d lines", len(batch.entries))
                    for half in batch.halves():
                        self._send(url, params, half, progress)
                    return
                if status not in self.retry.statuses:
                    raise _http_error(status, message, text, batch, progress.lines)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            attempt += 1
            delay = self.retry.delay(attempt, retry_after, rand=self._rand())
            elapsed += time.monotonic() - sent
            if attempt > self.retry.max_retries or elapsed + delay > self.retry.max_elapsed:
                where = f"HTTP {status}" if status else "connection failure"
                raise RetriesExhaustedError(
                    f"gave up on lines {batch.numbers[0]}-{batch.numbers[-1]} after {attempt} "
                    f"attempts in {elapsed:.1f}s ({where}: {message}); {progress.lines} lines "
                    "were written before them, none of these or later ones",
                    attempts=attempt,
                    status=status,
                    server_message=message,
                    lines_written=progress.lines,
                ) from cause
            progress.retries += 1
            log.warning(
                "Write of %d line(s) failed (%s: %s); retry %d of %d in %.1fs",
                len(batch.entries),
                status or "connection",
                message,
                attempt,
                self.retry.max_retries,
                delay,
            )
            self._sleep(delay)
            elapsed += delay


_EMPTY = Batch([], [], 0)


def _lines_of(data: str | bytes) -> list[str | bytes]:
    return data.split("\n") if isinstance(data, str) else data.split(b"\n")  # type: ignore[return-value]


def _transport_message(exc: BaseException) -> str:
    """What went wrong on the way, in words: requests raises ConnectionError both
    when nothing answered and when the server dropped a connection mid-request."""
    if isinstance(exc, requests.ConnectTimeout):
        kind = "timed out connecting"
    elif isinstance(exc, requests.Timeout):
        kind = "timed out waiting for the answer"
    elif isinstance(exc.args[0] if exc.args else None, urllib3.exceptions.ProtocolError):
        kind = "the connection was dropped before an answer"
    else:
        kind = "could not connect"
    return f"{kind}: {type(exc).__name__}"


def _http_error(status: int, message: str, text: str, batch: Batch, written: int) -> WriteHTTPError:
    common: dict[str, Any] = {"status": status, "server_message": message, "lines_written": written}
    span = f"lines {batch.numbers[0]}-{batch.numbers[-1]}" if batch.numbers else "an empty write"
    if status in (401, 403):
        return AuthError(
            f"HTTP {status}: {message}. The token is invalid or may not write to this "
            "bucket; check the connection's token and its permissions",
            **common,
        )
    if status == 404:
        return NotFoundError(
            f"HTTP 404: {message}. Check the bucket and org names (v1/v3: the database)", **common
        )
    if status == 400:
        rejected = rejected_lines(text, batch)
        listed = "; ".join(f"line {r.line}: {r.message}: {r.text[:200]!r}" for r in rejected[:20])
        return PartialWriteError(
            f"HTTP 400 writing {span}: {message}"
            + (f". Rejected: {listed}" if listed else "")
            + f". {written} lines of earlier batches were written; the server may also have "
            "written the valid lines of this batch",
            rejected=rejected,
            **common,
        )
    if status == 422:
        return RejectedPointsError(f"HTTP 422 writing {span}: {message}", **common)
    return WriteHTTPError(f"HTTP {status} writing {span}: {message}", **common)
