"""End-to-end write speed and memory against a local VictoriaMetrics.

Usage (from the repository root, after ``make test``):

    .venv/bin/python bench/write.py [--records 1000000] [--repeat 3]

Each measurement runs in its own Python process against a fresh
VictoriaMetrics, so its peak memory (``ru_maxrss``) is its own and the server
holds exactly what that run wrote. The records come from a generator in both
clients, so the input itself is never held in memory.

- records: 1,000,000 records (3 tags, 6 mixed fields) encoded, batched (5,000
  lines), gzip-compressed and POSTed by ``InfluxDBWriteClient.write``, against
  the official ``influxdb-client`` batching ``WriteApi`` (batch_size 5,000,
  ``enable_gzip=True``) on the same records.
- line protocol: the same data pre-rendered to a file, streamed by
  ``InfluxDBWriteClient.write(bucket, file)``, against a bare ``requests`` loop
  that posts the same 5,000-line gzip (level 1) batches: the practical limit.
- frame: a pandas DataFrame of as many rows (3 tags, 6 fields, a timestamp
  column; ``bench/frames.py``), built before the clock starts, written by
  ``InfluxDBWriteClient.write(bucket, frame, ...)`` (encode, batch, gzip,
  POST), against the bare ``requests`` loop posting the same lines, rendered
  into 5,000-line batches before its clock starts.

The clock stops when the client has returned (for the official client: when
closing its ``WriteApi`` has sent the last batch). After every run the server
is asked how many samples it holds, which must be every field of every record.
The modes take turns, so a change in the machine's load hits all of them alike.
Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "tests"), str(ROOT / "bench")]

from encode import make_records  # noqa: E402

BATCH = 5_000
START = 1_700_000_000_000_000_000  # first record's time, ns; one record per millisecond
TEMPLATES = 1_000
MEASUREMENT = "service_metrics"


def generate(count: int) -> Iterator[dict[str, Any]]:
    """``count`` records cycling through 1,000 realistic ones, each with its own time.

    Cheap to produce (a shallow copy each), so the clients' own work dominates."""
    templates = make_records(TEMPLATES)
    for index in range(count):
        yield dict(templates[index % TEMPLATES], time=START + index * 1_000_000)


def expected_samples(count: int) -> int:
    """Samples VictoriaMetrics stores for ``generate(count)``: one per field of each
    record; the frame has six fields in every row, as the records have."""
    fields = [len(record["fields"]) for record in make_records(TEMPLATES)]
    cycles, rest = divmod(count, TEMPLATES)
    return cycles * sum(fields) + sum(fields[:rest])


def run_ours_records(url: str, count: int, path: str) -> int:
    from influxdb_write.client import InfluxDBWriteClient

    with InfluxDBWriteClient(url, "token", org="org", max_batch_lines=BATCH) as client:
        return client.write("bench", generate(count)).lines


def run_official_records(url: str, count: int, path: str) -> int:
    from influxdb_client import InfluxDBClient, WriteOptions

    errors: list[Any] = []
    with InfluxDBClient(url=url, token="token", org="org", enable_gzip=True) as client:
        # Batches are cut by count only: the flush interval is far longer than
        # a batch takes to fill. Leaving the ``with`` block closes the WriteApi,
        # which sends the last, partial batch and returns once every batch has
        # been written (polling every 0.1 s; part of the official client's time).
        options = WriteOptions(batch_size=BATCH, flush_interval=60_000)
        with client.write_api(
            write_options=options, error_callback=lambda conf, data, exc: errors.append(exc)
        ) as api:
            api.write(bucket="bench", record=generate(count))
    if errors:
        raise RuntimeError(f"official client failed: {errors[0]}")
    return count


def run_ours_file(url: str, count: int, path: str) -> int:
    from influxdb_write.client import InfluxDBWriteClient

    with InfluxDBWriteClient(url, "token", org="org", max_batch_lines=BATCH) as client, open(path, "rb") as f:
        return client.write("bench", f).lines


def run_bare_file(url: str, count: int, path: str) -> int:
    import requests

    headers = {
        "Authorization": "Token token",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Encoding": "gzip",
    }
    params = {"org": "org", "bucket": "bench", "precision": "ns"}
    lines = 0
    with requests.Session() as session, open(path, "rb") as f:
        batch: list[bytes] = []
        for line in f:
            batch.append(line.rstrip(b"\n"))
            if len(batch) == BATCH:
                body = gzip.compress(b"\n".join(batch), 1, mtime=0)
                session.post(
                    f"{url}/api/v2/write", params=params, data=body, headers=headers
                ).raise_for_status()
                lines += len(batch)
                batch = []
        if batch:
            body = gzip.compress(b"\n".join(batch), 1, mtime=0)
            session.post(f"{url}/api/v2/write", params=params, data=body, headers=headers).raise_for_status()
            lines += len(batch)
    return lines


def frame(count: int) -> Any:
    from frames import make_frame

    return make_frame(count, start=START, freq="ms")


def run_ours_frame(url: str, count: int, path: str) -> tuple[int, float, float]:
    import ctypes
    import gc

    import pyarrow

    from frames import MEASUREMENT as NAME
    from frames import TAGS
    from influxdb_write.client import InfluxDBWriteClient

    data = frame(count)
    # What the write adds to the frame it is given: once the frame is built, the
    # memory freed while building it is handed back to the system (else the write
    # reuses it unseen), the peak resident size is reset (Linux: clear_refs 5), and
    # read again after the write. Arrow allocates from malloc here (see measure()).
    gc.collect()
    pyarrow.default_memory_pool().release_unused()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    resident = memory_kb("VmRSS")
    began = time.perf_counter()
    with InfluxDBWriteClient(url, "token", org="org", max_batch_lines=BATCH) as client:
        lines = client.write("bench", data, measurement=NAME, tag_columns=TAGS, time_column="time").lines
    return lines, time.perf_counter() - began, (memory_kb("VmHWM") - resident) / 1024


def memory_kb(key: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in kB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key + ":"))


def run_bare_frame(url: str, count: int, path: str) -> tuple[int, float]:
    """The bare loop: the frame's lines, rendered by ``encode_frame`` into 5,000-line
    bodies before the clock starts; timed: gzip and POST each body."""
    import requests

    from frames import MEASUREMENT as NAME
    from frames import TAGS
    from influxdb_write.line_protocol import encode_frame

    lines = list(encode_frame(frame(count), measurement=NAME, tag_columns=TAGS, time_column="time"))
    bodies = ["\n".join(lines[i : i + BATCH]).encode() for i in range(0, len(lines), BATCH)]
    del lines
    headers = {
        "Authorization": "Token token",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Encoding": "gzip",
    }
    params = {"org": "org", "bucket": "bench", "precision": "ns"}
    began = time.perf_counter()
    with requests.Session() as session:
        for body in bodies:
            session.post(
                f"{url}/api/v2/write", params=params, data=gzip.compress(body, 1, mtime=0), headers=headers
            ).raise_for_status()
    return count, time.perf_counter() - began


MODES = {
    "ours-records": run_ours_records,
    "official-records": run_official_records,
    "ours-file": run_ours_file,
    "bare-file": run_bare_file,
    "ours-frame": run_ours_frame,
    "bare-frame": run_bare_frame,
}


def child(mode: str, url: str, count: int, path: str) -> None:
    began = time.perf_counter()
    done = MODES[mode](url, count, path)
    # Frame modes build their input first and time their own part.
    lines, seconds, *added = done if isinstance(done, tuple) else (done, time.perf_counter() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"seconds": seconds, "peak_mb": peak, "lines": lines, "added_mb": sum(added)}), flush=True
    )
    # The work is done and reported. Exit without the interpreter's shutdown,
    # which joins every thread-pool thread: the official WriteApi leaves one
    # behind that sleeps until its last batch's flush-interval timer is due
    # (60 s after that batch opened) although the timer was cancelled.
    os._exit(0)


def stored_samples(url: str, count: int) -> int:
    """Samples VictoriaMetrics holds for the ``count`` records written to it."""
    first = START // 1_000_000_000 - 1  # the window (first, last] holds every record's time
    last = START // 1_000_000_000 + count // 1_000 + 1
    return samples_in(url, MEASUREMENT, first, last, expected_samples(count))


def samples_in(url: str, measurement: str, first: int, last: int, expected: int) -> int:
    """Samples of ``measurement``'s fields VictoriaMetrics holds in the seconds (first, last].

    VictoriaMetrics makes rows searchable in the background after it answered
    their write, so while fewer than ``expected`` are found the count is asked
    again, for up to 20 s."""
    import requests

    deadline = time.monotonic() + 20
    while True:
        requests.get(f"{url}/internal/force_flush", timeout=60).raise_for_status()
        response = requests.get(
            f"{url}/api/v1/query",
            params={
                "query": f'sum(count_over_time({{__name__=~"{measurement}_.+"}}[{last - first}s]))',
                "time": str(last),
                "nocache": "1",
            },
            timeout=300,
        )
        response.raise_for_status()
        result = response.json()["data"]["result"]
        samples = int(result[0]["value"][1]) if result else 0
        if samples >= expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.5)


def measure(mode: str, folder: Path, count: int, path: str) -> dict[str, float]:
    # tests/ is on sys.path at run time; "mypy bench" alone does not see it
    from servers import start_victoria_metrics  # type: ignore[import-not-found, unused-ignore]

    data = folder / "victoria-metrics"
    data.mkdir()
    server = start_victoria_metrics(data)
    try:
        command = [sys.executable, __file__, "--child", mode, "--url", server.url]
        # Arrow allocates from malloc in every run, so that what a frame write adds to
        # its frame shows in the resident size (Arrow's default pool keeps freed memory).
        env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}
        done = subprocess.run(
            [*command, "--records", str(count), "--file", path], capture_output=True, text=True, env=env
        )
        if done.returncode:
            raise RuntimeError(f"{mode} failed with exit status {done.returncode}:\n{done.stderr}")
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        if result["lines"] != count:
            raise RuntimeError(f"{mode} wrote {result['lines']} lines, not {count}")
        samples, expected = stored_samples(server.url, count), expected_samples(count)
        if samples != expected:
            raise RuntimeError(f"{mode}: the server holds {samples} samples, not {expected}")
    finally:
        server.stop()
        shutil.rmtree(data)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--file", default="")
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated subset of " + ", ".join(MODES)
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.records, args.file)
        return

    from influxdb_write.line_protocol import encode_records

    began = time.perf_counter()
    modes = args.modes.split(",")
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "data.lp"
        if any(mode.endswith("-file") for mode in modes):
            with path.open("w", encoding="utf-8") as f:
                for line in encode_records(generate(args.records)):
                    f.write(line + "\n")
        size_mb = path.stat().st_size / 1e6 if path.exists() else 0.0
        setup = time.perf_counter() - began
        for _ in range(args.repeat):
            for mode in modes:
                results[mode].append(measure(mode, folder, args.records, str(path)))
    wall = time.perf_counter() - began
    timed = sum(r["seconds"] for runs in results.values() for r in runs)

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[mode])

    import influxdb_client

    print(
        f"python {sys.version.split()[0]}, influxdb-client {influxdb_client.__version__}, "
        f"{args.records:,} records ({size_mb:.0f} MB of line protocol), median of {args.repeat} runs"
    )
    print()
    print("| input | implementation | seconds | records/s | peak memory | relative |")
    print("|---|---|---:|---:|---:|---:|")
    for mode, label, base in [
        ("ours-records", "records: influxdb_write `write`", "official-records"),
        ("official-records", "records: influxdb-client batching `WriteApi`", "official-records"),
        ("ours-file", "line protocol file: influxdb_write `write`", "bare-file"),
        ("bare-file", "line protocol file: bare `requests` loop", "bare-file"),
        ("ours-frame", "pandas frame: influxdb_write `write`", "bare-frame"),
        ("bare-frame", "pandas frame: bare `requests` loop on pre-rendered batches", "bare-frame"),
    ]:
        if mode not in results:
            continue
        seconds = med(mode, "seconds")
        ratio = med(base, "seconds") / seconds if base in results else float("nan")
        print(
            f"| {label.split(': ')[0]} | {label.split(': ')[1]} | {seconds:.2f} | "
            f"{args.records / seconds:,.0f} | {med(mode, 'peak_mb'):.0f} MB | "
            f"{ratio:.2f}x of {base.split('-')[0]} |"
        )
    if "ours-frame" in results:
        print()
        print(
            f"Memory the frame write adds to the frame (peak resident size during the write, "
            f"less the resident size before it): {med('ours-frame', 'added_mb'):.0f} MB"
        )
    print(file=sys.stderr)
    for mode, runs in results.items():
        print(f"{mode}: " + ", ".join(f"{r['seconds']:.2f} s" for r in runs), file=sys.stderr)
    print(
        f"{wall:.1f} s wall clock: {setup:.1f} s writing the file, {timed:.1f} s timed, "
        f"{wall - setup - timed:.1f} s starting processes and servers and counting samples",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
