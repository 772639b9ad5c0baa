"""The OpenLineage outputs of a write: the bucket it is to write, then each measurement it wrote.

OpenLineage names a database's table by its server and its place in the
database (``spec/Naming.md``: namespace ``postgres://{host}:{port}``, name
``{database}.{schema}.{table}``; ``mysql://{host}:{port}``, ``{database}.{table}``).
InfluxDB's database is the bucket (InfluxDB 1.x: ``db/rp``) and its table the
measurement, so a measurement's dataset is namespace ``influxdb://<host>:<port>``,
name ``<bucket>.<measurement>``; the bucket's own dataset, listed before the write
and when measurements are not known, is ``<bucket>``, as
:func:`~influxdb_write.assets.convert_asset_to_openlineage` names it.

Each measurement's dataset carries ``outputStatistics`` (``rowCount``: the
lines the server confirmed; ``size``: their bytes, uncompressed), counted from
the confirmed batches by :class:`~influxdb_write.line_protocol.tally.MeasurementTally`,
and, after a write that completed with its input checked, a ``schema`` facet:
``time``, the tag keys (strings) and the field keys with the InfluxDB type the
check found. Imported only when lineage is asked for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .hooks import InfluxDBWriteHook
    from .line_protocol.tally import Measurement

log = logging.getLogger(__name__)

MAX_SCHEMA_FIELDS = 1_000  # columns listed in one measurement's schema facet
# The names InfluxQL's SHOW FIELD KEYS gives field types (InfluxDB Cloud's bucket schemas use them too).
FIELD_TYPES = {
    "a float": "float",
    "an integer": "integer",
    "an unsigned integer": "unsigned",
    "a string": "string",
    "a boolean": "boolean",
}


class Landed(NamedTuple):
    """What a write left on the server, for lineage: the bucket, the lines the server
    confirmed and their bytes (None: not known), each measurement's counts (None: not
    counted) and each measurement's field types (None: not known, the input was not
    checked or the write did not complete)."""

    bucket: str
    lines: int
    bytes: int | None
    measurements: dict[str, Measurement] | None = None
    fields: dict[str, dict[str, str]] | None = None


def wanted(operator: Any) -> bool:
    """Whether the OpenLineage provider will ask ``operator`` for its lineage: installed,
    configured with a transport, and this operator not disabled. Counting measurements
    costs a cut of every entry, so a write counts them only then."""
    try:
        from airflow.providers.openlineage import conf
    except ImportError:
        return False
    kind = type(operator)
    path = f"{kind.__module__}.{kind.__qualname__}"
    try:
        return not conf.is_disabled() and path not in conf.disabled_operators()
    except Exception:  # a configuration the provider cannot read: count, the write does not depend on it
        return True


def bucket_output(
    hook: InfluxDBWriteHook, bucket: str, lines: int | None = None, size: int | None = None
) -> Any:
    """The bucket's dataset, with the lines and bytes written when given."""
    from airflow.providers.common.compat.openlineage.facet import (
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )

    from .assets import convert_asset_to_openlineage

    dataset = convert_asset_to_openlineage(hook.asset(bucket), None)
    facets: dict[str, Any] = {}
    if lines is not None:
        facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=lines, size=size)
    return OutputDataset(namespace=dataset.namespace, name=dataset.name, outputFacets=facets)


def outputs(hook: InfluxDBWriteHook, landed: Landed) -> list[Any]:
    """One dataset per measurement written, or the bucket's when they were not counted."""
    if not landed.measurements:
        return [bucket_output(hook, landed.bucket, landed.lines, landed.bytes)]
    from airflow.providers.common.compat.openlineage.facet import (
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )

    from .assets import convert_asset_to_openlineage

    bucket = convert_asset_to_openlineage(hook.asset(landed.bucket), None)
    found = []
    for name, counted in landed.measurements.items():
        facets = {}
        if landed.fields is not None:
            facets["schema"] = _schema(name, counted.tag_keys, landed.fields.get(name, {}))
        found.append(
            OutputDataset(
                namespace=bucket.namespace,
                name=f"{bucket.name}.{name}",
                facets=facets,
                outputFacets={
                    "outputStatistics": OutputStatisticsOutputDatasetFacet(
                        rowCount=counted.lines, size=counted.bytes
                    )
                },
            )
        )
    return found


def _schema(measurement: str, tag_keys: tuple[str, ...], fields: dict[str, str]) -> Any:
    from airflow.providers.common.compat.openlineage.facet import (
        SchemaDatasetFacet,
        SchemaDatasetFacetFields,
    )

    columns = [SchemaDatasetFacetFields(name="time", type="timestamp", description="time")]
    columns += [SchemaDatasetFacetFields(name=key, type="string", description="tag") for key in tag_keys]
    columns += [
        SchemaDatasetFacetFields(name=key, type=FIELD_TYPES[kind], description="field")
        for key, kind in fields.items()
    ]
    if len(columns) > MAX_SCHEMA_FIELDS:
        log.warning(
            "Lineage: measurement %r has %d tag and field keys; its schema lists the first %d",
            measurement,
            len(columns) - 1,
            MAX_SCHEMA_FIELDS - 1,
        )
        columns = columns[:MAX_SCHEMA_FIELDS]
    return SchemaDatasetFacet(fields=columns)
