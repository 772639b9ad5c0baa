"""The streaming decoder on hostile input: framing, reading, whole-input rules.

Each table row is one rule of docs/line-protocol.md with its message. Inputs are
read as every kind the decoder takes (str, bytes, binary and text files, lists
of lines), and must give the same errors and entries each way.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import influxdb_write.line_protocol.decoder as decoder_module
from influxdb_write.line_protocol import (
    Decoder,
    EntryTooLargeError,
    InvalidLineError,
    RecordError,
    Unsigned,
    encode_record,
    iter_entries,
    parse_lines,
    validate,
)
from influxdb_write.line_protocol.field_types import FieldTypes
from influxdb_write.line_protocol.streams import READ_SIZE

KINDS: dict[str, Callable[[str], Any]] = {
    "str": lambda text: text,
    "bytes": lambda text: text.encode("utf-8"),
    "binary file": lambda text: io.BytesIO(text.encode("utf-8")),
    "text file": io.StringIO,
    "lines": lambda text: text.split("\n"),
}


def _errors(data: Any, **options: Any) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in validate(data, **options)]


def _kept(data: Any, **options: Any) -> list[str]:
    """The entries that skip mode keeps."""
    return [entry.text for entry in Decoder(**options).entries(data) if entry.error is None]


# (input, [(line, message)], entries kept by skip mode)
FRAMING = [
    pytest.param(
        'm v=1\nm s="open\nm v=2\nm v=3',
        [
            (
                2,
                "column 5: missing closing quote of string field 's': none follows before the end of the "
                "input",
            )
        ],
        ["m v=1", "m v=2", "m v=3"],
        id="an unclosed quote costs its line only",
    ),
    pytest.param(
        'm s="open\nm v=1\nm s="x" 1\nm v=2',
        [
            (
                1,
                "column 5: the string value opened here goes on past the end of the line, and the entry "
                "then fails on line 3, column 6: unexpected character 'x' after field 's'; if the string "
                "ends on this line, add its closing quote",
            )
        ],
        ["m v=1", 'm s="x" 1', "m v=2"],
        id="a later quote closes it: the opening line is named, the next lines are read again",
    ),
    pytest.param(
        'm s="' + "x" * 140_000 + '\nm v=1\nm s="y"',
        [
            (
                1,
                "column 5: missing closing quote of string field 's': none follows within 131073 "
                "characters, and a string value holds at most 64 KiB",
            )
        ],
        ["m v=1", 'm s="y"'],
        id="no closing quote within the bound of a string value",
    ),
    pytest.param(
        'm s="a\nb" 1\n# c\n\nm v=1',
        [],
        ['m s="a\nb" 1', "m v=1"],
        id="a string value holds raw newlines",
    ),
    pytest.param(
        'm,t=a s="x\ny",s=1 2\nm v=1',
        [(2, "column 4: duplicate field key 's'; InfluxDB would keep only its last value")],
        ["m v=1"],
        id="a well-formed multi-line entry that breaks a rule is one bad entry",
    ),
    pytest.param(
        'm s="a\\"b\\\\" 1\nm s="\\\\"" 2',
        [(2, "column 9: unexpected character '\"' after field 's'")],
        ['m s="a\\"b\\\\" 1'],
        id="escaped quotes and backslashes",
    ),
]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("text", "errors", "kept"), FRAMING)
def test_framing(text: str, errors: list[tuple[int, str]], kept: list[str], kind: str) -> None:
    assert _errors(KINDS[kind](text)) == errors
    assert _kept(KINDS[kind](text)) == kept


def test_an_unclosed_quote_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line after an unclosed quote kept the string open, and the growing entry
    was parsed again for every one of them: 2,000, 4,000 and 8,000 such lines took
    1.3, 3.5 and 22.9 s. The parser now reads the entry once, up to the string
    value's bound, then each line after it once more on its own."""
    calls = []
    real = decoder_module.parse_entry

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(decoder_module, "parse_entry", counted)
    for lines in (2_000, 8_000):
        text = 'm s="open\n' + 'm,t=a\\" v=1\n' * lines  # valid alone; inside the string, \" is escaped
        for read in (validate, lambda data: list(iter_entries(data))):
            calls.clear()
            read(text)
            assert len(calls) <= lines + 3
        assert [error.line for error in validate(text)] == [1]
        assert len(list(iter_entries(text))) == lines + 1


# (input, what parse_lines reads as the measurement)
BYTE_ORDER_MARKS = [
    pytest.param("\ufeffm v=1", id="str"),
    pytest.param(b"\xef\xbb\xbfm v=1", id="bytes"),
    pytest.param(io.BytesIO(b"\xef\xbb\xbfm v=1"), id="binary file"),
    pytest.param(io.StringIO("\ufeffm v=1"), id="text file"),
    pytest.param(["\ufeffm v=1"], id="lines"),
]


@pytest.mark.parametrize("data", BYTE_ORDER_MARKS)
def test_a_byte_order_mark_at_the_start_is_dropped(data: Any) -> None:
    (line,) = parse_lines(data)
    assert line.measurement == "m"


BOM_INSIDE = [
    ("m v=1\n\ufeffm v=1", "column 1: measurement '\\ufeffm' holds a byte-order mark (U+FEFF)"),
    ("m,\ufefft=a v=1", "column 3: tag key '\\ufefft' holds a byte-order mark (U+FEFF)"),
    ("m,t=a\ufeff v=1", "column 6: tag value 'a\\ufeff' holds a byte-order mark (U+FEFF)"),
    ("m v=1,\ufeffw=2", "column 7: field key '\\ufeffw' holds a byte-order mark (U+FEFF)"),
]


@pytest.mark.parametrize(("text", "message"), BOM_INSIDE)
def test_a_byte_order_mark_inside_a_name_is_refused(text: str, message: str) -> None:
    (error,) = validate(text)
    assert error.message == message + ", which InfluxDB would store as part of the name; remove it"


def test_a_byte_order_mark_inside_a_string_value_is_text() -> None:
    (line,) = parse_lines('m s="\ufeffa"')
    assert line.fields == {"s": "\ufeffa"}


def test_the_encoder_refuses_a_byte_order_mark_in_a_name() -> None:
    with pytest.raises(RecordError, match=r"record 0: tag 't': tag value '\\ufeffa' holds a byte-order mark"):
        encode_record({"measurement": "m", "tags": {"t": "\ufeffa"}, "fields": {"v": 1}})


NOT_UTF8 = "invalid UTF-8 byte 0xff at byte {offset} of the input; line protocol must be UTF-8 text"


@pytest.mark.parametrize("kind", ["bytes", "binary file", "lines of bytes"])
def test_bytes_that_are_not_utf8_name_line_column_and_offset(kind: str) -> None:
    good = "m,t=é v=1\n" * 200_000  # 2.2 MB: the bad byte lies beyond the first read
    raw = good.encode() + b"m,t=ab\xff v=1\n# caf\xe9 in a comment is never sent\nm v=2\n"
    data: Any = {
        "bytes": raw,
        "binary file": io.BytesIO(raw),
        "lines of bytes": raw.split(b"\n"),
    }[kind]
    ((line, message),) = _errors(data)
    assert line == 200_001
    offset = len(good.encode()) + len(b"m,t=ab")
    if kind == "lines of bytes":
        assert message.startswith("column 7: invalid UTF-8 byte 0xff; line protocol must be UTF-8 text")
    else:
        assert message.startswith("column 7: " + NOT_UTF8.format(offset=offset))


def test_framing_raises_a_typed_error_for_bytes_that_are_not_utf8() -> None:
    entries = iter_entries(io.BytesIO(b"m v=1\nm v=\xff\n"))
    assert next(entries) == (1, "m v=1")
    with pytest.raises(InvalidLineError, match=r"line 2: column 5: invalid UTF-8 byte 0xff at byte 10"):
        next(entries)


def test_a_character_split_across_reads_is_text() -> None:
    comment = b"#" + b"x" * (READ_SIZE - 3) + b"\n"  # "é" is two bytes, the first the last of a read
    (line,) = parse_lines(io.BytesIO(comment + "é v=1\n".encode()))
    assert (line.line, line.measurement) == (2, "é")


LONG = 'm s="' + "x" * 200 + '"'
SPANNING = 'm s="' + "x" * 60 + "\n" + "x" * 60 + '"'
WIDE = 'm s="' + "é" * 60 + '"'

# (input, max_entry_bytes, [(line, message)])
SIZES = [
    pytest.param(
        "m v=1\n" + LONG,
        100,
        [(2, f"column 1: the line is {len(LONG)} bytes, more than the 100 bytes one request may carry")],
        id="a line over the limit",
    ),
    pytest.param(
        "m v=1\n" + SPANNING,
        100,
        [(2, f"column 1: the entry is {len(SPANNING)} bytes, more than the 100 bytes one request may carry")],
        id="an entry of lines under the limit, over it in all",
    ),
    pytest.param(
        WIDE,
        100,
        [
            (
                1,
                f"column 1: the line is {len(WIDE.encode())} bytes, more than the 100 bytes one request "
                "may carry",
            )
        ],
        id="bytes, not characters",
    ),
    pytest.param(
        'm s="' + "x" * 65_537 + '"',
        10**6,
        [
            (
                1,
                "column 5: string value of field 's' is 65537 bytes, more than InfluxDB's limit of 65536 "
                "(64 KiB)",
            )
        ],
        id="a string value over 64 KiB",
    ),
    pytest.param('m s="' + "x" * 65_536 + '"', 10**6, [], id="a string value of 64 KiB"),
]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("text", "limit", "errors"), SIZES)
def test_sizes(text: str, limit: int, errors: list[tuple[int, str]], kind: str) -> None:
    assert _errors(KINDS[kind](text), max_entry_bytes=limit) == errors


def test_framing_raises_for_a_line_too_large_without_holding_it() -> None:
    entries = iter_entries(io.BytesIO(b"m v=1\n" + b"m v=" + b"1" * 500 + b"\nm v=2\n"), max_entry_bytes=100)
    assert next(entries) == (1, "m v=1")
    with pytest.raises(
        EntryTooLargeError, match="line 2: column 1: the line is 504 bytes, more than the 100"
    ):
        next(entries)


def test_memory_stays_bounded_whatever_the_input(tmp_path: Path) -> None:
    """A 100 MB file with one unclosed quote near the start made one 100 MB entry
    (validation peaked at 1,059 MB); a 45 MB line passed validation. Both are now
    reported, and reading holds about one block and one entry limit at most."""
    unclosed = tmp_path / "unclosed.lp"
    with unclosed.open("w") as out:
        out.write('m v=1\nm s="no closing quote\n')
        line = "m,host=a,region=b v=1.5,n=2i 1700000000000000000\n"
        out.write(line * (100_000_000 // len(line)))
    long_line = tmp_path / "long.lp"
    long = "m " + "v=1," * 11_250_000 + "w=1"
    with long_line.open("w") as out:
        out.write("m v=1\n" * 6_000 + long + "\n")
    script = textwrap.dedent(
        f"""
        from influxdb_write.line_protocol import iter_entries, validate
        errors = validate(open({str(unclosed)!r}, "rb"))
        entries = sum(1 for _ in iter_entries(open({str(unclosed)!r}, "rb")))
        print([e.line for e in errors], entries)
        errors = validate(open({str(long_line)!r}, "rb"))
        print([(e.line, e.message) for e in errors])
        # VmHWM, not ru_maxrss: a child started with vfork counts its parent's peak there.
        status = open("/proc/self/status").read()
        print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first, second, peak_mb = result.stdout.strip().splitlines()
    assert first == f"[2] {2 + 100_000_000 // len(line)}"
    assert second == str(
        [
            (
                6001,
                f"column 1: the line is {len(long)} bytes, more than the 40000000 bytes one request may "
                "carry",
            )
        ]
    )
    assert int(peak_mb) < 300  # generous: about 40 MB of the long line, plus Python


# (text, api, problem or None)
API_RULES = [
    ("m v=1u", "v1", "column 5: unsigned integer '1u' for field 'v': InfluxDB 1.x has no unsigned type"),
    ("m v=1u", "v2", None),
    ("m v=1u", "v3", None),
    ("m,a=x a=1", "v3", "column 7: field key 'a' is also a tag key; InfluxDB 3 keeps the tags and fields"),
    ("m,a=x a=1", "v2", None),
    ("m,a=x a=1", "v1", None),
    (
        "m,a=x v=1\nm a=1",
        "v3",
        "column 3: field 'a' of measurement 'm' is a float here but a tag on line 1; InfluxDB 3 keeps",
    ),
    ("m a=1\nm,a=x v=1", "v3", "column 1: tag 'a' of measurement 'm' is a tag here but a float on line 1"),
    ("m,a=x v=1\nm a=1", "v2", None),
    (
        "m,t=" + "x" * 65_531 + " v=1",
        "v1",
        "the series key (measurement and tags) with field key 'v' is 65540 bytes; InfluxDB allows at most "
        "65535",
    ),
    ("m,t=" + "x" * 65_531 + " v=1", "v2", "is 65540 bytes; InfluxDB allows at most 65535 (max key length)"),
    ("m,t=" + "x" * 65_531 + " v=1", "v3", None),
    ("m,t=" + "x" * 65_526 + " v=1", "v2", None),
]


@pytest.mark.parametrize(
    ("text", "api", "problem"), API_RULES, ids=[f"{r[1]}:{r[0][:20]}" for r in API_RULES]
)
def test_rules_of_the_target_api(text: str, api: str, problem: str | None) -> None:
    errors = validate(text, api=api)
    if problem is None:
        assert errors == []
    else:
        (error,) = errors
        assert problem in error.message


def test_an_unknown_api_is_refused() -> None:
    with pytest.raises(ValueError, match="api 'v4' is not one of v2, v1, v3"):
        validate("m v=1", api="v4")


# (text, [(line, message)])
TYPE_CONFLICTS = [
    (
        'm v=1i\n# c\nm v=1.5\nm v="x"\nm v=2i\nm v=true',
        [
            (3, "column 3: field 'v' of measurement 'm' is a float here but an integer on line 1"),
            (4, "column 3: field 'v' of measurement 'm' is a string here but an integer on line 1"),
            (6, "column 3: field 'v' of measurement 'm' is a boolean here but an integer on line 1"),
        ],
    ),
    ("m v=1i\nother v=1.5\nm w=1.5", []),  # another measurement, another field
    (
        "m v=1u\nm v=1i",
        [(2, "column 3: field 'v' of measurement 'm' is an integer here but an unsigned integer")],
    ),
    (
        'm,t=a x=1,s="a\nb"\nm,t=b s=1',
        [(3, "column 7: field 's' of measurement 'm' is a float here but a string")],
    ),
]


@pytest.mark.parametrize(("text", "errors"), TYPE_CONFLICTS)
def test_field_type_conflicts_name_both_lines(text: str, errors: list[tuple[int, str]]) -> None:
    found = _errors(text)
    assert [line for line, _ in found] == [line for line, _ in errors]
    for (_, message), (_, expected) in zip(found, errors, strict=True):
        assert message.startswith(expected)
        assert message.endswith("; InfluxDB rejects a write that gives one field two types")


def test_type_conflicts_across_inputs_name_both_inputs() -> None:
    decoder = Decoder()
    assert list(decoder.entries("m v=1i", source="file a.lp")) == [(1, "m v=1i", None)]
    assert decoder.check_entry("m v=1.5", source="records", number=3) == (
        "field 'v' of measurement 'm' is a float here but an integer in file a.lp, line 1; "
        "InfluxDB rejects a write that gives one field two types"
    )
    ((_, _, error),) = decoder.entries("\nm v=2i\nm v=true", source="XCom of t", errors_only=True)
    assert error is not None and error.line == 3
    assert "is a boolean here but an integer in file a.lp, line 1" in error.message


def test_type_tracking_stops_at_its_limit_and_says_so() -> None:
    decoder = Decoder(types=FieldTypes(limit=2))
    text = "m a=1i,b=1i\nm c=1i\nm a=1.5\nm c=1.5"
    assert [e.line for e in decoder.entries(text, errors_only=True)] == [3]
    assert decoder.notes == [
        "field types were tracked for the first 2 measurement/field pairs only; type conflicts among "
        "later pairs are left to the server"
    ]
    with pytest.warns(UserWarning, match="tracked for the first 100000 measurement/field pairs only"):
        validate("\n".join(f"m f{i}=1i" for i in range(100_001)))


DUPLICATES = [
    ("m a=1,b=2,a=3", "column 11: duplicate field key 'a'; InfluxDB would keep only its last value"),
    ("m,t=1,t=2 v=1", "column 7: duplicate tag key 't'"),
    ("m a\\ b=1,a\\ b=2", "column 10: duplicate field key 'a b'"),
]


@pytest.mark.parametrize(("text", "message"), DUPLICATES)
def test_duplicate_keys_in_a_line(text: str, message: str) -> None:
    (error,) = validate(text)
    assert error.message.startswith(message)


DUPLICATE_RECORDS = [
    ({"fields": {1: 1.0, "1": 2.0}}, "record 0: field '1': field key 1 and '1' are both written as 1"),
    (
        {"tags": {1: "a", "1": "b"}, "fields": {"v": 1}},
        "record 0: tag '1': tag key 1 and '1' are both written",
    ),
]


@pytest.mark.parametrize(("record", "message"), DUPLICATE_RECORDS)
def test_duplicate_keys_in_a_record(record: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordError) as caught:
        encode_record({"measurement": "m", **record})
    assert str(caught.value).startswith(message)


def test_unsigned_records_are_refused_for_v1() -> None:
    line = encode_record({"measurement": "m", "fields": {"n": Unsigned(3)}})
    assert Decoder(api="v1").check_entry(line, source="records", number=1) == (
        "unsigned integer '3u' for field 'n': InfluxDB 1.x has no unsigned type (api='v1'); write 3i, or "
        "a float"
    )


def test_the_entry_limits_are_the_write_clients() -> None:
    from influxdb_write.client.constants import APIS, DEFAULT_MAX_BATCH_BYTES_BY_API
    from influxdb_write.line_protocol.limits import MAX_ENTRY_BYTES_BY_API

    assert MAX_ENTRY_BYTES_BY_API == DEFAULT_MAX_BATCH_BYTES_BY_API
    assert set(MAX_ENTRY_BYTES_BY_API) == set(APIS)
    for api, limit in MAX_ENTRY_BYTES_BY_API.items():
        assert Decoder(api=api).max_entry_bytes == limit
