import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Airflow reads its home at import time: give the tests their own, empty one.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"

from fault_server import fault  # noqa: F401  (fixtures)
from servers import influxd, victoria  # noqa: F401


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item (``item.rep_call``...), so a fixture
    can tell after the test whether it failed (the browser tests then save the page)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """Replace methods, given as ``(class, name)`` pairs, by stubs that note their
    name and return an empty iterator; the list of names noted is returned."""

    def replace(*targets: tuple[Any, str]) -> list[str]:
        calls: list[str] = []
        for owner, name in targets:

            def call(*args: Any, _name: str = name, **kwargs: Any) -> Any:
                calls.append(_name)
                return iter(())

            monkeypatch.setattr(owner, name, call)
        return calls

    return replace
