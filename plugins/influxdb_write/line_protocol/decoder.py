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
import sys
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from .encoder import INT64_MAX, INT64_MIN, RESERVED_TAG_KEYS, Unsigned
from .errors import InvalidLineError, LineError
from .escaping import shown, unescape_key, unescape_measurement, unescape_string
from .precision import MAX_NANOSECONDS, MIN_NANOSECONDS, time_range


class Line(NamedTuple):
    """One parsed entry: what a server stores for it. ``time`` is None when absent."""

    line: int
    measurement: str
    tags: dict[str, str]
    fields: dict[str, Any]
    time: int | None


class _Syntax(Exception):
    def __init__(self, pos: int, message: str, *, open_string: bool = False) -> None:
        self.pos = pos
        self.message = message
        self.open_string = open_string  # the text ended inside a quoted string


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


def _end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where ``pattern``'s match at ``pos`` ends; every pattern used here can match empty."""
    match = pattern.match(text, pos)
    assert match is not None
    return match.end()


def _field_value(token: str, pos: int, key: str) -> Any:
    last = token[-1]
    if last == "i":
        if _INT.match(token, 0, len(token) - 1) and INT64_MIN <= int(token[:-1]) <= INT64_MAX:
            return int(token[:-1])
        raise _Syntax(pos, f"invalid integer value {shown(token)} for field {shown(key)}")
    if last == "u":
        if _UINT.match(token, 0, len(token) - 1) and int(token[:-1]) < 2**64:
            return Unsigned(int(token[:-1]))
        raise _Syntax(pos, f"invalid unsigned value {shown(token)} for field {shown(key)}")
    if _FLOAT.match(token):
        value = float(token)
        if value - value == 0.0:
            return value
    raise _Syntax(pos, f"invalid number {shown(token)} for field {shown(key)}")


def _parse_entry(text: str, pos: int, low: int, high: int) -> tuple[Line | None, int]:
    """Parse the entry starting at ``pos`` (the start of a line).

    Returns the entry (None for a blank or comment line) and the position just
    after its end of line. Raises ``_Syntax`` at the first error.
    """
    end = len(text)
    pos = _end(_LEADING, text, pos)
    if pos == end:
        return None, pos
    char = text[pos]
    if char == "\n":
        return None, pos + 1
    if char == "#":
        newline = text.find("\n", pos)
        return None, end if newline < 0 else newline + 1

    stop = _end(_MEASUREMENT, text, pos)
    if stop == pos:
        raise _Syntax(pos, f"invalid character {char!r} at start of measurement name")
    measurement = unescape_measurement(text[pos:stop])
    pos = stop

    tags: dict[str, str] = {}
    while pos < end and text[pos] == ",":
        pos += 1
        if pos == end or text[pos] in " \n":
            raise _Syntax(pos, "expected tag key after comma")
        stop = _end(_KEY, text, pos)
        if stop == pos or stop == end or text[stop] != "=":
            if stop == pos:
                raise _Syntax(pos, "empty tag key")
            raise _Syntax(stop, f"expected '=' after tag key {shown(text[pos:stop])}")
        key = unescape_key(text[pos:stop])
        if key in RESERVED_TAG_KEYS:
            raise _Syntax(pos, f"tag key {shown(key)} is reserved by InfluxDB")
        if key in tags:
            raise _Syntax(pos, f"duplicate tag key {shown(key)}")
        pos = stop + 1
        stop = _end(_KEY, text, pos)
        if stop == pos:
            raise _Syntax(pos, f"expected tag value after tag key {shown(key)}")
        tags[key] = unescape_key(text[pos:stop])
        pos = stop

    if pos == end or text[pos] != " ":
        found = "the end of the line" if pos == end or text[pos] == "\n" else repr(text[pos])
        raise _Syntax(pos, f"expected a space and then fields, found {found}")
    pos = _end(_SPACES, text, pos)

    fields: dict[str, Any] = {}
    while True:
        stop = _end(_KEY, text, pos)
        if stop == pos:
            raise _Syntax(pos, "expected field key")
        key = unescape_key(text[pos:stop])
        if stop == end or text[stop] != "=":
            raise _Syntax(stop, f"expected '=' after field key {shown(key)}")
        if key == "time":
            raise _Syntax(pos, "field key 'time' is reserved by InfluxDB")
        pos = stop + 1
        if pos == end:
            raise _Syntax(pos, f"expected value for field {shown(key)}, found end of input")
        char = text[pos]
        if char == '"':
            stop = _end(_STRING, text, pos + 1)
            if stop == end:
                raise _Syntax(pos, f"missing closing quote of string field {shown(key)}", open_string=True)
            fields[key] = unescape_string(text[pos + 1 : stop])
            pos = stop + 1
        elif char in "tTfF":
            stop = _end(_TOKEN, text, pos)
            value = _BOOLS.get(text[pos:stop])
            if value is None:
                raise _Syntax(pos, f"invalid boolean {shown(text[pos:stop])} for field {shown(key)}")
            fields[key] = value
            pos = stop
        elif char in "-0123456789.":
            stop = _end(_TOKEN, text, pos)
            fields[key] = _field_value(text[pos:stop], pos, key)
            pos = stop
        elif char in " ,":
            raise _Syntax(pos, f"missing value for field {shown(key)}")
        else:
            stop = _end(_TOKEN, text, pos)
            raise _Syntax(pos, f"value {shown(text[pos:stop])} of field {shown(key)} has no known type")
        if pos == end:
            return Line(0, measurement, tags, fields, None), pos
        char = text[pos]
        if char == ",":
            pos += 1
            continue
        if char not in " \n":
            raise _Syntax(pos, f"unexpected character {char!r} after field {shown(key)}")
        break

    pos = _end(_SPACES, text, pos)
    timestamp = None
    stop = _end(_TIME, text, pos)
    if stop > pos:
        token = text[pos:stop]
        ends_well = stop == end or text[stop] in " \n"
        if not (ends_well and _INT.match(token) and low <= int(token) <= high):
            newline = text.find("\n", pos)
            bad = text[pos : end if newline < 0 else newline]
            raise _Syntax(pos, f"invalid timestamp {shown(bad)}; it must be an integer in {low}..{high}")
        timestamp = int(token)
        pos = _end(_SPACES, text, stop)
    if pos == end:
        return Line(0, measurement, tags, fields, timestamp), pos
    if text[pos] == "\n":
        return Line(0, measurement, tags, fields, timestamp), pos + 1
    newline = text.find("\n", pos)
    extra = text[pos : end if newline < 0 else newline]
    after = "fields" if timestamp is None else "timestamp"
    raise _Syntax(pos, f"unexpected text {shown(extra)} after the {after}")


def _line_error(text: str, start: int, line_no: int, error: _Syntax) -> LineError:
    """The LineError for ``error`` in the entry starting at ``start`` on ``line_no``."""
    line_no += text.count("\n", start, error.pos)
    line_start = text.rfind("\n", 0, error.pos) + 1 if error.pos > start else start
    newline = text.find("\n", max(error.pos, start))
    line_end = len(text) if newline < 0 else newline
    column = error.pos - line_start + 1
    message = f"column {column}: {error.message}"
    if text.endswith("\r", line_start, line_end):
        message += " (the line ends in a carriage return: convert CRLF line endings to LF)"
    return LineError(line_no, message, text[line_start:line_end])


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
            visible = raw.decode("utf-8", "replace")
            errors.append(LineError(index + 1, f"column {exc.start + 1}: invalid UTF-8", visible))
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
            raise InvalidLineError(_line_error(decoded, pos, line_no, exc)) from None
        if entry is not None:
            yield entry._replace(line=line_no)
        line_no += decoded.count("\n", pos, stop)
        pos = stop


_fast_patterns: dict[str, re.Pattern[str]] = {}


# Possessive quantifiers (Python 3.11+) never give back what they matched: the
# fast path then fails sooner and never matches more than without them.
_P = "+" if sys.version_info >= (3, 11) else ""


def _digits_up_to(high: int) -> str:
    """A regex for the non-negative integers up to ``high`` that need no range check."""
    width = len(str(high))
    first = int(str(high)[0])
    short = f"[0-9]{{1,{width - 1}}}{_P}"
    return short if first < 2 else f"(?:[1-{first - 1}][0-9]{{{width - 1}}}|{short})"


def _fast_line(precision: str) -> re.Pattern[str]:
    """A regex for the common valid line: names that start plainly and use only the
    standard escapes, no control characters, numbers short enough to be in range
    without checking. Every line it matches is valid once its tag section (group
    1) passes :func:`_plain_tags` and it has no ``time=`` field; any other line
    goes to the full parser."""
    pattern = _fast_patterns.get(precision)
    if pattern is None:
        plain = r"[^\x00-\x20,=\\\x7f]"
        name = rf"{plain}+{_P}(?:\\[ ,=]{plain}*{_P})*{_P}"
        measurement = rf"[^\x00-\x20,=\\#\x7f]{plain}*{_P}(?:\\[ ,]{plain}*{_P})*{_P}"
        digits = f"[0-9]{{{{1,17}}}}{_P}"
        exponent = f"(?:[eE][-+]?[0-9]{{{{1,2}}}}{_P})?"
        fraction = rf"(?:\.[0-9]{{{{0,17}}}}{_P}{exponent}|[eE][-+]?[0-9]{{{{1,2}}}}{_P})"
        value = (
            (
                f"(?:{digits}(?:i|u|{fraction})?|-{digits}(?:i|{fraction})?|-?\\.{digits}{exponent}"
                f'|"[^"\\\\\\n]*{_P}(?:\\\\["\\\\][^"\\\\\\n]*{_P})*{_P}"'
                "|true|false|True|False|TRUE|FALSE|t|f|T|F)"
            )
            .replace("{{", "{")
            .replace("}}", "}")
        )
        field = f"{name}={value}"
        timestamp = "-?" + _digits_up_to(time_range(precision)[1])
        pattern = re.compile(
            rf" *{_P}{measurement}((?:,{name}={name})*{_P}) +{_P}{field}(?:,{field})*{_P}"
            rf"(?: +{_P}({timestamp}))? *{_P}"
        )
        _fast_patterns[precision] = pattern
    return pattern


def _plain_tags(tags: str) -> bool:
    """Whether the tag section ``,k=v,k=v`` of a fast-path line has neither a
    duplicate nor a reserved key. Splitting also at escaped commas can only
    report a problem that is not there, which sends the line to the full parser."""
    if not tags:
        return True
    keys = [pair.partition("=")[0] for pair in tags[1:].split(",")]
    return len(set(keys)) == len(keys) and RESERVED_TAG_KEYS.isdisjoint(keys)


def _check_entry(lines: list[str], index: int, low: int, high: int) -> tuple[LineError | None, int]:
    """Fully parse the entry that starts on ``lines[index]``.

    Returns its error (or None) and how many further lines the entry took: a
    string field value with raw newlines continues on the next line that has a
    quote, so only those lines are tried as possible ends.
    """
    text = lines[index]
    taken = 0
    while True:
        try:
            _parse_entry(text, 0, low, high)
            return None, taken
        except _Syntax as exc:
            if exc.open_string:
                extra = taken + 1
                while index + extra < len(lines) and '"' not in lines[index + extra]:
                    extra += 1
                if index + extra < len(lines):
                    text = "\n".join(lines[index : index + extra + 1])
                    taken = extra
                    continue
                taken = len(lines) - index - 1
            return _line_error(text, 0, index + 1, exc), taken


def validate(text: str | bytes, *, precision: str = "ns") -> list[LineError]:
    """Check line protocol without sending it; return every invalid line (empty if valid).

    Blank lines and ``#`` comment lines are valid. Each error names its 1-based
    line number, the column and what is wrong. ``precision`` sets the range a
    timestamp must be in.
    """
    decoded, errors = _decoded(text)
    fast = _fast_line(precision).fullmatch
    low, high = time_range(precision)
    plain_tags: set[str] = set()  # tag sections already checked: series repeat
    lines = decoded.split("\n")
    numbered = enumerate(lines)
    for index, line in numbered:
        match = fast(line)
        if match is not None and "time=" not in line:
            tags = match.group(1)
            if tags in plain_tags:
                continue
            if _plain_tags(tags):
                if len(plain_tags) >= 100_000:
                    plain_tags.clear()
                plain_tags.add(tags)
                continue
        error, taken = _check_entry(lines, index, low, high)
        if error is not None:
            errors.append(error)
        for _ in range(taken):
            next(numbered)
    errors.sort(key=lambda error: error.line)
    return errors


def with_default_time(entry: str, timestamp: int) -> str:
    """``entry`` with ``timestamp`` appended if it has none. Invalid entries come
    back unchanged: validation, not this function, reports them."""
    match = _fast_line("ns").fullmatch(entry)
    if match is not None:
        has_time = match.group(2) is not None
    else:
        try:
            line, _ = _parse_entry(entry, 0, MIN_NANOSECONDS, MAX_NANOSECONDS)
        except _Syntax:
            return entry
        if line is None:
            return entry
        has_time = line.time is not None
    return entry if has_time else f"{entry.rstrip(' ')} {timestamp}"


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.lstrip(" \t\x00")
    return not stripped or stripped[0] == "#"


def _opens_string(text: str) -> bool:
    """Whether ``text`` ends inside a string field value, so the entry goes on."""
    try:
        _parse_entry(text, 0, MIN_NANOSECONDS, MAX_NANOSECONDS)
    except _Syntax as exc:
        return exc.open_string
    return False


def _strings_close(line: str) -> bool:
    """A cheap sufficient test that every string field value in ``line`` closes on it.

    Holds when the measurement and tags (up to the first space) have no
    backslash, so that space really ends them. In the fields, a quote right
    after an unescaped ``=`` can only open a string value, which ends at the
    next quote not preceded by an odd run of backslashes. False means "not
    proven", not "open".
    """
    if line[0] in " \t\x00":
        return False
    space = line.find(" ")
    if space < 0 or "\\" in line[:space]:
        return False
    quote = line.find('"', space)
    while quote >= 0:
        if line[quote - 1] != "=" or line[quote - 2] == "\\":
            return False
        close = line.find('"', quote + 1)
        while close >= 0 and line[close - 1] == "\\":
            inside = line[quote + 1 : close]
            if (len(inside) - len(inside.rstrip("\\"))) % 2 == 0:
                break
            close = line.find('"', close + 1)
        if close < 0:
            return False
        quote = line.find('"', close + 1)
    return True


def iter_entries(lines: Iterable[str], *, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """Group physical lines into entries: ``(line number, entry)`` in order.

    Blank and comment lines are skipped (numbers still count them). An entry
    whose string field value holds raw newlines spans several lines and is
    yielded whole, numbered by its first line, so that batching never splits it.
    Invalid lines are yielded as they are; validating them is not this function's
    job. Lines without a quote, the common case, cost one substring test.
    """
    fast = _fast_line("ns").fullmatch
    pending: list[str] = []
    start = 0
    for number, line in enumerate(lines, first_line):
        if pending:
            pending.append(line)
            if '"' in line:
                text = "\n".join(pending)
                if not _opens_string(text):
                    yield start, text
                    pending = []
            continue
        if not line or line[0] in " \t\x00#":
            if _is_blank_or_comment(line):
                continue
        if '"' in line and not _strings_close(line) and fast(line) is None and _opens_string(line):
            pending = [line]
            start = number
            continue
        yield number, line
    if pending:
        yield start, "\n".join(pending)
