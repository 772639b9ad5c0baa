"""The client against real servers: VictoriaMetrics through /api/v2/write with gzip,
InfluxDB 1.6.7 through /write for full fidelity and real partial-write errors."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path

import pytest

from influxdb_write.client import InfluxDBWriteClient, NotFoundError, PartialWriteError
from influxdb_write.line_protocol import encode_records
from servers import InfluxDB1, VictoriaMetrics


def test_v2_gzip_write_lands_in_victoria_metrics(victoria: VictoriaMetrics) -> None:
    run = uuid.uuid4().hex[:8]
    records = [
        {
            "measurement": f"v2_{run}",
            "tags": {"host": f"h{i % 3}", "dc": "eu west"},
            "fields": {"load": i / 4, "count": i},
            "time": 1_700_000_000 + i,
        }
        for i in range(1_000)
    ]
    with InfluxDBWriteClient(victoria.url, "token", org="org", max_batch_lines=300) as client:
        result = client.write("bucket", records, precision="s")
    assert (result.lines, result.batches) == (1_000, 4)
    assert result.compressed_bytes < result.bytes
    series = victoria.export(f'{{__name__=~"v2_{run}_.*"}}')
    points = {
        (s["metric"]["__name__"], s["metric"]["host"], s["metric"]["dc"], t // 1000): v
        for s in series
        for t, v in zip(s["timestamps"], s["values"], strict=True)
    }
    assert len(points) == 2_000
    for i in (0, 1, 499, 999):
        host = f"h{i % 3}"
        assert points[(f"v2_{run}_load", host, "eu west", 1_700_000_000 + i)] == i / 4
        assert points[(f"v2_{run}_count", host, "eu west", 1_700_000_000 + i)] == i


def test_influxdb1_reads_back_exactly_what_was_written(influxd: InfluxDB1) -> None:
    db = influxd.create(f"fidelity_{uuid.uuid4().hex[:8]}")
    when = dt.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=dt.timezone.utc)
    record = {
        "measurement": "odd name,=x",
        "tags": {"tag key": "a,b=c", "path": "C:\\dir\\ x"},
        "fields": {
            "quote": 'say "hi" \\ back\\slash',
            "newline": "two\nlines",
            "int": -9223372036854775807,
            "big": 2**53 + 1,
            "float": 0.1,
            "yes": True,
            "no": False,
        },
        "time": when,
    }
    with InfluxDBWriteClient(influxd.url, api="v1") as client:
        assert client.write(db, [record, dict(record, tags={"tag key": "other"})]).lines == 2
    rows = influxd.rows('SELECT * FROM "odd name,=x"', db)
    row = next(r for r in rows if r["path"] is not None)
    assert row["time"] == 1709251199123456000
    assert row["tag key"] == "a,b=c" and row["path"] == "C:\\dir\\ x"
    assert row["quote"] == 'say "hi" \\ back\\slash'
    assert row["newline"] == "two\nlines"
    assert row["int"] == -9223372036854775807 and row["big"] == 2**53 + 1
    assert row["float"] == 0.1 and row["yes"] is True and row["no"] is False


@pytest.mark.parametrize(
    ("precision", "stamp", "ns"),
    [
        ("s", 1_700_000_000, 1_700_000_000_000_000_000),
        ("ms", 1_700_000_000_123, 1_700_000_000_123_000_000),
        ("us", 1_700_000_000_123_456, 1_700_000_000_123_456_000),
        ("ns", 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
    ],
)
def test_precision_maps_to_v1(influxd: InfluxDB1, precision: str, stamp: int, ns: int) -> None:
    db = influxd.create(f"precision_{precision}")
    with InfluxDBWriteClient(influxd.url, api="v1") as client:
        client.write(db, f"m v=1 {stamp}", precision=precision)
    assert [r["time"] for r in influxd.rows("SELECT * FROM m", db)] == [ns]


def test_real_partial_write_maps_to_caller_lines(influxd: InfluxDB1) -> None:
    db = influxd.create("partial")
    lines = [f"m v={i} {i}" for i in range(1, 8)]
    lines[4] = "m v=oops 5"
    with InfluxDBWriteClient(influxd.url, api="v1", max_batch_lines=3) as client:
        with pytest.raises(PartialWriteError) as caught:
            client.write(db, "\n".join(lines))
    error = caught.value
    assert error.lines_written == 3
    assert [(r.line, r.text) for r in error.rejected] == [(5, "m v=oops 5")]
    assert "invalid" in error.rejected[0].message
    # 1.x writes the valid lines of the failing batch and nothing after it.
    assert [r["time"] for r in influxd.rows("SELECT * FROM m", db)] == [1, 2, 3, 4, 6]


def test_missing_database_is_not_found(influxd: InfluxDB1) -> None:
    with InfluxDBWriteClient(influxd.url, api="v1") as client, pytest.raises(NotFoundError) as caught:
        client.write("no_such_db", "m v=1")
    assert "database not found" in caught.value.server_message


def test_a_v2_client_pointed_at_influxdb1_is_told_to_change_the_api(influxd: InfluxDB1) -> None:
    with InfluxDBWriteClient(influxd.url, "t", org="o") as client, pytest.raises(NotFoundError) as caught:
        client.write("db", ["m v=1i 1"])
    assert str(caught.value).startswith(
        f"HTTP 404: 404 page not found. {influxd.url} does not serve the v2 write API (/api/v2/write)"
    )
    assert "v1 for InfluxDB 1.x" in str(caught.value)


def test_files_are_streamed(influxd: InfluxDB1, tmp_path: Path) -> None:
    db = influxd.create("files")
    path = tmp_path / "data.lp"
    records = [
        {"measurement": "f", "tags": {"n": str(i % 7)}, "fields": {"v": i, "s": f"é{i}"}, "time": i}
        for i in range(20_000)
    ]
    path.write_text("# header\n" + "\n".join(encode_records(records)) + "\n", encoding="utf-8")
    with InfluxDBWriteClient(influxd.url, api="v1", max_batch_lines=5_000) as client:
        with path.open("rb") as binary:
            assert client.write(db, binary).lines == 20_000
        assert client.write(db, io.StringIO('f,n=x v=1i,s="a\nb" 99999')).lines == 1
    (count,) = influxd.query("SELECT count(v) FROM f", db)
    assert count["values"][0][1] == 20_001
    assert influxd.rows("SELECT s FROM f WHERE n = 'x'", db)[0]["s"] == "a\nb"
