"""What lands in a real InfluxDB is exactly what the caller gave, or nothing is written.

Each test writes through the client to a real influxd 1.6.7 (``influxd``
fixture) and reads back with InfluxQL: a declared type that would round a
value, frame columns that would become one key, and a pandas PeriodIndex that
used to be ignored.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest

from influxdb_write.client import InfluxDBWriteClient, InputError
from influxdb_write.line_protocol import encode_frame
from servers import InfluxDB1

pd = pytest.importorskip("pandas")


def fresh(influxd: InfluxDB1, name: str) -> str:
    return influxd.create(f"{name}_{uuid.uuid4().hex[:8]}")


def test_a_declared_float_that_would_round_is_refused_and_never_lands(influxd: InfluxDB1) -> None:
    db = fresh(influxd, "exact_float")
    records = [
        {"measurement": "m", "tags": {"r": "0"}, "fields": {"v": 2**53}, "time": 1},
        {"measurement": "m", "tags": {"r": "1"}, "fields": {"v": decimal.Decimal("0.25")}, "time": 2},
        {"measurement": "m", "tags": {"r": "2"}, "fields": {"v": 2**53 + 1}, "time": 3},
        {"measurement": "m", "tags": {"r": "3"}, "fields": {"v": 1}, "time": 4},
    ]
    with InfluxDBWriteClient(influxd.url, api="v1") as client, pytest.raises(InputError) as caught:
        client.write(db, records, precision="s", field_types={"v": "float"})
    message = str(caught.value)
    assert "record 2: field 'v': declared float, but 9007199254740993 cannot be written as a float" in message
    # The batch is refused whole before it is sent; what is exact is written alone.
    assert caught.value.lines_written == 0 and influxd.rows("SELECT v FROM m", db) == []
    with InfluxDBWriteClient(influxd.url, api="v1") as client:
        client.write(db, records[:2], precision="s", field_types={"v": "float"})
    rows = influxd.rows("SELECT v, r FROM m", db)
    assert [(row["r"], row["v"]) for row in rows] == [("0", 2**53), ("1", 0.25)]


def test_frame_columns_written_as_one_key_are_refused_and_nothing_lands(influxd: InfluxDB1) -> None:
    db = fresh(influxd, "one_key")
    frame = pd.DataFrame({0: [1, 3], "0": [2, 4]})
    with InfluxDBWriteClient(influxd.url, api="v1") as client, pytest.raises(InputError) as caught:
        client.write(db, frame, measurement="skt")
    assert "field columns 0 and '0' are both written as the field key '0'" in str(caught.value)
    assert caught.value.lines_written == 0
    assert influxd.query("SHOW MEASUREMENTS", db) == []


def test_a_period_index_is_never_ignored(influxd: InfluxDB1) -> None:
    """Without naive_tz (the client and the operator take none) the frame is
    refused and nothing lands; with it, each row lands at its period's start."""
    db = fresh(influxd, "periods")
    frame = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.period_range("2024-01-01", periods=2, freq="D"))
    with InfluxDBWriteClient(influxd.url, api="v1") as client:
        with pytest.raises(InputError, match=r"the time index \(a PeriodIndex\) holds pandas periods"):
            client.write(db, frame, measurement="daily")
        assert influxd.query("SHOW MEASUREMENTS", db) == []
        lines = list(encode_frame(frame, measurement="daily", naive_tz=dt.timezone.utc))
        client.write(db, lines)
    rows = influxd.rows("SELECT v FROM daily", db)
    assert [(row["time"], row["v"]) for row in rows] == [(1704067200 * 10**9, 1), (1704153600 * 10**9, 2)]
