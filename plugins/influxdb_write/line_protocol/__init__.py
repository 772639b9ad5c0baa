"""Exact line protocol codec and validator. Standard library only.

- :func:`encode_record` / :func:`encode_records`: record dicts to lines.
- :func:`encode_frame`: pandas, polars and pyarrow frames to lines, vectorized.
- :func:`validate`: check raw line protocol, every bad line reported.
- :func:`parse_lines`: read line protocol back into typed values.
- :class:`Decoder`: the streaming decoder behind both, for inputs read as a stream
  and for several inputs checked as one write.
- :func:`iter_entries`: whole entries of any input, framed without validation.

The names below are loaded on first use (PEP 562): Airflow imports the
provider's settings, which need :data:`PRECISIONS`, in every process, so
importing this package must not load the whole codec.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .declared_types import FIELD_TYPES
    from .decoder import Decoder, Entry, Line, iter_entries, parse_lines, validate, with_default_time
    from .encoder import encode_field_value, encode_record, encode_records, encode_time
    from .errors import (
        EntryTooLargeError,
        FrameError,
        InvalidLineError,
        LineError,
        LineProtocolError,
        RecordError,
        RowError,
    )
    from .frames import FrameLines, FrameMapping, encode_frame, is_frame
    from .limits import DEFAULT_MAX_ENTRY_BYTES, MAX_TRACKED_FIELDS
    from .precision import PRECISIONS, datetime_to_timestamp
    from .values import Unsigned

__all__ = [
    "DEFAULT_MAX_ENTRY_BYTES",
    "FIELD_TYPES",
    "MAX_TRACKED_FIELDS",
    "PRECISIONS",
    "Decoder",
    "Entry",
    "EntryTooLargeError",
    "FrameError",
    "FrameLines",
    "FrameMapping",
    "InvalidLineError",
    "Line",
    "LineError",
    "LineProtocolError",
    "RecordError",
    "RowError",
    "Unsigned",
    "datetime_to_timestamp",
    "encode_field_value",
    "encode_frame",
    "encode_record",
    "encode_records",
    "encode_time",
    "is_frame",
    "iter_entries",
    "parse_lines",
    "validate",
    "with_default_time",
]
# Probed in this order for a name; the cheap modules first.
_MODULES = ("values", "limits", "precision", "errors", "declared_types", "encoder", "decoder", "frames")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            home = importlib.import_module(f".{module}", __name__)
            if hasattr(home, name):
                globals()[name] = value = getattr(home, name)
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
