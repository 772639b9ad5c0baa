"""The retry policy: an immutable value with a pure ``delay`` function.

``delay(attempt, retry_after)`` says how long to wait before retry number
``attempt`` (1-based). It takes the randomness as an argument so it can be
tested without sleeping and without chance.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_DELTA_SECONDS = re.compile(r"[0-9]+")  # not str.isdigit(), which takes "²" and "٣"


@dataclass(frozen=True)
class RetryPolicy:
    """How retryable failures are retried. All times are in seconds.

    - ``max_retries``: retries per batch after the first attempt (default 5).
    - ``backoff``: the first backoff; each retry doubles it (default 1 s).
    - ``max_backoff``: cap of one exponential backoff (default 60 s, as Telegraf).
    - ``jitter``: the backoff is multiplied by a random factor in ``[1 - jitter, 1]``
      so that many writers do not retry in lockstep (default 0.5).
    - ``max_retry_after``: cap of a server's ``Retry-After`` (default 300 s): a
      server asking for an hour must not hang a task for an hour.
    - ``max_elapsed``: time budget for one batch, its requests and waits together
      (default 600 s); a retry whose wait would end past it is not made.
    """

    max_retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    jitter: float = 0.5
    max_retry_after: float = 300.0
    max_elapsed: float = 600.0
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff < 0 or self.max_elapsed < 0:
            raise ValueError("max_retries, backoff and max_elapsed must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def delay(self, attempt: int, retry_after: float | None = None, *, rand: float = 1.0) -> float:
        """Seconds to wait before retry ``attempt`` (1-based).

        A server's ``Retry-After`` wins, capped at ``max_retry_after``; otherwise
        exponential backoff ``backoff * 2**(attempt-1)`` capped at ``max_backoff``
        and scaled by ``1 - jitter * rand`` where ``rand`` is in ``[0, 1]``.
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        exponential = min(self.backoff * 2.0 ** (attempt - 1), self.max_backoff)
        return exponential * (1 - self.jitter * rand)

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_retries=0)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a ``Retry-After`` header (RFC 9110): ASCII delta-seconds or an
    HTTP date. None if absent; anything else is ignored with a warning, and the
    policy's own backoff applies."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:  # HTTP dates are in GMT, whether they say so or not
            when = when.replace(tzinfo=datetime.timezone.utc)
        return max(0.0, when.timestamp() - now())
    except (TypeError, ValueError, IndexError, OverflowError):
        log.warning("Ignoring unreadable Retry-After header %r; backing off instead", value[:100])
        return None


def jitter_source() -> float:
    return random.random()
