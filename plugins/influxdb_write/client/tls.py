"""TLS material: a private CA and a client certificate, each a file or its PEM text.

Inside companies the CA and the client certificate usually live in a secrets
backend, as text, not as files on every worker. :mod:`ssl` loads a CA from text,
but a certificate and its key only from a file; so the chain is handed to
OpenSSL through an anonymous file in memory (``memfd_create``, Linux) or, where
there is none, through a file in a private temporary folder (mode 0600) that is
removed as soon as OpenSSL has read it. Either way the key lives on only inside
the :class:`ssl.SSLContext`: nothing is left on disk when the client closes or
the process is killed.
"""

from __future__ import annotations

import os
import re
import ssl
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import CertificateError

_PEM = "-----BEGIN "
_ONE_LINE_BLOCK = re.compile(r"(-----BEGIN [A-Z0-9 ]+-----)(.*?)(-----END [A-Z0-9 ]+-----)")


def is_pem(value: str) -> bool:
    """Whether ``value`` is PEM text rather than a path."""
    return value.lstrip().startswith(_PEM)


def default_ca_bundle() -> str:
    """The CA bundle ``requests`` trusts by default: ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` when set, else certifi's."""
    from requests.utils import DEFAULT_CA_BUNDLE_PATH

    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or DEFAULT_CA_BUNDLE_PATH


def check_tls_settings(
    *,
    verify: bool,
    ca_cert: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    client_key_password: str | None = None,
) -> None:
    """Refuse settings that do not go together; :class:`CertificateError` says which."""
    if client_key and not client_cert:
        raise CertificateError("client_key is set but client_cert is not; set client_cert to its certificate")
    if client_key_password and not client_cert:
        raise CertificateError(
            "client_key_password is set but client_cert is not; set client_cert and client_key"
        )
    if ca_cert and not verify:
        raise CertificateError(
            "ca_cert is set but certificate verification (verify_ssl) is off; turn it on to use the CA"
        )


def check_pem(name: str, value: str, kind: str) -> None:
    """Refuse PEM text that has no whole ``kind`` block; a path is checked when it is read."""
    if is_pem(value):
        _need(_normalized(value), kind, name, value)


def tls_context(
    *,
    verify: bool,
    ca_cert: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    client_key_password: str | None = None,
) -> ssl.SSLContext | None:
    """An SSL context that trusts ``ca_cert`` and presents ``client_cert``, or
    ``None`` when neither is given (``requests`` then verifies as usual).

    Each of ``ca_cert``, ``client_cert`` and ``client_key`` is a path or the PEM
    text itself; ``client_cert`` may hold the key too. ``ca_cert`` may also be a
    folder of hashed certificates (``c_rehash``). :class:`CertificateError` names
    the setting that is wrong and what to do.
    """
    check_tls_settings(
        verify=verify,
        ca_cert=ca_cert,
        client_cert=client_cert,
        client_key=client_key,
        client_key_password=client_key_password,
    )
    if not (ca_cert or client_cert):
        return None
    # Only the CAs asked for: a private CA replaces the default bundle, as Go's and curl's do.
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_cert and is_pem(ca_cert):
        context = _context_from(ca_cert, cadata=_text("ca_cert", ca_cert))
    else:
        given = str(Path(ca_cert).expanduser()) if ca_cert else default_ca_bundle()
        if os.path.isdir(given):
            context = _context_from(ca_cert, capath=given)
        else:
            context = _context_from(ca_cert, cadata=_text("ca_cert", given))
    if client_cert:
        _load_chain(context, client_cert, client_key, client_key_password)
    return context


def _context_from(
    given: str | None, *, cadata: str | None = None, capath: str | None = None
) -> ssl.SSLContext:
    if cadata is not None:
        _need(cadata, "CERTIFICATE", "ca_cert", given or default_ca_bundle())
    try:
        return ssl.create_default_context(cadata=cadata, capath=capath)
    except (ssl.SSLError, ValueError) as exc:
        raise CertificateError(
            f"ca_cert: {_where(given or default_ca_bundle())} is not a valid PEM CA certificate "
            f"({_reason(exc)}); give the CA's certificate(s) in PEM form"
        ) from None


def _load_chain(context: ssl.SSLContext, cert: str, key: str | None, password: str | None) -> None:
    cert_text = _text("client_cert", cert)
    _need(cert_text, "CERTIFICATE", "client_cert", cert)
    key_text = _text("client_key", key) if key else cert_text
    _need(key_text, "PRIVATE KEY", "client_key" if key else "client_cert", key or cert)
    if "ENCRYPTED" in key_text and not password:
        raise CertificateError(
            f"{'client_key' if key else 'client_cert'}: the private key is encrypted; "
            "set client_key_password to its password"
        )

    def give_password() -> str:
        # Without a callable OpenSSL would prompt on the terminal, and a worker would hang.
        return password or ""

    try:
        with _chain_file(f"{cert_text.strip()}\n{key_text.strip()}\n" if key else cert_text) as path:
            context.load_cert_chain(path, password=give_password)
    except ssl.SSLError as exc:
        reason = _reason(exc)
        if "KEY_VALUES_MISMATCH" in str(exc):
            raise CertificateError(
                f"client_cert and client_key do not belong together ({reason}); "
                "give the key of this certificate"
            ) from None
        if password:
            raise CertificateError(
                "client_key_password does not decrypt the client key, or the key is not valid PEM "
                f"({reason}); check the password and the key"
            ) from None
        raise CertificateError(
            f"client_cert/client_key: not a valid PEM certificate and private key ({reason}); "
            "give the certificate and its unencrypted key, or set client_key_password"
        ) from None


@contextmanager
def _chain_file(text: str) -> Iterator[str]:
    """A path OpenSSL can read ``text`` from, for the ``with`` block only."""
    folder: tempfile.TemporaryDirectory[str] | None = None
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("influxdb-write-client-cert", os.MFD_CLOEXEC)
        path = f"/proc/self/fd/{fd}"
    else:
        folder = tempfile.TemporaryDirectory(prefix="influxdb-write-")  # mode 0700
        path = os.path.join(folder.name, "chain.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(text.encode())
        while view:
            view = view[os.write(fd, view) :]
        yield path
    finally:
        os.close(fd)
        if folder is not None:
            folder.cleanup()


def _normalized(text: str) -> str:
    """PEM text whose line breaks were lost (a one-line form field, an environment
    variable, a literal ``\\n``) with them put back; other text unchanged."""
    text = text.strip().replace("\\n", "\n")
    if "\n" in text:
        return text
    return _ONE_LINE_BLOCK.sub(
        lambda block: "\n".join([block[1], *textwrap.wrap(re.sub(r"\s+", "", block[2]), 64), block[3]]),
        text,
    )


def _text(name: str, value: str) -> str:
    """PEM text as given, or read from the path ``value``."""
    if is_pem(value):
        return _normalized(value)
    path = Path(value).expanduser()
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not PEM text"
        raise CertificateError(
            f"{name}: cannot read {value} ({why}); give the path of a PEM file that the Airflow "
            "worker can read, or the PEM text itself"
        ) from None


def _need(text: str, kind: str, name: str, given: str) -> None:
    if not re.search(f"-----BEGIN [A-Z0-9 ]*{kind}-----.+?-----END [A-Z0-9 ]*{kind}-----", text, re.DOTALL):
        raise CertificateError(
            f"{name}: {_where(given)} holds no whole PEM {kind.lower()} (from '-----BEGIN ... {kind}-----' "
            f"to '-----END ... {kind}-----'); give it in PEM form"
        )


def _where(given: str) -> str:
    return "the PEM text" if is_pem(given) else f"the file {given}"


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)
