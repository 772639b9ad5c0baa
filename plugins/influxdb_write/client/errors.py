"""Errors of the write client.

One base, :class:`InfluxDBWriteError`, carries what a caller needs to decide what
to do next: the HTTP status (if any), the server's own message, how many lines
the server confirmed as written before the failure, and which lines were sent
without an answer, so that whether they were written is unknown. Every exception
that escapes ``write()`` or ``check_write()`` is one of these, chained to its
cause with ``raise ... from``, except the caller's own interrupts (Ctrl-C,
``SystemExit``, Airflow's task timeout), which propagate unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RejectedLine:
    """A line the server refused: ``line`` is 1-based in the caller's whole input, or
    in the input named ``source`` in a write of several."""

    line: int
    text: str
    message: str
    source: str = ""


class InfluxDBWriteError(Exception):
    """Base of every write error.

    ``status`` is the HTTP status (None for transport errors), ``server_message``
    the server's own words, ``lines_written`` how many lines of the caller's input
    the server confirmed as written before this failure (earlier batches), and
    ``unknown_lines`` the first and last line number (1-based, inclusive) of the
    lines that were sent but got no answer, or None: the server may or may not
    have written them. Lines after those were not sent.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server_message: str = "",
        lines_written: int = 0,
        unknown_lines: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message
        self.lines_written = lines_written
        self.unknown_lines = unknown_lines

    @property
    def may_have_written(self) -> bool:
        """Whether the server holds, or may hold, lines of this write: some were
        confirmed, or sent without an answer."""
        return bool(self.lines_written or self.unknown_lines)


class InputError(InfluxDBWriteError, ValueError):
    """The arguments or the data cannot be written (a bad precision, a record that
    cannot be encoded, bytes that are not UTF-8). Lines before the bad one may
    have been sent: ``lines_written`` says how many were confirmed."""


class ConnectError(InfluxDBWriteError):
    """The server could not be reached or its TLS certificate was refused; nothing
    of this request was written. TLS failures are never retried."""


class CertificateError(ConnectError, ValueError):
    """A CA, client certificate or key cannot be used: unreadable, not PEM, an
    encrypted key without its password, a certificate and key that do not belong
    together. Raised when the client is made, before anything is sent."""


class ProxyError(ConnectError):
    """The proxy refused the request: it asks for credentials (407), refused
    them, or will not open a tunnel to the server. Nothing reached the server;
    never retried."""


class ResumeError(InfluxDBWriteError):
    """A write asked to resume after a checkpoint, but its input does not start
    with what the checkpoint confirmed (another content, fewer lines). Raised
    before anything is sent; write from the first line instead."""


class RedirectError(InfluxDBWriteError):
    """The server answered a write with a redirect (3xx). Redirects are never
    followed: a redirected POST arrives as an empty GET, which writes nothing but
    succeeds. ``location`` is where the server pointed; the batch was not written."""

    def __init__(self, message: str, *, location: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.location = location


class WriteHTTPError(InfluxDBWriteError):
    """The server answered with an error status that is not retried."""


class AuthError(WriteHTTPError):
    """401 or 403: the token is wrong or may not write to this bucket. Never retried."""


class NotFoundError(WriteHTTPError):
    """404: the bucket, org or database does not exist. Never retried."""


class RejectedPointsError(WriteHTTPError):
    """422: the server refused points on semantics (schema conflict, retention)."""


class RequestTooLargeError(WriteHTTPError):
    """413 even for a single line, or a single line over ``max_batch_bytes``."""


class PartialWriteError(WriteHTTPError):
    """400: some lines were rejected. ``rejected`` lists them with their line numbers
    in the caller's input; lines of earlier batches were written."""

    def __init__(self, message: str, *, rejected: list[RejectedLine], **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.rejected = rejected

    @property
    def may_have_written(self) -> bool:
        """True: besides earlier batches, servers may write the valid lines of the batch
        they reject lines of."""
        return True


class RetriesExhaustedError(InfluxDBWriteError):
    """Retryable failures (429, 5xx, connection errors, timeouts) outlasted the
    retry count or time budget. ``attempts`` is how many times the batch was sent;
    ``unknown_lines`` is set when an attempt may have reached the server."""

    def __init__(self, message: str, *, attempts: int, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.attempts = attempts
