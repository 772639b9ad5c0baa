"""The line protocol grammar: one entry, parsed from a position in a text.

This is the only definition of what a valid entry is; the decoder's fast paths
are checked against it by property tests. The grammar is the one InfluxData's
reference decoder implements (``influxdata/line-protocol`` v2) and its public
corpus tests, adjusted where a real InfluxDB server reads text differently (the
server wins; the cases are listed in ``docs/line-protocol.md``):

* only LF ends a line; a CR is an ordinary character, so CRLF line endings
  make the value before them invalid;
* control characters are accepted inside names, keys and tag values, as
  InfluxDB accepts and stores them; spaces, tabs and NULs before the measurement
  are skipped, and a comment line is ``#`` up to the end of the line;
* the tag keys ``_measurement``, ``_field`` and ``time`` and the field key
  ``time`` are rejected, as InfluxDB rejects them;
* timestamps must lie in InfluxDB's storable range.

On top of the grammar, :class:`Rules` with ``checks`` on refuse what a server
would read differently from what was written, or refuse: a field key given
twice, a byte-order mark inside a name, a string value over 64 KiB, and the
rules of the target API (unsigned integers on InfluxDB 1.x, the storage
engine's key length on 1.x and 2.x, a tag and a field of one name on 3.x).

An entry normally fits on one line; a string field value may hold raw newlines,
and then the entry continues on the next line. A string's closing quote is
looked for in the next :data:`~.limits.STRING_SCAN_CHARS` characters only, so an
unclosed quote never makes an entry swallow the rest of the input.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .encoder import RESERVED_TAG_KEYS
from .escaping import shown, unescape_key, unescape_measurement, unescape_string
from .limits import KEY_SEPARATOR_BYTES, MAX_KEY_BYTES, MAX_STRING_BYTES, STRING_SCAN_CHARS
from .precision import time_range
from .values import INT64_MAX, INT64_MIN, Unsigned

APIS = ("v2", "v1", "v3")
BOM = "\ufeff"


class Rules(NamedTuple):
    """What a parse enforces: the timestamp range of a precision, the target API,
    and whether the rules beyond the grammar apply (``checks``)."""

    low: int
    high: int
    api: str = "v2"
    checks: bool = True


def rules_for(precision: str = "ns", api: str = "v2", *, checks: bool = True) -> Rules:
    """The rules for writing with ``precision`` to ``api``; ``ValueError`` if either is unknown."""
    if api not in APIS:
        raise ValueError(f"api {api!r} is not one of {', '.join(APIS)}")
    return Rules(*time_range(precision), api, checks)


class Parsed(NamedTuple):
    """One parsed entry: what a server stores for it, where it ends, and the raw
    (escaped) text of its names, in order, for the decoder's fast path."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, Any]
    time: int | None
    end: int  # just after the entry's newline, or the end of the text
    raw_measurement: str
    raw_tag_keys: tuple[str, ...]
    raw_field_keys: tuple[str, ...]
    field_positions: tuple[int, ...]


class SyntaxProblem(Exception):
    """What is wrong at ``pos``.

    ``unclosed``: a string value opened at ``pos`` has no closing quote in reach;
    the entry is taken to end with that line. ``spanning``: the position of the
    entry's first string value that holds a raw newline, or -1. ``rule``: the
    entry is well formed, but breaks a rule beyond the grammar.
    """

    def __init__(self, pos: int, message: str, *, unclosed: bool = False, rule: bool = False) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message
        self.unclosed = unclosed
        self.rule = rule  # a rule beyond the grammar: the entry itself is well formed
        self.spanning = -1


def _broken_rule(pos: int, message: str) -> SyntaxProblem:
    return SyntaxProblem(pos, message, rule=True)


class NeedMoreText(Exception):
    """The text ended inside a string value that text still to come may close."""


_MEASUREMENT = re.compile(r"(?:[^, \n\\]|\\[, ]|\\)*")
_KEY = re.compile(r"(?:[^,= \n\\]|\\[,= ]|\\)*")
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


def string_end(text: str, start: int, limit: int) -> int:
    """The position of the quote that closes a string value whose text starts at
    ``start`` (just after its opening quote), looking before ``limit`` only; -1 if
    there is none.

    A quote is escaped when an odd number of backslashes precedes it: ``\\\\``
    is an escaped backslash, ``\\"`` an escaped quote.
    """
    quote = text.find('"', start, limit)
    while quote >= 0 and text[quote - 1] == "\\":
        before = quote - 2
        while before >= start and text[before] == "\\":
            before -= 1
        if (quote - before) % 2 == 1:
            return quote
        quote = text.find('"', quote + 1, limit)
    return quote


def _no_bom(raw: str, pos: int, what: str, name: str) -> None:
    found = raw.find(BOM)
    if found >= 0:
        raise _broken_rule(
            pos + found,
            f"{what} {shown(name)} holds a byte-order mark (U+FEFF), which InfluxDB would store "
            "as part of the name; remove it",
        )


def _field_value(token: str, pos: int, key: str, rules: Rules) -> Any:
    last = token[-1]
    if last == "i":
        if _INT.match(token, 0, len(token) - 1) and INT64_MIN <= int(token[:-1]) <= INT64_MAX:
            return int(token[:-1])
        raise SyntaxProblem(pos, f"invalid integer value {shown(token)} for field {shown(key)}")
    if last == "u":
        if _UINT.match(token, 0, len(token) - 1) and int(token[:-1]) < 2**64:
            if rules.checks and rules.api == "v1":
                raise _broken_rule(
                    pos,
                    f"unsigned integer {shown(token)} for field {shown(key)}: InfluxDB 1.x has no "
                    f"unsigned type (api='v1'); write {token[:-1]}i, or a float",
                )
            return Unsigned(int(token[:-1]))
        raise SyntaxProblem(pos, f"invalid unsigned value {shown(token)} for field {shown(key)}")
    if _FLOAT.match(token):
        value = float(token)
        if value - value == 0.0:
            return value
    raise SyntaxProblem(pos, f"invalid number {shown(token)} for field {shown(key)}")


def _byte_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def parse_entry(text: str, pos: int, rules: Rules, *, final: bool = True) -> tuple[Parsed | None, int]:
    """Parse the entry starting at ``pos`` (the start of a line) in ``text``.

    Returns the entry (None for a blank or comment line) and the position just
    after its end of line. Raises :class:`SyntaxProblem` at the first error, and
    :class:`NeedMoreText` when ``final`` is false and ``text`` ends inside a
    string value.
    """
    spanning = -1
    try:
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

        start = pos
        stop = _end(_MEASUREMENT, text, pos)
        if stop == pos:
            raise SyntaxProblem(pos, f"invalid character {char!r} at start of measurement name")
        raw_measurement = text[pos:stop]
        measurement = unescape_measurement(raw_measurement)
        if rules.checks:
            _no_bom(raw_measurement, pos, "measurement", measurement)
        pos = stop

        tags: dict[str, str] = {}
        raw_tag_keys: list[str] = []
        while pos < end and text[pos] == ",":
            pos += 1
            if pos == end or text[pos] in " \n":
                raise SyntaxProblem(pos, "expected tag key after comma")
            stop = _end(_KEY, text, pos)
            if stop == pos or stop == end or text[stop] != "=":
                if stop == pos:
                    raise SyntaxProblem(pos, "empty tag key")
                raise SyntaxProblem(stop, f"expected '=' after tag key {shown(text[pos:stop])}")
            key = unescape_key(text[pos:stop])
            if key in RESERVED_TAG_KEYS:
                raise SyntaxProblem(pos, f"tag key {shown(key)} is reserved by InfluxDB")
            if key in tags:
                raise SyntaxProblem(pos, f"duplicate tag key {shown(key)}")
            if rules.checks:
                _no_bom(text[pos:stop], pos, "tag key", key)
            raw_tag_keys.append(text[pos:stop])
            pos = stop + 1
            stop = _end(_KEY, text, pos)
            if stop == pos:
                raise SyntaxProblem(pos, f"expected tag value after tag key {shown(key)}")
            tags[key] = value = unescape_key(text[pos:stop])
            if rules.checks:
                _no_bom(text[pos:stop], pos, "tag value", value)
            pos = stop

        if pos == end or text[pos] != " ":
            found = "the end of the line" if pos == end or text[pos] == "\n" else repr(text[pos])
            raise SyntaxProblem(pos, f"expected a space and then fields, found {found}")
        series_bytes = -1
        if rules.checks and rules.api != "v3":
            series_bytes = _byte_length(text[start:pos]) + KEY_SEPARATOR_BYTES
        pos = _end(_SPACES, text, pos)

        fields: dict[str, Any] = {}
        raw_field_keys: list[str] = []
        positions: list[int] = []
        while True:
            stop = _end(_KEY, text, pos)
            if stop == pos:
                raise SyntaxProblem(pos, "expected field key")
            key = unescape_key(text[pos:stop])
            if stop == end or text[stop] != "=":
                raise SyntaxProblem(stop, f"expected '=' after field key {shown(key)}")
            if key == "time":
                raise SyntaxProblem(pos, "field key 'time' is reserved by InfluxDB")
            if rules.checks:
                _check_field_key(text, pos, stop, key, fields, tags, rules, series_bytes)
            raw_field_keys.append(text[pos:stop])
            positions.append(pos)
            pos = stop + 1
            if pos == end or text[pos] == "\n":
                raise SyntaxProblem(pos, f"expected value for field {shown(key)}, found the end of the line")
            char = text[pos]
            if char == '"':
                limit = min(end, pos + 1 + STRING_SCAN_CHARS)
                stop = string_end(text, pos + 1, limit)
                if stop < 0:
                    if limit < end or limit - pos - 1 >= STRING_SCAN_CHARS:
                        raise SyntaxProblem(
                            pos,
                            f"missing closing quote of string field {shown(key)}: none follows within "
                            f"{STRING_SCAN_CHARS} characters, and a string value holds at most 64 KiB",
                            unclosed=True,
                        )
                    if not final:
                        raise NeedMoreText
                    raise SyntaxProblem(
                        pos,
                        f"missing closing quote of string field {shown(key)}: none follows before "
                        "the end of the input",
                        unclosed=True,
                    )
                if spanning < 0 and text.find("\n", pos, stop) >= 0:
                    spanning = pos
                value = unescape_string(text[pos + 1 : stop])
                if rules.checks and len(value) * 4 > MAX_STRING_BYTES:
                    size = _byte_length(value)
                    if size > MAX_STRING_BYTES:
                        raise _broken_rule(
                            pos,
                            f"string value of field {shown(key)} is {size} bytes, more than InfluxDB's "
                            f"limit of {MAX_STRING_BYTES} (64 KiB)",
                        )
                fields[key] = value
                pos = stop + 1
            elif char in "tTfF":
                stop = _end(_TOKEN, text, pos)
                boolean = _BOOLS.get(text[pos:stop])
                if boolean is None:
                    token = shown(text[pos:stop])
                    raise SyntaxProblem(pos, f"invalid boolean {token} for field {shown(key)}")
                fields[key] = boolean
                pos = stop
            elif char in "-0123456789.":
                stop = _end(_TOKEN, text, pos)
                fields[key] = _field_value(text[pos:stop], pos, key, rules)
                pos = stop
            elif char in " ,":
                raise SyntaxProblem(pos, f"missing value for field {shown(key)}")
            else:
                stop = _end(_TOKEN, text, pos)
                raise SyntaxProblem(
                    pos, f"value {shown(text[pos:stop])} of field {shown(key)} has no known type"
                )
            if pos == end:
                break
            char = text[pos]
            if char == ",":
                pos += 1
                continue
            if char not in " \n":
                raise SyntaxProblem(pos, f"unexpected character {char!r} after field {shown(key)}")
            break

        parts = (raw_measurement, tuple(raw_tag_keys), tuple(raw_field_keys), tuple(positions))
        pos = _end(_SPACES, text, pos)
        timestamp = None
        stop = _end(_TIME, text, pos)
        if stop > pos:
            token = text[pos:stop]
            ends_well = stop == end or text[stop] in " \n"
            if not (ends_well and _INT.match(token) and rules.low <= int(token) <= rules.high):
                newline = text.find("\n", pos)
                bad = text[pos : end if newline < 0 else newline]
                raise SyntaxProblem(
                    pos, f"invalid timestamp {shown(bad)}; it must be an integer in {rules.low}..{rules.high}"
                )
            timestamp = int(token)
            pos = _end(_SPACES, text, stop)
        if pos == end:
            return Parsed(measurement, tags, fields, timestamp, pos, *parts), pos
        if text[pos] == "\n":
            return Parsed(measurement, tags, fields, timestamp, pos + 1, *parts), pos + 1
        newline = text.find("\n", pos)
        extra = text[pos : end if newline < 0 else newline]
        after = "fields" if timestamp is None else "timestamp"
        raise SyntaxProblem(pos, f"unexpected text {shown(extra)} after the {after}")
    except SyntaxProblem as problem:
        problem.spanning = spanning
        raise


def _check_field_key(
    text: str,
    pos: int,
    stop: int,
    key: str,
    fields: dict[str, Any],
    tags: dict[str, str],
    rules: Rules,
    series_bytes: int,
) -> None:
    """The rules beyond the grammar for one field key at ``pos``."""
    if key in fields:
        raise _broken_rule(pos, f"duplicate field key {shown(key)}; InfluxDB would keep only its last value")
    _no_bom(text[pos:stop], pos, "field key", key)
    if rules.api == "v3" and key in tags:
        raise _broken_rule(
            pos,
            f"field key {shown(key)} is also a tag key; InfluxDB 3 keeps the tags and fields of a "
            "table in one set of columns (api='v3'), so rename one",
        )
    if series_bytes >= 0 and (series_bytes + stop - pos) * 4 > MAX_KEY_BYTES:
        size = series_bytes + _byte_length(text[pos:stop])
        if size > MAX_KEY_BYTES:
            raise _broken_rule(
                pos,
                f"the series key (measurement and tags) with field key {shown(key)} is {size} bytes; "
                f"InfluxDB allows at most {MAX_KEY_BYTES} (max key length)",
            )
