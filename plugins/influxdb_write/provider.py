"""Provider registration: what Airflow's providers manager reads without importing the hook.

Airflow 3.2+ builds the connection form from ``conn-fields`` and
``ui-field-behaviour`` below; 3.0 and 3.1 ask the hook, which serves the same
definitions. The extras' fields come from :data:`influxdb_write.settings.EXTRA_BY_NAME`,
the definitions the connection parser uses too. ``asset-uris`` registers the
``influxdb://`` scheme of :mod:`influxdb_write.assets`. ``extra-links`` lists
the bucket link (``airflow providers links``), and ``integrations``,
``operators`` and ``hooks`` describe the package as Apache's providers describe
theirs.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .settings import EXTRA_BY_NAME

CONN_FIELDS: dict[str, dict[str, Any]] = {name: extra.conn_field() for name, extra in EXTRA_BY_NAME.items()}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {
        "host": "URL (overrides region)",
        "password": "API token",
        "login": "Username (InfluxDB 1.x only)",
    },
    # Airflow 3 draws placeholders for the standard fields only; the extras' examples
    # are in their descriptions.
    "placeholders": {
        "host": "http://localhost:8086",
        "password": "an InfluxDB API token",
    },
}


def get_provider_info() -> dict[str, Any]:
    """The ``apache_airflow_provider`` entry point."""
    return {
        "package-name": "airflow-provider-influxdb-write",
        "name": "InfluxDB (write)",
        "description": "Write line protocol and records to InfluxDB: exact, fast, safe to retry.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "InfluxDB",
                "external-doc-url": "https://docs.influxdata.com/",
                "tags": ["software", "service"],
            }
        ],
        "operators": [{"integration-name": "InfluxDB", "python-modules": ["influxdb_write.operators"]}],
        "hooks": [{"integration-name": "InfluxDB", "python-modules": ["influxdb_write.hooks"]}],
        "extra-links": ["influxdb_write.operators.InfluxDBBucketLink"],
        "task-decorators": [
            {"name": "influxdb_write", "class-name": "influxdb_write.decorators.influxdb_write_task"}
        ],
        "asset-uris": [
            {
                "schemes": ["influxdb"],
                "handler": "influxdb_write.assets.sanitize_uri",
                "factory": "influxdb_write.assets.create_asset",
                "to_openlineage_converter": "influxdb_write.assets.convert_asset_to_openlineage",
            }
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
