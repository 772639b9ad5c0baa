"""What the confirmed entries of a write hold, measurement by measurement.

Lineage names what a write changed: each measurement, the lines it received,
their bytes and its tag keys. The counts are made from the entries the server
confirmed, batch by batch, so a write that fails half-way reports what landed,
not what it meant to send.

An entry's series key (its measurement and tags, as written) ends at its first
space no backslash precedes. A batch's series keys are cut with string methods
mapped over its entries, and only the distinct ones are read for their
measurement and tag keys (a key with a backslash by the grammar), so the common
entry costs no parse and no Python step of its own. An entry whose key the cut
gets wrong (blanks before it, an escaped space in it) has its key found by one
regular expression match.

Bounded: past ``limit`` measurements nothing more is counted per measurement
(:attr:`MeasurementTally.over`), and past ``series_limit`` distinct series keys
the keys remembered are forgotten, and read again as they come.
"""

from __future__ import annotations

import itertools
import operator
import re
import threading
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from .escaping import unescape_measurement
from .grammar import SyntaxProblem, parse_entry, rules_for

MAX_MEASUREMENTS = 100  # measurements counted one by one, per write
MAX_SERIES = 100_000  # distinct series keys remembered with their measurement and tag keys

_GRAMMAR = rules_for("ns", checks=False)  # entries were checked, or the caller chose not to
_FIRST = operator.itemgetter(0)
_SPACES = itertools.repeat(" ")
_BACKSLASH = itertools.repeat("\\")
# An entry's series key ends at its first space no backslash precedes (and that
# something follows); a key cut at the first space that starts so had blanks before it.
_SERIES_KEY = re.compile(r"[^ ]*(?:(?<=\\) (?=[\s\S])[^ ]*)*")
_CUT_WRONG_START = frozenset(("", "\t", "\x00"))
_PASSES = 8  # measurements in a batch whose bytes are summed one pass each; past that, line by line


class Measurement(NamedTuple):
    """What the confirmed entries of one measurement hold: how many, their bytes
    (UTF-8, each with the newline after it within its request) and their tag keys,
    in the order first seen."""

    lines: int
    bytes: int
    tag_keys: tuple[str, ...]


class MeasurementTally:
    """Entries the server confirmed, counted per measurement (:meth:`add`, once per batch).

    Safe to read from another thread than the one adding: the write's sender
    thread adds, the task reads once the write ended.
    """

    def __init__(self, limit: int = MAX_MEASUREMENTS, series_limit: int = MAX_SERIES) -> None:
        self.limit = limit
        self.series_limit = series_limit
        self.over = False  # more measurements than ``limit``: no longer counted one by one
        self._lock = threading.Lock()
        self._counts: dict[str, list[int]] = {}  # measurement: [lines, bytes]
        self._tags: dict[str, dict[str, None]] = {}  # measurement: tag keys, in order
        self._series: dict[str, int] = {}  # series key as cut: its shape's number
        self._shapes: list[tuple[str, tuple[str, ...]]] = []  # (measurement, tag keys), numbered
        self._names: list[str] = []  # the measurement of each shape
        self._numbers: dict[tuple[str, tuple[str, ...]], int] = {}

    def add(self, entries: Sequence[str], ascii: bool = True) -> None:
        """Count one confirmed batch: ``entries`` one per item, without newlines, as
        sent in one request; ``ascii``: all of them are ASCII (their lengths are
        their bytes)."""
        with self._lock:
            if entries and not self.over:
                self._add(entries, ascii)

    def measurements(self) -> dict[str, Measurement] | None:
        """Each measurement counted so far, in the order first confirmed; None when
        there were more than ``limit``."""
        with self._lock:
            if self.over:
                return None
            return {
                name: Measurement(lines, size, tuple(self._tags[name]))
                for name, (lines, size) in self._counts.items()
            }

    def _add(self, entries: Sequence[str], ascii: bool) -> None:
        keys = _series_keys(entries)
        series = self._series
        if len(series) > self.series_limit or len(self._shapes) > self.series_limit:
            self._forget()  # a new start: what is cut again costs a parse, not memory
        for key in set(keys).difference(series):
            series[key] = self._shape(key)
        numbers = list(map(series.__getitem__, keys))
        shapes = Counter(numbers)
        lengths: Sequence[int] = (
            list(map(len, entries)) if ascii else [len(e.encode("utf-8", "surrogatepass")) for e in entries]
        )
        names = {self._names[number] for number in shapes}
        if len(names) == 1:
            return self._count_shapes(shapes, {names.pop(): sum(lengths) + len(entries) - 1})
        named = list(map(self._names.__getitem__, numbers))
        sizes = dict.fromkeys(names, 0)
        if len(names) <= _PASSES:  # one pass per measurement, each over the batch at C speed
            for name in names:
                mine = list(map(operator.eq, named, itertools.repeat(name)))
                sizes[name] = sum(itertools.compress(lengths, mine)) + sum(mine)
        else:
            for name, length in zip(named, lengths, strict=True):
                sizes[name] += length + 1
        sizes[named[-1]] -= 1  # no newline after a request's last entry
        self._count_shapes(shapes, sizes)

    def _forget(self) -> None:
        self._series.clear()
        self._shapes.clear()
        self._names.clear()
        self._numbers.clear()

    def _count_shapes(self, shapes: Counter[int], sizes: dict[str, int]) -> None:
        for number, lines in shapes.items():
            name, tags = self._shapes[number]
            if not self._count(name, tags, lines, sizes.pop(name, 0)):
                return

    def _shape(self, key: str) -> int:
        """The number of the shape (measurement, tag keys) of a series key as cut."""
        if "\\" in key:
            shape = _parse(key + " _=0")
        else:
            parts = key.split(",")
            shape = parts[0], tuple(part.partition("=")[0] for part in parts[1:])
        number = self._numbers.get(shape)
        if number is None:
            number = self._numbers[shape] = len(self._shapes)
            self._shapes.append(shape)
            self._names.append(shape[0])
        return number

    def _count(self, name: str, tags: tuple[str, ...], lines: int, size: int) -> bool:
        counts = self._counts.get(name)
        if counts is None:
            if len(self._counts) >= self.limit:
                self.over = True
                self._counts.clear()
                self._tags.clear()
                self._forget()
                return False
            counts = self._counts[name] = [0, 0]
            self._tags[name] = {}
        counts[0] += lines
        counts[1] += size
        if tags:
            self._tags[name].update(dict.fromkeys(tags))
        return True


def _series_keys(entries: Sequence[str]) -> list[str]:
    """Each entry's series key, as written: up to its first space no backslash precedes,
    blanks before it left out."""
    keys = list(map(_FIRST, map(str.partition, entries, _SPACES)))
    cut_short = list(itertools.compress(itertools.count(), map(str.endswith, keys, _BACKSLASH)))
    if cut_short:  # cut at an escaped space: the key goes on
        for index, key in zip(cut_short, map(_key_of, map(entries.__getitem__, cut_short)), strict=True):
            keys[index] = key
    if min(keys)[:1] <= "\t":  # an entry that starts with blanks (their keys sort first)
        for index, key in enumerate(keys):
            if key[:1] in _CUT_WRONG_START:
                keys[index] = _key_of(entries[index].lstrip(" \t\x00"))
    return keys


def _key_of(entry: str) -> str:
    return _SERIES_KEY.match(entry).group()  # type: ignore[union-attr]  # matches every text


def _parse(entry: str) -> tuple[str, tuple[str, ...]]:
    """The measurement and tag keys of an entry, read by the grammar."""
    try:
        parsed, _ = parse_entry(entry, 0, _GRAMMAR)
    except SyntaxProblem:
        parsed = None
    if parsed is None:  # the server confirmed what the grammar refuses: name it as cut
        return unescape_measurement(entry.partition(" ")[0].partition(",")[0]), ()
    return parsed.measurement, tuple(parsed.tags)
