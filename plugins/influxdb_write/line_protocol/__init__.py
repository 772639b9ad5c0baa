"""Exact line protocol codec and validator. Standard library only.

- :func:`encode_record` / :func:`encode_records`: record dicts to lines.
- :func:`validate`: check raw line protocol, every bad line reported.
- :func:`parse_lines`: read line protocol back into typed values.
- :func:`iter_entries` / :func:`stream_lines`: whole entries of lines, and lines of a file.
"""

from .decoder import Line, iter_entries, parse_lines, validate, with_default_time
from .encoder import Unsigned, encode_field_value, encode_record, encode_records, encode_time
from .errors import InvalidLineError, LineError, LineProtocolError, RecordError
from .precision import PRECISIONS, datetime_to_timestamp
from .streams import stream_lines

__all__ = [
    "PRECISIONS",
    "InvalidLineError",
    "Line",
    "LineError",
    "LineProtocolError",
    "RecordError",
    "Unsigned",
    "datetime_to_timestamp",
    "encode_field_value",
    "encode_record",
    "encode_records",
    "encode_time",
    "iter_entries",
    "parse_lines",
    "stream_lines",
    "validate",
    "with_default_time",
]
