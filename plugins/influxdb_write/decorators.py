"""``@task.influxdb_write``: the decorated function returns lines, records or a DataFrame, which are written.

@task.influxdb_write(bucket="metrics")
def readings(ds=None):
    return [{"measurement": "temp", "fields": {"c": 21.5}}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.bases.decorator import DecoratedOperator, TaskDecorator, task_decorator_factory

try:
    from airflow.sdk.bases.decorator import determine_kwargs
    from airflow.sdk.definitions.context import context_merge
except ImportError:  # Airflow 3.0 keeps these helpers in airflow.utils
    from airflow.utils.context import context_merge  # type: ignore[no-redef,attr-defined,unused-ignore]
    from airflow.utils.operator_helpers import determine_kwargs  # type: ignore[no-redef,unused-ignore]

from .operators import InfluxDBWriteOperator

if TYPE_CHECKING:
    from .sources import Source


class _InfluxDBWriteDecoratedOperator(DecoratedOperator, InfluxDBWriteOperator):
    """Calls the function, then writes what it returned like ``InfluxDBWriteOperator``."""

    custom_operator_name = "@task.influxdb_write"
    template_fields = (*DecoratedOperator.template_fields, *InfluxDBWriteOperator.template_fields)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **DecoratedOperator.template_fields_renderers,
        **InfluxDBWriteOperator.template_fields_renderers,
    }
    _data_from_function = True

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Any = None,
        op_kwargs: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **kwargs)

    def execute(self, context: Any) -> dict[str, Any]:
        # The operator's execute, not DecoratedOperator's: the summary is the return
        # value, and Airflow 3.0's DecoratedOperator would push outputs itself.
        return InfluxDBWriteOperator.execute(self, context)

    def sources(self, context: Mapping[str, Any], precision: str) -> list[Source]:
        context_merge(context, self.op_kwargs)  # type: ignore[arg-type]
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        returned = self.python_callable(*self.op_args, **kwargs)
        from .sources import xcom_sources  # loaded when the task runs, not when DAG files are parsed

        returned_sources = xcom_sources("returned value", returned, self.encoding(precision))
        return [*super().sources(context, precision), *returned_sources]


def influxdb_write_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> TaskDecorator:
    """The ``@task.influxdb_write`` decorator; keyword arguments go to the operator."""
    return task_decorator_factory(
        python_callable=python_callable,
        decorated_operator_class=_InfluxDBWriteDecoratedOperator,
        **kwargs,
    )
