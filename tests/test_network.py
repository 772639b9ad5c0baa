"""Enterprise networks, for real: a private CA, mutual TLS and forward proxies.

influxd sits behind Debian's ``stunnel4`` (TLS with a certificate from a CA made
here; a second port also requires a client certificate) and is reached through
Debian's ``tinyproxy`` (with and without proxy authentication). Every write goes
through the hook, from an ``AIRFLOW_CONN_*`` connection, and what influxd stored
is read back. No secret (token, key password, proxy password, inline key, gateway
header) may appear in any error, log record or repr.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fault_server import FaultServer, Reply
from influxdb_write.client import (
    CertificateError,
    ConnectError,
    InfluxDBWriteClient,
    InfluxDBWriteError,
    ProxyError,
    RetryPolicy,
)
from influxdb_write.hooks import InfluxDBWriteHook
from network_servers import (
    CertificateAuthority,
    Issued,
    Proxy,
    Stunnel,
    start_stunnel,
    start_tinyproxy,
)
from servers import InfluxDB1

TOKEN = "network-token-never-shown-31c"
KEY_PASSWORD = "key-password-never-shown-8d2"
PROXY_PASSWORD = "proxy-password-never-shown-4e7"
HEADER_SECRET = "gateway-key-never-shown-9a1"
SECRETS = (TOKEN, KEY_PASSWORD, PROXY_PASSWORD, HEADER_SECRET)
LINES = "net,site=a v=1i 1700000000000000000\nnet,site=b v=2i 1700000000000000000\n"


@dataclass
class Network:
    ca: CertificateAuthority
    tls: Stunnel
    client: Issued
    encrypted: Issued  # its key encrypted with KEY_PASSWORD
    rogue: Issued  # signed by another CA
    proxy: Proxy
    auth_proxy: Proxy  # asks for alice / PROXY_PASSWORD
    strict_proxy: Proxy  # opens tunnels to no port the servers use

    def proxy_with_credentials(self, password: str = PROXY_PASSWORD) -> str:
        return f"http://alice:{password}@127.0.0.1:{self.auth_proxy.port}"


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("network")
    ca = CertificateAuthority(folder / "ca")
    tls = start_stunnel(folder, target=influxd.url.removeprefix("http://"), ca=ca, server=ca.issue("server"))
    proxies = [
        start_tinyproxy(folder / "proxy"),
        start_tinyproxy(folder / "auth-proxy", credentials=("alice", PROXY_PASSWORD)),
        start_tinyproxy(folder / "strict-proxy", connect_ports=(1,)),
    ]
    try:
        yield Network(
            ca,
            tls,
            ca.issue("client", client=True),
            ca.issue("encrypted", client=True, key_password=KEY_PASSWORD),
            CertificateAuthority(folder / "other", "Other CA").issue("rogue", client=True),
            *proxies,
        )
    finally:
        for server in (tls, *proxies):
            server.stop()


@pytest.fixture
def db(influxd: InfluxDB1, request: pytest.FixtureRequest) -> str:
    name = "net_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    influxd.query(f'DROP DATABASE "{name}"')
    return influxd.create(name)


@pytest.fixture(autouse=True)
def no_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def hook(monkeypatch: pytest.MonkeyPatch, host: str, db: str, **extra: Any) -> InfluxDBWriteHook:
    conn = {
        "conn_type": "influxdb_write",
        "host": host,
        "password": TOKEN,
        "extra": {"api": "v1", "bucket": db, **extra},
    }
    monkeypatch.setenv("AIRFLOW_CONN_NET", json.dumps(conn))
    return InfluxDBWriteHook("net")


def stored(influxd: InfluxDB1, db: str) -> list[tuple[str, int]]:
    return sorted((row["site"], row["v"]) for row in influxd.rows("SELECT * FROM net", db))


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def failure(target: InfluxDBWriteHook, expected: type[Exception], *, same: bool = True) -> str:
    """The message of the write's error, which must be ``expected``; checks the
    connection test says the same (where the server's timing cannot change it)."""
    with pytest.raises(expected) as caught:
        target.write(LINES)
    message = str(caught.value)
    ok, tested = target.test_connection()
    assert not ok and (message.split(";")[0] == tested.split(";")[0] or not same)
    assert_no_secret(message, repr(caught.value), tested)
    return message


# -- a private CA ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["path", "pem", "pem on one line", "pem with literal \\n"])
def test_a_private_ca_given_as_a_path_or_as_pem_text_is_trusted(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    pem = network.ca.pem
    ca_cert = {
        "path": str(network.ca.cert),
        "pem": pem,
        "pem on one line": pem.replace("\n", " "),
        "pem with literal \\n": pem.replace("\n", "\\n"),
    }[form]
    target = hook(monkeypatch, network.tls.tls_url, db, ca_cert=ca_cert)
    assert target.write(LINES).lines == 2
    assert stored(influxd, db) == [("a", 1), ("b", 2)]
    assert target.test_connection() == (
        True,
        f"{network.tls.tls_url} accepts writes to {db!r} with this token (v1 API)",
    )


def test_without_the_private_ca_the_write_fails_clearly_and_writes_nothing(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = failure(hook(monkeypatch, network.tls.tls_url, db), ConnectError)
    assert "the server's certificate was refused (unable to get local issuer certificate)" in message
    assert "set ca_cert to the CA that signed the server's certificate" in message
    assert stored(influxd, db) == []
    # Another CA is no better: only the CA given is trusted, not it and the default bundle.
    other = hook(monkeypatch, network.tls.tls_url, db, ca_cert=str(network.rogue.cert))
    assert "set ca_cert" in failure(other, ConnectError)


def test_the_default_bundle_is_replaced_not_extended(
    monkeypatch: pytest.MonkeyPatch, network: Network
) -> None:
    """With ca_cert, a certificate from a public CA is no longer trusted (as Go's RootCAs and
    curl's --cacert): the context holds the private CA alone."""
    from influxdb_write.client.tls import tls_context

    context = tls_context(verify=True, ca_cert=str(network.ca.cert))
    assert context is not None and len(context.get_ca_certs()) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/nonexistent/ca.pem", "ca_cert: cannot read /nonexistent/ca.pem (No such file or directory)"),
        ("KEY", "ca_cert: the file {key} holds no whole PEM certificate"),
        (
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
            "ca_cert: the PEM text is not a valid PEM CA certificate",
        ),
    ],
)
def test_an_unusable_ca_is_named_before_anything_is_sent(
    network: Network, db: str, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    value = str(network.client.key) if value == "KEY" else value
    target = hook(monkeypatch, network.tls.tls_url, db, ca_cert=value)
    assert message.format(key=network.client.key) in failure(target, CertificateError)
    assert "BEGIN PRIVATE KEY" not in failure(target, CertificateError)


# -- mutual TLS --------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["paths", "pem text, encrypted key", "one file holding both"])
def test_a_client_certificate_opens_a_server_that_requires_one(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch, form: str, tmp_path: Path
) -> None:
    if form == "paths":
        extra = {"client_cert": str(network.client.cert), "client_key": str(network.client.key)}
    elif form == "pem text, encrypted key":
        extra = {
            "client_cert": network.encrypted.cert_pem,
            "client_key": network.encrypted.key_pem,
            "client_key_password": KEY_PASSWORD,
        }
    else:
        both = tmp_path / "both.pem"
        both.write_text(network.client.cert_pem + network.client.key_pem)
        extra = {"client_cert": str(both)}
    target = hook(monkeypatch, network.tls.mtls_url, db, ca_cert=str(network.ca.cert), **extra)
    assert target.write(LINES).lines == 2
    assert stored(influxd, db) == [("a", 1), ("b", 2)]
    assert target.test_connection()[0]


def test_the_inline_key_never_touches_the_disk(
    network: Network, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PEM key is handed to OpenSSL through an in-memory file; no temporary file is made."""
    import tempfile

    made: list[str] = []
    real = tempfile.mkstemp

    def watched(*args: Any, **kwargs: Any) -> Any:
        made.append("mkstemp")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", watched)
    monkeypatch.setattr(tempfile, "TemporaryDirectory", lambda *a, **k: made.append("dir"))
    with InfluxDBWriteClient(
        network.tls.mtls_url,
        ca_cert=network.ca.pem,
        client_cert=network.encrypted.cert_pem,
        client_key=network.encrypted.key_pem,
        client_key_password=KEY_PASSWORD,
        api="v1",
    ) as client:
        assert "accepts writes" in client.check_write(db)
    assert made == []


def test_without_memfd_the_key_goes_through_a_private_file_removed_at_once(
    network: Network, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Outside Linux: a file only its owner can read, in a folder only its owner can
    open, gone once OpenSSL has read it."""
    import os
    import ssl
    import tempfile

    from influxdb_write.client.tls import tls_context

    monkeypatch.delattr(os, "memfd_create")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[tuple[str, int, int]] = []
    real = ssl.SSLContext.load_cert_chain

    def spy(self: ssl.SSLContext, certfile: str, *args: Any, **kwargs: Any) -> None:
        seen.append(
            (certfile, os.stat(certfile).st_mode & 0o777, os.stat(Path(certfile).parent).st_mode & 0o777)
        )
        real(self, certfile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    context = tls_context(
        verify=True,
        ca_cert=network.ca.pem,
        client_cert=network.encrypted.cert_pem,
        client_key=network.encrypted.key_pem,
        client_key_password=KEY_PASSWORD,
    )
    assert context is not None
    ((path, mode, folder_mode),) = seen
    assert path.startswith(str(tmp_path)) and (mode, folder_mode) == (0o600, 0o700)
    assert list(tmp_path.iterdir()) == []


def test_without_a_client_certificate_the_server_refuses_clearly(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = hook(monkeypatch, network.tls.mtls_url, db, ca_cert=str(network.ca.cert))
    # With TLS 1.3 the refusal comes after the client's side of the handshake: the
    # alert, or (when the close wins the race) the end of the connection.
    message = failure(target, ConnectError, same=False)
    assert (
        "the server asked for a client certificate (tlsv13 alert certificate required)" in message
        or "the server closed the connection during the handshake" in message
    )
    assert "set client_cert and client_key" in message
    rogue = hook(
        monkeypatch,
        network.tls.mtls_url,
        db,
        ca_cert=str(network.ca.cert),
        client_cert=str(network.rogue.cert),
        client_key=str(network.rogue.key),
    )
    message = failure(rogue, ConnectError, same=False)
    assert (
        "the server refused the client certificate (tlsv1 alert unknown ca)" in message
        and "give a client_cert signed by a CA that the server trusts" in message
    ) or "check that it trusts their CA" in message
    assert stored(influxd, db) == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no password", "client_key: the private key is encrypted; set client_key_password"),
        ("wrong password", "client_key_password does not decrypt the client key"),
        ("another key", "client_cert and client_key do not belong together (KEY_VALUES_MISMATCH)"),
        ("missing key file", "client_key: cannot read /nonexistent/client.key (No such file or directory)"),
    ],
)
def test_an_unusable_client_key_is_named_and_never_prompts(
    network: Network, db: str, monkeypatch: pytest.MonkeyPatch, case: str, message: str
) -> None:
    extra: dict[str, Any] = {
        "ca_cert": str(network.ca.cert),
        "client_cert": network.encrypted.cert_pem,
        "client_key": network.encrypted.key_pem,
    }
    if case == "wrong password":
        extra["client_key_password"] = "not-" + KEY_PASSWORD
    elif case == "another key":
        extra["client_key"] = network.client.key_pem
    elif case == "missing key file":
        extra["client_key"] = "/nonexistent/client.key"
    target = hook(monkeypatch, network.tls.mtls_url, db, **extra)
    text = failure(target, CertificateError)
    assert message in text
    assert "PRIVATE KEY" not in text.replace("PRIVATE KEY-----", "")


# -- proxies -----------------------------------------------------------------------------------


def carried(proxy: Proxy, since: int) -> list[str]:
    return proxy.writes()[since:]


def test_writes_go_through_the_environments_proxy_unless_no_proxy_says_not(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = network.proxy
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    before = len(proxy.writes())
    assert hook(monkeypatch, influxd.url, db).write(LINES).lines == 2
    assert carried(proxy, before) == [f"POST {influxd.url}/write?db={db}&precision=n HTTP/1.1"]
    assert stored(influxd, db) == [("a", 1), ("b", 2)]

    before = len(proxy.writes())
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert hook(monkeypatch, influxd.url, db).write(LINES).lines == 2
    monkeypatch.delenv("NO_PROXY")
    assert hook(monkeypatch, influxd.url, db, proxy_from_env="no").write(LINES).lines == 2
    assert carried(proxy, before) == []

    # The proxy extra is this connection's own: it applies whatever NO_PROXY says.
    monkeypatch.setenv("NO_PROXY", "*")
    assert hook(monkeypatch, influxd.url, db, proxy=proxy.url).write(LINES).lines == 2
    assert len(carried(proxy, before)) == 1
    assert stored(influxd, db) == [("a", 1), ("b", 2)]


def test_an_https_server_is_reached_through_a_connect_tunnel(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = len(network.proxy.writes())
    target = hook(
        monkeypatch,
        network.tls.mtls_url,
        db,
        proxy=network.proxy.url,
        ca_cert=network.ca.pem,
        client_cert=str(network.client.cert),
        client_key=str(network.client.key),
    )
    assert target.write(LINES).lines == 2
    port = network.tls.mtls_url.rsplit(":", 1)[1]
    assert carried(network.proxy, before) == [f"CONNECT 127.0.0.1:{port} HTTP/1.0"]
    assert stored(influxd, db) == [("a", 1), ("b", 2)]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_proxy_that_asks_for_credentials(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    url, tls = (
        (influxd.url, {}) if scheme == "http" else (network.tls.tls_url, {"ca_cert": str(network.ca.cert)})
    )
    message = failure(hook(monkeypatch, url, db, proxy=network.auth_proxy.url, **tls), ProxyError)
    assert "407" in message and "proxy" in message
    assert (
        "put the proxy's user and password in the proxy setting (http://user:password@host:port)" in message
    )
    assert stored(influxd, db) == []
    target = hook(monkeypatch, url, db, proxy=network.proxy_with_credentials(), **tls)
    assert target.write(LINES).lines == 2
    assert stored(influxd, db) == [("a", 1), ("b", 2)]
    wrong = hook(monkeypatch, url, db, proxy=network.proxy_with_credentials("wrong-password"), **tls)
    with pytest.raises(InfluxDBWriteError) as caught:
        wrong.write(LINES)
    assert "proxy" in str(caught.value)
    assert f"http://alice:***@127.0.0.1:{network.auth_proxy.port}" in str(caught.value) or scheme == "http"
    assert_no_secret(str(caught.value))


def test_a_proxy_that_refuses_the_tunnel_is_named_and_not_retried(
    network: Network, influxd: InfluxDB1, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = hook(
        monkeypatch, network.tls.tls_url, db, proxy=network.strict_proxy.url, ca_cert=network.ca.pem
    )
    before = len(network.strict_proxy.writes())
    message = failure(target, ProxyError)
    assert "refused to open a tunnel to the server (403 Access violation)" in message
    assert "the proxy will not carry requests to this server" in message
    assert len(carried(network.strict_proxy, before)) == 2  # the write once, the connection test once
    assert stored(influxd, db) == []


def test_a_proxy_that_is_down_is_named(influxd: InfluxDB1) -> None:
    client = InfluxDBWriteClient(
        influxd.url,
        api="v1",
        proxy="http://alice:" + PROXY_PASSWORD + "@127.0.0.1:9",
        retry=RetryPolicy(max_retries=0),
    )
    with pytest.raises(InfluxDBWriteError) as caught:
        client.write("db", LINES)
    assert "could not connect to the proxy http://alice:***@127.0.0.1:9" in str(caught.value)
    assert_no_secret(str(caught.value), repr(client))


def test_a_request_through_a_proxy_still_ends_at_its_deadline(network: Network, fault: FaultServer) -> None:
    """The proxy's connections are watched like direct ones: a server trickling its answer
    through the proxy cannot hold a request past ``connect + read`` seconds."""
    import time

    fault.will(("body_trickle", 0.5, Reply(200, "x" * 40)))
    client = InfluxDBWriteClient(
        fault.url, api="v1", proxy=network.proxy.url, timeout=(1.0, 1.0), retry=RetryPolicy(max_retries=0)
    )
    started = time.monotonic()
    with pytest.raises(InfluxDBWriteError, match=r"no complete answer within 2\.0s"):
        client.write("db", LINES)
    assert time.monotonic() - started < 6


# -- gateway headers, and secrets in what a server echoes ------------------------------------------


def test_gateway_headers_arrive_and_their_values_never_show(
    fault: FaultServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"X-Tenant": "acme", "X-Api-Key": HEADER_SECRET}
    fault.will(Reply(204), ("echo", 400))
    target = hook(monkeypatch, fault.url, "db", headers=json.dumps(headers))
    caplog.set_level(logging.DEBUG)
    target.write(LINES)
    sent = fault.received[0].headers
    assert (sent["X-Tenant"], sent["X-Api-Key"], sent["Authorization"]) == (
        "acme",
        HEADER_SECRET,
        f"Token {TOKEN}",
    )
    assert sent["Content-Encoding"] == "gzip" and sent["Content-Type"].startswith("text/plain")
    with pytest.raises(InfluxDBWriteError) as caught:
        target.write(LINES)  # the server's error page echoes every header
    assert "X-Api-Key: ***" in str(caught.value) and "Token ***" in str(caught.value)
    assert_no_secret(str(caught.value), caplog.text, repr(target.settings), repr(target.get_client()))


def test_the_bucket_link_is_looked_up_through_the_proxy_with_the_headers(
    network: Network, fault: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = len(network.proxy.requests())
    conn = {
        "conn_type": "influxdb_write",
        "host": fault.url,
        "password": TOKEN,
        "extra": {"org": "acme", "proxy": network.proxy.url, "headers": {"X-Tenant": "acme"}},
    }
    monkeypatch.setenv("AIRFLOW_CONN_LINK", json.dumps(conn))
    # The fault server's page is no bucket list: the link opens the UI's home page.
    assert InfluxDBWriteHook("link").bucket_url("metrics") == fault.url
    assert network.proxy.requests()[before:] == [
        f"GET {fault.url}/api/v2/buckets?name=metrics&org=acme HTTP/1.1"
    ]
    assert fault.received[-1].headers["X-Tenant"] == "acme"
    assert fault.received[-1].headers["Authorization"] == f"Token {TOKEN}"


def test_a_netrc_entry_never_replaces_the_token(
    fault: FaultServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """requests reads ~/.netrc for a host when it is not given auth; its Basic auth would
    replace the Authorization header that carries the token."""
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password elsewhere\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    fault.will(Reply(204))
    hook(monkeypatch, fault.url, "db").write(LINES)
    assert fault.received[0].headers["Authorization"] == f"Token {TOKEN}"


# -- in Airflow ----------------------------------------------------------------------------------


def test_in_airflow_no_secret_shows_in_logs_xcom_or_rendered_fields(
    network: Network, influxd: InfluxDB1, fault: FaultServer, tmp_path: Path
) -> None:
    """A real ``airflow dags test``: one task writes through mutual TLS and an authenticated
    proxy with the key inline; one fails at a server that echoes every header. Then the
    CLI's connection test says what the hook's says."""
    from airflow_cli import airflow_home, logged_lines, metadata_db, output_of, run_dag

    influxd.query('DROP DATABASE "iw_network"')
    influxd.create("iw_network")
    fault.will(("echo", 400))
    extra = {"api": "v1", "headers": {"X-Api-Key": HEADER_SECRET}}
    secure = {
        **extra,
        "proxy": network.proxy_with_credentials(),
        "ca_cert": network.ca.pem,
        "client_cert": network.encrypted.cert_pem,
        "client_key": network.encrypted.key_pem,
        "client_key_password": KEY_PASSWORD,
    }
    conn = {"conn_type": "influxdb_write", "password": TOKEN}
    env = airflow_home(
        tmp_path / "home",
        Path(__file__).parent / "dags_network",
        None,
        AIRFLOW_CONN_IW_NET=json.dumps({**conn, "host": network.tls.mtls_url, "extra": secure}),
        AIRFLOW_CONN_IW_ECHO=json.dumps({**conn, "host": fault.url, "extra": extra}),
        AIRFLOW_CONN_IW_NO_CA=json.dumps(
            {**conn, "host": network.tls.tls_url, "extra": {"bucket": "iw_network"}}
        ),
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",
    )
    before = len(network.auth_proxy.writes())
    run = run_dag(env, "iw_network", "2024-03-01")
    assert run.returncode != 0  # the echoed task fails
    assert sorted((r["site"], r["v"]) for r in influxd.rows("SELECT * FROM net", "iw_network")) == [
        ("a", 1),
        ("b", 2),
    ]
    port = network.tls.mtls_url.rsplit(":", 1)[1]
    assert network.auth_proxy.writes()[before:] == [f"CONNECT 127.0.0.1:{port} HTTP/1.0"]
    assert "X-Api-Key: ***" in output_of(run) and fault.received[-1].headers["X-Api-Key"] == HEADER_SECRET
    key_lines = [line for line in network.encrypted.key_pem.splitlines() if "-----" not in line]
    for line in logged_lines(run):
        assert_no_secret(line)
        assert not any(part in line for part in key_lines)
    with metadata_db(env) as db:
        stored_rows = db.execute("SELECT value FROM xcom WHERE dag_id = 'iw_network'").fetchall()
        stored_rows += db.execute("SELECT rendered_fields FROM rendered_task_instance_fields").fetchall()
    assert stored_rows and all(secret not in str(stored_rows) for secret in SECRETS)

    import subprocess

    from airflow_cli import AIRFLOW

    tested = subprocess.run(
        [AIRFLOW, "connections", "test", "iw_no_ca"], env=env, capture_output=True, text=True, timeout=120
    )
    said = " ".join((tested.stdout + tested.stderr).split())
    assert "Connection failed!" in said
    assert "the server's certificate was refused (unable to get local issuer certificate)" in said
    assert "set ca_cert to the CA that signed the server's certificate" in said


def test_a_tls_failure_after_confirmed_batches_counts_them(tmp_path: Path) -> None:
    """The first batch is confirmed over TLS and the server closes the connection; the
    second connection is answered in plain HTTP (a load balancer that lost its
    certificate), which is never retried. The error carries the confirmed lines in
    ``lines_written``, so lineage reports what the server holds."""
    import re
    import socket
    import ssl
    import threading

    from influxdb_write.client import ConnectError, InfluxDBWriteClient

    ca = CertificateAuthority(tmp_path / "ca")
    issued = ca.issue("server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(issued.cert, issued.key)
    listening = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listening.accept()
        with context.wrap_socket(connection, server_side=True) as tls:
            data = b""
            while b"\r\n\r\n" not in data:
                data += tls.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            found = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            while found and len(body) < int(found.group(1)):
                body += tls.recv(65536)
            tls.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        plain, _ = listening.accept()
        with plain:
            plain.recv(65536)  # the client's TLS hello, answered in plain HTTP
            plain.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{listening.getsockname()[1]}"
    lines = [f"m v={i}i {i}" for i in range(1, 7)]
    with (
        InfluxDBWriteClient(url, "t", ca_cert=str(ca.cert), max_batch_lines=3) as client,
        pytest.raises(ConnectError) as caught,
    ):
        client.write("b", lines)
    thread.join(5)
    listening.close()
    assert caught.value.lines_written == 3
    assert "the server did not answer in TLS" in str(caught.value)
    fate = "3 line(s) of earlier batches were confirmed written; none of lines 4-6 or later lines were"
    assert fate in str(caught.value)
