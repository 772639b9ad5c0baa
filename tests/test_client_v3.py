"""InfluxDB 3 and Cloud as targets: the real write contracts, modelled from the server's sources.

No InfluxDB 3 server runs here, so :class:`InfluxDB3` answers as the documented
versions do, from influxdb3_server/src/http.rs and influxdb3_types/src/write.rs
(InfluxDB 3 Core/Enterprise) and core/mutable_batch_lp/src/lib.rs (the per-line
list of Cloud Serverless/Dedicated and InfluxDB 3's v2 endpoint). Lines are
judged by this package's validator, which agrees with a real influxd on the
whole corpus. Each test asserts the exact request and the exact per-line report.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass

import pytest
import requests

from fault_server import FaultServer, Received, Reply
from influxdb_write.client import (
    AuthError,
    InfluxDBWriteClient,
    NotFoundError,
    PartialWriteError,
    RejectedLine,
)
from influxdb_write.line_protocol import validate

TOKEN = "apiv3_t0ken"
FULL_NAMES = ("auto", "second", "millisecond", "microsecond", "nanosecond")
SHORT_FORMS = {
    "s": "second",
    "ms": "millisecond",
    "us": "microsecond",
    "u": "microsecond",
    "ns": "nanosecond",
}
MAX_REQUEST = 10_485_760  # --max-http-request-size default


@dataclass
class InfluxDB3:
    """``/api/v3/write_lp`` of InfluxDB 3 Core/Enterprise, as a fault-server step.

    ``short_precision``: newer builds alias ``s``/``ms``/``us``/``ns``; released
    versions refuse them. ``strict_message``: the ``error`` of an
    ``accept_partial=false`` rejection ("line protocol parsing error" from Core
    3.10 on, "parsing failed for write_lp endpoint" before).
    """

    short_precision: bool = False
    strict_message: str = "line protocol parsing error"

    def __call__(self, request: Received) -> Reply:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Basic":
            token = base64.b64decode(token).decode().rpartition(":")[2]
        elif scheme not in ("Token", "Bearer"):
            token = ""
        if token != TOKEN:
            return Reply(401, "")
        precision = request.query.get("precision", "auto")
        if precision not in FULL_NAMES and not (self.short_precision and precision in SHORT_FORMS):
            return Reply(
                400,
                f"serde error: unknown variant `{precision}`, expected one of "
                "`auto`, `second`, `millisecond`, `microsecond`, `nanosecond`",
                {"Content-Type": "text/plain"},
            )
        if len(request.body.encode()) > MAX_REQUEST:
            return Reply(
                413, f"max request size ({MAX_REQUEST} bytes) exceeded", {"Content-Type": "text/plain"}
            )
        if not request.body:
            return Reply(400, "incoming write was empty", {"Content-Type": "text/plain"})
        errors = [
            {"error_message": found[0].message, "line_number": number, "original_line": line[:20]}
            for number, line in enumerate(request.lines, 1)
            if (found := validate(line))
        ]
        if not errors:
            return Reply(204)
        if request.query.get("accept_partial", "true") == "false":
            return Reply(400, json.dumps({"error": self.strict_message, "data": errors[0]}))
        return Reply(400, json.dumps({"error": "partial write of line protocol occurred", "data": errors}))


def serverless(request: Received) -> Reply:
    """``/api/v2/write`` of Cloud Serverless and Dedicated: the first rejected line, and
    up to 100 errors listed one per line in the message."""
    bad = [
        (number, found[0].message)
        for number, line in enumerate(request.lines, 1)
        if (found := validate(line))
    ]
    if not bad:
        return Reply(204)
    listed = "\n".join(f"error parsing line {number} (1-based): {why}" for number, why in bad[:100])
    return Reply(
        400,
        json.dumps(
            {"code": "invalid", "line": bad[0][0], "message": f"errors encountered on line(s):\n{listed}"}
        ),
    )


LINES = [f"cpu,host=h{i} usage={i}.5 {1_700_000_000 + i}" for i in range(1, 9)]
BAD = {3: "cpu,host=h3 usage= 1700000003", 7: "cpu,host=h7 usage=1x 1700000007"}


def with_bad_lines() -> list[str]:
    return [BAD.get(number, line) for number, line in enumerate(LINES, 1)]


def v3(server: FaultServer, **options: object) -> InfluxDBWriteClient:
    return InfluxDBWriteClient(server.url, TOKEN, api="v3", sleep=lambda _: None, **options)  # type: ignore[arg-type]


def test_v3_request_is_exactly_the_documented_one(fault: FaultServer) -> None:
    fault.will(InfluxDB3())
    result = v3(fault, accept_partial=False, no_sync=True).write("sensors", LINES, precision="s")
    (request,) = fault.received
    assert (request.method, request.path) == ("POST", "/api/v3/write_lp")
    assert request.query == {
        "db": "sensors",
        "precision": "second",
        "accept_partial": "false",
        "no_sync": "true",
    }
    assert request.headers["Authorization"] == f"Token {TOKEN}"
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert request.lines == LINES and result.lines == 8


@pytest.mark.parametrize(
    ("precision", "sent"),
    [("ns", "nanosecond"), ("us", "microsecond"), ("ms", "millisecond"), ("s", "second")],
)
def test_released_versions_get_the_full_precision_names(
    fault: FaultServer, precision: str, sent: str
) -> None:
    fault.will(InfluxDB3(short_precision=False))
    assert v3(fault).write("sensors", LINES[:1], precision=precision).lines == 1
    assert fault.received[0].query == {"db": "sensors", "precision": sent}
    # The model refuses the short form as released versions do.
    refused = requests.post(
        f"{fault.url}/api/v3/write_lp",
        params={"db": "sensors", "precision": precision},
        data=gzip.compress(LINES[0].encode()),
        headers={"Authorization": f"Token {TOKEN}", "Content-Encoding": "gzip"},
        timeout=5,
    )
    assert refused.status_code == 400 and f"unknown variant `{precision}`" in refused.text


def test_partial_write_names_each_rejected_line_in_the_whole_input(fault: FaultServer) -> None:
    fault.will(InfluxDB3())
    with pytest.raises(PartialWriteError) as caught:
        v3(fault, max_batch_lines=5).write("sensors", with_bad_lines(), precision="s")
    error = caught.value
    assert [r.line for r in error.rejected] == [3]  # the first batch failed, the second was not sent
    assert error.rejected[0].text == BAD[3] and "usage" in error.rejected[0].message
    assert "the server may also have written the valid lines of this batch" in str(error)
    fault.will(InfluxDB3())
    with pytest.raises(PartialWriteError) as caught:
        v3(fault, max_batch_lines=5).write("sensors", [*LINES[:5], *with_bad_lines()[5:]], precision="s")
    assert [(r.line, r.text) for r in caught.value.rejected] == [(7, BAD[7])]
    assert caught.value.lines_written == 5


@pytest.mark.parametrize("message", ["line protocol parsing error", "parsing failed for write_lp endpoint"])
def test_accept_partial_false_rejects_the_whole_batch(fault: FaultServer, message: str) -> None:
    fault.will(InfluxDB3(strict_message=message))
    with pytest.raises(PartialWriteError) as caught:
        v3(fault, accept_partial=False).write("sensors", with_bad_lines(), precision="s")
    assert [(r.line, r.text) for r in caught.value.rejected] == [(3, BAD[3])]
    assert "with accept_partial=false the server wrote none of this batch" in str(caught.value)


def test_cloud_serverless_lists_every_rejected_line(fault: FaultServer) -> None:
    fault.will(serverless)
    with pytest.raises(PartialWriteError) as caught:
        InfluxDBWriteClient(fault.url, TOKEN).write("sensors", with_bad_lines(), precision="s")
    assert [(r.line, r.text) for r in caught.value.rejected] == [(3, BAD[3]), (7, BAD[7])]
    assert all(isinstance(r, RejectedLine) and r.message for r in caught.value.rejected)


def test_influxdb3_v2_endpoint_without_line_data_keeps_the_message(fault: FaultServer) -> None:
    body = {
        "code": "invalid",
        "message": "write buffer error: line protocol parse failed: No fields were provided",
    }
    fault.will(Reply(400, json.dumps(body)))
    with pytest.raises(PartialWriteError) as caught:
        InfluxDBWriteClient(fault.url, TOKEN).write("sensors", with_bad_lines(), precision="s")
    assert caught.value.rejected == [] and "No fields were provided" in str(caught.value)


def test_default_batches_fit_a_default_influxdb3(fault: FaultServer) -> None:
    fault.will(InfluxDB3())
    lines = [
        f'cpu,host=h{i % 100} value={i}.25,text="{"x" * 80}" {1_700_000_000 + i}' for i in range(130_000)
    ]
    result = v3(fault).write("sensors", lines, precision="s")
    sizes = [len(request.body.encode()) for request in fault.received]
    assert result.lines == 130_000 and len(sizes) >= 3
    assert max(sizes) <= 10_000_000 < MAX_REQUEST


def test_check_write_on_v3_writes_no_point(fault: FaultServer) -> None:
    fault.will(InfluxDB3())
    assert "accepts writes to 'sensors'" in v3(fault).check_write("sensors")
    assert fault.received[0].body == "" and fault.received[0].query["db"] == "sensors"
    with pytest.raises(AuthError):
        InfluxDBWriteClient(fault.url, "wrong", api="v3").check_write("sensors")


@pytest.mark.parametrize("scheme", ["Bearer", "Basic"])
def test_the_model_takes_every_scheme_influxdb3_takes(fault: FaultServer, scheme: str) -> None:
    fault.will(InfluxDB3())
    secret = base64.b64encode(f"any:{TOKEN}".encode()).decode() if scheme == "Basic" else TOKEN
    answer = requests.post(
        f"{fault.url}/api/v3/write_lp",
        params={"db": "d", "precision": "second"},
        data=LINES[0],
        headers={"Authorization": f"{scheme} {secret}"},
        timeout=5,
    )
    assert answer.status_code == 204


def test_options_of_v3_only(fault: FaultServer) -> None:
    for api in ("v1", "v2"):
        with pytest.raises(ValueError, match="accept_partial and no_sync are options of api='v3'"):
            InfluxDBWriteClient(fault.url, TOKEN, api=api, accept_partial=False)
    assert InfluxDBWriteClient(fault.url, api="v1").max_batch_bytes == 24_000_000
    assert InfluxDBWriteClient(fault.url).max_batch_bytes == 40_000_000


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, "404 page not found\n", {"Content-Type": "text/plain"}),
        Reply(404, '{"code":"not found","message":"path not found"}'),
        Reply(404, "not found", {"Content-Type": "text/plain"}),
    ],
    ids=["influxdb1", "influxdb2", "influxdb3"],
)
def test_a_missing_write_endpoint_says_which_setting_to_change(fault: FaultServer, reply: Reply) -> None:
    fault.will(reply)
    with pytest.raises(NotFoundError) as caught:
        InfluxDBWriteClient(fault.url, TOKEN, org="o").write("b", LINES)
    message = str(caught.value)
    assert f"{fault.url} does not serve the v2 write API (/api/v2/write)" in message
    assert "set the api extra to what the server is: v1 for InfluxDB 1.x" in message
    assert "Check the bucket" not in message
    fault.will(Reply(404, '{"code":"not found","message":"bucket \\"b\\" not found"}'))
    with pytest.raises(NotFoundError, match=r'bucket "b" not found\. Check the bucket and org names'):
        InfluxDBWriteClient(fault.url, TOKEN, org="o").write("b", LINES)
