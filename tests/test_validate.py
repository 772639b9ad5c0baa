"""Table tests of ``validate``: what a real InfluxDB server accepts and rejects.

Rows marked (influxd 1.6.7) were checked against the real server; see
docs/line-protocol.md for the study.
"""

from __future__ import annotations

import pytest

from influxdb_write.line_protocol import InvalidLineError, parse_lines, validate

VALID = [
    "m v=1",
    'm,t=a v=1i,s="x",b=t,u=5u 1700000000000000000',
    "",
    "   ",
    "# comment",
    "#\x15 comment with a control character",  # (influxd 1.6.7)
    "\tm v=1",  # leading tab skipped (influxd 1.6.7)
    "m v=1.",  # (influxd 1.6.7)
    "m v=.5",
    "m v=1e+16",
    "m v=1E5",
    "m v=-0",
    "m v=01i",
    "m v=9223372036854775807i",
    "m v=-9223372036854775808i",
    "m v=1 -1",
    "m v=1 01",
    "m v=1 9223372036854775806",  # the largest storable time (influxd 1.6.7)
    "m v=1 -9223372036854775806",
    "m v=1  ",
    "m  v=1",
    "m,_f=a _field=1",
    "m,t=a\tb v=1",  # control characters are ordinary (influxd 1.6.7)
    "m\r v=1",
    'm s="a\nb" 1',  # raw newline inside a string
    "m,t=\\\\ east v=1",  # tag value '\ east'
    'm s="\\n"',  # backslash-n kept as written
    "m v=True,w=FALSE",
]

INVALID = [
    ("m", "expected a space and then fields"),
    ("m v=1,", "expected field key"),
    ("m,t=a, v=1", "expected tag key after comma"),
    ("m,t=a,t=b v=1", "duplicate tag key 't'"),
    ("m v=1,v=2", "duplicate field key 'v'"),  # influxd 1.6.7 keeps the last one, without a word
    ("m,time=a v=1", "tag key 'time' is reserved"),
    ("m,_field=a v=1", "tag key '_field' is reserved"),
    ("m,_measurement=a v=1", "tag key '_measurement' is reserved"),
    ("m time=1", "field key 'time' is reserved"),
    ("m v=-inf", "invalid number"),
    ("m v=NaN", "has no known type"),
    ("m v=0x1p3", "invalid number"),
    ("m v=1e400", "invalid number"),
    ("m v=1_0", "invalid number"),
    ("m v=9223372036854775808i", "invalid integer"),
    ("m v=+1i", "has no known type"),
    ("m v=-1u", "invalid unsigned"),
    ("m v=18446744073709551616u", "invalid unsigned"),
    ("m v=1 9223372036854775807", "invalid timestamp"),
    ("m v=1 1.5", "invalid timestamp"),
    ("m v=tRUE", "invalid boolean"),
    ("m v=1 x", "unexpected text 'x' after the fields"),
    ("m v=1 5 6", "unexpected text '6' after the timestamp"),
    ('m s="open', "missing closing quote"),
    ("m v=1\r", "convert CRLF line endings to LF"),
    ("\r", "expected a space and then fields"),
    ("m,t= v=1", "expected tag value"),
    ("m,=a v=1", "empty tag key"),
    ("m v=", "expected value for field 'v'"),
]


@pytest.mark.parametrize("text", VALID)
def test_valid(text: str) -> None:
    assert validate(text) == []


@pytest.mark.parametrize(("text", "problem"), INVALID, ids=[row[0] for row in INVALID])
def test_invalid(text: str, problem: str) -> None:
    (error,) = validate(text)
    assert error.line == 1
    assert problem in error.message
    assert error.text == text.split("\n")[0]
    with pytest.raises(InvalidLineError, match="line 1"):
        list(parse_lines(text))


def test_every_bad_line_is_reported_with_its_number() -> None:
    text = 'm v=1\nbad\n# c\nm s="a\nb" 1\nm v=x\nm v=2\n'
    errors = validate(text)
    assert [(e.line, e.text) for e in errors] == [(2, "bad"), (6, "m v=x")]
    assert "column 5" in errors[1].message


def test_unterminated_string_runs_to_the_end() -> None:
    errors = validate('m v=1\nm s="open\nm v=2\nm v=3')
    assert [(e.line, e.text) for e in errors] == [(2, 'm s="open')]


def test_precision_sets_the_time_range() -> None:
    assert validate("m v=1 9223372036", precision="s") == []
    (error,) = validate("m v=1 9223372037", precision="s")
    assert "invalid timestamp" in error.message


def test_bytes_that_are_not_utf8_are_reported_per_line() -> None:
    errors = validate(b"m v=1\nm,t=\xff v=1\nm v=2")
    assert [(e.line, e.message.split(";")[0]) for e in errors] == [
        (2, "column 5: invalid UTF-8 byte 0xff at byte 10 of the input")
    ]


def test_parse_reads_typed_values() -> None:
    (line,) = parse_lines('m,t=a\\ b i=-1i,u=2u,f=1.5,b=F,s="q\\"\\\\" 7', precision="s")
    assert line.tags == {"t": "a b"}
    assert line.fields == {"i": -1, "u": 2, "f": 1.5, "b": False, "s": 'q"\\'}
    assert type(line.fields["u"]).__name__ == "Unsigned"
    assert line.time == 7


SERVER_KILLERS = [
    '0 \\\\="="',  # crashes influxd 1.6.7 (panic in models.(*point).StringValue)
    'm \\0=","=3,"="',  # crashes influxd 1.6.7
    '" \\\\="=i\\="',  # influxd 1.6.7 accepts it into the engine, then answers 500
    "00,0=0," * 50 + "0=0",  # 100 commas and no fields: a recovered panic in scanTags
]


@pytest.mark.parametrize("text", SERVER_KILLERS)
def test_inputs_that_break_the_server_are_rejected(text: str) -> None:
    assert validate(text) != []
