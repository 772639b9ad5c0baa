"""Connection settings: what an Airflow connection says, as one typed value.

Kept apart from the hook so it can be tested and reused without Airflow.
Every extra has one documented key and one type; an unknown key is an error
that lists the known ones, so a typo never silently falls back to a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .client.core import APIS, DEFAULT_GZIP_LEVEL
from .line_protocol import PRECISIONS
from .regions import region_url

_PREFIX = "extra__influxdb_write__"
EXTRAS = ("region", "org", "bucket", "precision", "api", "timeout", "verify_ssl", "gzip_level")


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to write. The token is kept out of ``repr``."""

    url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    org: str | None = None
    bucket: str | None = None
    precision: str = "ns"
    api: str = "v2"
    timeout: float = 60.0
    verify_ssl: bool = True
    gzip_level: int = DEFAULT_GZIP_LEVEL

    @classmethod
    def from_parts(
        cls,
        *,
        host: str | None,
        port: int | None,
        login: str | None,
        password: str | None,
        extra: dict[str, Any],
    ) -> ConnectionSettings:
        """Build settings from a connection's fields; ``ValueError`` says what to fix.

        ``host`` holds a full URL and wins over the ``region`` extra; with
        neither, the error says to set one. ``password`` is the API token; with
        ``api="v1"`` and a ``login``, it is the user's password instead.
        """
        # Forms may store keys with Airflow's old prefix, and empty fields as "" or null.
        extra = {key.removeprefix(_PREFIX): value for key, value in extra.items() if value not in (None, "")}
        unknown = sorted(set(extra) - set(EXTRAS))
        if unknown:
            raise ValueError(
                f"unknown connection extra(s) {', '.join(unknown)}; known extras: {', '.join(EXTRAS)}"
            )
        if host:
            url = host if "://" in host else f"https://{host}"
            if port and url.count(":") < 2:
                url = f"{url.rstrip('/')}:{port}"
        elif extra.get("region"):
            url = region_url(str(extra["region"]))
        else:
            raise ValueError(
                "the connection has neither a host (a full URL such as http://localhost:8086) "
                "nor a region extra (an InfluxDB Cloud region such as us-east-1-1); set one"
            )
        precision = str(extra.get("precision") or "ns")
        if precision not in PRECISIONS:
            raise ValueError(f"precision extra {precision!r} is not one of {', '.join(PRECISIONS)}")
        api = str(extra.get("api") or "v2")
        if api not in APIS:
            raise ValueError(f"api extra {api!r} is not one of {', '.join(APIS)}")
        return cls(
            url=url,
            token=password or None,
            username=login or None,
            org=extra.get("org") or None,
            bucket=extra.get("bucket") or None,
            precision=precision,
            api=api,
            timeout=float(extra.get("timeout", 60.0)),
            verify_ssl=_flag(extra.get("verify_ssl", True)),
            gzip_level=int(extra.get("gzip_level", DEFAULT_GZIP_LEVEL)),
        )


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"verify_ssl extra {value!r} is not true or false")
