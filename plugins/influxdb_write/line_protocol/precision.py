"""Timestamp precision: units, range and exact datetime conversion.

Timestamps are integers in the write's precision. Datetimes are converted with
integer arithmetic only, so no float rounding ever moves a point in time.
"""

from __future__ import annotations

import datetime as _dt
import re

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


# RFC 3339 and the common ISO 8601 forms, in one grammar of our own: Python's
# datetime.fromisoformat accepts different strings on 3.10 and 3.11+, and keeps
# only microseconds. Extended (2024-05-01T12:00:00) or basic (20240501T120000)
# notation, "T", "t" or a space between date and time, any number of fraction
# digits after "." or ",", and an offset "Z", "+hh:mm", "+hhmm" or "+hh".
_TIME_STRING = re.compile(
    r"(?P<year>\d{4})(?P<dash>-?)(?P<month>\d{2})(?P=dash)(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2})(?P<colon>:?)(?P<minute>\d{2})"
    r"(?:(?P=colon)(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
TIME_STRING_FORMS = "2024-05-01T12:00:00Z, 2024-05-01T12:00:00.123456789+01:00 or 20240501T120000Z"


def time_string_to_timestamp(value: str, precision: str, naive_tz: _dt.tzinfo | None = None) -> int:
    """Convert an ISO 8601 / RFC 3339 time string to an integer timestamp in
    ``precision`` units, exactly, with the same result on every Python version.

    Fraction digits beyond nanoseconds, and parts smaller than ``precision``, are
    floored as for datetimes. A string without an offset is in ``naive_tz``;
    without one it is refused, like a naive datetime.
    """
    unit = check_precision(precision)
    match = _TIME_STRING.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"time string {value!r} is not ISO 8601; write it like {TIME_STRING_FORMS}")
    part = match.groupdict()
    fraction = (part["fraction"] or "")[:9].ljust(9, "0")
    offset = part["offset"]
    if offset is None and naive_tz is None:
        raise ValueError(
            f"time string {value!r} has no UTC offset; end it with Z or +hh:mm, "
            "or pass naive_tz= to say which timezone such times are in"
        )
    if offset is None:
        tz = naive_tz
    elif offset in ("Z", "z"):
        tz = _dt.timezone.utc
    else:
        hours, minutes = int(offset[1:3]), int(offset[-2:]) if len(offset) > 3 else 0
        if hours > 23 or minutes > 59:
            raise ValueError(f"time string {value!r} has an offset out of range")
        sign = -1 if offset[0] == "-" else 1
        tz = _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))
    try:
        when = _dt.datetime(
            int(part["year"]),
            int(part["month"]),
            int(part["day"]),
            int(part["hour"] or 0),
            int(part["minute"] or 0),
            int(part["second"] or 0),
            int(fraction[:6]),
            tzinfo=tz,
        )
    except ValueError as exc:
        raise ValueError(f"time string {value!r} is not a valid time: {exc}") from None
    nanoseconds = datetime_to_timestamp(when, "us") * 1_000 + int(fraction[6:])
    return nanoseconds // unit
