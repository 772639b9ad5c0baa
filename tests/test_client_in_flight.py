"""Several requests in flight (``in_flight=2``): the server works on one batch while the
next is on its way, and everything the client promises still holds.

The fault server answers by what it was sent (a batch is known by its first
line), and sleeps where a test needs one request to outlast another; influxd
says what was stored.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import pytest

from fault_server import FaultServer, Received, Reply
from influxdb_write.client import (
    InfluxDBWriteClient,
    InfluxDBWriteError,
    Input,
    InputError,
    PartialWriteError,
    RetriesExhaustedError,
    RetryPolicy,
)
from influxdb_write.client.checkpoints import Checkpoint
from servers import InfluxDB1

LINES = [f"m,host=h{i % 7} v={i}i {1_700_000_000 + i}" for i in range(1, 13)]
Step = tuple[float, Reply]
REFUSED = Reply(400, '{"code": "invalid", "message": "refused on purpose"}')


def client(url: str, **options: object) -> InfluxDBWriteClient:
    options.setdefault("max_batch_lines", 3)
    options.setdefault("retry", RetryPolicy(max_retries=0))
    return InfluxDBWriteClient(url, "t", org="o", **options)  # type: ignore[arg-type]


class Model:
    """Answers each batch by its first line's value (``v=4i``: the batch of lines 4-6):
    ``plan[first] = (seconds to wait, reply)``, or a list of them for its attempts in
    turn (the last repeats), 204 at once otherwise. Counts the
    requests waiting for an answer, and the most there were at once."""

    def __init__(self, plan: dict[int, Step | list[Step]] | None = None) -> None:
        self.plan = plan or {}
        self.waiting = self.most = 0
        self.firsts: list[int] = []
        self.answered: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, request: Received) -> Reply:
        first = int(request.lines[0].split("v=")[1].split("i")[0])
        with self._lock:
            self.firsts.append(first)
            self.waiting += 1
            self.most = max(self.most, self.waiting)
        with self._lock:
            planned = self.plan.get(first, (0.0, Reply(204)))
            steps = planned if isinstance(planned, list) else [planned]
            seconds, reply = steps.pop(0) if len(steps) > 1 else steps[0]
        time.sleep(seconds)
        with self._lock:
            self.waiting -= 1
            self.answered.append(first)
        assert isinstance(reply, Reply)
        return reply


def sent_lines(fault: FaultServer) -> list[str]:
    return [line for request in fault.received for line in request.lines]


@pytest.mark.parametrize("in_flight", [1, 2, 3])
def test_requests_wait_for_an_answer_at_once_up_to_in_flight(fault: FaultServer, in_flight: int) -> None:
    model = Model({first: (0.3, Reply(204)) for first in range(1, 13, 3)})
    fault.will(model)
    result = client(fault.url).write("b", LINES, in_flight=in_flight)
    assert model.most == in_flight
    assert (result.lines, result.batches) == (12, 4)
    assert sorted(sent_lines(fault), key=LINES.index) == LINES  # each line once, whole batches
    assert sorted(request.lines[0] for request in fault.received) == sorted(LINES[::3])


def test_in_flight_below_one_is_refused(fault: FaultServer) -> None:
    with pytest.raises(InputError, match="in_flight must be 1 or more, not 0"):
        client(fault.url).write("b", LINES, in_flight=0)
    assert not fault.received


def test_a_checkpoint_never_names_a_batch_confirmed_before_an_earlier_one(fault: FaultServer) -> None:
    """Lines 1-3 are answered last (and refused): the checkpoint handed over as the
    write fails must not cover lines 4-6, which the server confirmed first, since a
    resumed write would then skip lines 1-3, which the server does not hold."""
    model = Model({1: (0.6, REFUSED)})
    fault.will(model)
    saved: list[Checkpoint] = []
    with pytest.raises(PartialWriteError) as caught:
        client(fault.url).write_inputs(
            "b", [Input(LINES)], on_checkpoint=saved.append, checkpoint_lines=1, in_flight=2
        )
    assert saved == []  # nothing confirmed from the first line on
    error = caught.value
    assert error.lines_written == 3  # lines 4-6 are in: lineage must know the server holds some
    message = str(error)
    assert "HTTP 400 writing lines 1-3: refused on purpose" in message
    assert "0 lines of earlier batches were written; lines 4-6, sent meanwhile, were confirmed written" in (
        message
    )
    assert model.firsts.count(7) == 0 and model.firsts.count(10) == 0  # no batch starts after the failure


def test_checkpoints_move_over_batches_confirmed_out_of_order_once_the_gap_closes(
    fault: FaultServer,
) -> None:
    """Every other batch is answered late, so the next is confirmed before it; each
    checkpoint handed over still counts only lines confirmed from the first on, and
    fingerprints exactly them."""
    lines = [f"m,host=h{i % 7} v={i}i {1_700_000_000 + i}" for i in range(1, 61)]
    model = Model({first: (0.15, Reply(204)) for first in range(1, 61, 6)})
    fault.will(model)
    reached: list[Checkpoint] = []
    result = client(fault.url).write_inputs(
        "b", [Input(lines)], on_checkpoint=reached.append, checkpoint_lines=1, in_flight=2
    )
    assert result.lines == 60
    assert model.answered != sorted(model.answered)  # some batch was confirmed before an earlier one
    assert len(reached) >= 3
    for checkpoint in reached:
        digest = hashlib.sha256("".join(line + "\n" for line in lines[: checkpoint.lines]).encode())
        assert checkpoint == Checkpoint(checkpoint.lines, digest.hexdigest()[:32], "", checkpoint.lines)


def test_a_batch_tried_again_holds_the_others_back_but_stops_nothing(fault: FaultServer) -> None:
    """Lines 4-6 meet a 503 twice, then are confirmed: the write goes on, every line
    lands once, and no batch got more than two ahead of the first unconfirmed one."""
    busy = (0.0, Reply(503, '{"message": "busy"}'))
    model = Model({4: [busy, busy, (0.0, Reply(204))], 1: (0.2, Reply(204))})
    fault.will(model)
    result = client(fault.url, retry=RetryPolicy(max_retries=5, backoff=0.05)).write("b", LINES, in_flight=2)
    assert (result.lines, result.retries) == (12, 2)
    assert sorted(set(sent_lines(fault)), key=LINES.index) == LINES
    assert model.firsts.count(4) == 3 and all(model.firsts.count(first) == 1 for first in (1, 7, 10))
    assert model.firsts.index(10) > len(model.firsts) - 3  # 10-12 waited for 4-6


def test_after_a_failure_no_batch_starts_and_the_other_is_not_tried_again(fault: FaultServer) -> None:
    """Lines 4-6 meet 503s (which are retried) while lines 1-3 wait for their 400: once
    the 400 comes, lines 4-6 are given up at their next answer, no later batch is
    sent, and the error raised is that of lines 1-3, naming what became of 4-6."""
    model = Model({1: (0.5, REFUSED), 4: (0.05, Reply(503, '{"message": "busy"}'))})
    fault.will(model)
    began = time.monotonic()
    with pytest.raises(PartialWriteError) as caught:
        client(fault.url, retry=RetryPolicy(max_retries=1000, backoff=0.01, max_backoff=0.01)).write(
            "b", LINES, in_flight=2
        )
    assert time.monotonic() - began < 5
    assert set(model.firsts) == {1, 4}  # lines 7-12 were never sent
    assert model.firsts.count(4) < 40  # tried again only while lines 1-3 waited (about 0.5 s)
    message = str(caught.value)
    assert "HTTP 400 writing lines 1-3" in message
    assert "lines 4-6, sent meanwhile, were not written" in message
    assert caught.value.lines_written == 0


def test_a_batch_without_an_answer_beside_a_failure_is_named_unknown(fault: FaultServer) -> None:
    """Lines 1-3 fail for good (401) while lines 4-6 get no answer before the read
    timeout: the error says 4-6 may be on the server, and later lines were not sent."""
    model = Model({1: (0.3, Reply(401, '{"message": "unauthorized"}')), 4: (3.0, Reply(204))})
    fault.will(model)
    with pytest.raises(InfluxDBWriteError) as caught:
        client(fault.url, timeout=(2, 1)).write("b", LINES, in_flight=2)
    message = str(caught.value)
    assert message.startswith("HTTP 401"), message
    assert (
        "0 line(s) of earlier batches were confirmed written; lines 4-6, sent meanwhile, got no "
        "answer, so whether the server wrote them is unknown; none of lines 1-3 were written; later "
        "lines were not sent"
    ) in message
    assert set(model.firsts) == {1, 4}


def test_an_abandoned_write_names_every_request_in_flight(fault: FaultServer) -> None:
    fault.will("hang")
    writer = client(fault.url, timeout=(5, 60))
    abort: Callable[[], None] = writer.abort
    timer = threading.Timer(0.8, abort)
    timer.start()
    began = time.monotonic()
    with pytest.raises(InfluxDBWriteError) as caught:
        writer.write("b", LINES, in_flight=2)
    assert time.monotonic() - began < 5
    assert caught.value.unknown_lines == (1, 6)
    assert (
        "0 line(s) confirmed written; lines 1-3 and lines 4-6 were sent without an answer, so whether the "
        "server wrote them is unknown"
    ) in str(caught.value)
    assert len([r for r in fault.received if r.method == "POST"]) == 2


def test_an_abort_wakes_a_batch_waiting_for_its_turn(fault: FaultServer) -> None:
    """Lines 1-3 get no answer and lines 4-6 are confirmed, so the batch of lines 7-9
    waits for the first. The abort must wake it: a sender thread left waiting would
    hold the write forever."""
    model = Model({1: (3.0, Reply(204))})
    fault.will(model)
    writer = client(fault.url, timeout=(5, 60))
    raised: list[InfluxDBWriteError] = []

    def write() -> None:
        try:
            writer.write("b", LINES, in_flight=2)
        except InfluxDBWriteError as exc:
            raised.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while model.answered != [4] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert model.answered == [4]
    time.sleep(0.2)  # the batch of lines 7-9 is taken and waits for its turn
    began = time.monotonic()
    writer.abort()
    thread.join(2)
    assert not thread.is_alive(), "the write still waits after the abort"
    assert time.monotonic() - began < 1
    (error,) = raised
    assert (error.lines_written, error.unknown_lines) == (3, (1, 3))
    assert sorted(model.firsts) == [1, 4]  # two in flight may arrive in either order; lines 7-9 never left


def test_retries_exhausted_beside_a_confirmed_batch_counts_it(fault: FaultServer) -> None:
    model = Model({1: (0.3, Reply(503, '{"message": "busy"}'))})
    fault.will(model)
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault.url).write("b", LINES, in_flight=2)
    assert caught.value.lines_written == 3
    assert "lines 4-6, sent meanwhile, were confirmed written; none of lines 1-3 were written" in str(
        caught.value
    )


def test_two_in_flight_land_exactly_the_input(influxd: InfluxDB1) -> None:
    """Against a real server, 20,000 lines in 40 batches, two at a time: every point once,
    every value as written."""
    db = influxd.create("in_flight_exact")
    lines = [f"m,host=h{i % 13} v={i}i,f={i / 8} {1_700_000_000_000_000_000 + i}" for i in range(20_000)]
    with InfluxDBWriteClient(influxd.url, api="v1", max_batch_lines=500) as writer:
        result = writer.write(db, lines, in_flight=2)
    assert (result.lines, result.batches) == (20_000, 40)
    rows = influxd.rows("SELECT * FROM m", db)
    assert len(rows) == 20_000
    assert sorted((row["v"], row["f"], row["host"]) for row in rows) == [
        (i, i / 8, f"h{i % 13}") for i in range(20_000)
    ]
