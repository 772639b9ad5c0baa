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

import dataclasses
import itertools
import logging
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from ..line_protocol import (
    DEFAULT_MAX_ENTRY_BYTES,
    EntryTooLargeError,
    FrameMapping,
    encode_records,
    is_frame,
    iter_entries,
)
from .errors import RequestTooLargeError

log = logging.getLogger(__name__)

# Any[...] stands for a DataFrame: pandas, polars (also LazyFrame) or pyarrow (Table, RecordBatch).
Data = str | bytes | Iterable[str] | Iterable[Mapping[str, Any]] | IO[str] | IO[bytes] | Any


class Batch:
    """Entries to send in one request, with their numbers in the caller's input.

    ``size`` is the body's length: the UTF-8 entries joined by newlines. A frame's
    batch comes with its body already joined, and its entries are made strs only
    if needed (a rejected line to name, a batch to split).
    """

    def __init__(
        self, entries: Sequence[str], numbers: Sequence[int], size: int, body: bytes | None = None
    ) -> None:
        self._entries = entries
        self.numbers = numbers
        self.size = size
        self._body = body

    @property
    def entries(self) -> Sequence[str]:
        if not isinstance(self._entries, (list, tuple)):
            self._entries = list(self._entries)
        return self._entries

    def halves(self) -> tuple[Batch, Batch]:
        middle = len(self.entries) // 2
        return _batch(self.entries[:middle], self.numbers[:middle]), _batch(
            self.entries[middle:], self.numbers[middle:]
        )

    def body(self) -> bytes:
        if self._body is None:
            return "\n".join(self.entries).encode("utf-8")
        return self._body


def _size(entry: str) -> int:
    return len(entry) if entry.isascii() else len(entry.encode("utf-8"))


def _batch(entries: Sequence[str], numbers: Sequence[int]) -> Batch:
    return Batch(entries, numbers, sum(map(_size, entries)) + len(entries) - 1)


class _Framed:
    """Line protocol input, framed into entries when iterated. :func:`batches` sets
    ``max_bytes`` first, so that a line too large for any request is skipped unread."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.max_bytes = DEFAULT_MAX_ENTRY_BYTES

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return iter_entries(self.data, max_entry_bytes=self.max_bytes)


class _Frame:
    """A DataFrame, encoded slice by slice when :func:`batches` reads it."""

    def __init__(self, frame: Any, mapping: FrameMapping, precision: str) -> None:
        from ..line_protocol.frames import frame_slices

        self.slices = frame_slices(frame, mapping, precision=precision)  # the mapping is checked here

    def batches(self, max_lines: int, max_bytes: int) -> Iterator[Batch]:
        from ..line_protocol.frame_columns import text_chunks
        from ..line_protocol.frames import RowsWithoutFields

        without_fields = RowsWithoutFields()
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
                    yield Batch(_Texts(lines.slice(first, count)), numbers, len(body), body)
                if stop is not None:
                    raise part.problems[stop]
        finally:
            self.slices.close()  # the slices still waiting are cancelled, the encoding threads end
        note = without_fields.note()
        if note:
            log.warning("%s", note)


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
) -> Iterable[tuple[int, str]] | _Frame:
    """``(number, entry)`` for every entry in ``data``, in order; a frame is
    encoded with ``frame`` (its mapping) when :func:`batches` reads it."""
    if is_frame(data):
        mapping = frame or FrameMapping()
        if field_types:
            mapping = dataclasses.replace(mapping, field_types=field_types)
        return _Frame(data, mapping, precision)
    if frame is not None:
        raise TypeError(
            f"measurement, tag_columns and the other column options are for DataFrames; "
            f"this data is {type(data).__name__}"
        )
    if isinstance(data, (str, bytes, bytearray, memoryview)) or hasattr(data, "read"):
        if field_types:
            raise TypeError("field_types converts records and frames; line protocol text is sent as it is")
        return _Framed(data)
    if isinstance(data, Mapping):
        return enumerate(encode_records([data], precision=precision, field_types=field_types), 1)
    items = iter(data)
    first = next(items, None)
    if first is None:
        return iter(())
    items = itertools.chain([first], items)
    if isinstance(first, Mapping):
        return enumerate(encode_records(items, precision=precision, field_types=field_types), 1)
    if isinstance(first, (str, bytes)):
        if field_types:
            raise TypeError("field_types converts records and frames; line protocol text is sent as it is")
        return _Framed(items)
    raise TypeError(
        f"cannot write items of type {type(first).__name__}; give line protocol "
        "(str, bytes, lines, a file) or record dicts"
    )


def batches(
    entries: Iterable[tuple[int, str]] | _Frame, *, max_lines: int, max_bytes: int
) -> Generator[Batch, None, None]:
    """Group entries into batches of at most ``max_lines`` entries and ``max_bytes``
    bytes. An entry is never split; one larger than ``max_bytes`` raises
    :class:`RequestTooLargeError` naming it."""
    if isinstance(entries, _Frame):
        yield from entries.batches(max_lines, max_bytes)
        return
    if isinstance(entries, _Framed):
        entries.max_bytes = max_bytes
    try:
        yield from _batches(entries, max_lines, max_bytes)
    except EntryTooLargeError as exc:
        raise RequestTooLargeError(
            f"line {exc.error.line} is {exc.size} bytes or more, more than max_batch_bytes={max_bytes}; "
            "no request can carry it"
        ) from exc


def _batches(entries: Iterable[tuple[int, str]], max_lines: int, max_bytes: int) -> Iterator[Batch]:
    texts: list[str] = []
    numbers: list[int] = []
    size = -1
    for number, entry in entries:
        length = len(entry) if entry.isascii() else len(entry.encode("utf-8"))
        if length > max_bytes:
            raise RequestTooLargeError(
                f"line {number} is {length} bytes, more than max_batch_bytes={max_bytes}; "
                "no request can carry it"
            )
        size += 1 + length
        if size > max_bytes or len(texts) == max_lines:
            yield Batch(texts, numbers, size - 1 - length)
            texts, numbers, size = [], [], length
        texts.append(entry)
        numbers.append(number)
    if texts:
        yield Batch(texts, numbers, size)
