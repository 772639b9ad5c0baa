"""The Airflow hook: an InfluxDB connection turned into a configured write client.

The connection's password is the API token, so Airflow masks it in the UI and
in logs. Host (a full URL) or the ``region`` extra says where InfluxDB is; the
other extras are defaults for writes (see :mod:`influxdb_write.settings`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 3.0's Task SDK has no BaseHook yet
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined,unused-ignore]

from .settings import ConnectionSettings

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from .client import InfluxDBWriteClient, WriteResult
    from .client.batching import Data


class InfluxDBWriteHook(BaseHook):
    """Writes to InfluxDB with the settings of an ``influxdb_write`` connection.

    :param influxdb_conn_id: the connection id (default ``influxdb_write_default``).
    """

    conn_name_attr = "influxdb_conn_id"
    default_conn_name = "influxdb_write_default"
    conn_type = "influxdb_write"
    hook_name = "InfluxDB (write)"

    def __init__(self, influxdb_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.influxdb_conn_id = influxdb_conn_id

    def __repr__(self) -> str:
        return f"InfluxDBWriteHook(influxdb_conn_id={self.influxdb_conn_id!r})"

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection's settings; ``ValueError`` naming the connection if they are wrong."""
        conn = self.get_connection(self.influxdb_conn_id)
        try:
            settings = ConnectionSettings.from_parts(
                host=conn.host,
                port=conn.port,
                login=conn.login,
                password=conn.password,
                extra=conn.extra_dejson,
            )
        except ValueError as exc:
            raise ValueError(f"connection {self.influxdb_conn_id!r}: {exc}") from None
        _mask(settings)
        return settings

    def get_client(self, **overrides: Any) -> InfluxDBWriteClient:
        """A new client configured from the connection; keyword arguments override it.

        Close it when done (it is a context manager).
        """
        from .client import InfluxDBWriteClient

        s = self.settings
        options: dict[str, Any] = {
            "org": s.org,
            "api": s.api,
            "timeout": (min(10.0, s.timeout), s.timeout),
            "verify": s.verify_ssl,
            "ca_cert": s.ca_cert,
            "client_cert": s.client_cert,
            "client_key": s.client_key,
            "client_key_password": s.client_key_password,
            "proxy": s.proxy,
            "proxy_from_env": s.proxy_from_env,
            "headers": s.headers,
            "gzip_level": s.gzip_level,
        }
        if s.api == "v3":
            options.update(accept_partial=s.accept_partial, no_sync=s.no_sync)
        if s.api == "v1" and s.username:
            options.update(username=s.username, password=s.token)
            token = None
        else:
            token = s.token
        options.update(overrides)
        return InfluxDBWriteClient(s.url, token, **options)

    def write(
        self,
        data: Data,
        *,
        bucket: str | None = None,
        precision: str | None = None,
        org: str | None = None,
        field_types: Mapping[str, str] | None = None,
        **frame: Any,
    ) -> WriteResult:
        """Write ``data`` (line protocol, records or a DataFrame), with the connection's
        bucket, precision and org unless given. ``field_types`` and a frame's column
        options (``measurement``, ``tag_columns``, ...) go to
        :meth:`InfluxDBWriteClient.write <influxdb_write.client.InfluxDBWriteClient.write>`."""
        s = self.settings
        target = bucket or s.bucket
        if not target:
            raise ValueError(
                f"no bucket: pass bucket= or set the bucket extra of connection {self.influxdb_conn_id!r}"
            )
        from .client import InfluxDBWriteError

        with self.get_client() as client:
            try:
                result = client.write(
                    target,
                    data,
                    precision=precision or s.precision,
                    org=org or s.org,
                    field_types=field_types,
                    **frame,
                )
            except InfluxDBWriteError as exc:
                if exc.may_have_written:  # what landed, or may have, is in the lineage
                    self.report_lineage(target)
                raise
        if result.lines:
            self.report_lineage(target)
        return result

    def report_lineage(self, bucket: str) -> None:
        """Report ``bucket`` on this connection's server as an output of the running task
        to Airflow's hook lineage collector, so Airflow's lineage and the OpenLineage
        provider see every write without user code. Writes call it once the server has
        confirmed lines (also when they fail later), never for a dry run, a write
        refused by validation or one that wrote nothing. The asset is
        ``influxdb://<host>:<port>/<bucket>`` (see :mod:`influxdb_write.assets`). Without
        a lineage reader installed, Airflow's collector ignores it.
        """
        try:
            from airflow.sdk.lineage import get_hook_lineage_collector
        except ImportError:  # Airflow 3.0 keeps the collector outside the Task SDK
            from airflow.lineage.hook import (  # type: ignore[no-redef,import-not-found,unused-ignore]
                get_hook_lineage_collector,
            )

        get_hook_lineage_collector().add_output_asset(context=self, uri=self.asset(bucket).uri)

    def asset(self, bucket: str) -> Asset:
        """The asset of ``bucket`` on this connection's server: ``influxdb://<host>:<port>/<bucket>``
        (see :mod:`influxdb_write.assets`). Reads the connection."""
        from .assets import create_asset

        return create_asset(url=self.settings.url, bucket=bucket)

    def bucket_url(self, bucket: str) -> str | None:
        """A link to the bucket in the InfluxDB UI, best effort; ``None`` where there is no such page.

        Only InfluxDB 2.x OSS and Cloud (``api="v2"``) have a UI with bucket pages;
        InfluxDB 1.x and InfluxDB 3 Core/Enterprise have none. For v2 the bucket's
        and org's ids are looked up (needs read access to buckets), through the
        connection's TLS, proxy and headers; if that fails, the link opens the
        InfluxDB UI's home page.
        """
        s = self.settings
        if s.api != "v2":
            return None
        if not s.token:
            return s.url
        with self.get_client() as client:
            found = client.find_bucket(bucket)
        if found is None:
            return s.url
        return f"{s.url}/orgs/{found[0]}/load-data/buckets/{found[1]}"

    def test_connection(self) -> tuple[bool, str]:
        """Check that the token can write to the connection's bucket, writing no point."""
        from .client import InfluxDBWriteError

        try:
            s = self.settings
            if not s.bucket:
                return False, "Set the bucket extra: the test checks write access to that bucket."
            with self.get_client() as client:
                return True, client.check_write(s.bucket)
        except (InfluxDBWriteError, ValueError) as exc:
            return False, str(exc)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form for Airflow 3.0 and 3.1 (3.2+ reads the provider info)."""
        from .provider import UI_FIELD_BEHAVIOUR

        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields for Airflow 3.0 and 3.1, which build forms from wtforms widgets."""
        from flask_appbuilder.fieldwidgets import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            BS3PasswordFieldWidget,
            BS3TextAreaFieldWidget,
            BS3TextFieldWidget,
        )
        from flask_babel import lazy_gettext  # type: ignore[import-not-found,import-untyped,unused-ignore]
        from wtforms import PasswordField, StringField  # type: ignore[import-not-found,import-untyped,unused-ignore]

        from .provider import CONN_FIELDS

        fields = {}
        for name, spec in CONN_FIELDS.items():
            widget = spec["schema"].get("format")
            if widget == "password":
                fields[name] = PasswordField(lazy_gettext(spec["label"]), widget=BS3PasswordFieldWidget())
            else:
                area = widget == "multiline"
                fields[name] = StringField(
                    lazy_gettext(spec["label"]),
                    widget=BS3TextAreaFieldWidget() if area else BS3TextFieldWidget(),
                )
        return fields


def _mask(settings: ConnectionSettings) -> None:
    """Have Airflow mask the secrets it does not know to mask by name: the key's text,
    the proxy's password, the gateway headers' values. (It masks the token and the
    values of extras named like secrets, ``client_key_password`` and ``proxy``.)"""
    from .client.proxy import proxy_credentials
    from .client.tls import is_pem

    secrets = [settings.client_key_password, *(settings.headers or {}).values()]
    credentials = proxy_credentials(settings.proxy)
    if credentials:
        secrets.append(credentials[1])
    if settings.client_key and is_pem(settings.client_key):
        secrets.append(settings.client_key)
        # Each line of the key, in case a message shows only some of them.
        secrets += [
            line for line in re.split(r"\s+|\\n", settings.client_key) if len(line) > 8 and "-" not in line
        ]
    chosen = [secret for secret in secrets if secret]
    if not chosen:
        return
    from airflow.sdk.log import mask_secret

    for secret in chosen:
        mask_secret(secret)
