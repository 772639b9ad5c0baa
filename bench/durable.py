"""What durable writes cost: checkpoints on a 1 GB line protocol file, and one save.

Usage (from the repository root, after ``make test`` created .venv):

    .venv/bin/python bench/durable.py [--records 5300000] [--repeat 3] [--saves 200]

- The file: ``--records`` records of ``bench/write.py`` as line protocol
  (5,300,000 make the 1 GB file of docs/performance.md), written by path with
  ``InfluxDBWriteClient.write_inputs`` to a fresh local VictoriaMetrics, with and
  without checkpoints (``on_checkpoint`` every 50,000 lines, the operator's
  cadence for an input it did not count; the callback only keeps the checkpoint),
  turns taken, medians of ``--repeat``. The difference is the fingerprinting.
- A save: ``--saves`` calls of ``task_state_store.set`` with a checkpoint's value
  inside a real task (``airflow dags test``, SQLite, in a temporary home); the
  median of one. A write saves ``lines / 50,000`` checkpoints.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
EVERY = 50_000

SAVE_DAG = """
import json, time
import pendulum
from airflow.sdk import DAG, task

with DAG("bench_resume_save", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    @task
    def save(task_state_store=None):
        value = {"checkpoint": {"lines": 50000, "fingerprint": "ab" * 16, "source": "file /data/in.lp",
                 "line": 50000}, "identity": "cd" * 16, "try": 1, "first_try": 1}
        took = []
        for i in range(COUNT):
            began = time.perf_counter()
            task_state_store.set("influxdb_write.checkpoint", value)
            took.append(time.perf_counter() - began)
        print("SAVES " + json.dumps(took))
    save()
"""


def file_writes(records: int, repeat: int) -> None:
    from influxdb_write.client import InfluxDBWriteClient, Input
    from influxdb_write.line_protocol import encode_records
    from servers import start_victoria_metrics  # type: ignore[import-not-found, unused-ignore]
    from write import generate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.lp"
        with path.open("w", encoding="utf-8") as out:
            for line in encode_records(generate(records)):
                out.write(line + "\n")
        size = path.stat().st_size / 1e6
        times: dict[bool, list[float]] = {False: [], True: []}
        saved: list[int] = []
        for turn in range(repeat):
            for checkpoints in (False, True) if turn % 2 == 0 else (True, False):
                data = Path(folder) / f"vm-{turn}-{checkpoints}"
                data.mkdir()
                server = start_victoria_metrics(data)
                try:
                    kept: list[object] = []
                    with InfluxDBWriteClient(server.url) as client, path.open("rb") as stream:
                        began = time.perf_counter()
                        client.write_inputs(
                            "bench",
                            [Input(stream, name="file")],
                            on_checkpoint=kept.append if checkpoints else None,
                            checkpoint_lines=EVERY,
                        )
                        times[checkpoints].append(time.perf_counter() - began)
                    if checkpoints:
                        saved.append(len(kept))
                finally:
                    server.stop()
        without, with_ = statistics.median(times[False]), statistics.median(times[True])
        print(f"file: {records:,} lines, {size:,.0f} MB; medians of {repeat}")
        print(f"  without checkpoints: {without:.2f} s ({', '.join(f'{t:.2f}' for t in times[False])})")
        print(f"  with checkpoints:    {with_:.2f} s ({', '.join(f'{t:.2f}' for t in times[True])})")
        print(f"  difference: {with_ - without:+.2f} s ({(with_ / without - 1) * 100:+.1f}%)")
        print(f"  checkpoints handed over per write: {statistics.median(saved):.0f}")


def one_save(saves: int) -> None:
    airflow = Path(sys.executable).parent / "airflow"
    with tempfile.TemporaryDirectory() as folder:
        dags = Path(folder) / "dags"
        dags.mkdir()
        (dags / "save.py").write_text(SAVE_DAG.replace("COUNT", str(saves)))
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(Path(folder) / "home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
        run = subprocess.run(
            [str(airflow), "dags", "test", "bench_resume_save"], env=env, capture_output=True, text=True
        )
        found = [line for line in (run.stdout + run.stderr).splitlines() if "SAVES " in line]
        assert len(found) == 1, run.stdout[-3000:] + run.stderr[-3000:]
        line = found[0][found[0].index("SAVES ") :]
        took = json.loads(line.removeprefix("SAVES "))
        print(
            f"one save (airflow dags test, SQLite): median {statistics.median(took) * 1000:.1f} ms of {saves}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=5_300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()
    one_save(args.saves)
    if args.records:
        file_writes(args.records, args.repeat)


if __name__ == "__main__":
    main()
