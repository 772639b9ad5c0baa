"""Parsing and validation of line protocol text.

The grammar is the one InfluxData's reference decoder implements
(``influxdata/line-protocol`` v2) and its public corpus tests, adjusted where a
real InfluxDB server reads text differently (the server wins; the cases are
listed in ``docs/line-protocol.md``):

* only LF ends a line; a CR is an ordinary character, so CRLF line endings
  make the value before them invalid;
* control characters are accepted inside names, keys and tag values, as
  InfluxDB accepts and stores them; spaces, tabs and NULs before the measurement
  are skipped, and a comment line is ``#`` up to the end of the line;
* the tag keys ``_measurement``, ``_field`` and ``time`` and the field key
  ``time`` are rejected, as InfluxDB rejects them;
* timestamps must lie in InfluxDB's storable range.

An entry normally fits on one line; a string field value may hold raw newlines,
and then the entry continues on the next line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from .encoder import RESERVED_TAG_KEYS, Unsigned
from .errors import InvalidLineError, LineError
from .escaping import unescape_key, unescape_measurement, unescape_string
from .precision import time_range


class Line(NamedTuple):
    """One parsed entry: what a server stores for it. ``time`` is None when absent."""

    line: int
    measurement: str
    tags: dict[str, str]
    fields: dict[str, Any]
    time: int | None


class _Syntax(Exception):
    def __init__(self, pos: int, message: str) -> None:
        self.pos = pos
        self.message = message


_MEASUREMENT = re.compile(r"(?:[^, \n\\]|\\[, ]|\\)*")
_KEY = re.compile(r"(?:[^,= \n\\]|\\[,= ]|\\)*")
_STRING = re.compile(r'(?:[^"\\]|\\.|\\)*', re.DOTALL)
_TOKEN = re.compile(r"[^, \n]*")
_TIME = re.compile(r"[-0-9]*")
_SPACES = re.compile(r" *")
_LEADING = re.compile(r"[ \t\x00]*")
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_INT = re.compile(r"-?[0-9]+\Z")
_UINT = re.compile(r"[0-9]+\Z")
_BOOLS = {
    **dict.fromkeys(("t", "T", "true", "True", "TRUE"), True),
    **dict.fromkeys(("f", "F", "false", "False", "FALSE"), False),
}
_INT64 = (-(2**63), 2**63 - 1)


def _field_value(token: str, pos: int, key: str) -> Any:
    last = token[-1]
    if last == "i":
        if _INT.match(token, 0, len(token) - 1) and _INT64[0] <= int(token[:-1]) <= _INT64[1]:
            return int(token[:-1])
        raise _Syntax(pos, f"invalid integer value {token!r} for field {key!r}")
    if last == "u":
        if _UINT.match(token, 0, len(token) - 1) and int(token[:-1]) < 2**64:
            return Unsigned(int(token[:-1]))
        raise _Syntax(pos, f"invalid unsigned value {token!r} for field {key!r}")
    if _FLOAT.match(token):
        value = float(token)
        if value - value == 0.0:
            return value
    raise _Syntax(pos, f"invalid number {token!r} for field {key!r}")


def _parse_entry(text: str, pos: int, low: int, high: int) -> tuple[Line | None, int]:
    """Parse the entry starting at ``pos`` (the start of a line).

    Returns the entry (None for a blank or comment line) and the position just
    after its end of line. Raises ``_Syntax`` at the first error.
    """
    end = len(text)
    pos = _LEADING.match(text, pos).end()
    if pos == end:
        return None, pos
    char = text[pos]
    if char == "\n":
        return None, pos + 1
    if char == "#":
        newline = text.find("\n", pos)
        return None, end if newline < 0 else newline + 1

    stop = _MEASUREMENT.match(text, pos).end()
    if stop == pos:
        raise _Syntax(pos, f"invalid character {char!r} at start of measurement name")
    measurement = unescape_measurement(text[pos:stop])
    pos = stop

    tags: dict[str, str] = {}
    while pos < end and text[pos] == ",":
        pos += 1
        if pos == end or text[pos] in " \n":
            raise _Syntax(pos, "expected tag key after comma")
        stop = _KEY.match(text, pos).end()
        if stop == pos or stop == end or text[stop] != "=":
            if stop == pos:
                raise _Syntax(pos, "empty tag key")
            raise _Syntax(stop, f"expected '=' after tag key {text[pos:stop]!r}")
        key = unescape_key(text[pos:stop])
        if key in RESERVED_TAG_KEYS:
            raise _Syntax(pos, f"tag key {key!r} is reserved by InfluxDB")
        if key in tags:
            raise _Syntax(pos, f"duplicate tag key {key!r}")
        pos = stop + 1
        stop = _KEY.match(text, pos).end()
        if stop == pos:
            raise _Syntax(pos, f"expected tag value after tag key {key!r}")
        tags[key] = unescape_key(text[pos:stop])
        pos = stop

    if pos == end or text[pos] != " ":
        found = "the end of the line" if pos == end or text[pos] == "\n" else repr(text[pos])
        raise _Syntax(pos, f"expected a space and then fields, found {found}")
    pos = _SPACES.match(text, pos).end()

    fields: dict[str, Any] = {}
    while True:
        stop = _KEY.match(text, pos).end()
        if stop == pos:
            raise _Syntax(pos, "expected field key")
        key = unescape_key(text[pos:stop])
        if stop == end or text[stop] != "=":
            raise _Syntax(stop, f"expected '=' after field key {key!r}")
        if key == "time":
            raise _Syntax(pos, "field key 'time' is reserved by InfluxDB")
        pos = stop + 1
        if pos == end:
            raise _Syntax(pos, f"expected value for field {key!r}, found end of input")
        char = text[pos]
        if char == '"':
            stop = _STRING.match(text, pos + 1).end()
            if stop == end:
                raise _Syntax(pos, f"missing closing quote of string field {key!r}")
            fields[key] = unescape_string(text[pos + 1 : stop])
            pos = stop + 1
        elif char in "tTfF":
            stop = _TOKEN.match(text, pos).end()
            value = _BOOLS.get(text[pos:stop])
            if value is None:
                raise _Syntax(pos, f"invalid boolean {text[pos:stop]!r} for field {key!r}")
            fields[key] = value
            pos = stop
        elif char in "-0123456789.":
            stop = _TOKEN.match(text, pos).end()
            fields[key] = _field_value(text[pos:stop], pos, key)
            pos = stop
        elif char in " ,":
            raise _Syntax(pos, f"missing value for field {key!r}")
        else:
            stop = _TOKEN.match(text, pos).end()
            raise _Syntax(pos, f"value {text[pos:stop]!r} of field {key!r} has no known type")
        if pos == end:
            return Line(0, measurement, tags, fields, None), pos
        char = text[pos]
        if char == ",":
            pos += 1
            continue
        if char not in " \n":
            raise _Syntax(pos, f"unexpected character {char!r} after field {key!r}")
        break

    pos = _SPACES.match(text, pos).end()
    timestamp = None
    stop = _TIME.match(text, pos).end()
    if stop > pos:
        token = text[pos:stop]
        if (
            stop < end
            and text[stop] not in " \n"
            or not _INT.match(token)
            or not low <= int(token) <= high
        ):
            newline = text.find("\n", pos)
            bad = text[pos : end if newline < 0 else newline]
            raise _Syntax(pos, f"invalid timestamp {bad!r}; it must be an integer in {low}..{high}")
        timestamp = int(token)
        pos = _SPACES.match(text, stop).end()
    if pos == end:
        return Line(0, measurement, tags, fields, timestamp), pos
    if text[pos] == "\n":
        return Line(0, measurement, tags, fields, timestamp), pos + 1
    newline = text.find("\n", pos)
    extra = text[pos : end if newline < 0 else newline]
    raise _Syntax(pos, f"unexpected text {extra!r} after {'timestamp' if timestamp is not None else 'fields'}")


def _line_error(text: str, start: int, line_no: int, error: _Syntax) -> tuple[LineError, int]:
    """The LineError for ``error`` in the entry starting at ``start`` on ``line_no``,
    and where parsing resumes: the line after the one the error is on."""
    line_no += text.count("\n", start, error.pos)
    line_start = text.rfind("\n", 0, error.pos) + 1 if error.pos > start else start
    newline = text.find("\n", max(error.pos, start))
    line_end = len(text) if newline < 0 else newline
    column = error.pos - line_start + 1
    message = f"column {column}: {error.message}"
    if text.endswith("\r", line_start, line_end):
        message += " (the line ends in a carriage return: convert CRLF line endings to LF)"
    return LineError(line_no, message, text[line_start:line_end]), (
        len(text) if newline < 0 else newline + 1
    )


def _decoded(text: str | bytes) -> tuple[str, list[LineError]]:
    """Text as str; for bytes, each line that is not UTF-8 is reported and blanked."""
    if isinstance(text, str):
        return text, []
    try:
        return text.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    errors = []
    lines = text.split(b"\n")
    for index, raw in enumerate(lines):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            shown = raw.decode("utf-8", "replace")
            errors.append(LineError(index + 1, f"column {exc.start + 1}: invalid UTF-8", shown))
            lines[index] = b""
    return b"\n".join(lines).decode("utf-8"), errors


def parse_lines(text: str | bytes, *, precision: str = "ns") -> Iterator[Line]:
    """Parse line protocol into :class:`Line` entries, skipping blank and comment lines.

    Raises :class:`InvalidLineError` at the first invalid line.
    """
    decoded, errors = _decoded(text)
    if errors:
        raise InvalidLineError(errors[0])
    low, high = time_range(precision)
    pos, line_no, end = 0, 1, len(decoded)
    while pos < end:
        try:
            entry, stop = _parse_entry(decoded, pos, low, high)
        except _Syntax as exc:
            raise InvalidLineError(_line_error(decoded, pos, line_no, exc)[0]) from None
        if entry is not None:
            yield entry._replace(line=line_no + decoded.count("\n", pos, _first_char(decoded, pos)))
        line_no += decoded.count("\n", pos, stop)
        pos = stop


def _first_char(text: str, pos: int) -> int:
    return _LEADING.match(text, pos).end()


_fast_patterns: dict[str, re.Pattern[str]] = {}


def _fast_line(precision: str) -> re.Pattern[str]:
    """A regex for the common, simple valid line: no backslashes, no control
    characters, numbers short enough to be in range without checking. Every line
    it matches is valid; a line it does not match goes to the full parser."""
    pattern = _fast_patterns.get(precision)
    if pattern is None:
        low, high = time_range(precision)
        digits = len(str(high)) - 1
        name = r"[^\x00-\x20,=\\\x7f]+"
        field_key = r"(?!time=)" + name
        tag_key = r"(?!(?:time|_field|_measurement)=)" + name
        value = (
            r'(?:"[^"\\\n\r]*"|-?[0-9]{1,18}i|[0-9]{1,19}u'
            r"|-?(?:[0-9]{1,17}(?:\.[0-9]{0,17})?|\.[0-9]{1,17})(?:[eE][-+]?[0-9]{1,2})?"
            r"|true|false|True|False|TRUE|FALSE|t|f|T|F)"
        )
        field = f"{field_key}={value}"
        pattern = re.compile(
            rf" *[^\x00-\x20,\\#\x7f=][^\x00-\x20,\\\x7f=]*((?:,{tag_key}={name})*)"
            rf" +{field}(?:,{field})*(?: +-?[0-9]{{1,{digits}}})? *"
        )
        _fast_patterns[precision] = pattern
    return pattern


def _distinct_tags(tags: str) -> bool:
    """Whether the tag section ``,k=v,k=v`` of a fast-path line has no duplicate key."""
    if tags.count(",") < 2:
        return True
    keys = [pair.partition("=")[0] for pair in tags.split(",")]
    return len(set(keys)) == len(keys)


def validate(text: str | bytes, *, precision: str = "ns") -> list[LineError]:
    """Check line protocol without sending it; return every invalid line (empty if valid).

    Blank lines and ``#`` comment lines are valid. Each error names its 1-based
    line number, the column and what is wrong. ``precision`` sets the range a
    timestamp must be in.
    """
    decoded, errors = _decoded(text)
    fast = _fast_line(precision).fullmatch
    low, high = time_range(precision)
    lines = decoded.split("\n")
    count = len(lines)
    index = pos = 0
    while index < count:
        line = lines[index]
        match = fast(line)
        if match is not None and _distinct_tags(match.group(1)):
            pos += len(line) + 1
            index += 1
            continue
        try:
            _, stop = _parse_entry(decoded, pos, low, high)
        except _Syntax as exc:
            error, stop = _line_error(decoded, pos, index + 1, exc)
            errors.append(error)
        if stop >= len(decoded):
            break
        index += decoded.count("\n", pos, stop)
        pos = stop
    errors.sort(key=lambda error: error.line)
    return errors
