"""Table tests of every encoding rule, one row per rule."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from influxdb_write.line_protocol import (
    RecordError,
    Unsigned,
    encode_record,
    encode_records,
    encode_time,
    parse_lines,
)

UTC = dt.timezone.utc


def rec(fields: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"measurement": "m", "fields": {"v": 1} if fields is None else fields, **extra}


class Color(str, enum.Enum):
    RED = "red"


ENCODED = [
    # escaping
    ("measurement comma and space", {"measurement": "a,b c", "fields": {"v": 1}}, r"a\,b\ c v=1i"),
    ("measurement with inner #", {"measurement": " #m", "fields": {"v": 1}}, r"\ #m v=1i"),
    ("measurement keeps =", {"measurement": "a=b", "fields": {"v": 1}}, "a=b v=1i"),
    ("tag key and value escapes", rec(tags={"k ,=": "v ,="}), r"m,k\ \,\==v\ \,\= v=1i"),
    ("field key escapes", rec({"f ,=": 1}), r"m f\ \,\==1i"),
    ("backslash before space in tag", rec(tags={"regions": "\\ east"}), r"m,regions=\\ east v=1i"),
    ("backslash kept literal", rec(tags={"p": "C:\\dir"}), r"m,p=C:\dir v=1i"),
    ("string quote and backslash", rec({"s": 'a"b\\c'}), r'm s="a\"b\\c"'),
    ("string raw newline kept", rec({"s": "a\nb"}), 'm s="a\nb"'),
    # types
    ("bool before int", rec({"t": True, "f": False}), "m t=true,f=false"),
    ("int", rec({"v": -42}), "m v=-42i"),
    ("int64 max", rec({"v": 2**63 - 1}), "m v=9223372036854775807i"),
    ("int64 min", rec({"v": -(2**63)}), "m v=-9223372036854775808i"),
    ("unsigned", rec({"v": Unsigned(2**64 - 1)}), "m v=18446744073709551615u"),
    ("float shortest round trip", rec({"v": 0.1}), "m v=0.1"),
    ("float integral", rec({"v": 3.0}), "m v=3.0"),
    ("float exponent", rec({"v": 1e-7}), "m v=1e-07"),
    ("decimal", rec({"v": decimal.Decimal("2.50")}), "m v=2.5"),
    ("numpy float", rec({"v": np.float32(0.5)}), "m v=0.5"),
    ("numpy int", rec({"v": np.int64(7)}), "m v=7i"),
    ("numpy bool", rec({"v": np.bool_(True)}), "m v=true"),
    ("str enum", rec({"v": Color.RED}), 'm v="red"'),
    ("None field omitted", rec({"v": 1, "n": None}), "m v=1i"),
    # tags
    ("tags sorted", rec(tags={"b": "2", "a": "1"}), "m,a=1,b=2 v=1i"),
    ("empty and None tags omitted", rec(tags={"a": "", "b": None, "c": "x"}), "m,c=x v=1i"),
    ("int tag value as text", rec(tags={"id": 42}), "m,id=42 v=1i"),
    # time
    ("int time as given", rec(time=1_700_000_000), "m v=1i 1700000000"),
    (
        "aware datetime exact",
        rec(time=dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        "m v=1i 1704067200123456000",
    ),
    ("iso string", rec(time="2024-01-01T00:00:00Z"), "m v=1i 1704067200000000000"),
    ("no time", rec(), "m v=1i"),
]


@pytest.mark.parametrize(("name", "record", "line"), ENCODED, ids=[row[0] for row in ENCODED])
def test_encodes(name: str, record: dict[str, Any], line: str) -> None:
    assert encode_record(record) == line


PRECISIONS = [
    ("s floors", "s", dt.datetime(2024, 1, 1, 0, 0, 1, 999999, tzinfo=UTC), 1704067201),
    ("ms", "ms", dt.datetime(2024, 1, 1, 0, 0, 1, 2000, tzinfo=UTC), 1704067201002),
    ("us", "us", dt.datetime(2024, 1, 1, 0, 0, 1, 3, tzinfo=UTC), 1704067201000003),
    ("before 1970 floors", "s", dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), -1),
    ("other zone", "s", dt.datetime(2024, 1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")), 1704067200),
    ("far future exact", "ns", dt.datetime(2250, 1, 1, 0, 0, 0, 1, tzinfo=UTC), 8835955200000001000),
]


@pytest.mark.parametrize(
    ("name", "precision", "when", "stamp"), PRECISIONS, ids=[row[0] for row in PRECISIONS]
)
def test_datetime_precision(name: str, precision: str, when: dt.datetime, stamp: int) -> None:
    assert encode_record(rec(time=when), precision=precision) == f"m v=1i {stamp}"


def test_naive_datetime_needs_a_timezone() -> None:
    naive = dt.datetime(2024, 1, 1, 12)
    with pytest.raises(RecordError, match="naive datetime"):
        encode_record(rec(time=naive))
    line = encode_record(rec(time=naive), precision="s", naive_tz=ZoneInfo("America/New_York"))
    assert line == "m v=1i 1704128400"


# One grammar on every Python: 3.10's fromisoformat refuses the first three rows
# and keeps only microseconds; these rows run on 3.10 to 3.13 in `make test`.
TIME_STRINGS = [
    ("one fraction digit", "2024-05-01T12:00:00.1Z", "ns", 1714564800100000000),
    ("basic notation", "20240501T120000Z", "s", 1714564800),
    ("offset without colon", "2024-05-01T13:00:00+0100", "s", 1714564800),
    ("offset hours only", "2024-05-01T10:00:00-02", "s", 1714564800),
    ("nanoseconds kept", "2024-05-01T12:00:00.123456789Z", "ns", 1714564800123456789),
    ("beyond nanoseconds floored", "2024-05-01T12:00:00.1234567899Z", "ns", 1714564800123456789),
    ("comma fraction", "2024-05-01T12:00:00,5Z", "ms", 1714564800500),
    ("space separator", "2024-05-01 12:00:00+00:00", "s", 1714564800),
    ("lower-case t and z", "2024-05-01t12:00:00z", "s", 1714564800),
    ("minutes only", "2024-05-01T12:00Z", "s", 1714564800),
    ("sub-unit floored", "2024-05-01T12:00:00.999Z", "s", 1714564800),
    ("before 1970 floored", "1969-12-31T23:59:59.5Z", "s", -1),
    ("before 1970 nanoseconds", "1969-12-31T23:59:59.999999999Z", "ns", -1),
]


@pytest.mark.parametrize(
    ("name", "text", "precision", "stamp"), TIME_STRINGS, ids=[row[0] for row in TIME_STRINGS]
)
def test_time_strings(name: str, text: str, precision: str, stamp: int) -> None:
    assert encode_time(text, precision) == stamp
    assert encode_record(rec(time=text), precision=precision) == f"m v=1i {stamp}"


TIME_STRINGS_REFUSED = [
    ("no offset", "2024-05-01T12:00:00", "no UTC offset"),
    ("date only", "2024-05-01", "no UTC offset"),
    ("week date", "2024-W18-3T12:00:00Z", "not ISO 8601"),
    ("ordinal date", "2024-122T12:00:00Z", "not ISO 8601"),
    ("month 13", "2024-13-01T12:00:00Z", "not a valid time"),
    ("hour 24", "2024-05-01T24:00:00Z", "not a valid time"),
    ("leap second", "2024-06-30T23:59:60Z", "not a valid time"),
    ("offset out of range", "2024-05-01T12:00:00+24:00", "offset out of range"),
    ("words", "yesterday", "not ISO 8601"),
    ("trailing text", "2024-05-01T12:00:00Z tomorrow", "not ISO 8601"),
    ("non-ASCII digits", "２０２４-05-01T12:00:00Z", "not ISO 8601"),
]


@pytest.mark.parametrize(
    ("name", "text", "message"), TIME_STRINGS_REFUSED, ids=[row[0] for row in TIME_STRINGS_REFUSED]
)
def test_time_strings_refused(name: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_time(text, "s")


def test_time_string_without_offset_takes_naive_tz() -> None:
    line = encode_record(
        rec(time="2024-01-01T12:00:00"), precision="s", naive_tz=ZoneInfo("America/New_York")
    )
    assert line == "m v=1i 1704128400"


REFUSED = [
    ("nan", rec({"v": float("nan")}), "field 'v'", "NaN"),
    ("inf", rec({"v": float("-inf")}), "field 'v'", "NaN or Inf"),
    ("decimal nan", rec({"v": decimal.Decimal("NaN")}), "field 'v'", "NaN"),
    ("int too big", rec({"v": 2**63}), "field 'v'", "signed 64-bit"),
    ("int too small", rec({"v": -(2**63) - 1}), "field 'v'", "signed 64-bit"),
    ("no fields", rec({}), "fields", "at least one field"),
    ("all None", rec({"a": None}), "fields", "every field value is None"),
    ("no measurement", {"fields": {"v": 1}}, "measurement", "missing"),
    ("empty measurement", {"measurement": "", "fields": {"v": 1}}, "measurement", "empty"),
    ("measurement read as comment", {"measurement": "#m", "fields": {"v": 1}}, "measurement", "comment"),
    ("newline in measurement", {"measurement": "a\nb", "fields": {"v": 1}}, "measurement", "newline"),
    ("cr in tag value", rec(tags={"t": "a\rb"}), "tag 't'", "carriage return"),
    ("tab in field key", rec({"a\tb": 1}), "field 'a\\tb'", "control character"),
    ("trailing backslash tag value", rec(tags={"t": "a\\"}), "tag 't'", "backslash"),
    (
        "trailing backslash measurement",
        {"measurement": "m\\", "fields": {"v": 1}},
        "measurement",
        "backslash",
    ),
    ("trailing backslash field key", rec({"k\\": 1}), "field 'k\\\\'", "backslash"),
    ("reserved tag time", rec(tags={"time": "x"}), "tag 'time'", "reserved"),
    ("reserved tag _field", rec(tags={"_field": "x"}), "tag '_field'", "reserved"),
    ("reserved tag _measurement", rec(tags={"_measurement": "x"}), "tag '_measurement'", "reserved"),
    ("reserved field time", rec({"time": 1}), "field 'time'", "reserved"),
    (
        "long key",
        rec({"k" * 65_536: 1}),
        "field 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...kkkkkkkkkkk'",
        "65535 bytes",
    ),
    ("long string", rec({"s": "x" * 65_537}), "field 's'", "65536 bytes"),
    ("bool tag value", rec(tags={"t": True}), "tag 't'", "must be a str"),
    ("list field", rec({"v": [1]}), "field 'v'", "not supported"),
    ("float time", rec(time=1.5), "time", "not supported"),
    ("time out of range", rec(time=2**63), "time", "outside the range"),
    ("seconds out of range", rec(time=10**10), "time", "precision"),
    ("unknown key", {"measurement": "m", "field": {"v": 1}}, "record", "unknown key"),
    ("not a dict", ["m", 1], "record", "expected a dict"),
    ("bad iso string", rec(time="yesterday"), "time", "ISO 8601"),
]


@pytest.mark.parametrize(("name", "record", "part", "problem"), REFUSED, ids=[row[0] for row in REFUSED])
def test_refuses(name: str, record: Any, part: str, problem: str) -> None:
    precision = "s" if name == "seconds out of range" else "ns"
    with pytest.raises(RecordError) as caught:
        encode_record(record, precision=precision)
    assert caught.value.index == 0
    assert caught.value.part == part
    assert problem in caught.value.problem


def test_error_names_the_record_index() -> None:
    records = [rec(), rec(), rec({"v": float("nan")})]
    lines = encode_records(records)
    assert next(lines) == "m v=1i"
    assert next(lines) == "m v=1i"
    with pytest.raises(RecordError, match=r"record 2: field 'v'"):
        next(lines)


def test_bad_precision_fails_at_once() -> None:
    with pytest.raises(ValueError, match="precision 'n' is not one of ns, us, ms, s"):
        encode_records([], precision="n")


def test_unsigned_range() -> None:
    with pytest.raises(ValueError):
        Unsigned(-1)
    with pytest.raises(ValueError):
        Unsigned(2**64)


def test_cached_names_do_not_alias_other_types() -> None:
    # "1" cached as a tag value must not let True (== 1) through.
    assert encode_record(rec(tags={"t": "1"})) == "m,t=1 v=1i"
    assert encode_record(rec(tags={"t": 1})) == "m,t=1 v=1i"
    with pytest.raises(RecordError, match="must be a str"):
        encode_record(rec(tags={"t": True}))


def test_encoded_lines_read_back_exactly() -> None:
    record = {
        "measurement": "weird name,=",
        "tags": {"k=": "v\\ x", "a b": "c,d"},
        "fields": {"s": 'q"\\\n', "i": -7, "u": Unsigned(7), "f": 1.5e300, "b": False},
        "time": 5,
    }
    (line,) = parse_lines(encode_record(record))
    assert line.measurement == record["measurement"]
    assert line.tags == record["tags"]
    assert line.fields == record["fields"]
    assert line.time == 5


# Declared types and Decimals never change a value: each row is one a conversion
# used to round silently (or crash on); now it is refused, naming what to do.
LONG_DOUBLE_BITS = np.finfo(np.longdouble).nmant
CHANGED = [
    ("int past 2**53 as float", 2**53 + 1, "float", "9007199254740993 cannot be written as a float"),
    ("int64 max as float", 2**63 - 1, "float", "the nearest float is 9.223372036854776e+18"),
    ("negative past 2**53 as float", -(2**53) - 1, "float", "cannot be written as a float"),
    ("unsigned max as float", Unsigned(2**64 - 1), "float", "18446744073709551615 cannot be written"),
    ("numpy int as float", np.int64(2**62 + 1), "float", "4611686018427387905 cannot be written"),
    ("int beyond floats as float", 10**400, "float", "an integer of 401 digits cannot be written"),
    (
        "decimal digits beyond a float",
        decimal.Decimal("0.1000000000000000000001"),
        None,
        "nearest float is 0.1",
    ),
    ("decimal integer past 2**53", decimal.Decimal("9007199254740993"), None, "without changing it"),
    (
        "declared decimal digits",
        decimal.Decimal("1.00000000000000000001"),
        "float",
        "declared float, but Decimal",
    ),
    ("decimal beyond floats", decimal.Decimal("1e400"), "float", "beyond the float range"),
    ("long double digits", np.longdouble(1) / 3, None, "more digits than a double holds"),
    pytest.param(
        "long double as uint",
        np.longdouble(2**63) + 1,
        "uint",
        "more digits than a double holds",
        marks=pytest.mark.skipif(LONG_DOUBLE_BITS < 63, reason="longdouble is a double here"),
        id="long double as uint",
    ),
]


@pytest.mark.parametrize(
    ("name", "value", "declared", "problem"),
    CHANGED,
    ids=[row[0] if isinstance(row, tuple) else None for row in CHANGED],
)
def test_a_value_a_conversion_would_change_is_refused(
    name: str, value: Any, declared: str | None, problem: str
) -> None:
    records = [rec({"w": 1}), rec({"v": value})]
    lines = encode_records(records, field_types={"v": declared} if declared else None)
    assert next(lines) == "m w=1i"
    with pytest.raises(RecordError) as caught:
        next(lines)
    assert (caught.value.index, caught.value.part) == (1, "field 'v'")
    assert problem in caught.value.problem


def test_declared_float_takes_integers_while_a_double_holds_them() -> None:
    declared = {"v": "float"}
    assert encode_record(rec({"v": 2**53}), field_types=declared) == "m v=9007199254740992.0"
    assert encode_record(rec({"v": -(2**53)}), field_types=declared) == "m v=-9007199254740992.0"
    assert encode_record(rec({"v": 2**60}), field_types=declared) == "m v=1.152921504606847e+18"
    assert encode_record(rec({"v": decimal.Decimal("0.1")}), field_types=declared) == "m v=0.1"
    assert encode_record(rec({"v": decimal.Decimal("-2.50")})) == "m v=-2.5"
    with pytest.raises(RecordError, match="declare the field int"):
        encode_record(rec({"v": 2**53 + 1}), field_types=declared)
