"""Physical lines of a file object, read in chunks so memory stays bounded."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import IO, Any

READ_SIZE = 1 << 20


def stream_lines(stream: IO[Any]) -> Iterator[str]:
    """Lines of a text or binary (UTF-8) file, read ``READ_SIZE`` at a time;
    the newline that ends each line is dropped."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail = ""
    while True:
        chunk = stream.read(READ_SIZE)
        if not chunk:
            break
        text = decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        lines = (tail + text).split("\n")
        tail = lines.pop()
        yield from lines
    tail += decoder.decode(b"", final=True)
    if tail:
        yield tail
