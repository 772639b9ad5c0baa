"""Reading pandas, polars and pyarrow frames as slices of Arrow arrays.

Each frame library is imported only by the reader of its own frames. A slice
is converted column by column, only the columns that are written, so memory
beyond the frame itself grows with the slice, not with the frame. A pandas
column that Arrow cannot hold exactly (an ``object`` column of mixed Python
values) is kept as a list of Python values; its rows go to the record encoder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from .frames import INDEX

Column = Any  # a pyarrow Array, or a list of Python values


class FrameSource:
    """A frame's columns, read in slices: ``slices`` yields ``(first row, {column: values})``.

    ``periods`` names the columns (and :data:`INDEX`) that hold pandas periods:
    they are read as each period's start time, naive like a period itself."""

    columns: list[Any]
    has_time_index = False
    periods: frozenset[Any] = frozenset()

    def slices(self, wanted: list[Any], rows: int) -> Iterator[tuple[int, dict[Any, Column]]]:
        raise NotImplementedError


def open_frame(frame: Any) -> FrameSource:
    library = type(frame).__module__.partition(".")[0]
    if library == "pandas":
        return PandasSource(frame)
    if library == "polars":
        return PolarsSource(frame)
    return ArrowSource(frame)


def _array(values: Any) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


class ArrowSource(FrameSource):
    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self.columns = list(frame.schema.names)

    def slices(self, wanted: list[Any], rows: int) -> Iterator[tuple[int, dict[Any, Column]]]:
        for start in range(0, self.frame.num_rows, rows):
            part = self.frame.slice(start, rows)
            yield start, {c: _array(part.column(c)) for c in wanted}


class PolarsSource(FrameSource):
    """A polars DataFrame; a LazyFrame is collected first."""

    def __init__(self, frame: Any) -> None:
        if type(frame).__name__ == "LazyFrame":
            frame = frame.collect()
        self.frame = frame
        self.columns = list(frame.columns)

    def slices(self, wanted: list[Any], rows: int) -> Iterator[tuple[int, dict[Any, Column]]]:
        chosen = self.frame.select(wanted)
        for start in range(0, chosen.height, rows):
            part = chosen.slice(start, rows).to_arrow()
            yield start, {c: _array(part.column(c)) for c in wanted}


class PandasSource(FrameSource):
    def __init__(self, frame: Any) -> None:
        import pandas as pd

        self.frame = frame
        self.columns = list(frame.columns)
        # A PeriodIndex is a time index too, as the official clients read it.
        self.has_time_index = isinstance(frame.index, (pd.DatetimeIndex, pd.PeriodIndex))
        periods = {c for c in self.columns if isinstance(frame[c].dtype, pd.PeriodDtype)}
        if isinstance(frame.index, pd.PeriodIndex):
            periods.add(INDEX)
        self.periods = frozenset(periods)

    def slices(self, wanted: list[Any], rows: int) -> Iterator[tuple[int, dict[Any, Column]]]:
        for start in range(0, len(self.frame), rows):
            part = self.frame.iloc[start : start + rows]
            yield start, {c: _pandas_column(part.index if c == INDEX else part[c]) for c in wanted}


# What an object column may become in Arrow and still hold the very values the
# record encoder would see: not floats, which Arrow also makes of mixed ints and floats.
_EXACT_FROM_OBJECTS = (pa.string(), pa.large_string(), pa.bool_(), pa.null(), pa.int64())


def _pandas_column(series: Any) -> Column:
    import pandas as pd

    if isinstance(series.dtype, pd.PeriodDtype):  # a period is its start time, naive
        series = series.to_timestamp(how="start") if isinstance(series, pd.Index) else series.dt.start_time
    try:
        array = _array(pa.array(series, from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        array = None
    if array is not None and (series.dtype != object or array.type in _EXACT_FROM_OBJECTS):
        return array
    return [None if pd.api.types.is_scalar(value) and pd.isna(value) else value for value in series.tolist()]
