"""End-to-end write speed and memory against a local VictoriaMetrics.

Usage (from the repository root, after ``make test``):

    .venv/bin/python bench/write.py [--records 1000000] [--repeat 3]

Each measurement runs in its own Python process, so its peak memory
(``ru_maxrss``) is its own. The records come from a generator in both
clients, so the input itself is never held in memory.

- records: 1,000,000 records (3 tags, 6 mixed fields) encoded, batched (5,000
  lines), gzip-compressed and POSTed by ``InfluxDBWriteClient.write``, against
  the official ``influxdb-client`` batching ``WriteApi`` (batch_size 5,000,
  ``enable_gzip=True``) on the same records.
- line protocol: the same data pre-rendered to a file, streamed by
  ``InfluxDBWriteClient.write(bucket, file)``, against a bare ``requests`` loop
  that posts the same 5,000-line gzip (level 1) batches: the practical limit.

Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
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


def generate(count: int) -> Iterator[dict[str, Any]]:
    """``count`` records cycling through 1,000 realistic ones, each with its own time.

    Cheap to produce (a shallow copy each), so the clients' own work dominates."""
    templates = make_records(1_000)
    start = 1_700_000_000_000_000_000
    for index in range(count):
        yield dict(templates[index % 1_000], time=start + index * 1_000_000)


def run_ours_records(url: str, count: int, path: str) -> int:
    from influxdb_write.client import InfluxDBWriteClient

    with InfluxDBWriteClient(url, "token", org="org", max_batch_lines=BATCH) as client:
        return client.write("bench", generate(count)).lines


def run_official_records(url: str, count: int, path: str) -> int:
    from influxdb_client import InfluxDBClient, WriteOptions

    errors: list[Any] = []
    with InfluxDBClient(url=url, token="token", org="org", enable_gzip=True) as client:
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


MODES = {
    "ours-records": run_ours_records,
    "official-records": run_official_records,
    "ours-file": run_ours_file,
    "bare-file": run_bare_file,
}


def child(mode: str, url: str, count: int, path: str) -> None:
    began = time.perf_counter()
    lines = MODES[mode](url, count, path)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "lines": lines}))


def measure(mode: str, url: str, count: int, path: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--records", str(count), "--file", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if result["lines"] != count:
        raise RuntimeError(f"{mode} wrote {result['lines']} lines, not {count}")
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
    from servers import start_victoria_metrics

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.lp"
        with path.open("w", encoding="utf-8") as f:
            for line in encode_records(generate(args.records)):
                f.write(line + "\n")
        server = start_victoria_metrics(Path(folder))
        try:
            results = {
                mode: [measure(mode, server.url, args.records, str(path)) for _ in range(args.repeat)]
                for mode in args.modes.split(",")
            }
        finally:
            server.stop()
        size_mb = path.stat().st_size / 1e6

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


if __name__ == "__main__":
    main()
