"""An enterprise network made for the tests: a private CA, TLS in front of influxd, forward proxies.

- :class:`CertificateAuthority` makes a CA and certificates signed by it with the
  ``cryptography`` package (an Airflow dependency), written as PEM files.
- :func:`start_stunnel` runs Debian's ``stunnel4`` on free loopback ports in front
  of a server: one port with TLS only, one that also requires a client
  certificate signed by the CA (mutual TLS).
- :func:`start_tinyproxy` runs Debian's ``tinyproxy``, with or without Basic
  proxy authentication; :meth:`Proxy.requests` reads what its log says it carried.

With ``CI`` set, a missing binary fails the test (see :func:`servers.need_binary`).
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from servers import Server, free_port, need_binary


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM files and text."""

    cert: Path
    key: Path

    @property
    def cert_pem(self) -> str:
        return self.cert.read_text()

    @property
    def key_pem(self) -> str:
        return self.key.read_text()


class CertificateAuthority:
    """A private CA in ``folder``: ``ca.pem`` and certificates it signs."""

    def __init__(self, folder: Path, name: str = "Test CA") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self._name = subject
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.cert = folder / "ca.pem"
        self.cert.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    @property
    def pem(self) -> str:
        return self.cert.read_text()

    def issue(self, name: str, *, client: bool = False, key_password: str | None = None) -> Issued:
        """A server certificate for 127.0.0.1 and localhost, or a client certificate;
        the key encrypted with ``key_password`` if given."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if not client:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        certificate = builder.sign(self._key, hashes.SHA256())
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(key_password.encode())
            if key_password
            else serialization.NoEncryption()
        )
        cert, key_file = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        )
        key_file.chmod(0o600)
        return Issued(cert, key_file)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {seconds}s: {log.read_text()[-2000:]}")


@dataclass
class Stunnel(Server):
    """``tls_url`` asks for no client certificate; ``mtls_url`` requires one signed by the CA."""

    tls_url: str
    mtls_url: str


STUNNEL_CONFIG = """\
foreground = yes
pid =
output = {log}
debug = notice
[tls]
accept = 127.0.0.1:{tls}
connect = {target}
cert = {cert}
key = {key}
[mtls]
accept = 127.0.0.1:{mtls}
connect = {target}
cert = {cert}
key = {key}
CAfile = {ca}
verifyChain = yes
requireCert = yes
"""


def start_stunnel(folder: Path, *, target: str, ca: CertificateAuthority, server: Issued) -> Stunnel:
    """TLS in front of ``target`` (``host:port``)."""
    binary = need_binary("stunnel4")
    tls, mtls = free_port(), free_port()
    config, log = folder / "stunnel.conf", folder / "stunnel.log"
    config.write_text(
        STUNNEL_CONFIG.format(
            log=log, tls=tls, mtls=mtls, target=target, cert=server.cert, key=server.key, ca=ca.cert
        )
    )
    process = subprocess.Popen([binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    log.touch()
    for port in (tls, mtls):
        _wait_for_port(port, process, log)
    return Stunnel(
        f"https://127.0.0.1:{tls}", process, f"https://127.0.0.1:{tls}", f"https://127.0.0.1:{mtls}"
    )


@dataclass
class Proxy(Server):
    """A tinyproxy; ``url`` carries no credentials."""

    log: Path
    port: int

    def requests(self) -> list[str]:
        """The request lines the proxy received, such as ``POST http://127.0.0.1:8086/write?db=x HTTP/1.1``
        or ``CONNECT 127.0.0.1:4430 HTTP/1.1``, oldest first."""
        return re.findall(r"Request \(file descriptor \d+\): (.+)$", self.log.read_text(), re.MULTILINE)

    def writes(self) -> list[str]:
        return [line for line in self.requests() if line.startswith(("POST ", "CONNECT "))]


TINYPROXY_CONFIG = """\
Port {port}
Listen 127.0.0.1
Timeout 60
LogFile "{log}"
LogLevel Info
MaxClients 20
Allow 127.0.0.1
DisableViaHeader Yes
"""


def start_tinyproxy(
    folder: Path, *, credentials: tuple[str, str] | None = None, connect_ports: tuple[int, ...] | None = None
) -> Proxy:
    """A forward proxy on a free port; with ``credentials`` it asks for Basic proxy
    authentication; with ``connect_ports`` it opens CONNECT tunnels to those ports only."""
    binary = need_binary("tinyproxy")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config, log = folder / "tinyproxy.conf", folder / "tinyproxy.log"
    text = TINYPROXY_CONFIG.format(port=port, log=log)
    if credentials:
        text += f"BasicAuth {credentials[0]} {credentials[1]}\n"
    for allowed in connect_ports or ():
        text += f"ConnectPort {allowed}\n"
    config.write_text(text)
    log.touch()
    log.chmod(0o666)
    process = subprocess.Popen(
        [binary, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    _wait_for_port(port, process, log)
    return Proxy(f"http://127.0.0.1:{port}", process, log, port)
