"""The lp_* Jinja filters: each escapes as InfluxDB reads back, or refuses with a message."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import jinja2
import jinja2.sandbox
import pytest

from influxdb_write.line_protocol import parse_lines
from influxdb_write.templating import FILTERS, expression_value

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{{ v | lp_measurement }}", "cpu load, 1m", "cpu\\ load\\,\\ 1m"),
        ("{{ v | lp_measurement }}", "a=b", "a=b"),
        ("{{ v | lp_key }}", "a=b c,d", "a\\=b\\ c\\,d"),
        ("{{ v | lp_tag }}", "\\ east", "\\\\ east"),
        ("{{ v | lp_tag }}", 42, "42"),
        ("{{ v | lp_field }}", True, "true"),
        ("{{ v | lp_field }}", 21, "21i"),
        ("{{ v | lp_field(ints_as_floats=True) }}", 21, "21.0"),
        ("{{ v | lp_field(ints_as_floats=True) }}", False, "false"),
        ("{{ v | lp_field }}", 0.1, "0.1"),
        ("{{ v | lp_field }}", decimal.Decimal("2.50"), "2.5"),
        ("{{ v | lp_field }}", 'say "hi" \\', '"say \\"hi\\" \\\\"'),
        ("{{ v | lp_time('s') }}", "2024-05-01T12:00:00Z", "1714564800"),
        ("{{ v | lp_time('ms') }}", dt.datetime(2024, 5, 1, 12, 0, 0, 999_999, tzinfo=UTC), "1714564800999"),
        ("{{ v | lp_time('ns') }}", 1714564800, "1714564800"),
        (
            "{{ v | lp_line('s') }}",
            {"measurement": "m", "tags": {"b": "2", "a": "x y"}, "fields": {"v": 1.5}, "time": 7},
            "m,a=x\\ y,b=2 v=1.5 7",
        ),
    ],
)
def test_filter_output(template: str, value: Any, expected: str) -> None:
    env = jinja2.Environment()
    env.filters.update(FILTERS)
    assert env.from_string(template).render(v=value) == expected


@pytest.mark.parametrize(
    ("template", "value", "message"),
    [
        ("{{ v | lp_tag }}", "ends in \\", "ends with a backslash"),
        ("{{ v | lp_tag }}", "", "tag value is empty"),
        ("{{ v | lp_tag }}", None, "tag value None is not text"),
        ("{{ v | lp_tag }}", True, "tag value True is not text"),
        ("{{ v | lp_key }}", ["a"], "key \\['a'\\] is not text"),
        ("{{ v | lp_measurement }}", {"m": 1}, "measurement {'m': 1} is not text"),
        ("{{ v | lp_measurement }}", "#not a comment", "starts with '#'"),
        ("{{ v | lp_key }}", "two\nlines", "newline"),
        ("{{ v | lp_field }}", float("nan"), "NaN"),
        ("{{ v | lp_field }}", 2**63, "outside the signed 64-bit range"),
        ("{{ v | lp_time('s') }}", "2024-05-01T12:00:00", "has no UTC offset"),
        ("{{ v | lp_time(none) }}", "2024-05-01T12:00:00Z", "lp_time needs a precision"),
        ("{{ v | lp_time('h') }}", 1, "precision"),
    ],
)
def test_filter_refuses(template: str, value: Any, message: str) -> None:
    env = jinja2.Environment()
    env.filters.update(FILTERS)
    with pytest.raises(ValueError, match=message):
        env.from_string(template).render(v=value)


def test_a_filtered_template_parses_back_to_what_was_given() -> None:
    env = jinja2.Environment()
    env.filters.update(FILTERS)
    text = env.from_string(
        "{{ m | lp_measurement }},{{ 'site name' | lp_key }}={{ site | lp_tag }} "
        "{{ 'note' | lp_key }}={{ note | lp_field }},{{ 'n' | lp_key }}={{ n | lp_field }} "
        "{{ t | lp_time('us') }}"
    ).render(m="m, 1", site="a,b=c d\\ e", note='x "y" \\z', n=-3, t="2024-01-01T00:00:00.000001+01:00")
    (line,) = parse_lines(text)
    assert (line.measurement, line.tags, line.fields, line.time) == (
        "m, 1",
        {"site name": "a,b=c d\\ e"},
        {"note": 'x "y" \\z', "n": -3},
        1704063600000001,
    )


CONTEXT = {"v": 21.5, "s": "abc", "i": 3, "none": None, "t": dt.datetime(2024, 3, 1, tzinfo=UTC), "l": [1, 2]}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ v }}", (True, 21.5)),
        ("{{ s }}", (True, "abc")),
        ("{{ i }}", (True, 3)),
        ("{{ none }}", (True, None)),
        ("{{ t }}", (True, dt.datetime(2024, 3, 1, tzinfo=UTC))),
        ("{{ l }}", (True, [1, 2])),
        ("{{ v * 2 }}", (True, 43.0)),
        (" {{ v }}\n", (True, 21.5)),  # blanks around the one expression
        ("{{- v -}}", (True, 21.5)),
        ('{{ "}}" }}', (True, "}}")),
        ("{{ v }} kWh", (False, None)),  # text around it: rendered as text
        ("{{ v }}{{ i }}", (False, None)),
        ("{% if v %}{{ v }}{% endif %}", (False, None)),
        ("{{ missing }}", (False, None)),  # undefined: the text rendering decides
        ("{{ v", (False, None)),  # a syntax error: the text rendering reports it
        ("21.5", (False, None)),
    ],
)
def test_one_expression_keeps_its_type(template: str, expected: tuple[bool, Any]) -> None:
    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    assert expression_value(env, template, CONTEXT) == expected


def test_one_expression_is_evaluated_in_the_sandbox() -> None:
    """An unsafe attribute is undefined to the sandbox, left to the rendering as
    text; using it raises the sandbox's error."""
    env = jinja2.sandbox.SandboxedEnvironment()
    assert expression_value(env, "{{ t.__class__ }}", CONTEXT) == (False, None)
    with pytest.raises(jinja2.exceptions.SecurityError, match="unsafe"):
        expression_value(env, "{{ t.__class__.__subclasses__() }}", CONTEXT)
