"""Runs after each write to the `energy` bucket and logs what was written.

It is scheduled on `influxdb_asset("energy")`, the asset alias of the bucket
written through the connection `influxdb_write_default`: nothing is looked up
while this file is parsed. `influxdb_etl_meter_readings` adds an event through
the alias when its write has written something, on the asset that names the
server and bucket, `influxdb://<host>:<port>/energy`; the event's extra is the
write summary: lines, batches, bytes before and after gzip, retries and seconds.
A dry run or a refused write adds none, so this DAG does not run for them. A
manual run of this DAG has no triggering event, so it reads the latest event
through the alias instead.

Replace the logging with what your pipeline needs next: a downstream
aggregation, a data quality check, a notification.
"""

from __future__ import annotations

import logging
from typing import Any

import pendulum
from airflow.sdk import dag, task

from influxdb_write.operators import influxdb_asset

log = logging.getLogger(__name__)

ENERGY = influxdb_asset("energy")


@dag(
    schedule=[ENERGY],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["influxdb", "example"],
    doc_md=__doc__,
)
def influxdb_write_summary() -> None:
    @task(inlets=[ENERGY], multiple_outputs=False)  # one XCom: the summary, not one per key
    def log_summary(triggering_asset_events: Any = None, inlet_events: Any = None) -> dict[str, Any]:
        events = list(triggering_asset_events.get(ENERGY, ())) if triggering_asset_events else []
        if not events:
            events = list(inlet_events[ENERGY][-1:])
        if not events:
            raise ValueError(f"no write through {ENERGY.name} has been recorded yet; run the ETL DAG first")
        for event in events:
            summary = event.extra
            log.info(
                "%s: %d lines in %d batch(es), %d bytes (%d gzipped), %d retries, %.2f s, %d skipped",
                summary["bucket"],
                summary["lines"],
                summary["batches"],
                summary["bytes"],
                summary["compressed_bytes"],
                summary["retries"],
                summary["seconds"],
                summary["skipped"],
            )
        return dict(events[-1].extra)

    log_summary()


influxdb_write_summary()
