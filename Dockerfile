# The Airflow image of docker-compose.yaml: the official image with this
# package installed, as https://airflow.apache.org/docs/docker-stack/build.html
# recommends. Installing "apache-airflow==${AIRFLOW_VERSION}" alongside keeps
# pip from changing the image's Airflow.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2
FROM ${AIRFLOW_IMAGE}
COPY --chown=airflow:root pyproject.toml README.md LICENSE /opt/airflow-provider-influxdb-write/
COPY --chown=airflow:root plugins/influxdb_write /opt/airflow-provider-influxdb-write/plugins/influxdb_write
# The pandas extra: the sample DAG influxdb_etl_meter_frames writes a DataFrame.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/airflow-provider-influxdb-write[pandas]"
