"""Where an operator's data comes from: named sources of numbered entries, and their checks.

A source is one input of a task (its ``line_protocol``, its ``records``, one
upstream XCom, a file) with a name for messages and its entries numbered within
it, so that an error names the source and the line or record a user can find.
Loaded when a task runs, not when a DAG file is parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .line_protocol import LineError, RecordError, encode_records, iter_entries, stream_lines, validate


@dataclass
class Source:
    """One input: its name for messages, its entries as ``(number, entry)``
    (numbers count lines, or records for record input), and the records that
    could not be encoded, as ``(number, message)``."""

    name: str
    entries: Iterable[tuple[int, str]]
    unit: str = "line"
    unencodable: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Problem:
    """A bad line or record of a source."""

    source: str
    number: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}, {self.message}"


def text_source(name: str, text: str) -> Source:
    return Source(name, list(iter_entries(text.split("\n"))))


def records_source(name: str, records: Any, precision: str) -> Source:
    """Records encoded one by one, so that each bad record is named and the rest are kept."""
    if isinstance(records, Mapping):
        records = [records]
    entries: list[tuple[int, str]] = []
    problems: list[tuple[int, str]] = []
    for number, record in enumerate(records, 1):
        try:
            (line,) = encode_records([record], precision=precision)
        except RecordError as exc:
            problems.append((number, f"record {number}: {exc.part}: {exc.problem}"))
            continue
        entries.append((number, line))
    return Source(name, entries, "record", tuple(problems))


def xcom_sources(name: str, value: Any, precision: str) -> list[Source]:
    """An upstream return value: a string, a list of lines, records, or (mapped
    tasks) a list of any of these."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        return [text_source(name, text)]
    if isinstance(value, Mapping):
        return [records_source(name, [value], precision)]
    items = list(value)
    if all(isinstance(item, Mapping) for item in items):
        return [records_source(name, items, precision)]
    if all(isinstance(item, str) for item in items):
        return [text_source(name, "\n".join(items))]
    sources = []
    for index, item in enumerate(items):
        sources.extend(xcom_sources(f"{name}[{index}]", item, precision))
    return sources


def path_source(path: str) -> Source:
    """A local file or an Airflow object storage path (``s3://...``), streamed."""
    return Source(f"file {path}", _PathEntries(path))


class _PathEntries:
    """A file's entries, re-read on each iteration so it can be validated, then sent."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __iter__(self) -> Iterator[tuple[int, str]]:
        from airflow.sdk import ObjectStoragePath

        target = ObjectStoragePath(self.path) if "://" in self.path else None
        with target.open("rb") if target is not None else open(self.path, "rb") as stream:
            yield from iter_entries(stream_lines(stream))


def check(source: Source, precision: str) -> Iterator[Problem]:
    """Every bad record and line of ``source``, the first error of each line."""
    for number, message in source.unencodable:
        yield Problem(source.name, number, message)
    for number, entry in source.entries:
        errors: list[LineError] = validate(entry, precision=precision)
        if errors:
            first = errors[0]
            text = first.text if len(first.text) <= 200 else first.text[:200] + "..."
            yield Problem(source.name, number, f"{source.unit} {number}: {first.message}: {text!r}")
