"""``[core] hostname_callable`` for the Celery tests' workers.

Task instances record the hostname of the worker that ran them. Every worker of
the tests runs on this one machine, so each is given a name in
``INFLUXDB_WRITE_TEST_WORKER``, and that is its hostname; elsewhere, Airflow's default.
Imported by the workers (``tests/`` is on their ``PYTHONPATH``): standard library only.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("INFLUXDB_WRITE_TEST_WORKER") or socket.getfqdn()
