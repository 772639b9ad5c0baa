"""Per-measurement counts of what a server confirmed (``influxdb_write.line_protocol.tally``),
checked against InfluxData's corpus and the parser, and fed by the client batch by batch."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fault_server import FaultServer, Reply
from influxdb_write.client import InfluxDBWriteClient, InfluxDBWriteError, Input, RetryPolicy
from influxdb_write.line_protocol import FrameMapping, iter_entries, parse_lines
from influxdb_write.line_protocol.tally import Measurement, MeasurementTally

CORPUS = Path(__file__).resolve().parent / "data" / "line-protocol-corpus" / "corpus.json"


def expected(batches: Sequence[Sequence[str]]) -> dict[str, Measurement]:
    """What the tally should hold, by the parser: each entry's measurement and tag keys,
    its UTF-8 bytes and the newline after it within its batch."""
    found: dict[str, list[Any]] = {}
    for entries in batches:
        for index, entry in enumerate(entries):
            (line,) = parse_lines(entry)
            counted = found.setdefault(line.measurement, [0, 0, {}])
            counted[0] += 1
            counted[1] += len(entry.encode("utf-8")) + (index < len(entries) - 1)
            counted[2].update(dict.fromkeys(line.tags))
    return {name: Measurement(lines, size, tuple(tags)) for name, (lines, size, tags) in found.items()}


def tallied(batches: Sequence[Sequence[str]], **limits: int) -> dict[str, Measurement] | None:
    tally = MeasurementTally(**limits)
    for entries in batches:
        tally.add(entries, all(entry.isascii() for entry in entries))
    return tally.measurements()


CASES = {
    "one measurement": [["cpu,host=a v=1 1", "cpu,host=b v=2 2"]],
    "interleaved": [["cpu,host=a v=1 1", "mem,host=a free=2i 1", "cpu,host=b,dc=x v=3 2", "disk v=1"]],
    "tags differ by line": [["m,a=1 v=1", "m,b=2 v=1", "m v=1", "m,b=3,c=4 v=1"]],
    "escaped comma in the measurement": [["a\\,b,t=1 v=1", "a\\,b v=2", "a v=3"]],
    "escaped space in the measurement": [["cpu\\ load,host=a v=1", "cpu v=2", "cpu\\ load v=3"]],
    "escaped space in a tag value": [["cpu,host=a\\ b v=1", "cpu,host=c v=2"]],
    "escaped key": [["cpu,ho\\=st=a,x\\,y=1 v=1", "cpu,ho\\ st=b v=2"]],
    "a backslash that escapes nothing": [["c\\pu,t=\\x v=1", "c\\pu v=2"]],
    "leading blanks": [["  cpu,host=a v=1", "\tmem v=2", "cpu v=3"]],
    "not ASCII": [["température,pièce=salon v=21.5", "température v=1", "cpu v=1"]],
    "a string value across lines": [['log,app=x msg="one\ntwo"', "log v=1", 'cpu s="a b,c=d"']],
    "several batches": [["cpu v=1", "mem v=2"], ["mem,h=a v=3"], ["cpu,h=b v=4", "cpu v=5"]],
    # More measurements in one batch than are summed one pass each.
    "ten measurements": [[f"m{i % 10},t=x v={i} {i}" for i in range(31)], ["m3 v=1", "m9,u=1 v=2"]],
}


@pytest.mark.parametrize("batches", CASES.values(), ids=CASES.keys())
def test_counts_each_measurement_as_the_parser_reads_it(batches: list[list[str]]) -> None:
    assert tallied(batches) == expected(batches)
    # Every series read again instead of remembered: the same counts.
    assert tallied(batches, series_limit=0) == expected(batches)


def test_the_bytes_add_up_to_the_bodies_sent() -> None:
    for batches in CASES.values():
        counted = tallied(batches)
        assert counted is not None
        bodies = sum(len("\n".join(entries).encode("utf-8")) for entries in batches)
        assert sum(m.bytes for m in counted.values()) == bodies


def test_past_the_limit_no_measurement_is_named() -> None:
    batches = [[f"m{i} v=1" for i in range(5)]]
    assert tallied(batches, limit=5) == expected(batches)
    assert tallied(batches, limit=4) is None
    tally = MeasurementTally(limit=2)
    tally.add(["a v=1", "b v=1"])
    tally.add(["c v=1"])  # over: nothing is kept
    tally.add(["a v=1"])
    assert tally.over and tally.measurements() is None


def _text(value: Any) -> Any:
    return base64.b64decode(value["binary"]).decode("utf-8") if isinstance(value, dict) else value


def test_agrees_with_every_valid_case_of_the_corpus() -> None:
    """The corpus's own points, not this package's parser, say each measurement and tag key."""
    checked = 0
    for key, case in json.loads(CORPUS.read_text(encoding="utf-8"))["decode"].items():
        if "result" not in case["output"] or not case["output"]["result"]:
            continue
        try:
            text = _text(case["input"]["text"])
        except UnicodeDecodeError:
            continue  # not text: refused before anything is sent
        entries = [entry for _, entry in iter_entries(text)]
        points = case["output"]["result"]
        if len(entries) != len(points):
            continue  # a line the corpus accepts and influxd refuses (tests/test_corpus.py)
        want: dict[str, list[Any]] = {}
        for point in points:
            counted = want.setdefault(_text(point["name"]), [0, set()])
            counted[0] += 1
            counted[1].update(_text(tag["key"]) for tag in point["tags"])
        got = tallied([entries])
        assert got is not None
        assert {name: [m.lines, set(m.tag_keys)] for name, m in got.items()} == want, key
        checked += 1
    assert checked > 100


def client(server: FaultServer, **options: Any) -> InfluxDBWriteClient:
    return InfluxDBWriteClient(
        server.url, "t0ken", org="o", retry=RetryPolicy(max_retries=0), sleep=lambda _: None, **options
    )


def test_the_client_counts_only_the_batches_the_server_confirmed(fault: FaultServer) -> None:
    lines = [f"{'cpu' if i % 3 else 'mem'},host=h{i % 4} v={i}i {i}" for i in range(1, 11)]
    fault.will(Reply(204), Reply(204), Reply(400, '{"code":"invalid","message":"no"}'))
    tally = MeasurementTally()
    with pytest.raises(InfluxDBWriteError) as caught:
        client(fault, max_batch_lines=4).write_inputs("b", [Input(lines)], tally=tally)
    assert caught.value.lines_written == 8
    confirmed = [request.lines for request in fault.received[:2]]
    assert tally.measurements() == expected(confirmed)


def test_a_frame_is_counted_from_the_bodies_it_is_sent_in(fault: FaultServer) -> None:
    pa = pytest.importorskip("pyarrow")
    frame = pa.table(
        {
            "time": pa.array(range(1, 7), pa.int64()),
            "kind": ["cpu", "mem", "cpu", "disk", "cpu", "mem"],
            "host": ["a", "b", "c", "d", "e", "f"],
            "note": ["x", "line\none", "y", "z", "w", "v"],  # a string across lines: entries one by one
            "v": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        }
    )
    mapping = FrameMapping.from_options(
        {"measurement_column": "kind", "tag_columns": ["host"], "time_column": "time"}
    )
    fault.will(Reply(204))
    tally = MeasurementTally()
    client(fault, max_batch_lines=4).write_inputs("b", [Input(frame, frame=mapping)], tally=tally)
    sent = [list(iter_entries(request.body)) for request in fault.received]
    assert tally.measurements() == expected([[entry for _, entry in batch] for batch in sent])
