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


# ------------------------------------------ the strict check trusts what the encoder wrote

MIXED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([2**63, Unsigned(3)]),  # beyond int64; unsigned: not compiled
    st.floats(allow_infinity=False),  # NaN: refused by the encoder
    st.sampled_from(["s", 'say "hi"', "x" * 70]),
)
TEXT_VALUES = {"float": "1.5", "int": "1i", "uint": "1u", "bool": "true", "string": '"s"'}


PLAIN_KINDS = {
    "float": st.floats(-1, 1),
    "int": st.integers(-5, 5),
    "bool": st.booleans(),
    "string": st.sampled_from(["s", 'say "hi"']),
}


@st.composite
def mixed_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records over few measurements, tags and field keys, so that field types meet.
    In some lists each key has one type (named in the key, so that the encoder's
    compiled field sets take them), in others any value goes, None, NaN and
    unsigned integers included (the encoder's general loop, or its refusals)."""
    plain = draw(st.booleans())
    result = []
    for _ in range(draw(st.integers(1, 8))):
        fields: dict[str, Any] = {}
        for key in draw(st.lists(st.sampled_from(["a", "b", "c d"]), min_size=1, max_size=3, unique=True)):
            if plain:
                kind = draw(st.sampled_from(sorted(PLAIN_KINDS)))
                fields[f"{key} {kind}"] = draw(PLAIN_KINDS[kind])
            else:
                fields[key] = draw(MIXED)
        record: dict[str, Any] = {
            "measurement": draw(st.sampled_from(["m", "n"])),
            "tags": draw(st.dictionaries(st.sampled_from(["host", "a"]), st.sampled_from(["h", "", None]))),
            "fields": fields,
        }
        if draw(st.booleans()):
            record["time"] = draw(st.integers(-3, 3))
        result.append(record)
    return result


def neighbour_lines(draw: st.DrawFn, batch: list[dict[str, Any]]) -> str:
    """Lines of another input giving the records' field keys (and a tag key) values
    of any type."""
    keys = sorted({key.replace(" ", "\\ ") for record in batch for key in record["fields"]} | {"host"})
    lines = []
    for _ in range(draw(st.integers(0, 2))):
        value = TEXT_VALUES[draw(st.sampled_from(sorted(TEXT_VALUES)))]
        lines.append(f"{draw(st.sampled_from(['m', 'n']))} {draw(st.sampled_from(keys))}={value}")
    return "\n".join(lines)


@settings(max_examples=examples(500), deadline=None)
@given(
    mixed_records(),
    st.sampled_from(["v1", "v2", "v3"]),
    st.sampled_from([None, 24]),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(sorted(TEXT_VALUES)))),
    st.sampled_from([None, 7]),
    st.data(),
)
def test_records_checked_by_what_the_encoder_wrote_get_the_problems_their_lines_get(
    batch: list[dict[str, Any]],
    api: str,
    max_entry_bytes: int | None,
    declared: dict[str, str] | None,
    default_time: int | None,
    data: st.DataObject,
) -> None:
    """Where every record of a chunk went through a compiled field set (types known),
    the strict check trusts the encoder's lines and checks only what spans them:
    the problems, their wording, the lines kept for sending and the places later
    conflicts name are those of the line-by-line check, other inputs included."""
    from unittest import mock

    from influxdb_write import sources as sources_module
    from influxdb_write.line_protocol import Decoder
    from influxdb_write.sources import RecordsSource, TextSource

    before = data.draw(st.composite(neighbour_lines)(batch))
    after = data.draw(st.composite(neighbour_lines)(batch))

    def checked(fast: bool) -> tuple[list[str], Any]:
        decoder = Decoder(api=api, max_entry_bytes=max_entry_bytes, fast=fast, field_types=declared)
        records = RecordsSource("records", records=batch, field_types=declared, default_time=default_time)
        inputs = [TextSource("before", text=before), records, TextSource("after", text=after)]
        with mock.patch.object(sources_module, "CHECK_CHUNK", 3):
            return [str(p) for source in inputs for p in source.check(decoder)], records.checked

    assert checked(fast=True) == checked(fast=False)


@settings(max_examples=examples(500), deadline=None)
@given(mixed_records(), st.sampled_from([None, 0, 7]), st.sampled_from([None, 0, 5]))
def test_the_point_keys_the_encoder_gives_are_those_of_its_lines(
    batch: list[dict[str, Any]], default_time: int | None, stamp: int | None
) -> None:
    from influxdb_write.line_protocol.encoder import Written
    from influxdb_write.line_protocol.points import PointIndex

    written = Written()
    try:
        lines = list(encode_records(batch, default_time=default_time, written=written))
    except RecordError:
        return
    parts = written.take(1)
    assert len(parts.series) == len(lines)
    from_parts: list[Any] = []
    from_lines: list[Any] = []
    PointIndex(stamp=stamp, hasher=_recorder(from_parts)).add_keys(parts.series, parts.times)
    PointIndex(stamp=stamp, hasher=_recorder(from_lines)).add(lines)
    assert from_parts == from_lines


def _recorder(keys: list[Any]) -> Any:
    def record(key: Any) -> int:
        keys.append(key)
        return 0

    return record


def test_plain_records_are_checked_without_reading_their_lines(count_calls: Any) -> None:
    """Counted, not timed: records whose field sets the encoder compiled are checked,
    point keys included, without the decoder or the index reading a line again, and
    their lines are kept for sending."""
    from influxdb_write.line_protocol import Decoder
    from influxdb_write.line_protocol import decoder as decoder_module
    from influxdb_write.line_protocol.points import PointIndex
    from influxdb_write.sources import RecordsSource

    calls = count_calls(
        (decoder_module.Decoder, "check_lines"), (decoder_module.Decoder, "check_entry"), (PointIndex, "keys")
    )
    batch = [
        {"measurement": "m", "tags": {"host": f"h{i % 7}"}, "fields": {"v": i / 2, "n": i}, "time": i}
        for i in range(25_000)
    ]
    points = PointIndex()
    source = RecordsSource("records", records=batch)
    assert list(source.check(Decoder(), points)) == []
    assert calls == []
    assert points.entries == 25_000
    assert source.checked is not None and source.checked[1][:1] == ["m,host=h0 v=0.0,n=0i 0"]
