"""Property tests: any valid record encodes to a line that parses back to the same
measurement, tags, typed fields and time, and that ``validate`` accepts."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from examples import examples
from influxdb_write.line_protocol import (
    RecordError,
    Unsigned,
    encode_record,
    encode_records,
    parse_lines,
    validate,
)
from influxdb_write.line_protocol.encoder import _fieldsets
from influxdb_write.line_protocol.precision import time_range

# Names: any text without control characters or byte-order marks that does not end in a backslash.
printable = st.characters(codec="utf-8", min_codepoint=0x20).filter(lambda c: c not in "\x7f\ufeff")
name = st.text(printable, min_size=1, max_size=12).filter(lambda s: not s.endswith("\\"))
measurement = name.filter(lambda s: not s.startswith("#"))
tag_key = name.filter(lambda s: s not in {"_measurement", "_field", "time"})
field_key = name.filter(lambda s: s != "time")
field_value = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**64 - 1).map(Unsigned),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8"), max_size=20),
)
precision = st.sampled_from(["ns", "us", "ms", "s"])


@st.composite
def records(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    unit = draw(precision)
    low, high = time_range(unit)
    record: dict[str, Any] = {
        "measurement": draw(measurement),
        "tags": draw(st.dictionaries(tag_key, name, max_size=4)),
        "fields": draw(st.dictionaries(field_key, field_value, min_size=1, max_size=5)),
    }
    if draw(st.booleans()):
        record["time"] = draw(st.integers(low, high))
    return record, unit


def _same(value: Any, other: Any) -> bool:
    return type(value) is type(other) and (value == other or value != value)


@settings(max_examples=examples(1500), deadline=None)
@given(records())
def test_encode_then_parse_round_trips(case: tuple[dict[str, Any], str]) -> None:
    record, unit = case
    line = encode_record(record, precision=unit)
    assert validate(line, precision=unit) == []
    (parsed,) = parse_lines(line, precision=unit)
    assert parsed.measurement == record["measurement"]
    assert parsed.tags == record["tags"]
    assert list(parsed.fields) == list(record["fields"])
    for key, value in record["fields"].items():
        assert _same(parsed.fields[key], value), (key, value, parsed.fields[key])
    assert parsed.time == record.get("time")


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(records(), min_size=1, max_size=20))
def test_many_records_keep_order_and_line_numbers(cases: list[tuple[dict[str, Any], str]]) -> None:
    # Every precision's range lies inside ns. Each record gets a measurement of its
    # own: a field given two types within one measurement is a conflict validate reports.
    batch = [{**record, "measurement": f"{record['measurement']}{i}"} for i, (record, _) in enumerate(cases)]
    text = "\n".join(encode_records(batch))
    assert validate(text) == []
    parsed = list(parse_lines(text))
    assert [p.measurement for p in parsed] == [r["measurement"] for r in batch]
    # Raw newlines inside string fields push later entries down: each entry's
    # line number is where it starts in the text.
    offsets = [0]
    for line in encode_records(batch):
        offsets.append(offsets[-1] + line.count("\n") + 1)
    assert [p.line for p in parsed] == [offset + 1 for offset in offsets[:-1]]


@settings(max_examples=examples(500), deadline=None)
@given(
    st.datetimes(
        min_value=dt.datetime(1700, 1, 1),
        max_value=dt.datetime(2250, 1, 1),
        timezones=st.just(dt.timezone.utc),
    ),
    precision,
)
def test_datetimes_convert_exactly(when: dt.datetime, unit: str) -> None:
    line = encode_record({"measurement": "m", "fields": {"v": 1}, "time": when}, precision=unit)
    stamp = int(line.rsplit(" ", 1)[1])
    per_second = {"ns": 10**9, "us": 10**6, "ms": 10**3, "s": 1}[unit]
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    back = epoch + dt.timedelta(microseconds=stamp * 10**6 // per_second)
    assert back <= when < back + dt.timedelta(microseconds=max(1, 10**6 // per_second))


@settings(max_examples=examples(500), deadline=None)
@given(st.text(max_size=60))
def test_validate_never_crashes_and_agrees_with_parse(text: str) -> None:
    errors = validate(text)
    try:
        list(parse_lines(text))
        parsed_ok = True
    except RecordError:
        raise
    except ValueError:
        parsed_ok = False
    assert (errors == []) == parsed_ok


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(records(), min_size=1, max_size=10), st.sampled_from(["", "\n", "\n\n# c\n"]))
def test_iter_entries_regroups_encoded_entries(cases: list[tuple[dict[str, Any], str]], gap: str) -> None:
    from influxdb_write.line_protocol import iter_entries

    entries = list(encode_records([record for record, _ in cases]))
    text = ("\n" + gap).join(entries)
    assert [entry for _, entry in iter_entries(text.split("\n"))] == entries


FIELD_VALUES = st.one_of(
    st.floats(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.booleans(),
    st.none(),
    st.text(alphabet=st.sampled_from('ab "\\,= é'), max_size=8),
    # Around the compiled functions' 16,384-character limit, with and without escapes.
    st.builds(lambda n, tail: "a" * n + tail, st.integers(16_380, 16_390), st.sampled_from(["", '"', "\\x"])),
    st.sampled_from(["a" * 65_536, "a" * 65_537, "é" * 32_769]),  # at InfluxDB's 64 KiB limit
)


@settings(max_examples=examples(300))
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b c", "d=e"]), FIELD_VALUES, min_size=1), min_size=1))
def test_compiled_fieldsets_agree_with_the_general_path(field_sets: list[dict[str, Any]]) -> None:
    """A dict of fields goes through a function compiled for its keys; any other
    mapping goes through the general loop. Both give the same line or the same error."""

    def outcome(fields: Any) -> str:
        try:
            return encode_record({"measurement": "m", "fields": fields})
        except RecordError as exc:
            return f"error: {exc}"

    for fields in field_sets:
        _fieldsets.clear()  # compiled for this field set's own types
        assert outcome(fields) == outcome(MappingProxyType(fields))
    for fields in field_sets:  # and through functions compiled for earlier ones, of other types
        assert outcome(fields) == outcome(MappingProxyType(fields))
