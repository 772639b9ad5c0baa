"""Timestamp precision: units, range and exact datetime conversion.

Timestamps are integers in the write's precision. Datetimes are converted with
integer arithmetic only, so no float rounding ever moves a point in time.
"""

from __future__ import annotations

import datetime as _dt

PRECISIONS = ("ns", "us", "ms", "s")

NANOSECONDS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_MICROSECONDS = {"ns": None, "us": 1, "ms": 1_000, "s": 1_000_000}

# InfluxDB stores nanoseconds in an int64 but reserves both extremes
# (models.MinNanoTime = MinInt64 + 2, models.MaxNanoTime = MaxInt64 - 1).
MIN_NANOSECONDS = -(2**63) + 2
MAX_NANOSECONDS = 2**63 - 2

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def check_precision(precision: str) -> int:
    """Return the nanoseconds in one unit of ``precision``; ``ValueError`` if unknown."""
    try:
        return NANOSECONDS[precision]
    except (KeyError, TypeError):
        raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}") from None


def time_range(precision: str) -> tuple[int, int]:
    """The smallest and largest timestamp, in ``precision`` units, that InfluxDB stores."""
    unit = check_precision(precision)
    return -(-MIN_NANOSECONDS // unit), MAX_NANOSECONDS // unit


def datetime_to_timestamp(value: _dt.datetime, precision: str, naive_tz: _dt.tzinfo | None = None) -> int:
    """Convert ``value`` to an integer timestamp in ``precision`` units, exactly.

    Sub-unit parts are floored (``12:00:00.999`` at ``s`` is ``12:00:00``), the same
    for times before 1970. Objects with a ``nanosecond`` attribute (pandas
    ``Timestamp``) keep their nanoseconds. A naive datetime is taken to be in
    ``naive_tz``; without one it is refused, because guessing UTC or local time
    silently shifts data by hours.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        if naive_tz is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} has no timezone; give it a tzinfo "
                "or pass naive_tz= to say which timezone naive datetimes are in"
            )
        value = value.replace(tzinfo=naive_tz)
    delta = value - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    per_unit = _MICROSECONDS[precision]
    if per_unit is None:
        return micros * 1_000 + int(getattr(value, "nanosecond", 0))
    return micros // per_unit


def parse_time_string(value: str) -> _dt.datetime:
    """Parse an ISO 8601 timestamp such as ``2024-05-01T12:00:00Z``."""
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"time string {value!r} is not ISO 8601 (for example 2024-05-01T12:00:00Z)"
        ) from None
