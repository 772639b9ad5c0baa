"""Python's cyclic garbage collector, kept off the task's input while it is pulled and written.

A task pulling a large XCom builds millions of objects (300,000 record dicts
and their values) that live until the task ends. CPython's collector scans
every tracked object again each time the number of new ones outgrows its
thresholds: measured in ``airflow dags test`` with 300,000 records, it took
3.4 s of a 12.1 s pull, and 0.46 s of the 3.5 s the check and the write took
after it. Neither pass makes cyclic garbage worth collecting: the pulled values
are plain data.

So the collector is paused while the task pulls its input (the pull makes
what it keeps; nothing in it runs the user's code), and the input is then
frozen (:func:`gc.freeze`) while it is checked and written: later collections
still run, over the objects made since, so memory stays bounded however many
batches the write sends. Both are undone when the block ends, also when it
raises.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No collection inside the block; the collector's state is restored after it
    (left off if it was off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def frozen() -> Iterator[None]:
    """The objects that exist as the block starts are left out of its collections.
    They are handed back to the collector after it, unless objects were frozen
    already (by the process that forked this one, as Airflow's executors do),
    which only whoever froze them may unfreeze."""
    already = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not already:
            gc.unfreeze()
