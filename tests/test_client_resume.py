"""Durable writes in the client: checkpoints of what the server confirmed, and a
later write that resumes after one, sending only what was not confirmed.

The fault server records every line it receives; influxd says what was stored.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest

from fault_server import FaultServer, Reply
from influxdb_write.client import InfluxDBWriteClient, Input, RetryPolicy, WriteHTTPError
from influxdb_write.client.checkpoints import Checkpoint
from influxdb_write.client.errors import ResumeError
from servers import InfluxDB1

LINES = [f"m,host=h{i % 7} v={i}i {1_700_000_000_000_000_000 + i}" for i in range(1, 2001)]


def client(url: str, **options: object) -> InfluxDBWriteClient:
    options.setdefault("max_batch_lines", 100)
    return InfluxDBWriteClient(url, api="v1", retry=RetryPolicy(max_retries=0), **options)  # type: ignore[arg-type]


def fingerprint(lines: list[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()[:32]


def received(fault: FaultServer) -> list[str]:
    return [line for request in fault.received for line in request.lines]


def checkpoints_of_a_failed_write(fault: FaultServer, lines: list[str], every: int = 300) -> list[Checkpoint]:
    """The checkpoints handed over by a write whose 11th batch the server refuses."""
    fault.will(*[Reply(204)] * 10, Reply(400, '{"code": "invalid", "message": "refused on purpose"}'))
    saved: list[Checkpoint] = []
    with pytest.raises(WriteHTTPError):
        client(fault.url).write_inputs(
            "db", [Input(lines)], on_checkpoint=saved.append, checkpoint_lines=every
        )
    return saved


def test_checkpoints_follow_the_confirmed_lines_and_the_last_comes_with_the_failure(
    fault: FaultServer,
) -> None:
    saved = checkpoints_of_a_failed_write(fault, LINES)
    # Handed over in the caller's thread every 300 confirmed lines or more, then once
    # more as the write fails: the 1,000 lines of the 10 batches the server confirmed.
    assert [c.lines for c in saved][-1] == 1000
    assert all(b.lines - a.lines >= 300 for a, b in itertools.pairwise(saved[:-1]))
    assert saved[-1] == Checkpoint(1000, fingerprint(LINES[:1000]), "", 1000)
    assert all(c.fingerprint == fingerprint(LINES[: c.lines]) for c in saved)


def test_a_resumed_write_sends_only_what_was_not_confirmed(fault: FaultServer) -> None:
    (*_, last) = checkpoints_of_a_failed_write(fault, LINES)
    fault.received.clear()
    fault.will(Reply(204))
    result = client(fault.url).write_inputs("db", [Input(LINES)], resume=last)
    assert received(fault) == LINES[1000:]
    assert (result.lines, result.resumed_after_lines, result.batches) == (2000, 1000, 10)


@pytest.mark.parametrize("batch", [100, 70, 2000, 1])
def test_the_fingerprint_does_not_depend_on_batching(fault: FaultServer, batch: int) -> None:
    """A checkpoint inside a batch (batches of another size, or a batch split after a
    413) resumes exactly after its line."""
    resume = Checkpoint(1000, fingerprint(LINES[:1000]), "", 1000)
    fault.will(Reply(204))
    result = client(fault.url, max_batch_lines=batch).write_inputs("db", [Input(LINES[:1200])], resume=resume)
    assert received(fault) == LINES[1000:1200]
    assert (result.lines, result.resumed_after_lines) == (1200, 1000)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("one line of the prefix", "the input's first 1000 lines differ from those the checkpoint confirmed"),
        ("fewer lines", "the input has 900 lines, fewer than the 1000 the checkpoint confirmed"),
        ("lines in another order", "the input's first 1000 lines differ"),
    ],
)
def test_another_input_is_refused_before_anything_is_sent(
    fault: FaultServer, change: str, words: str
) -> None:
    resume = Checkpoint(1000, fingerprint(LINES[:1000]), "", 1000)
    if change == "one line of the prefix":
        other = [*LINES[:500], LINES[500].replace("v=501i", "v=502i"), *LINES[501:]]
    elif change == "fewer lines":
        other = LINES[:900]
    else:
        other = [LINES[1], LINES[0], *LINES[2:]]
    fault.will(Reply(204))
    writer = client(fault.url)
    with pytest.raises(ResumeError, match=words) as caught:
        writer.write_inputs("db", [Input(other)], resume=resume)
    assert "nothing was sent" in str(caught.value)
    assert fault.received == []
    # The same client then writes from the first line.
    assert writer.write_inputs("db", [Input(other)]).lines == len(other)
    assert received(fault) == other


def test_a_checkpoint_names_the_input_and_its_line_in_a_write_of_several(fault: FaultServer) -> None:
    records = [{"measurement": "r", "fields": {"v": i}, "time": i} for i in range(1, 301)]
    inputs = [Input(LINES[:150], name="line_protocol"), Input(records, name="records")]
    fault.will(*[Reply(204)] * 3, Reply(400, '{"code": "invalid", "message": "no"}'))
    saved: list[Checkpoint] = []
    with pytest.raises(WriteHTTPError):
        client(fault.url).write_inputs("db", inputs, on_checkpoint=saved.append, checkpoint_lines=1)
    assert [(c.lines, c.source, c.line) for c in saved] == [
        (100, "line_protocol", 100),
        (200, "records", 50),
        (300, "records", 150),
    ]
    fault.received.clear()
    fault.will(Reply(204))
    result = client(fault.url).write_inputs("db", inputs, resume=saved[-1])
    assert received(fault) == [f"r v={i}i {i}" for i in range(151, 301)]
    assert result.lines == 450


def test_a_frame_resumes_inside_its_slices(fault: FaultServer) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"v": range(1000), "time": pd.date_range("2024-01-01", periods=1000, freq="s", tz="UTC")}
    )
    options = {"measurement": "f", "time_column": "time"}
    from influxdb_write.line_protocol.frames import FrameMapping

    inputs = [Input(frame, name="frame", frame=FrameMapping.from_options(options))]
    fault.will(*[Reply(204)] * 4, Reply(400, '{"code": "invalid", "message": "no"}'))
    saved: list[Checkpoint] = []
    with pytest.raises(WriteHTTPError):
        client(fault.url, max_batch_lines=90).write_inputs(
            "db", inputs, precision="s", on_checkpoint=saved.append, checkpoint_lines=1
        )
    sent = received(fault)
    assert saved[-1].lines == 360 and saved[-1].fingerprint == fingerprint(sent[:360])
    fault.received.clear()
    fault.will(Reply(204))
    client(fault.url, max_batch_lines=500).write_inputs("db", inputs, precision="s", resume=saved[-1])
    assert received(fault) == [f"f v={i}i {1704067200 + i}" for i in range(360, 1000)]


def test_resumed_and_first_writes_land_exactly_the_input(influxd: InfluxDB1) -> None:
    """Against a real server: a first try writes 700 lines, handing over checkpoints
    on the way; a second try resumes after the last one handed over. Lines the
    first try wrote after it are sent again and overwrite themselves: influxd
    holds every line once."""
    db = influxd.create("resume_exact")
    saved: list[Checkpoint] = []
    client(influxd.url).write_inputs(
        db, [Input(LINES[:700])], on_checkpoint=saved.append, checkpoint_lines=100
    )
    resume = saved[-1]
    assert 100 <= resume.lines < 700
    result = client(influxd.url).write_inputs(db, [Input(LINES)], resume=resume)
    assert (result.lines, result.resumed_after_lines) == (2000, resume.lines)
    rows = influxd.rows("SELECT * FROM m", db)
    assert sorted(row["v"] for row in rows) == list(range(1, 2001))
