"""Turning the caller's data into batches of whole entries, as a stream.

Accepted data: ``str`` or ``bytes`` of line protocol, an iterable of lines, an
iterable of record dicts (encoded with the codec), a binary or text file
object, or a DataFrame (pandas, polars, pyarrow; encoded by the codec slice by
slice). Nothing is read ahead beyond the batch (or frame slice) being built, so
memory stays independent of the input's size.

Each entry keeps its number in the caller's input, so an error can name it:
the physical line for text and lines, the 1-based position for records, the
row's position plus one for frames.
"""

from __future__ import annotations

import bisect
import dataclasses
import gzip
import itertools
import logging
import operator
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..line_protocol import (
    DEFAULT_MAX_ENTRY_BYTES,
    EntryTooLargeError,
    FrameMapping,
    encode_records,
    is_frame,
)
from ..line_protocol.decoder import iter_entry_runs, with_default_time, with_default_times
from .errors import RequestTooLargeError

log = logging.getLogger(__name__)

# Any[...] stands for a DataFrame: pandas, polars (also LazyFrame) or pyarrow (Table, RecordBatch).
Data = str | bytes | Iterable[str] | Iterable[Mapping[str, Any]] | IO[str] | IO[bytes] | Any
# (number, entry), or (number, [entry, ...]) for entries numbered on from it.
Numbered = Iterable[tuple[int, str | list[str]]]


@dataclass(frozen=True)
class Input:
    """One input of a write of several (:meth:`InfluxDBWriteClient.write_inputs`).

    ``data`` is what :meth:`~InfluxDBWriteClient.write` takes, or with ``framed``
    an iterable of ``(number, entry)`` pairs that are already single entries, sent
    as they are (the caller framed and numbered them); an item may also be
    ``(number, [entry, ...])``, entries numbered ``number`` on, batched in
    slices. ``name`` says where a line came from in messages; its lines are
    numbered within it. ``frame`` maps a frame's columns; ``field_types``
    declares types of records and frames;
    ``default_time`` (an integer in the write's precision) stamps the lines, records
    and frame rows that have no time.
    """

    data: Data
    name: str = ""
    frame: FrameMapping | None = None
    field_types: Mapping[str, str] | None = None
    default_time: int | None = None
    framed: bool = False


class Batch:
    """Entries to send in one request, with their numbers in the caller's input.

    ``size`` is the body's length: the UTF-8 entries joined by newlines. A frame's
    batch comes with its body already joined, and its entries are made strs only
    if needed (a rejected line to name, a batch to split). In a write of several
    inputs, ``sources`` holds ``(index, name)`` where the entries of each input
    start (its numbers count within it); in a write of one it is empty.
    """

    def __init__(
        self,
        entries: Sequence[str],
        numbers: Sequence[int],
        size: int,
        body: bytes | None = None,
        sources: Sequence[tuple[int, str]] = (),
    ) -> None:
        self._entries = entries
        self.numbers = numbers
        self.size = size
        self._body = body
        self._payload: bytes | None = None
        self.sources = sources

    def source_of(self, index: int) -> str:
        """The name of the input entry ``index`` came from, or "" in a write of one."""
        at = bisect.bisect_right([start for start, _ in self.sources], index) - 1
        return self.sources[at][1] if at >= 0 else ""

    def span(self) -> str:
        """Its lines in words: ``lines 5-8``; in a write of several inputs, by input:
        ``lines 3-4 of line_protocol, line 1 of records``."""
        if not self.sources:
            return _lines(self.numbers)
        ends = [start for start, _ in self.sources[1:]] + [len(self.numbers)]
        return ", ".join(
            f"{_lines(self.numbers[start:end])} of {name}"
            for (start, name), end in zip(self.sources, ends, strict=True)
        )

    @property
    def entries(self) -> Sequence[str]:
        if not isinstance(self._entries, (list, tuple)):
            self._entries = list(self._entries)
        return self._entries

    def texts(self) -> Sequence[str]:
        """The entries, one text each: a frame's cut from its body, which is cheaper
        than making them one by one, unless an entry holds a newline."""
        if isinstance(self._entries, (list, tuple)):
            return self._entries
        texts = self.body().decode("utf-8").split("\n")
        return texts if len(texts) == len(self.numbers) else self.entries

    def halves(self) -> tuple[Batch, Batch]:
        return self.split_at(len(self.entries) // 2)

    def split_at(self, index: int) -> tuple[Batch, Batch]:
        """Its first ``index`` entries and the others, as two batches."""
        return self._part(0, index), self._part(index, len(self.entries))

    def _part(self, start: int, stop: int) -> Batch:
        entries = self.entries[start:stop]
        sources = _started([(max(0, at - start), name) for at, name in self.sources], stop - start)
        size = sum(map(_size, entries)) + len(entries) - 1
        return Batch(entries, self.numbers[start:stop], size, sources=sources)

    def body(self) -> bytes:
        if self._body is None:
            self._body = "\n".join(self.entries).encode("utf-8")
        return self._body

    def payload(self, gzip_level: int) -> bytes:
        """The body as sent: gzip-compressed at ``gzip_level`` (0: as it is), made
        once. The write compresses each batch before the sender thread takes it, so
        that compressing the next batch overlaps the server's work on this one."""
        if self._payload is None:
            body = self.body()
            self._payload = gzip.compress(body, gzip_level, mtime=0) if gzip_level else body
        return self._payload


def _lines(numbers: Sequence[int]) -> str:
    return f"line {numbers[0]}" if len(numbers) == 1 else f"lines {numbers[0]}-{numbers[-1]}"


def _size(entry: str) -> int:
    return len(entry) if entry.isascii() else len(entry.encode("utf-8"))


class _Framed:
    """Line protocol input, framed into entries when iterated, entries without a time
    given ``default_time``. :func:`batches` sets ``max_bytes`` first, so that a line
    too large for any request is skipped unread."""

    def __init__(self, data: Any, default_time: int | None = None) -> None:
        self.data = data
        self.default_time = default_time
        self.max_bytes = DEFAULT_MAX_ENTRY_BYTES

    def __iter__(self) -> Iterator[tuple[int, str | list[str]]]:
        """``(number, entry)``, or ``(number, [entry, ...])`` for entries on
        consecutive lines (see :func:`~..line_protocol.decoder.iter_entry_runs`)."""
        entries = iter_entry_runs(self.data, max_entry_bytes=self.max_bytes)
        stamp = self.default_time
        if stamp is None:
            return entries
        return (
            (
                number,
                with_default_time(entry, stamp)
                if isinstance(entry, str)
                else with_default_times(entry, stamp),
            )
            for number, entry in entries
        )


class _Frame:
    """A DataFrame, encoded slice by slice when :func:`batches` reads it."""

    def __init__(self, frame: Any, mapping: FrameMapping, precision: str, default_time: int | None) -> None:
        from ..line_protocol.frames import RowsWithoutFields, frame_slices

        # The mapping is checked here, before anything is sent.
        self.slices = frame_slices(frame, mapping, precision=precision, default_time=default_time)
        self.without_fields = RowsWithoutFields()

    def batches(self, max_lines: int, max_bytes: int, source: str) -> Iterator[Batch]:
        from ..line_protocol.frame_columns import text_chunks

        without_fields = self.without_fields
        sources = [(0, source)] if source else []
        try:
            for part in self.slices:
                without_fields.add(part.empty)
                lines = part.lines
                stop = min(part.problems, default=None)
                if stop is not None:
                    lines = lines.slice(0, stop - part.start)
                rows: Any = range(part.start + 1, part.start + 1 + len(lines))
                if lines.null_count:
                    rows = [part.start + 1 + i for i, line in enumerate(lines.is_valid().to_pylist()) if line]
                    lines = lines.drop_null()
                for first, count, body in text_chunks(lines, max_lines, max_bytes):
                    numbers = rows[first : first + count]
                    if len(body) > max_bytes:
                        raise RequestTooLargeError(
                            f"line {numbers[0]} (row {numbers[0] - 1} of the frame) is {len(body)} bytes, "
                            f"more than max_batch_bytes={max_bytes}; no request can carry it"
                        )
                    yield Batch(_Texts(lines.slice(first, count)), numbers, len(body), body, sources)
                if stop is not None:
                    raise part.problems[stop]
        finally:
            self.slices.close()  # the slices still waiting are cancelled, the encoding threads end
        note = without_fields.note()
        if note:
            log.warning("%s%s", f"{source}: " if source else "", note)


class _Texts(Sequence[str]):
    """Lines of a frame batch, made strs when first read."""

    def __init__(self, lines: Any) -> None:
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines.to_pylist())

    def __getitem__(self, index: Any) -> Any:
        return self.lines.to_pylist()[index]


def numbered_entries(
    data: Data,
    *,
    precision: str,
    frame: FrameMapping | None = None,
    field_types: Mapping[str, str] | None = None,
    default_time: int | None = None,
) -> Numbered | _Frame:
    """``(number, entry)`` for every entry in ``data``, in order; a frame is
    encoded with ``frame`` (its mapping) when :func:`batches` reads it. Lines,
    records and frame rows without a time get ``default_time``."""
    if is_frame(data):
        mapping = frame or FrameMapping()
        if field_types:
            mapping = dataclasses.replace(mapping, field_types=field_types)
        return _Frame(data, mapping, precision, default_time)
    if frame is not None:
        raise TypeError(
            f"measurement, tag_columns and the other column options are for DataFrames; "
            f"this data is {type(data).__name__}"
        )
    if isinstance(data, (str, bytes, bytearray, memoryview)) or hasattr(data, "read"):
        _sent_as_written(field_types)
        return _Framed(data, default_time)
    encoding: dict[str, Any] = {
        "precision": precision,
        "field_types": field_types,
        "default_time": default_time,
    }
    if isinstance(data, Mapping):
        return enumerate(encode_records([data], **encoding), 1)
    items = iter(data)
    first = next(items, None)
    if first is None:
        return iter(())
    items = itertools.chain([first], items)
    if isinstance(first, Mapping):
        return enumerate(encode_records(items, **encoding), 1)
    if isinstance(first, (str, bytes)):
        _sent_as_written(field_types)
        return _Framed(items, default_time)
    raise TypeError(
        f"cannot write items of type {type(first).__name__}; give line protocol "
        "(str, bytes, lines, a file) or record dicts"
    )


def _sent_as_written(field_types: Mapping[str, str] | None) -> None:
    """Line protocol text is sent as written (but for a default time): refuse types."""
    if field_types:
        raise TypeError("field_types converts records and frames; line protocol text is sent as it is")


def batches(
    inputs: Sequence[tuple[str, Numbered | _Frame]],
    *,
    max_lines: int,
    max_bytes: int,
    reading: list[str] | None = None,
) -> Generator[Batch, None, None]:
    """Group the entries of ``inputs`` (``(name, entries)``; the name is empty in a
    write of one) into batches of at most ``max_lines`` entries and ``max_bytes``
    bytes, in order. Consecutive inputs share batches, so many small inputs make
    few requests; a frame's rows are batched on their own. An entry is never
    split; one larger than ``max_bytes`` raises :class:`RequestTooLargeError`
    naming it. ``reading[0]`` is set to the name of the input being read, so that
    a message about bad data can name it."""
    reading = reading if reading is not None else [""]
    pending: list[tuple[str, Numbered]] = []
    for name, entries in inputs:
        if isinstance(entries, _Frame):
            yield from _batches(pending, max_lines, max_bytes, reading)
            pending = []
            reading[0] = name
            yield from entries.batches(max_lines, max_bytes, name)
            continue
        if isinstance(entries, _Framed):
            entries.max_bytes = max_bytes
        pending.append((name, entries))
    yield from _batches(pending, max_lines, max_bytes, reading)


def _batches(
    inputs: list[tuple[str, Iterable[tuple[int, Any]]]], max_lines: int, max_bytes: int, reading: list[str]
) -> Iterator[Batch]:
    texts: list[str] = []
    numbers: list[int] = []
    sources: list[tuple[int, str]] = []
    size = -1
    for name, entries in inputs:
        of = f" of {name}" if name else ""
        reading[0] = name
        if name:
            sources.append((len(texts), name))
        try:
            for number, entry in entries:
                if type(entry) is list:  # entries on consecutive lines (_Framed): added in slices
                    lengths = list(map(len, entry) if all(map(str.isascii, entry)) else map(_size, entry))
                    too_large = max(lengths, default=0) > max_bytes
                    if too_large:  # the entries before it are batched, then it is refused
                        entry = entry[: next(i for i, length in enumerate(lengths) if length > max_bytes)]
                    ends = list(itertools.accumulate(map(operator.add, lengths, itertools.repeat(1))))
                    start = base = 0
                    while start < len(entry):
                        fit = min(
                            bisect.bisect_right(ends, base + max_bytes - size, start) - start,
                            max_lines - len(texts),
                        )
                        if fit <= 0:
                            yield Batch(texts, numbers, size, sources=_started(sources, len(texts)))
                            texts, numbers, size = [], [], -1
                            sources = [(0, name)] if name else []
                            continue
                        stop = start + fit
                        texts += entry[start:stop]
                        numbers += range(number + start, number + stop)
                        size += ends[stop - 1] - base
                        start, base = stop, ends[stop - 1]
                    if not too_large:
                        continue
                    number, length = number + len(entry), lengths[len(entry)]
                else:
                    length = len(entry) if entry.isascii() else len(entry.encode("utf-8"))
                if length > max_bytes:
                    raise RequestTooLargeError(
                        f"line {number}{of} is {length} bytes, more than max_batch_bytes={max_bytes}; "
                        "no request can carry it"
                    )
                size += 1 + length
                if size > max_bytes or len(texts) == max_lines:
                    yield Batch(texts, numbers, size - 1 - length, sources=_started(sources, len(texts)))
                    texts, numbers, size = [], [], length
                    sources = [(0, name)] if name else []
                texts.append(entry)
                numbers.append(number)
        except EntryTooLargeError as exc:
            raise RequestTooLargeError(
                f"line {exc.error.line}{of} is {exc.size} bytes or more, more than "
                f"max_batch_bytes={max_bytes}; no request can carry it"
            ) from exc
    if texts:
        yield Batch(texts, numbers, size, sources=_started(sources, len(texts)))


def _started(sources: list[tuple[int, str]], count: int) -> list[tuple[int, str]]:
    """The inputs that have entries among the first ``count``: an input that gave
    none is dropped, as is one that starts only after them."""
    return [
        (at, name)
        for n, (at, name) in enumerate(sources)
        if at < count and (n + 1 == len(sources) or sources[n + 1][0] > at)
    ]
