"""What a write sends: every source as one input of the client's write, and where a sent line came from.

Each source reaches the client in the form it sends fastest: a frame as the
frame itself (encoded slice by slice into Arrow batches, as
``client.write(frame)`` sends it), records as the lines their check kept, text
and files as they are, streamed and framed by the client. Only bad entries to
skip make a source go entry by entry. The client numbers each input's lines within
it, so a line the server rejects is named by its source and that source's own
line, record or row without reading anything again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .client import Input
from .line_protocol import Decoder, with_default_time
from .sources import CHECK_CHUNK, FrameSource, Problem, RecordsSource, Source, TextSource, point_conflicts

if TYPE_CHECKING:
    from .line_protocol.field_types import FieldTypes
    from .line_protocol.points import PointIndex

log = logging.getLogger(__name__)

SHOWN_SKIPS = 100


class Outgoing:
    """The inputs to send; lines of text get ``stamp`` when they have none (records
    and frame rows got it as they were encoded).

    ``decoder`` makes a fresh decoder for each pass. With ``skip_bad``, entries
    with a problem are left out, logged (the first :data:`SHOWN_SKIPS`) and
    counted in :attr:`skipped`; otherwise every entry is sent as it is. With
    ``points``, the entries sent are indexed by point, and :meth:`count_overwritten`
    then counts those whose value for a field a later entry of the same point
    replaces (a server keeps the last; ``validate="skip"``).
    """

    def __init__(
        self,
        sources: list[Source],
        decoder: Callable[[], Decoder],
        *,
        skip_bad: bool,
        stamp: int | None,
        points: PointIndex | None = None,
        precision: str = "ns",
    ) -> None:
        self.sources = sources
        self.decoder = decoder
        self.skip_bad = skip_bad
        self.stamp = stamp
        self.points = points
        self.precision = precision
        self.overwritten = 0
        self.skipped = 0
        self._read: list[Source] = []  # sources read entry by entry in the last pass
        self._decoder: Decoder | None = None

    def inputs(self) -> list[Input]:
        """One client input per source, in order. A frame goes as itself unless bad
        rows are to be skipped, which needs its rows one by one."""
        checking = self._start().check
        inputs = []
        for source in self.sources:
            if self.skip_bad:
                inputs.append(Input(self._entries(source), name=source.name, framed=True))
            elif isinstance(source, FrameSource):
                mapping, stamp = source.column_mapping(), source.default_time
                inputs.append(Input(source.frame, name=source.name, frame=mapping, default_time=stamp))
            elif isinstance(source, TextSource):  # the client's own streaming, stamping as it frames
                inputs.append(Input(source.data(), name=source.name, default_time=self.stamp))
            elif isinstance(source, RecordsSource) and source.checked is not None:
                # Encoded, stamped and checked once, by the check: records 1 to n, as one run.
                numbers, lines = source.checked
                assert not numbers or numbers[-1] == len(numbers), "a check keeps lines only if all are good"
                inputs.append(Input([(1, lines)] if lines else [], name=source.name, framed=True))
            elif isinstance(source, RecordsSource) and not checking:
                inputs.append(Input(source.runs(), name=source.name, framed=True))  # encoded as sent
            else:
                inputs.append(Input(self._entries(source), name=source.name, framed=True))
        return inputs

    def entries(self) -> Iterator[str]:
        """Every entry that would be sent, in order (a dry run)."""
        self._start()
        for source in self.sources:
            for _number, text in self._entries(source):
                yield text
        self.finish()

    def _start(self) -> Decoder:
        self.skipped = 0
        self._read = []
        self._decoder = self.decoder()  # one for every source: field types are compared across them
        return self._decoder

    def _entries(self, source: Source) -> Iterator[tuple[int, str]]:
        """``(number, entry)`` pairs of one source, numbered as the client numbers a
        frame's lines (row + 1) or as the source numbers its lines and records."""
        assert self._decoder is not None
        if isinstance(source, RecordsSource) and source.checked is not None and not self.skip_bad:
            yield from zip(*source.checked, strict=True)  # encoded, stamped and checked once, by the check
            return
        self._read.append(source)
        stamp = self.stamp if source.unit == "line" else None
        after = 1 if source.unit == "row" else 0
        points, sent = self.points, []
        for item in source.items(self._decoder):
            if item.problem is not None and self.skip_bad:
                self.skipped += 1
                if self.skipped <= SHOWN_SKIPS:
                    log.warning("Skipping %s", item.problem)
                continue
            if points is not None:
                sent.append(item.text)
                if len(sent) >= CHECK_CHUNK:
                    points.add(sent)
                    sent = []
            yield item.number + after, item.text if stamp is None else with_default_time(item.text, stamp)
        if points is not None:
            points.add(sent)

    def count_overwritten(self) -> int:
        """After a pass with ``points``: how many entries sent lose a field value to a later
        entry of the same point (read again only when point keys repeat); the first
        :data:`SHOWN_SKIPS` are logged. Kept in :attr:`overwritten`."""
        if self.points is None:
            return 0
        problems, _, self.overwritten = point_conflicts(
            self.sources, self.points, self.decoder, SHOWN_SKIPS, self.precision
        )
        self.points = None
        for problem in problems:
            log.warning("Overwritten: %s", problem)
        if self.overwritten:
            log.warning(
                "%d entries lost a field value to a later entry of the same point; InfluxDB keeps the last",
                self.overwritten,
            )
        return self.overwritten

    def finish(self) -> None:
        """Log what the pass left out: skipped entries beyond those shown, frame rows
        without fields read row by row, and field types it could not track."""
        if self.skipped > SHOWN_SKIPS:
            log.warning("Skipped %d bad lines or records in all", self.skipped)
        for source in self._read:
            note = source.without_fields.note() if isinstance(source, FrameSource) else None
            if note:
                log.warning("%s: %s", source.name, note)
        for note in self._decoder.notes if self._decoder is not None else []:
            log.warning("%s", note)

    def checked_fields(self) -> FieldTypes | None:
        """The field types of the entries the last pass checked (with ``skip_bad``), else None."""
        decoder = self._decoder
        return decoder.types if decoder is not None and decoder.check else None

    def rows_without_fields(self) -> int:
        """Rows of frames read row by row in the last pass that were not written: every
        field value was missing (the client counts those of frames it encoded)."""
        return sum(s.without_fields.count for s in self._read if isinstance(s, FrameSource))

    def name_rejected(self, error: Any) -> None:
        """Rewrite a partial write error's message to name each rejected line by its
        source and that source's own line, record or row; ``error.rejected_in_sources``
        lists them as :class:`~influxdb_write.sources.Problem`."""
        rejected = getattr(error, "rejected", None) or []
        by_name = {source.name: source for source in self.sources}
        problems = []
        for r in rejected:
            source = (
                by_name.get(r.source) if r.source else self.sources[0] if len(self.sources) == 1 else None
            )
            if source is None:
                continue
            number = r.line - 1 if source.unit == "row" else r.line
            text = r.text if len(r.text) <= 200 else r.text[:200] + "..."
            problems.append(Problem(source.name, number, f"{source.unit} {number}: {r.message}: {text!r}"))
        if not problems:
            return
        listed = "\n".join(f"  {p}" for p in problems)
        error.rejected_in_sources = problems
        error.args = (
            f"the server rejected {len(problems)} line(s) or record(s):\n{listed}\n"
            f"The client's report: {error.args[0]}",
        )
