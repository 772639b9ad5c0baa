"""Errors of the write client.

One base, :class:`InfluxDBWriteError`, carries what a caller needs to decide what
to do next: the HTTP status (if any), the server's own message, and how many
lines InfluxDB had already accepted before the failure. Transport errors from
``requests`` are converted in one place and chained with ``raise ... from``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RejectedLine:
    """A line the server refused: ``line`` is 1-based in the caller's whole input."""

    line: int
    text: str
    message: str


class InfluxDBWriteError(Exception):
    """Base of every write error.

    ``status`` is the HTTP status (None for transport errors), ``server_message``
    the server's own words, ``lines_written`` how many lines of the caller's input
    the server had accepted before this failure (earlier batches).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server_message: str = "",
        lines_written: int = 0,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message
        self.lines_written = lines_written


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


class RetriesExhaustedError(InfluxDBWriteError):
    """Retryable failures (429, 5xx, connection errors, timeouts) outlasted the
    retry count or time budget. ``attempts`` is how many times the batch was sent."""

    def __init__(self, message: str, *, attempts: int, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.attempts = attempts
