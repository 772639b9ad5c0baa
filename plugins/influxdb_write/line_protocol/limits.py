"""The sizes InfluxDB and the write client allow, in one place.

The codec refuses anything over these limits before it is sent, so that a
passing validation is never followed by a size error from the client or the
server. Sources: docs/line-protocol.md, section "Limits".
"""

from __future__ import annotations

# A measurement, tag key, tag value or field key: part of the series key, which
# InfluxDB limits to 65,535 bytes.
MAX_NAME_BYTES = 65_535
# InfluxDB's storage engine (1.x, 2.x) refuses a point when its series key plus
# "#!~#" plus a field key is over this ("max key length exceeded", influxd 1.6.7).
MAX_KEY_BYTES = 65_535
KEY_SEPARATOR_BYTES = len("#!~#")
# InfluxDB documents 64 KiB as the string field value limit.
MAX_STRING_BYTES = 65_536
# A string value is at most MAX_STRING_BYTES once unescaped, so its escaped text
# is at most twice that: a quote not closed within this many characters is
# missing, and the decoder stops looking for it there.
STRING_SCAN_CHARS = 2 * MAX_STRING_BYTES + 1
# The write client's default max_batch_bytes for each API (client/constants.py;
# tests/test_decoder.py keeps the two equal): no request, so no entry, may be
# larger. InfluxDB Cloud refuses request bodies over 50 MB, InfluxDB 1.x's
# max-body-size defaults to 25,000,000 bytes, InfluxDB 3 Core's
# --max-http-request-size to 10,485,760.
MAX_ENTRY_BYTES_BY_API = {"v2": 40_000_000, "v1": 24_000_000, "v3": 10_000_000}
DEFAULT_MAX_ENTRY_BYTES = MAX_ENTRY_BYTES_BY_API["v2"]
# Field types are remembered per (measurement, field key) to find type
# conflicts inside one input; past this many pairs, new pairs are not tracked.
MAX_TRACKED_FIELDS = 100_000
