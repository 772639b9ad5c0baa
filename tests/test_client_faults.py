"""The client against a fault-injecting server: what is sent, how often, what is reported."""

from __future__ import annotations

import email.utils
import json
import logging
import time

import pytest
import requests

from fault_server import FaultServer, Reply, Sleeps
from influxdb_write.client import (
    AuthError,
    InfluxDBWriteClient,
    InfluxDBWriteError,
    NotFoundError,
    PartialWriteError,
    RejectedPointsError,
    RequestTooLargeError,
    RetriesExhaustedError,
    RetryPolicy,
    WriteHTTPError,
)
from servers import free_port

TOKEN = "s3cr3t-T0KEN-value"
LINES = [f"m,host=h{i} v={i}i {i}" for i in range(1, 11)]


def client(server: FaultServer, sleeps: Sleeps | None = None, **options: object) -> InfluxDBWriteClient:
    options.setdefault("org", "my-org")
    return InfluxDBWriteClient(
        server.url,
        TOKEN,
        sleep=sleeps if sleeps is not None else Sleeps(),
        rand=lambda: 0.0,
        **options,  # type: ignore[arg-type]
    )


def test_v2_request_is_exactly_the_documented_one(fault: FaultServer) -> None:
    fault.will(Reply(204))
    result = client(fault).write("my-bucket", "\n".join(LINES), precision="s")
    (request,) = fault.received
    assert request.path == "/api/v2/write"
    assert request.query == {"org": "my-org", "bucket": "my-bucket", "precision": "s"}
    assert request.headers["Authorization"] == f"Token {TOKEN}"
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.lines == LINES
    assert (result.lines, result.batches, result.retries) == (10, 1, 0)
    assert result.bytes == len("\n".join(LINES)) and 0 < result.compressed_bytes


def test_v1_and_v3_endpoints(fault: FaultServer) -> None:
    fault.will(Reply(204))
    client(fault, api="v1").write("telegraf/autogen", LINES[:1], precision="ms")
    client(fault, api="v3").write("sensors", LINES[:1], precision="us")
    v1, v3 = fault.received
    assert (v1.path, v1.query) == ("/write", {"db": "telegraf", "rp": "autogen", "precision": "ms"})
    assert (v3.path, v3.query) == ("/api/v3/write_lp", {"db": "sensors", "precision": "microsecond"})
    fault.will(Reply(204))
    InfluxDBWriteClient(fault.url, api="v1", username="u", password="p").write(
        "db", LINES[:1], precision="ns"
    )
    (basic,) = fault.received
    assert basic.headers["Authorization"].startswith("Basic ") and basic.query["precision"] == "n"


def test_batches_never_exceed_limits_nor_split_entries(fault: FaultServer) -> None:
    fault.will(Reply(204))
    text = "\n".join(LINES[:4]) + '\nm s="two\nlines" 5\n' + "\n".join(LINES[5:])
    result = client(fault, max_batch_lines=3).write("b", text)
    bodies = [r.body for r in fault.received]
    assert all(body.count("\n") <= 3 for body in bodies)
    assert "\n".join(bodies) == text.rstrip("\n")
    assert any('m s="two\nlines" 5' in body for body in bodies)
    assert result.lines == 10 and result.batches == len(bodies)
    fault.will(Reply(204))
    client(fault, max_batch_bytes=60).write("b", LINES)
    assert all(len(r.body.encode()) <= 60 for r in fault.received)
    assert [line for r in fault.received for line in r.lines] == LINES


def test_a_line_over_the_byte_limit_fails_before_sending(fault: FaultServer) -> None:
    fault.will(Reply(204))
    with pytest.raises(RequestTooLargeError, match=r"line 2 .*nothing was sent"):
        client(fault, max_batch_bytes=30).write("b", 'm v=1\nm s="' + "x" * 40 + '"')
    assert fault.received == []


def test_400_names_lines_in_the_whole_input(fault: FaultServer) -> None:
    body = json.dumps({"code": "invalid", "message": "unable to parse 'm,host=h5 v=oops 5'", "line": 2})
    fault.will(Reply(204), Reply(204), Reply(400, body))
    with pytest.raises(PartialWriteError) as caught:
        client(fault, max_batch_lines=2).write("b", LINES)
    error = caught.value
    assert error.status == 400 and error.lines_written == 4
    assert [(r.line, r.text) for r in error.rejected] == [(6, LINES[5])]
    assert "line 6" in str(error) and "4 lines of earlier batches were written" in str(error)
    assert len(fault.received) == 3


def test_400_from_influxdb1_and_v3_bodies(fault: FaultServer) -> None:
    v1 = {
        "error": f"partial write: unable to parse '{LINES[1]}': invalid boolean\n"
        f"unable to parse '{LINES[3]}': bad timestamp dropped=0"
    }
    fault.will(Reply(400, json.dumps(v1)))
    with pytest.raises(PartialWriteError) as caught:
        client(fault, api="v1").write("db", LINES)
    assert [(r.line, r.message) for r in caught.value.rejected] == [
        (2, "invalid boolean"),
        (4, "bad timestamp"),
    ]
    v3 = {
        "error": "partial write of line protocol occurred",
        "data": [{"original_line": LINES[2], "line_number": 3, "error_message": "no fields"}],
    }
    fault.will(Reply(400, json.dumps(v3)))
    with pytest.raises(PartialWriteError) as caught:
        client(fault, api="v3").write("db", LINES)
    assert [(r.line, r.text, r.message) for r in caught.value.rejected] == [(3, LINES[2], "no fields")]


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthError), (403, AuthError), (404, NotFoundError), (422, RejectedPointsError)],
)
def test_client_errors_are_never_retried(
    fault: FaultServer, status: int, error: type[WriteHTTPError]
) -> None:
    message = {"code": "x", "message": f"server says {status}"}
    fault.will(Reply(status, json.dumps(message)))
    sleeps = Sleeps()
    with pytest.raises(error) as caught:
        client(fault, sleeps).write("b", LINES)
    assert len(fault.received) == 1 and sleeps == []
    assert caught.value.status == status
    assert caught.value.server_message == f"server says {status}"
    assert f"server says {status}" in str(caught.value)


def test_413_splits_in_halves_down_to_one_line(fault: FaultServer) -> None:
    fault.will(Reply(413, '{"code":"request too large"}'), Reply(204), Reply(204))
    result = client(fault).write("b", LINES)
    assert [len(r.lines) for r in fault.received] == [10, 5, 5]
    assert result.lines == 10 and result.batches == 2
    html = "<html><body><h1>413 Request Entity Too Large</h1><hr>nginx</body></html>"
    fault.will(Reply(413, html, {"Content-Type": "text/html"}))
    with pytest.raises(RequestTooLargeError) as caught:
        client(fault).write("b", LINES[:2])
    assert [len(r.lines) for r in fault.received] == [2, 1]
    assert caught.value.server_message == "413 Request Entity Too Large nginx"
    assert "line 1 alone is too large" in str(caught.value)


def test_retry_after_seconds_and_http_date(fault: FaultServer) -> None:
    sleeps = Sleeps()
    fault.will(
        Reply(429, "<html>slow down</html>", {"Retry-After": "7", "Content-Type": "text/html"}), Reply(204)
    )
    result = client(fault, sleeps).write("b", LINES)
    assert sleeps == [7.0] and result.retries == 1 and len(fault.received) == 2
    assert fault.received[0].body == fault.received[1].body
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    sleeps = Sleeps()
    fault.will(Reply(503, "", {"Retry-After": when}), Reply(204))
    client(fault, sleeps).write("b", LINES)
    assert len(sleeps) == 1 and 25 < sleeps[0] <= 30
    sleeps = Sleeps()
    fault.will(Reply(429, "", {"Retry-After": "86400"}), Reply(204))
    client(fault, sleeps, retry=RetryPolicy(max_retry_after=120)).write("b", LINES)
    assert sleeps == [120.0]


def test_5xx_backs_off_exponentially_then_gives_up(fault: FaultServer) -> None:
    sleeps = Sleeps()
    fault.will(Reply(500, '{"code":"internal error","message":"engine: boom"}'))
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault, sleeps, retry=RetryPolicy(max_retries=3, backoff=1, jitter=0.5)).write("b", LINES)
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(fault.received) == 4
    error = caught.value
    assert error.attempts == 4 and error.status == 500 and error.lines_written == 0
    assert "engine: boom" in str(error) and "lines 1-10" in str(error)


def test_time_budget_stops_retries(fault: FaultServer) -> None:
    sleeps = Sleeps()
    fault.will(Reply(503, "", {"Retry-After": "50"}))
    with pytest.raises(RetriesExhaustedError):
        client(fault, sleeps, retry=RetryPolicy(max_retries=10, max_elapsed=120)).write("b", LINES)
    assert sleeps == [50.0, 50.0]


def test_dropped_connections_and_slow_responses_are_retried(fault: FaultServer) -> None:
    sleeps = Sleeps()
    fault.will("drop", ("slow", 1.5, Reply(204)), Reply(204))
    result = client(fault, sleeps, timeout=(2, 0.5)).write("b", LINES)
    assert len(fault.received) == 3 and result.retries == 2 and len(sleeps) == 2
    fault.will("drop")
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault, Sleeps(), retry=RetryPolicy(max_retries=1)).write("b", LINES)
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert caught.value.status is None
    assert "the connection was dropped before a complete answer" in str(caught.value)
    fault.will(("slow", 1.5, Reply(204)))
    with pytest.raises(RetriesExhaustedError, match="timed out waiting for the answer: ReadTimeout"):
        client(fault, Sleeps(), retry=RetryPolicy(max_retries=0), timeout=(2, 0.5)).write("b", LINES)
    with pytest.raises(RetriesExhaustedError, match="could not connect: ConnectionError"):
        InfluxDBWriteClient(f"http://127.0.0.1:{free_port()}", "t", retry=RetryPolicy(max_retries=0)).write(
            "b", LINES
        )


def test_lines_written_counts_earlier_batches_on_failure(fault: FaultServer) -> None:
    fault.will(Reply(204), Reply(503))
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault, retry=RetryPolicy(max_retries=0), max_batch_lines=3).write("b", LINES)
    assert caught.value.lines_written == 3
    assert "3 line(s) of earlier batches were confirmed written" in str(caught.value)
    assert "none of lines 4-6 or later lines were written" in str(caught.value)


def test_bad_record_mid_stream_reports_what_was_written(fault: FaultServer) -> None:
    fault.will(Reply(204))
    records = [{"measurement": "m", "fields": {"v": i}} for i in range(5)]
    records.append({"measurement": "m", "fields": {"v": float("nan")}})
    with pytest.raises(InfluxDBWriteError) as caught:
        client(fault, max_batch_lines=2).write("b", records)
    assert caught.value.lines_written == 4
    assert "record 5: field 'v'" in str(caught.value)


def test_the_token_never_shows(fault: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    writer = client(fault)
    shown = [repr(writer), str(writer)]
    for reply in (Reply(401, '{"message":"unauthorized access"}'), Reply(500), "drop"):
        fault.will(reply)
        with pytest.raises(InfluxDBWriteError) as caught:
            client(fault, retry=RetryPolicy(max_retries=1)).write("b", LINES)
        error: BaseException | None = caught.value
        while error is not None:
            shown += [str(error), repr(error)]
            error = error.__cause__ or error.__context__
    shown += [record.getMessage() for record in caplog.records]
    assert caplog.records
    assert all(TOKEN not in text for text in shown)


def test_an_error_says_whether_the_server_may_hold_lines_of_the_write() -> None:
    """What lineage reports for a failed write: batches confirmed, a batch sent without
    an answer, or a partial write (whose valid lines servers may keep)."""
    assert not InfluxDBWriteError("refused before sending").may_have_written
    assert InfluxDBWriteError("later batch failed", lines_written=5000).may_have_written
    assert InfluxDBWriteError("no answer", unknown_lines=(1, 5000)).may_have_written
    assert PartialWriteError("400", rejected=[], status=400).may_have_written
