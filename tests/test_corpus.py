"""InfluxData's public line-protocol corpus, run in full and in sorted order.

Every ``encode`` case must produce the same point (values compared, not float
spelling); ``validate`` must agree with every ``decode`` case on valid versus
invalid, and ``parse_lines`` must read every valid case back to the same points.
Where a real InfluxDB server disagrees with the corpus the server wins; each such
case must be explained by one of the documented deviations below (see
docs/line-protocol.md), and each deviation must actually occur.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from influxdb_write.line_protocol import (
    RecordError,
    Unsigned,
    encode_record,
    parse_lines,
    validate,
)

CORPUS = Path(__file__).resolve().parent / "data" / "line-protocol-corpus" / "corpus.json"
PRECISIONS = {"1ns": "ns", "1µs": "us", "1ms": "ms", "1s": "s"}

RESERVED_TAG = re.compile(r"(?:^|[^\\]),(?:_measurement|_field|time)=")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")

# Each deviation: (reason, what the server says about such text: valid or not).
SERVER_REJECTS_RESERVED_TAG = "InfluxDB rejects the tag keys _measurement, _field, time"
SERVER_REJECTS_CR = "InfluxDB ends lines at LF only and reads CR as part of a value"
SERVER_ACCEPTS_CONTROL = "InfluxDB accepts control characters in names, keys, comments"


def _load() -> dict[str, Any]:
    if not CORPUS.exists():
        pytest.fail(f"the corpus is missing at {CORPUS}; it ships with the repository")
    return json.loads(CORPUS.read_text(encoding="utf-8"))


_corpus = _load()


def _text(value: Any) -> str | bytes:
    return base64.b64decode(value["binary"]) if isinstance(value, dict) else value


def _field(value: dict[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    return {"int": int, "uint": Unsigned, "float": float, "bool": bool, "string": str}[kind](raw)


def _decode_deviation(text: str | bytes, corpus_valid: bool) -> str | None:
    """Why a real server judges ``text`` differently from the corpus, if it does."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if corpus_valid and RESERVED_TAG.search(text):
        return SERVER_REJECTS_RESERVED_TAG
    if corpus_valid and "\r" in text:
        return SERVER_REJECTS_CR
    if not corpus_valid and CONTROL.search(text):
        return SERVER_ACCEPTS_CONTROL
    return None


DECODE = sorted(_corpus["decode"].items())
ENCODE = sorted(_corpus["encode"].items())


def test_corpus_sizes() -> None:
    assert len(DECODE) == 6615
    assert len(ENCODE) == 115


def test_validate_agrees_with_every_decode_case() -> None:
    disagreements: list[str] = []
    deviations: Counter[str] = Counter()
    for key, case in DECODE:
        text = _text(case["input"]["text"])
        precision = PRECISIONS[case["input"]["precision"]]
        expected_valid = "result" in case["output"]
        errors = validate(text, precision=precision)
        if (not errors) == expected_valid:
            continue
        reason = _decode_deviation(text, expected_valid)
        if reason is None:
            disagreements.append(f"{key}: {text!r} corpus valid={expected_valid} errors={errors}")
        else:
            deviations[reason] += 1
    assert disagreements == []
    # Each documented deviation is real: the corpus does contain such cases.
    assert deviations.keys() == {
        SERVER_REJECTS_RESERVED_TAG,
        SERVER_REJECTS_CR,
        SERVER_ACCEPTS_CONTROL,
    }


def _expected_points(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    points = []
    for point in case["output"]["result"]:
        tags = {_text(tag["key"]): _text(tag["value"]) for tag in point["tags"]}
        fields = {_text(field["key"]): _field(field["value"]) for field in point["fields"]}
        points.append((_text(point["name"]), tags, fields, point["time"]))
    return points


def _values_equal(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    return bool(left == right)


def _same_fields(got: dict[str, Any], want: dict[str, Any]) -> bool:
    return got.keys() == want.keys() and all(_values_equal(got[k], want[k]) for k in got)


def test_parse_reads_every_valid_decode_case_back() -> None:
    checked = 0
    for key, case in DECODE:
        text = _text(case["input"]["text"])
        if "result" not in case["output"] or _decode_deviation(text, True):
            continue
        precision = PRECISIONS[case["input"]["precision"]]
        unit = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}[precision]
        default = case["input"]["defaultTime"] // unit * unit
        got = [
            (line.measurement, line.tags, line.fields, default if line.time is None else line.time * unit)
            for line in parse_lines(text, precision=precision)
        ]
        want = _expected_points(case)
        assert len(got) == len(want), key
        for (gm, gt, gf, gtime), (wm, wt, wf, wtime) in zip(got, want, strict=True):
            assert (gm, gt, gtime) == (wm, wt, wtime), key
            assert _same_fields(gf, wf), (key, gf, wf)
        checked += 1
    assert checked > 350


def _record(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "measurement": _text(point["name"]),
        "tags": {_text(tag["key"]): _text(tag["value"]) for tag in point["tags"]},
        "fields": {_text(field["key"]): _field(field["value"]) for field in point["fields"]},
        "time": point["time"],
    }


def test_encode_matches_every_encode_case() -> None:
    omitted_empty_tags = 0
    for key, case in ENCODE:
        record = _record(case["input"]["point"])
        if "error" in case["output"]:
            # Deviation: the corpus refuses an empty tag value; we omit the tag,
            # which is how InfluxDB reads a tag that has no value.
            assert any(value == "" for value in record["tags"].values()), key
            line = encode_record(record)
            expected_tags = {k: v for k, v in record["tags"].items() if v != ""}
            (parsed,) = parse_lines(line)
            assert parsed.tags == expected_tags
            omitted_empty_tags += 1
            continue
        line = encode_record(record)
        (got,) = parse_lines(line)
        (want,) = parse_lines(case["output"]["result"])
        assert got.measurement == want.measurement, key
        assert (got.tags, got.time) == (want.tags, want.time), key
        assert _same_fields(got.fields, want.fields), key
        assert list(got.fields) == list(want.fields), key
        if not any(isinstance(v, float) for v in record["fields"].values()):
            assert line == case["output"]["result"], key
    assert omitted_empty_tags == 1


def test_encode_refuses_what_the_corpus_cannot_read() -> None:
    with pytest.raises(RecordError):
        encode_record({"measurement": "m", "tags": {"t": "a\\"}, "fields": {"v": 1}})
