"""Exact line protocol codec and validator. Standard library only.

- :func:`encode_record` / :func:`encode_records`: record dicts to lines.
- :func:`validate`: check raw line protocol, every bad line reported.
- :func:`parse_lines`: read line protocol back into typed values.
- :class:`Decoder`: the streaming decoder behind both, for inputs read as a stream
  and for several inputs checked as one write.
- :func:`iter_entries`: whole entries of any input, framed without validation.
"""

from .decoder import Decoder, Entry, Line, iter_entries, parse_lines, validate, with_default_time
from .encoder import Unsigned, encode_field_value, encode_record, encode_records, encode_time
from .errors import EntryTooLargeError, InvalidLineError, LineError, LineProtocolError, RecordError
from .limits import DEFAULT_MAX_ENTRY_BYTES, MAX_TRACKED_FIELDS
from .precision import PRECISIONS, datetime_to_timestamp

__all__ = [
    "DEFAULT_MAX_ENTRY_BYTES",
    "MAX_TRACKED_FIELDS",
    "PRECISIONS",
    "Decoder",
    "Entry",
    "EntryTooLargeError",
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
    "validate",
    "with_default_time",
]
