"""InfluxDB Cloud regions and their URLs (docs data file ``influxdb_urls.yml``)."""

from __future__ import annotations

REGIONS: dict[str, str] = {
    "us-west-2-1": "https://us-west-2-1.aws.cloud2.influxdata.com",
    "us-west-2-2": "https://us-west-2-2.aws.cloud2.influxdata.com",
    "us-east-1-1": "https://us-east-1-1.aws.cloud2.influxdata.com",
    "eu-central-1-1": "https://eu-central-1-1.aws.cloud2.influxdata.com",
    "us-central1-1": "https://us-central1-1.gcp.cloud2.influxdata.com",
    "westeurope-1": "https://westeurope-1.azure.cloud2.influxdata.com",
    "eastus-1": "https://eastus-1.azure.cloud2.influxdata.com",
}


def region_url(region: str) -> str:
    """The URL of an InfluxDB Cloud region id; ``ValueError`` listing the valid ids."""
    try:
        return REGIONS[region.strip()]
    except KeyError:
        raise ValueError(
            f"unknown InfluxDB Cloud region {region!r}; valid regions: {', '.join(REGIONS)}"
        ) from None
