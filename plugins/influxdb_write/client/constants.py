"""Client options that the Airflow layer also needs, in a module that imports nothing.

``influxdb_write.settings`` validates connection extras against these without
importing the client's HTTP stack (``requests``), so reading a connection or the
provider info stays cheap.
"""

from __future__ import annotations

APIS = ("v2", "v1", "v3")
# Measured on 5,000 typical lines (README): level 1 compresses 4.4x at 161 MB/s,
# level 6 compresses 5.3x at 63 MB/s. Compression is the client's main CPU cost,
# so the fast level wins; raise it for slow links.
DEFAULT_GZIP_LEVEL = 1

# The largest request body each API takes by default, and the batch limit kept
# under it (uncompressed bytes; every server also limits what it decompresses):
# InfluxDB Cloud (TSM and Serverless) refuses bodies over 50 MB; InfluxDB 1.x
# `max-body-size` defaults to 25,000,000 bytes; InfluxDB 3 Core and Enterprise
# `--max-http-request-size` defaults to 10,485,760 bytes.
DEFAULT_MAX_BATCH_BYTES_BY_API = {"v2": 40_000_000, "v1": 24_000_000, "v3": 10_000_000}
