"""Where an operator's data comes from: named sources, each numbered in its own lines or records.

A source is one input of a task (its ``line_protocol``, its ``records``, one
upstream XCom, a file) with a name for messages and its entries numbered within
it, so that an error names the source and the line or record a user can find.
One :class:`~influxdb_write.line_protocol.Decoder` reads every source of a write,
so that field types are compared across all of them. Records and frame rows get
the write's default time as they are encoded, where their time is known.

Each input is read as few times as it can be: records are encoded once, by the
check, which keeps their lines for sending (the records are in memory anyway);
a frame is encoded again when sent, slice by slice, since its lines would not
fit in memory as it does; a file is streamed on each pass, never held. Loaded
when a task runs, not when a DAG file is parsed.

The strict check also indexes every entry by point
(:mod:`.line_protocol.points`) as it reads it; only when point keys repeat are
the sources read again (:meth:`Source.sent_runs`), to find entries that would replace
a value another entry gave a field of the same point (:func:`point_conflicts`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import logging
import math
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from .input_errors import InvalidInputError
from .line_protocol import (
    Decoder,
    EntryTooLargeError,
    FrameError,
    FrameMapping,
    InvalidLineError,
    LineError,
    RecordError,
    encode_records,
    is_frame,
)
from .line_protocol.encoder import Written, WrittenLines

if TYPE_CHECKING:
    from .line_protocol.decoder import Seen
    from .line_protocol.points import Conflict, PointIndex

log = logging.getLogger(__name__)

SHOWN_TEXT = 200
CHECK_CHUNK = 10_000  # records or rows checked in one go


@dataclass(frozen=True)
class Problem:
    """A bad line or record of a source: ``message`` starts with "line N" or "record N"."""

    source: str
    number: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}, {self.message}"


class Item(NamedTuple):
    """One entry of a source: its line or record number, its text, and what is wrong with it."""

    number: int
    text: str
    problem: Problem | None


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT] + "...")


@dataclass
class Source:
    """One input: a name for messages, and entries numbered in ``unit`` ("line" or "record")."""

    name: str
    unit: str = "line"

    def items(self, decoder: Decoder, *, errors_only: bool = False) -> Iterator[Item]:
        """The source's entries, read with ``decoder``: with its ``check``, each carries
        its problem, and ``errors_only`` gives the bad ones only. Without ``check``,
        what cannot be sent as it is (a line that is not text or is too large, a
        record that cannot be encoded) raises :class:`InvalidInputError`."""
        raise NotImplementedError

    def is_empty(self) -> bool:
        """Whether the source holds no line or record at all (comments and blank lines aside)."""
        raise NotImplementedError

    def check(self, decoder: Decoder, points: PointIndex | None = None) -> Iterator[Problem]:
        """Every problem of the source, read with a checking ``decoder``; with ``points``,
        the point key of every entry is indexed as it is read (:mod:`.line_protocol.points`)."""
        if points is None:
            for item in self.items(decoder, errors_only=True):
                if item.problem is not None:
                    yield item.problem
            return
        for texts, _numbers, problems in self._checked_runs(decoder):
            points.add(texts)
            yield from problems

    def _checked_runs(self, decoder: Decoder) -> Iterator[tuple[list[str], list[int], list[Problem]]]:
        """The entries of the source in runs: the good ones and the problems of each."""
        texts: list[str] = []
        numbers: list[int] = []
        problems: list[Problem] = []
        for item in self.items(decoder):
            if item.problem is not None:
                problems.append(item.problem)
            else:
                texts.append(item.text)
                numbers.append(item.number)
            if len(texts) >= CHECK_CHUNK:
                yield texts, numbers, problems
                texts, numbers, problems = [], [], []
        yield texts, numbers, problems

    def sent_runs(self, decoder: Decoder) -> Iterator[tuple[list[str], list[int]]]:
        """The entries that are sent, as they are numbered, in runs; read with a checking
        ``decoder``, those with a problem are left out (as ``validate="skip"`` sends)."""
        for texts, numbers, _problems in self._checked_runs(decoder):
            yield texts, numbers


@dataclass
class TextSource(Source):
    """Line protocol text: a rendered template, or what an upstream task returned."""

    text: str = ""

    def data(self) -> Any:
        return self.text

    def check(self, decoder: Decoder, points: PointIndex | None = None) -> Iterator[Problem]:
        """Every problem of the text; with ``points``, the decoder hands every entry it
        finds valid to the index as it reads, in runs where it can."""
        seen = None if points is None else points.seen
        for item in self.items(decoder, errors_only=True, seen=seen):
            if item.problem is not None:
                yield item.problem
        if points is not None:
            points.flush()

    def items(
        self, decoder: Decoder, *, errors_only: bool = False, seen: Seen | None = None
    ) -> Iterator[Item]:
        try:
            entries = decoder.entries(self.data(), source=self.name, errors_only=errors_only, seen=seen)
            for entry in entries:
                problem = None if entry.error is None else self.problem(entry.error)
                yield Item(entry.line, entry.text, problem)
        except InvalidLineError as exc:  # framing only: a line that is not text cannot be sent as is
            what = "is too large to send" if isinstance(exc, EntryTooLargeError) else "cannot be sent"
            raise InvalidInputError(f"{self.problem(exc.error)}; this line {what}") from None

    def problem(self, error: LineError) -> Problem:
        return Problem(self.name, error.line, f"line {error.line}: {error.message}: {_shown(error.text)}")

    def is_empty(self) -> bool:
        try:
            return next(iter(Decoder(check=False).entries(self.data())), None) is None
        except InvalidLineError:
            return False


@dataclass
class FileSource(TextSource):
    """A local file or an Airflow object storage path (``s3://...``), streamed on each read."""

    path: str = ""

    def data(self) -> Any:
        return _Opened(self.path)


class _Opened:
    """A file, opened when first read and closed once read to the end or dropped."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stream: Any = None

    def read(self, size: int) -> bytes:
        if self.stream is None:
            from airflow.sdk import ObjectStoragePath

            target = ObjectStoragePath(self.path) if "://" in self.path else None
            self.stream = target.open("rb") if target is not None else open(self.path, "rb")
        chunk: bytes = self.stream.read(size)
        if not chunk:
            self.close()
        return chunk

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()

    def __del__(self) -> None:
        self.close()


@dataclass
class RecordsSource(Source):
    """Record dicts, encoded one by one, so that each bad record is named and the rest are kept.

    ``refused`` holds records found unwritable before the task ran (NaN or
    infinity, found when the ``records`` field was rendered), by number.
    """

    records: list[Any] = field(default_factory=list)
    precision: str = "ns"
    refused: dict[int, str] = field(default_factory=dict)
    field_types: Mapping[str, str] | None = None
    default_time: int | None = None
    unit: str = "record"
    # The numbers and lines of the records, kept by a check that found no problem, for sending.
    checked: tuple[list[int], list[str]] | None = None

    def check(self, decoder: Decoder, points: PointIndex | None = None) -> Iterator[Problem]:
        """Every problem of the records, in order; when there is none, their lines are
        kept in :attr:`checked`, so that sending does not encode them again. Records
        are encoded by one encoder and their lines checked a chunk at a time, and
        indexed in ``points``."""
        kept: tuple[list[int], list[str]] | None = ([], [])
        written = Written()
        encoded = self._encoded(written)
        while chunk := list(itertools.islice(encoded, CHECK_CHUNK)):
            numbers, lines, errors = map(list, zip(*chunk, strict=True))
            parts: WrittenLines | None = written.take(numbers[0])
            refused = []
            if any(errors):
                refused = [Problem(self.name, n, error) for n, _, error in chunk if error is not None]
                numbers, lines = [n for n, _, e in chunk if e is None], [x for _, x, e in chunk if e is None]
                parts = None  # not one part per line
            if points is not None:
                if parts is not None:
                    points.add_keys(parts.series, parts.times)
                else:
                    points.add(lines)
            if (
                parts is not None
                and parts.fields is not None
                and decoder.check_columns(
                    parts.fields,
                    tagged=parts.tagged,
                    longest=_longest(lines),
                    source=self.name,
                    unit=self.unit,
                )
            ):
                found = []  # the encoder's lines, of known field types: none can fail a check
            else:
                found = [
                    Problem(self.name, n, f"record {n}: {message}")
                    for n, message in decoder.check_lines(lines, numbers, source=self.name, unit=self.unit)
                ]
            if refused or found:
                kept = None
                yield from heapq.merge(refused, found, key=_number)
            elif kept is not None:
                kept[0].extend(numbers)
                kept[1].extend(lines)
        self.checked = kept

    def items(self, decoder: Decoder, *, errors_only: bool = False) -> Iterator[Item]:
        if self.checked is not None and not decoder.check:
            for number, line in zip(*self.checked, strict=True):
                yield Item(number, line, None)
            return
        check = decoder.check_entry if decoder.check else None
        name = self.name
        for number, line, error in self._encoded():
            if error is not None:
                problem = Problem(name, number, error)
                if check is None:
                    raise InvalidInputError(f"{problem}; this record cannot be sent")
                yield Item(number, "", problem)
                continue
            found = check(line, source=name, number=number) if check is not None else None
            if found is not None:
                yield Item(number, line, Problem(name, number, f"record {number}: {found}"))
            elif not errors_only:
                yield Item(number, line, None)

    def runs(self) -> Iterator[tuple[int, list[str]]]:
        """The lines to send without a check, a chunk of records at a time:
        ``(number of the first, [line, ...])``. At a record the encoder refuses, the
        lines before it come, then :class:`InvalidInputError` naming it."""
        encoded = self._encoded()
        while chunk := list(itertools.islice(encoded, CHECK_CHUNK)):
            bad = next((i for i, (_, _, error) in enumerate(chunk) if error is not None), len(chunk))
            if bad:
                yield chunk[0][0], [line for _, line, _ in chunk[:bad]]
            if bad < len(chunk):
                number, _, error = chunk[bad]
                problem = Problem(self.name, number, str(error))
                raise InvalidInputError(f"{problem}; this record cannot be sent")

    def _encoded(self, written: Written | None = None) -> Iterator[tuple[int, str, str | None]]:
        """``(number, line, None)`` for each record, or ``(number, "", problem)`` where it
        cannot be encoded; one encoder runs through the records, and starts again
        after a record it refuses. ``written`` is told the parts of each line."""
        remaining, refused = iter(self.records), self.refused  # the encoder takes one at a time
        start = 0
        while True:
            lines = encode_records(
                remaining,
                precision=self.precision,
                field_types=self.field_types,
                default_time=self.default_time,
                written=written,
            )
            number = start
            try:
                for line in lines:
                    number += 1
                    if number in refused:  # found unwritable as the field was rendered
                        yield number, "", refused[number]
                    else:
                        yield number, line, None
                return
            except RecordError as exc:
                number = start + exc.index + 1
                yield number, "", refused.get(number) or record_problem(number, exc)
                start = number

    def is_empty(self) -> bool:
        return not self.records


@dataclass
class FrameSource(Source):
    """A DataFrame (pandas, polars, pyarrow), encoded slice by slice on each read, its
    rows numbered from 0 as ``iloc`` counts them. Rows without any field value are
    not written; :attr:`without_fields` counts them on each read."""

    frame: Any = None
    mapping: FrameMapping = field(default_factory=FrameMapping)
    precision: str = "ns"
    default_time: int | None = None
    unit: str = "row"

    def __post_init__(self) -> None:
        from .line_protocol.frames import RowsWithoutFields

        self.without_fields = RowsWithoutFields()
        if type(self.frame).__name__ == "LazyFrame":  # read several times: collected once
            self.frame = self.frame.collect()

    def _slices(self, point_keys: bool = False) -> Generator[Any, None, None]:
        """The frame's slices (:class:`~influxdb_write.line_protocol.FrameLines` parts),
        counting rows without fields; the encoding threads end with the read."""
        from .line_protocol.frames import RowsWithoutFields, frame_slices

        self.without_fields = RowsWithoutFields()
        try:
            slices = frame_slices(
                self.frame,
                self.column_mapping(),
                precision=self.precision,
                default_time=self.default_time,
                point_keys=point_keys,
            )
        except FrameError as exc:
            raise InvalidInputError(f"{self.name}: {exc}; nothing was written") from None
        with contextlib.closing(slices):
            for part in slices:
                self.without_fields.add(part.empty)
                yield part

    def check(self, decoder: Decoder, points: PointIndex | None = None) -> Iterator[Problem]:
        """Every problem of the rows, in order, a slice at a time: rows the encoder
        refused, then the written lines checked in runs (:meth:`Decoder.check_lines`),
        and indexed in ``points``."""
        with contextlib.closing(self._slices(point_keys=points is not None)) as slices:
            yield from self._problems(slices, decoder, points)

    def _written(self, part: Any) -> tuple[list[str], Any]:
        """The lines a slice writes, and their rows."""
        lines = part.lines
        rows: Any = range(part.start, part.start + len(lines))
        if lines.null_count:
            rows = [part.start + i for i, valid in enumerate(lines.is_valid().to_pylist()) if valid]
            lines = lines.drop_null()
        return lines.to_pylist(), rows

    def sent_runs(self, decoder: Decoder) -> Iterator[tuple[list[str], list[int]]]:
        if decoder.check:  # rows with problems are left out one by one
            yield from super().sent_runs(decoder)
            return
        with contextlib.closing(self._slices()) as slices:
            for part in slices:
                texts, rows = self._written(part)
                yield texts, list(rows)

    def _problems(
        self, slices: Iterator[Any], decoder: Decoder, points: PointIndex | None
    ) -> Iterator[Problem]:
        for part in slices:
            if points is not None:
                keys = part.point_keys()
                if keys is not None:
                    points.add_keys(*keys)
                else:
                    points.add(self._written(part)[0])
            refused = [
                Problem(self.name, row, f"row {row}: {error.part}: {error.problem}")
                for row, error in sorted(part.problems.items())
            ]
            columns = part.columns
            if columns is not None and decoder.check_columns(
                columns.fields,
                tagged=columns.tagged,
                longest=columns.longest,
                source=self.name,
                unit=self.unit,
            ):
                continue  # no row refused, and no line can fail a check: no line is made a str
            texts, rows = self._written(part)
            found = [
                Problem(self.name, row, f"row {row}: {message}")
                for row, message in decoder.check_lines(texts, rows, source=self.name, unit=self.unit)
            ]
            yield from heapq.merge(refused, found, key=_number)

    def items(self, decoder: Decoder, *, errors_only: bool = False) -> Iterator[Item]:
        with contextlib.closing(self._slices()) as slices:  # its encoding threads end with this read
            for part in slices:
                for offset, line in enumerate(part.lines.to_pylist()):
                    row = part.start + offset
                    if line is None:
                        error = part.problems.get(row)
                        if error is None:
                            continue  # no field value: counted, not written
                        problem = Problem(self.name, row, f"row {row}: {error.part}: {error.problem}")
                        if not decoder.check:
                            raise InvalidInputError(f"{problem}; this row cannot be sent")
                        yield Item(row, "", problem)
                        continue
                    found = (
                        decoder.check_entry(line, source=self.name, number=row, unit="row")
                        if decoder.check
                        else None
                    )
                    if found is not None:
                        yield Item(row, line, Problem(self.name, row, f"row {row}: {found}"))
                    elif not errors_only:
                        yield Item(row, line, None)

    def column_mapping(self) -> FrameMapping:
        """The mapping, with only the declared field types of this frame's columns: the
        task's ``field_types`` may also declare fields of its other inputs."""
        from .line_protocol.frame_sources import open_frame

        declared = self.mapping.field_types
        if not declared:
            return self.mapping
        columns = {str(column) for column in open_frame(self.frame).columns}
        mine = {key: kind for key, kind in declared.items() if key in columns}
        return dataclasses.replace(self.mapping, field_types=mine)

    def is_empty(self) -> bool:
        return len(self.frame) == 0  # rows: pandas, polars and pyarrow alike


def _longest(lines: list[str]) -> int:
    """The size of the longest line in bytes, or more."""
    longest = max(map(len, lines), default=0)
    return longest if all(map(str.isascii, lines)) else 4 * longest


def _number(problem: Problem) -> int:
    return problem.number


def record_problem(number: int, error: RecordError) -> str:
    return f"record {number}: {error.part}: {error.problem}"


def text_source(name: str, text: str) -> Source:
    return TextSource(name, text=text)


@dataclass(frozen=True)
class Encoding:
    """How records and frames are encoded: the write's precision, declared field types,
    how a frame's columns map to measurement, tags, fields and time, and the time
    given to records and rows that have none."""

    precision: str = "ns"
    field_types: Mapping[str, str] | None = None
    frame: FrameMapping | None = None
    default_time: int | None = None

    def frame_mapping(self) -> FrameMapping:
        mapping = self.frame or FrameMapping()
        if self.field_types and not mapping.field_types:
            mapping = dataclasses.replace(mapping, field_types=self.field_types)
        return mapping


def records_source(
    name: str, records: Any, encoding: Encoding, refused: dict[int, str] | None = None
) -> Source:
    """Record dicts (or one record), or a DataFrame."""
    if is_frame(records):
        return FrameSource(
            name,
            frame=records,
            mapping=encoding.frame_mapping(),
            precision=encoding.precision,
            default_time=encoding.default_time,
        )
    if isinstance(records, Mapping):
        records = [records]
    return RecordsSource(
        name,
        records=list(records),
        precision=encoding.precision,
        refused=dict(refused or {}),
        field_types=encoding.field_types,
        default_time=encoding.default_time,
    )


def xcom_sources(name: str, value: Any, encoding: Encoding) -> list[Source]:
    """An upstream return value: a string, a list of lines, records, a DataFrame, or
    (mapped tasks) a list of any of these. Nothing returned is an empty source."""
    if value is None:
        return [TextSource(name)]
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
        return [text_source(name, text)]
    if isinstance(value, Mapping) or is_frame(value):
        return [records_source(name, value, encoding)]
    items = list(value)
    if all(isinstance(item, Mapping) for item in items):
        return [records_source(name, items, encoding)]
    if all(isinstance(item, str) for item in items):
        return [text_source(name, "\n".join(items))]
    sources = []
    for index, item in enumerate(items):
        sources.extend(xcom_sources(f"{name}[{index}]", item, encoding))
    return sources


def path_source(path: str) -> Source:
    return FileSource(f"file {path}", path=path)


def not_finite(records: Any) -> dict[int, str]:
    """Records holding a NaN or infinite float anywhere, by number (1-based), with
    the encoder's message naming the field. Airflow cannot store such a rendered
    field (JSON has no NaN), so these are found before it tries."""
    listed = [records] if isinstance(records, Mapping) else records
    if not isinstance(listed, (list, tuple)):
        return {}
    found = {}
    for number, record in enumerate(listed, 1):
        if _has_non_finite(record):
            try:
                list(encode_records([record]))
            except RecordError as exc:
                found[number] = record_problem(number, exc)
            else:  # pragma: no cover - the encoder refuses every NaN it meets
                found[number] = f"record {number}: holds NaN or infinity"
    return found


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(item) for item in value)
    return False


def check_all(
    sources: list[Source],
    decoder: Decoder,
    shown: int,
    points: PointIndex | None = None,
    precision: str = "ns",
) -> tuple[list[Problem], int]:
    """The first ``shown`` problems of all sources, and how many there are in all.

    With ``points``, entries are indexed by point as they are checked; when no
    other problem is found, entries that would change the value another entry
    gives a field of the same point are problems too (:func:`point_conflicts`).
    """
    problems: list[Problem] = []
    count = 0
    for source in sources:
        for problem in source.check(decoder, points):
            count += 1
            if len(problems) < shown:
                problems.append(problem)
    if points is not None:
        if count:
            points.close()
        else:
            reader = Decoder(check=False, max_entry_bytes=decoder.max_entry_bytes)
            problems, count, _ = point_conflicts(sources, points, lambda: reader, shown, precision)
    return problems, count


def point_conflicts(
    sources: list[Source], points: PointIndex, decoder: Callable[[], Decoder], shown: int, precision: str
) -> tuple[list[Problem], int, int]:
    """The entries of ``sources`` that give a field of a point another value than an
    earlier entry gave it, read again (only when ``points`` found point keys that
    repeat): the first ``shown`` as problems, how many there are, and how many
    entries lose a value to a later one. ``decoder()`` reads the sources again."""
    from .line_protocol.points import check_points

    def read() -> Iterator[tuple[list[str], list[tuple[int, int]]]]:
        for index, source in enumerate(sources):
            for texts, numbers in source.sent_runs(decoder()):
                yield texts, [(index, number) for number in numbers]

    conflicts, count, replaced = check_points(points, read, keep=shown * 4)
    for note in points.notes:
        log.warning("%s", note)
    conflicts.sort(key=lambda conflict: (conflict.later, conflict.earlier))  # windows each come in order
    grouped = itertools.groupby(conflicts, key=lambda conflict: (conflict.later, conflict.earlier))
    problems = [
        conflict_problem(list(same), sources, points.stamp, precision)
        for _, same in itertools.islice(grouped, shown)
    ]
    return problems, count, replaced


def conflict_problem(
    conflicts: list[Conflict], sources: list[Source], stamp: int | None, precision: str
) -> Problem:
    """Conflicts of one later entry with one earlier entry, worded for the later one:
    both places, the point, the fields with both values, and the likely cause."""
    conflict = conflicts[0]
    (first, number), (second, later) = conflict.earlier, conflict.later
    source, other = sources[second], sources[first]
    there = f"{other.unit} {number}" if other is source else f"{other.name}, {other.unit} {number}"
    point = conflict.point
    tags = f"tags {_shown_name(str(dict(point.tags)))[1:-1]}" if point.tags else "no tags"
    if point.time is None:
        when = "no time: the server's clock, the same for every line of a request"
    elif point.time == stamp:
        when = f"time {point.time}, the write's default time"
    else:
        when = f"time {point.time}"
    if len(conflicts) == 1:
        fields = (
            f"field {_shown_name(conflict.field)} is {_value(conflict.later_value)} here, but {there} gives "
            f"the same point (measurement {_shown_name(point.measurement)}, {tags}, {when}) the value "
            f"{_value(conflict.earlier_value)}"
        )
    else:
        values = ", ".join(
            f"{_shown_name(c.field)} {_value(c.later_value)} here, {_value(c.earlier_value)} there"
            for c in conflicts
        )
        fields = (
            f"fields {values}: {there} gives the same point (measurement "
            f"{_shown_name(point.measurement)}, {tags}, {when}) other values"
        )
    message = (
        f"{source.unit} {later}: {fields}; InfluxDB keeps one value per field of a point, so the earlier "
        f"value would be lost. {_likely_cause(conflicts, source, stamp, precision)}"
    )
    return Problem(source.name, later, message)


def _shown_name(name: str) -> str:
    return repr(name) if len(name) <= 60 else repr(name[:45] + "...")


def _value(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or isinstance(value, bool) else f"{int(value)}"
    return text if len(text) <= 60 else text[:45] + "..."


def _likely_cause(conflicts: list[Conflict], source: Source, stamp: int | None, precision: str) -> str:
    point = conflicts[0].point
    if point.time is None:
        return (
            "Likely cause: the lines have no timestamp and default_time=None; give each line its "
            "time, or let the operator stamp them (default_time)"
        )
    if point.time == stamp:
        if isinstance(source, FrameSource):
            return (
                "Likely cause: the frame's rows have no time (no time_column, no DatetimeIndex), so "
                "each got the write's default time; pass time_column= or index the frame by time. "
                "If the rows do have times, a column telling them apart may be missing from tag_columns"
            )
        what = 'records without a "time"' if source.unit == "record" else "lines without a timestamp"
        return (
            f"Likely cause: {what} get the write's default time, so they land on one point; give "
            "each its time, or a tag telling them apart"
        )
    causes = []
    if precision != "ns":
        causes.append(
            f"their times differ by less than one {precision} and became the same at "
            f"precision={precision!r}: write with a finer precision"
        )
    text = [c.field for c in conflicts if isinstance(c.later_value, str)]
    if text and isinstance(source, FrameSource):
        names = " or ".join(_shown_name(name) for name in text)
        causes.append(f"{names} tells the rows' series apart and belongs in tag_columns")
    elif isinstance(source, FrameSource):
        causes.append("a column telling the rows' series apart is missing from tag_columns")
    else:
        causes.append("a tag telling the series apart is missing")
    if precision == "ns":
        causes.append("the input gives the same time twice")
    return "Likely cause: " + "; or ".join(causes)
