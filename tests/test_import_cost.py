"""DAG files import the operator at every parse: that import must load neither the HTTP
stack, nor the codec, nor a frame library."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import influxdb_write.client


def test_operator_import_loads_no_http_stack_codec_or_frame_library(tmp_path: object) -> None:
    script = textwrap.dedent(
        """
        import sys
        import airflow.sdk
        assert "requests" not in sys.modules, "airflow.sdk itself imported requests"
        import influxdb_write.operators, influxdb_write.decorators, influxdb_write.hooks
        codec = ("influxdb_write.line_protocol.encoder", "influxdb_write.line_protocol.decoder")
        heavy = ("requests", "urllib3", "influxdb_write.client.core", *codec)
        frames = ("pandas", "polars", "pyarrow")
        assert not [m for m in frames if m in sys.modules], "airflow.sdk itself imported a frame library"
        loaded = sorted(m for m in heavy + frames if m in sys.modules)
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


def test_codec_names_load_on_first_use() -> None:
    import influxdb_write.line_protocol as codec
    from influxdb_write.line_protocol import decoder, encoder, frames

    assert codec.Decoder is decoder.Decoder and codec.encode_records is encoder.encode_records
    assert codec.encode_frame is frames.encode_frame
    for name in codec.__all__:
        assert getattr(codec, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        codec.Nope  # noqa: B018


def test_client_names_load_on_first_use() -> None:
    from influxdb_write.client import core, errors

    assert influxdb_write.client.InfluxDBWriteClient is core.InfluxDBWriteClient
    assert influxdb_write.client.PartialWriteError is errors.PartialWriteError
    for name in influxdb_write.client.__all__:
        assert getattr(influxdb_write.client, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        influxdb_write.client.Nope  # noqa: B018
