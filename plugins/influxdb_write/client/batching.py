"""Turning the caller's data into batches of whole entries, as a stream.

Accepted data: ``str`` or ``bytes`` of line protocol, an iterable of lines, an
iterable of record dicts (encoded with the codec), or a binary or text file
object. Nothing is read ahead beyond the batch being built, so memory stays
independent of the input's size.

Each entry keeps its number in the caller's input, so an error can name it:
the physical line for text and lines, the 1-based position for records.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ..line_protocol import DEFAULT_MAX_ENTRY_BYTES, EntryTooLargeError, encode_records, iter_entries
from .errors import RequestTooLargeError

Data = str | bytes | Iterable[str] | Iterable[Mapping[str, Any]] | IO[str] | IO[bytes]


@dataclass
class Batch:
    """Entries to send in one request, with their numbers in the caller's input."""

    entries: list[str]
    numbers: list[int]
    size: int  # bytes of the body: UTF-8 entries joined by newlines

    def halves(self) -> tuple[Batch, Batch]:
        middle = len(self.entries) // 2
        return _batch(self.entries[:middle], self.numbers[:middle]), _batch(
            self.entries[middle:], self.numbers[middle:]
        )

    def body(self) -> bytes:
        return "\n".join(self.entries).encode("utf-8")


def _size(entry: str) -> int:
    return len(entry) if entry.isascii() else len(entry.encode("utf-8"))


def _batch(entries: list[str], numbers: list[int]) -> Batch:
    return Batch(entries, numbers, sum(map(_size, entries)) + len(entries) - 1)


class _Framed:
    """Line protocol input, framed into entries when iterated. :func:`batches` sets
    ``max_bytes`` first, so that a line too large for any request is skipped unread."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.max_bytes = DEFAULT_MAX_ENTRY_BYTES

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return iter_entries(self.data, max_entry_bytes=self.max_bytes)


def numbered_entries(data: Data, *, precision: str) -> Iterable[tuple[int, str]]:
    """``(number, entry)`` for every entry in ``data``, in order."""
    if isinstance(data, (str, bytes, bytearray, memoryview)) or hasattr(data, "read"):
        return _Framed(data)
    if isinstance(data, Mapping):
        return enumerate(encode_records([data], precision=precision), 1)
    items = iter(data)
    first = next(items, None)
    if first is None:
        return iter(())
    items = itertools.chain([first], items)
    if isinstance(first, Mapping):
        return enumerate(encode_records(items, precision=precision), 1)  # type: ignore[arg-type]
    if isinstance(first, (str, bytes)):
        return _Framed(items)
    raise TypeError(
        f"cannot write items of type {type(first).__name__}; give line protocol "
        "(str, bytes, lines, a file) or record dicts"
    )


def batches(entries: Iterable[tuple[int, str]], *, max_lines: int, max_bytes: int) -> Iterator[Batch]:
    """Group entries into batches of at most ``max_lines`` entries and ``max_bytes``
    bytes. An entry is never split; one larger than ``max_bytes`` raises
    :class:`RequestTooLargeError` naming it."""
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
