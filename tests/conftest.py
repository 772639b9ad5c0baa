from fault_server import fault  # noqa: F401  (fixtures)
from servers import influxd, victoria  # noqa: F401
