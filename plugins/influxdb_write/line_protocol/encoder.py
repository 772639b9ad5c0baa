"""Encoding of record dicts into line protocol.

A record is the dict shape InfluxDB's Python clients accept::

    {"measurement": "cpu", "tags": {"host": "a"}, "fields": {"usage": 0.5}, "time": 1700000000}

Every value is checked; anything that cannot be written so that the server reads
back exactly what the record says is a :class:`RecordError` naming the record's
index and the part at fault. Nothing is dropped silently, except what the record
itself marks as absent: a ``None`` field value and a ``None`` or empty tag value.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from .declared_types import DeclaredTypeError, check_field_types, declare, exact_float, numpy_float
from .errors import RecordError
from .escaping import STRING_TABLE, escape_key, escape_measurement, quote_string, shown
from .field_types import kind_of_type
from .precision import check_precision, datetime_to_timestamp, time_range, time_string_to_timestamp
from .values import INT64_MAX, INT64_MIN, Unsigned

RESERVED_TAG_KEYS = frozenset({"_measurement", "_field", "time"})
RECORD_KEYS = frozenset({"measurement", "tags", "fields", "time"})
_NOT_FINITE = "{} cannot be written: line protocol has no NaN or Inf"


class _Cache:
    """Escaped names by raw name: tags and keys repeat across records, so most
    records skip validation and escaping entirely. Cleared when it grows large,
    so high-cardinality tag values cannot grow memory without bound."""

    __slots__ = ("escape", "items", "limit", "what")

    def __init__(self, escape: Any, what: str, limit: int = 100_000) -> None:
        self.escape = escape
        self.what = what
        self.items: dict[str, str] = {}
        self.limit = limit

    def miss(self, name: Any) -> str:
        if type(name) is not str:
            # Only exact strs are cached: True == 1 as a dict key would alias "1".
            if isinstance(name, str):
                return str(self.escape(name[:], self.what))  # str subclass: its plain text
            if isinstance(name, int) and not isinstance(name, bool):
                return str(self.escape(str(int(name)), self.what))
            raise ValueError(f"{self.what} must be a str, got {type(name).__name__}")
        escaped: str = self.escape(name, self.what)
        if len(self.items) >= self.limit:
            self.items.clear()
        self.items[name] = escaped
        return escaped


def _escape_tag_key(key: str, what: str) -> str:
    if key in RESERVED_TAG_KEYS:
        raise ValueError(f"{key!r} is reserved by InfluxDB; rename the tag")
    return escape_key(key, what)


_measurements = _Cache(lambda name, what: escape_measurement(name), "measurement")
_tag_keys = _Cache(_escape_tag_key, "tag key")
_tag_values = _Cache(escape_key, "tag value")


def _escape_field_key(key: str, what: str) -> str:
    """The field's ``key=`` prefix."""
    if key == "time":
        raise ValueError("'time' is reserved by InfluxDB; put the timestamp in the record's time")
    return escape_key(key, what) + "="


_field_keys = _Cache(_escape_field_key, "field key")


def _other_value(value: Any) -> str:
    """Field values beyond the exact built-in types: subclasses, Decimal, numpy scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Unsigned):
        return f"{int(value)}u"
    if isinstance(value, int):
        return _int_value(int(value))
    if isinstance(value, float):
        return _float_value(float(value))
    if isinstance(value, str):
        return quote_string(value[:])
    if isinstance(value, decimal.Decimal):
        return _float_value(exact_float(value))  # refused unless the float's text is its number
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind == "b":
        return "true" if value else "false"
    if kind in ("i", "u"):
        return _int_value(int(value))
    if kind == "f":
        return _float_value(numpy_float(value))
    raise ValueError(
        f"value of type {type(value).__name__} is not supported; use bool, int, "
        "Unsigned, float, Decimal, str or a numpy scalar"
    )


def _int_value(value: int) -> str:
    if INT64_MIN <= value <= INT64_MAX:
        return f"{value}i"
    raise ValueError(
        f"integer {value} is outside the signed 64-bit range; "
        "wrap it in Unsigned() if it is unsigned, or convert it to float"
    )


def _float_value(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    raise ValueError(_NOT_FINITE.format(value))


def _time_value(value: Any, precision: str, low: int, high: int, naive_tz: Any) -> int:
    if type(value) is not int:
        if isinstance(value, bool):
            raise ValueError("time must be an int, datetime or ISO 8601 string, not bool")
        if isinstance(value, str):
            value = time_string_to_timestamp(value, precision, naive_tz)
        elif isinstance(value, _dt.datetime):
            value = datetime_to_timestamp(value, precision, naive_tz)
        elif isinstance(value, int) or getattr(getattr(value, "dtype", None), "kind", None) in ("i", "u"):
            value = int(value)
        else:
            raise ValueError(
                f"time of type {type(value).__name__} is not supported; use an int in "
                f"{precision}, a timezone-aware datetime or an ISO 8601 string"
            )
    if low <= value <= high:
        return int(value)
    raise ValueError(
        f"time {value} ({precision}) is outside the range InfluxDB stores "
        f"({low}..{high}); is the precision right?"
    )


class _Bad(ValueError):
    """A problem with one named part of a record."""

    def __init__(self, part: str, problem: str) -> None:
        super().__init__(problem)
        self.part = part


def _name_text(key: Any) -> str:
    """The text a tag or field key is written as (an int key as its digits)."""
    if isinstance(key, str):
        return key[:]
    if isinstance(key, int):
        return str(int(key))
    return str(key)


def _written_once(keys: list[Any], what: str) -> None:
    """Refuse two keys of one record that are written as the same text (1 and "1"):
    the server would keep only one of them."""
    seen: dict[str, Any] = {}
    for key in keys:
        text = _name_text(key)
        if text in seen:
            raise _Bad(
                f"{what} {shown(text)}", f"{what} key {seen[text]!r} and {key!r} are both written as {text}"
            )
        seen[text] = key


def _build_series(name: Any, tags: Any) -> str:
    """The escaped ``measurement,tag=value,...`` of a record, tags sorted by key."""
    head = _measurements.items.get(name)
    if head is None:
        if name is None:
            raise _Bad("measurement", "missing; every record needs a measurement")
        try:
            head = _measurements.miss(name)
        except ValueError as exc:
            raise _Bad("measurement", str(exc)) from None
    if not tags:
        return head
    parts = [head]
    try:
        keys = sorted(tags)
    except TypeError:  # keys of several types, such as 1 and "2"
        keys = sorted(tags, key=_name_text)
    if not all(type(key) is str for key in keys):
        _written_once([key for key in keys if tags[key] is not None and tags[key] != ""], "tag")
    for key in keys:
        value = tags[key]
        if value is None or value == "":
            continue
        try:
            escaped_key = _tag_keys.items.get(key) or _tag_keys.miss(key)
            escaped = _tag_values.items.get(value) or _tag_values.miss(value)
        except ValueError as exc:
            raise _Bad(f"tag {shown(key)}", str(exc)) from None
        parts.append(f"{escaped_key}={escaped}")
    return ",".join(parts)


# Whole series (measurement and tag set) by (measurement, *tag items): most
# records repeat a series, so they skip sorting and per-tag work. Only series
# whose names and values are all exact strs are stored, so no key can alias
# one with other types (True == 1).
_series: dict[tuple[Any, ...], str] = {}
_SERIES_LIMIT = 100_000


def _new_series(key: tuple[Any, ...], name: Any, tags: Any) -> str:
    head = _build_series(name, tags)
    if type(name) is str and (not tags or all(type(k) is str and type(v) is str for k, v in tags.items())):
        if len(_series) >= _SERIES_LIMIT:
            _series.clear()
        _series[key] = head
    return head


# Field sets by their keys, in order. Most records repeat one, so each gets a
# function compiled for it on first sight. The function checks every value's
# exact type and range, and formats all of them in one f-string. It returns None
# for anything else (another type, None, NaN, an integer beyond int64, a long
# string), and the general loop of _encode_all encodes that record, errors
# included. Field sets of other keys than up to 200 exact strs stay with the
# general loop; past 1,000 field sets, new ones are not compiled.
FieldsEncoder = Callable[[Any], "str | None"]
_fieldsets: dict[tuple[Any, ...], FieldsEncoder] = {}
_FIELDSETS_LIMIT = 1_000
_MAX_COMPILED_FIELDS = 200
_CHECKS = {
    float: "type({v}) is float and {v} - {v} == 0.0",
    int: "type({v}) is int and -9223372036854775808 <= {v} <= 9223372036854775807",
    str: "type({v}) is str and len({v}) <= 16384",
    bool: "type({v}) is bool",
}
_FORMATS = {float: "{{{v}!r}}", int: "{{{v}}}i", str: '"{{{v}}}"', bool: "{{_BOOL[{v}]}}"}
# Quotes and backslashes need escaping; f-string expressions cannot hold a backslash before 3.12.
_ESCAPE = "    if _QUOTE in {v} or _BACKSLASH in {v}:\n        {v} = {v}.translate(_TABLE)\n"


def _general(fields: Any) -> None:
    return None


def _new_fieldset(fields: dict[Any, Any]) -> FieldsEncoder:
    if len(_fieldsets) >= _FIELDSETS_LIMIT:
        return _general
    kinds = [type(value) for value in fields.values()]
    if not all(kind in _CHECKS for kind in kinds):
        return _general  # a None or another type: the next record of these keys may compile
    encoder: FieldsEncoder = _general
    if len(kinds) <= _MAX_COMPILED_FIELDS and all(type(key) is str for key in fields):
        try:
            encoder = _compile_fieldset(list(fields), kinds)
        except ValueError:  # a key that cannot be written: the general loop says why
            pass
    _fieldsets[tuple(fields)] = encoder
    return encoder


def _compile_fieldset(keys: list[str], kinds: list[type]) -> FieldsEncoder:
    scope: dict[str, Any] = {
        "_BOOL": ("false", "true"),
        "_TABLE": STRING_TABLE,
        "_QUOTE": '"',
        "_BACKSLASH": "\\",
    }
    checks, escapes, formats = [], [], []
    for i, (key, kind) in enumerate(zip(keys, kinds, strict=True)):
        v = f"v{i}"
        scope[f"_K{i}"] = ("," if i else "") + (_field_keys.items.get(key) or _field_keys.miss(key))
        checks.append(_CHECKS[kind].format(v=v))
        formats.append(f"{{_K{i}}}" + _FORMATS[kind].format(v=v))
        if kind is str:
            escapes.append(_ESCAPE.format(v=v))
    source = (
        "def encode(fields):\n"
        f"    {''.join(f'v{i}, ' for i in range(len(keys)))}= fields.values()\n"
        f"    if not ({' and '.join(checks)}):\n"
        "        return None\n" + "".join(escapes) + f"    return f{''.join(formats)!r}\n"
    )
    exec(source, scope)
    encoder: FieldsEncoder = scope["encode"]
    _compiled_kinds[encoder] = [(key, kind_of_type(kind)) for key, kind in zip(keys, kinds, strict=True)]
    return encoder


# The field keys and types of each compiled field set, for :class:`Written`.
_compiled_kinds: dict[FieldsEncoder, list[tuple[str, str]]] = {}


class Written:
    """What an encoder wrote, for checks that need not read its lines again: the
    series key as written and the time of every line, and which measurements and
    compiled field sets (of known field types) the lines have. Pass it to
    :func:`encode_records`; :meth:`take` gives what the lines since the last take
    hold."""

    __slots__ = ("first", "general", "series", "times")

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.first: dict[tuple[str, bool, FieldsEncoder], int] = {}
        self.general = False  # a line whose field types are not known without reading it
        self.series: list[str] = []
        self.times: list[int | None] = []

    def add(self, name: Any, tags: Any, fieldset: FieldsEncoder | None, head: str, time: int | None) -> None:
        if fieldset is None or type(name) is not str:
            self.general = True
        else:
            shape = (name, bool(tags), fieldset)
            if shape not in self.first:
                self.first[shape] = len(self.series)
        self.series.append(head)
        self.times.append(time)

    def take(self, first_number: int) -> WrittenLines:
        """What the lines since the last take hold, numbered from ``first_number``."""
        fields = None
        if not self.general:
            fields = [
                (name, key, kind, first_number + position)
                for (name, _, fieldset), position in self.first.items()
                for key, kind in _compiled_kinds[fieldset]
            ]
        times = ["" if time is None else str(time) for time in self.times]
        taken = WrittenLines(fields, any(tagged for _, tagged, _ in self.first), self.series, times)
        self._clear()
        return taken


class WrittenLines(NamedTuple):
    """The lines an encoder wrote since a take: ``fields`` as
    :meth:`.Decoder.check_columns` takes them (None: some field types are not
    known), whether some line may have tags, and each line's series key as
    written and time as text ("" for none), as :meth:`.PointIndex.add_keys` takes
    them."""

    fields: list[tuple[str, str, str, int]] | None
    tagged: bool
    series: list[str]
    times: list[str]


def _encode_all(
    records: Iterable[Mapping[str, Any]],
    precision: str,
    naive_tz: _dt.tzinfo | None,
    declared: Mapping[str, str] | None = None,
    default_time: int | None = None,
    written: Written | None = None,
) -> Iterator[str]:
    # One loop with everything inline: this is the hot path of every write.
    low, high = time_range(precision)
    series_get = _series.get
    field_key_get = _field_keys.items.get
    fieldsets_get = _fieldsets.get
    for index, record in enumerate(records):
        key: Any = None
        part = "record"
        try:
            if type(record) is not dict and not isinstance(record, Mapping):
                raise ValueError(f"expected a dict, got {type(record).__name__}")
            if len(record) > 4 or not _RECORD_KEYS_ISSUPERSET(record):
                unknown = sorted(map(str, set(record) - RECORD_KEYS))
                raise ValueError(
                    f"unknown key(s) {', '.join(unknown)}; a record has measurement, tags, fields and time"
                )
            get = record.get
            name = get("measurement")
            tags = get("tags")
            try:
                series = (name, *tags.items()) if tags else (name,)
                head = series_get(series) or _new_series(series, name, tags)
            except TypeError:  # unhashable names or values: not cacheable
                head = _build_series(name, tags)
            part = "fields"
            fields = get("fields")
            if not fields:
                raise ValueError("no fields; a point needs at least one field")
            if declared:
                try:
                    fields = declare(fields, declared)
                except DeclaredTypeError as exc:
                    key = exc.key
                    raise ValueError(str(exc)) from None
            text = fieldset = None
            if type(fields) is dict:
                fieldset = fieldsets_get(tuple(fields)) or _new_fieldset(fields)
                text = fieldset(fields)
            if text is None:
                fieldset = None
                body: list[str] = []
                append = body.append
                other_keys = False
                for key, value in fields.items():
                    if value is None:
                        continue
                    prefix = field_key_get(key) or _field_keys.miss(key)
                    if type(key) is not str:
                        other_keys = True
                    kind = type(value)
                    if kind is float:
                        if value - value != 0.0:
                            raise ValueError(_NOT_FINITE.format(value))
                        append(f"{prefix}{value!r}")
                    elif kind is int:
                        if -9223372036854775808 <= value <= 9223372036854775807:
                            append(f"{prefix}{value}i")
                        else:
                            append(prefix + _int_value(value))
                    elif kind is str:
                        if len(value) > 16_384 or '"' in value or "\\" in value:
                            append(prefix + quote_string(value))
                        else:
                            append(f'{prefix}"{value}"')
                    elif kind is bool:
                        append(prefix + ("true" if value else "false"))
                    else:
                        append(prefix + _other_value(value))
                key = None
                if not body:
                    raise ValueError("every field value is None; a point needs at least one field")
                if other_keys:
                    _written_once([k for k, v in fields.items() if v is not None], "field")
                text = ",".join(body)
            timestamp = get("time")
            if timestamp is None:
                timestamp = default_time
            else:
                part = "time"
                if type(timestamp) is not int or not low <= timestamp <= high:
                    timestamp = _time_value(timestamp, precision, low, high, naive_tz)
            if written is not None:
                written.add(name, tags, fieldset, head, timestamp)
            yield f"{head} {text}" if timestamp is None else f"{head} {text} {timestamp}"
        except _Bad as exc:
            raise RecordError(index, exc.part, str(exc)) from None
        except ValueError as exc:
            where = part if key is None else f"field {shown(key)}"
            raise RecordError(index, where, str(exc)) from None
        except (TypeError, AttributeError) as exc:
            where = part if key is None else f"field {shown(key)}"
            raise RecordError(index, where, f"malformed record: {exc}") from exc


_RECORD_KEYS_ISSUPERSET = RECORD_KEYS.issuperset


def encode_record(
    record: Mapping[str, Any],
    *,
    precision: str = "ns",
    naive_tz: _dt.tzinfo | None = None,
    field_types: Mapping[str, str] | None = None,
) -> str:
    """Encode one record into one line of line protocol (no trailing newline).

    ``precision`` (``ns``, ``us``, ``ms`` or ``s``) is the unit of an int ``time``
    and the unit datetimes are converted to; it must match the write's precision.
    ``naive_tz`` says which timezone naive datetimes are in; without it they are
    an error. ``field_types`` declares the type of fields by key (see
    :mod:`~influxdb_write.line_protocol.declared_types`). Raises
    :class:`RecordError` for anything that cannot be written.
    """
    check_precision(precision)
    return next(_encode_all((record,), precision, naive_tz, check_field_types(field_types)))


def encode_field_value(value: Any) -> str:
    """One field value as line protocol (``true``, ``3i``, ``3u``, ``2.5``, ``"text"``).

    Types are read as :func:`encode_record` reads them; ``ValueError`` for NaN,
    Inf, integers outside int64 and unsupported types.
    """
    return _other_value(value)


def encode_time(value: Any, precision: str) -> int:
    """A time (int already in ``precision``, aware datetime or ISO 8601 string)
    as an integer timestamp in ``precision``; ``ValueError`` if it cannot be."""
    check_precision(precision)
    return _time_value(value, precision, *time_range(precision), None)


def encode_records(
    records: Iterable[Mapping[str, Any]],
    *,
    precision: str = "ns",
    naive_tz: _dt.tzinfo | None = None,
    field_types: Mapping[str, str] | None = None,
    default_time: int | None = None,
    written: Written | None = None,
) -> Iterator[str]:
    """Encode records lazily, one line each, in order.

    The precision and ``field_types`` are checked at once; each record is checked
    as it is reached, and the :class:`RecordError` names its index in ``records``.
    A record without a time gets ``default_time`` (an integer in ``precision``),
    or none; stamping here, where the record's time is known, spares the caller
    from parsing the line again to find out. ``written`` is told the parts of
    every line as it is written (see :class:`Written`).
    """
    check_precision(precision)
    if default_time is not None:
        low, high = time_range(precision)
        if type(default_time) is not int or not low <= default_time <= high:
            raise ValueError(f"default_time {default_time!r} is not a timestamp in {precision}")
    return _encode_all(records, precision, naive_tz, check_field_types(field_types), default_time, written)
