"""Provider registration: what Airflow's providers manager reads without importing the hook.

Airflow 3.2+ builds the connection form from ``conn-fields`` and
``ui-field-behaviour`` below; 3.0 and 3.1 ask the hook, which serves the same
definitions.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .line_protocol import PRECISIONS
from .regions import REGIONS

CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {
        "label": "InfluxDB Cloud region",
        "description": "Sets the URL for InfluxDB Cloud; leave empty when URL is set.",
        "schema": {"type": ["string", "null"], "enum": [None, *REGIONS]},
    },
    "org": {
        "label": "Organization",
        "description": "Org name (InfluxDB 2.x OSS needs it; Cloud takes it from the token).",
        "schema": {"type": ["string", "null"]},
    },
    "bucket": {
        "label": "Default bucket",
        "description": "Bucket written when a task names none (v1: database or database/rp).",
        "schema": {"type": ["string", "null"]},
    },
    "precision": {
        "label": "Default precision",
        "description": "Unit of integer timestamps.",
        "schema": {"type": ["string", "null"], "enum": list(PRECISIONS), "default": "ns"},
    },
    "api": {
        "label": "Write API",
        "description": "v2: /api/v2/write; v1: /write (InfluxDB 1.x); v3: /api/v3/write_lp.",
        "schema": {"type": ["string", "null"], "enum": ["v2", "v1", "v3"], "default": "v2"},
    },
    "timeout": {
        "label": "Read timeout (seconds)",
        "schema": {"type": ["number", "null"], "default": 60},
    },
    "verify_ssl": {
        "label": "Verify TLS certificates",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "gzip_level": {
        "label": "Gzip level (0 = off)",
        "schema": {"type": ["integer", "null"], "minimum": 0, "maximum": 9, "default": 1},
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {
        "host": "URL (overrides region)",
        "password": "API token",
        "login": "Username (InfluxDB 1.x only)",
    },
    "placeholders": {
        "host": "http://localhost:8086",
        "password": "an InfluxDB API token",
        "org": "my-org",
        "bucket": "my-bucket",
    },
}


def get_provider_info() -> dict[str, Any]:
    """The ``apache_airflow_provider`` entry point."""
    return {
        "package-name": "airflow-provider-influxdb-write",
        "name": "InfluxDB (write)",
        "description": "Write line protocol and records to InfluxDB: exact, fast, safe to retry.",
        "versions": [__version__],
        "task-decorators": [
            {"name": "influxdb_write", "class-name": "influxdb_write.decorators.influxdb_write_task"}
        ],
        "connection-types": [
            {
                "connection-type": "influxdb_write",
                "hook-class-name": "influxdb_write.hooks.InfluxDBWriteHook",
                "hook-name": "InfluxDB (write)",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
