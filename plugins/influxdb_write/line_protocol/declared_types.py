"""Declared field types: the type a field must be written as, whatever the input holds.

InfluxDB fixes a field's type when it is first written and refuses later
writes of another type. Inputs drift: an integer column becomes float the day
one value is missing, so ``1i`` today is ``1.0`` tomorrow and the write fails.
``field_types={"count": "int", "kwh": "float"}`` says once what each field is:
a value that can be written as that type without changing it is converted
(an integer declared float, a whole float declared int), any other is an
error naming the field. Nothing is rounded or truncated: an integer declared
float is converted only when a double holds it exactly (``2**53 + 1`` is
refused, not written as ``9007199254740992.0``), and a Decimal only when the
float text written is its very number (``Decimal("2.50")`` is ``2.5``,
``Decimal("0.1000000000000000000001")`` is refused). The record encoder writes
undeclared Decimals by the same rule (:func:`exact_float`).
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
    """``value`` as a Python int, float or Decimal when it is a number (not a bool), else None.

    A numpy float wider than a double (``longdouble``) whose value a double does not
    hold is refused here, so that no later step rounds it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, decimal.Decimal)):
        return value
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind in ("i", "u"):
        return int(value)
    if kind == "f":
        return numpy_float(value)
    return None


def numpy_float(value: Any) -> float:
    """A numpy floating scalar as a Python float; ``ValueError`` when the double
    differs from it (a ``longdouble`` with more digits than a double holds)."""
    number = float(value)
    if number != value and number == number:  # NaN is refused where it is written
        raise ValueError(
            f"{value!r} ({type(value).__name__}) has more digits than a double holds, and line "
            "protocol floats are doubles; round it to float64 first if that is what you mean"
        )
    return number


def exact_float(value: int | decimal.Decimal) -> float:
    """The float that writes ``value`` without changing it; ``ValueError`` when none does.

    An integer must be held exactly by a double (every integer up to 2**53 is; a
    larger one only when its low bits are zero). A Decimal is decimal text, as line
    protocol is: its float's text (Python's shortest ``repr``) must be the same
    number, which is what the server reads. NaN and infinities are refused."""
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written: line protocol has no NaN or Inf")
        number = float(value)
        if math.isfinite(number) and decimal.Decimal(repr(number)) == value:
            return number
        nearest = repr(number) if math.isfinite(number) else "beyond the float range"
        raise ValueError(
            f"Decimal {value} cannot be written as a float without changing it (the nearest "
            f"float is {nearest}); round it to the digits a float holds (about 15 significant "
            "digits) first, or write it as a string"
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isfinite(number) and int(number) == value:
        return number
    nearest = repr(number) if math.isfinite(number) else "beyond the float range"
    raise ValueError(
        f"{_integer(value)} cannot be written as a float without changing it (the nearest float is "
        f"{nearest}; a float holds every integer only up to 2**53); declare the field int "
        "(or uint), or round the value yourself"
    )


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


def _integer(value: Any) -> str:
    """A number for a message: an integer's digits, or their count when there are many."""
    if not isinstance(value, int):
        return repr(value)
    digits = str(int(value))
    return digits if len(digits) <= 40 else f"an integer of {len(digits.lstrip('-'))} digits"


def as_float(value: Any) -> float:
    number = _number(value)
    if number is None:
        raise ValueError(f"declared float, but {value!r} is not a number")
    if isinstance(number, float):
        return number
    try:
        return exact_float(number)
    except ValueError as exc:
        raise ValueError(f"declared float, but {exc}") from None


def as_int(value: Any) -> int:
    number = _whole(value, "int")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f"declared int, but {_integer(value)} is outside the signed 64-bit range")
    return number


def as_uint(value: Any) -> Unsigned:
    number = _whole(value, "uint")
    if not 0 <= number <= UINT64_MAX:
        raise ValueError(f"declared uint, but {_integer(value)} is outside the unsigned 64-bit range")
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
