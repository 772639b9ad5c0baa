"""The ``influxdb://`` asset URI scheme: ``influxdb://<host>:<port>/<bucket>``.

The URI names the InfluxDB server and the bucket (InfluxDB 1.x and 3: the
database, or ``db/rp``), never an Airflow connection id: connection ids are
local to one deployment, while the server and bucket are what was written, the
same for every deployment and every tool that reads lineage. Registered under
``asset-uris`` in the provider info, so Airflow normalises and validates every
``influxdb://`` asset with :func:`sanitize_uri`, and the OpenLineage provider
turns it into a dataset with :func:`convert_asset_to_openlineage`.

DAGs name a bucket by an asset alias, ``influxdb_write:<conn id>/<bucket>``
(:func:`alias_name`), which needs no connection while DAG files are parsed; the
task adds its event, on the ``influxdb://`` asset of the server it wrote to,
through the alias once it has written something.

Imported when DAG files are parsed: standard library and ``airflow.sdk`` only.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from airflow.sdk import Asset

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset

SCHEME = "influxdb"
ALIAS_PREFIX = "influxdb_write:"  # asset aliases: influxdb_write:<conn id>/<bucket>
DEFAULT_PORT = 8086  # InfluxDB's own default; a URI without a port means it
_SCHEME_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)


def asset_uri(url: str, bucket: str) -> str:
    """The normalised URI of ``bucket`` on the server at ``url`` (a connection's URL).

    A proxy path in the URL is left out: it is a route to the server, not part
    of what was written.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url!r} has no server name")
    port = parts.port or _SCHEME_PORTS.get(parts.scheme, DEFAULT_PORT)
    raw = f"{SCHEME}://{_netloc(parts.hostname, port)}/{quote(bucket.strip('/'), safe='/')}"
    return _normalise(urlsplit(raw)).geturl()


def alias_name(conn_id: str, bucket: str) -> str:
    """The name of the asset alias of ``bucket`` written through connection ``conn_id``
    (:func:`~influxdb_write.operators.influxdb_asset`)."""
    return f"{ALIAS_PREFIX}{conn_id}/{bucket}"


def alias_target(name: str) -> tuple[str, str] | None:
    """``(conn_id, bucket)`` of an alias :func:`alias_name` named, else None."""
    if not name.startswith(ALIAS_PREFIX):
        return None
    conn_id, _, bucket = name[len(ALIAS_PREFIX) :].partition("/")
    return (conn_id, bucket) if conn_id and bucket else None


def create_asset(*, url: str, bucket: str, extra: dict[str, Any] | None = None) -> Asset:
    """The asset factory of the scheme, for Airflow's hook lineage collector."""
    return Asset(uri=asset_uri(url, bucket), extra=extra or {})


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's normaliser for ``influxdb://`` URIs: a lowercase host, a port
    (8086 when none is given) and a bucket; ``ValueError`` says what is wrong."""
    return _normalise(uri)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Dataset:
    """The OpenLineage dataset of an ``influxdb://`` asset: namespace
    ``influxdb://host:port``, name the bucket (or ``db/rp``) as InfluxDB spells it.

    Called by the OpenLineage provider, which installs the facet classes.
    """
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = _normalise(urlsplit(asset.uri))
    return Dataset(namespace=f"{SCHEME}://{parts.netloc}", name=unquote(parts.path[1:]))


def _normalise(uri: SplitResult) -> SplitResult:
    text = uri.geturl()
    if uri.scheme != SCHEME:
        raise ValueError(f"{text!r} is not an {SCHEME}:// URI")
    if uri.query:
        raise ValueError(f"{text!r}: an {SCHEME}:// URI takes no query; write {SCHEME}://host:port/bucket")
    host = (uri.hostname or "").lower()
    if not _valid_host(host):
        raise ValueError(
            f"{text!r} does not name a server: {SCHEME}:// URIs are {SCHEME}://host:port/bucket, "
            f"and {host or '(nothing)'!r} is not a host name (a connection id? use "
            "influxdb_asset(bucket, conn_id), which looks up the connection's server)"
        )
    try:
        port = DEFAULT_PORT if uri.port is None else uri.port
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    bucket = uri.path.strip("/")
    if not bucket:
        raise ValueError(f"{text!r} names no bucket; write {SCHEME}://host:port/bucket")
    return SplitResult(SCHEME, _netloc(host, port), f"/{bucket}", "", "")


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return bool(host) and len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)
