"""Reading line protocol input as text: blocks of whole lines, with bounded memory.

Input is a ``str``, ``bytes``, a text or binary file object, or an iterable of
``str``/``bytes`` items, each holding one or more lines. Output, in order:

- blocks: ``str`` of one or more whole physical lines, each ending in ``\\n``
  (the last line of the input gets one if it has none);
- :class:`BadLine` items, one per physical line that is not text: bytes that are
  not UTF-8, a lone surrogate in a ``str``, or a line longer than the limit. A
  line over the limit is never held whole: reading skips to its end.

A UTF-8 byte-order mark at the very start of the input is dropped: editors and
spreadsheet exports write one, and it is not part of the first measurement. An
undecodable byte inside a ``#`` comment line is ignored, as comments are never
sent. Files are read :data:`READ_SIZE` bytes at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

READ_SIZE = 1 << 20
BOM = "\ufeff"
_BOM_BYTES = BOM.encode("utf-8")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOWN = 200


@dataclass(frozen=True)
class BadLine:
    """A physical line that cannot be read as line protocol text.

    ``message`` starts with the column and says why, ``text`` is the line as far as
    it can be shown (at most 200 characters), ``size`` its length in bytes.
    """

    message: str
    text: str
    size: int
    too_long: bool


def read_blocks(data: Any, *, max_line_bytes: int) -> Iterator[str | BadLine]:
    """The blocks and bad lines of ``data``, in order (see the module docstring).

    ``max_line_bytes``: a physical line of more characters than this is reported
    as too long and skipped without being held.
    """
    pieces: Iterable[tuple[str | BadLine, int | None]]
    if isinstance(data, str):
        pieces = _str_blocks(data)
    elif isinstance(data, (bytes, bytearray, memoryview)):
        pieces = _bytes_blocks(bytes(data))
    elif hasattr(data, "read"):
        pieces = _stream_blocks(data, max_line_bytes)
    else:
        pieces = _item_blocks(data)
    for block, offset in pieces:
        if isinstance(block, BadLine):
            yield block
        elif block.isascii() and len(block) <= max_line_bytes:
            yield block
        else:
            yield from _checked(block, offset, max_line_bytes)


def _str_blocks(text: str) -> Iterator[tuple[str, int | None]]:
    if text.startswith(BOM):
        text = text[1:]
    pos, end = 0, len(text)
    while pos < end:
        cut = text.find("\n", pos + READ_SIZE)
        if cut < 0:
            block = text[pos:]
            yield (block if block.endswith("\n") else block + "\n"), None
            return
        yield text[pos : cut + 1], None
        pos = cut + 1


def _bytes_blocks(raw: bytes) -> Iterator[tuple[str, int | None]]:
    pos = len(_BOM_BYTES) if raw.startswith(_BOM_BYTES) else 0
    end = len(raw)
    while pos < end:
        cut = raw.find(b"\n", pos + READ_SIZE)
        stop = end if cut < 0 else cut + 1
        block = raw[pos:stop].decode("utf-8", "surrogateescape")
        yield (block if block.endswith("\n") else block + "\n"), pos
        pos = stop


def _item_blocks(items: Iterable[Any]) -> Iterator[tuple[str, int | None]]:
    """Items joined by newlines, in blocks of about READ_SIZE characters. A
    trailing newline of an item ends its last line; it does not add a blank one."""
    items = iter(items)
    first = next(items, None)
    if first is None:
        return
    first = _item_text(first)
    parts: list[str] = [first[1:] if first.startswith(BOM) else first]
    size = len(first)
    for item in items:
        if type(item) is not str:
            item = _item_text(item)
        parts.append(item)
        size += len(item) + 1
        if size >= READ_SIZE:
            yield _joined(parts), None
            parts, size = [], 0
    if parts:
        yield _joined(parts), None


def _joined(parts: list[str]) -> str:
    """Items as lines: an item's own trailing newline ends its last line."""
    for index, part in enumerate(parts):
        if part.endswith("\n"):
            parts[index] = part[:-1]
    return "\n".join(parts) + "\n"


def _item_text(item: Any) -> str:
    if isinstance(item, (bytes, bytearray)):
        return bytes(item).decode("utf-8", "surrogateescape")
    if isinstance(item, str):
        return item[:]
    raise TypeError(f"a line must be str or bytes, not {type(item).__name__}")


def _stream_blocks(stream: IO[Any], max_line_bytes: int) -> Iterator[tuple[str | BadLine, int | None]]:
    """A file object's blocks; a line over the limit is skipped while it is read.

    The line in progress is kept as the list of reads it spans, joined once when
    its newline comes, so that a long line costs one copy, not one per read.
    """
    chunk: Any = stream.read(READ_SIZE)
    binary = isinstance(chunk, (bytes, bytearray))
    newline: Any = b"\n" if binary else "\n"
    bom: Any = _BOM_BYTES if binary else BOM
    offset = 0  # bytes before the line in progress (binary files)
    if chunk.startswith(bom):
        chunk = chunk[len(bom) :]
        offset = len(bom) if binary else 0
    empty: Any = chunk[:0]
    pending: list[Any] = []  # the reads the line in progress spans so far
    pending_size = 0
    while chunk:
        cut = chunk.rfind(newline)
        if cut < 0:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size > max_line_bytes:
                rest, size = _skip_long_line(stream, pending, newline)
                first = pending[0]
                head = first[: _SHOWN * 4].decode("utf-8", "replace") if binary else first[:_SHOWN]
                yield _too_long(head, size, max_line_bytes), None
                offset += size + 1
                pending, pending_size, chunk = [], 0, rest
                continue
        else:
            complete = empty.join([*pending, chunk[: cut + 1]])
            pending, pending_size = [chunk[cut + 1 :]], len(chunk) - cut - 1
            yield _text(complete, binary), offset if binary else None
            offset += len(complete)
        chunk = stream.read(READ_SIZE)
    if pending_size:
        yield _text(empty.join(pending), binary) + "\n", offset if binary else None


def _skip_long_line(stream: IO[Any], pending: list[Any], newline: Any) -> tuple[Any, int]:
    """Read on to the end of a line that is too long, holding none of it.

    Returns what follows its newline and its size in bytes.
    """
    size = sum(map(_size, pending))
    while True:
        chunk = stream.read(READ_SIZE)
        if not chunk:
            return chunk, size
        cut = chunk.find(newline)
        if cut >= 0:
            return chunk[cut + 1 :], size + _size(chunk[:cut])
        size += _size(chunk)


def _size(text: Any) -> int:
    if isinstance(text, (bytes, bytearray)):
        return len(text)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _text(raw: Any, binary: bool) -> str:
    text: str = raw.decode("utf-8", "surrogateescape") if binary else raw
    return text


def _too_long(head: str, size: int, limit: int) -> BadLine:
    return BadLine(
        f"column 1: the line is {size} bytes, more than the {limit} bytes one request may carry",
        _SURROGATE.sub("\ufffd", head[:_SHOWN]),
        size,
        True,
    )


def _checked(block: str, offset: int | None, max_line_bytes: int) -> Iterator[str | BadLine]:
    """``block`` with each line that is not text, or too long, taken out as a BadLine."""
    if len(block) <= max_line_bytes and _SURROGATE.search(block) is None:
        yield block
        return
    good: list[str] = []
    for line in block[:-1].split("\n"):
        bad = _bad_line(line, offset, max_line_bytes)
        if offset is not None:
            offset += len(line.encode("utf-8", "surrogateescape")) + 1
        if bad is None:
            good.append(line)
        elif bad == "":
            good.append("")  # a comment with bytes that are not UTF-8: never sent, kept as a blank line
        else:
            if good:
                yield "\n".join(good) + "\n"
                good = []
            yield bad
    if good:
        yield "\n".join(good) + "\n"


def _bad_line(line: str, offset: int | None, max_line_bytes: int) -> BadLine | str | None:
    if len(line) > max_line_bytes:
        return _too_long(line, len(line.encode("utf-8", "surrogatepass")), max_line_bytes)
    found = _SURROGATE.search(line)
    if found is None:
        return None
    if line.lstrip(" \t\x00").startswith("#"):
        return ""
    char = found.group()
    column = found.start() + 1
    if "\udc80" <= char <= "\udcff":
        where = ""
        if offset is not None:
            offset += len(line[: found.start()].encode("utf-8", "surrogateescape"))
            where = f" at byte {offset} of the input"
        problem = (
            f"invalid UTF-8 byte 0x{ord(char) - 0xDC00:02x}{where}; line protocol must be UTF-8 text "
            "(was the file saved as Latin-1 or Windows-1252?)"
        )
    else:
        problem = f"lone surrogate {char!r}, which is not text UTF-8 can carry"
    shown = _SURROGATE.sub("\ufffd", line[:_SHOWN])
    return BadLine(f"column {column}: {problem}", shown, len(line.encode("utf-8", "surrogatepass")), False)
