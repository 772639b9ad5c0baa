"""The client writing DataFrames: what is sent, in what batches, and what errors say."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from fault_server import FaultServer, Reply, Sleeps
from influxdb_write.client import InfluxDBWriteClient, InputError, PartialWriteError, RequestTooLargeError
from influxdb_write.line_protocol import encode_frame

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

TOKEN = "frame-token-never-shown"


def client(server: FaultServer, **options: object) -> InfluxDBWriteClient:
    return InfluxDBWriteClient(server.url, TOKEN, org="o", sleep=Sleeps(), rand=lambda: 0.0, **options)  # type: ignore[arg-type]


def frame(rows: int = 10) -> object:
    return pd.DataFrame(
        {
            "host": [f"h {i}" for i in range(rows)],
            "v": [float(i) if i % 4 != 3 else None for i in range(rows)],
            "n": pd.array([i if i % 4 != 3 else None for i in range(rows)], dtype="Int64"),
            "time": pd.date_range("2024-01-01", periods=rows, freq="s", tz="UTC"),
        }
    )


MAPPING: dict[str, Any] = {"measurement": "m", "tag_columns": ["host"], "time_column": "time"}


def test_a_frame_is_sent_as_its_lines_in_batches(
    fault: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    data = frame(10)
    want = list(encode_frame(data, precision="s", **MAPPING))
    assert len(want) == 8  # rows 3 and 7 have no field value
    fault.will(Reply(204))
    with caplog.at_level(logging.WARNING):
        result = client(fault, max_batch_lines=3).write("b", data, precision="s", **MAPPING)
    assert [len(r.lines) for r in fault.received] == [3, 3, 2]
    assert [line for r in fault.received for line in r.lines] == want
    assert (result.lines, result.batches) == (8, 3)
    assert result.bytes == sum(len(r.body.encode()) for r in fault.received)
    assert "2 row(s) of the frame were not written: every field value was missing (rows 3, 7)" in caplog.text
    fault.will(Reply(204))
    client(fault, max_batch_bytes=60).write("b", pl.from_pandas(data), precision="s", **MAPPING)
    assert all(len(r.body.encode()) <= 60 for r in fault.received)
    assert [line for r in fault.received for line in r.lines] == want


def test_a_row_too_large_for_any_request_is_named(fault: FaultServer) -> None:
    data = pd.DataFrame({"s": ["short", "x" * 100]})
    fault.will(Reply(204))
    with pytest.raises(RequestTooLargeError, match=r"line 2 \(row 1 of the frame\) is \d+ bytes"):
        client(fault, max_batch_bytes=50).write("b", data, measurement="m")


def test_rejected_lines_are_numbered_by_row(fault: FaultServer) -> None:
    data = frame(6)
    lines = list(encode_frame(data, precision="s", **MAPPING))
    body = json.dumps({"code": "invalid", "message": f"unable to parse '{lines[3]}': bad", "line": 1})
    fault.will(Reply(204), Reply(400, body))
    with pytest.raises(PartialWriteError) as caught:
        client(fault, max_batch_lines=3).write("b", data, precision="s", **MAPPING)
    # Rows 0-2 went first; row 3 has no field, so the second batch is rows 4-5 (lines 5-6).
    assert [(r.line, r.text) for r in caught.value.rejected] == [(5, lines[3])]
    assert caught.value.lines_written == 3


def test_a_bad_row_stops_the_write_after_the_rows_before_it(fault: FaultServer) -> None:
    data = pd.DataFrame({"count": [1.0, 2.0, 2.5, 4.0]})
    fault.will(Reply(204))
    with pytest.raises(
        InputError, match=r"row 2: field 'count': declared int, but 2.5 has a fractional part"
    ) as e:
        client(fault, max_batch_lines=1).write("b", data, measurement="c", field_types={"count": "int"})
    assert [r.lines for r in fault.received] == [["c count=1i"], ["c count=2i"]]
    assert e.value.lines_written == 2


def test_options_that_do_not_apply_are_refused(fault: FaultServer) -> None:
    fault.will(Reply(204))
    writer = client(fault)
    with pytest.raises(InputError, match="column options are for DataFrames; this data is str"):
        writer.write("b", "m v=1", tag_columns=["host"])
    with pytest.raises(InputError, match="field_types converts records and frames"):
        writer.write("b", "m v=1", field_types={"v": "int"})
    with pytest.raises(InputError, match=r"unknown keyword.*tag_column"):
        writer.write("b", frame(), tag_column=["host"])
    with pytest.raises(InputError, match="tag column 'nope' is not a column of the frame"):
        writer.write("b", frame(), measurement="m", tag_columns=["nope"])
    assert fault.received == []


def test_field_types_apply_to_records(fault: FaultServer) -> None:
    fault.will(Reply(204))
    client(fault).write("b", [{"measurement": "m", "fields": {"kwh": 1}}], field_types={"kwh": "float"})
    assert fault.received[0].lines == ["m kwh=1.0"]


def test_abort_mid_frame_ends_the_write_and_its_encoding_threads(fault: FaultServer) -> None:
    """A frame large enough for several slices, a server that hangs on the second
    batch: abort() from another thread ends the write within seconds, and no thread
    that encodes slices is left behind."""
    import threading
    import time

    from influxdb_write.client import InfluxDBWriteError

    rows = 200_000  # four slices
    data = pd.DataFrame(
        {"v": range(rows), "time": pd.date_range("2024-01-01", periods=rows, freq="s", tz="UTC")}
    )
    fault.will(Reply(204), "hang")
    writer = client(fault, max_batch_lines=20_000, timeout=(5.0, 60.0))
    before = set(threading.enumerate())
    threading.Timer(1.0, writer.abort).start()
    started = time.monotonic()
    with pytest.raises(InfluxDBWriteError, match="the write was aborted") as caught:
        writer.write("b", data, measurement="m", time_column="time")
    assert time.monotonic() - started < 5
    assert caught.value.lines_written == 20_000 and caught.value.unknown_lines == (20_001, 40_000)
    assert len(fault.received) == 2
    left = set(threading.enumerate()) - before
    assert not [t for t in left if t.name.startswith("influxdb-write-frame")]
