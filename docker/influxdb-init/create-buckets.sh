#!/bin/bash
# Runs once, right after InfluxDB's first setup (DOCKER_INFLUXDB_INIT_MODE=setup)
# has created the org, the first bucket and the admin token, with the influx
# CLI already configured with that token. Creates the other buckets the sample
# DAGs write to, listed in INFLUXDB_EXTRA_BUCKETS.
set -euo pipefail
for bucket in ${INFLUXDB_EXTRA_BUCKETS}; do
  influx bucket create --name "${bucket}" --org "${DOCKER_INFLUXDB_INIT_ORG}"
done
