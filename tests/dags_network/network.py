"""Test DAG: writes through an enterprise network (tests/test_network.py).

``secure`` writes to influxd behind mutual TLS, through a proxy that asks for
credentials, with the CA, the client certificate and its encrypted key given as
PEM text in the connection ``iw_net``; ``echoed`` writes to a server whose error
page echoes every request header (connection ``iw_echo``) and fails.
"""

import pendulum
from airflow.sdk import DAG

from influxdb_write.operators import InfluxDBWriteOperator

with DAG("iw_network", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    InfluxDBWriteOperator(
        task_id="secure",
        influxdb_conn_id="iw_net",
        bucket="iw_network",
        line_protocol="net,site=a v=1i 1700000000000000000\nnet,site=b v=2i 1700000000000000000",
    )
    InfluxDBWriteOperator(
        task_id="echoed",
        influxdb_conn_id="iw_echo",
        bucket="iw_network",
        line_protocol="net,site=c v=3i 1700000000000000000",
    )
