"""The streaming decoder: input to numbered entries, checked against every rule.

One loop reads any input (:mod:`.streams`), frames it into entries (an entry is
one line, or more when a string value holds raw newlines) and, with ``check``,
validates each entry against the grammar (:mod:`.grammar`), the size a request
may carry, and the field types seen earlier in the same write
(:mod:`.field_types`). Without ``check`` it only frames, as the write client
needs. The fast paths (:mod:`.fast_path`) skip the parser on common lines.

Where an entry goes wrong, the error names the line and column, and decoding
goes on at the next line: an unclosed quote costs that line only. When a string
value runs over its line and the entry then fails, the quote that opened it is
the likely culprit; that line is reported and decoding goes on after it.

Memory is bounded: input is read in blocks, a line longer than the entry limit
is skipped unread, and a string value's closing quote is looked for within
:data:`~.limits.STRING_SCAN_CHARS` characters only.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from .declared_types import check_field_types
from .errors import EntryTooLargeError, InvalidLineError, LineError
from .escaping import shown
from .fast_path import CLOSED_RUN, Shapes, all_end_in_time, closes_on_its_line, lines_are_entries, plain_line
from .field_types import DECLARED_KINDS, TAG, FieldTypes, kind_of
from .grammar import NeedMoreText, Parsed, Rules, SyntaxProblem, parse_entry, rules_for
from .limits import DEFAULT_MAX_ENTRY_BYTES, KEY_SEPARATOR_BYTES, MAX_ENTRY_BYTES_BY_API, MAX_KEY_BYTES
from .precision import MAX_NANOSECONDS, MIN_NANOSECONDS
from .streams import BadLine, read_blocks

_BLANK_OR_COMMENT = re.compile(r"[ \t\x00]*(?:#[^\n]*)?\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Lines of the fast paths are at most this long, so that no string value, name or
# series key in them can be over its limit.
_FAST_LINE_CHARS = 16_000


class Line(NamedTuple):
    """One parsed entry: what a server stores for it. ``time`` is None when absent."""

    line: int
    measurement: str
    tags: dict[str, str]
    fields: dict[str, Any]
    time: int | None


class Entry(NamedTuple):
    """One entry of an input: the number of its first line (1-based), its text
    without the final newline, and with ``check``, what is wrong with it."""

    line: int
    text: str
    error: LineError | None = None


Seen = Callable[[str, bool], None]
_new_entry = tuple.__new__  # an Entry without NamedTuple's argument handling, for the hot loop


class Decoder:
    """Frames inputs into entries and, with ``check``, validates them.

    One decoder checks every input of one write: field types are compared across
    all of them. ``precision`` sets the timestamp range, ``api`` the target's
    rules (``v1`` has no unsigned integers, ...), ``max_entry_bytes`` the size of
    the largest request (default: the write client's batch limit for ``api``).
    ``field_types`` declares field types (``{"count": "int"}``): a line whose
    field has another type is invalid, since line protocol is sent as written.
    ``fast=False`` turns off the fast paths (for tests).
    """

    def __init__(
        self,
        *,
        precision: str = "ns",
        api: str = "v2",
        max_entry_bytes: int | None = None,
        check: bool = True,
        fast: bool = True,
        types: FieldTypes | None = None,
        field_types: Mapping[str, str] | None = None,
    ) -> None:
        self.rules = rules_for(precision, api, checks=check)
        self.declared = {key: DECLARED_KINDS[kind] for key, kind in check_field_types(field_types).items()}
        if max_entry_bytes is None:
            max_entry_bytes = MAX_ENTRY_BYTES_BY_API[api]
        if max_entry_bytes < 1:
            raise ValueError("max_entry_bytes must be positive")
        self.grammar = self.rules._replace(checks=False)  # where an entry ends, whatever the rules
        self.max_entry_bytes = max_entry_bytes
        self.check = check
        self.fast = fast
        self.types = types if types is not None else FieldTypes()
        self.shapes = Shapes(precision, min(_FAST_LINE_CHARS, max_entry_bytes // 4))

    @property
    def notes(self) -> list[str]:
        """What the checks could not cover (field types past the tracking limit)."""
        return self.types.notes

    def entries(
        self,
        data: Any,
        *,
        source: str = "",
        unit: str = "line",
        errors_only: bool = False,
        seen: Seen | None = None,
    ) -> Iterator[Entry]:
        """The entries of ``data`` (str, bytes, a file object, or an iterable of lines), in order.

        Blank and comment lines are skipped; numbers still count them. With
        ``check``, each entry carries its error or None; ``errors_only`` yields the
        bad ones only, faster. Without ``check``, a line that is not text raises
        :class:`InvalidLineError` and one too large :class:`EntryTooLargeError`.
        ``source`` names the input in messages about other inputs. ``seen`` (with
        ``check``) is given the text of the entries found valid as they are read:
        ``seen(text, True)`` a run of whole lines, each one entry, a blank or a
        comment, with their newlines; ``seen(text, False)`` one entry.
        """
        blocks = read_blocks(data, max_line_bytes=self.max_entry_bytes)
        return _Run(self, blocks, self.types.source(source, unit)).entries(errors_only, seen=seen)

    def check_entry(self, text: str, *, source: str, number: int, unit: str = "record") -> str | None:
        """What is wrong with one entry, such as an encoded record, or None.

        The message has no line or column: the caller names the entry. Its field
        types count for later conflicts, at ``(source, number)``.
        """
        source_id = self.types.source(source, unit)
        bad = _SURROGATE.search(text) if not text.isascii() else None
        if bad is not None:
            return f"lone surrogate {bad.group()!r} at position {bad.start()}: not text UTF-8 can carry"
        shapes = self.shapes
        if self.fast and shapes.line is not None and len(text) <= shapes.max_chars and "\n" not in text:
            if shapes.line.fullmatch(text):
                return None
        try:
            parsed, stop = parse_entry(text, 0, self.rules)
        except SyntaxProblem as syntax:
            return syntax.message
        if parsed is None or stop < len(text):
            return "not exactly one entry of line protocol"
        problem = _after_parse(self, parsed, text, 0, source_id, number, learn=self.fast)
        return None if problem is None else problem[1]

    def check_columns(
        self,
        fields: Sequence[tuple[str, str, str, int]],
        *,
        tagged: bool,
        longest: int,
        source: str,
        unit: str,
    ) -> bool:
        """Whether lines an encoder wrote pass every check unread.

        ``fields`` gives each measurement and field key of the lines with its one
        kind (``"a float"``) and the number of the first line holding it;
        ``tagged``: some line may have a tag; ``longest``: the longest line, in
        bytes (or more). An encoder's lines are well formed and within the rules of
        names, values and times, so what is left spans lines: their size and their
        field types. When they pass, the field types are remembered as
        :meth:`check_lines` would remember them. False (nothing remembered) where a
        line might fail, or a rule needs each line (tags on ``api="v3"``): check
        them with :meth:`check_lines`.
        """
        if not (self.check and self.fast) or (tagged and self.rules.api == "v3"):
            return False
        if longest > min(self.max_entry_bytes, MAX_KEY_BYTES - KEY_SEPARATOR_BYTES):
            return False  # too large, or a series key might be
        if self.rules.api == "v1" and any(kind == DECLARED_KINDS["uint"] for _, _, kind, _ in fields):
            return False
        if any(self.declared.get(key, kind) != kind for _, key, kind, _ in fields):
            return False
        return self.types.remember(fields, self.types.source(source, unit))

    def check_lines(
        self, texts: Sequence[str], numbers: Sequence[int], *, source: str, unit: str
    ) -> Iterator[tuple[int, str]]:
        """``(number, message)`` for each bad entry of ``texts``, as :meth:`check_entry`
        words it; ``numbers[i]`` numbers ``texts[i]``. For encoder output (one entry
        per text): runs of consecutive numbers are joined and read by the decoder's
        fast paths in one go, so a long run of known shapes costs a regex match, not
        a call per entry. Texts with newlines or non-ASCII characters are checked one
        by one."""
        source_id = self.types.source(source, unit)
        for start, stop in _runs(numbers):
            block = "\n".join(texts[start:stop]) + "\n"
            if not block.isascii() or block.count("\n") != stop - start:
                for index in range(start, stop):
                    found = self.check_entry(texts[index], source=source, number=numbers[index], unit=unit)
                    if found is not None:
                        yield numbers[index], found
                continue
            run = _Run(self, iter((block,)), source_id)
            run.line = numbers[start]
            for entry in run.entries(errors_only=True):
                if entry.error is not None:
                    yield entry.line, _COLUMN.sub("", entry.error.message, count=1)


_COLUMN = re.compile(r"\Acolumn [0-9]+: ")


def _runs(numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` index ranges of ``numbers`` that count up by one."""
    start = 0
    for index in range(1, len(numbers) + 1):
        if index == len(numbers) or numbers[index] != numbers[index - 1] + 1:
            yield start, index
            start = index


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _after_parse(
    decoder: Decoder, parsed: Parsed, text: str, start: int, source_id: int, number: int, *, learn: bool
) -> tuple[int, str] | None:
    """The rules an entry is checked against once it parses: its size and its field
    types. Returns ``(position, message)`` of the first problem, positions as in
    ``parsed`` (the entry starts at ``start``), or None; a good single line teaches
    the fast path its shape."""
    size = _size(text) if len(text) * 4 > decoder.max_entry_bytes else len(text)
    if size > decoder.max_entry_bytes:
        what = "entry" if "\n" in text else "line"
        return start, (
            f"the {what} is {size} bytes, more than the {decoder.max_entry_bytes} bytes one request may carry"
        )
    kinds = {key: kind_of(value) for key, value in parsed.fields.items()}
    if decoder.declared:
        fields = list(parsed.fields)
        for key, kind in kinds.items():
            declared = decoder.declared.get(key, kind)
            if declared != kind:
                return parsed.field_positions[fields.index(key)], (
                    f"field {shown(key)} is {kind} here, but field_types declares it {declared}; "
                    "line protocol is sent as written, so write the value as that type"
                )
    tracked = kinds
    if parsed.tags and decoder.rules.api == "v3":
        tracked = {**dict.fromkeys(parsed.tags, TAG), **kinds}
    conflict = decoder.types.check(parsed.measurement, tracked, source_id, number)
    if conflict is not None:
        key, message = conflict
        fields = list(parsed.fields)
        return (parsed.field_positions[fields.index(key)] if key in kinds else start), message
    shapes = decoder.shapes
    if learn and not shapes.full() and len(text) <= shapes.max_chars and "\n" not in text:
        if text[:1] not in (" ", "\t", "\x00"):
            shapes.add(
                parsed.raw_measurement,
                parsed.raw_tag_keys,
                list(zip(parsed.raw_field_keys, kinds.values(), strict=True)),
            )
    return None


class _Run:
    """One pass of a decoder over one input."""

    def __init__(self, decoder: Decoder, items: Iterator[str | BadLine], source_id: int) -> None:
        self.decoder = decoder
        self.items = items
        self.back: list[str | BadLine] = []
        self.source_id = source_id
        self.block = ""
        self.line = 1  # the number of the line that starts at ``pos``

    def pull(self) -> str | BadLine | None:
        if self.back:
            return self.back.pop()
        return next(self.items, None)

    def entries(
        self, errors_only: bool, pairs: bool = False, runs: bool = False, seen: Seen | None = None
    ) -> Iterator[Any]:
        """Entries, or with ``pairs`` (framing only) ``(line, text)`` tuples; with
        ``runs`` also ``(line, [text, ...])`` for a block of lines that are one
        entry each (:func:`~.fast_path.lines_are_entries`). ``seen``: see
        :meth:`Decoder.entries`."""
        # The hot loop of every read: locals only, one line per turn.
        decoder = self.decoder
        check, fast, shapes = decoder.check, decoder.fast, decoder.shapes
        run_ahead = errors_only and check and fast
        closed_run = CLOSED_RUN.match if fast and not check else None
        new = _new_entry
        blank_or_comment = _BLANK_OR_COMMENT.match
        max_chars = shapes.max_chars
        while (item := self.pull()) is not None:
            if isinstance(item, BadLine):
                error = LineError(self.line, item.message, item.text)
                if check:
                    yield Entry(self.line, item.text, error)
                elif item.too_long:
                    raise EntryTooLargeError(error, size=item.size, limit=decoder.max_entry_bytes)
                else:
                    raise InvalidLineError(error)
                self.line += 1
                continue
            if runs and lines_are_entries(item):
                texts = item[:-1].split("\n")
                yield self.line, texts
                self.line += len(texts)
                continue
            self.block = block = item
            find = block.find
            pos, end, number = 0, len(block), self.line
            while pos < end:
                if closed_run is not None:
                    stop = closed_run(block, pos).end()  # type: ignore[union-attr]
                    if stop > pos:
                        for text in block[pos : stop - 1].split("\n"):
                            if text and text[0] not in " \t\x00#":  # not blank, not a comment
                                yield (number, text) if pairs else new(Entry, (number, text, None))
                            number += 1
                        pos = stop
                        if pos == end:
                            break
                if run_ahead and shapes.run is not None:
                    stop = shapes.run.match(block, pos).end()  # type: ignore[union-attr]
                    if stop > pos:
                        if seen is not None:
                            seen(block[pos:stop], True)
                        number += block.count("\n", pos, stop)
                        pos = stop
                        if pos == end:
                            break
                eol = find("\n", pos)
                if block[pos] in "\n\t #\x00":
                    blank = blank_or_comment(block, pos)
                    if blank is not None:
                        pos = blank.end()
                        number += 1
                        continue
                if fast:
                    if check:
                        line = shapes.line
                        if line is not None and eol - pos <= max_chars and line.fullmatch(block, pos, eol):
                            if seen is not None:
                                seen(block[pos:eol], False)
                            if not errors_only:
                                yield new(Entry, (number, block[pos:eol], None))
                            pos = eol + 1
                            number += 1
                            continue
                    elif find('"', pos, eol) < 0 or closes_on_its_line(block, pos, eol):
                        text = block[pos:eol]
                        yield (number, text) if pairs else new(Entry, (number, text, None))
                        pos = eol + 1
                        number += 1
                        continue
                self.line = number
                entry, pos = self.parse(pos)
                number = self.line
                if self.block is not block:
                    block = self.block
                    find, end = block.find, len(block)
                if entry is not None and seen is not None and entry.error is None:
                    seen(entry.text, False)
                if entry is not None and (entry.error is not None or not errors_only):
                    yield entry[:2] if pairs else entry
            self.line = number

    def grow(self, pos: int) -> bool:
        """Make the text from ``pos`` on at least twice as long, with the blocks that
        follow; the entry at ``pos`` now starts at 0. False if nothing follows."""
        parts = [self.block[pos:]]
        size = wanted = len(parts[0])
        while size < 2 * wanted:
            item = self.pull()
            if item is None:
                break
            if isinstance(item, BadLine):
                self.back.append(item)  # a line that is not text ends any string value before it
                break
            parts.append(item)
            size += len(item)
        self.block = "".join(parts)
        return len(parts) > 1

    def parse(self, pos: int) -> tuple[Entry | None, int]:
        """The entry that starts at ``pos``, through the parser; and where the next starts."""
        decoder = self.decoder
        final = False
        while True:
            try:
                parsed, stop = parse_entry(self.block, pos, decoder.rules, final=final)
                break
            except NeedMoreText:
                if len(self.block) - pos > decoder.max_entry_bytes:
                    return self.too_large(pos)
                final = not self.grow(pos)
                pos = 0
            except SyntaxProblem as syntax:
                return self.failed(pos, syntax, final)
        block = self.block
        if parsed is None:
            self.line += block.count("\n", pos, stop)
            return None, stop
        text = block[pos : stop - 1] if block[stop - 1] == "\n" else block[pos:stop]
        error = None
        if decoder.check:
            problem = _after_parse(decoder, parsed, text, pos, self.source_id, self.line, learn=decoder.fast)
            if problem is not None:
                error = self.error_at(pos, problem[0], problem[1])
        entry = Entry(self.line, text, error)
        self.line += block.count("\n", pos, stop)
        return entry, stop

    def failed(self, pos: int, problem: SyntaxProblem, final: bool) -> tuple[Entry, int]:
        """The entry at ``pos`` does not parse: report it, and say where decoding goes on."""
        block = self.block
        if problem.rule:
            # The entry is well formed: it ends where the grammar says, whatever the rule.
            try:
                _, stop = parse_entry(block, pos, self.decoder.grammar, final=final)
            except NeedMoreText:
                stop = -1
            except SyntaxProblem as grammar:
                problem = grammar
            else:
                if stop >= 0:
                    error = self.error_at(pos, problem.pos, problem.message)
                    text = block[pos : stop - 1] if block[stop - 1] == "\n" else block[pos:stop]
                    entry = Entry(self.line, text, error if self.decoder.check else None)
                    self.line += block.count("\n", pos, stop)
                    return entry, stop
        at, message = problem.pos, problem.message
        if not problem.unclosed and problem.spanning >= 0 and block.find("\n", problem.spanning, at) >= 0:
            later = self.line + block.count("\n", pos, at)
            column = at - block.rfind("\n", 0, at)
            at = problem.spanning
            message = (
                f"the string value opened here goes on past the end of the line, and the entry then fails "
                f"on line {later}, column {column}: {message}; if the string ends on this line, add its "
                "closing quote"
            )
        resume = block.find("\n", at) + 1
        error = self.error_at(pos, at, message)
        entry = Entry(self.line, block[pos : resume - 1], error if self.decoder.check else None)
        self.line += block.count("\n", pos, resume)
        return entry, resume

    def too_large(self, pos: int) -> tuple[Entry, int]:
        """An entry still open after more than max_entry_bytes: report its first line."""
        limit = self.decoder.max_entry_bytes
        message = (
            f"the entry starting here goes on for more than {limit} bytes, more than one request may "
            "carry; a closing quote may be missing"
        )
        error = self.error_at(pos, pos, message)
        if not self.decoder.check:
            raise EntryTooLargeError(error, size=len(self.block) - pos, limit=limit)
        resume = self.block.find("\n", pos) + 1
        entry = Entry(self.line, self.block[pos : resume - 1], error)
        self.line += 1
        return entry, resume

    def error_at(self, pos: int, at: int, message: str) -> LineError:
        """A LineError at position ``at`` of the entry that starts at ``pos``."""
        block = self.block
        line_start = block.rfind("\n", 0, at) + 1 if at > pos else pos
        line_end = block.find("\n", at)
        if line_end < 0:
            line_end = len(block)
        text = block[line_start:line_end]
        message = f"column {at - line_start + 1}: {message}"
        if text.endswith("\r"):
            message += " (the line ends in a carriage return: convert CRLF line endings to LF)"
        return LineError(self.line + block.count("\n", pos, at), message, text)


def iter_entries(data: Any, *, max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES) -> Iterator[tuple[int, str]]:
    """``(line number, entry)`` for every entry of ``data``, framed but not validated.

    ``data`` is a str, bytes, a file object or an iterable of lines. An entry whose
    string value holds raw newlines spans several lines and comes whole, numbered
    by its first line, so that batching never splits it. Blank and comment lines
    are skipped (numbers still count them). Invalid entries come as they are; a
    line that is not text raises :class:`InvalidLineError`, one longer than
    ``max_entry_bytes`` :class:`EntryTooLargeError`.
    """
    decoder = Decoder(check=False, max_entry_bytes=max_entry_bytes)
    blocks = read_blocks(data, max_line_bytes=max_entry_bytes)
    return _Run(decoder, blocks, -1).entries(False, pairs=True)


def iter_entry_runs(
    data: Any, *, max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
) -> Iterator[tuple[int, str | list[str]]]:
    """The entries of :func:`iter_entries`, the same, with whole blocks of lines
    that are one entry each handed on as one item: ``(number of its first line,
    [entry, ...])``, the entries on consecutive lines. Other entries come as
    ``(line number, entry)``. What this saves is a Python step per line: a
    file's typical block of a thousand lines is framed with three regex
    searches and one split."""
    decoder = Decoder(check=False, max_entry_bytes=max_entry_bytes)
    blocks = read_blocks(data, max_line_bytes=max_entry_bytes)
    return _Run(decoder, blocks, -1).entries(False, pairs=True, runs=True)


def validate(
    text: Any,
    *,
    precision: str = "ns",
    api: str = "v2",
    max_entry_bytes: int | None = None,
    field_types: Mapping[str, str] | None = None,
) -> list[LineError]:
    """Check line protocol without sending it; return every invalid line (empty if valid).

    ``text`` is a str, bytes, a file object or an iterable of lines. Blank lines
    and ``#`` comment lines are valid. Each error names its 1-based line number,
    the column and what is wrong. ``precision`` sets the range a timestamp must
    be in, ``api`` the target's rules, ``max_entry_bytes`` the largest entry
    (default: the write client's batch limit for ``api``), ``field_types`` the
    declared type of fields. If field types could not all be tracked, a warning
    says so.
    """
    decoder = Decoder(precision=precision, api=api, max_entry_bytes=max_entry_bytes, field_types=field_types)
    errors = [entry.error for entry in decoder.entries(text, errors_only=True) if entry.error is not None]
    for note in decoder.notes:
        warnings.warn(note, stacklevel=2)
    return errors


def parse_lines(text: Any, *, precision: str = "ns", api: str = "v2") -> Iterator[Line]:
    """Parse line protocol into :class:`Line` entries, skipping blank and comment lines.

    Raises :class:`InvalidLineError` at the first entry that :func:`validate` reports.
    """
    decoder = Decoder(precision=precision, api=api)
    for entry in decoder.entries(text):
        if entry.error is not None:
            raise InvalidLineError(entry.error)
        parsed, _ = parse_entry(entry.text, 0, decoder.rules)
        assert parsed is not None
        yield Line(entry.line, parsed.measurement, parsed.tags, parsed.fields, parsed.time)


_ANY_TIME = Rules(MIN_NANOSECONDS, MAX_NANOSECONDS, checks=False)


def with_default_times(entries: list[str], timestamp: int) -> list[str]:
    """:func:`with_default_time` of each entry; ``entries`` itself when each ends in a
    space and an integer, found without a Python step per entry."""
    if all_end_in_time("\n".join(entries) + "\n"):
        return entries
    return [with_default_time(entry, timestamp) for entry in entries]


def with_default_time(entry: str, timestamp: int) -> str:
    """``entry`` with ``timestamp`` appended if it has none. Entries that do not
    parse come back unchanged: validation, not this function, reports them.

    An entry that ends in a space and an integer has a time: in a valid entry
    nothing else can end that way (a field value follows ``=``, a string value
    ends in its quote, and names are followed by more). Only entries without
    one are read further, to tell a valid entry from an invalid one.
    """
    body = entry.rstrip(" ")
    last = body[body.rfind(" ") + 1 :]
    if last.isascii() and last.lstrip("-").isdigit() and len(last) < len(body):
        return entry
    match = plain_line("ns").fullmatch(entry)
    if match is not None:
        has_time = match.group(2) is not None
    else:
        try:
            line, _ = parse_entry(entry, 0, _ANY_TIME)
        except SyntaxProblem:
            return entry
        if line is None:
            return entry
        has_time = line.time is not None
    return entry if has_time else f"{entry.rstrip(' ')} {timestamp}"
