"""DataFrames: every row is written exactly as the equivalent record dict is.

The property test builds a table of Python values, makes a pandas, a polars and
a pyarrow frame of it, and the records a user would write for the same rows;
the frame's lines must be the records' lines, row for row, or both must refuse
the same row. The table tests pin each column type and rule on its own.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import subprocess
import sys
import threading
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples import examples

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

from influxdb_write.line_protocol import (  # noqa: E402
    Decoder,
    FrameError,
    RecordError,
    RowError,
    Unsigned,
    encode_frame,
    encode_records,
    parse_lines,
)
from influxdb_write.line_protocol.frames import FrameMapping, frame_slices  # noqa: E402

UTC = dt.timezone.utc
T0 = pd.Timestamp("2024-05-01T12:00:00.123456789Z")


def lines(frame: Any, **mapping: Any) -> list[str]:
    return list(encode_frame(frame, **mapping))


# ---------------------------------------------------------------- property test

printable = st.characters(codec="utf-8", min_codepoint=0x20).filter(lambda c: c not in "\x7f\ufeff")
# Tag values: escapes, unicode, empty strings (left out), and now and then a
# value the record encoder refuses (a trailing backslash, a control character).
tag_value = st.one_of(
    st.none(),
    st.sampled_from(["a", "b c", "d,e", "f=g", "", "ü ñ", "x\\y"]),
    st.text(printable, max_size=6),
    st.sampled_from(["ends\\", "line\nbreak"]),
)
floats = st.floats(allow_nan=False, allow_infinity=False)
KINDS = {
    "float": (floats, pa.float64()),
    "int": (st.integers(-(2**63), 2**63 - 1), pa.int64()),
    "uint": (st.integers(0, 2**64 - 1), pa.uint64()),
    "bool": (st.booleans(), pa.bool_()),
    "string": (st.text(st.characters(codec="utf-8"), max_size=8), pa.large_string()),
}
UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


@st.composite
def tables(draw: st.DrawFn, plain: bool = False) -> dict[str, Any]:
    """A table of Python values; ``plain``: one measurement, and tag values that need
    no record encoder, so that most slices are the kernels' alone."""
    rows = draw(st.integers(1, 12))
    tag = st.sampled_from([None, "a", "b c", "d,e", "f=g", ""]) if plain else tag_value
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=4))
    fields = {}
    for index, kind in enumerate(kinds):
        values = draw(st.lists(st.one_of(st.none(), KINDS[kind][0]), min_size=rows, max_size=rows))
        fields[f"f{index} {kind}"] = (kind, values)
    tags = {
        key: draw(st.lists(tag, min_size=rows, max_size=rows))
        for key in draw(
            st.lists(st.sampled_from(["host", "b,key", "region", "zone=1"]), unique=True, max_size=3)
        )
    }
    unit = draw(st.sampled_from(sorted(UNITS)))
    times = draw(
        st.one_of(
            st.none(),
            st.lists(
                st.one_of(st.none(), st.integers(-(2**62) // UNITS[unit], 2**62 // UNITS[unit])),
                min_size=rows,
                max_size=rows,
            ),
        )
    )
    declared = {key: draw(st.sampled_from(["float", "int", "uint", "bool", "string"])) for key in fields}
    return {
        "rows": rows,
        "fields": fields,
        "tags": tags,
        "unit": unit,
        "times": times,
        "precision": draw(st.sampled_from(sorted(UNITS))),
        # Some text columns dictionary-encoded (categoricals); some field types declared.
        "dictionary": draw(st.sets(st.sampled_from([*tags, *fields]))),
        "field_types": {k: v for k, v in declared.items() if draw(st.booleans())},
        "measurements": None
        if plain
        else draw(st.one_of(st.none(), st.lists(tag, min_size=rows, max_size=rows))),
    }


def arrow_table(table: dict[str, Any]) -> Any:
    columns = {}
    if table["measurements"] is not None:
        columns["name"] = pa.array(table["measurements"], pa.large_string())
    for key, values in table["tags"].items():
        columns[key] = pa.array(values, pa.large_string())
    for key, (kind, values) in table["fields"].items():
        columns[key] = pa.array(values, KINDS[kind][1])
    for key in table["dictionary"]:
        if pa.types.is_large_string(columns[key].type):
            columns[key] = columns[key].dictionary_encode()
    if table["times"] is not None:
        columns["time"] = pa.array(table["times"], pa.timestamp(table["unit"], "UTC"))
    return pa.table(columns)


def python_time(value: int | None, unit: str) -> Any:
    if value is None:
        return None
    if unit == "ns":
        return pd.Timestamp(value, unit="ns", tz="UTC")
    micros = value * UNITS[unit] // 1_000
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=micros)


def expected(table: dict[str, Any]) -> list[tuple[int, str | RecordError | None]]:
    """Row by row: the record encoder's line, None for a row with no field value, or its error."""
    result: list[tuple[int, str | RecordError | None]] = []
    for row in range(table["rows"]):
        fields = {
            key: (Unsigned(values[row]) if kind == "uint" and values[row] is not None else values[row])
            for key, (kind, values) in table["fields"].items()
        }
        if all(value is None for value in fields.values()):
            result.append((row, None))
            continue
        record = {
            "measurement": "m" if table["measurements"] is None else table["measurements"][row],
            "tags": {key: values[row] for key, values in table["tags"].items()},
            "fields": fields,
            "time": None if table["times"] is None else python_time(table["times"][row], table["unit"]),
        }
        try:
            (line,) = encode_records([record], precision=table["precision"], field_types=table["field_types"])
        except RecordError as exc:
            result.append((row, exc))
        else:
            result.append((row, line))
    return result


def mapping_of(table: dict[str, Any]) -> FrameMapping:
    """The columns of :func:`arrow_table` as measurement, tags, fields and time."""
    return FrameMapping(
        measurement="m" if table["measurements"] is None else None,
        measurement_column=None if table["measurements"] is None else "name",
        tag_columns=list(table["tags"]),
        time_column="time" if table["times"] is not None else None,
        field_types=table["field_types"],
    )


def frames_of(table: dict[str, Any]) -> dict[str, Any]:
    arrow = arrow_table(table)
    frames = {"pyarrow": arrow, "polars": pl.from_arrow(arrow)}
    frames["pandas"] = arrow.to_pandas(types_mapper=pd.ArrowDtype)
    return frames


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_a_frame_row_is_written_as_the_equivalent_record(table: dict[str, Any]) -> None:
    want = expected(table)
    mapping = mapping_of(table)
    for library, frame in frames_of(table).items():
        got: list[tuple[int, str | RecordError | None]] = []
        for part in frame_slices(frame, mapping, precision=table["precision"], slice_rows=5):
            for offset, line in enumerate(part.lines.to_pylist()):
                row = part.start + offset
                got.append((row, part.problems.get(row, line)))
            assert sorted(part.empty) == part.empty
        assert len(got) == len(want), library
        for (row, line), (_, wanted) in zip(got, want, strict=True):
            if isinstance(wanted, RecordError):
                assert isinstance(line, RowError), (library, row, line, wanted)
                assert line.problem == wanted.problem, (library, row)
            else:
                assert line == wanted, (library, row)


# ---------------------------------------------------------------- table tests


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (1e-05, "1e-05"),
        (1e-07, "1e-07"),
        (0.0001, "0.0001"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e+16"),
        (123456789012.34567, "123456789012.34567"),
        (2.0**53, "9007199254740992.0"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.30000000000000004, "0.30000000000000004"),
    ],
)
def test_floats_are_written_as_python_writes_them(value: float, text: str) -> None:
    for frame in (pd.DataFrame({"v": [value]}), pl.DataFrame({"v": [value]}), pa.table({"v": [value]})):
        assert lines(frame, measurement="m") == [f"m v={text}"]


def test_float32_is_written_as_the_double_it_holds() -> None:
    frame = pd.DataFrame({"v": pd.array([0.1], dtype="float32")})
    assert lines(frame, measurement="m") == [f"m v={float(pa.array([0.1], pa.float32())[0].as_py())!r}"]


def test_every_column_type() -> None:
    frame = pd.DataFrame(
        {
            "f": [1.5],
            "i": [-3],
            "u": pd.array([7], dtype="uint64"),
            "b": [True],
            "s": ['say "hi" \\ there'],
            "c": pd.Categorical(["cat"]),
        }
    )
    assert lines(frame, measurement="m") == ['m f=1.5,i=-3i,u=7u,b=true,s="say \\"hi\\" \\\\ there",c="cat"']


def test_tags_are_sorted_escaped_and_left_out_when_missing_or_empty() -> None:
    frame = pd.DataFrame(
        {"zone": ["a b", None, ""], "host": pd.Categorical(["x,y", "h=1", None]), "v": [1, 2, 3]}
    )
    assert lines(frame, measurement="my m,x", tag_columns=["zone", "host"]) == [
        "my\\ m\\,x,host=x\\,y,zone=a\\ b v=1i",
        "my\\ m\\,x,host=h\\=1 v=2i",
        "my\\ m\\,x v=3i",
    ]


def test_measurement_column() -> None:
    frame = pl.DataFrame({"name": ["cpu", "disk io"], "v": [1.0, 2.0]})
    assert lines(frame, measurement_column="name") == ["cpu v=1.0", "disk\\ io v=2.0"]


def test_missing_field_values_are_left_out_and_empty_rows_counted() -> None:
    frame = pd.DataFrame({"a": [1.0, None, None, 4.0], "b": pd.array([None, 2, None, None], dtype="Int64")})
    encoded = encode_frame(frame, measurement="m")
    assert list(encoded) == ["m a=1.0", "m b=2i", "m a=4.0"]
    assert encoded.without_fields.count == 1
    assert encoded.without_fields.first == [2]
    assert encoded.without_fields.note() == (
        "1 row(s) of the frame were not written: every field value was missing (rows 2)"
    )


def test_nullable_integers_stay_integers() -> None:
    frame = pd.DataFrame({"count": pd.array([1, None, 3], dtype="Int64"), "x": [1.0, 2.0, 3.0]})
    assert lines(frame, measurement="m") == ["m count=1i,x=1.0", "m x=2.0", "m count=3i,x=3.0"]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_every_timestamp_resolution(unit: str) -> None:
    times = pd.DatetimeIndex([T0, pd.Timestamp("1969-12-31T23:59:59.5Z")]).as_unit(unit)
    frame = pd.DataFrame({"time": times, "v": [1, 2]})
    for precision in ("ns", "us", "ms", "s"):
        want = list(
            encode_records(
                [{"measurement": "m", "fields": {"v": i + 1}, "time": t} for i, t in enumerate(times)],
                precision=precision,
            )
        )
        assert lines(frame, measurement="m", time_column="time", precision=precision) == want


def test_pandas_date_range_resolution_is_not_assumed() -> None:
    index = pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC")
    frame = pd.DataFrame({"v": [1.0, 2.0]}, index=index)
    assert lines(frame, measurement="m", precision="s") == ["m v=1.0 1704067200", "m v=2.0 1704070800"]


def test_naive_times_are_refused_unless_a_timezone_is_given() -> None:
    frame = pd.DataFrame({"time": [pd.Timestamp("2024-03-31T01:30:00")], "v": [1]})
    with pytest.raises(FrameError, match="time column 'time' holds naive timestamps"):
        lines(frame, measurement="m", time_column="time")
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    got = list(encode_frame(frame, measurement="m", time_column="time", precision="s", naive_tz=paris))
    want = encode_records(
        [{"measurement": "m", "fields": {"v": 1}, "time": dt.datetime(2024, 3, 31, 1, 30)}],
        precision="s",
        naive_tz=paris,
    )
    assert got == list(want)
    fixed = dt.timezone(dt.timedelta(hours=-5))
    assert lines(frame, measurement="m", time_column="time", precision="s", naive_tz=fixed) == [
        "m v=1i 1711866600"
    ]


def test_integer_and_string_times() -> None:
    frame = pd.DataFrame({"t": [1_700_000_000, None], "v": [1, 2]}).astype({"t": "Int64"})
    assert lines(frame, measurement="m", time_column="t", precision="s") == ["m v=1i 1700000000", "m v=2i"]
    text = pl.DataFrame({"t": ["2024-05-01T12:00:00Z", "2024-05-01T13:00:00+01:00"], "v": [1, 2]})
    assert lines(text, measurement="m", time_column="t", precision="s") == [
        "m v=1i 1714564800",
        "m v=2i 1714564800",
    ]


def test_a_time_out_of_range_names_the_row_and_column() -> None:
    frame = pd.DataFrame({"t": [1, 2**62], "v": [1, 2]})
    with pytest.raises(
        RowError, match=r"row 1: time \(column 't'\): time 4611686018427387904 \(s\) is outside"
    ):
        lines(frame, measurement="m", time_column="t", precision="s")


def test_field_types_convert_what_fits_and_name_what_does_not() -> None:
    frame = pd.DataFrame({"kwh": [1, 2], "count": [3.0, None], "n": pd.array([5, 6], dtype="uint64")})
    assert lines(frame, measurement="m", field_types={"kwh": "float", "count": "int", "n": "int"}) == [
        "m kwh=1.0,count=3i,n=5i",
        "m kwh=2.0,n=6i",
    ]
    bad = pd.DataFrame({"count": [1.0, 2.5]})
    with pytest.raises(
        RowError, match=r"^row 1: field 'count': declared int, but 2.5 has a fractional part$"
    ):
        lines(bad, measurement="m", field_types={"count": "int"})
    with pytest.raises(FrameError, match="field_types names 'nope'"):
        lines(bad, measurement="m", field_types={"nope": "int"})
    with pytest.raises(ValueError, match="a field type is one of float, int, uint, bool, string"):
        lines(bad, measurement="m", field_types={"count": "integer"})


def test_nan_in_polars_and_arrow_is_a_value_not_a_missing_one() -> None:
    frame = pl.DataFrame({"v": [1.0, float("nan")]})
    with pytest.raises(RowError, match="row 1: field 'v': nan cannot be written"):
        lines(frame, measurement="m")
    assert lines(pl.DataFrame({"v": [1.0, None]}), measurement="m") == ["m v=1.0"]
    assert lines(pd.DataFrame({"v": [1.0, float("nan")]}), measurement="m") == ["m v=1.0"]


def test_infinity_is_refused() -> None:
    with pytest.raises(RowError, match="row 0: field 'v': inf cannot be written"):
        lines(pd.DataFrame({"v": [float("inf")]}), measurement="m")


def test_lines_before_a_bad_row_are_given_first() -> None:
    frame = pd.DataFrame({"host": ["a"] * 12 + ["bad\\"], "v": range(13)})
    mapping = FrameMapping(measurement="m", tag_columns=["host"])
    before = set(threading.enumerate())
    encoded = encode_frame(frame, measurement="m", tag_columns=["host"])
    given = []
    with pytest.raises(RowError, match=r"row 12: tag 'host': .*ends with a backslash"):
        for line in encoded:
            given.append(line)
    assert len(given) == 12
    # The error ends the encoding threads, although the caught error still holds the generator.
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("influxdb-write-frame")]
    parts = list(frame_slices(frame, mapping, slice_rows=5))
    assert [p.start for p in parts] == [0, 5, 10]
    assert list(parts[2].problems) == [12]


def test_mixed_object_columns_take_the_record_path() -> None:
    frame = pd.DataFrame({"v": pd.Series([1, 2.5, "x", None, decimal.Decimal("0.1")], dtype=object)})
    assert lines(frame, measurement="m") == ["m v=1i", "m v=2.5", 'm v="x"', "m v=0.1"]


def test_decimal_columns() -> None:
    frame = pa.table({"v": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(5, 2))})
    assert lines(frame, measurement="m") == ["m v=1.1"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({}, "give measurement= .* or measurement_column="),
        ({"measurement": "m", "tag_columns": ["nope"]}, "tag column 'nope' is not a column"),
        ({"measurement": "m", "tag_columns": ["_field"]}, "tag key '_field'.*reserved"),
        ({"measurement": "m", "field_columns": ["when"], "time_column": "when"}, "both a field and"),
        ({"measurement": "m", "tag_columns": ["v", "when", "_field"]}, "no field column"),
        ({"measurement": "#m"}, "starts with '#'"),
        ({"measurement": "m", "field_columns": ["when"]}, "field column 'when' holds timestamp"),
        (
            {"measurement": "m", "tag_columns": ["v"], "field_columns": ["_field"]},
            "tag column 'v' holds double",
        ),
    ],
)
def test_mapping_errors_name_the_column(mapping: dict[str, Any], message: str) -> None:
    frame = pd.DataFrame({"v": [1.0], "when": [T0], "_field": ["x"]})
    with pytest.raises(FrameError, match=message):
        lines(frame, **mapping)


def test_slices_are_bounded() -> None:
    frame = pl.DataFrame({"v": list(range(23))})
    parts = list(frame_slices(frame, FrameMapping(measurement="m"), slice_rows=10))
    assert [len(p.lines) for p in parts] == [10, 10, 3]
    assert parts[2].texts() == ["m v=20i", "m v=21i", "m v=22i"]


def test_lazyframes_record_batches_and_empty_frames() -> None:
    assert lines(pl.DataFrame({"v": [1]}).lazy(), measurement="m") == ["m v=1i"]
    assert lines(pa.record_batch({"v": [1]}), measurement="m") == ["m v=1i"]
    assert lines(pd.DataFrame({"v": pd.Series([], dtype=float)}), measurement="m") == []


def test_lines_parse_back_to_the_frame() -> None:
    frame = pd.DataFrame({"host": ["a b"], "v": [2.5], "s": ['q"'], "time": [T0]})
    (line,) = parse_lines(lines(frame, measurement="m", tag_columns=["host"], time_column="time")[0])
    assert (line.measurement, line.tags, line.fields, line.time) == (
        "m",
        {"host": "a b"},
        {"v": 2.5, "s": 'q"'},
        T0.value,
    )


def test_importing_the_codec_imports_no_frame_library() -> None:
    code = (
        "import sys, influxdb_write.line_protocol as lp; "
        "print(sorted(m for m in ('pandas', 'polars', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    plugins = str(Path(__file__).resolve().parents[1] / "plugins")
    env = {**os.environ, "PYTHONPATH": plugins}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.strip() == "[]"


def test_string_view_and_small_string_columns() -> None:
    for kind in (pa.string(), pa.large_string(), pa.string_view()):
        table = pa.table({"h": pa.array(["a b", "c"] * 40, kind), "s": pa.array(['x"'] * 80, kind)})
        assert lines(table, measurement="m", tag_columns=["h"])[:2] == [
            'm,h=a\\ b s="x\\""',
            'm,h=c s="x\\""',
        ]


def test_tag_values_at_the_name_limit() -> None:
    """65,535 bytes is the longest name InfluxDB keys hold; one byte more is refused, naming the row."""
    longest = "é" * 32_767 + "x"  # 65,535 bytes in UTF-8
    frame = pd.DataFrame({"host": [longest, longest + "x"], "v": [1, 2]})
    parts = list(frame_slices(frame, FrameMapping(measurement="m", tag_columns=["host"])))
    assert parts[0].lines.to_pylist()[0] == f"m,host={longest} v=1i"
    assert "longer than 65535 bytes" in str(parts[0].problems[1])
    assert str(parts[0].problems[1]).startswith("row 1: tag 'host': ")


# ------------------------------------------------- exact conversions, names, periods

BEYOND_DOUBLES = [
    ("pandas int64", lambda: pd.DataFrame({"v": [2**53, 2**53 + 1]})),
    ("pandas Int64", lambda: pd.DataFrame({"v": pd.array([None, 2**63 - 1], dtype="Int64")})),
    ("polars int64", lambda: pl.DataFrame({"v": [-(2**53), -(2**53) - 1]})),
    ("arrow uint64", lambda: pa.table({"v": pa.array([2**63, 2**64 - 1], pa.uint64())})),
]


@pytest.mark.parametrize("make", [m for _, m in BEYOND_DOUBLES], ids=[n for n, _ in BEYOND_DOUBLES])
def test_an_integer_column_declared_float_is_never_rounded(make: Any) -> None:
    """Row 0 holds an integer a double holds exactly; row 1 one it does not, which a
    cast to float64 used to round without a word."""
    written: list[str] = []
    with pytest.raises(RowError) as caught:
        written.extend(encode_frame(make(), measurement="m", field_types={"v": "float"}))
    assert caught.value.index == 1 and caught.value.part == "field 'v'"
    assert "declared float, but" in caught.value.problem
    assert "cannot be written as a float without changing it" in caught.value.problem


def test_an_integer_column_declared_float_keeps_what_doubles_hold() -> None:
    frame = pa.table({"v": pa.array([2**53, -(2**60), None, 2**53 + 1], pa.int64())})
    encoded = encode_frame(frame, measurement="m", field_types={"v": "float"})
    assert [next(encoded), next(encoded)] == ["m v=9007199254740992.0", "m v=-1.152921504606847e+18"]
    with pytest.raises(RowError, match=r"^row 3: field 'v': declared float, but 9007199254740993 "):
        next(encoded)


def test_a_decimal_column_with_more_digits_than_a_float_is_refused() -> None:
    kind = pa.decimal128(30, 25)
    frame = pa.table(
        {"v": pa.array([decimal.Decimal("0.5"), decimal.Decimal("0.1000000000000000000001")], kind)}
    )
    encoded = encode_frame(frame, measurement="m")
    assert next(encoded) == "m v=0.5"
    with pytest.raises(RowError, match=r"^row 1: field 'v': Decimal 0\.1000000000000000000001000 cannot be"):
        next(encoded)


COLLIDING = [
    (
        "int and str fields",
        {0: [1], "0": [2]},
        {},
        r"field columns 0 and '0' are both written as the field key '0'",
    ),
    (
        "int and str tags",
        {7: ["a"], "7": ["b"], "v": [1]},
        {"tag_columns": [7, "7"]},
        r"tag columns 7 and '7' are both written as the tag key '7'",
    ),
    (
        "listed fields",
        {"1": [1.5], 1: [2.5], "x": ["t"]},
        {"field_columns": ["1", 1], "tag_columns": ["x"]},
        r"field columns '1' and 1 are both written as the field key '1'",
    ),
]


@pytest.mark.parametrize(
    ("name", "columns", "mapping", "message"), COLLIDING, ids=[row[0] for row in COLLIDING]
)
def test_columns_written_as_one_key_are_refused_naming_both(
    name: str, columns: dict[Any, list[Any]], mapping: dict[str, Any], message: str
) -> None:
    """Refused when the mapping is checked, before any line, as the record encoder
    refuses the record; a tag and a field of one key stay allowed, as in records."""
    frame = pd.DataFrame(columns)
    with pytest.raises(FrameError, match=f"^{message}, and InfluxDB would keep only one of them; rename one"):
        encode_frame(frame, measurement="m", **mapping)
    shared = pd.DataFrame({0: ["x"], "0": [1]})
    record = {"measurement": "m", "tags": {"0": "x"}, "fields": {"0": 1}}
    assert lines(shared, measurement="m", tag_columns=[0]) == list(encode_records([record])) == ["m,0=x 0=1i"]


def test_a_period_index_is_the_periods_start_in_naive_tz_or_refused() -> None:
    """Periods have no timezone, so the rule of naive timestamps holds: without
    naive_tz the frame is refused, never written without its time."""
    frame = pd.DataFrame({"v": [1, 2]}, index=pd.period_range("2024-01", periods=2, freq="M"))
    with pytest.raises(
        FrameError, match=r"^the time index \(a PeriodIndex\) holds pandas periods, which have no"
    ):
        encode_frame(frame, measurement="m")
    assert lines(frame, measurement="m", precision="s", naive_tz=dt.timezone.utc) == [
        "m v=1i 1704067200",  # 2024-01-01T00:00Z
        "m v=2i 1706745600",  # 2024-02-01T00:00Z
    ]
    oslo = zoneinfo.ZoneInfo("Europe/Oslo")
    assert lines(frame, measurement="m", precision="s", naive_tz=oslo) == [
        "m v=1i 1704063600",
        "m v=2i 1706742000",
    ]


def test_a_period_column_as_time_column_is_the_periods_start() -> None:
    frame = pd.DataFrame({"p": pd.period_range("2024-03-01 10:00", periods=2, freq="h"), "v": [1.5, 2.5]})
    with pytest.raises(
        FrameError, match=r"^time_column 'p' holds pandas periods, which have no timezone; .*naive_tz="
    ):
        encode_frame(frame, measurement="m", time_column="p")
    assert lines(frame, measurement="m", time_column="p", precision="s", naive_tz=dt.timezone.utc) == [
        "m v=1.5 1709287200",
        "m v=2.5 1709290800",
    ]


# ------------------------------------- the strict check reads a frame's columns, not its lines


def _escaped_key(key: str) -> str:
    return key.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


VALUES = {"float": "1.5", "int": "1i", "uint": "1u", "bool": "true", "string": '"s"'}


@st.composite
def neighbours(draw: st.DrawFn, keys: list[str]) -> str:
    """Lines of measurement m giving some of ``keys`` a value of some type: another
    input of the same write, whose field types a frame's may conflict with."""
    lines = []
    for key in draw(st.lists(st.sampled_from(keys), max_size=3)):
        kind = draw(st.sampled_from(sorted(VALUES)))
        lines.append(f"m,host=h {_escaped_key(key)}={VALUES[kind]} {draw(st.integers(0, 9))}")
    return "\n".join(lines)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(tables(), tables(plain=True)),
    st.sampled_from(["v1", "v2", "v3"]),
    st.sampled_from([None, 60, 120]),
    st.data(),
)
def test_a_frame_checked_by_its_columns_gets_the_problems_its_lines_get(
    table: dict[str, Any], api: str, max_entry_bytes: int | None, data: st.DataObject
) -> None:
    """Where a slice's lines are all the kernels' (no row went to the record encoder),
    the strict check judges them by their columns (types, the longest line), not line
    by line: every problem, its wording and the places later conflicts name are the
    same as the line-by-line check's, inputs before and after the frame included."""
    from unittest import mock

    from influxdb_write.line_protocol import frames as frames_module
    from influxdb_write.sources import FrameSource, TextSource

    keys = [*table["fields"], *table["tags"]]  # a tag key as a field: a conflict on api="v3"
    before, after = data.draw(neighbours(keys)), data.draw(neighbours(keys))
    # The task's field types: those the frame is encoded with, or others.
    declared = data.draw(
        st.one_of(
            st.none(),
            st.just(table["field_types"]),
            st.dictionaries(st.sampled_from(keys), st.sampled_from(sorted(VALUES)), max_size=2),
        )
    )
    mapping = mapping_of(table)

    def problems(frame: Any, fast: bool) -> list[str]:
        decoder = Decoder(
            precision=table["precision"],
            api=api,
            max_entry_bytes=max_entry_bytes,
            fast=fast,
            field_types=declared,
        )
        sources = [
            TextSource("before", text=before),
            FrameSource("frame", frame=frame, mapping=mapping, precision=table["precision"]),
            TextSource("after", text=after),
        ]
        with mock.patch.object(frames_module, "SLICE_ROWS", 5):
            return [str(problem) for source in sources for problem in source.check(decoder)]

    for library, frame in frames_of(table).items():
        assert problems(frame, fast=True) == problems(frame, fast=False), library


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(tables(), tables(plain=True)),
    st.sampled_from([None, 0, -7, 1_700_000_000]),
    st.sampled_from([None, 0, 5]),
)
def test_the_point_keys_of_a_slice_are_those_of_its_lines(
    table: dict[str, Any], stamp: int | None, index_stamp: int | None
) -> None:
    """The point keys a slice gives from its columns are the keys the index finds in
    its lines, row for row, with or without a default time (the frame's and the
    index's: the same in a write, told apart here)."""
    from influxdb_write.line_protocol.points import PointIndex

    mapping = mapping_of(table)
    for library, frame in frames_of(table).items():
        slices = frame_slices(
            frame, mapping, precision=table["precision"], slice_rows=5, default_time=stamp, point_keys=True
        )
        for part in slices:
            keys = part.point_keys()
            if keys is None:  # a row went to the record encoder
                continue
            from_columns: list[Any] = []
            from_lines: list[Any] = []
            PointIndex(stamp=index_stamp, hasher=recorder(from_columns)).add_keys(*keys)
            PointIndex(stamp=index_stamp, hasher=recorder(from_lines)).add(part.texts())
            assert from_columns == from_lines, library


def recorder(keys: list[Any]) -> Any:
    """A hasher that keeps the keys it is given."""

    def record(key: Any) -> int:
        keys.append(key)
        return 0

    return record


def test_a_plain_frame_is_checked_without_reading_its_lines(count_calls: Any) -> None:
    """Counted, not timed: a frame with times and no row for the record encoder is
    checked, point keys included, without the decoder or the index reading a line,
    and without its lines being made Python strs."""
    from influxdb_write.line_protocol import decoder as decoder_module
    from influxdb_write.line_protocol.points import PointIndex
    from influxdb_write.sources import FrameSource

    calls = count_calls(
        (decoder_module.Decoder, "check_lines"),
        (decoder_module.Decoder, "check_entry"),
        (PointIndex, "keys"),
        (FrameSource, "_written"),
    )
    frame = pd.DataFrame(
        {
            "host": ["a", "b", None] * 40_000,
            "v": [1.5, None, 2.5] * 40_000,
            "n": [1, 2, 3] * 40_000,
            "time": pd.date_range("2024-01-01", periods=120_000, freq="s", tz="UTC"),
        }
    )
    mapping = FrameMapping(measurement="m", tag_columns=["host"], time_column="time")
    points = PointIndex()
    source = FrameSource("frame", frame=frame, mapping=mapping)
    assert list(source.check(Decoder(), points)) == []
    assert calls == []
    assert points.entries == 120_000
    assert list(points.windows()) == []  # no point key repeats


@pytest.mark.parametrize(
    ("before", "options", "declared", "found"),
    [
        ("m,host=h region=1.5 1", {"api": "v3"}, None, "row 0: tag 'region' of measurement 'm' is a tag"),
        ("", {}, {"v": "int"}, "row 0: field 'v' is a float here, but field_types declares it an integer"),
        ("", {"api": "v1"}, None, "row 0: unsigned integer '7u' for field 'u'"),
        ("", {"max_entry_bytes": 30}, None, "row 0: the line is 32 bytes, more than the 30 bytes"),
        (
            "m v=1i 1",
            {},
            None,
            "row 0: field 'v' of measurement 'm' is a float here but an integer in before",
        ),
    ],
)
def test_what_columns_cannot_vouch_for_is_checked_line_by_line(
    before: str, options: dict[str, Any], declared: dict[str, str] | None, found: str
) -> None:
    """Tags on api="v3", types declared for the task but not the frame, unsigned
    integers on api="v1", lines too large and conflicts with another input: each
    is found as the line-by-line check finds it."""
    from influxdb_write.sources import FrameSource, TextSource

    frame = pd.DataFrame(
        {
            "region": ["a", "b"],
            "v": [1.5, 2.5],
            "u": pa.array([7, 8], pa.uint64()).to_pandas(),
            "time": pd.to_datetime([1, 2], unit="s", utc=True),
        }
    )
    mapping = FrameMapping(measurement="m", tag_columns=["region"], time_column="time")
    results = []
    for fast in (True, False):
        decoder = Decoder(fast=fast, field_types=declared, **options)
        sources = [TextSource("before", text=before), FrameSource("frame", frame=frame, mapping=mapping)]
        results.append([str(problem) for source in sources for problem in source.check(decoder)])
    assert results[0] == results[1]
    assert results[0] and results[0][0].startswith(f"frame, {found}"), results[0]
