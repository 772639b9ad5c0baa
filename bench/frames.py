"""DataFrame encoding speed, against the official clients' DataFrame serializers.

Usage (from the repository root, after ``make test`` created .venv):

    .venv/bin/python bench/frames.py [--rows 1000000] [--repeat 3] [--only ours]

One frame, built once: ``--rows`` rows, three tags (one with values that need
escaping), six fields (two floats, two integers, a boolean and a string with
quotes to escape) and a timezone-aware nanosecond timestamp column. It is
encoded into a list of lines by

- this package's ``encode_frame``, from the pandas frame and from the same
  frame in polars;
- ``influxdb-client``'s ``DataframeSerializer`` (pandas; what
  ``WriteApi.write(record=df, ...)`` runs);
- ``influxdb3-python``'s pandas and polars serializers (what ``write_dataframe``
  runs).

Before timing, the first 2,000 lines of every encoder are parsed and must be
the same points. Every figure is the median of ``--repeat`` runs, in rows per
second, with the peak memory each run added (tracemalloc can't see Arrow's
buffers, so the peak resident set of a child process is reported instead).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

TAGS = ["service", "host", "region"]
MEASUREMENT = "service_metrics"


def make_frame(rows: int, seed: int = 42, start: Any = "2024-01-01", freq: str = "s") -> Any:
    """The benchmark frame; ``start`` (a time string or nanoseconds) and ``freq`` place its times."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    hosts = np.array([f"host-{i:03d}" for i in range(200)], dtype=object)
    return pd.DataFrame(
        {
            "service": np.array(["api", "worker", "db", "cache", "web server"], dtype=object)[
                rng.integers(0, 5, rows)
            ],
            "host": hosts[rng.integers(0, 200, rows)],
            "region": np.array(["us-west-2", "us-east-1", "eu-central-1", "ap-south-1"], dtype=object)[
                rng.integers(0, 4, rows)
            ],
            "cpu": rng.random(rows) * 100,
            "memory_bytes": rng.integers(1 << 20, 1 << 34, rows),
            "requests": rng.integers(0, 10_000, rows),
            "healthy": rng.random(rows) > 0.05,
            "status": np.array(["ok", "degraded", 'say "hi"'], dtype=object)[rng.integers(0, 3, rows)],
            "latency_ms": np.round(rng.uniform(0.1, 900.0, rows), 3),
            "time": pd.date_range(pd.Timestamp(start, tz="UTC"), periods=rows, freq=freq, unit="ns"),
        }
    ).astype({"service": "str", "host": "str", "region": "str", "status": "str"})


def ours(frame: Any) -> list[str]:
    from influxdb_write.line_protocol import encode_frame

    return list(encode_frame(frame, measurement=MEASUREMENT, tag_columns=TAGS, time_column="time"))


def official(module: str, function: str, settings_module: str) -> Callable[[Any], list[str]]:
    """An official client's serializer, called as its write API calls it, with the
    same mapping as ours: measurement, tag columns, timestamp column, nanoseconds."""

    def encode(frame: Any) -> list[str]:
        import importlib

        to_points = getattr(importlib.import_module(module), function)
        point_settings = importlib.import_module(settings_module).PointSettings()
        return list(
            to_points(
                frame,
                point_settings,
                "ns",
                data_frame_measurement_name=MEASUREMENT,
                data_frame_tag_columns=TAGS,
                data_frame_timestamp_column="time",
            )
        )

    return encode


V3_WRITE = "influxdb_client_3.write_client.client.write"
influxdb_client_pandas = official(
    "influxdb_client.client.write.dataframe_serializer",
    "data_frame_to_list_of_points",
    "influxdb_client.client.write_api",
)
influxdb3_pandas = official(
    f"{V3_WRITE}.dataframe_serializer",
    "data_frame_to_list_of_points",
    "influxdb_client_3.write_client.client.write_api",
)
influxdb3_polars = official(
    f"{V3_WRITE}.polars_dataframe_serializer",
    "polars_data_frame_to_list_of_points",
    "influxdb_client_3.write_client.client.write_api",
)


# name -> (encoder, frame library)
ENCODERS: dict[str, tuple[Callable[[Any], list[str]], str]] = {
    "ours (pandas)": (ours, "pandas"),
    "ours (polars)": (ours, "polars"),
    "influxdb-client (pandas)": (influxdb_client_pandas, "pandas"),
    "influxdb3-python (pandas)": (influxdb3_pandas, "pandas"),
    "influxdb3-python (polars)": (influxdb3_polars, "polars"),
}


def frame_for(library: str, rows: int) -> Any:
    frame = make_frame(rows)
    if library == "polars":
        import polars as pl

        return pl.from_pandas(frame)
    return frame


def check_same_points(rows: int) -> None:
    """The first lines of every encoder parse to the same points."""
    from influxdb_write.line_protocol import parse_lines

    sample = min(rows, 2_000)
    expected = None
    for name, (encode, library) in ENCODERS.items():
        lines = encode(frame_for(library, sample))
        points = [(p.measurement, p.tags, p.fields, p.time) for p in parse_lines("\n".join(lines))]
        if expected is None:
            expected = points
        elif points != expected:
            first = next(i for i, (a, b) in enumerate(zip(points, expected, strict=False)) if a != b)
            raise SystemExit(f"{name} differs at line {first + 1}: {points[first]} != {expected[first]}")


def _timed(name: str, rows: int, queue: Any) -> None:
    encode, library = ENCODERS[name]
    frame = frame_for(library, rows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    lines = encode(frame)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert len(lines) == rows, (name, len(lines))
    queue.put((seconds, (peak - before) / 1024))


def run_once(name: str, rows: int) -> tuple[float, float]:
    """One timed run in a fresh process: seconds, and MB the process grew by while encoding."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_timed, args=(name, rows, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["ours", "all"], default="all")
    args = parser.parse_args()
    names = [n for n in ENCODERS if args.only == "all" or n.startswith("ours")]
    check_same_points(args.rows)
    print(f"{args.rows:,} rows, median of {args.repeat} runs, each in a fresh process")
    results = {}
    for name in names:
        runs = [run_once(name, args.rows) for _ in range(args.repeat)]
        seconds = statistics.median(r[0] for r in runs)
        results[name] = (args.rows / seconds, statistics.median(r[1] for r in runs))
    best = {
        library: max(
            (rate for n, (rate, _) in results.items() if not n.startswith("ours") and library in n), default=0
        )
        for library in ("pandas", "polars")
    }
    best_official = max(best.values())
    print("| encoder | rows/s | vs best official | memory added (MB) |")
    print("|---|---:|---:|---:|")
    for name, (rate, memory) in results.items():
        ratio = f"{rate / best_official:.1f}x" if best_official else "-"
        print(f"| {name} | {rate:,.0f} | {ratio} | {memory:,.0f} |")


if __name__ == "__main__":
    main()
