"""Encoding and validation speed, against the official InfluxDB Python client.

Usage (from the repository root, after ``make test`` created .venv):

    .venv/bin/python bench/encode.py [--records 200000] [--lines 1000000] [--repeat 5]

Both encoders get the same 200,000 realistic record dicts (three tags, mixed
float/int/bool/string fields, nanosecond timestamps). The official client is
measured on the path its write API uses for dicts:
``Point.from_dict(record, write_precision=...).to_line_protocol()``. Both
outputs are checked to parse to the same points before timing. ``validate`` runs
over 1,000,000 typical lines. Every figure is the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from influxdb_write.line_protocol import encode_records, parse_lines, validate


def make_records(count: int, seed: int = 42) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    hosts = [f"host-{i:03d}" for i in range(200)]
    regions = ["us-west-2", "us-east-1", "eu-central-1", "ap-south-1"]
    services = ["api", "worker", "db", "cache", "web server"]
    start = 1_700_000_000_000_000_000
    records = []
    for index in range(count):
        records.append(
            {
                "measurement": "service_metrics",
                "tags": {
                    "service": rng.choice(services),
                    "host": rng.choice(hosts),
                    "region": rng.choice(regions),
                },
                "fields": {
                    "cpu": rng.random() * 100,
                    "memory_bytes": rng.randrange(1 << 20, 1 << 34),
                    "requests": rng.randrange(0, 10_000),
                    "healthy": rng.random() > 0.05,
                    "status": rng.choice(["ok", "degraded", 'say "hi"']),
                    "latency_ms": round(rng.uniform(0.1, 900.0), 3),
                },
                "time": start + index * 1_000_000_000,
            }
        )
    return records


TIMED: list[float] = []  # every timed run, to account for the wall clock


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    TIMED.extend(times)
    return statistics.median(times)


def ours(records: list[dict[str, Any]]) -> list[str]:
    return list(encode_records(records))


def official(records: list[dict[str, Any]]) -> list[str]:
    from influxdb_client import Point, WritePrecision

    return [
        Point.from_dict(record, write_precision=WritePrecision.NS).to_line_protocol()  # type: ignore[arg-type]
        for record in records
    ]


def same_points(left: list[str], right: list[str]) -> bool:
    return [tuple(p[1:]) for p in parse_lines("\n".join(left))] == [
        tuple(p[1:]) for p in parse_lines("\n".join(right))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    began = time.perf_counter()
    records = make_records(args.records)
    sample = records[:2_000]
    if not same_points(ours(sample), official(sample)):
        sys.exit("the two encoders disagree on the sample; refusing to time them")

    ours_s = median_seconds(lambda: ours(records), args.repeat)
    official_s = median_seconds(lambda: official(records), args.repeat)

    lines = ours(make_records(args.lines, seed=7))
    text = "\n".join(lines)
    if validate(text):
        sys.exit("validate found errors in encoder output")
    validate_s = median_seconds(lambda: validate(text), args.repeat)

    import influxdb_client

    print(
        f"python {sys.version.split()[0]}, influxdb-client {influxdb_client.__version__}, "
        f"median of {args.repeat} runs"
    )
    print()
    print("| task | implementation | seconds | per second | vs official |")
    print("|---|---|---:|---:|---:|")
    print(
        f"| encode {args.records:,} records | influxdb_write `encode_records` | "
        f"{ours_s:.3f} | {args.records / ours_s:,.0f} records | "
        f"{official_s / ours_s:.1f}x |"
    )
    print(
        f"| encode {args.records:,} records | influxdb-client `Point.from_dict` | "
        f"{official_s:.3f} | {args.records / official_s:,.0f} records | 1.0x |"
    )
    print(
        f"| validate {args.lines:,} lines | influxdb_write `validate` | "
        f"{validate_s:.3f} | {args.lines / validate_s:,.0f} lines | n/a |"
    )
    wall = time.perf_counter() - began
    print(
        f"\n{wall:.1f} s wall clock: {sum(TIMED):.1f} s timed, "
        f"{wall - sum(TIMED):.1f} s making records and checking outputs",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
