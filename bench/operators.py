"""The write task of a real Airflow DAG run, against the influxdb-client ``@task`` a user would write.

Usage (from the repository root, after ``make test`` created .venv):

    .venv/bin/python bench/operators.py [--rows 300000] [--repeat 2]
        [--inputs frame,records,text,file] [--sides strict,off,client,taskflow,pull,bare,outside,outside2]

Every run is ``airflow dags test`` of a DAG of two tasks in one temporary
AIRFLOW_HOME (its own SQLite database, no example DAGs, a DAGs folder holding
the DAG file this script writes), writing to a fresh VictoriaMetrics started on
a free loopback port (``/api/v2/write``, gzip), named by the connection
``AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT``. The Airflow processes import the
``influxdb_write`` package of this checkout (``plugins`` first on PYTHONPATH).

The upstream task ``produce`` is the same for every side of an input and is not
timed. It returns, as its XCom:

- frame: the pandas DataFrame of ``bench/frames.py`` (3 tags, 6 fields, a
  ``time`` column), ``--rows`` rows;
- records: ``--rows`` record dicts (``make_records`` of ``bench/encode.py``);
- text: the line protocol of those records, one ``str``;
- file: nothing; the same line protocol is written to a ``.lp`` file before
  any clock starts, and the write task reads it by ``path``.

The timed task ``write``, one side per DAG:

- strict: ``InfluxDBWriteOperator(xcom_from="produce", ...)`` (``path=`` for the
  file; frames with ``measurement``, ``tag_columns``, ``time_column``), with
  its default ``validate="strict"``;
- off: the same with ``validate="off"``;
- client: a ``@task`` pulling the value with ``ti.xcom_pull(task_ids="produce")``
  (as ``xcom_from`` does) and writing it with influxdb-client's batching
  ``WriteApi`` (``batch_size=5_000``, ``enable_gzip=True``): the frame with
  ``data_frame_measurement_name``, ``data_frame_tag_columns`` and
  ``data_frame_timestamp_column``, the records as they are, the text split
  into lines, the file's lines streamed;
- taskflow: the same ``@task`` in its idiomatic TaskFlow form, the value passed
  as its argument (``write(produce())``), which Airflow then also renders (not
  for the file, which has no value to pass);
- pull: a ``@task`` that only pulls the XCom, the cost every side shares;
- bare (file only): a ``@task`` posting the file's lines in 5,000-line gzip
  (level 1) batches with a bare ``requests`` loop;
- outside: no Airflow: ``InfluxDBWriteClient.write`` on the same data (the
  frame with the same mapping, the records list, the text, the open file), in
  a child process, timed from the call to its return, the data built first;
- outside2: the same with ``in_flight=2``, as the operator sends after its
  strict check (two requests waiting for an answer at once).

``airflow dags test`` runs the tasks one after the other in its own process,
so ``produce`` has imported pandas before ``write`` starts. A task's time is
its ``end_date - start_date`` in the ``task_instance`` table of the SQLite
database, read after the run. Its write phase is that time less the time its
own pull of the XCom took, which the operator logs (``Pulled the XCom of
produce in 0.93 s``) and the ``@task`` sides log in the same words: the pull of
300,000 record dicts varies by seconds from run to run, more than some writes
take. The TaskFlow side pulls before its code runs, so its write phase is its
time less the pull-only task's. For ``outside`` it is the write itself: the
client is imported and the data built before its clock starts. The operator's
overhead is its write phase over the ``outside`` time, minus 1. After every run
the server is asked how many samples it holds, which must be every field of
every row (6 per row); a run that does not hold them all, or whose task did not
succeed, stops the benchmark. Sides take turns (round-robin over the
repeats); figures are medians of ``--repeat`` runs.
"""

from __future__ import annotations

# Named operators.py, not operator.py: bench/ is put first on sys.path by the
# other benchmarks, where operator.py would shadow the standard library's module.
import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "tests")]

INPUTS = ("frame", "records", "text", "file")
SIDES = ("strict", "off", "client", "taskflow", "pull", "bare", "outside", "outside2")
START = 1_700_000_000_000_000_000  # first row's time, ns (frame: a row per ms; records: a row per s)
FIELDS = 6  # fields of every row and record
BATCH = 5_000
BUCKET = "bench"
MAPPING: dict[str, Any] = {
    "measurement": "service_metrics",
    "tag_columns": ["service", "host", "region"],
    "time_column": "time",
}


def applies(kind: str, side: str) -> bool:
    """Whether ``side`` is measured for input ``kind``: the bare loop for the file
    only, the TaskFlow argument form for every input but the file."""
    return (side != "bare" or kind == "file") and (side != "taskflow" or kind != "file")


def bench_module(name: str) -> ModuleType:
    """``bench/<name>.py``, loaded by path: bench/ is kept off sys.path (see above)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DAG_FILE = '''"""DAGs of bench/operators.py: bench_<input>_<side>, tasks produce >> write."""

from __future__ import annotations

import importlib.util
import logging
import time
from typing import Any

import pendulum
from airflow.sdk import DAG, BaseHook, get_current_context, task

from influxdb_write.operators import InfluxDBWriteOperator

ROOT = {root!r}
ROWS = {rows!r}
FILE = {file!r}
START = {start!r}
BATCH = {batch!r}
BUCKET = {bucket!r}
MAPPING = {mapping!r}
DAGS = {dags!r}


def bench_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{{name}}", f"{{ROOT}}/bench/{{name}}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def produce_value(kind: str) -> Any:
    if kind == "frame":
        return bench_module("frames").make_frame(ROWS, start=START, freq="ms")
    if kind == "file":
        return None  # the data is in FILE, written before any clock started
    records = bench_module("encode").make_records(ROWS)
    if kind == "records":
        return records
    from influxdb_write.line_protocol import encode_records

    return "\\n".join(encode_records(records))


def pulled() -> Any:
    """The upstream value, pulled as ``xcom_from`` pulls it, and logged with the time
    it took in the words the operator logs it (the benchmark reads both)."""
    began = time.monotonic()
    value = get_current_context()["ti"].xcom_pull(task_ids="produce")
    logging.getLogger("bench").info("Pulled the XCom of produce in %.2f s", time.monotonic() - began)
    return value


def client_write(kind: str, value: Any) -> None:
    """What a user writes with influxdb-client: its batching WriteApi, gzip on."""
    from influxdb_client import InfluxDBClient, WriteOptions

    conn = BaseHook.get_connection("influxdb_write_default")
    errors: list[Any] = []
    with InfluxDBClient(url=conn.host, token=conn.password, org="org", enable_gzip=True) as client:
        options = WriteOptions(batch_size=BATCH, flush_interval=10_000)
        with client.write_api(
            write_options=options, error_callback=lambda conf, data, exc: errors.append(exc)
        ) as api:
            if kind == "frame":
                api.write(
                    bucket=BUCKET,
                    record=value,
                    data_frame_measurement_name=MAPPING["measurement"],
                    data_frame_tag_columns=MAPPING["tag_columns"],
                    data_frame_timestamp_column=MAPPING["time_column"],
                )
            elif kind == "records":
                api.write(bucket=BUCKET, record=value)
            elif kind == "text":
                api.write(bucket=BUCKET, record=value.splitlines())
            else:
                with open(FILE, encoding="utf-8") as f:
                    api.write(bucket=BUCKET, record=(line.rstrip("\\n") for line in f))
    if errors:
        raise RuntimeError(f"influxdb-client failed: {{errors[0]}}")


def bare_write() -> None:
    """The file's lines in 5,000-line gzip batches, posted by a bare requests loop."""
    import gzip

    import requests

    conn = BaseHook.get_connection("influxdb_write_default")
    headers = {{
        "Authorization": f"Token {{conn.password}}",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Encoding": "gzip",
    }}
    params = {{"org": "org", "bucket": BUCKET, "precision": "ns"}}
    with requests.Session() as session, open(FILE, "rb") as f:
        batch: list[bytes] = []
        for line in f:
            batch.append(line.rstrip(b"\\n"))
            if len(batch) == BATCH:
                body = gzip.compress(b"\\n".join(batch), 1, mtime=0)
                session.post(
                    f"{{conn.host}}/api/v2/write", params=params, data=body, headers=headers
                ).raise_for_status()
                batch = []
        if batch:
            body = gzip.compress(b"\\n".join(batch), 1, mtime=0)
            session.post(
                f"{{conn.host}}/api/v2/write", params=params, data=body, headers=headers
            ).raise_for_status()


def build(kind: str, side: str) -> None:
    with DAG(f"bench_{{kind}}_{{side}}", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):

        @task(task_id="produce")
        def produce() -> Any:
            return produce_value(kind)

        upstream = produce()
        if side in ("strict", "off"):
            source: dict[str, Any] = {{"path": FILE}} if kind == "file" else {{"xcom_from": "produce"}}
            if kind == "frame":
                source.update(MAPPING)
            upstream >> InfluxDBWriteOperator(task_id="write", bucket=BUCKET, validate=side, **source)
        elif side == "client":

            @task(task_id="write")
            def write_pulled() -> None:
                client_write(kind, pulled())

            upstream >> write_pulled()
        elif side == "taskflow":

            @task(task_id="write")
            def write_argument(value: Any) -> None:
                client_write(kind, value)

            write_argument(upstream)
        elif side == "pull":

            @task(task_id="write")
            def pull_only() -> None:
                pulled()

            upstream >> pull_only()
        elif side == "bare":

            @task(task_id="write")
            def write_bare() -> None:
                bare_write()

            upstream >> write_bare()


for _kind, _side in DAGS:
    build(_kind, _side)
'''


# --- outside Airflow -------------------------------------------------------------


def child(kind: str, url: str, rows: int, path: str, in_flight: int) -> None:
    """Time ``InfluxDBWriteClient.write`` on the input, built before the clock; print JSON."""
    from influxdb_write.client import InfluxDBWriteClient

    options: dict[str, Any] = {}
    if kind == "frame":
        data: Any = bench_module("frames").make_frame(rows, start=START, freq="ms")
        options = MAPPING
    elif kind == "file":
        data = open(path, "rb")  # closed below
    else:
        from influxdb_write.line_protocol import encode_records

        data = bench_module("encode").make_records(rows)
        if kind == "text":
            data = "\n".join(encode_records(data))
    began = time.perf_counter()
    with InfluxDBWriteClient(url, "token", org="org", max_batch_lines=BATCH) as client:
        lines = client.write(BUCKET, data, in_flight=in_flight, **options).lines
    seconds = time.perf_counter() - began
    if kind == "file":
        data.close()
    print(json.dumps({"seconds": seconds, "lines": lines}), flush=True)


# --- one measurement ---------------------------------------------------------------


def stored_samples(url: str, rows: int) -> int:
    """Samples the (fresh) VictoriaMetrics holds from START on, over the records' span."""
    first = START // 1_000_000_000 - 1  # (first, last] holds every row's time, frame or records
    samples_in = bench_module("write").samples_in
    return samples_in(url, MAPPING["measurement"], first, first + rows + 2, FIELDS * rows)


def connection(url: str) -> dict[str, Any]:
    return {
        "conn_type": "influxdb_write",
        "host": url,
        "password": "token",
        "extra": {"org": "org", "bucket": BUCKET},
    }


def task_seconds(home: Path, dag_id: str, after: dt.datetime) -> float:
    """``end_date - start_date`` of the ``write`` task of the newest run of ``dag_id``,
    which must have started after ``after`` and succeeded."""
    with sqlite3.connect(home / "airflow.db") as db:
        row = db.execute(
            "SELECT start_date, end_date, state FROM task_instance WHERE dag_id = ? AND task_id = 'write' "
            "ORDER BY start_date DESC LIMIT 1",
            (dag_id,),
        ).fetchone()
    if row is None:
        raise RuntimeError(f"{dag_id}: no write task instance in the database")
    start, end, state = row
    began, ended = (parse_time(start), parse_time(end)) if start and end else (None, None)
    if state != "success" or began is None or ended is None or began < after:
        raise RuntimeError(f"{dag_id}: the write task of this run is not there: {row}")
    return (ended - began).total_seconds()


def parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def measure(
    kind: str, side: str, env: dict[str, str], folder: Path, rows: int, run: int
) -> tuple[float, float]:
    """One run of one side on a fresh VictoriaMetrics, once every sample is there: the
    task's seconds, and the seconds the task's log says pulling the XCom took (0 for
    a task that pulls nothing; the TaskFlow side's pull happens before its code runs)."""
    # tests/ is on sys.path at run time; "mypy bench" alone does not see it
    from airflow_cli import output_of, run_dag  # type: ignore[import-not-found, unused-ignore]
    from servers import start_victoria_metrics  # type: ignore[import-not-found, unused-ignore]

    data = folder / "victoria-metrics"
    data.mkdir()
    server = start_victoria_metrics(data)
    try:
        if side.startswith("outside"):
            command = [sys.executable, __file__, "--child", kind, "--url", server.url]
            command += ["--in-flight", "2" if side == "outside2" else "1"]
            done = subprocess.run(
                [*command, "--rows", str(rows), "--file", str(folder / "data.lp")],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise RuntimeError(f"outside {kind} failed ({done.returncode}):\n{done.stderr[-3000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if result["lines"] != rows:
                raise RuntimeError(f"outside {kind} wrote {result['lines']} lines, not {rows}")
            seconds, pulled = float(result["seconds"]), 0.0
        else:
            dag_id = f"bench_{kind}_{side}"
            run_env = {**env, "AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT": json.dumps(connection(server.url))}
            after = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
            date = (dt.date(2024, 1, 1) + dt.timedelta(days=run)).isoformat()
            done = run_dag(run_env, dag_id, date)
            if done.returncode:
                raise RuntimeError(f"{dag_id} failed ({done.returncode}):\n{output_of(done)[-3000:]}")
            seconds = task_seconds(Path(env["AIRFLOW_HOME"]), dag_id, after)
            pulls = [float(found) for found in PULLED.findall(done.stdout + done.stderr)]
            if len(pulls) != (side in ("client", "pull") or (side in ("strict", "off") and kind != "file")):
                raise RuntimeError(f"{dag_id}: the log says it pulled the XCom {len(pulls)} times")
            pulled = sum(pulls)
        if side != "pull":
            samples, expected = stored_samples(server.url, rows), FIELDS * rows
            if samples != expected:
                raise RuntimeError(f"{kind} {side}: the server holds {samples} samples, not {expected}")
    finally:
        server.stop()
        shutil.rmtree(data)
    return seconds, pulled


PULLED = re.compile(r"Pulled the XCom of produce in ([0-9.]+) s")


# --- the report --------------------------------------------------------------------

LABELS = {
    "strict": "`InfluxDBWriteOperator` (validate strict)",
    "off": "`InfluxDBWriteOperator` (validate off)",
    "client": "influxdb-client `WriteApi` `@task`, `ti.xcom_pull`",
    "taskflow": "influxdb-client `WriteApi` `@task`, TaskFlow argument",
    "bare": "bare `requests` loop `@task`",
    "pull": "`@task` that only pulls the XCom",
    "outside": "`InfluxDBWriteClient.write`, outside Airflow",
    "outside2": "`InfluxDBWriteClient.write(in_flight=2)`, outside Airflow",
}


def versions() -> str:
    import platform

    import airflow
    import influxdb_client
    import pandas

    return (
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, Airflow {airflow.__version__}, "
        f"pandas {pandas.__version__}, influxdb-client {influxdb_client.__version__}"
    )


def report(results: dict[tuple[str, str], list[tuple[float, float]]], rows: int, repeat: int) -> None:
    """The table: per side the median task time, the median XCom pull its log
    reports, and the write phase: the median of task time less its own pull (the
    TaskFlow side, whose pull happens before its code, less the pull-only task)."""

    def med(kind: str, side: str, part: int) -> float | None:
        runs = results.get((kind, side))
        return statistics.median(run[part] for run in runs) if runs else None

    def phase(kind: str, side: str) -> float | None:
        runs = results.get((kind, side))
        if not runs or side == "pull":
            return None
        if side == "taskflow":
            seconds, pull = med(kind, side, 0), med(kind, "pull", 0)
            return seconds - pull if seconds is not None and pull is not None else None
        return statistics.median(seconds - pulled for seconds, pulled in runs)

    print(versions())
    print(f"{rows:,} rows per input, median of {repeat} run(s) per side")
    print()
    print(
        "| input | side | task seconds | of which XCom pull | write phase seconds "
        "| x faster than influxdb-client `@task` | overhead vs client outside Airflow |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind in INPUTS:
        base, outside = phase(kind, "client"), phase(kind, "outside")
        for side in SIDES:
            if (kind, side) not in results:
                continue
            seconds, pulled, write = med(kind, side, 0), med(kind, side, 1), phase(kind, side)
            relative = f"{base / write:.2f}x" if base is not None and write else "-"
            overhead = "-"
            if side in ("strict", "off") and outside and write is not None:
                overhead = f"{(write / outside - 1) * 100:+.0f}%"
            cells = [
                "-" if side.startswith("outside") else f"{seconds:.2f}",
                f"{pulled:.2f}" if pulled else "-",
                "-" if write is None else f"{write:.2f}",
            ]
            print(f"| {kind} | {LABELS[side]} | {' | '.join(cells)} | {relative} | {overhead} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--inputs", default=",".join(INPUTS), help="subset of " + ",".join(INPUTS))
    parser.add_argument("--sides", default=",".join(SIDES), help="subset of " + ",".join(SIDES))
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--file", default="")
    parser.add_argument("--in-flight", type=int, default=1)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.rows, args.file, args.in_flight)
        return
    kinds = [k for k in args.inputs.split(",") if k]
    sides = [s for s in args.sides.split(",") if s]
    for name, given, known in (("input", kinds, INPUTS), ("side", sides, SIDES)):
        unknown = set(given) - set(known)
        if unknown:
            parser.error(f"unknown {name}(s): {', '.join(sorted(unknown))}")
    pairs = [(kind, side) for kind in kinds for side in sides if applies(kind, side)]

    from airflow_cli import airflow_home  # type: ignore[import-not-found, unused-ignore]

    began = time.perf_counter()
    results: dict[tuple[str, str], list[tuple[float, float]]] = {pair: [] for pair in pairs}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "data.lp"
        if "file" in kinds:
            from influxdb_write.line_protocol import encode_records

            with path.open("w", encoding="utf-8") as f:
                for line in encode_records(bench_module("encode").make_records(args.rows)):
                    f.write(line + "\n")
        dags = folder / "dags"
        dags.mkdir()
        (dags / "bench_operator_dags.py").write_text(
            DAG_FILE.format(
                root=str(ROOT),
                rows=args.rows,
                file=str(path),
                start=START,
                batch=BATCH,
                bucket=BUCKET,
                mapping=MAPPING,
                dags=[pair for pair in pairs if not pair[1].startswith("outside")],
            )
        )
        pythonpath = os.pathsep.join(p for p in (str(ROOT / "plugins"), os.environ.get("PYTHONPATH")) if p)
        env = airflow_home(folder / "airflow", dags, connection("http://127.0.0.1:1"), PYTHONPATH=pythonpath)
        imported = subprocess.run(
            [sys.executable, "-c", "import influxdb_write; print(influxdb_write.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(imported).is_relative_to(ROOT / "plugins"):
            raise RuntimeError(f"Airflow would import influxdb_write from {imported}, not from {ROOT}")
        setup = time.perf_counter() - began
        for run in range(args.repeat):
            for kind, side in pairs:
                seconds, pulled = measure(kind, side, env, folder, args.rows, run)
                results[kind, side].append((seconds, pulled))
                print(
                    f"run {run + 1}: {kind} {side}: {seconds:.2f} s (XCom pull {pulled:.2f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    wall = time.perf_counter() - began
    report(results, args.rows, args.repeat)
    print(
        f"\n{wall:.0f} s wall clock, {setup:.0f} s of it setting up (file, Airflow database)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
