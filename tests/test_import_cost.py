"""DAG files import the operator at every parse: that import must not load the HTTP stack."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import influxdb_write.client


def test_operator_import_loads_no_http_stack(tmp_path: object) -> None:
    script = textwrap.dedent(
        """
        import sys
        import airflow.sdk
        assert "requests" not in sys.modules, "airflow.sdk itself imported requests"
        import influxdb_write.operators, influxdb_write.decorators, influxdb_write.hooks
        loaded = sorted(m for m in ("requests", "urllib3", "influxdb_write.client.core") if m in sys.modules)
        print(",".join(loaded))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == ""


def test_client_names_load_on_first_use() -> None:
    from influxdb_write.client import core, errors

    assert influxdb_write.client.InfluxDBWriteClient is core.InfluxDBWriteClient
    assert influxdb_write.client.PartialWriteError is errors.PartialWriteError
    for name in influxdb_write.client.__all__:
        assert getattr(influxdb_write.client, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        influxdb_write.client.Nope  # noqa: B018
