"""The client against hostile servers and interrupts: nothing lost, nothing hung, every report true.

Each test attacks one promise with a real loopback server of the tests' own
(tests/fault_server.py): redirects, a server that trickles its answer a byte at
a time, one that reads the request and never answers, one that echoes the
token, a self-signed TLS server, and real SIGINT/SIGTERM sent to a writing
process. Timings are asserted with generous bounds, never exact sleeps.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from fault_server import FaultServer, Reply, Sleeps
from influxdb_write.client import (
    AuthError,
    ConnectError,
    InfluxDBWriteClient,
    InfluxDBWriteError,
    InputError,
    NotFoundError,
    RedirectError,
    RejectedPointsError,
    RequestTooLargeError,
    RetriesExhaustedError,
    RetryPolicy,
    WriteHTTPError,
)
from servers import free_port

TOKEN = "h0stile-T0KEN-5ecret"
LINES = [f"m,host=h{i} v={i}i {i}" for i in range(1, 11)]
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def client(server: FaultServer, **options: object) -> InfluxDBWriteClient:
    options.setdefault("sleep", Sleeps())
    options.setdefault("rand", lambda: 0.0)
    return InfluxDBWriteClient(server.url, TOKEN, org="o", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_nothing_counts_as_written(fault: FaultServer, status: int) -> None:
    target = f"{fault.url}/elsewhere/api/v2/write"
    fault.will(Reply(204), Reply(status, "", {"Location": target}))
    with pytest.raises(RedirectError) as caught:
        client(fault, max_batch_lines=4).write("b", LINES)
    error = caught.value
    assert error.location == target and error.status == status
    assert error.lines_written == 4 and error.unknown_lines is None
    assert f"redirected the write of lines 5-8 to {target}" in str(error)
    assert "Set the connection's URL to the final address" in str(error)
    assert [r.method for r in fault.received] == ["POST", "POST"]  # never followed with a GET


def test_a_redirect_loop_and_the_connection_check(fault: FaultServer) -> None:
    fault.will(Reply(302, "", {"Location": f"{fault.url}/api/v2/write"}))
    with pytest.raises(RedirectError):
        client(fault).write("b", LINES)
    with pytest.raises(RedirectError, match="redirected the check"):
        client(fault).check_write("b")
    assert {r.method for r in fault.received} == {"POST"}


def test_only_2xx_counts_as_written(fault: FaultServer) -> None:
    fault.will(Reply(200), Reply(201), Reply(202), Reply(204))
    result = client(fault, max_batch_lines=3).write("b", LINES)
    assert result.lines == 10 and result.batches == 4


def test_a_trickling_server_cannot_hold_an_attempt(fault: FaultServer) -> None:
    fault.will(("trickle", 0.2, Reply(204, "x" * 200)))
    sleeps = Sleeps()
    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault, sleep=sleeps, timeout=(1.0, 1.0), retry=RetryPolicy(max_retries=1)).write("b", LINES)
    took = time.monotonic() - started
    assert took < 10, f"two attempts of 2 s each took {took:.1f}s"
    assert "no complete answer within 2.0s" in str(caught.value)
    assert caught.value.unknown_lines == (1, 10) and caught.value.attempts == 2


def test_the_retry_budget_includes_the_attempt_in_flight(fault: FaultServer) -> None:
    fault.will(("trickle", 0.2, Reply(204, "x" * 200)))
    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError):
        client(fault, timeout=(10.0, 60.0), retry=RetryPolicy(max_elapsed=2.0)).write("b", LINES)
    assert time.monotonic() - started < 8


def test_written_then_timed_out_is_reported_as_unknown(fault: FaultServer) -> None:
    fault.will(Reply(204), "hang")
    with pytest.raises(RetriesExhaustedError) as caught:
        writer = client(fault, max_batch_lines=5, timeout=(1.0, 0.5), retry=RetryPolicy(max_retries=0))
        writer.write("b", LINES)
    error = caught.value
    assert fault.received[1].lines == LINES[5:]  # the server did receive the second batch
    assert error.lines_written == 5 and error.unknown_lines == (6, 10)
    assert isinstance(error.__cause__, requests.Timeout)
    message = str(error)
    assert "5 line(s) of earlier batches were confirmed written" in message
    assert "lines 6-10 were sent but got no answer, so whether the server wrote them is unknown" in message
    assert "re-sending them is safe when every line has a timestamp" in message


@pytest.mark.parametrize(
    ("reply", "unknown"),
    [
        ("drop", (1, 10)),
        (Reply(500, '{"message":"internal error"}'), (1, 10)),
        (Reply(502, "<html>bad gateway</html>", {"Content-Type": "text/html"}), (1, 10)),
        (Reply(503, '{"message":"unavailable"}'), None),
        (Reply(429, '{"message":"slow down"}'), None),
    ],
    ids=["dropped", "500", "502", "503", "429"],
)
def test_fate_after_retryable_failures(
    fault: FaultServer, reply: Reply | str, unknown: tuple[int, int] | None
) -> None:
    fault.will(reply)
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault, retry=RetryPolicy(max_retries=1)).write("b", LINES)
    assert caught.value.unknown_lines == unknown
    if unknown is None:
        assert "none of lines 1-10 or later lines were written" in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "error", "rest"),
    [
        (
            Reply(401, '{"message":"unauthorized access"}'),
            AuthError,
            "none of lines 5-8 or later lines were written",
        ),
        (Reply(403, '{"message":"forbidden"}'), AuthError, "none of lines 5-8 or later lines were written"),
        (Reply(404, '{"message":"bucket \\"b\\" not found"}'), NotFoundError, "none of lines 5-8"),
        (
            Reply(404, "404 page not found", {"Content-Type": "text/plain"}),
            NotFoundError,
            "none of lines 5-8",
        ),
        (
            Reply(413, "too large", {"Content-Type": "text/plain"}),
            RequestTooLargeError,
            "none of line 5 or later",
        ),
        (
            Reply(422, '{"message":"partial write: points beyond retention policy dropped=1"}'),
            RejectedPointsError,
            "the server may have written the other lines of lines 5-8; later lines were not sent",
        ),
        (Reply(418, '{"message":"teapot"}'), WriteHTTPError, "none of lines 5-8 or later lines were written"),
        (
            Reply(302, "", {"Location": "http://elsewhere/"}),
            RedirectError,
            "none of lines 5-8 or later lines",
        ),
    ],
    ids=["401", "403", "404", "404-path", "413", "422", "418", "302"],
)
def test_every_error_after_confirmed_batches_says_how_many_lines_were_written(
    fault: FaultServer, reply: Reply, error: type[InfluxDBWriteError], rest: str
) -> None:
    """The first batch is confirmed (204), the second refused: the message says so,
    in the words of every other error, whatever the status."""
    fault.will(Reply(204), reply)
    with pytest.raises(error) as caught:
        client(fault, max_batch_lines=4).write("b", LINES)
    assert caught.value.lines_written == 4 and caught.value.unknown_lines is None
    assert f"4 line(s) of earlier batches were confirmed written; {rest}" in str(caught.value)


def test_a_refusal_after_an_unanswered_attempt_leaves_the_batch_unknown(fault: FaultServer) -> None:
    """A 500 may have written the batch; the 401 of its retry does not undo that."""
    fault.will(
        Reply(204), Reply(500, '{"message":"internal error"}'), Reply(401, '{"message":"unauthorized"}')
    )
    with pytest.raises(AuthError) as caught:
        client(fault, max_batch_lines=5).write("b", LINES)
    assert caught.value.lines_written == 5 and caught.value.unknown_lines == (6, 10)
    assert (
        "5 line(s) of earlier batches were confirmed written; lines 6-10 were sent but got no answer"
        in str(caught.value)
    )


def test_nothing_listening_is_certainly_not_written() -> None:
    writer = InfluxDBWriteClient(f"http://127.0.0.1:{free_port()}", TOKEN, retry=RetryPolicy(max_retries=0))
    with pytest.raises(RetriesExhaustedError, match="could not connect") as caught:
        writer.write("b", LINES)
    assert caught.value.unknown_lines is None and caught.value.lines_written == 0


@pytest.mark.parametrize("header", ["²", "1.5", "-1", "soon", "Wed, 99 Oct 2015 07:28:00 GMT", "9" * 400])
def test_an_unreadable_retry_after_is_ignored_with_a_warning(
    fault: FaultServer, header: str, caplog: pytest.LogCaptureFixture
) -> None:
    fault.will(Reply(503, "", {"Retry-After": header}), Reply(204))
    sleeps = Sleeps()
    result = client(fault, sleep=sleeps, retry=RetryPolicy(backoff=1.0, jitter=0.0)).write("b", LINES)
    assert result.lines == 10 and result.retries == 1
    if header.isascii() and header.isdigit():
        assert sleeps == [300.0]  # a huge delta-seconds is valid, and capped
    else:
        assert sleeps == [1.0]
        assert any("Ignoring unreadable Retry-After" in r.getMessage() for r in caplog.records)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        [
            *"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost".split(),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(self_signed: tuple[str, str]) -> Iterator[FaultServer]:
    server = FaultServer(https=self_signed)
    yield server
    server.close()


def test_a_refused_certificate_is_not_retried(tls_server: FaultServer, self_signed: tuple[str, str]) -> None:
    sleeps = Sleeps()
    started = time.monotonic()
    with pytest.raises(ConnectError) as caught:
        client(tls_server, sleep=sleeps).write("b", LINES)
    assert sleeps == [] and time.monotonic() - started < 5
    assert "the server's certificate was refused (self-signed certificate)" in str(caught.value)
    assert "set ca_cert to the CA that signed the server's certificate" in str(caught.value)
    assert "none of lines 1-10 or later lines were written" in str(caught.value)
    assert isinstance(caught.value.__cause__, requests.exceptions.SSLError)
    with pytest.raises(ConnectError, match="set ca_cert"):
        client(tls_server).check_write("b")
    # The server's own certificate, given as the CA, is trusted.
    assert "accepts writes" in client(tls_server, ca_cert=self_signed[0]).check_write("b")


def test_verification_off_warns_once_per_client(
    tls_server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    writer = client(tls_server, verify=False)
    assert writer.write("b", LINES).lines == 10
    assert writer.write("b", LINES).lines == 10
    ours = [r for r in caplog.records if "verification is off" in r.getMessage()]
    assert len(ours) == 1 and tls_server.url in ours[0].getMessage()


@pytest.mark.parametrize("status", [400, 404, 500])
def test_a_server_echoing_the_token_never_shows_it(
    fault: FaultServer, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fault.will(("echo", status))
    shown: list[str] = []
    for writer in (
        client(fault, retry=RetryPolicy(max_retries=1)),
        InfluxDBWriteClient(
            fault.url, api="v1", username="u", password=TOKEN, retry=RetryPolicy(max_retries=1), sleep=print
        ),
    ):
        with pytest.raises(InfluxDBWriteError) as caught:
            writer.write("b", LINES)
        error: BaseException | None = caught.value
        while error is not None:
            shown += [str(error), repr(error), str(getattr(error, "server_message", ""))]
            error = error.__cause__ or error.__context__
    shown += [record.getMessage() for record in caplog.records]
    assert any("Authorization: Token ***" in text for text in shown), shown[:3]
    assert any("Authorization: Basic ***" in text for text in shown)
    assert not [text for text in shown if TOKEN in text or "dTpoMHN0aWxl" in text]


def test_every_failure_of_write_is_in_the_error_family(fault: FaultServer) -> None:
    fault.will(Reply(204))
    writer = client(fault)
    with pytest.raises(InputError, match="precision 'h'"):
        writer.write("b", LINES, precision="h")
    with pytest.raises(InputError, match="bucket is empty"):
        writer.write("", LINES)
    with pytest.raises(InputError, match="cannot write items of type int"):
        writer.write("b", [1, 2])
    with pytest.raises(InputError, match="field 'v'"):
        writer.write("b", [{"measurement": "m", "fields": {"v": float("nan")}}])
    assert fault.received == []
    for bad in ("line\nbreak", "tab\there", "naïve✓"):
        with pytest.raises(ValueError, match="cannot be sent in an HTTP header") as refused:
            InfluxDBWriteClient(fault.url, bad)
        assert bad not in str(refused.value)


def test_abort_from_another_thread_ends_the_write_at_once(fault: FaultServer) -> None:
    import threading

    fault.will(Reply(204), "hang")
    writer = client(fault, max_batch_lines=2, timeout=(5.0, 60.0))
    threading.Timer(1.0, writer.abort).start()
    started = time.monotonic()
    with pytest.raises(InfluxDBWriteError, match="the write was aborted") as caught:
        writer.write("b", LINES)
    assert time.monotonic() - started < 5
    assert caught.value.lines_written == 2 and caught.value.unknown_lines == (3, 4)
    assert len(fault.received) == 2  # no batch started after the abort


WRITER = """
import logging, signal, sys
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
if sys.argv[2] == "term":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # as Airflow's task runner does
from influxdb_write.client import InfluxDBWriteClient
lines = [f"m v={i}i {i}" for i in range(1, 201)]
InfluxDBWriteClient(sys.argv[1], "t", max_batch_lines=int(sys.argv[3]), timeout=(5, 120)).write("b", lines)
"""


@pytest.mark.parametrize(
    ("how", "batch", "script", "expected"),
    [
        ("int", 10, (Reply(204), Reply(204), "hang"), "20 line(s) confirmed written; lines 21-30 were sent"),
        ("term", 10, (Reply(204), Reply(204), "hang"), "20 line(s) confirmed written; lines 21-30 were sent"),
        (
            "int",
            10,
            (Reply(204), Reply(204), Reply(503, "", {"Retry-After": "99"})),
            "no request was waiting",
        ),
        # One batch: the signal comes while the writer waits for its sending thread to finish.
        ("int", 1000, ("hang",), "0 line(s) confirmed written; lines 1-200 were sent without an answer"),
    ],
    ids=["sigint-in-flight", "sigterm-in-flight", "sigint-in-retry-wait", "sigint-in-last-batch"],
)
def test_a_signal_abandons_the_write_and_propagates(
    fault: FaultServer, how: str, batch: int, script: tuple[Reply | str, ...], expected: str
) -> None:
    fault.will(*script)
    requests_before_signal = min(len(script), 3)
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), fault.url, how, str(batch)],
        env={**os.environ, "PYTHONPATH": str(PLUGINS)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(fault.received) < requests_before_signal and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(fault.received) == requests_before_signal, "the writer never reached its last request"
        time.sleep(0.3)
        signalled = time.monotonic()
        process.send_signal(signal.SIGINT if how == "int" else signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
        took = time.monotonic() - signalled
    finally:
        process.kill()
    assert took < 5, f"the writer took {took:.1f}s to stop"
    if how == "int":
        assert "KeyboardInterrupt" in stderr and process.returncode != 0
    else:
        assert process.returncode == 143
    assert "Write abandoned" in stderr and expected in stderr
    assert "RetriesExhaustedError" not in stderr
    assert len(fault.received) == requests_before_signal  # no batch was started after the signal


def test_a_status_line_then_headers_trickled_forever_is_no_confirmation(fault: FaultServer) -> None:
    """The deadline cuts the headers short; http.client would read that end as the
    end of the headers, and the write used to be reported as a success."""
    fault.will(Reply(204), ("head_trickle", 0.05, Reply(204)))
    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault, max_batch_lines=5, timeout=(0.5, 0.5), retry=RetryPolicy(max_retries=1)).write(
            "b", LINES
        )
    assert time.monotonic() - started < 8
    error = caught.value
    assert error.lines_written == 5 and error.unknown_lines == (6, 10) and error.attempts == 2
    assert "no complete answer within 1.0s" in str(error)
    assert "lines 6-10 were sent but got no answer, so whether the server wrote them is unknown" in str(error)
    assert len(fault.received) == 3  # the cut answer was retried, as a lost answer is


CUT_ANSWERS = [
    ("headers without their end", b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.8\r\n"),
    ("status line only", b"HTTP/1.1 204 No Content\r\n"),
    ("body shorter than its length", b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ok": '),
]


@pytest.mark.parametrize("raw", [raw for _, raw in CUT_ANSWERS], ids=[name for name, _ in CUT_ANSWERS])
def test_an_answer_cut_by_the_connection_is_no_confirmation(fault: FaultServer, raw: bytes) -> None:
    fault.will(Reply(204), ("cut", raw))
    with pytest.raises(RetriesExhaustedError) as caught:
        client(fault, max_batch_lines=5, retry=RetryPolicy(max_retries=0)).write("b", LINES)
    error = caught.value
    assert error.lines_written == 5 and error.unknown_lines == (6, 10)
    assert "the connection was dropped before a complete answer" in str(error)
    assert "whether the server wrote them is unknown" in str(error)
