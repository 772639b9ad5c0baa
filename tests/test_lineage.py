"""Lineage: the ``influxdb://`` asset scheme, Airflow's hook lineage collector and the
OpenLineage provider's events, with a real Airflow 3 and a real influxd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from airflow.sdk import Asset, AssetAlias

from airflow_cli import airflow_home, logged_lines, output_of, returned_summary, run_dag
from fault_server import FaultServer, Reply
from influxdb_write.assets import asset_uri, convert_asset_to_openlineage, sanitize_uri
from influxdb_write.hooks import InfluxDBWriteHook
from influxdb_write.operators import influxdb_asset
from influxdb_write.provider import get_provider_info
from servers import InfluxDB1

DAGS = Path(__file__).parent.parent / "dags"
TOKEN = "lineage-token-never-shown-93b"

URIS = [
    # connection URL, bucket, asset URI
    ("http://influxdb:8086", "energy", "influxdb://influxdb:8086/energy"),
    ("http://Influx.Example.com", "energy", "influxdb://influx.example.com:80/energy"),
    (
        "https://us-east-1-1.aws.cloud2.influxdata.com",
        "my bucket",
        "influxdb://us-east-1-1.aws.cloud2.influxdata.com:443/my%20bucket",
    ),
    ("https://example.com:8443/influx", "db/rp", "influxdb://example.com:8443/db/rp"),
    ("http://[::1]:8086", "energy", "influxdb://[::1]:8086/energy"),
]


@pytest.mark.parametrize(("url", "bucket", "uri"), URIS, ids=[row[2] for row in URIS])
def test_the_uri_names_the_server_and_the_bucket(url: str, bucket: str, uri: str) -> None:
    assert asset_uri(url, bucket) == uri
    assert Asset(uri=uri).uri == uri  # already normal: Airflow's normaliser leaves it alone


NORMALISED = [
    ("influxdb://Influx:8086/energy", "influxdb://influx:8086/energy"),
    ("influxdb://influx/energy", "influxdb://influx:8086/energy"),  # InfluxDB's port when none is given
    ("influxdb://influx:8086/energy/", "influxdb://influx:8086/energy"),
    ("influxdb://10.0.0.5/db/rp#x", "influxdb://10.0.0.5:8086/db/rp"),
]


@pytest.mark.parametrize(("given", "normal"), NORMALISED, ids=[row[0] for row in NORMALISED])
def test_airflow_normalises_influxdb_uris_with_the_registered_handler(given: str, normal: str) -> None:
    assert Asset(uri=given).uri == normal


REFUSED = [
    (
        "influxdb://influxdb_write_default/energy",
        "'influxdb_write_default' is not a host name (a connection id?",
    ),
    ("influxdb://influx:8086", "names no bucket"),
    ("influxdb://influx:0/energy", "the port must be a number from 1 to 65535"),
    ("influxdb://influx:8086/energy?org=acme", "takes no query"),
]


@pytest.mark.parametrize(("uri", "message"), REFUSED, ids=[row[0] for row in REFUSED])
def test_airflow_refuses_what_names_no_server_or_bucket(uri: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Asset(uri=uri)
    assert message in str(caught.value)
    with pytest.raises(ValueError):
        sanitize_uri(urlsplit(uri))


def test_influxdb_asset_needs_no_connection_and_its_events_name_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_INFLUX_PROD", raising=False)
    alias = influxdb_asset("energy", "influx_prod")  # the connection is not defined: nothing is read
    assert isinstance(alias, AssetAlias) and alias.name == "influxdb_write:influx_prod/energy"
    assert influxdb_asset("db/rp", "influx_prod").name == "influxdb_write:influx_prod/db/rp"
    conn = {"conn_type": "influxdb_write", "host": "http://Influx:8086", "password": TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_INFLUX_PROD", json.dumps(conn))
    assert InfluxDBWriteHook("influx_prod").asset("energy").uri == "influxdb://influx:8086/energy"
    with pytest.raises(ValueError, match="needs a bucket"):
        influxdb_asset("")


def test_the_provider_registers_the_scheme() -> None:
    (entry,) = get_provider_info()["asset-uris"]
    assert entry == {
        "schemes": ["influxdb"],
        "handler": "influxdb_write.assets.sanitize_uri",
        "factory": "influxdb_write.assets.create_asset",
        "to_openlineage_converter": "influxdb_write.assets.convert_asset_to_openlineage",
    }


def test_the_openlineage_dataset_is_the_server_and_the_bucket() -> None:
    pytest.importorskip(
        "airflow.providers.openlineage", reason="the test extra installs the OpenLineage provider"
    )
    dataset = convert_asset_to_openlineage(Asset(uri="influxdb://influx:8086/db/my%20rp"), None)
    assert (dataset.namespace, dataset.name) == ("influxdb://influx:8086", "db/my rp")


# A write through the hook, in a process of its own: the collector is a real one only
# where a lineage reader (here the OpenLineage provider, given a transport) is installed.
HOOK_WRITE = """
import json, sys
from influxdb_write.hooks import InfluxDBWriteHook
try:
    from airflow.sdk.lineage import get_hook_lineage_collector
except ImportError:
    from airflow.lineage.hook import get_hook_lineage_collector
hook = InfluxDBWriteHook("lineage")
hook.write("hooked value=1 1700000000", bucket="lineage_db", precision="s")
outputs = get_hook_lineage_collector().collected_assets.outputs
print(json.dumps([[o.asset.uri, o.count, o.context is hook] for o in outputs]))
"""


def test_every_hook_write_reports_its_target_to_the_collector(tmp_path: Path, influxd: InfluxDB1) -> None:
    influxd.create("lineage_db")
    conn = {"conn_type": "influxdb_write", "host": influxd.url, "password": TOKEN, "extra": {"api": "v1"}}
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW_CONN_LINEAGE": json.dumps(conn),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "console"}),
    }
    # The package as installed, as Airflow runs it: with pytest's plugins/ first on the
    # path, a stale egg-info there makes Airflow skip the plugins loaded after ours.
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", HOOK_WRITE], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    server = influxd.url.removeprefix("http://")
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[f"influxdb://{server}/lineage_db", 1, True]]


def openlineage_home(
    tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1, dags: Path
) -> tuple[dict[str, str], Path]:
    """An Airflow home for ``dags`` whose OpenLineage events go to a file (returned)."""
    events_file = tmp_path_factory.mktemp("openlineage") / "events.jsonl"
    conn = {"conn_type": "influxdb_write", "host": influxd.url, "password": TOKEN, "extra": {"api": "v1"}}
    env = airflow_home(
        tmp_path_factory.mktemp("airflow"),
        dags,
        conn,
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        AIRFLOW__OPENLINEAGE__NAMESPACE="influxdb-write-tests",
    )
    return env, events_file


def test_openlineage_sees_the_sample_dag_write_its_bucket(
    tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1
) -> None:
    """The OpenLineage provider, with a file transport, on ``airflow dags test``: the
    task's COMPLETE event lists the measurement it wrote as its output, with no user code."""
    pytest.importorskip(
        "airflow.providers.openlineage", reason="the test extra installs the OpenLineage provider"
    )
    influxd.create("lineage_manual")  # the sample DAG tests own the database "manual"
    env, events_file = openlineage_home(tmp_path_factory, influxd, DAGS)
    conf = {"bucket": "lineage_manual", "measurement": "lineage", "site": "lab", "field": "v", "value": 1}
    run = run_dag(env, "influxdb_manual_write", "2025-03-01T10:00:00+00:00", "-c", json.dumps(conf))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert all(TOKEN not in line for line in logged_lines(run))

    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    (complete,) = [
        e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"].endswith(".write_point")
    ]
    outputs = [(dataset["namespace"], dataset["name"]) for dataset in complete["outputs"]]
    assert outputs == [(f"influxdb://{influxd.url.removeprefix('http://')}", "lineage_manual.lineage")]
    assert TOKEN not in events_file.read_text()


OPERATOR_DAGS = Path(__file__).parent / "dags"


def test_openlineage_lists_only_what_was_written(
    tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1
) -> None:
    """The operator's own OpenLineage methods: the bucket at START; at COMPLETE the
    bucket with the lines and bytes written; at FAIL the bucket when lines may have
    landed; nothing for a dry run or a write refused by validation, though each names
    the bucket as an outlet."""
    pytest.importorskip(
        "airflow.providers.openlineage", reason="the test extra installs the OpenLineage provider"
    )
    for database in ("iw_skip", "iw_strict", "iw_dry_run", "iw_off"):
        influxd.create(database)
    env, events_file = openlineage_home(tmp_path_factory, influxd, OPERATOR_DAGS)
    for dag_id in ("iw_skip", "iw_strict", "iw_dry_run", "iw_off"):
        run_dag(env, dag_id, "2024-03-01")
    events = [json.loads(line) for line in events_file.read_text().splitlines()]

    def outputs(dag_id: str, kind: str) -> list[tuple[str, str, dict[str, object]]]:
        (event,) = [e for e in events if e["eventType"] == kind and e["job"]["name"] == f"{dag_id}.write"]
        return [
            (d["namespace"], d["name"], d.get("outputFacets", {}).get("outputStatistics", {}))
            for d in event["outputs"]
        ]

    server = f"influxdb://{influxd.url.removeprefix('http://')}"
    assert outputs("iw_skip", "START") == [(server, "iw_skip", {})]
    ((namespace, name, statistics),) = outputs("iw_skip", "COMPLETE")
    # "good,n=1 v=1 1709251200000000000" and n=2, stamped with the run's time, and a newline
    assert (namespace, name, statistics["rowCount"], statistics["size"]) == (server, "iw_skip.good", 2, 65)
    assert outputs("iw_strict", "START") == [(server, "iw_strict", {})]
    assert outputs("iw_strict", "FAIL") == []  # refused: nothing was written
    assert outputs("iw_dry_run", "START") == outputs("iw_dry_run", "COMPLETE") == []
    # A partial write: the server kept the valid lines of the batch, and confirmed none.
    ((namespace, name, statistics),) = outputs("iw_off", "FAIL")
    assert (namespace, name, statistics["rowCount"]) == (server, "iw_off", 0)
    assert TOKEN not in events_file.read_text()


def stored(influxd: InfluxDB1, db: str) -> dict[str, tuple[int, set[str], dict[str, str]]]:
    """What influxd holds in ``db``, per measurement: points, tag keys, field keys with types."""

    def values(query: str) -> list[list[Any]]:
        return [row for series in influxd.query(query, db) for row in series["values"]]

    found = {}
    for (measurement,) in values("SHOW MEASUREMENTS"):
        quoted = '"' + measurement.replace('"', '\\"') + '"'
        points = len(values(f"SELECT * FROM {quoted}"))
        tags = {key for (key,) in values(f"SHOW TAG KEYS FROM {quoted}")}
        fields = {key: kind for key, kind in values(f"SHOW FIELD KEYS FROM {quoted}")}
        found[measurement] = (points, tags, fields)
    return found


def test_openlineage_names_each_measurement_written_as_influxd_stored_it(
    tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1
) -> None:
    """One write of text and records holding four measurements (escaped, not ASCII, a
    string across lines): COMPLETE lists one dataset per measurement, named
    ``<bucket>.<measurement>``, with the points influxd stored, their bytes and, when the
    input was checked, the tag keys and field types influxd reports."""
    pytest.importorskip(
        "airflow.providers.openlineage", reason="the test extra installs the OpenLineage provider"
    )
    sys.path.insert(0, str(OPERATOR_DAGS))
    from operator_lineage import ENTRIES

    env, events_file = openlineage_home(tmp_path_factory, influxd, OPERATOR_DAGS)
    server = f"influxdb://{influxd.url.removeprefix('http://')}"
    for dag_id in ("iw_lineage", "iw_lineage_off"):
        influxd.create(dag_id)
        run = run_dag(env, dag_id, "2024-03-01")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        events = [json.loads(line) for line in events_file.read_text().splitlines()]
        (complete,) = [
            e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] == f"{dag_id}.write"
        ]
        datasets = {dataset["name"]: dataset for dataset in complete["outputs"]}
        held = stored(influxd, dag_id)
        assert set(held) == {"cpu", "cpu load", "température", "mem"}
        assert set(datasets) == {f"{dag_id}.{measurement}" for measurement in held}
        for measurement, (points, tags, fields) in held.items():
            dataset = datasets[f"{dag_id}.{measurement}"]
            assert dataset["namespace"] == server
            assert dataset["outputFacets"]["outputStatistics"]["rowCount"] == points
            schema = dataset.get("facets", {}).get("schema")
            if dag_id == "iw_lineage_off":
                assert schema is None  # nothing was parsed: no field types to tell
                continue
            columns = {column["name"]: (column["type"], column["description"]) for column in schema["fields"]}
            assert columns == {
                "time": ("timestamp", "time"),
                **{tag: ("string", "tag") for tag in tags},
                **{key: (kind, "field") for key, kind in fields.items()},
            }
        sizes = {name: d["outputFacets"]["outputStatistics"]["size"] for name, d in datasets.items()}
        # Text entries as written, each with the newline after it (the records follow them).
        for measurement, start in (("cpu", "cpu,"), ("cpu load", "cpu\\ "), ("température", "  temp")):
            written = [entry for entry in ENTRIES if entry.startswith(start)]
            assert sizes[f"{dag_id}.{measurement}"] == sum(len(entry.encode()) + 1 for entry in written)
        assert sum(sizes.values()) == returned_summary(env, dag_id)["bytes"]
    assert TOKEN not in events_file.read_text()


def test_openlineage_after_a_failure_and_past_the_measurement_limit(
    tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1, fault: FaultServer
) -> None:
    """A write whose second batch is refused: FAIL lists the measurements of the batch the
    server confirmed, with their points, and not the one only the refused batch held. A
    write of 101 measurements: COMPLETE lists the bucket with every line, and the log
    says why."""
    pytest.importorskip(
        "airflow.providers.openlineage", reason="the test extra installs the OpenLineage provider"
    )
    env, events_file = openlineage_home(tmp_path_factory, influxd, OPERATOR_DAGS)
    env["AIRFLOW_CONN_IW_FAULTY"] = json.dumps(
        {"conn_type": "influxdb_write", "host": fault.url, "password": TOKEN}
    )
    # The batches are in flight together after the strict check: answered by what they hold.
    refused = Reply(404, '{"code":"not found","message":"bucket not found"}')
    fault.will(lambda request: refused if request.lines[0].startswith("c") else Reply(204))
    run = run_dag(env, "iw_lineage_fail", "2024-03-01")
    assert run.returncode != 0
    influxd.create("iw_lineage_many")
    many = run_dag(env, "iw_lineage_many", "2024-03-01")
    assert many.returncode == 0, many.stdout[-3000:] + many.stderr[-3000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines()]

    def outputs(dag_id: str, kind: str) -> dict[str, Any]:
        (event,) = [e for e in events if e["eventType"] == kind and e["job"]["name"] == f"{dag_id}.write"]
        return {d["name"]: d for d in event["outputs"]}

    writes = [request for request in fault.received if request.method == "POST"]
    assert len(writes) == 2
    (accepted,) = [request for request in writes if not request.lines[0].startswith("c")]
    confirmed = [line.split(",", 1)[0] for line in accepted.lines]
    failed = outputs("iw_lineage_fail", "FAIL")
    assert set(failed) == {"iw_lineage_fail.a", "iw_lineage_fail.b"}
    for measurement in ("a", "b"):
        dataset = failed[f"iw_lineage_fail.{measurement}"]
        assert dataset["outputFacets"]["outputStatistics"]["rowCount"] == confirmed.count(measurement) == 2500
        assert "schema" not in dataset.get("facets", {})  # the write did not complete
    (bucket,) = outputs("iw_lineage_many", "COMPLETE").values()
    assert bucket["name"] == "iw_lineage_many"
    assert bucket["outputFacets"]["outputStatistics"]["rowCount"] == 101
    assert "Lineage names bucket 'iw_lineage_many', not its measurements: the write has more than 100" in (
        output_of(many)
    )


TRANSPORT = {"AIRFLOW__OPENLINEAGE__TRANSPORT": '{"type": "console"}'}
WANTED = {
    "no transport": ({}, False),
    "a transport": (TRANSPORT, True),
    "disabled": ({**TRANSPORT, "AIRFLOW__OPENLINEAGE__DISABLED": "true"}, False),
    "this operator disabled": (
        {
            **TRANSPORT,
            "AIRFLOW__OPENLINEAGE__DISABLED_FOR_OPERATORS": "influxdb_write.operators.InfluxDBWriteOperator",
        },
        False,
    ),
}


@pytest.mark.parametrize(("settings", "counts"), WANTED.values(), ids=WANTED.keys())
def test_measurements_are_counted_only_when_openlineage_will_ask(
    tmp_path: Path, settings: dict[str, str], counts: bool
) -> None:
    """Counting costs a cut of every entry: only where the provider has a transport and
    the operator is not disabled, as the provider decides itself."""
    pytest.importorskip(
        "airflow.providers.openlineage", reason="the test extra installs the OpenLineage provider"
    )
    env = {k: v for k, v in os.environ.items() if "OPENLINEAGE" not in k}
    env.update(AIRFLOW_HOME=str(tmp_path), **settings)
    code = (
        "from influxdb_write.lineage import wanted\n"
        "from influxdb_write.operators import InfluxDBWriteOperator\n"
        "print(wanted(InfluxDBWriteOperator(task_id='t', line_protocol='m v=1')))"
    )
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert shown.stdout.split()[-1:] == [str(counts)], shown.stderr[-2000:]
