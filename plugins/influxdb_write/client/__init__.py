"""The write client: batching, gzip, retries and error mapping over ``requests``.

Imports nothing from Airflow. Use :class:`InfluxDBWriteClient` directly in any
pipeline, or through the Airflow hook.
"""

from .core import DEFAULT_GZIP_LEVEL, DEFAULT_MAX_BATCH_BYTES, InfluxDBWriteClient, WriteResult
from .errors import (
    AuthError,
    InfluxDBWriteError,
    NotFoundError,
    PartialWriteError,
    RejectedLine,
    RejectedPointsError,
    RequestTooLargeError,
    RetriesExhaustedError,
    WriteHTTPError,
)
from .retry import RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_GZIP_LEVEL",
    "DEFAULT_MAX_BATCH_BYTES",
    "AuthError",
    "InfluxDBWriteClient",
    "InfluxDBWriteError",
    "NotFoundError",
    "PartialWriteError",
    "RejectedLine",
    "RejectedPointsError",
    "RequestTooLargeError",
    "RetriesExhaustedError",
    "RetryPolicy",
    "WriteHTTPError",
    "WriteResult",
    "parse_retry_after",
]
