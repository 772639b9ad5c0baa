"""One write of several named inputs (``InfluxDBWriteClient.write_inputs``): shared
batches, each input numbered on its own, messages and rejected lines naming the
input, and the default time given where the time is missing, as it is encoded."""

from __future__ import annotations

from typing import Any

import pytest

from fault_server import FaultServer, Reply, Sleeps
from influxdb_write.client import (
    InfluxDBWriteClient,
    Input,
    InputError,
    PartialWriteError,
    RetriesExhaustedError,
)
from servers import InfluxDB1

pd = pytest.importorskip("pandas")

STAMP = 1_709_251_200_000_000_000  # 2024-03-01T00:00:00Z


def client(url: str, **options: Any) -> InfluxDBWriteClient:
    return InfluxDBWriteClient(url, "t", org="o", sleep=Sleeps(), rand=lambda: 0.0, **options)


def frame() -> Any:
    return pd.DataFrame(
        {"site": ["a", "b", "c"], "v": [1.0, 2.0, 3.0], "time": pd.to_datetime([1, None, 3], utc=True)}
    )


def inputs() -> list[Input]:
    return [
        Input("m v=1i\nm v=2i 5", name="text", default_time=STAMP),
        Input(
            [{"measurement": "r", "fields": {"v": 1}}, {"measurement": "r", "fields": {"v": 2}, "time": 7}],
            name="records",
            default_time=STAMP,
        ),
        Input(frame(), name="frame", frame=_mapping(), default_time=STAMP),
        Input([(4, "e v=1i")], name="entries", framed=True),
    ]


def _mapping() -> Any:
    from influxdb_write.line_protocol import FrameMapping

    return FrameMapping(measurement="f", tag_columns=("site",), time_column="time")


def test_inputs_share_batches_and_get_the_default_time_where_they_have_none(fault: FaultServer) -> None:
    fault.will(Reply(204))
    result = client(fault.url).write_inputs("b", inputs())
    sent = [r.lines for r in fault.received]
    # Text and records share the first batch; the frame goes on its own, then the framed entries.
    assert sent == [
        [f"m v=1i {STAMP}", "m v=2i 5", f"r v=1i {STAMP}", "r v=2i 7"],
        ["f,site=a v=1.0 1", f"f,site=b v=2.0 {STAMP}", "f,site=c v=3.0 3"],
        ["e v=1i"],
    ]
    assert (result.lines, result.batches) == (8, 3)


def test_a_write_of_several_names_the_input_and_its_own_lines(fault: FaultServer) -> None:
    fault.will(Reply(503))
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault.url, max_batch_lines=3).write_inputs("b", inputs()[:2])
    assert "gave up on lines 1-2 of text, line 1 of records after" in str(caught.value)


def test_a_bad_record_is_named_by_its_input(fault: FaultServer) -> None:
    fault.will(Reply(204))
    bad = [Input("m v=1i 1", name="text"), Input([{"measurement": "r", "fields": {}}], name="records")]
    with pytest.raises(InputError, match="records: record 0: fields: no fields"):
        client(fault.url).write_inputs("b", bad)


def test_rejected_lines_name_their_input(influxd: InfluxDB1) -> None:
    db = influxd.create("iw_client_inputs_rejected")
    data = [Input("m v=1i 1\nm v= 2", name="text"), Input([(3, "n v=1i 1")], name="entries", framed=True)]
    with pytest.raises(PartialWriteError) as caught:
        client(influxd.url, api="v1").write_inputs(db, data)
    (rejected,) = caught.value.rejected
    assert (rejected.source, rejected.line, rejected.text) == ("text", 2, "m v= 2")
    # The valid lines of the shared batch landed, whichever input they came from.
    assert influxd.rows("SELECT * FROM m", db)[0]["v"] == 1
    assert influxd.rows("SELECT * FROM n", db)[0]["v"] == 1


def test_text_keeps_its_times_and_gets_the_default_where_it_has_none(influxd: InfluxDB1) -> None:
    db = influxd.create("iw_client_inputs_stamp")
    text = 'm v=1i 10\nm,t=x\\ 5 s="a 6"\n# comment\nm v=3i -4\nm w=4i'
    client(influxd.url, api="v1").write_inputs(db, [Input(text, default_time=STAMP)])
    got = sorted(((r["time"], r["v"], r["s"], r["w"]) for r in influxd.rows("SELECT * FROM m", db)), key=str)
    assert got == [
        (-4, 3, None, None),
        (10, 1, None, None),
        (STAMP, None, "a 6", None),
        (STAMP, None, None, 4),
    ]


def _cut(parts: list[tuple[str, Any]], max_lines: int, max_bytes: int) -> list[Any]:
    from influxdb_write.client.batching import batches

    made: list[Any] = []
    try:
        for batch in batches(parts, max_lines=max_lines, max_bytes=max_bytes):
            made.append((list(batch.numbers), list(batch.entries), batch.size, batch.sources))
    except Exception as exc:
        made.append(f"{type(exc).__name__}: {exc}")  # what came before it, then the same error
    return made


PLAIN = "\n".join(f'm,t=a v={i}i,s="x \\"{i}\\"" {i}' for i in range(1, 40))
PLAIN_UTF8 = "\n".join(f"m,t={'é' * i} v={i}i {i}" for i in range(1, 40))  # bytes are not characters
MIXED = "\n".join(
    [PLAIN, "# comment", 'm s="two\nlines" 1', "m,t=é v=1 2", PLAIN, "", "m v=1", "m,t=ééé v=2 3", PLAIN]
)


@pytest.mark.parametrize("max_lines", [1, 7, 40, 5000])
@pytest.mark.parametrize("max_bytes", [40, 100, 1000, 1 << 20])
@pytest.mark.parametrize("stamp", [None, STAMP])
def test_text_framed_a_block_at_a_time_makes_the_batches_of_entry_by_entry(
    max_lines: int, max_bytes: int, stamp: int | None
) -> None:
    """Blocks of plain lines go into batches in slices; the batches, numbers,
    sizes and the place a too-large line is refused must be those of adding
    each entry on its own (the pairs of iter_entries)."""
    from influxdb_write.client.batching import numbered_entries
    from influxdb_write.line_protocol import iter_entries, with_default_time

    for text in (PLAIN, PLAIN_UTF8, MIXED, MIXED.encode()):
        names = ["text", "more"]
        by_runs = [(name, numbered_entries(text, precision="ns", default_time=stamp)) for name in names]
        one_by_one = [
            (
                name,
                (
                    (number, entry if stamp is None else with_default_time(entry, stamp))
                    for number, entry in iter_entries(text, max_entry_bytes=max_bytes)
                ),
            )
            for name in names
        ]
        assert _cut(by_runs, max_lines, max_bytes) == _cut(one_by_one, max_lines, max_bytes)
