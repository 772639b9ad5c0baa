"""airflow-provider-influxdb-write: get data into InfluxDB from Apache Airflow.

The codec (:mod:`influxdb_write.line_protocol`) imports nothing from Airflow.
"""

__version__ = "0.2.0"
