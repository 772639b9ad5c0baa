"""Declared field types: the type a field must be written as, whatever the input holds.

InfluxDB fixes a field's type when it is first written and refuses later
writes of another type. Inputs drift: an integer column becomes float the day
one value is missing, so ``1i`` today is ``1.0`` tomorrow and the write fails.
``field_types={"count": "int", "kwh": "float"}`` says once what each field is:
a value that can be written as that type without changing it is converted
(an integer declared float, a whole float declared int), any other is an
error naming the field. Nothing is rounded or truncated.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Mapping
from typing import Any

from .values import INT64_MAX, INT64_MIN, UINT64_MAX, Unsigned

FIELD_TYPES = ("float", "int", "uint", "bool", "string")


def check_field_types(field_types: Mapping[Any, str] | None) -> dict[str, str]:
    """The declarations by field key (as written), checked; ``ValueError`` names a bad one."""
    if not field_types:
        return {}
    if not isinstance(field_types, Mapping):
        raise ValueError(
            f"field_types must be a mapping of field key to type, got {type(field_types).__name__}"
        )
    declared = {}
    for key, kind in field_types.items():
        if kind not in FIELD_TYPES:
            raise ValueError(
                f"field_types[{key!r}] is {kind!r}; a field type is one of {', '.join(FIELD_TYPES)}"
            )
        declared[key if isinstance(key, str) else str(key)] = kind
    return declared


def _number(value: Any) -> int | float | decimal.Decimal | None:
    """``value`` as a Python int, float or Decimal when it is a number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, decimal.Decimal)):
        return value
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind in ("i", "u"):
        return int(value)
    if kind == "f":
        return float(value)
    return None


def _whole(value: Any, declared: str) -> int:
    number = _number(value)
    if number is None:
        raise ValueError(f"declared {declared}, but {value!r} is not a number")
    if isinstance(number, int):
        return int(number)
    if not (math.isfinite(number) if isinstance(number, float) else number.is_finite()):
        raise ValueError(f"declared {declared}, but {value!r} is not a number line protocol can carry")
    if number != int(number):
        raise ValueError(f"declared {declared}, but {value!r} has a fractional part")
    return int(number)


def as_float(value: Any) -> float:
    number = _number(value)
    if number is None:
        raise ValueError(f"declared float, but {value!r} is not a number")
    return float(number)


def as_int(value: Any) -> int:
    number = _whole(value, "int")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f"declared int, but {number} is outside the signed 64-bit range")
    return number


def as_uint(value: Any) -> Unsigned:
    number = _whole(value, "uint")
    if not 0 <= number <= UINT64_MAX:
        raise ValueError(f"declared uint, but {number} is outside the unsigned 64-bit range")
    return Unsigned(number)


def as_bool(value: Any) -> bool:
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", None) == "b":
        return bool(value)
    raise ValueError(f"declared bool, but {value!r} is not a boolean")


def as_string(value: Any) -> str:
    if isinstance(value, str):
        return value[:]
    raise ValueError(f"declared string, but {value!r} is not a string")


CONVERT: dict[str, Callable[[Any], Any]] = {
    "float": as_float,
    "int": as_int,
    "uint": as_uint,
    "bool": as_bool,
    "string": as_string,
}


def declare(fields: Mapping[Any, Any], declared: Mapping[str, str]) -> dict[Any, Any]:
    """``fields`` with every declared field's value converted (``None`` stays
    ``None``: absent); :class:`DeclaredTypeError` names a value that does not fit."""
    converted = {}
    for key, value in fields.items():
        kind = declared.get(key if isinstance(key, str) else str(key))
        if kind is None or value is None:
            converted[key] = value
            continue
        try:
            converted[key] = CONVERT[kind](value)
        except ValueError as exc:
            raise DeclaredTypeError(key, str(exc)) from None
    return converted


class DeclaredTypeError(ValueError):
    """A field value that does not fit the field's declared type; ``key`` names the field."""

    def __init__(self, key: Any, problem: str) -> None:
        super().__init__(problem)
        self.key = key
