"""InfluxDBWriteClient: streams line protocol to InfluxDB in gzip batches, with retries."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..line_protocol.frames import FrameMapping
from ..line_protocol.precision import check_precision
from .batching import Batch, Data, Input, batches, numbered_entries
from .checkpoints import Checkpoint, Fingerprint
from .constants import APIS, DEFAULT_GZIP_LEVEL, DEFAULT_MAX_BATCH_BYTES_BY_API
from .errors import (
    AuthError,
    ConnectError,
    InfluxDBWriteError,
    InputError,
    NotFoundError,
    PartialWriteError,
    ProxyError,
    RedirectError,
    RejectedPointsError,
    RequestTooLargeError,
    ResumeError,
    RetriesExhaustedError,
    WriteHTTPError,
)
from .headers import check_headers
from .proxy import proxy_credentials, proxy_for, redact_proxy
from .redaction import Redactor
from .responses import rejected_lines, server_message
from .retry import RetryPolicy, jitter_source, parse_retry_after
from .sender import Sender, Stopped
from .tls import tls_context
from .transport import Answer, Transport, TransportFailure

if TYPE_CHECKING:
    from ..line_protocol.tally import MeasurementTally

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_BYTES = DEFAULT_MAX_BATCH_BYTES_BY_API["v2"]
_V1_PRECISION = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}
# Released InfluxDB 3 Core and Enterprise versions accept only the full names on
# write_lp; the short forms fail there and only newer builds alias them
# (influxdb3_types/src/write.rs).
_V3_PRECISION = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}
PROGRESS_SECONDS = 10.0
# How long an abandoned write waits for its sending thread to notice.
ABANDON_SECONDS = 1.0
# Statuses after which the server may have written the batch: an internal error,
# or a proxy whose upstream did not answer in time. 429 and 503 refuse up front.
_MAYBE_WRITTEN = frozenset({500, 502, 504})
# How servers refuse an empty write once the token and the target passed: InfluxDB
# 2.x ("writing requires points"), InfluxDB 3 write_lp ("incoming write was empty")
# and the v2 endpoint of InfluxDB 3 and Cloud Serverless ("empty write payload").
_EMPTY_WRITE_REFUSED = ("requires points", "write was empty", "empty write payload")
# What a server answers for a path it does not serve: Go's and InfluxDB 3's plain
# "404 page not found" / "not found", InfluxDB 2.x's JSON "path not found".
_NO_SUCH_PATH = ("404 page not found", "not found", "path not found", "")
_API_PATHS = {"v2": "/api/v2/write", "v1": "/write", "v3": "/api/v3/write_lp"}
# What to do about a failure that another attempt cannot fix, by TransportFailure.kind.
_CONNECT_ADVICE = {
    "untrusted": "set ca_cert to the CA that signed the server's certificate (a path or the PEM text); "
    "turn verify_ssl off only for a test server",
    "hostname": "the certificate names another host: put the name it was issued for in the URL",
    "client_cert_required": "the server requires a client certificate: set client_cert and client_key",
    "client_cert_refused": "give a client_cert signed by a CA that the server trusts, with its client_key",
    "tls_closed": "if the server requires a client certificate, set client_cert and client_key "
    "(or check that it trusts their CA)",
    "not_tls": "the server speaks plain HTTP there: use an http:// URL, or the port where it speaks TLS",
    "tls": "check the URL's scheme and the server's certificate, or set verify_ssl to false "
    "for a server with a self-signed certificate",
    "proxy_auth": "put the proxy's user and password in the proxy setting (http://user:password@host:port)",
    "proxy_refused": "the proxy will not carry requests to this server (its access rules); ask its "
    "administrators, or connect directly (NO_PROXY, or proxy_from_env false)",
}
# What became of a batch sent at the same time as one that failed, by _Run.end's outcome.
_OTHER_FATES = {
    "unknown": "got no answer, so whether the server wrote them is unknown",
    "partly": "were refused in part, so the server may hold some of them",
    "unwritten": "were not written",
}
_RESEND_ADVICE = (
    "re-sending them is safe when every line has a timestamp: InfluxDB overwrites a point "
    "with the same measurement, tags and time"
)


@dataclass(frozen=True)
class WriteResult:
    """What one :meth:`InfluxDBWriteClient.write` did. Small and JSON-safe."""

    lines: int
    batches: int
    bytes: int
    compressed_bytes: int
    retries: int
    seconds: float
    rows_without_fields: int = 0  # frame rows not written: every field value was missing
    resumed_after_lines: int = 0  # of ``lines``, those an earlier try's checkpoint confirmed, not sent again

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Run:
    """The state of one ``write()``: what the server confirmed, and whether the
    caller abandoned it.

    Batches are numbered as they are handed to the sender (0, 1, ...). With
    ``in_flight`` requests the server may confirm them out of order: the counts
    take each confirmation as it comes, but the fingerprint and the checkpoint
    move only over the batches confirmed whole from the first on (``ordered``
    lines), so that a checkpoint always names a prefix of the input. A batch
    starts only within ``in_flight`` of the first one not confirmed, so a batch
    that takes long (retries) holds the others back instead of letting confirmed
    batches pile up.
    """

    def __init__(
        self,
        bucket: str,
        tally: MeasurementTally | None = None,
        fingerprint: Fingerprint | None = None,
        in_flight: int = 1,
    ) -> None:
        self.bucket = bucket
        self.tally = tally
        self.lines = self.batches = self.bytes = self.compressed = self.retries = 0
        # With a fingerprint, each confirmed batch moves the checkpoint (for the caller's thread to save).
        self.fingerprint = fingerprint
        self.checkpoint: Checkpoint | None = None
        self.resumed = 0  # lines an earlier try confirmed, counted in ``lines`` but not sent
        self.started = time.monotonic()
        self.reported = self.started
        self.stop = threading.Event()
        # Lines sent without an answer when abandoned: (first, last) and the same in words.
        self.unknown: list[tuple[tuple[int, int], str]] = []
        self.in_flight = in_flight
        self.changes = threading.Condition()
        self.ordered = 0  # lines of the batches confirmed whole from the first on
        self.failing = False  # a batch failed: no batch starts and none is tried again
        self._next = 0  # the first batch not confirmed whole
        self._sending: set[int] = set()  # batches being sent
        self._early: dict[int, list[Batch]] = {}  # confirmed parts of batches after ``_next``
        self._whole: set[int] = set()  # batches after ``_next`` confirmed whole
        self._ended: dict[int, tuple[str, str]] = {}  # batches that ended unconfirmed: (outcome, span)

    def start(self, index: int) -> bool:
        """Whether batch ``index`` may be sent, once it is within ``in_flight`` of the
        first batch not confirmed: not once another failed or the write was abandoned."""
        with self.changes:
            self.changes.wait_for(
                lambda: self.failing or self.stop.is_set() or index - self._next < self.in_flight
            )
            if self.failing or self.stop.is_set():
                return False
            self._sending.add(index)
            return True

    def abandon(self) -> None:
        """No batch starts from now on (the caller gave the write up), waiting ones included."""
        with self.changes:
            self.stop.set()
            self.changes.notify_all()

    def confirm(self, index: int, part: Batch, size: int, compressed: int) -> None:
        """The server confirmed ``part`` (a batch, or part of one it was split into)."""
        with self.changes:
            self.lines += len(part.numbers)  # a frame's entries stay unmade
            self.batches += 1
            self.bytes += size
            self.compressed += compressed
            if self.tally is not None:
                self.tally.add(part.texts(), part.body().isascii())
            if index == self._next:
                self._in_order(part)
            else:
                self._early.setdefault(index, []).append(part)

    def finish(self, index: int) -> None:
        """Batch ``index`` was confirmed whole."""
        with self.changes:
            self._sending.discard(index)
            self._whole.add(index)
            while self._next in self._whole:
                self._whole.discard(self._next)
                self._next += 1
                for part in self._early.pop(self._next, []):
                    self._in_order(part)
            self.changes.notify_all()

    def end(self, index: int, outcome: str, span: str) -> None:
        """Batch ``index`` ended unconfirmed: ``outcome`` is "unknown" (sent, no
        answer), "partly" (the server refused some of its lines) or "unwritten"."""
        with self.changes:
            if index in self._sending:
                self._sending.remove(index)
                self._ended[index] = (outcome, span)
            self.changes.notify_all()

    def _in_order(self, part: Batch) -> None:
        self.ordered += len(part.numbers)
        if self.fingerprint is not None:
            self.fingerprint.add(part)
            last = len(part.numbers) - 1
            self.checkpoint = Checkpoint(
                self.ordered + self.resumed,
                self.fingerprint.hexdigest(),
                part.source_of(last),
                part.numbers[last],
            )

    def settle(self, index: int, outcome: str, span: str) -> str:
        """After batch ``index`` failed (with several in flight): no batch starts and
        none is tried again, the others in flight end, and what became of them is
        said in words (each beginning "; "), so that an error tells what the server
        holds. Empty when only one request is ever in flight."""
        if self.in_flight == 1:
            return ""
        with self.changes:
            self.failing = True
            self.end(index, outcome, span)
            self.changes.wait_for(lambda: not self._sending)
            said = []
            for other in sorted({*self._early, *self._whole, *self._ended}):
                meanwhile = "" if other == index else ", sent meanwhile,"  # or parts of this batch
                confirmed = [part.span() for part in self._early.get(other, [])]
                if confirmed:
                    said.append(f"{', '.join(confirmed)}{meanwhile} were confirmed written")
                if other in self._ended and other != index:
                    fate, words = self._ended[other]
                    said.append(f"{words}, sent meanwhile, {_OTHER_FATES[fate]}")
            return "".join(f"; {words}" for words in said)


class InfluxDBWriteClient:
    """Writes line protocol or records to InfluxDB; a context manager that closes its connections.

    - ``url``: the server, e.g. ``https://us-east-1-1.aws.cloud2.influxdata.com``.
    - ``token``: API token, sent as ``Authorization: Token ...``; never logged or shown,
      and masked as ``***`` in any server text that echoes it.
      With ``api="v1"``, ``username`` and ``password`` may be given instead (Basic auth).
    - ``org``: default org for v2 writes (InfluxDB Cloud takes it from the token).
    - ``api``: ``"v2"`` (``/api/v2/write``), ``"v1"`` (``/write``, InfluxDB 1.x and the
      v1-compatible endpoints) or ``"v3"`` (``/api/v3/write_lp``, InfluxDB 3 Core/Enterprise).
    - ``timeout``: ``(connect, read)`` seconds, default ``(10, 60)``. One request, from
      connecting to the last byte of the answer, ends within ``connect + read`` seconds
      however slowly the server sends.
    - ``verify``: TLS verification, or a CA bundle path. ``False`` logs one warning.
    - ``ca_cert``: the CA to trust instead of the default bundle, as a path or its PEM
      text; ``client_cert`` / ``client_key`` (paths or PEM text; the key may be in
      ``client_cert``) and ``client_key_password`` for servers that require a client
      certificate. Loaded once, here (:mod:`.tls`); a problem raises :class:`CertificateError`.
    - ``proxy``: an HTTP(S) proxy URL, credentials in it (``http://user:password@host:3128``);
      without it, ``proxy_from_env`` (default true) uses ``HTTPS_PROXY``/``HTTP_PROXY``/
      ``NO_PROXY`` as ``requests`` and ``curl`` do (:mod:`.proxy`).
    - ``headers``: extra headers for every request (an API gateway's); they may not
      replace the ones the client sets (:mod:`.headers`). Their values are masked in
      server text like the token.
    - ``gzip_level``: 0 sends plain text; default 1 (see DEFAULT_GZIP_LEVEL).
    - ``max_batch_lines`` / ``max_batch_bytes``: batch limits; entries are never split.
      ``max_batch_bytes`` defaults to what the API's servers take by default
      (``DEFAULT_MAX_BATCH_BYTES_BY_API``: v2 40 MB, v1 24 MB, v3 10 MB).
    - ``accept_partial`` / ``no_sync`` (``api="v3"`` only; None leaves the server's
      default, true and false): with ``accept_partial=False`` a batch with a bad
      line writes nothing, so a rejected batch is certainly unwritten; with
      ``no_sync=True`` the server answers before its write-ahead log is durable.
    - ``retry``: a :class:`RetryPolicy`; ``sleep`` and ``rand`` are injectable for tests
      (by default waits end early when the write is abandoned).
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
        ca_cert: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        client_key_password: str | None = None,
        proxy: str | None = None,
        proxy_from_env: bool = True,
        headers: Mapping[str, str] | None = None,
        gzip_level: int = DEFAULT_GZIP_LEVEL,
        max_batch_lines: int = 5_000,
        max_batch_bytes: int | None = None,
        accept_partial: bool | None = None,
        no_sync: bool | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] = jitter_source,
    ) -> None:
        if api not in APIS:
            raise ValueError(f"api {api!r} is not one of {', '.join(APIS)}")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url {url!r} must start with http:// or https://")
        if not 0 <= gzip_level <= 9:
            raise ValueError("gzip_level must be 0 (off) to 9")
        if max_batch_bytes is None:
            max_batch_bytes = DEFAULT_MAX_BATCH_BYTES_BY_API[api]
        if max_batch_lines < 1 or max_batch_bytes < 1:
            raise ValueError("max_batch_lines and max_batch_bytes must be positive")
        if api != "v3" and (accept_partial is not None or no_sync is not None):
            raise ValueError("accept_partial and no_sync are options of api='v3' (/api/v3/write_lp) only")
        for name, secret in (("token", token), ("password", password)):
            if secret and not _header_safe(secret):
                raise ValueError(
                    f"the {name} holds a character that cannot be sent in an HTTP header (a line "
                    "break, a control character or a non-Latin-1 letter); copy it again"
                )
        self.url = url.rstrip("/")
        self.org = org
        self.api = api
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.gzip_level = gzip_level
        self.max_batch_lines = max_batch_lines
        self.max_batch_bytes = max_batch_bytes
        self.accept_partial = accept_partial
        self.no_sync = no_sync
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        extra_headers = check_headers(headers or {})
        context = tls_context(
            verify=verify is not False,
            ca_cert=ca_cert,
            client_cert=client_cert,
            client_key=client_key,
            client_key_password=client_key_password,
        )
        self.proxy = proxy_for(self.url, proxy, proxy_from_env)
        self._transport = Transport(
            timeout=self.timeout, verify=verify, ssl_context=context, proxy=self.proxy
        )
        self._redact = Redactor(
            token,
            username,
            password,
            secrets=[client_key_password, *extra_headers.values()],
            basic=[pair for pair in [proxy_credentials(self.proxy)] if pair],
        )
        self._runs: set[_Run] = set()
        self._headers = {
            **extra_headers,
            "Content-Type": "text/plain; charset=utf-8",
            "Accept": "application/json",
        }
        if token:
            self._headers["Authorization"] = f"Token {token}"
        self._auth = (username, password or "") if username else None
        if verify is False:
            log.warning(
                "TLS certificate verification is off for %s: anyone between here and the server "
                "can read the token and the data",
                self.url,
            )

    def __repr__(self) -> str:
        return f"InfluxDBWriteClient(url={self.url!r}, org={self.org!r}, api={self.api!r})"

    def __enter__(self) -> InfluxDBWriteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def abort(self) -> None:
        """Abandon every write in progress, from any thread (Airflow's ``on_kill``).

        No batch starts after this; the request in flight is ended at once, and the
        write raises in the thread that called it. The client refuses later writes.
        """
        for run in list(self._runs):
            run.abandon()
        self._transport.abort()

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
        params = {"db": bucket, "precision": _V3_PRECISION[precision]}
        for name, flag in (("accept_partial", self.accept_partial), ("no_sync", self.no_sync)):
            if flag is not None:
                params[name] = "true" if flag else "false"
        return f"{self.url}/api/v3/write_lp", params

    def write(
        self,
        bucket: str,
        data: Data,
        *,
        precision: str = "ns",
        org: str | None = None,
        field_types: Mapping[str, str] | None = None,
        in_flight: int = 1,
        **frame: Any,
    ) -> WriteResult:
        """Write ``data`` to ``bucket`` (v1: ``db`` or ``db/rp``; v3: the database).

        ``data`` is line protocol (text, lines, a file), record dicts, or a
        DataFrame (pandas, polars, pyarrow), whose columns are mapped by the
        keywords of :func:`~influxdb_write.line_protocol.encode_frame`
        (``measurement``, ``measurement_column``, ``tag_columns``,
        ``field_columns``, ``time_column``). ``field_types`` declares the type of
        fields of records and frames. ``in_flight``: requests waiting for an answer at
        once (see :meth:`write_inputs`).

        ``data`` is consumed as a stream of batches; each batch is sent once it is
        full, so a failure can leave earlier batches written: the error's
        ``lines_written`` says how many the server confirmed, and ``unknown_lines``
        which were sent without an answer. Raises an :class:`InfluxDBWriteError`
        subclass; never returns partially. An interrupt in the calling thread
        (``KeyboardInterrupt``, ``SystemExit``, Airflow's task timeout) abandons the
        write within about a second, logs what was confirmed and what is unknown,
        and propagates unchanged.
        """
        try:
            mapping = FrameMapping.from_options(frame)
        except (TypeError, ValueError) as exc:
            raise InputError(str(exc)) from None
        if isinstance(data, (str, bytes)) and len(data) > self.max_batch_bytes:
            # In-memory text: find an oversized line before anything is sent.
            for number, line in enumerate(_lines_of(data), 1):
                if len(line) > self.max_batch_bytes:
                    raise RequestTooLargeError(
                        f"line {number} is over max_batch_bytes={self.max_batch_bytes}; "
                        "no request can carry it; nothing was sent"
                    )
        return self.write_inputs(
            bucket,
            [Input(data, frame=mapping, field_types=field_types)],
            precision=precision,
            org=org,
            in_flight=in_flight,
        )

    def write_inputs(
        self,
        bucket: str,
        inputs: list[Input],
        *,
        precision: str = "ns",
        org: str | None = None,
        tally: MeasurementTally | None = None,
        resume: Checkpoint | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
        checkpoint_lines: int = 50_000,
        on_resumed: Callable[[Checkpoint], None] | None = None,
        in_flight: int = 1,
    ) -> WriteResult:
        """Write several inputs as one write, in order, as :meth:`write` writes one.

        Each :class:`Input` is batched on its own (a frame as Arrow slices, text
        framed, records encoded, framed entries as they are), and its lines are
        numbered within it: messages and rejected lines name the input and its
        own line, record or row number. ``tally`` counts each batch the server
        confirms, per measurement (for lineage; it costs a cut of each entry).

        Durable writes (:mod:`.checkpoints`): with ``on_checkpoint``, the calling
        thread is handed a :class:`Checkpoint` each time the server has confirmed
        ``checkpoint_lines`` more lines, and once more if the write fails, so that
        a later try can ``resume`` after it. With ``resume``, the first
        ``resume.lines`` entries are read and fingerprinted, not sent; if they are
        not what the checkpoint confirmed, :class:`ResumeError` is raised before
        anything is sent; if they are, ``on_resumed`` is called with it. The
        result's ``lines`` then include the resumed ones.

        ``in_flight``: how many requests may wait for an answer at once. With more
        than one, the batches still go out in order, but the server may receive a
        later one before it has finished an earlier one: use it only when no two
        entries give a field of one point different values (the operator's strict
        validation proves that), since a server keeps the last value it receives.
        It pays where the server has cores to spare or is far away: each request's
        wait overlaps another's. A checkpoint still names only lines confirmed
        from the first on, and a failure waits for the other requests in flight and
        says what became of them.
        """
        try:
            check_precision(precision)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if not bucket:
            raise InputError("bucket is empty; say which bucket (v1/v3: database) to write to")
        if self._transport.aborted:
            raise InfluxDBWriteError("the write was aborted before it started; nothing was sent")
        url, params = self._endpoint(bucket, precision, org or self.org)
        if in_flight < 1:
            raise InputError(f"in_flight must be 1 or more, not {in_flight}")
        run = _Run(bucket, tally, Fingerprint() if on_checkpoint or resume else None, in_flight)
        saved = resume.lines if resume else 0
        self._runs.add(run)
        send = functools.partial(self._send_batch, run, url, params)
        sender = Sender(send, workers=in_flight)
        bad_data: BaseException | None = None
        stream = None
        reading: list[str] = [""]  # the name of the input being read, for a bad data message
        frames: list[Any] = []
        try:
            try:
                stream = self._batches(inputs, precision, reading, frames)
                sending = self._resumed(stream, run, resume, on_resumed) if resume else stream
                for index, batch in enumerate(sending):
                    if batch.size <= self.max_batch_bytes:  # else it is split, then compressed
                        batch.payload(self.gzip_level)
                    if run.stop.is_set() or not sender.put(index, batch):
                        break
                    reached = run.checkpoint
                    if on_checkpoint and reached and reached.lines - saved >= checkpoint_lines:
                        on_checkpoint(reached)
                        saved = reached.lines
            except (ValueError, TypeError, RequestTooLargeError) as exc:
                bad_data = exc  # what was handed over before it is still sent
            finally:
                if stream is not None:
                    stream.close()  # a frame's encoding threads end now, not when it is collected
            sender.close()
            if run.stop.is_set():
                raise InfluxDBWriteError(
                    f"the write was aborted; {self._abandoned(run)}",
                    lines_written=run.lines,
                    unknown_lines=_covering(run.unknown),
                )
        except ResumeError:
            sender.close()  # nothing was handed to it: the client stays usable for a write from the start
            raise
        except BaseException:
            sender.abandon(lambda: self._stop(run), ABANDON_SECONDS)
            self._log_abandoned(run)
            self._save_last(run, on_checkpoint, saved)
            raise
        finally:
            self._runs.discard(run)
        if sender.error is not None:
            self._save_last(run, on_checkpoint, saved)
            raise sender.error
        if isinstance(bad_data, InfluxDBWriteError):
            bad_data.lines_written = run.lines
            raise bad_data
        if bad_data is not None:
            name = reading[0] or (inputs[0].name if len(inputs) == 1 else "")
            where = f"{name}: " if name and not str(bad_data).startswith(name) else ""
            raise InputError(
                f"{where}{bad_data}; {run.lines} lines were written before it", lines_written=run.lines
            ) from bad_data
        self._report(run, final=True)
        return WriteResult(
            lines=run.lines,
            batches=run.batches,
            bytes=run.bytes,
            compressed_bytes=run.compressed,
            retries=run.retries,
            seconds=round(time.monotonic() - run.started, 6),
            rows_without_fields=sum(frame.without_fields.count for frame in frames),
            resumed_after_lines=run.resumed,
        )

    @staticmethod
    def _resumed(
        stream: Iterable[Batch],
        run: _Run,
        resume: Checkpoint,
        on_resumed: Callable[[Checkpoint], None] | None,
    ) -> Generator[Batch, None, None]:
        """The batches after the checkpoint's lines, which are fingerprinted instead of
        sent; :class:`ResumeError` before the first batch if they differ from what it
        confirmed."""
        assert run.fingerprint is not None
        skipped = 0
        batch: Batch | None = None
        for batch in stream:
            if skipped + len(batch.numbers) <= resume.lines:
                run.fingerprint.add(batch)
                skipped += len(batch.numbers)
                if skipped < resume.lines:
                    continue
                batch = None
            elif skipped < resume.lines:
                head, batch = batch.split_at(resume.lines - skipped)
                run.fingerprint.add(head)
                skipped = resume.lines
            break
        if skipped < resume.lines:
            raise ResumeError(
                f"the input has {skipped} lines, fewer than the {resume.lines} the checkpoint confirmed; "
                "nothing was sent"
            )
        if run.fingerprint.hexdigest() != resume.fingerprint:
            raise ResumeError(
                f"the input's first {resume.lines} lines differ from those the checkpoint confirmed; "
                "nothing was sent"
            )
        run.lines = run.resumed = resume.lines
        run.checkpoint = resume
        if on_resumed is not None:
            on_resumed(resume)
        if batch is not None:
            yield batch
        yield from stream

    @staticmethod
    def _save_last(run: _Run, on_checkpoint: Callable[[Checkpoint], None] | None, saved: int) -> None:
        """Hand over the last checkpoint of a write that failed, if it moved since the last one handed."""
        if on_checkpoint is not None and run.checkpoint is not None and run.checkpoint.lines > saved:
            on_checkpoint(run.checkpoint)

    def _batches(
        self, inputs: list[Input], precision: str, reading: list[str], frames: list[Any]
    ) -> Generator[Batch, None, None]:
        """The batches of every input in order (see :func:`batches`); ``frames``
        collects the frames read, whose rows without fields the result counts."""
        several = len(inputs) > 1
        parts: list[tuple[str, Any]] = []
        for item in inputs:
            reading[0] = item.name
            entries = (
                item.data
                if item.framed
                else numbered_entries(
                    item.data,
                    precision=precision,
                    frame=item.frame,
                    field_types=item.field_types,
                    default_time=item.default_time,
                )
            )
            if hasattr(entries, "without_fields"):
                frames.append(entries)
            parts.append((item.name if several else "", entries))
        return batches(parts, max_lines=self.max_batch_lines, max_bytes=self.max_batch_bytes, reading=reading)

    def _stop(self, run: _Run) -> None:
        run.abandon()
        self._transport.abort()

    def _log_abandoned(self, run: _Run) -> None:
        log.warning("Write abandoned: %s", self._abandoned(run))

    @staticmethod
    def _abandoned(run: _Run) -> str:
        confirmed = f"{run.lines} line(s) confirmed written"
        if not run.unknown:
            return f"{confirmed}; no request was waiting for an answer; later lines were not sent"
        spans = " and ".join(words for _, words in sorted(run.unknown))
        return (
            f"{confirmed}; {spans} were sent without an answer, so whether the server "
            f"wrote them is unknown ({_RESEND_ADVICE}); later lines were not sent"
        )

    def check_write(self, bucket: str, *, org: str | None = None) -> str:
        """Prove that the token may write to ``bucket`` without writing a point.

        Sends an empty write: servers check the token and the bucket before they
        look at the body. 2xx, or InfluxDB 2.x's 400 "writing requires points",
        means yes; anything else raises the same typed error a write would, or a
        :class:`ConnectError` naming the transport problem (DNS, refused, TLS).
        Returns a sentence saying what was checked.
        """
        url, params = self._endpoint(bucket, "ns", org or self.org)
        try:
            answer = self._request("POST", url, params, b"", self._headers, sum(self.timeout))
        except TransportFailure as failure:
            raise self._connect_error(failure, "") from failure.__cause__
        if 300 <= answer.status < 400:
            raise self._redirect_error(answer, "the check")
        text = self._redact(answer.text)
        message = server_message(text, answer.headers.get("Content-Type", ""))
        empty_refused = answer.status == 400 and any(words in message for words in _EMPTY_WRITE_REFUSED)
        if answer.status >= 300 and not empty_refused:
            raise self._http_error(answer.status, message, text, _EMPTY, 0)
        return f"{self.url} accepts writes to {bucket!r} with this token ({self.api} API)"

    def find_bucket(self, bucket: str, *, org: str | None = None) -> tuple[str, str] | None:
        """The org id and bucket id of ``bucket`` (``GET /api/v2/buckets``, v2 only),
        through the same TLS, proxy and headers as writes; ``None`` when the server
        does not say (no read access, several matches, any failure)."""
        params = {"name": bucket}
        if org or self.org:
            params["org"] = str(org or self.org)
        headers = {name: value for name, value in self._headers.items() if name != "Content-Type"}
        try:
            answer = self._request("GET", f"{self.url}/api/v2/buckets", params, b"", headers, 10.0)
            found = json.loads(answer.text).get("buckets") or [] if answer.status == 200 else []
            return (str(found[0]["orgID"]), str(found[0]["id"])) if len(found) == 1 else None
        except (TransportFailure, ValueError, AttributeError, KeyError, TypeError):
            return None

    def _request(
        self,
        method: str,
        url: str,
        params: dict[str, str],
        body: bytes,
        headers: dict[str, str],
        seconds: float,
    ) -> Answer:
        return self._transport.send(
            method, url, params=params, body=body, headers=headers, auth=self._auth, seconds=seconds
        )

    def _connect_error(self, failure: TransportFailure, written: str, **common: Any) -> ConnectError:
        hint = _CONNECT_ADVICE.get(failure.kind, "check the URL or region")
        if failure.kind == "proxy_auth" and proxy_credentials(self.proxy):
            hint = "the proxy refused the user and password in its URL; correct them in the proxy setting"
        error = ProxyError if failure.kind.startswith("proxy") else ConnectError
        return error(f"cannot reach {self.url} ({failure.description}); {hint}{written}", **common)

    def _redirect_error(self, answer: Answer, what: str, fate: str = "", **common: Any) -> RedirectError:
        location = self._redact(answer.headers.get("Location", ""))
        return RedirectError(
            f"HTTP {answer.status}: the server redirected {what} to {location or '(no Location)'}; "
            "redirects are not followed, because a redirected write arrives empty. Set the "
            f"connection's URL to the final address{_then(fate)}",
            location=location,
            status=answer.status,
            **common,
        )

    def _report(self, run: _Run, *, final: bool) -> None:
        """The one summary line of a write, or (every ``PROGRESS_SECONDS`` while it
        runs) a progress line: what the server confirmed so far, and how fast."""
        now = time.monotonic()
        if not final and now - run.reported < PROGRESS_SECONDS:
            return
        run.reported = now
        elapsed = now - run.started
        sent = run.lines - run.resumed
        rate = f"{sent / elapsed:,.0f} lines/s" if elapsed > 0 else "instant"
        log.info(
            "%s %s%s to %r in %s (%s, %s gzip) in %.1fs: %s, %s",
            "Wrote" if final else "Writing: so far",
            _count(sent, "line"),
            f" after the {run.resumed:,} an earlier try confirmed" if run.resumed else "",
            run.bucket,
            _count(run.batches, "batch", "batches"),
            _megabytes(run.bytes),
            _megabytes(run.compressed),
            elapsed,
            rate,
            _count(run.retries, "retry", "retries"),
        )

    def _wait(self, run: _Run, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            run.stop.wait(seconds)

    def _send_batch(self, run: _Run, url: str, params: dict[str, str], index: int, batch: Batch) -> None:
        """Send the write's ``index``-th batch (see :meth:`_send`), unless another failed."""
        if not run.start(index):
            return
        try:
            self._send(run, url, params, index, batch)
        except BaseException as exc:
            unknown = getattr(exc, "unknown_lines", None) is not None
            maybe = bool(exc.args[0]) if isinstance(exc, Stopped) else unknown
            partly = isinstance(exc, (PartialWriteError, RejectedPointsError))
            run.end(index, "partly" if partly else "unknown" if maybe else "unwritten", batch.span())
            raise
        run.finish(index)

    def _send(self, run: _Run, url: str, params: dict[str, str], index: int, batch: Batch) -> None:
        """Send one batch (or part of batch ``index``) until the server confirms it,
        retrying within the policy.

        Runs on a sender thread. Raises :class:`Stopped` when the write is
        abandoned, recording in ``run.unknown`` the lines that may have been written.
        """
        body = batch.body()
        if len(body) > self.max_batch_bytes and len(batch.entries) > 1:
            for half in batch.halves():
                self._send(run, url, params, index, half)
            return
        payload = batch.payload(self.gzip_level)
        headers = dict(self._headers)
        if self.gzip_level:
            headers["Content-Encoding"] = "gzip"
        span = (batch.numbers[0], batch.numbers[-1])
        lines = batch.span()
        maybe_written = False  # an attempt of this batch may have reached the server
        elapsed = 0.0  # time spent on this batch: requests plus waits
        attempt = 0
        while True:
            if run.stop.is_set():
                if maybe_written:
                    run.unknown.append((span, lines))
                raise Stopped(maybe_written)
            budget = self.retry.max_elapsed - elapsed
            sent = time.monotonic()
            retry_after = status = cause = None
            try:
                answer = self._request("POST", url, params, payload, headers, min(sum(self.timeout), budget))
            except TransportFailure as failure:
                maybe_written = maybe_written or failure.sent
                if run.stop.is_set():
                    if maybe_written:
                        run.unknown.append((span, lines))
                    raise Stopped(maybe_written) from None
                if not failure.retryable:
                    fate, _ = self._fate(run, index, lines, maybe_written)
                    raise self._connect_error(
                        failure,
                        f"; {fate}",
                        lines_written=run.lines,
                        unknown_lines=span if maybe_written else None,
                    ) from failure.__cause__
                message, cause = failure.description, failure.__cause__
            else:
                status = answer.status
                if 200 <= status < 300:
                    run.confirm(index, batch, len(body), len(payload))
                    self._report(run, final=False)
                    return
                text = self._redact(answer.text)
                message = server_message(text, answer.headers.get("Content-Type", ""))
                if status == 413 and len(batch.entries) > 1:
                    log.warning("413 request too large: splitting a batch of %d lines", len(batch.entries))
                    for half in batch.halves():
                        self._send(run, url, params, index, half)
                    return
                if 300 <= status < 400 or status == 413 or status not in self.retry.statuses:
                    # Every error from here on says what the server holds, in _fate's words.
                    fate, meanwhile = self._fate(run, index, lines, maybe_written, status)
                    common: dict[str, Any] = {"lines_written": run.lines}
                    if maybe_written:
                        common["unknown_lines"] = span
                    if 300 <= status < 400:
                        raise self._redirect_error(answer, f"the write of {lines}", fate, **common)
                    if status == 413:
                        raise RequestTooLargeError(
                            f"line {batch.numbers[0]} alone is too large for the server (413): "
                            f"{message}; {fate}",
                            status=status,
                            server_message=message,
                            **common,
                        )
                    raise self._http_error(
                        status, message, text, batch, run.ordered + run.resumed, fate, common, meanwhile
                    )
                maybe_written = maybe_written or status in _MAYBE_WRITTEN
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            attempt += 1
            delay = self.retry.delay(attempt, retry_after, rand=self._rand())
            elapsed += time.monotonic() - sent
            if attempt > self.retry.max_retries or elapsed + delay >= self.retry.max_elapsed or run.failing:
                where = f"HTTP {status}" if status else "no answer"
                why = "; another batch failed meanwhile" if run.failing else ""
                raise RetriesExhaustedError(
                    f"gave up on {lines} after {attempt} attempt(s) in {elapsed:.1f}s ({where}: {message})"
                    f"{why}; {self._fate(run, index, lines, maybe_written)[0]}",
                    attempts=attempt,
                    status=status,
                    server_message=message if status else "",
                    lines_written=run.lines,
                    unknown_lines=span if maybe_written else None,
                ) from cause
            run.retries += 1
            log.warning(
                "Write of %s failed (%s: %s); retry %d of %d in %.1fs",
                lines,
                status or "no answer",
                message,
                attempt,
                self.retry.max_retries,
                delay,
            )
            self._wait(run, delay)
            elapsed += delay

    def _http_error(
        self,
        status: int,
        message: str,
        text: str,
        batch: Batch,
        written: int,
        fate: str = "",
        known: Mapping[str, Any] | None = None,
        meanwhile: str = "",
    ) -> WriteHTTPError:
        """The error for a status that is not retried. ``fate`` (empty for the
        connection check, which writes nothing) says what the server holds, and ends
        every message; ``written`` counts the lines of the batches before this one,
        ``meanwhile`` says what became of those sent at the same time; ``known``
        carries ``lines_written`` and ``unknown_lines``."""
        common: dict[str, Any] = {"status": status, "server_message": message, "lines_written": written}
        common.update(known or {})
        span = batch.span() if batch.numbers else "an empty write"
        then = _then(fate)
        if status == 407:
            return ProxyError(  # type: ignore[return-value]
                f"HTTP 407: the proxy {redact_proxy(self.proxy or '')} asks for credentials it was not given"
                f"{' or refused them' if proxy_credentials(self.proxy) else ''}; "
                f"{_CONNECT_ADVICE['proxy_auth']}{then}",
                **common,
            )
        if status in (401, 403):
            through = ""
            if self.proxy:
                through = (
                    f"; it went through the proxy {redact_proxy(self.proxy)}: if the proxy refused it, "
                    "correct the user and password in the proxy setting"
                )
            return AuthError(
                f"HTTP {status}: {message or '(no message)'}. The token is invalid or may not write to "
                f"this bucket; check the connection's token and its permissions{through}{then}",
                **common,
            )
        if status == 404 and message.strip().lower() in _NO_SUCH_PATH:
            return NotFoundError(
                f"HTTP 404: {message or '(no message)'}. {self.url} does not serve the {self.api} write "
                f"API ({_API_PATHS[self.api]}): check that the URL points at InfluxDB, and set the api "
                "extra to what the server is: v1 for InfluxDB 1.x, v2 for InfluxDB 2.x and Cloud, "
                f"v3 for InfluxDB 3 Core and Enterprise{then}",
                **common,
            )
        if status == 404:
            return NotFoundError(
                f"HTTP 404: {message}. Check the bucket and org names (v1/v3: the database){then}", **common
            )
        if status == 400:
            rejected = rejected_lines(text, batch)
            listed = "; ".join(
                f"line {r.line}{f' of {r.source}' if r.source else ''}: {r.message}: {r.text[:200]!r}"
                for r in rejected[:20]
            )
            if self.api == "v3" and self.accept_partial is False:
                others = "with accept_partial=false the server wrote none of this batch"
            else:
                others = "the server may also have written the valid lines of this batch"
            return PartialWriteError(
                f"HTTP 400 writing {span}: {message}"
                + (f". Rejected: {listed}" if listed else "")
                + f". {written} lines of earlier batches were written{meanwhile}; {others}",
                rejected=rejected,
                **common,
            )
        if status == 422:
            # InfluxDB drops only the refused points of the batch ("partial write: points
            # beyond retention policy dropped=1"): the others may be in.
            if fate and batch.numbers:
                then = (
                    f"; {self._confirmed(written)}{meanwhile}; the server may have written the other "
                    f"lines of {span}; later lines were not sent"
                )
            return RejectedPointsError(f"HTTP 422 writing {span}: {message}{then}", **common)
        return WriteHTTPError(f"HTTP {status} writing {span}: {message}{then}", **common)

    @staticmethod
    def _confirmed(lines: int) -> str:
        return f"{lines} line(s) of earlier batches were confirmed written"

    @classmethod
    def _fate(
        cls, run: _Run, index: int, lines: str, maybe_written: bool, status: int | None = None
    ) -> tuple[str, str]:
        """What the server holds now, in words: confirmed, unknown, not sent. Every
        error raised once a batch was sent ends with it, so the caller knows what to
        re-send whatever the failure. With several requests in flight, the others
        end first (:meth:`_Run.settle`), and the second part says what became of
        them; the first includes it."""
        outcome = "partly" if status in (400, 422) else "unknown" if maybe_written else "unwritten"
        meanwhile = run.settle(index, outcome, lines)
        confirmed = cls._confirmed(run.ordered + run.resumed) + meanwhile
        if maybe_written:
            return (
                f"{confirmed}; {lines} were sent but got no answer, so whether the "
                f"server wrote them is unknown ({_RESEND_ADVICE}); later lines were not sent"
            ), meanwhile
        if meanwhile:
            return f"{confirmed}; none of {lines} were written; later lines were not sent", meanwhile
        return f"{confirmed}; none of {lines} or later lines were written", meanwhile


def _covering(spans: list[tuple[tuple[int, int], str]]) -> tuple[int, int] | None:
    """The first and last line of spans sent without an answer (lines between them
    may have been confirmed: the words of each span say exactly)."""
    if not spans:
        return None
    return min(first for (first, _), _ in spans), max(last for (_, last), _ in spans)


def _then(fate: str) -> str:
    """``fate`` as the end of a message, or nothing."""
    return f"; {fate}" if fate else ""


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number:,} {one if number == 1 else many or one + 's'}"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} B"


def _header_safe(secret: str) -> bool:
    return all(" " <= char <= "\xff" and char != "\x7f" for char in secret)


_EMPTY = Batch([], [], 0)


def _lines_of(data: str | bytes) -> list[str | bytes]:
    return data.split("\n") if isinstance(data, str) else data.split(b"\n")  # type: ignore[return-value]
