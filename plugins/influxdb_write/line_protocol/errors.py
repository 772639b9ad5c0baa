"""Error types of the line protocol codec.

Encoding errors name the record (its index in the caller's input) and the part
at fault; validation errors name the 1-based line number in the caller's text.
"""

from __future__ import annotations

from dataclasses import dataclass

from .escaping import shown


class LineProtocolError(ValueError):
    """Base of every codec error. A ``ValueError``, so generic handlers catch it."""


class RecordError(LineProtocolError):
    """A record cannot be encoded into line protocol that means what the caller meant.

    ``index`` is the record's position in the caller's input (0 for
    ``encode_record``); ``part`` names the measurement, tag or field at fault.
    """

    def __init__(self, index: int, part: str, problem: str) -> None:
        self.index = index
        self.part = part
        self.problem = problem
        super().__init__(f"record {index}: {part}: {problem}")


class RowError(RecordError):
    """A row of a frame cannot be encoded; ``index`` is its position (0-based, as
    ``iloc`` counts) in the frame."""

    def __init__(self, index: int, part: str, problem: str) -> None:
        super().__init__(index, part, problem)
        self.args = (f"row {index}: {part}: {problem}",)


class FrameError(LineProtocolError):
    """A frame, or how its columns are mapped, cannot be written at all: a column
    that is missing, of a type line protocol cannot carry, or named twice."""


@dataclass(frozen=True)
class LineError:
    """One invalid line found by :func:`validate`.

    ``line`` is 1-based in the text that was validated, ``message`` says what is
    wrong and at which column, ``text`` is the offending line itself.
    """

    line: int
    message: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}: {shown(self.text, 200)}"


class InvalidLineError(LineProtocolError):
    """Raised by :func:`parse_lines` at the first line that is not valid line protocol, and
    where entries are framed without validation, at a line that is not text."""

    def __init__(self, error: LineError) -> None:
        self.error = error
        super().__init__(str(error))


class EntryTooLargeError(InvalidLineError):
    """An entry, or a physical line, is larger than one request may carry.

    Raised only where entries are framed without validation (the write client);
    validation reports it as a :class:`LineError` instead. ``size`` is in bytes,
    at least; ``limit`` is the largest allowed.
    """

    def __init__(self, error: LineError, *, size: int, limit: int) -> None:
        super().__init__(error)
        self.size = size
        self.limit = limit
