"""The retry policy is a pure function of attempt, Retry-After and chance."""

from __future__ import annotations

import email.utils

import pytest

from influxdb_write.client import RetryPolicy, parse_retry_after

DELAYS = [
    # attempt, retry_after, rand, expected
    (1, None, 0.0, 1.0),
    (2, None, 0.0, 2.0),
    (3, None, 0.0, 4.0),
    (10, None, 0.0, 60.0),  # capped at max_backoff
    (3, None, 1.0, 2.0),  # full jitter halves it (jitter=0.5)
    (1, 7.0, 1.0, 7.0),  # Retry-After wins, no jitter
    (1, 10_000.0, 0.0, 300.0),  # capped at max_retry_after
    (1, -5.0, 0.0, 0.0),
]


@pytest.mark.parametrize(("attempt", "retry_after", "rand", "expected"), DELAYS)
def test_delay(attempt: int, retry_after: float | None, rand: float, expected: float) -> None:
    assert RetryPolicy().delay(attempt, retry_after, rand=rand) == expected


def test_policy_is_immutable_and_checked() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_retries = 1  # type: ignore[misc]
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    assert RetryPolicy.none().max_retries == 0


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(date, now=lambda: 1_000_000.0) == 30.0
    assert parse_retry_after(date, now=lambda: 2_000_000.0) == 0.0
