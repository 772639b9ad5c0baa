"""What a write sends: every source's entries in order, and where a sent line came from.

The client numbers the lines it is given across the whole write; a user knows
their own file, template or records. :class:`Outgoing` hands the client the
entries and, when the server rejects some, reads the sources again the same way
to name each rejected line by its source and that source's own line or record
number. Nothing is kept per line, so memory does not grow with the input.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from .line_protocol import Decoder, with_default_time
from .sources import FrameSource, Item, Problem, Source

log = logging.getLogger(__name__)

SHOWN_SKIPS = 100


class Outgoing:
    """The entries to send, stamped with ``stamp`` when they have no time.

    ``decoder`` makes a fresh decoder for each pass. With ``skip_bad``, entries
    with a problem are left out, logged (the first :data:`SHOWN_SKIPS`) and
    counted in :attr:`skipped`; otherwise every entry is sent as it is.
    """

    def __init__(
        self, sources: list[Source], decoder: Callable[[], Decoder], *, skip_bad: bool, stamp: int | None
    ) -> None:
        self.sources = sources
        self.decoder = decoder
        self.skip_bad = skip_bad
        self.stamp = stamp
        self.skipped = 0

    def __iter__(self) -> Iterator[str]:
        self.skipped = 0
        stamp = self.stamp
        for _source, item in self._sent(log_skips=True):
            yield item.text if stamp is None else with_default_time(item.text, stamp)
        if self.skipped > SHOWN_SKIPS:
            log.warning("Skipped %d bad lines or records in all", self.skipped)
        for source in self.sources:
            note = source.without_fields.note() if isinstance(source, FrameSource) else None
            if note:
                log.warning("%s: %s", source.name, note)

    def rows_without_fields(self) -> int:
        """Rows of frames not written in the last pass: every field value was missing."""
        return sum(s.without_fields.count for s in self.sources if isinstance(s, FrameSource))

    def _sent(self, *, log_skips: bool) -> Iterator[tuple[Source, Item]]:
        """``(source, item)`` for every entry sent, in order."""
        decoder = self.decoder()
        for source in self.sources:
            for item in source.items(decoder):
                if item.problem is not None:
                    if self.skip_bad:
                        if log_skips:
                            self.skipped += 1
                            if self.skipped <= SHOWN_SKIPS:
                                log.warning("Skipping %s", item.problem)
                        continue
                yield source, item
        for note in decoder.notes:
            if log_skips:
                log.warning("%s", note)

    def locate(self, lines: list[int]) -> dict[int, Problem]:
        """Where each of ``lines`` (numbered as the client numbers what it is sent) came
        from: its source, and the number of the source's line or record."""
        wanted = sorted(set(lines))
        found: dict[int, Problem] = {}
        start = 1
        for source, item in self._sent(log_skips=False):
            span = item.text.count("\n") + 1
            while wanted and wanted[0] < start + span:
                line = wanted.pop(0)
                number = item.number + (line - start if source.unit == "line" else 0)
                found[line] = Problem(source.name, number, f"{source.unit} {number}")
            if not wanted:
                break
            start += span
        return found

    def name_rejected(self, error: Any) -> None:
        """Rewrite a partial write error's message to name each rejected line by its
        source and that source's own line or record; ``error.rejected_in_sources``
        lists them as :class:`~influxdb_write.sources.Problem`."""
        rejected = getattr(error, "rejected", None) or []
        if not rejected:
            return
        places = self.locate([r.line for r in rejected])
        problems = []
        for r in rejected:
            place = places.get(r.line)
            if place is None:
                continue
            text = r.text if len(r.text) <= 200 else r.text[:200] + "..."
            problems.append(Problem(place.source, place.number, f"{place.message}: {r.message}: {text!r}"))
        if not problems:
            return
        listed = "\n".join(f"  {p}" for p in problems)
        error.rejected_in_sources = problems
        error.args = (
            f"the server rejected {len(problems)} line(s) or record(s):\n{listed}\n"
            f"The client's report, with lines numbered across all sources: {error.args[0]}",
        )
