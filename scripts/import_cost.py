"""What importing a module costs on top of ``airflow.sdk``, as DAG files pay it at each parse.

    python scripts/import_cost.py [module] [--runs 10]

Each run is a fresh interpreter under ``python -X importtime`` that imports
``airflow.sdk`` and then the module; the cost is the cumulative time of every
top-level import after ``airflow.sdk``. Airflow itself imports this package's
provider info (and so ``influxdb_write.settings``) while ``airflow.sdk`` loads
its configuration, so the time spent in all ``influxdb_write`` modules of the run
is reported too. Prints medians over the runs in ms, and the heaviest imports
after ``airflow.sdk`` of the last run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$")


def cost(module: str) -> tuple[float, float, list[tuple[int, str]]]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AIRFLOW_HOME": home}
        stderr = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import airflow.sdk; import {module}"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stderr
    entries = [(int(m[2]), len(m[3]), m[4]) for m in map(LINE.match, stderr.splitlines()) if m]
    start = next(i for i, (_, depth, name) in enumerate(entries) if depth == 0 and name == "airflow.sdk")
    after = entries[start + 1 :]
    total = sum(cumulative for cumulative, depth, _ in after if depth == 0)
    # importtime prints children before their parent: walking backwards, the open
    # ancestors of an entry are the entries of smaller depth still on the stack.
    ours = 0
    ancestors: list[tuple[int, str]] = []
    for cumulative, depth, name in reversed(entries):
        while ancestors and ancestors[-1][0] >= depth:
            ancestors.pop()
        if name.startswith("influxdb_write") and not any(
            a.startswith("influxdb_write") for _, a in ancestors
        ):
            ours += cumulative
        ancestors.append((depth, name))
    return total / 1000, ours / 1000, sorted(((c, n) for c, _, n in after), reverse=True)[:8]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("module", nargs="?", default="influxdb_write.operators")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    runs = [cost(args.module) for _ in range(args.runs)]
    on_top = [r[0] for r in runs]
    ours = statistics.median(r[1] for r in runs)
    print(
        f"{args.module}: median {statistics.median(on_top):.1f} ms on top of airflow.sdk "
        f"over {args.runs} runs (min {min(on_top):.1f}, max {max(on_top):.1f}); all influxdb_write "
        f"modules, including the provider info Airflow loads: median {ours:.1f} ms"
    )
    for cumulative, name in runs[-1][2]:
        print(f"  {cumulative / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
