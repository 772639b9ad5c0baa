import os
import tempfile

# Airflow reads its home at import time: give the tests their own, empty one.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"

from fault_server import fault  # noqa: F401  (fixtures)
from servers import influxd, victoria  # noqa: F401
