"""The numeric types and ranges of line protocol field values."""

from __future__ import annotations

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1


class Unsigned(int):
    """An unsigned 64-bit integer field value, written as ``123u``.

    Plain Python ints are written as signed integers (``123i``); wrap a value in
    ``Unsigned`` to store it as InfluxDB's unsigned type (InfluxDB 2.x, 3.x, Cloud).
    """

    def __new__(cls, value: int) -> Unsigned:
        number = int.__new__(cls, value)
        if not 0 <= number <= UINT64_MAX:
            raise ValueError(f"unsigned value {int(number)} is outside 0..{UINT64_MAX}")
        return number

    def __repr__(self) -> str:
        return f"Unsigned({int(self)})"
