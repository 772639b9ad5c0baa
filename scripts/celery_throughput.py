"""Throughput of the backfill DAG on Airflow's CeleryExecutor, with one worker and with two.

    .venv/bin/python scripts/celery_throughput.py --partitions 24 --lines 100000 --repeat 2

It starts the tests' stack (``tests/archive_backfill.py``: PostgreSQL, Redis, the
API server, scheduler and DAG processor, Celery workers and influxd, all on
loopback in a temporary folder), then alternates runs of
``influxdb_backfill_archive`` with one worker and with two, each run loading
its own day of ``--partitions`` hourly files of ``--lines`` lines. It prints,
per run, the run's wall time (from the DAG run's start to its end, as Airflow
records them), lines per second, the time the writes themselves took (the
partitions' ``seconds``, added up) and how busy the machine's CPUs were, then
the medians and the ratio. The pool is sized so that it never binds; the
workers' ``--concurrency`` does. Everything is stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from archive_backfill import Backfill, expected, start_backfill, write_archive  # noqa: E402
from celery_stack import process_tree  # noqa: E402


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants, the exited ones included
    (their time is in their parents' ``cutime`` and ``cstime``)."""
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def stack_cpu(backfill: Backfill) -> dict[str, float]:
    """CPU seconds so far of each part of the stack."""
    stack = backfill.stack
    parts = {
        "influxd": [backfill.influxd.process.pid],
        "workers": [process.pid for process in stack.workers.values()],
        "airflow": [
            process.pid for name, process in stack.airflow.processes.items() if name not in stack.workers
        ],
        "postgres": [stack.postgres.process.pid],
    }
    return {part: sum(tree_cpu_seconds(pid) for pid in pids) for part, pids in parts.items()}


def cpu_ticks() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine, from ``/proc/stat``."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def one_run(backfill: Backfill, run_id: str, day: datetime, partitions: int, lines: int) -> dict[str, float]:
    files = write_archive(backfill.archive, day, partitions, lines)
    busy, total = cpu_ticks()
    used = stack_cpu(backfill)
    backfill.trigger(run_id, files)
    run = backfill.wait_for_success(run_id, seconds=3600)
    busy_after, total_after = cpu_ticks()
    used = {part: seconds - used[part] for part, seconds in stack_cpu(backfill).items()}
    if backfill.landed(files) != expected(files):
        raise AssertionError(f"{run_id}: what landed differs from the files")
    started, ended = (datetime.fromisoformat(run[key]) for key in ("start_date", "end_date"))
    wall = (ended - started).total_seconds()
    writing = backfill.returned(run_id, "publish")["seconds"]
    for file in files:
        file.path.unlink()
    return {
        "wall": wall,
        "rate": partitions * lines / wall,
        "writing": writing,
        "cpu": 100 * (busy_after - busy) / (total_after - total),
        **{f"cpu {part}": seconds for part, seconds in used.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partitions", type=int, default=24, help="hourly files per run (default 24: a day)")
    parser.add_argument("--lines", type=int, default=100_000, help="lines per file (default 100,000)")
    parser.add_argument("--concurrency", type=int, default=1, help="task instances per worker (default 1)")
    parser.add_argument("--repeat", type=int, default=2, help="runs with each number of workers (default 2)")
    args = parser.parse_args()

    results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="influxdb-write-celery-") as folder:
        print("Starting PostgreSQL, Redis, Airflow on Celery and influxd ...", flush=True)
        backfill = start_backfill(Path(folder), ["worker-1"], args.concurrency, pool_slots=64)
        try:
            day = datetime(2024, 2, 1, tzinfo=timezone.utc)
            for round_ in range(args.repeat):
                for workers in (1, 2):
                    if workers == 2:
                        backfill.stack.start_worker("worker-2", args.concurrency)
                        backfill.stack.wait_for_workers()
                    run_id = f"throughput-{round_}-{workers}w"
                    result = one_run(backfill, run_id, day, args.partitions, args.lines)
                    results[workers].append(result)
                    parts = ", ".join(
                        f"{key[4:]} {value:.0f} s" for key, value in result.items() if " " in key
                    )
                    print(
                        f"{run_id}: {result['wall']:.1f} s, {result['rate']:,.0f} lines/s, "
                        f"writes {result['writing']:.1f} s, machine CPU {result['cpu']:.0f}% busy; "
                        f"CPU time: {parts}",
                        flush=True,
                    )
                    if workers == 2:
                        backfill.stack.stop_worker("worker-2")
                    day += timedelta(days=1)
                    time.sleep(2)
        finally:
            backfill.stop()

    lines = args.partitions * args.lines
    print(f"\n{args.partitions} partitions x {args.lines:,} lines = {lines:,} lines per run, ", end="")
    print(f"worker concurrency {args.concurrency}, medians of {args.repeat}:")
    columns = ["workers", "run wall time", "lines/s", "time in writes", "machine CPU busy"]
    print(f"| {' | '.join(columns)} | CPU s: influxd / workers / airflow / postgres |")
    print("|---:|---:|---:|---:|---:|---|")
    medians = {}
    for workers, runs in results.items():
        medians[workers] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        m = medians[workers]
        cpu = " / ".join(f"{value:.0f}" for key, value in m.items() if " " in key)
        row = [f"{m['wall']:.1f} s", f"{m['rate']:,.0f}", f"{m['writing']:.1f} s", f"{m['cpu']:.0f}%", cpu]
        print(f"| {workers} | {' | '.join(row)} |")
    print(f"\ntwo workers / one worker: {medians[2]['rate'] / medians[1]['rate']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
