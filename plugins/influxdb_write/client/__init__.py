"""The write client: batching, gzip, retries and error mapping over ``requests``.

Imports nothing from Airflow. Use :class:`InfluxDBWriteClient` directly in any
pipeline, or through the Airflow hook.

The names below are loaded on first use (PEP 562): Airflow imports the
provider's settings in every process, and DAG files import the operator at
every parse, so importing this package must not pull in ``requests`` before a
write needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .batching import Input
    from .constants import DEFAULT_GZIP_LEVEL
    from .core import DEFAULT_MAX_BATCH_BYTES, InfluxDBWriteClient, WriteResult
    from .errors import (
        AuthError,
        CertificateError,
        ConnectError,
        InfluxDBWriteError,
        InputError,
        NotFoundError,
        PartialWriteError,
        ProxyError,
        RedirectError,
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
    "CertificateError",
    "ConnectError",
    "InfluxDBWriteClient",
    "InfluxDBWriteError",
    "Input",
    "InputError",
    "NotFoundError",
    "PartialWriteError",
    "ProxyError",
    "RedirectError",
    "RejectedLine",
    "RejectedPointsError",
    "RequestTooLargeError",
    "RetriesExhaustedError",
    "RetryPolicy",
    "WriteHTTPError",
    "WriteResult",
    "parse_retry_after",
]
_MODULES = ("constants", "errors", "retry", "core", "batching")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            home = importlib.import_module(f".{module}", __name__)
            if hasattr(home, name):
                globals()[name] = value = getattr(home, name)
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
