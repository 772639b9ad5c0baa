"""What counting measurements for OpenLineage costs a write.

Usage (from the repository root, after ``make test``):

    .venv/bin/python bench/lineage.py [--rows 300000] [--repeat 5]

The operator counts what the server confirmed per measurement (lines, bytes,
tag keys) only when the OpenLineage provider will ask for it
(:mod:`influxdb_write.lineage`). This times ``InfluxDBWriteClient.write_inputs``
against a local VictoriaMetrics with and without a ``MeasurementTally``, on
the same data, the two taking turns:

- frame: the pandas frame of ``bench/frames.py`` (one measurement), sent as
  Arrow slices;
- text: the same rows as line protocol text in memory;
- mixed text: the same lines, each row's measurement one of three names
  (``_a``, ``_b``, ``_c`` appended in turn), so every batch holds three
  measurements and bytes are summed line by line.

Medians of ``--repeat`` runs; every run must write every row. The wall times
move by several percent from run to run here (the server shares the two
cores), so the CPU time the counting itself took (``time.thread_time`` around
each ``add``, on the sender thread) is given too.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "tests"), str(ROOT / "bench")]

START = 1_700_000_000_000_000_000


def write(url: str, data: Any, counted: bool) -> tuple[float, float]:
    from frames import MEASUREMENT, TAGS
    from influxdb_write.client import InfluxDBWriteClient, Input
    from influxdb_write.line_protocol import FrameMapping
    from influxdb_write.line_protocol.tally import MeasurementTally

    mapping = None
    if not isinstance(data, str):
        mapping = FrameMapping.from_options(
            {"measurement": MEASUREMENT, "tag_columns": TAGS, "time_column": "time"}
        )

    class TimedTally(MeasurementTally):
        """Adds up the CPU time of its own counting (on the sender thread)."""

        cpu = 0.0

        def add(self, entries: Any, ascii: bool = True) -> None:
            began = time.thread_time()
            super().add(entries, ascii)
            TimedTally.cpu += time.thread_time() - began

    tally = TimedTally() if counted else None
    began = time.perf_counter()
    with InfluxDBWriteClient(url, "token", org="org") as client:
        result = client.write_inputs("bench", [Input(data, frame=mapping)], tally=tally)
    seconds = time.perf_counter() - began
    if tally is not None:
        counts = tally.measurements()
        assert counts is not None and sum(m.lines for m in counts.values()) == result.lines
    return (seconds if result.lines else float("nan")), TimedTally.cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()

    from frames import MEASUREMENT, TAGS, make_frame
    from influxdb_write.line_protocol import encode_frame
    from servers import start_victoria_metrics  # type: ignore[import-not-found, unused-ignore]

    frame = make_frame(options.rows, start=START, freq="ms")
    lines = list(encode_frame(frame, measurement=MEASUREMENT, tag_columns=TAGS, time_column="time"))
    text = "\n".join(lines)
    mixed = "\n".join(
        line.replace(MEASUREMENT, f"{MEASUREMENT}_{'abc'[i % 3]}", 1) for i, line in enumerate(lines)
    )
    inputs = {"frame": frame, "text": text, "mixed text": mixed}
    folder = Path(tempfile.mkdtemp(prefix="bench-lineage-"))
    server = start_victoria_metrics(folder)
    times: dict[tuple[str, bool], list[float]] = {}
    cpu: dict[str, list[float]] = {}
    try:
        for _ in range(options.repeat):
            for name, data in inputs.items():
                for counted in (False, True):
                    seconds, counting = write(server.url, data, counted)
                    times.setdefault((name, counted), []).append(seconds)
                    if counted:
                        cpu.setdefault(name, []).append(counting)
    finally:
        server.stop()
        shutil.rmtree(folder)
    print(f"{options.rows:,} rows, medians of {options.repeat}")
    print("| input | without counting | counting per measurement | cost | CPU time of the counting |")
    print("|---|---:|---:|---:|---:|")
    for name in inputs:
        without, tallied = (statistics.median(times[(name, flag)]) for flag in (False, True))
        spent = statistics.median(cpu[name])
        print(
            f"| {name} | {without:.2f} s | {tallied:.2f} s | {tallied / without - 1:+.1%} "
            f"| {spent:.3f} s ({spent / without:.1%}) |"
        )


if __name__ == "__main__":
    main()
