"""Test DAG: mapped upstream tasks produce lines and records; one operator writes them all."""

import pendulum
from airflow.sdk import dag, task

from influxdb_write.operators import InfluxDBWriteOperator


@dag(schedule="@hourly", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def iw_collect():
    @task
    def lines(shard: int) -> list[str]:
        return [f"collected,shard={shard},kind=line n={shard}i", f"collected,shard={shard},kind=line2 n=0i"]

    @task
    def records() -> list[dict]:
        return [{"measurement": "collected", "tags": {"shard": "r", "kind": "record"}, "fields": {"n": 7}}]

    write = InfluxDBWriteOperator(task_id="write", bucket="iw_collect", xcom_from=["lines", "records"])
    [lines.expand(shard=[1, 2, 3]), records()] >> write


iw_collect()


COLLECTED_RECORDS = 60_000


class CollectorWatchingWrite(InfluxDBWriteOperator):
    """Logs what Python's garbage collector did while the XCom was pulled, and what
    it held frozen when the check began."""

    def execute(self, context):
        import gc

        from influxdb_write import sources, upstream

        seen = {"pulling": False, "in_pull": 0, "frozen_at_check": None}
        pull, check = upstream.returned_values, sources.check_all

        def watch(phase, info):
            if phase == "start" and seen["pulling"]:
                seen["in_pull"] += 1

        def pulling(*args, **kwargs):
            seen["pulling"] = True
            try:
                return pull(*args, **kwargs)
            finally:
                seen["pulling"] = False

        def checking(*args, **kwargs):
            seen["frozen_at_check"] = gc.get_freeze_count()
            return check(*args, **kwargs)

        before = (gc.isenabled(), gc.get_freeze_count())
        gc.callbacks.append(watch)
        upstream.returned_values, sources.check_all = pulling, checking
        try:
            return super().execute(context)
        finally:
            upstream.returned_values, sources.check_all = pull, check
            gc.callbacks.remove(watch)
            self.log.info(
                "Collections while pulling: %d; frozen at the check: %s; collector before %s, after %s",
                seen["in_pull"],
                seen["frozen_at_check"],
                before,
                (gc.isenabled(), gc.get_freeze_count()),
            )


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def iw_collector():
    @task
    def many() -> list[dict]:
        start = 1_709_251_200_000_000_000
        return [
            {"measurement": "many", "tags": {"site": f"s{i % 9}"}, "fields": {"v": i / 2}, "time": start + i}
            for i in range(COLLECTED_RECORDS)
        ]

    many() >> CollectorWatchingWrite(task_id="write", bucket="iw_collector", xcom_from="many")


iw_collector()
