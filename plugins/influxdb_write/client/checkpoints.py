"""How far a write is confirmed, so that a later try can resume after it.

A :class:`Checkpoint` counts the entries of the whole write, from its first
input's first line, that the server confirmed, and carries a fingerprint of
their content: a SHA-256 digest of each entry's UTF-8 text followed by a
newline, in order (SHA-256 rather than BLAKE2b: OpenSSL's SHA-256 ran at
1.7 GB/s on this project's machine, BLAKE2b at 1.0). The fingerprint does not
depend on how the entries were batched (a batch split after a 413 hashes the
same), so a retry proves that its input starts with exactly what was confirmed
by reading that much of it again, before it sends anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from .batching import Batch


@dataclass(frozen=True)
class Checkpoint:
    """``lines`` entries confirmed, ``fingerprint`` of their content; the last of
    them was line ``line`` of the input named ``source`` ("" in a write of one)."""

    lines: int
    fingerprint: str
    source: str = ""
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: Any) -> Checkpoint | None:
        """The checkpoint ``as_dict`` made, or ``None`` for anything else."""
        try:
            made = cls(**value)
        except TypeError:
            return None
        fields = (made.lines, made.fingerprint, made.source, made.line)
        types = (int, str, str, int)
        return made if all(type(f) is t for f, t in zip(fields, types, strict=True)) else None


class Fingerprint:
    """The running fingerprint of the entries confirmed so far."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, batch: Batch) -> None:
        self._hash.update(batch.body())
        self._hash.update(b"\n")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()[:32]
