"""Field type conflicts inside one input, found before anything is sent.

InfluxDB fixes the type of a field (per measurement) when it is first written,
and refuses a whole batch that gives one field two types, naming no line. So
the first type seen for each measurement and field key is remembered with the
place it was seen, and a later entry with another type is reported with both
places. Memory is bounded by the number of distinct pairs: past
``limit`` pairs, new ones are no longer tracked, and :attr:`FieldTypes.notes`
says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .escaping import shown
from .limits import MAX_TRACKED_FIELDS
from .values import Unsigned

_KINDS = {
    bool: "a boolean",
    int: "an integer",
    Unsigned: "an unsigned integer",
    float: "a float",
    str: "a string",
}


# The words for the types of declared field types (declared_types.FIELD_TYPES).
DECLARED_KINDS = {
    "float": _KINDS[float],
    "int": _KINDS[int],
    "uint": _KINDS[Unsigned],
    "bool": _KINDS[bool],
    "string": _KINDS[str],
}

TAG = "a tag"  # InfluxDB 3 keeps a table's tags and fields in one set of columns


def kind_of(value: Any) -> str:
    """The InfluxDB type of a parsed field value, as words."""
    return _KINDS[type(value)]


def kind_of_type(kind: type) -> str:
    """The InfluxDB type of the values of a Python type, as words."""
    return _KINDS[kind]


class FieldTypes:
    """The first type of every (measurement, field key) pair in an input, and where it was seen.

    For InfluxDB 3, tag keys are tracked too, as the type :data:`TAG`.

    Places are ``(source, number)``: the sources are named with :meth:`source`, so
    that a conflict between two inputs of one write names both.
    """

    def __init__(self, limit: int = MAX_TRACKED_FIELDS) -> None:
        self.limit = limit
        self.notes: list[str] = []
        self._seen: dict[tuple[str, str], tuple[str, int, int]] = {}
        self._sources: list[tuple[str, str]] = []
        self._ids: dict[tuple[str, str], int] = {}

    def source(self, name: str, unit: str = "line") -> int:
        """Register an input named ``name`` (empty for "this input") whose entries are
        numbered in ``unit`` ("line" or "record"); returns its id for :meth:`check`,
        the same for the same name and unit."""
        named = (name, unit)
        if named not in self._ids:
            self._ids[named] = len(self._sources)
            self._sources.append(named)
        return self._ids[named]

    def check(
        self, measurement: str, kinds: Mapping[str, str], source: int, number: int
    ) -> tuple[str, str] | None:
        """The first field of this entry whose type conflicts with an earlier one, as
        ``(field key, message)``, or None; then the entry's new pairs are remembered."""
        seen = self._seen
        for key, kind in kinds.items():
            first = seen.get((measurement, key))
            if first is not None and first[0] != kind:
                place = self._place(first[1], first[2], source)
                if TAG in (kind, first[0]):
                    why = "InfluxDB 3 keeps the tags and fields of a table in one set of columns (api='v3')"
                else:
                    why = "InfluxDB rejects a write that gives one field two types"
                what = "tag" if kind == TAG else "field"
                return key, (
                    f"{what} {shown(key)} of measurement {shown(measurement)} is {kind} here but {first[0]} "
                    f"{place}; {why}"
                )
        for key, kind in kinds.items():
            pair = (measurement, key)
            if pair not in seen and not self._add(pair, (kind, source, number)):
                break
        return None

    def remember(self, fields: Sequence[tuple[str, str, str, int]], source: int) -> bool:
        """Entries whose fields each have one type, given as ``(measurement, field key,
        kind, number of the first entry with it)``: False if a kind conflicts with
        an earlier one or another of these (then nothing is remembered); else the
        new pairs are remembered as :meth:`check` would have remembered them entry by
        entry, and True."""
        seen = self._seen
        kinds: dict[tuple[str, str], str] = {}
        for measurement, key, kind, _ in fields:
            pair = (measurement, key)
            first = seen.get(pair)
            if kinds.setdefault(pair, kind) != kind or (first is not None and first[0] != kind):
                return False
        for number, _, measurement, key, kind in sorted(
            (number, index, measurement, key, kind)
            for index, (measurement, key, kind, number) in enumerate(fields)
        ):
            pair = (measurement, key)
            if pair not in seen and not self._add(pair, (kind, source, number)):
                break
        return True

    def fields(self) -> dict[str, dict[str, str]]:
        """Each measurement's field keys with their type as words (``"a float"``), in
        the order first seen: every field of the input unless :attr:`notes` says the
        tracking limit was reached. Tag keys tracked for InfluxDB 3 are left out."""
        found: dict[str, dict[str, str]] = {}
        for (measurement, key), (kind, _, _) in self._seen.items():
            if kind != TAG:
                found.setdefault(measurement, {})[key] = kind
        return found

    def _add(self, pair: tuple[str, str], first: tuple[str, int, int]) -> bool:
        """Remember a pair's first type and place; False once the limit is reached."""
        if len(self._seen) >= self.limit:
            if not self.notes:
                self.notes.append(
                    f"field types were tracked for the first {self.limit} measurement/field pairs "
                    "only; type conflicts among later pairs are left to the server"
                )
            return False
        self._seen[pair] = first
        return True

    def _place(self, source: int, number: int, here: int) -> str:
        name, unit = self._sources[source] if source < len(self._sources) else ("", "line")
        if source == here or not name:
            return f"on {unit} {number}"
        return f"in {name}, {unit} {number}"
