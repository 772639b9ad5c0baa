"""Encoding of DataFrames (pandas, polars, pyarrow) into line protocol, vectorized and exact.

A frame is read in slices of rows. Each slice becomes Arrow arrays (zero-copy
where the library allows), and whole columns are turned into text by Arrow's
compute kernels (:mod:`.frame_columns`); no Python code runs per row, except
for the rare rows those kernels hand over to the record encoder. Every row is
written exactly as the equivalent record dict is by :func:`encode_records`:
the same escaping, float text, integer suffixes, time conversion, declared
types and errors.

Missing values follow the frame libraries' meaning (null; NaN in pandas): a
missing field value leaves that field out of the row's line, a missing tag
value leaves the tag out, a missing time leaves the line without one. A row
with no field value left is not written; :class:`FrameLines` counts such rows
and lists the first ones, so that callers report them.

The frame libraries are imported only when a frame is given: this module
imports nothing beyond the standard library until then.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import itertools
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from .declared_types import check_field_types
from .encoder import encode_records
from .errors import FrameError, RecordError, RowError
from .escaping import escape_key, escape_measurement, shown
from .precision import check_precision

if TYPE_CHECKING:
    from concurrent.futures import Future

SLICE_ROWS = 50_000
ENCODING_THREADS = 4  # at most; never more than the machine's cores
SHOWN_ROWS = 10
_FRAME_TYPES = {
    ("pandas", "DataFrame"),
    ("polars", "DataFrame"),
    ("polars", "LazyFrame"),
    ("pyarrow", "Table"),
    ("pyarrow", "RecordBatch"),
}


def is_frame(value: Any) -> bool:
    """Whether ``value`` is a pandas or polars DataFrame, a polars LazyFrame or a
    pyarrow Table or RecordBatch; imports none of these libraries."""
    kind = type(value)
    return (kind.__module__.partition(".")[0], kind.__name__) in _FRAME_TYPES


@dataclass(frozen=True)
class FrameMapping:
    """Which columns of a frame are the measurement, tags, fields and time.

    ``field_columns=None`` means every column that is not a tag, the time or the
    measurement. ``time_column=None`` takes a pandas ``DatetimeIndex`` or
    ``PeriodIndex`` as the time, and otherwise leaves lines without a time.
    """

    measurement: str | None = None
    measurement_column: Any = None
    tag_columns: Sequence[Any] = ()
    field_columns: Sequence[Any] | None = None
    time_column: Any = None
    field_types: Mapping[str, str] | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> FrameMapping | None:
        """A mapping from keyword arguments (operator, hook, client), or None when none
        is set (None or empty); unknown keywords are refused."""
        options = {k: v for k, v in (options or {}).items() if v is not None and v != () and v != []}
        unknown = set(options) - set(FRAME_OPTIONS)
        if unknown:
            raise ValueError(
                f"unknown keyword(s) {', '.join(sorted(unknown))}; the frame options are "
                f"{', '.join(FRAME_OPTIONS)}"
            )
        if not options:
            return None
        if isinstance(options.get("tag_columns"), str):
            options["tag_columns"] = [options["tag_columns"]]
        if isinstance(options.get("field_columns"), str):
            options["field_columns"] = [options["field_columns"]]
        return cls(**options)


FRAME_OPTIONS = (
    "measurement",
    "measurement_column",
    "tag_columns",
    "field_columns",
    "time_column",
    "field_types",
)


@dataclass
class _Plan:
    """A mapping checked against a frame's columns, with every key escaped once."""

    measurement: str | None  # escaped, or None when a column holds it
    raw_measurement: str | None
    measurement_column: Any
    tags: list[tuple[Any, str]]  # (column, ",key=") sorted by key, as records sort tags
    fields: list[tuple[Any, str, str | None]]  # (column, ",key=", declared type)
    time: Any  # a column, INDEX, or None
    declared: dict[str, str]
    precision: str
    naive_tz: _dt.tzinfo | None
    default_time: int | None = None  # for rows without a time, in ``precision``
    point_keys: bool = False  # give each slice its rows' point keys (Slice.keys)


INDEX = "<the frame's index>"  # the time column when the time is a pandas DatetimeIndex or PeriodIndex


def key_text(column: Any) -> str:
    """The tag or field key a column is written as: its name, an integer's digits."""
    if isinstance(column, str):
        return column
    if isinstance(column, int) and not isinstance(column, bool):
        return str(column)
    raise FrameError(f"column name {column!r} is not a string; rename it to use it as a tag or field key")


def _plan(
    columns: list[Any], has_time_index: bool, mapping: FrameMapping, precision: str, naive_tz: Any
) -> _Plan:
    present = set(columns)
    if len(present) != len(columns):
        twice = sorted({shown(c) for c in columns if columns.count(c) > 1})
        raise FrameError(f"the frame has several columns named {', '.join(twice)}; rename them")

    def need(column: Any, role: str) -> Any:
        if column not in present:
            raise FrameError(
                f"{role} {column!r} is not a column of the frame (columns: {shown(columns, 200)})"
            )
        return column

    if (mapping.measurement is None) == (mapping.measurement_column is None):
        raise FrameError(
            "give measurement= (one name for every row) or measurement_column=, not both or neither"
        )
    measurement = None
    if mapping.measurement is not None:
        try:
            measurement = escape_measurement(mapping.measurement)
        except ValueError as exc:
            raise FrameError(f"measurement: {exc}") from None
    else:
        need(mapping.measurement_column, "measurement_column")
    tags = [need(c, "tag column") for c in mapping.tag_columns]
    time = None
    if mapping.time_column is not None:
        time = need(mapping.time_column, "time_column")
    elif has_time_index:
        time = INDEX
    taken = {mapping.measurement_column, mapping.time_column, *tags} - {None}
    if mapping.field_columns is None:
        fields = [c for c in columns if c not in taken]
    else:
        fields = [need(c, "field column") for c in mapping.field_columns]
        both = [c for c in fields if c in taken]
        if both:
            raise FrameError(f"column {both[0]!r} is both a field and a tag, the time or the measurement")
    if not fields:
        raise FrameError("no field column: a point needs at least one field")
    if len(set(tags)) != len(tags) or len(set(fields)) != len(fields):
        raise FrameError("a column is named twice in tag_columns or field_columns")
    declared = check_field_types(mapping.field_types)
    field_keys = {key_text(c) for c in fields}
    unknown = sorted(set(declared) - field_keys)
    if unknown:
        raise FrameError(f"field_types names {', '.join(map(repr, unknown))}, which is not a field column")
    tag_prefixes = _one_key_each(tags, "tag")
    field_prefixes = _one_key_each(fields, "field")
    return _Plan(
        measurement=measurement,
        raw_measurement=mapping.measurement,
        measurement_column=mapping.measurement_column,
        tags=sorted(zip(tags, tag_prefixes, strict=True), key=lambda t: key_text(t[0])),
        fields=[(c, p, declared.get(key_text(c))) for c, p in zip(fields, field_prefixes, strict=True)],
        time=time,
        declared=declared,
        precision=precision,
        naive_tz=naive_tz,
    )


def _one_key_each(columns: list[Any], role: str) -> list[str]:
    """The ``,key=`` prefix of each tag or field column; :class:`FrameError` when two
    columns are written as one key (the int 0 and the str "0"), as the record
    encoder refuses the same record: the server would keep only one of them, so a
    value would vanish without a word. A tag and a field of one name are allowed,
    as they are in records."""
    prefixes: list[str] = []
    seen: dict[str, Any] = {}
    for column in columns:
        prefix = _prefix(column, f"{role} key")
        if prefix in seen:
            raise FrameError(
                f"{role} columns {seen[prefix]!r} and {column!r} are both written as the {role} key "
                f"{shown(key_text(column))}, and InfluxDB would keep only one of them; rename one "
                "of the columns"
            )
        seen[prefix] = column
        prefixes.append(prefix)
    return prefixes


def _prefix(column: Any, what: str) -> str:
    from .encoder import RESERVED_TAG_KEYS

    key = key_text(column)
    if (what == "tag key" and key in RESERVED_TAG_KEYS) or (what == "field key" and key == "time"):
        raise FrameError(f"{what} {key!r} (column {column!r}) is reserved by InfluxDB; rename the column")
    try:
        return "," + escape_key(key, what) + "="
    except ValueError as exc:
        raise FrameError(f"column {column!r}: {exc}") from None


class Columns(NamedTuple):
    """What the lines of a slice hold, when the kernels wrote every row (none went to
    the record encoder) and one measurement names them all: each field key with the
    measurement, the type of its values and the first row holding one, whether tags
    are written, and the longest line in bytes. Enough for
    :meth:`.Decoder.check_columns`."""

    fields: list[tuple[str, str, str, int]]
    tagged: bool
    longest: int


class Keys(NamedTuple):
    """The point key of every row of a slice whose lines the kernels wrote: its series
    key as written (measurement and tags; dictionary-encoded) and its time as text
    ("" for none), an array, or one text for every row."""

    series: Any
    times: Any


@dataclass
class Slice:
    """The lines of the rows from row ``start`` on: ``lines`` is a pyarrow string
    array with one entry per row, null where the row is not written (no field value
    left, listed in ``empty``; or refused, its :class:`RowError` in ``problems``).
    ``columns`` describes the lines, where it can (see :class:`Columns`)."""

    start: int
    lines: Any
    problems: dict[int, RowError] = field(default_factory=dict)
    empty: list[int] = field(default_factory=list)
    columns: Columns | None = None
    keys: Keys | None = None  # when asked for (``point_keys``)

    def point_keys(self) -> tuple[list[str], list[str] | str] | None:
        """The point keys of the written rows, for :meth:`.PointIndex.add_keys`: each
        row's series key as written and its time as text (or one for all); None
        where :attr:`keys` is not there."""
        if self.keys is None:
            return None
        series, times = self.keys
        if self.lines.null_count:
            written = self.lines.is_valid()
            series = series.filter(written)
            times = times if isinstance(times, str) else times.filter(written)
        distinct = series.dictionary.to_pylist()
        times = times if isinstance(times, str) else times.to_pylist()
        return list(map(distinct.__getitem__, series.indices.to_pylist())), times

    def texts(self, stop: int | None = None) -> list[str]:
        """The written lines of the rows before row ``stop`` (default: all), as strs."""
        lines = self.lines if stop is None else self.lines.slice(0, stop - self.start)
        if lines.null_count:
            lines = lines.drop_null()
        texts: list[str] = lines.to_pylist()
        return texts


class RowsWithoutFields:
    """Counts the rows of a frame not written because every field value was missing,
    and keeps the first ones, for a report that names them."""

    def __init__(self) -> None:
        self.count = 0
        self.first: list[int] = []

    def add(self, rows: list[int]) -> None:
        self.count += len(rows)
        self.first.extend(rows[: SHOWN_ROWS - len(self.first)])

    def note(self) -> str | None:
        """A sentence naming the rows, or None when there are none."""
        if not self.count:
            return None
        listed = ", ".join(map(str, self.first)) + (", ..." if self.count > len(self.first) else "")
        missing = "every field value was missing"
        return f"{self.count} row(s) of the frame were not written: {missing} (rows {listed})"


class FrameLines(Iterator[str]):
    """The lines of a frame, in row order, one per written row.

    ``without_fields`` counts the rows not written because every field value was
    missing. A row that cannot be written raises
    :class:`RowError` once the lines before it have been given.
    """

    def __init__(self, slices: Generator[Slice, None, None]) -> None:
        self._lines = itertools.chain.from_iterable(self._lists(slices))
        self.without_fields = RowsWithoutFields()

    def __iter__(self) -> Iterator[str]:
        return self._lines

    def __next__(self) -> str:
        return next(self._lines)

    def _lists(self, slices: Generator[Slice, None, None]) -> Iterator[list[str]]:
        # Closed however the lines end (a bad row, the caller stopping): the encoding
        # threads end then, not when a traceback holding the generator is collected.
        with contextlib.closing(slices):
            for part in slices:
                self.without_fields.add(part.empty)
                if part.problems:
                    first = min(part.problems)
                    yield part.texts(first)
                    raise part.problems[first]
                yield part.texts()


def encode_frame(
    frame: Any,
    *,
    measurement: str | None = None,
    measurement_column: Any = None,
    tag_columns: Sequence[Any] = (),
    field_columns: Sequence[Any] | None = None,
    time_column: Any = None,
    precision: str = "ns",
    field_types: Mapping[str, str] | None = None,
    naive_tz: _dt.tzinfo | None = None,
) -> FrameLines:
    """Encode a frame into lines, lazily, one per row that has a field value.

    ``frame``: a pandas or polars DataFrame, a polars LazyFrame (collected), or a
    pyarrow Table or RecordBatch. ``measurement`` names the measurement of every
    row, or ``measurement_column`` holds each row's. ``tag_columns`` are written
    as tags, ``field_columns`` (default: every other column) as fields, converted
    to ``field_types`` where declared. ``time_column`` holds the times (timezone
    aware timestamps, naive ones with ``naive_tz``, integers in ``precision``, or
    ISO 8601 strings); without it, a pandas ``DatetimeIndex`` or ``PeriodIndex``,
    or no time. Pandas periods (a ``PeriodIndex``, or a period column as
    ``time_column``) are written as each period's start time; a period has no
    timezone, so, as for naive timestamps, ``naive_tz`` must say which timezone
    that start is in, or the frame is refused (never written without its time).

    The mapping is checked at once (:class:`FrameError`); rows are checked as they
    are reached, and a :class:`RowError` names the row (its position, from 0) and
    the column. See :class:`FrameLines` for rows without any field value.
    """
    mapping = FrameMapping(
        measurement, measurement_column, tuple(tag_columns), field_columns, time_column, field_types
    )
    return FrameLines(frame_slices(frame, mapping, precision=precision, naive_tz=naive_tz))


def frame_slices(
    frame: Any,
    mapping: FrameMapping,
    *,
    precision: str = "ns",
    naive_tz: _dt.tzinfo | None = None,
    slice_rows: int | None = None,
    default_time: int | None = None,
    point_keys: bool = False,
) -> Generator[Slice, None, None]:
    """The frame's rows as :class:`Slice` objects of ``slice_rows`` rows (default
    :data:`SLICE_ROWS`), refused rows reported in each slice rather than raised; the
    mapping is checked at once. A row without a time gets ``default_time`` (an
    integer in ``precision``), if given. With ``point_keys``, slices carry their
    rows' point keys (:attr:`Slice.keys`)."""
    check_precision(precision)
    if not is_frame(frame):
        raise FrameError(f"{type(frame).__name__} is not a pandas, polars or pyarrow frame")
    from .frame_sources import open_frame

    source = open_frame(frame)
    plan = _plan(source.columns, source.has_time_index, mapping, precision, naive_tz)
    if plan.time in source.periods and naive_tz is None:
        raise FrameError(_NAIVE_PERIODS.format(where=_time_name(plan.time)))
    plan.default_time = default_time
    plan.point_keys = point_keys
    return _slices(source, plan, slice_rows or SLICE_ROWS)


# Periods have no timezone: their start times are naive wall-clock times, so the
# rule of naive timestamps holds (guessing UTC shifts data by hours).
_NAIVE_PERIODS = (
    "{where} holds pandas periods, which have no timezone; each period is written as its start "
    "time, so say which timezone that is in: pass naive_tz= to encode_frame, or convert them to "
    "aware timestamps first (index.to_timestamp().tz_localize('UTC'), or "
    "series.dt.start_time.dt.tz_localize('UTC') for a column)"
)


def _time_name(time: Any) -> str:
    return "the time index (a PeriodIndex)" if time is INDEX else f"time_column {time!r}"


def _slices(source: Any, plan: _Plan, slice_rows: int) -> Generator[Slice, None, None]:
    """Slices encoded on a few threads, given in order. Arrow's kernels release the
    GIL, so slices are encoded side by side while the caller turns the previous
    one into strings or sends it; at most ``workers + 1`` slices are in memory."""
    from concurrent.futures import ThreadPoolExecutor

    from .frame_columns import slice_lines

    wanted = [plan.measurement_column, *(c for c, _ in plan.tags), *(c for c, _, _ in plan.fields), plan.time]
    wanted = [c for c in wanted if c is not None]
    workers = max(1, min(ENCODING_THREADS, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="influxdb-write-frame") as pool:
        pending: collections.deque[Future[Slice]] = collections.deque()
        try:
            for start, columns in source.slices(wanted, slice_rows):
                pending.append(pool.submit(slice_lines, start, columns, plan, _fallback))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _fallback(plan: _Plan, row: int, values: Mapping[Any, Any], time: Any) -> str | None:
    """One row through the record encoder: its line, or None when it has no field
    value; a :class:`RowError` if it cannot be written."""
    fields = {key_text(c): values[c] for c, _, _ in plan.fields}
    if all(value is None for value in fields.values()):
        return None
    record = {
        "measurement": plan.raw_measurement
        if plan.measurement_column is None
        else values[plan.measurement_column],
        "tags": {key_text(c): values[c] for c, _ in plan.tags},
        "fields": fields,
        "time": time,
    }
    try:
        (line,) = encode_records(
            [record],
            precision=plan.precision,
            naive_tz=plan.naive_tz,
            field_types=plan.declared,
            default_time=plan.default_time,
        )
    except RecordError as exc:
        raise RowError(row, _column_part(plan, exc.part), exc.problem) from None
    return line


def _column_part(plan: _Plan, part: str) -> str:
    """The record encoder's part name, with the column it came from."""
    if part == "measurement" and plan.measurement_column is not None:
        return f"measurement (column {plan.measurement_column!r})"
    if part == "time" and plan.time is not None and plan.time is not INDEX:
        return f"time (column {plan.time!r})"
    if part == "time" and plan.time is INDEX:
        return "time (the index)"
    return part
