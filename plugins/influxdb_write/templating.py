"""Jinja filters that write line protocol parts exactly.

A template that pastes a value into line protocol must escape it the way
InfluxDB reads it back, and must refuse what cannot be written. These filters
do both with the codec; ``InfluxDBWriteOperator`` adds them to the Jinja
environment of every template it renders (``user_defined_filters`` of the same
name win). A value that cannot be written raises ``ValueError`` naming it, so
the task fails while rendering, before anything is sent::

    {{ params.measurement | lp_measurement }},site={{ params.site | lp_tag }} \\
    {{ "temp" | lp_key }}={{ params.temp | lp_field }} {{ params.time | lp_time(task.precision) }}

- ``lp_measurement``: a measurement name.
- ``lp_key``: a tag key or field key.
- ``lp_tag``: a tag value (an empty one is an error: leave the tag out instead).
- ``lp_field``: a field value, typed as a record's would be (``True`` ->
  ``true``, ``3`` -> ``3i``, ``2.5`` -> ``2.5``, text quoted and escaped);
  ``lp_field(ints_as_floats=True)`` writes ``3`` as ``3.0``, for values typed
  into forms, where InfluxDB would otherwise fix the field's type as integer.
- ``lp_time(precision)``: an aware datetime, ISO 8601 string or int as an
  integer timestamp in ``precision``; pass the operator's (``task.precision``).
- ``lp_line(precision)``: a whole record dict as one line.
"""

from __future__ import annotations

from typing import Any

from .line_protocol import encode_field_value, encode_record, encode_time
from .line_protocol.escaping import escape_key, escape_measurement


def lp_measurement(value: Any) -> str:
    return escape_measurement(_text(value, "measurement"))


def lp_key(value: Any) -> str:
    return escape_key(_text(value, "key"))


def lp_tag(value: Any) -> str:
    return escape_key(_text(value, "tag value"), "tag value")


def _text(value: Any, what: str) -> str:
    # Names are text; numbers read as their digits. Anything else (None, True, a
    # list) would be written as its Python repr, which is never what was meant.
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{what} {value!r} is not text; give text, or leave it out")


def lp_field(value: Any, ints_as_floats: bool = False) -> str:
    if ints_as_floats and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return encode_field_value(value)


def lp_time(value: Any, precision: str | None) -> str:
    return str(encode_time(value, _given(precision, "lp_time")))


def lp_line(record: Any, precision: str | None) -> str:
    return encode_record(record, precision=_given(precision, "lp_line"))


def _given(precision: str | None, name: str) -> str:
    # Guessing a unit here is how seconds end up read as nanoseconds, in 1970.
    if precision is None:
        raise ValueError(f"{name} needs a precision: set precision= on the operator and pass task.precision")
    return precision


FILTERS = {
    "lp_measurement": lp_measurement,
    "lp_key": lp_key,
    "lp_tag": lp_tag,
    "lp_field": lp_field,
    "lp_time": lp_time,
    "lp_line": lp_line,
}
