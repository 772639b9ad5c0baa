"""Print the client's messages for 401, 403, 404, 413 and 422 answers after a first batch was confirmed.

The errors page (docs/errors.md) quotes this output. Each case writes 10 lines in
batches of 5 to the fault server of tests/fault_server.py (a real HTTP server on
loopback): the first batch is answered 204, the second with the status, and a
body as InfluxDB 2.x (or, for 413, nginx in front of it) sends it::

    PYTHONPATH=plugins:tests .venv/bin/python scripts/error_messages.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / name) for name in ("plugins", "tests")]

from fault_server import FaultServer, Reply, Sleeps  # noqa: E402
from influxdb_write.client import InfluxDBWriteClient, InfluxDBWriteError  # noqa: E402

NGINX_413 = "<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>"  # noqa: E501
CASES = [
    Reply(401, '{"code":"unauthorized","message":"unauthorized access"}'),
    Reply(403, '{"code":"forbidden","message":"insufficient permissions for write"}'),
    Reply(404, '{"code":"not found","message":"bucket \\"metrics\\" not found"}'),
    Reply(413, NGINX_413, {"Content-Type": "text/html"}),
    Reply(
        422,
        '{"code":"unprocessable entity","message":"failure writing points to database: '
        'partial write: points beyond retention policy dropped=1"}',
    ),
]
LINES = [f"m,n={n} v={n}i {n}" for n in range(1, 11)]


def main() -> None:
    server = FaultServer()
    try:
        for reply in CASES:
            server.will(Reply(204), reply)
            client = InfluxDBWriteClient(server.url, "token", org="acme", max_batch_lines=5, sleep=Sleeps())
            try:
                client.write("metrics", LINES, precision="s")
            except InfluxDBWriteError as exc:
                print(f"{type(exc).__name__}: {exc}")
            finally:
                client.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
