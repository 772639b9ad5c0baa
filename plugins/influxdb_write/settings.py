"""Connection settings: what an Airflow connection says, as one typed value.

Kept apart from the hook so it can be tested and reused without Airflow.
Each extra is defined once, as an :class:`Extra`: its label and description,
type, default and allowed values. That one definition serves the connection form
(``provider.CONN_FIELDS``), the parser (:meth:`ConnectionSettings.from_parts`)
and the defaults of :class:`ConnectionSettings`, so they cannot drift apart.
An unknown key is an error that lists the known ones, so a typo never silently
falls back to a default.

Imports nothing that pulls in ``requests`` or Airflow: the provider info and the
operator module read it at import time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from .client.constants import APIS, DEFAULT_GZIP_LEVEL
from .client.headers import RESERVED, check_headers
from .client.proxy import check_proxy
from .client.tls import check_pem, check_tls_settings
from .line_protocol import PRECISIONS
from .regions import REGIONS, region_url

_PREFIX = "extra__influxdb_write__"
_BOOLEANS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}
# Python's int() and float() also take "1_000", "inf" and "nan"; a connection should not.
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass(frozen=True)
class Extra:
    """One connection extra, defined once for the form, the parser and the docs.

    ``kind`` is the JSON-schema type. Values from the extra JSON may be typed,
    but values from a URI query string, or from the text fields of Airflow 3.0
    and 3.1 forms, are strings, so :meth:`parse` accepts both.
    """

    name: str
    label: str
    description: str
    kind: Literal["string", "number", "integer", "boolean", "object"] = "string"
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    # What the form's choice list shows for "not set" (Airflow draws None as "null").
    unset_label: str = "not set"
    # How the form draws a text: "password" hides it (and Airflow treats it as
    # sensitive), "multiline" for PEM text.
    widget: Literal["", "password", "multiline"] = ""
    # A check of the parsed value by the module that owns the rule; it raises
    # ValueError with that module's documented message, before ``choices`` is checked.
    check: Callable[[Any], object] | None = field(default=None, repr=False, compare=False)

    @property
    def allowed(self) -> str:
        """What the extra accepts, in words, for error messages and docs."""
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        if self.kind == "boolean":
            return "true or false (or 1/0, yes/no, on/off)"
        if self.kind == "string":
            return "text"
        if self.kind == "object":
            return 'a JSON object of text values, such as {"X-Tenant": "acme"}'
        if self.exclusive_minimum == 0:
            text = f"a positive {self.kind}"
        else:
            text = "an integer" if self.kind == "integer" else "a number"
            if self.exclusive_minimum is not None:
                text += f" above {_number(self.exclusive_minimum)}"
        if self.unit:
            text += f" of {self.unit}"
        if self.minimum is not None and self.maximum is not None:
            text += f" from {_number(self.minimum)} to {_number(self.maximum)}"
        elif self.minimum is not None:
            text += f" of at least {_number(self.minimum)}"
        elif self.maximum is not None:
            text += f" of at most {_number(self.maximum)}"
        return text

    def parse(self, raw: Any) -> Any:
        """The typed value of ``raw``; the default for ``None`` or blank text.

        ``ValueError`` names the extra, the value and :attr:`allowed`.
        """
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return self.default
        value = self._convert(raw.strip() if isinstance(raw, str) else raw)
        if value is None or not self._in_range(value):
            raise ValueError(f"{self.name} extra {raw!r} is not {self.allowed}")
        if self.check is not None:
            self.check(value)
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name} extra {raw!r} is not {self.allowed}")
        return value

    def conn_field(self) -> dict[str, Any]:
        """The ``conn-fields`` entry that Airflow 3.2+ draws the form field from.

        A boolean without a default means "the server decides" when unset; Airflow
        draws booleans as switches, which cannot be left unset, so such an extra is
        offered as a choice of not set, true and false.
        """
        tri_state = self.kind == "boolean" and self.default is None
        schema: dict[str, Any] = {"type": ["string" if tri_state else self.kind, "null"]}
        choices = ("true", "false") if tri_state else self.choices
        if choices:
            schema["enum"] = [*([None] if self.default is None else []), *choices]
            if self.default is None:
                # The labels of the choice list; JSON has no null keys, and Airflow's form looks up "null".
                schema["values_display"] = {"null": self.unset_label}
        for key, bound in (
            ("minimum", self.minimum),
            ("exclusiveMinimum", self.exclusive_minimum),
            ("maximum", self.maximum),
        ):
            if bound is not None:
                schema[key] = bound
        if self.default is not None:
            schema["default"] = self.default
        if self.widget:
            schema["format"] = self.widget
        return {"label": self.label, "description": self.description, "schema": schema}

    def _convert(self, raw: Any) -> Any:
        """``raw`` as ``kind``, or ``None`` if it is not one (``True`` is no timeout)."""
        if self.kind == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) or type(raw) is int:
                return _BOOLEANS.get(str(raw).lower())
            return None
        if isinstance(raw, bool):
            return None
        if self.kind == "string":
            return raw if isinstance(raw, str) else None
        if self.kind == "object":
            if isinstance(raw, str):  # from a URI's query string
                try:
                    raw = json.loads(raw)
                except ValueError:
                    return None
            return raw if isinstance(raw, dict) else None
        if self.kind == "integer":
            if isinstance(raw, int):
                return raw
            if isinstance(raw, float) and raw.is_integer():
                return int(raw)
            return int(raw) if isinstance(raw, str) and _INTEGER.fullmatch(raw) else None
        if isinstance(raw, (int, float)):
            number = float(raw)
        elif isinstance(raw, str) and _NUMBER.fullmatch(raw):
            number = float(raw)
        else:
            return None
        return number if math.isfinite(number) else None

    def _in_range(self, value: Any) -> bool:
        if self.kind not in ("number", "integer"):
            return True
        return (
            (self.minimum is None or value >= self.minimum)
            and (self.exclusive_minimum is None or value > self.exclusive_minimum)
            and (self.maximum is None or value <= self.maximum)
        )


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


EXTRA_BY_NAME: dict[str, Extra] = {
    extra.name: extra
    for extra in (
        Extra(
            "region",
            "InfluxDB Cloud region",
            "Sets the URL for InfluxDB Cloud; leave it at 'none' when the URL field is set.",
            choices=tuple(REGIONS),
            unset_label="none (the URL field says where InfluxDB is)",
            check=region_url,
        ),
        Extra(
            "org",
            "Organization",
            "Org name, such as my-org. InfluxDB 2.x OSS needs it; Cloud takes it from the token.",
        ),
        Extra(
            "bucket",
            "Default bucket",
            "Bucket written when a task names none, such as my-bucket (v1 and v3: database, or database/rp).",
        ),
        Extra(
            "precision",
            "Default precision",
            "Unit of integer timestamps.",
            default="ns",
            choices=PRECISIONS,
        ),
        Extra(
            "api",
            "Write API",
            "v2: /api/v2/write; v1: /write (InfluxDB 1.x); v3: /api/v3/write_lp.",
            default="v2",
            choices=APIS,
        ),
        Extra(
            "timeout",
            "Read timeout (seconds)",
            "Seconds to wait for the server's reply, a positive number; the connect timeout is at most 10 s.",
            kind="number",
            default=60.0,
            exclusive_minimum=0,
            unit="seconds",
        ),
        Extra(
            "verify_ssl",
            "Verify TLS certificates",
            "Turn off only for a test server; for a private CA set the CA certificate instead.",
            kind="boolean",
            default=True,
        ),
        Extra(
            "ca_cert",
            "CA certificate",
            "For a server whose certificate a private CA signed: that CA, as a path on the workers or "
            "the PEM text. Empty: the usual bundle (certifi's, or REQUESTS_CA_BUNDLE).",
            widget="multiline",
            check=lambda value: check_pem("ca_cert", value, "CERTIFICATE"),
        ),
        Extra(
            "client_cert",
            "Client certificate (mutual TLS)",
            "For a server that requires one: a path on the workers, or the PEM text (it may hold the key).",
            widget="multiline",
            check=lambda value: check_pem("client_cert", value, "CERTIFICATE"),
        ),
        Extra(
            "client_key",
            "Client key",
            "The client certificate's private key: a path on the workers, or the PEM text. Masked.",
            widget="password",
            check=lambda value: check_pem("client_key", value, "PRIVATE KEY"),
        ),
        Extra(
            "client_key_password",
            "Client key password",
            "The password of an encrypted client key. Masked.",
            widget="password",
        ),
        Extra(
            "proxy",
            "Proxy",
            "An HTTP(S) proxy for this connection, such as http://user:password@proxy:3128; "
            "it wins over HTTPS_PROXY. Masked.",
            widget="password",
            check=check_proxy,
        ),
        Extra(
            "proxy_from_env",
            "Use the environment's proxy",
            "With no proxy set: use HTTPS_PROXY/HTTP_PROXY and NO_PROXY as curl and requests do. "
            "False: connect directly.",
            kind="boolean",
            default=True,
        ),
        Extra(
            "headers",
            "Extra HTTP headers",
            'For an API gateway: a JSON object such as {"X-Tenant": "acme"}, sent with every request; '
            f"it may not set {', '.join(RESERVED)}. Values are masked.",
            kind="object",
            check=check_headers,
        ),
        Extra(
            "gzip_level",
            "Gzip level (0 = off)",
            "0 sends plain text; 1 is fast and compresses line protocol about 4x; 9 is smallest.",
            kind="integer",
            default=DEFAULT_GZIP_LEVEL,
            minimum=0,
            maximum=9,
        ),
        Extra(
            "accept_partial",
            "Accept partial writes (v3)",
            "api v3 only. Empty: the server's default, true (valid lines of a batch are written). "
            "False: a batch with a bad line writes nothing.",
            kind="boolean",
            unset_label="not set (the server's default, true)",
        ),
        Extra(
            "no_sync",
            "Answer before the WAL is durable (v3)",
            "api v3 only. Empty: the server's default, false. True: faster, but a write the server "
            "confirmed can be lost if it crashes.",
            kind="boolean",
            unset_label="not set (the server's default, false)",
        ),
    )
}
# Options of the /api/v3/write_lp endpoint; the v1 and v2 endpoints have none of them.
V3_ONLY = ("accept_partial", "no_sync")
EXTRAS = tuple(EXTRA_BY_NAME)


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to write. The token is kept out of ``repr``.

    The defaults are those of :data:`EXTRA_BY_NAME`; ``url`` comes from the
    host or the ``region`` extra.
    """

    url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    org: str | None = EXTRA_BY_NAME["org"].default
    bucket: str | None = EXTRA_BY_NAME["bucket"].default
    precision: str = EXTRA_BY_NAME["precision"].default
    api: str = EXTRA_BY_NAME["api"].default
    timeout: float = EXTRA_BY_NAME["timeout"].default
    verify_ssl: bool = EXTRA_BY_NAME["verify_ssl"].default
    ca_cert: str | None = field(default=EXTRA_BY_NAME["ca_cert"].default, repr=False)
    client_cert: str | None = field(default=EXTRA_BY_NAME["client_cert"].default, repr=False)
    client_key: str | None = field(default=EXTRA_BY_NAME["client_key"].default, repr=False)
    client_key_password: str | None = field(default=EXTRA_BY_NAME["client_key_password"].default, repr=False)
    proxy: str | None = field(default=EXTRA_BY_NAME["proxy"].default, repr=False)
    proxy_from_env: bool = EXTRA_BY_NAME["proxy_from_env"].default
    headers: Mapping[str, str] | None = field(default=EXTRA_BY_NAME["headers"].default, repr=False)
    gzip_level: int = EXTRA_BY_NAME["gzip_level"].default
    accept_partial: bool | None = EXTRA_BY_NAME["accept_partial"].default
    no_sync: bool | None = EXTRA_BY_NAME["no_sync"].default

    @classmethod
    def from_parts(
        cls,
        *,
        host: str | None,
        port: int | None,
        login: str | None,
        password: str | None,
        extra: Mapping[str, Any],
    ) -> ConnectionSettings:
        """Build settings from a connection's fields; ``ValueError`` says what to fix.

        ``host`` holds a full URL and wins over the ``region`` extra; with
        neither, the error says to set one. ``password`` is the API token; with
        ``api="v1"`` and a ``login``, it is the user's password instead. Every
        extra is checked, even one that the host makes unused.
        """
        # Forms may store keys with Airflow's old prefix, and empty fields as "" or null.
        given = {key.removeprefix(_PREFIX): value for key, value in extra.items() if value not in (None, "")}
        unknown = sorted(set(given) - set(EXTRAS))
        if unknown:
            raise ValueError(
                f"unknown connection extra(s) {', '.join(unknown)}; known extras: {', '.join(EXTRAS)}"
            )
        values = {name: spec.parse(given.get(name)) for name, spec in EXTRA_BY_NAME.items()}
        misplaced = [name for name in V3_ONLY if values[name] is not None and values["api"] != "v3"]
        if misplaced:
            raise ValueError(
                f"{' and '.join(misplaced)} extra(s) apply to api v3 (/api/v3/write_lp) only; "
                f"remove them or set the api extra to v3 (it is {values['api']})"
            )
        check_tls_settings(
            verify=values["verify_ssl"],
            ca_cert=values["ca_cert"],
            client_cert=values["client_cert"],
            client_key=values["client_key"],
            client_key_password=values["client_key_password"],
        )
        region = values.pop("region")
        if host and host.strip():
            url = _host_url(host.strip(), port)
        elif region:
            url = region_url(region)
        else:
            raise ValueError(
                "the connection has neither a host (a full URL such as http://localhost:8086) "
                "nor a region extra (an InfluxDB Cloud region such as us-east-1-1); set one"
            )
        return cls(url=url, token=password or None, username=login or None, **values)


def _host_url(host: str, port: int | None) -> str:
    """The server URL from the host field: ``https://`` if it has no scheme, and
    ``port`` added unless the host names one. Keeps a path (a proxy prefix) and
    brackets around an IPv6 address; drops a trailing slash.
    """
    try:
        parts = urlsplit(host if "://" in host else f"https://{host}")
        has_port = parts.port is not None
    except ValueError as exc:
        raise ValueError(
            f"host {host!r} is not a valid URL ({exc}); an IPv6 address goes in brackets, "
            "such as http://[::1]:8086"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"host {host!r} must be a URL starting with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"host {host!r} has no server name; write a URL such as http://localhost:8086")
    if port and not has_port:
        parts = parts._replace(netloc=f"{parts.netloc}:{port}")
    return urlunsplit(parts).rstrip("/")
