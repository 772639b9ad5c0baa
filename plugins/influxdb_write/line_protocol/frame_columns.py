"""Whole columns to line protocol text, with Arrow's compute kernels.

Each function takes one column of a frame slice as an Arrow array and returns
the column's text, ``null`` where the row has no value, with a mask of the rows
it does not write itself ("suspect" rows). Those are rows whose value needs a
rule the kernels do not carry (a name that ends in a backslash, a control
character, a value that does not fit its declared type, a time out of range,
NaN): :mod:`.frames` encodes them with the record encoder, which writes or
refuses them with its own exact rules. So a row is written exactly as the
equivalent record is, whichever path it takes.

Loaded only when a frame is written: this module imports pyarrow.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .errors import FrameError
from .field_types import DECLARED_KINDS
from .limits import MAX_NAME_BYTES, MAX_STRING_BYTES
from .precision import NANOSECONDS, time_range
from .values import INT64_MAX, Unsigned

# A name with one of these goes to the record encoder, which says why it cannot be
# written (a control character, a byte-order mark, a trailing backslash) or writes it.
_NAME_SUSPECT = r"[\x00-\x1f\x7f\x{feff}\\]"
_TEXT = (pa.string(), pa.large_string(), pa.string_view())
_EPOCH = _dt.datetime(1970, 1, 1)


def _or(mask: pa.Array, more: pa.Array) -> pa.Array:
    """``mask`` or ``more``, a null in ``more`` counting as false."""
    return pc.or_(mask, pc.fill_null(more, False))


def _no_rows(length: int) -> pa.Array:
    return pa.nulls(length, pa.bool_()).fill_null(False)


def join(*parts: Any, separator: str = "", null_handling: str = "emit_null") -> pa.Array:
    """Element-wise concatenation of text arrays and strings (the same for every row)."""
    parts = tuple(pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts)
    return pc.binary_join_element_wise(
        *parts, pa.scalar(separator, pa.large_string()), null_handling=null_handling, null_replacement=""
    )


def _text(array: pa.Array) -> pa.Array:
    """A string array as ``large_string``, the type the kernels below work on."""
    return array if array.type == pa.large_string() else pc.cast(array, pa.large_string())


def _dictionary(array: pa.Array, encode: Any) -> tuple[pa.Array, pa.Array]:
    """Encode a dictionary array's values once, then spread them over the rows."""
    text, suspect = encode(array.dictionary)
    return pc.take(text, array.indices), pc.take(suspect, array.indices).fill_null(False)


def is_text(kind: pa.DataType) -> bool:
    return kind in _TEXT


def name_text(array: pa.Array, role: str, prefix: str = "") -> tuple[pa.Array, pa.Array]:
    """Tag values (``role`` "tag": ``,= `` escaped, after ``prefix``; null for a missing
    or empty value) or measurement names ("measurement": ``, `` escaped) of a column.
    Suspect: names the record encoder refuses or must look at (see
    ``_NAME_SUSPECT``), long ones, and a missing measurement."""
    kind = array.type
    if is_text(kind):  # few distinct names: escape each once
        text, suspect = _dictionary(
            pc.dictionary_encode(_text(array)), lambda values: _names(values, role, prefix)
        )
    elif pa.types.is_dictionary(kind):
        text, suspect = _dictionary(array, lambda values: name_text(values, role, prefix))
    else:
        text, suspect = _names(array, role, prefix)
    if role == "measurement":
        suspect = _or(suspect, pc.is_null(text))
    return text, suspect


def _names(array: pa.Array, role: str, prefix: str) -> tuple[pa.Array, pa.Array]:
    kind = array.type
    if pa.types.is_integer(kind):
        return join(prefix, pc.cast(array, pa.large_string())), _no_rows(len(array))
    if not is_text(kind) and not pa.types.is_null(kind):
        raise FrameError(f"holds {kind}; it must hold strings (or integers)")
    text = _text(array)
    suspect = _or(
        pc.match_substring_regex(text, _NAME_SUSPECT), pc.greater(pc.binary_length(text), MAX_NAME_BYTES)
    )
    if role == "measurement":
        suspect = _or(_or(suspect, pc.starts_with(text, "#")), pc.equal(text, ""))
        specials: tuple[str, ...] = (",", " ")
    else:
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)
        specials = (",", "=", " ")
    for special in specials:
        if pc.any(pc.match_substring(text, special)).as_py():
            text = pc.replace_substring(text, special, "\\" + special)
    return join(prefix, text), suspect


Parts = list[Any]  # arrays and strings whose concatenation is a column's text


def field_text(array: pa.Array, declared: str | None) -> tuple[Parts, pa.Array]:
    """A field column's values as line protocol (``1.5``, ``2i``, ``3u``, ``true``,
    ``"text"``), converted to the declared type, as parts to concatenate: the
    arrays among them are null where the value is missing."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        text, suspect = _dictionary(array, lambda values: _joined(field_text(values, declared)))
        return [text], suspect
    length = len(array)
    if pa.types.is_null(kind):
        return [pa.nulls(length, pa.large_string())], _no_rows(length)
    number = pa.types.is_integer(kind) or pa.types.is_floating(kind)
    if pa.types.is_decimal(kind):
        return [pa.nulls(length, pa.large_string())], pc.is_valid(
            array
        )  # the record encoder's float(Decimal)
    if not (number or pa.types.is_boolean(kind) or is_text(kind)):
        raise FrameError(f"holds {kind}; a field holds numbers, booleans or strings")
    suspect = _no_rows(length)
    if declared is not None:
        array, suspect = _declared(array, declared)
        kind = array.type
    if pa.types.is_floating(kind):
        text, bad = _float_text(pc.cast(array, pa.float64()))
        return [text], _or(suspect, bad)
    if pa.types.is_boolean(kind):
        return [pc.cast(array, pa.large_string())], suspect
    if pa.types.is_integer(kind):
        return [
            pc.cast(array, pa.large_string()),
            "u" if pa.types.is_unsigned_integer(kind) else "i",
        ], suspect
    array = _text(array)
    if _repeats(array):
        text, bad = _dictionary(pc.dictionary_encode(array), lambda values: _joined(_strings(values)))
        return [text], _or(suspect, bad)
    parts, bad = _strings(array)
    return parts, _or(suspect, bad)


def _kind(kind: pa.DataType, declared: str | None) -> str | None:
    """The type of a field column's values as written (words, as the decoder names
    them); None where it writes no value the kernels make (nulls, decimals)."""
    if declared is not None:
        return DECLARED_KINDS[declared]
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_floating(kind):
        return DECLARED_KINDS["float"]
    if pa.types.is_boolean(kind):
        return DECLARED_KINDS["bool"]
    if pa.types.is_integer(kind):
        return DECLARED_KINDS["uint" if pa.types.is_unsigned_integer(kind) else "int"]
    return DECLARED_KINDS["string"] if is_text(kind) else None


def _joined(encoded: tuple[Parts, pa.Array]) -> tuple[pa.Array, pa.Array]:
    parts, suspect = encoded
    return (parts[0] if len(parts) == 1 else join(*parts)), suspect


def _strings(array: pa.Array) -> tuple[Parts, pa.Array]:
    """String field values, quoted and escaped; suspect: values over InfluxDB's size limit."""
    text = _text(array)
    suspect = pc.fill_null(pc.greater(pc.binary_length(text), MAX_STRING_BYTES), False)
    if pc.any(pc.match_substring(text, "\\")).as_py():
        text = pc.replace_substring(text, "\\", "\\\\")
    if pc.any(pc.match_substring(text, '"')).as_py():
        text = pc.replace_substring(text, '"', '\\"')
    return ['"', text, '"'], suspect


def _repeats(array: pa.Array, sample: int = 1024) -> bool:
    """Whether a string column repeats its values enough to format each value once."""
    head = array.slice(0, sample)
    return len(head) >= 64 and len(pc.unique(head)) * 4 <= len(head)


def _declared(array: pa.Array, declared: str) -> tuple[pa.Array, pa.Array]:
    """The column converted to its declared type where every value fits; rows whose
    value does not fit are suspect (the record encoder names the problem)."""
    kind = array.type
    valid = pc.is_valid(array)
    everything = valid  # a value of another kind: every present value is refused
    if declared == "float":
        if pa.types.is_floating(kind):
            return pc.cast(array, pa.float64()), _no_rows(len(array))
        if pa.types.is_integer(kind):
            return _exact_floats(array)
        return array, everything
    if declared in ("int", "uint"):
        target = pa.int64() if declared == "int" else pa.uint64()
        if pa.types.is_floating(kind):
            whole = pc.and_(pc.is_finite(array), pc.equal(pc.floor(array), array))
            low, high = (-(2.0**63), 2.0**63) if declared == "int" else (0.0, 2.0**64)
            fits = pc.and_(whole, pc.and_(pc.greater_equal(array, low), pc.less(array, high)))
        elif pa.types.is_integer(kind):
            if declared == "int" and kind == pa.uint64():
                fits = pc.less_equal(array, pa.scalar(INT64_MAX, pa.uint64()))
            elif declared == "uint" and pa.types.is_signed_integer(kind):
                fits = pc.greater_equal(array, 0)
            else:
                fits = pc.is_valid(array)
        else:
            return array, everything
        fits = pc.fill_null(fits, True)
        kept = pc.if_else(fits, array, pa.scalar(None, kind))
        return pc.cast(kept, target, safe=False), pc.invert(fits)
    if declared == "bool":
        return (array, _no_rows(len(array))) if pa.types.is_boolean(kind) else (array, everything)
    return (array, _no_rows(len(array))) if is_text(kind) else (array, everything)


def _exact_floats(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """An integer column as doubles, where a double holds the value exactly; the
    other rows (beyond 2**53, with low bits set) are suspect, so that the record
    encoder refuses them by name instead of a cast rounding them."""
    kind = array.type
    floats = pc.cast(array, pa.float64(), safe=False)
    # Casting back is defined only below the type's bound; a value that rounds up to
    # 2**63 (or 2**64) has changed anyway.
    bound = 2.0**64 if pa.types.is_unsigned_integer(kind) else 2.0**63
    below = pc.less(floats, bound)
    back = pc.cast(pc.if_else(below, floats, 0.0), kind, safe=False)
    fits = pc.fill_null(pc.and_(below, pc.equal(back, array)), True)
    return pc.if_else(fits, floats, pa.scalar(None, pa.float64())), pc.invert(fits)


def _float_text(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Floats in Python's ``repr`` form, the record encoder's: the shortest text that
    reads back as the same double. Arrow's cast gives the same shortest digits; where
    both write them in plain notation (no exponent, and 1e-4 <= |x| < 1e16, or zero)
    only Python's ``.0`` on whole numbers differs. The rest (numbers Arrow writes
    with an exponent, tiny ones) are formatted by ``repr``, value by value.
    NaN and infinities are suspect: the record encoder refuses them."""
    text = pc.cast(array, pa.large_string())
    magnitude = pc.abs(array)
    in_range = pc.or_(
        pc.equal(magnitude, 0.0), pc.and_(pc.greater_equal(magnitude, 1e-4), pc.less(magnitude, 1e16))
    )
    plain = pc.and_(in_range, pc.invert(pc.match_substring(text, "e")))
    whole = pc.fill_null(pc.and_(plain, pc.equal(pc.floor(array), array)), False)
    if pc.any(whole).as_py():
        text = pc.replace_with_mask(text, whole, join(text.filter(whole), ".0"))
    other = pc.fill_null(pc.and_(pc.is_finite(array), pc.invert(plain)), False)
    if pc.any(other).as_py():
        shown = [repr(value) for value in array.filter(other).to_pylist()]
        text = pc.replace_with_mask(text, other, pa.array(shown, pa.large_string()))
    return text, pc.fill_null(pc.invert(pc.is_finite(array)), False)


def time_values(array: pa.Array, precision: str, naive_tz: _dt.tzinfo | None) -> tuple[pa.Array, pa.Array]:
    """A time column as int64 timestamps in ``precision``; suspect: times outside the
    range InfluxDB stores, and (strings) every row, parsed by the record encoder."""
    kind = array.type
    length = len(array)
    if is_text(kind):
        return pa.nulls(length, pa.int64()), pc.is_valid(array)
    if pa.types.is_integer(kind):
        values = array
    elif pa.types.is_timestamp(kind):
        values = _timestamps(array, precision, naive_tz)
        if values is None:
            return pa.nulls(length, pa.int64()), pc.is_valid(array)
    elif pa.types.is_null(kind):
        return pa.nulls(length, pa.int64()), _no_rows(length)
    else:
        raise FrameError(
            f"holds {kind}; a time is a timestamp (timezone-aware, or naive with naive_tz), "
            f"an integer in the write's precision ({precision}) or an ISO 8601 string"
        )
    low, high = time_range(precision)
    if values.type != pa.int64():
        if pc.any(pc.greater(values, high)).as_py():
            return pa.nulls(length, pa.int64()), pc.is_valid(array)
        values = pc.cast(values, pa.int64())
    inside = pc.fill_null(pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high)), True)
    return values, pc.invert(inside)


def _timestamps(array: pa.Array, precision: str, naive_tz: _dt.tzinfo | None) -> pa.Array | None:
    """Timestamps as integers in ``precision``, floored, as the record encoder converts
    datetimes; naive ones are taken to be in ``naive_tz``. None if some are beyond int64."""
    kind = array.type
    unit = NANOSECONDS[kind.unit]
    values = pc.cast(array, pa.int64())
    if kind.tz is None:
        if naive_tz is None:
            raise FrameError(
                "holds naive timestamps (no timezone); make them timezone-aware "
                "(tz_localize in pandas, replace_time_zone in polars) or pass naive_tz= to say "
                "which timezone they are in"
            )
        values = _localize(values, unit, naive_tz)
    target = NANOSECONDS[precision]
    if unit > target:
        try:
            return pc.multiply_checked(values, unit // target)
        except pa.ArrowInvalid:  # beyond int64 in this precision: the record encoder says so
            return None
    if unit < target:
        step = target // unit
        # Floor division; Arrow's integer division truncates toward zero.
        negative = pc.less(values, 0)
        shifted = pc.subtract(pc.divide(pc.add(values, 1), step), 1)
        return pc.if_else(negative, shifted, pc.divide(values, step))
    return values


def _localize(values: pa.Array, unit: int, naive_tz: _dt.tzinfo) -> pa.Array:
    """Naive wall-clock times (integers in ``unit``) as UTC, in ``naive_tz``: as a
    naive datetime given that tzinfo reads (an ambiguous time is its first)."""
    offset = naive_tz.utcoffset(None) if isinstance(naive_tz, _dt.timezone) else None
    if offset is not None:
        return pc.subtract(values, (offset // _dt.timedelta(microseconds=1)) * 1_000 // unit)
    shifted: list[int | None] = []
    for value in values.to_pylist():
        if value is None:
            shifted.append(None)
            continue
        micros = value * unit // 1_000
        wall = _EPOCH + _dt.timedelta(microseconds=micros)
        offset = wall.replace(tzinfo=naive_tz).utcoffset() or _dt.timedelta(0)
        shifted.append(value - (offset // _dt.timedelta(microseconds=1)) * 1_000 // unit)
    return pa.array(shifted, pa.int64())


def slice_lines(start: int, columns: dict[Any, Any], plan: Any, fallback: Any) -> Any:
    """The lines of one slice of rows: kernels for whole columns, concatenated in
    one pass, then ``fallback`` (the record encoder) for the suspect rows. Returns
    a ``frames.Slice``."""
    from .errors import RowError
    from .frames import Columns, Keys, Slice, key_text

    length = len(next(iter(columns.values())))
    suspect = _no_rows(length)
    arrays: dict[Any, pa.Array] = {}
    for column, values in columns.items():
        if isinstance(values, list):  # Python values Arrow cannot hold exactly
            suspect = _or(suspect, pa.array([value is not None for value in values]))
            values = pa.nulls(length)
        arrays[column] = values

    def kernel(function: Any, column: Any, role: str, *args: Any) -> Any:
        nonlocal suspect
        try:
            text, bad = function(arrays[column], *args)
        except FrameError as exc:
            raise FrameError(f"{role} {column!r} {exc}") from None
        suspect = _or(suspect, bad)
        return text

    # Everything is concatenated by one join at the end: strings and complete
    # columns as they are, columns with missing values as pieces that are null
    # (so written as nothing) where the value is missing.
    line: Parts = [plan.measurement]
    if plan.measurement is None:
        line = [kernel(name_text, plan.measurement_column, "measurement column", "measurement")]
    for column, prefix in plan.tags:
        line.append(kernel(name_text, column, "tag column", "tag", prefix))
    line.append(" ")
    fields: Parts = []
    complete = False  # some field column has a value in every row
    present = None  # rows with a value in some field column with missing values
    kinds: list[tuple[str, str, str, int]] = []  # (measurement, key, kind, first row with a value)
    for column, prefix, declared in plan.fields:
        parts = kernel(field_text, column, "field column", declared)
        kind = _kind(arrays[column].type, declared)
        if not any(isinstance(p, pa.Array) and p.null_count for p in parts):
            fields += [prefix if fields else prefix[1:], *parts]
            complete = True
            first = 0 if length else -1
        else:
            fields.append(join(prefix, *parts))
            valid = pc.is_valid(fields[-1])
            present = valid if present is None else pc.or_(present, valid)
            first = pc.index(valid, True).as_py()
        if kind is not None and first >= 0:
            kinds.append((plan.raw_measurement, key_text(column), kind, start + first))
    if isinstance(
        fields[0], pa.Array
    ):  # the first field may be missing: drop the comma before the first present
        fields = [pc.utf8_slice_codeunits(join(*fields, null_handling="replace"), 1)]
    line += fields
    times = None
    stamp = None if plan.default_time is None else f" {plan.default_time}"
    if plan.time is not None:
        times = kernel(lambda a: time_values(a, plan.precision, plan.naive_tz), plan.time, "time column")
        text = pc.cast(times, pa.large_string())
        if not times.null_count:
            line += [" ", text]
        else:
            line.append(join(" ", text) if stamp is None else pc.fill_null(join(" ", text), stamp))
    elif stamp is not None:
        line.append(stamp)
    lines_array = join(*line, null_handling="replace")
    empty = None if complete or present is None else pc.invert(present)
    skipped = suspect if empty is None else pc.or_(suspect, empty)
    if pc.any(skipped).as_py():
        lines_array = pc.if_else(skipped, pa.scalar(None, pa.large_string()), lines_array)
    result = Slice(start, lines_array)
    if not pc.any(suspect).as_py():  # the kernels wrote every line
        if plan.measurement is not None:
            longest = pc.max(pc.binary_length(lines_array)).as_py() or 0
            result.columns = Columns(kinds, bool(plan.tags), longest)
        if plan.point_keys:
            series = join(*line[: 1 + len(plan.tags)], null_handling="replace")
            if isinstance(series, pa.Scalar):  # one series key for every row
                series = pa.repeat(series, length)
            default = "" if plan.default_time is None else str(plan.default_time)
            when: Any = default
            if times is not None:
                when = pc.fill_null(text, default) if times.null_count else text
            result.keys = Keys(pc.dictionary_encode(series), when)
    if empty is not None:
        result.empty = [start + i for i in pc.indices_nonzero(pc.and_(empty, pc.invert(suspect))).to_pylist()]
    rows = pc.indices_nonzero(suspect).to_pylist()
    if rows:
        written: list[str | None] = []
        for i in rows:
            values = {c: _python(columns[c], i) for c in columns}
            time = values.get(plan.time)
            if times is not None and times[i].is_valid:
                time = times[i].as_py()
            try:
                written.append(fallback(plan, start + i, values, time))
            except RowError as exc:
                result.problems[start + i] = exc
                written.append(None)
                continue
            if written[-1] is None:
                result.empty.append(start + i)
        result.lines = pc.replace_with_mask(lines_array, suspect, pa.array(written, pa.large_string()))
        result.empty.sort()
    return result


def _python(values: Any, row: int) -> Any:
    """Row ``row`` of a column as the value a record would hold (unsigned integers
    as ``Unsigned``, so that they are written with ``u`` as the column says)."""
    if isinstance(values, list):
        return values[row]
    value = values[row].as_py()
    kind = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if value is not None and pa.types.is_unsigned_integer(kind):
        return Unsigned(value)
    return value


def text_chunks(lines: pa.Array, max_lines: int, max_bytes: int) -> Iterator[tuple[int, int, bytes]]:
    """Cut ``lines`` (no nulls) into runs of at most ``max_lines`` lines and
    ``max_bytes`` bytes once joined by newlines: ``(first index, count, body)``,
    the body taken from Arrow's buffer in one copy. A line larger than
    ``max_bytes`` is a run of its own; the caller refuses it."""
    ended = join(lines, "\n")
    sizes = pc.binary_length(ended)
    start = 0
    while start < len(lines):
        count = min(max_lines, len(lines) - start)
        if pc.sum(sizes.slice(start, count)).as_py() - 1 > max_bytes:
            total = 0
            taken = 0
            for size in sizes.slice(start, count).to_pylist():
                total += size
                if total - 1 > max_bytes:
                    break
                taken += 1
            count = max(taken, 1)
        run = ended.slice(start, count)
        offsets = pa.Array.from_buffers(pa.int64(), count + 1, [None, run.buffers()[1]], offset=run.offset)
        first, last = offsets[0].as_py(), offsets[count].as_py()
        yield start, count, run.buffers()[2].slice(first, last - first - 1).to_pybytes()
        start += count
