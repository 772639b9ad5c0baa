"""Point identity: the entries of one write that land on the same point.

InfluxDB keeps one point per measurement, tag set and timestamp; a field value
written to a point replaces the value an earlier entry wrote for the same field.
Two entries of one write that share a point and a field key, with different
values, so lose a value without a word: that is what this module finds. Entries
that only add other fields to a point (a disjoint merge) or repeat a value are
fine.

It reads a write twice, at most, with bounded memory:

1. :class:`PointIndex` keeps an 8-byte hash of each entry's *point key*
   (measurement, canonical tag set, timestamp, an entry without one counting
   with the write's default time) in ``array('q')``, partitioned by the hash's
   low bits past :data:`FLAT` entries: about 8.5 MB per million entries. Past
   ``spill_at`` entries the partitions are written to a temporary file, so
   memory stays bounded whatever the input's size. Keys are read with string
   methods mapped over a run of entries, so the common entry costs no parse and
   no Python step of its own; the rare other (leading spaces, a space at the
   end) goes to the grammar.
2. :meth:`PointIndex.windows` gives the hashes that more than one entry has,
   at most ``window`` at a time. Usually there are none, and nothing is read
   again. Otherwise :class:`PointCheck` reads the entries again, parses only
   those whose hash is in the window, and compares their points and field
   values exactly: a hash collision never makes a conflict. Each further window
   means one more read; :attr:`PointIndex.notes` says so.

Field values are compared as InfluxDB stores them: ``1``, ``1.0`` and ``1e0``
are the same float, ``t`` and ``true`` the same boolean, ``-0.0`` and ``0.0``
different floats (their bits differ). A value of another type is a different
value. Timestamps are compared as written, in the write's precision: entries
whose times differ by less than one unit of precision were already given the
same time when they were encoded.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from operator import itemgetter
from typing import IO, Any, NamedTuple

from .grammar import SyntaxProblem, parse_entry, rules_for

PARTITIONS = 256  # a power of two: an entry's partition is its hash's low bits
FLAT = 500_000  # entries held in one array, checked with one set, before they are partitioned
SPILL_AT = 1_000_000  # entries held in memory (about 8.5 MB) before the partitions go to a file
WINDOW = 100_000  # repeated point keys checked exactly in one read
RUN = 10_000  # entries indexed in one go
_CACHE = 50_000  # canonical series keys remembered, per index

# A point key is read without the parser: the series key ends at the first space no
# backslash precedes (a backslash always escapes a space after it in a name, and a
# comma after it), and an entry has a timestamp exactly when its last space-separated
# token is an integer (a field is key=value, a string value ends in its quote).
# Raw spellings of names are unique (a backslash is an escape only before the
# characters that need it), so a series key whose tags are sorted is canonical.
_TAG_COMMA = re.compile(r"(?<!\\),")
_ANY_TIME = rules_for("ns", checks=False)  # entries are checked already; ns allows every time
_MEASUREMENT_TABLE = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_TABLE = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})
_FIRST, _LAST = itemgetter(0), itemgetter(2)
_BACKSLASH = itertools.repeat("\\")
# The first characters of blank and comment lines (an entry starts with its measurement).
_ENTRY_CANNOT_START = frozenset(("", "#", " ", "\t", "\x00"))

Hasher = Callable[[tuple[str, str]], int]


# The series key of an entry whose first space is escaped: up to the first space no
# backslash precedes (and that something follows).
_SERIES_KEY = re.compile(r"[^ ]*(?:(?<=\\) (?=[\s\S])[^ ]*)*")


def _canonical(series: str) -> str:
    """A series key as written, its tags sorted."""
    if series.count(",") < 2:
        return series
    parts = _TAG_COMMA.split(series) if "\\" in series else series.split(",")
    tags = parts[1:]
    ordered = sorted(tags)
    return series if ordered == tags else ",".join([parts[0], *ordered])


def _key_of_parsed(measurement: str, tags: dict[str, str]) -> str:
    """The series key of a parsed entry, escaped and its tags sorted, as :func:`_canonical`
    writes it for a line without escapes."""
    pairs = sorted(f"{k.translate(_KEY_TABLE)}={v.translate(_KEY_TABLE)}" for k, v in tags.items())
    return ",".join([measurement.translate(_MEASUREMENT_TABLE), *pairs])


class Point(NamedTuple):
    """A point: measurement, tags sorted by key, and time (None: the server's clock)."""

    measurement: str
    tags: tuple[tuple[str, str], ...]
    time: int | None


class Conflict(NamedTuple):
    """Two entries of one point that give one field different values. ``earlier`` and
    ``later`` are the places the caller gave, the values as InfluxDB would read them."""

    point: Point
    field: str
    earlier: Any
    earlier_value: Any
    later: Any
    later_value: Any


class PointIndex:
    """The hashes of the point keys of a write's entries (pass 1).

    ``stamp`` is the time an entry without one gets (None: the server's clock,
    which is the same for every entry of a request). ``hasher`` maps a key
    ``(series, time text)`` to a signed 64-bit int (default :func:`hash`; tests
    pass one that collides). Feed the entries with :meth:`add` (or a decoder's
    ``seen`` callback, :meth:`seen`), in runs, then ask :meth:`windows`.
    """

    def __init__(
        self,
        *,
        stamp: int | None = None,
        hasher: Hasher | None = None,
        spill_at: int = SPILL_AT,
        window: int = WINDOW,
    ) -> None:
        if spill_at < 1 or window < 1:
            raise ValueError("spill_at and window must be positive")
        self.stamp = stamp
        self._stamp_text = "" if stamp is None else str(stamp)
        self.hasher: Hasher = hasher or hash
        self.spill_at = spill_at
        self.window = window
        self.entries = 0  # entries added
        self.untimed = False  # whether some entry added has no time of its own (given the stamp, or none)
        self.notes: list[str] = []
        self._flat: array[int] | None = array("q")  # while small: one array, no partitions
        self._parts = [array("q") for _ in range(PARTITIONS)]
        self._held = 0
        self._file: IO[bytes] | None = None
        self._spilled: list[list[tuple[int, int]]] = [[] for _ in range(PARTITIONS)]
        self._series: dict[str, str] = {}
        self._pending: list[str] = []

    # -- keys ---------------------------------------------------------------------------------

    def keys(self, texts: Sequence[str]) -> Iterator[tuple[str, str]]:
        """The point key of each entry: its canonical series key and its time as text (the
        stamp's when it has none; "" when there is no stamp either). Entries that do not
        parse get a key of their own (``("", text)``): checks report them, not this. Built
        with string methods mapped over the run, so a common entry runs no Python code of
        its own."""
        spaces = itertools.repeat(" ")
        series = list(map(_FIRST, map(str.partition, texts, spaces)))
        # An entry has a time exactly when its last token is an integer; a raw newline in a
        # string value changes nothing here.
        times = list(map(_LAST, map(str.rpartition, texts, spaces)))
        joined = "\n".join(series)
        if "\\\n" in joined or joined.endswith("\\"):  # an escaped space: the key goes on
            for index in itertools.compress(itertools.count(), map(str.endswith, series, _BACKSLASH)):
                series[index] = _SERIES_KEY.match(texts[index]).group()  # type: ignore[union-attr]
        slow: list[int] = []
        if not _ENTRY_CANNOT_START.isdisjoint({key[:1] for key in series}):  # not as entries start
            slow = [i for i, key in enumerate(series) if key[:1] in _ENTRY_CANNOT_START]
        if not all(map(str.isdigit, times)):
            stamp = self._stamp_text
            for index, time in enumerate(times):
                if not time.isdigit():
                    if time[:1] == "-" and time[1:].isdigit():
                        times[index] = str(int(time))
                    elif time:
                        times[index] = stamp
                        self.untimed = True
                    else:
                        slow.append(index)  # ends in a space
        ends = "\n" + "\n".join(times)
        if "\n0" in ends or "\n-" in ends:  # "007" is 7: leading zeros go
            times = [str(int(time)) if time[:1] == "0" and time.isdigit() else time for time in times]
        canonical = list(map(self._canonical(dict.fromkeys(series)).__getitem__, series))
        for index in slow:
            canonical[index], times[index] = self._slow_key(texts[index])
        return zip(canonical, times, strict=True)

    def _canonical(self, distinct: dict[str, None]) -> dict[str, str]:
        """The canonical form of the series keys of a run (``distinct``: each once, as
        ``dict.fromkeys`` gives them), remembered for later runs (at most
        :data:`_CACHE` of them)."""
        cache = self._series
        new = distinct.keys() - cache.keys()
        if new:
            if len(cache) + len(new) > _CACHE:
                cache.clear()
                new = set(distinct)
            for text in new:
                cache[text] = _canonical(text)
        return cache

    def _slow_key(self, text: str) -> tuple[str, str]:
        parsed = _parse(text)
        if parsed is None:
            return "", text
        self.untimed = self.untimed or parsed.time is None
        time = self._stamp_text if parsed.time is None else str(parsed.time)
        return _key_of_parsed(parsed.measurement, parsed.tags), time

    def hashes(self, texts: Sequence[str]) -> list[int]:
        """The hash of each entry's point key."""
        return list(map(self.hasher, self.keys(texts)))

    # -- pass 1 -------------------------------------------------------------------------------

    def seen(self, text: str, lines: bool) -> None:
        """Index what a decoder found valid (its ``seen`` callback): with ``lines``, a run
        of whole lines, each one entry, a blank or a comment; else one entry. Held until
        :data:`RUN` entries are there, or :meth:`flush`."""
        pending = self._pending
        if not lines:
            pending.append(text)
        else:
            found = text.split("\n")
            found.pop()  # after the last newline
            if not _ENTRY_CANNOT_START.isdisjoint({line[:1] for line in found}):  # blanks or comments
                found = [line for line in found if line.lstrip(" \t\x00")[:1] not in ("", "#")]
            pending.extend(found)
        if len(pending) >= RUN:
            self.flush()

    def flush(self) -> None:
        """Index the entries :meth:`seen` holds."""
        if self._pending:
            pending, self._pending = self._pending, []
            self.add(pending)

    def add(self, texts: Sequence[str]) -> None:
        """Index a run of entries (one entry per text, without its newline)."""
        self._store(array("q", self.hashes(texts)))

    def add_keys(self, series: Sequence[str], times: Sequence[str] | str) -> None:
        """Index a run of entries given by the parts an encoder wrote: each entry's
        series key as written (measurement and tags, escaped; an encoder gives
        repeated keys as one object, hashed once) and time as text ("" for none),
        or one time for all. The keys are those :meth:`keys` finds in the lines."""
        keys = list(map(self._canonical(dict.fromkeys(series)).__getitem__, series))
        stamp = self._stamp_text
        if isinstance(times, str):
            self.untimed = self.untimed or (not times and bool(keys))
            times = [times or stamp] * len(keys)
        else:
            self.untimed = self.untimed or "" in times
            if stamp:
                times = [time or stamp for time in times]
        self._store(array("q", map(self.hasher, zip(keys, times, strict=True))))

    def _store(self, hashes: array[int]) -> None:
        self.entries += len(hashes)
        self._held += len(hashes)
        if self._flat is not None:
            self._flat.extend(hashes)
            if len(self._flat) <= FLAT and self._held < self.spill_at:
                return
            hashes, self._flat = self._flat, None  # from now on, in partitions
        parts = self._parts
        mask = PARTITIONS - 1
        for value in hashes:
            parts[value & mask].append(value)
        if self._held >= self.spill_at:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="influxdb-write-points-")
        file = self._file
        file.seek(0, 2)
        for number, part in enumerate(self._parts):
            if part:
                self._spilled[number].append((file.tell(), len(part)))
                part.tofile(file)
                self._parts[number] = array("q")
        self._held = 0

    def _partition(self, number: int) -> array[int]:
        values = array("q")
        if self._file is not None:
            for offset, count in self._spilled[number]:
                self._file.seek(offset)
                values.fromfile(self._file, count)
        values.extend(self._parts[number])
        return values

    def windows(self) -> Iterator[set[int]]:
        """The hashes more than one entry has, at most ``window`` at a time. Each window
        needs a read of the entries (:class:`PointCheck`); a note says when there are several."""
        self.flush()
        window: set[int] = set()
        given = 0
        try:
            for number in range(PARTITIONS):
                if self._flat is not None:
                    values, self._flat = self._flat, array("q")
                else:
                    values = self._partition(number)
                if len(set(values)) == len(values):
                    continue
                for value, count in Counter(values).items():
                    if count > 1:
                        window.add(value)
                        if len(window) >= self.window:
                            given += 1
                            if given == 1:
                                self.notes.append(
                                    f"more than {self.window} points are written by more than one entry; "
                                    f"they are compared {self.window} at a time, each time reading "
                                    "the input again"
                                )
                            yield window
                            window = set()
            if window:
                yield window
        finally:
            self.close()

    def close(self) -> None:
        """Free the hashes (and the temporary file)."""
        self._flat = array("q")
        self._parts = [array("q") for _ in range(PARTITIONS)]
        self._spilled = [[] for _ in range(PARTITIONS)]
        self._held = 0
        if self._file is not None:
            self._file.close()
            self._file = None

    def held_bytes(self) -> int:
        """The bytes the hashes take in memory now (not counting a spill file)."""
        held = [*self._parts, self._flat] if self._flat is not None else self._parts
        return sum(len(part) * part.itemsize for part in held)


def _parse(text: str) -> Any:
    try:
        parsed, stop = parse_entry(text, 0, _ANY_TIME)
    except SyntaxProblem:
        return None
    return parsed if parsed is not None and stop >= len(text.rstrip("\n")) else None


def _stored(value: Any) -> tuple[str, Any]:
    """A field value as InfluxDB stores it: its type and, for floats, their bits."""
    if isinstance(value, float):
        return "float", value.hex()
    return type(value).__name__, value


class _Held:
    """Where a field value of a point came from, and whether that entry lost a value yet."""

    __slots__ = ("lost", "place")

    def __init__(self, place: Any) -> None:
        self.place = place
        self.lost = False


class PointCheck:
    """The exact comparison of one window of repeated point keys (pass 2).

    Feed every entry again, in the order of pass 1, with :meth:`add`. Entries
    whose hash is in ``window`` are parsed; a field value that differs from the
    one an earlier entry of the point gave is a :class:`Conflict`.
    :attr:`conflicts` keeps the first ``keep`` of them; :attr:`replacing` counts
    the entries that replace a value, :attr:`replaced` the entries that lose one
    (what a server keeps is the last value of each field).
    """

    def __init__(self, index: PointIndex, window: Collection[int], *, keep: int = 100) -> None:
        self.index = index
        self.window = window
        self.keep = keep
        self.conflicts: list[Conflict] = []
        self.replacing = 0
        self.replaced = 0
        self._points: dict[Point, dict[str, tuple[tuple[str, Any], Any, _Held]]] = {}

    def add(self, texts: Sequence[str], places: Sequence[Any]) -> None:
        """Compare a run of entries; ``places[i]`` names ``texts[i]`` in conflicts."""
        window = self.window
        for position, value in enumerate(self.index.hashes(texts)):
            if value in window:
                self._compare(texts[position], places[position])

    def _compare(self, text: str, place: Any) -> None:
        parsed = _parse(text)
        if parsed is None:
            return
        time = self.index.stamp if parsed.time is None else parsed.time
        point = Point(parsed.measurement, tuple(sorted(parsed.tags.items())), time)
        fields = self._points.setdefault(point, {})
        held = _Held(place)
        replacing = False
        for key, value in parsed.fields.items():
            stored = _stored(value)
            before = fields.get(key)
            if before is not None and before[0] != stored:
                replacing = True
                if not before[2].lost:
                    before[2].lost = True
                    self.replaced += 1
                if len(self.conflicts) < self.keep:
                    self.conflicts.append(Conflict(point, key, before[2].place, before[1], place, value))
            fields[key] = (stored, value, held)
        if replacing:
            self.replacing += 1


def check_points(
    index: PointIndex, read: Callable[[], Iterator[tuple[Sequence[str], Sequence[Any]]]], *, keep: int = 100
) -> tuple[list[Conflict], int, int]:
    """Pass 2 over every window of ``index``: ``read()`` gives the entries again, in runs
    of ``(texts, places)``. Returns the first ``keep`` conflicts (in the order the
    entries came, window by window), the entries that replace a value and those that
    lose one."""
    conflicts: list[Conflict] = []
    replacing = replaced = 0
    for window in index.windows():
        check = PointCheck(index, window, keep=keep)
        for texts, places in read():
            check.add(texts, places)
        conflicts.extend(check.conflicts[: keep - len(conflicts)])
        replacing += check.replacing
        replaced += check.replaced
    return conflicts, replacing, replaced
