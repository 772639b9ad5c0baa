"""The no-Docker demo (``make demo``): the hourly ETL DAG, once, into a real local server.

It starts a real InfluxDB 1.x server (``influxd``, Debian package ``influxdb``) on
a free loopback port in a temporary folder, gives a fresh Airflow home the
``influxdb_write_default`` connection to it, runs ``influxdb_etl_meter_readings``
for 03:00 to 04:00 UTC of the sample day with ``airflow dags test``, reads back
and prints what landed, and stops the server and removes the folder.
"""

from __future__ import annotations

import re
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from airflow_cli import airflow_home, run_dag  # noqa: E402
from servers import InfluxDB1, start_influxd  # noqa: E402

DAG_ID = "influxdb_etl_meter_readings"
LOGICAL_DATE = "2025-01-01T04:00:00+00:00"  # its data interval: 03:00 to 04:00 UTC


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="influxdb-write-demo-") as folder:
        print(f"Starting influxd in {folder} ...")
        influxd = start_influxd(Path(folder))
        try:
            print(f"influxd is up at {influxd.url}; database 'energy' created.")
            influxd.create("energy")
            connection = {"conn_type": "influxdb_write", "host": influxd.url, "extra": {"api": "v1"}}
            print("Preparing a fresh Airflow home (airflow db migrate) ...")
            env = airflow_home(
                Path(folder) / "airflow",
                ROOT / "dags",
                connection,
                AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
            )
            print(f"Running: airflow dags test {DAG_ID} {LOGICAL_DATE}")
            run = run_dag(env, DAG_ID, LOGICAL_DATE)
            if run.returncode != 0:
                print(run.stdout[-4000:], run.stderr[-4000:], sep="\n")
                print(f"The DAG run failed (exit code {run.returncode}); its output is above.")
                return 1
            # The write client's summary line: "Wrote 36 lines to 'energy' in 1 batch (...) in 0.1s"
            summary = r"Wrote [\d,]+ lines? to '\w+' in [\d,]+ batch(?:es)? \([^)]*\) in [\d.]+s"
            wrote = re.search(summary, run.stdout)
            print(f"The DAG run succeeded. {wrote.group() if wrote else ''}")
            show(influxd)
        finally:
            influxd.stop()
            print("influxd stopped; temporary folder removed.")
    return 0


def show(influxd: InfluxDB1) -> None:
    rows = influxd.rows("SELECT * FROM meter_reading", "energy")
    print(f"\n{len(rows)} points landed in 'energy', measurement meter_reading. The first six:\n")
    widths = {"time": 25, "meter": 7, "site": 18, "kwh": 6, "voltage": 8, "status": 11}
    print("  ".join(f"{name:<{width}}" for name, width in widths.items()))
    for row in rows[:6]:
        row = {**row, "time": datetime.fromtimestamp(row["time"] // 1_000_000_000, timezone.utc).isoformat()}
        print("  ".join(f"{row[name]!s:<{width}}" for name, width in widths.items()))
    per_meter = influxd.query(
        "SELECT count(kwh), sum(kwh), min(voltage) FROM meter_reading GROUP BY meter, site", "energy"
    )
    print("\nPer meter (InfluxQL: SELECT count(kwh), sum(kwh), min(voltage) ... GROUP BY meter, site):")
    for series in per_meter:
        _, count, total, lowest = series["values"][0]
        tags = series["tags"]
        print(f"  {tags['meter']} ({tags['site']}): {count} readings, {total:.3f} kWh, lowest {lowest} V")


if __name__ == "__main__":
    sys.exit(main())
