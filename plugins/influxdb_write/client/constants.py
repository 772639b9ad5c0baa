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
