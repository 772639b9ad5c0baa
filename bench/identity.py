"""What the point identity check adds to the operator's strict check: time and peak memory.

Usage (from the repository root, after ``make test`` created .venv):

    .venv/bin/python bench/identity.py [--rows 300000] [--file-records 0] [--repeat 3]

- ``--rows``: the frame of ``bench/frames.py`` (3 tags, 6 fields, a time column), as
  many record dicts of ``bench/encode.py``, and the frame's line protocol as one text,
  checked as the operator's strict validation checks them (``sources.check_all``, which
  encodes the frame and the records), with and without the point index; CPU seconds,
  medians.
- ``--file-records``: a line protocol file of that many records of ``bench/write.py``
  (5,300,000 make the 1 GB file of docs/performance.md), checked by path with and without the
  index, each in a child process: seconds and peak resident size (``VmHWM``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "bench"))


def check(sources: list[Any], points: bool, precision: str = "ns") -> tuple[float, int]:
    from influxdb_write.line_protocol import Decoder
    from influxdb_write.line_protocol.points import PointIndex
    from influxdb_write.sources import check_all

    began = time.process_time()
    index = PointIndex(stamp=1) if points else None
    _, count = check_all(sources, Decoder(precision=precision), 20, index, precision)
    return time.process_time() - began, count


def in_memory(rows: int, repeat: int) -> None:
    import encode
    import frames
    from influxdb_write.line_protocol import FrameMapping
    from influxdb_write.sources import Encoding, records_source, text_source

    frame = frames.make_frame(rows)
    text = "\n".join(frames.ours(frame)) + "\n"
    options = {"measurement": frames.MEASUREMENT, "tag_columns": frames.TAGS, "time_column": "time"}
    encoding = Encoding("ns", None, FrameMapping.from_options(options), 1)
    print(f"| input ({rows:,} rows) | strict check | with point identity | added |")
    print("|---|---:|---:|---:|")
    records = encode.make_records(rows)
    for name, make in [
        ("pandas frame", lambda: [records_source("frame", frame, encoding)]),
        ("record dicts (`bench/encode.py`)", lambda: [records_source("records", records, encoding)]),
        ("line protocol text", lambda: [text_source("text", text)]),
    ]:
        runs: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeat):
            for points in (False, True):
                seconds, count = check(make(), points)
                assert count == 0
                runs[points].append(seconds)
        without, with_ = statistics.median(runs[False]), statistics.median(runs[True])
        print(f"| {name} | {without:.2f} s | {with_:.2f} s | +{with_ - without:.2f} s |")


def child(path: str, points: bool) -> None:
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (fork, then exec).
    # What the check loads is loaded before "before": the codec, and airflow.sdk, which
    # FileSource imports to open object storage paths (about 100 MB; the task has it anyway).
    from airflow.sdk import ObjectStoragePath  # noqa: F401

    from influxdb_write.line_protocol import Decoder  # noqa: F401
    from influxdb_write.line_protocol.points import PointIndex  # noqa: F401
    from influxdb_write.sources import FileSource
    from write import memory_kb

    before = memory_kb("VmHWM")
    began = time.perf_counter()
    _, count = check([FileSource(f"file {path}", path=path)], points)
    assert count == 0, count
    seconds = time.perf_counter() - began
    print(before, memory_kb("VmHWM"), seconds)


def from_file(records: int) -> None:
    from influxdb_write.line_protocol import encode_records
    from write import generate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.lp"
        with path.open("w", encoding="utf-8") as out:
            for line in encode_records(generate(records)):
                out.write(line + "\n")
        size = path.stat().st_size / 1e6
        heading = f"file ({records:,} lines, {size:,.0f} MB)"
        print(f"| {heading} | seconds | peak RSS (airflow.sdk loaded) | added by the check |")
        print("|---|---:|---:|---:|")
        for points in (False, True):
            args = [sys.executable, __file__, "--child", str(path)] + (["--points"] if points else [])
            report = subprocess.run(args, capture_output=True, text=True, check=True).stdout
            before, peak, seconds = report.split()
            name = "strict check with point identity" if points else "strict check"
            added = (int(peak) - int(before)) / 1024
            print(f"| {name} | {float(seconds):.1f} | {int(peak) / 1024:.0f} MB | {added:.0f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file-records", type=int, default=0)
    parser.add_argument("--child")
    parser.add_argument("--points", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.points)
        return
    if args.rows:
        in_memory(args.rows, args.repeat)
    if args.file_records:
        from_file(args.file_records)


if __name__ == "__main__":
    main()
