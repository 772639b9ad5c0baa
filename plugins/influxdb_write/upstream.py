"""What an upstream task returned, each value with the map index of the task instance that returned it.

A mapped upstream task's values are pulled in one request, in map index order,
without the indexes: a map index that was skipped, failed or returned ``None``
has no value, so the position of a value in that list is not its map index. The
map indexes come from the task instance states (one more request): each index
that succeeded holds one value, in the same order. When the counts differ (an
index succeeded by returning ``None``), each map index is asked for its own
value, one request each. Loaded when a task runs, not when a DAG file is parsed.
"""

from __future__ import annotations

from typing import Any

SUCCESS = "success"


def returned_values(ti: Any, task_id: str, mapped: bool) -> list[tuple[int | None, Any]]:
    """``(map index, value)`` for each task instance of ``task_id`` that returned a
    value, in map index order; ``[(None, value)]`` for a task that is not ``mapped``
    (``value`` is ``None`` when it returned nothing). A mapped task none of whose
    instances returned a value gives ``[]``."""
    if not mapped:
        return [(None, ti.xcom_pull(task_ids=task_id))]
    # A list of task ids: always a list, even of one value ([None] when there is none).
    values = list(ti.xcom_pull(task_ids=[task_id]))
    if len(values) == 1 and values[0] is None:
        values = []
    found = ti.get_task_states(dag_id=ti.dag_id, task_ids=[task_id], run_ids=[ti.run_id])
    states = found.get(ti.run_id) or {}
    prefix = f"{task_id}_"
    indexes = sorted(
        int(key[len(prefix) :]) for key in states if key.startswith(prefix) and key[len(prefix) :].isdigit()
    )
    succeeded = [index for index in indexes if states[f"{prefix}{index}"] == SUCCESS]
    if len(succeeded) == len(values):
        return list(zip(succeeded, values, strict=True))
    pulled = ti.xcom_pull(task_ids=task_id, map_indexes=indexes)
    return [(index, value) for index, value in zip(indexes, pulled, strict=True) if value is not None]
