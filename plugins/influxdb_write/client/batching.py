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

from ..line_protocol import encode_records, iter_entries, stream_lines
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


def _item_lines(items: Iterable[str | bytes]) -> Iterator[str]:
    for item in items:
        text = item.decode("utf-8") if isinstance(item, bytes) else item
        if text.endswith("\n"):
            text = text[:-1]
        yield from text.split("\n")


def numbered_entries(data: Data, *, precision: str) -> Iterator[tuple[int, str]]:
    """``(number, entry)`` for every entry in ``data``, in order."""
    if isinstance(data, str):
        return iter_entries(data.split("\n"))
    if isinstance(data, (bytes, bytearray, memoryview)):
        return iter_entries(bytes(data).decode("utf-8").split("\n"))
    if hasattr(data, "read"):
        return iter_entries(stream_lines(data))  # type: ignore[arg-type]
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
        return iter_entries(_item_lines(items))  # type: ignore[arg-type]
    raise TypeError(
        f"cannot write items of type {type(first).__name__}; give line protocol "
        "(str, bytes, lines, a file) or record dicts"
    )


def batches(entries: Iterable[tuple[int, str]], *, max_lines: int, max_bytes: int) -> Iterator[Batch]:
    """Group entries into batches of at most ``max_lines`` entries and ``max_bytes``
    bytes. An entry is never split; one larger than ``max_bytes`` raises
    :class:`RequestTooLargeError` naming it."""
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
