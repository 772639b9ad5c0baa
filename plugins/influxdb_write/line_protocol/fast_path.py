"""Regular expressions that let the decoder skip the parser on common lines.

Each one accepts only lines whose meaning the parser (:mod:`.grammar`) gives
the same way; anything else goes to the parser. ``tests/test_fast_paths.py``
checks that they agree with it on generated input with escapes, quotes and
newlines: the decoder gives the same entries and errors with them as without.

- :func:`closes_on_its_line`: a line that cannot open a string value that goes
  on to the next line (framing, without validation), :data:`CLOSED_RUN`,
  which frames whole runs of the commonest such lines in one match, and
  :func:`lines_are_entries`, a whole block of lines that are entries each;
- :func:`plain_line`: a common valid line, and where its timestamp is;
- :class:`Shapes`: lines of a shape (measurement, tag keys, field keys and
  types) already found valid, so their field types need no check either.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from .grammar import string_end
from .precision import time_range

# Possessive quantifiers (Python 3.11+) never give back what they matched: a
# failing match fails sooner. Every pattern here also reads a line one way only
# without them, so older Pythons get the same answers, more slowly.
_P = "+" if sys.version_info >= (3, 11) else ""
# A run of whole lines. Without possessive quantifiers the engine keeps a record
# for each repetition, to backtrack into (about 38 MB over a 1 MB block on 3.10),
# so there a run is at most 256 lines and the caller matches again where it ends.
_LINES = "*+" if sys.version_info >= (3, 11) else "{0,256}"

_PLAIN = r"[^\x00-\x20,=\\\x7f\ufeff]"
NAME = rf"{_PLAIN}+{_P}(?:\\[ ,=]{_PLAIN}*{_P})*{_P}"
_MEASUREMENT = rf"[^\x00-\x20,=\\#\x7f\ufeff]{_PLAIN}*{_P}(?:\\[ ,]{_PLAIN}*{_P})*{_P}"
_EXPONENT = rf"(?:[eE][-+]?[0-9]{{1,2}}{_P})?"
FLOAT = rf"-?(?:[0-9]{{1,17}}{_P}(?:\.[0-9]*{_P})?|\.[0-9]+{_P}){_EXPONENT}"
INTEGER = rf"-?[0-9]{{1,18}}{_P}i"
UNSIGNED = rf"[0-9]{{1,19}}{_P}u"
STRING = rf'"[^"\\\n]*{_P}(?:\\[^\n][^"\\\n]*{_P})*{_P}"'
BOOLEAN = "(?:true|True|TRUE|false|False|FALSE|t|T|f|F)"
_VALUES = {"a float": FLOAT, "an integer": INTEGER, "an unsigned integer": UNSIGNED, "a string": STRING}
_VALUES["a boolean"] = BOOLEAN
# Integers first: FLOAT also matches the digits of ``3i``, and a possessive
# repetition of fields would not come back to try INTEGER after it.
_ANY_VALUE = f"(?:{INTEGER}|{UNSIGNED}|{FLOAT}|{STRING}|{BOOLEAN})"
_BLANK_OR_COMMENT = rf"[ \t\x00]*{_P}(?:#[^\n]*{_P})?"


# A line that surely ends its entry, and runs of them with blank and comment lines
# (framing without validation). The series key has no quote, and a backslash only
# alone before a space, comma or equals sign, so it ends at the first space that no
# backslash precedes, however the escapes are read; after it, a quote must follow
# an "=" that no backslash precedes, and its string value must close on the line.
# Anything else goes to closes_on_its_line. Written as "normal* (special normal*)*"
# so that a line that fails, fails at once, with or without possessive quantifiers.
_SERIES = rf'(?:[^\s"\\#\x00]|\\[ ,=])[^\s"\\]*{_P}(?:\\[ ,=][^\s"\\]*{_P})*{_P}'
_CLOSED_STRING = rf'"[^"\\\n]*{_P}(?:\\[^\n][^"\\\n]*{_P})*{_P}"'
_FIELDS = rf'[^"\\\n]*{_P}(?:(?:\\[^\n]|(?<=[^\\]=){_CLOSED_STRING})[^"\\\n]*{_P})*{_P}'
CLOSED_RUN = re.compile(rf"(?:(?:{_SERIES} {_FIELDS}|{_BLANK_OR_COMMENT})\n){_LINES}")


# Where a string value may still be open at a newline: a string value opens only
# right after the ``=`` that ends a field key, so from any ``="``, through text
# with no quote that ends a string (see :func:`~.grammar.string_end`), to a newline.
_MAYBE_OPEN = re.compile(rf'="(?:[^"\\\n]|\\[^\n])*{_P}\\?\n')
_ODD_LINE_START = re.compile(r"\n[\n \t\x00#]")


def lines_are_entries(block: str) -> bool:
    """Whether every line of ``block`` (whole lines, each ending in a newline) is
    surely one entry on its own, as framing without validation reads it: no line
    is blank, a comment or starts with whitespace, and no string value can go on
    past the end of its line. False means "not proven"."""
    return (
        block[:1] not in ("", "\n", " ", "\t", "\x00", "#")
        and _ODD_LINE_START.search(block) is None
        and _MAYBE_OPEN.search(block) is None
    )


_TIMED_LINES = re.compile(rf"(?:[^\n]* -?[0-9]+{_P}\n){_LINES}")


def all_end_in_time(block: str) -> bool:
    """Whether every line of ``block`` (whole lines) ends in a space and an
    integer: each one has a time, if it is valid (see
    :func:`~.decoder.with_default_time`)."""
    pos, end = 0, len(block)
    while pos < end:
        stop = _TIMED_LINES.match(block, pos).end()  # type: ignore[union-attr]  # matches empty
        if stop == pos:
            return False
        pos = stop
    return True


def closes_on_its_line(text: str, pos: int, eol: int) -> bool:
    """Whether the line ``text[pos:eol]`` surely does not end inside a string value.

    The measurement and tags end at the first space that no backslash escapes. In
    the fields, a quote can only open a string value right after the ``=`` that
    ends a field key, and the value ends where :func:`~.grammar.string_end` says.
    False means "not proven", and the parser decides.
    """
    if text[pos] in " \t\x00#":
        return False
    space = text.find(" ", pos, eol)
    while space > 0 and text[space - 1] == "\\":
        space = text.find(" ", space + 1, eol)
    if space < 0:
        return True  # no fields, so no string value
    quote = text.find('"', space, eol)
    while quote >= 0:
        if text[quote - 1] != "=" or text[quote - 2] == "\\":
            return False
        close = string_end(text, quote + 1, eol)
        if close < 0:
            return False
        quote = text.find('"', close + 1, eol)
    return True


def _digits_up_to(high: int) -> str:
    """A regex for the non-negative integers up to ``high`` that need no range check."""
    width = len(str(high))
    first = int(str(high)[0])
    short = f"[0-9]{{1,{width - 1}}}{_P}"
    return short if first < 2 else f"(?:[1-{first - 1}][0-9]{{{width - 1}}}|{short})"


def timestamp_pattern(precision: str) -> str:
    return "-?" + _digits_up_to(time_range(precision)[1])


_plain_lines: dict[str, re.Pattern[str]] = {}


def plain_line(precision: str) -> re.Pattern[str]:
    """A regex for the common line of standard names and values: group 1 is its tag
    section, group 2 its timestamp. A line it matches is a single entry, valid in
    the grammar unless its tag or field keys repeat or are reserved."""
    pattern = _plain_lines.get(precision)
    if pattern is None:
        field = f"{NAME}={_ANY_VALUE}"
        pattern = re.compile(
            rf" *{_P}{_MEASUREMENT}((?:,{NAME}={NAME})*{_P}) +{_P}{field}(?:,{field})*{_P}"
            rf"(?: +{_P}({timestamp_pattern(precision)}))? *{_P}"
        )
        _plain_lines[precision] = pattern
    return pattern


class Shapes:
    """Patterns for lines of the shapes seen valid so far.

    A shape is a measurement, its tag keys and its field keys with their types,
    each as written in the line. A line of a known shape with standard tag and
    string values is valid, and its field types are those already recorded. At
    most ``limit`` shapes are kept; lines of other shapes go to the parser.

    - ``line``: fullmatch of one line (without its newline);
    - ``run``: match of any number of whole lines, each with its newline, that
      are of a known shape and at most ``max_chars`` long, or blank, or comments.
    """

    def __init__(self, precision: str, max_chars: int, limit: int = 64) -> None:
        self.max_chars = max_chars
        self.limit = limit
        self.line: re.Pattern[str] | None = None
        self.run: re.Pattern[str] | None = None
        self._timestamp = timestamp_pattern(precision)
        self._known: set[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = set()
        self._alternatives: list[str] = []

    def full(self) -> bool:
        return len(self._known) >= self.limit

    def add(self, measurement: str, tag_keys: Sequence[str], fields: Sequence[tuple[str, str]]) -> None:
        """Learn the shape of a valid line: raw (escaped) names, and ``(raw field key, kind)``
        pairs where kind is as :func:`~.field_types.kind_of` words it."""
        shape = (measurement, tuple(tag_keys), tuple(fields))
        if shape in self._known or self.full():
            return
        self._known.add(shape)
        tags = "".join(f",{re.escape(key)}={NAME}" for key in tag_keys)
        values = ",".join(f"{re.escape(key)}={_VALUES[kind]}" for key, kind in fields)
        self._alternatives.append(
            rf"{re.escape(measurement)}{tags} +{_P}{values}(?: +{_P}{self._timestamp})? *{_P}"
        )
        alternatives = "|".join(self._alternatives)
        self.line = re.compile(f"(?:{alternatives})")
        self.run = re.compile(
            rf"(?:(?:(?=[^\n]{{0,{self.max_chars}}}\n)(?:{alternatives})|{_BLANK_OR_COMMENT})\n){_LINES}"
        )
