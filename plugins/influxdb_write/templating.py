"""Jinja filters that write line protocol parts exactly.

A template that pastes a value into line protocol must escape it the way
InfluxDB reads it back, and must refuse what cannot be written. These filters
do both with the codec; ``InfluxDBWriteOperator`` adds them to the Jinja
environment of every template it renders (``user_defined_filters`` of the same
name win). A value that cannot be written raises ``ValueError`` naming it, so
the task fails while rendering, before anything is sent::

    {{ params.measurement | lp_measurement }},site={{ params.site | lp_tag }} \\
    {{ "temp" | lp_key }}={{ params.temp | lp_field }} {{ params.time | lp_time(task.precision) }}

- ``lp_measurement``: a measurement name.
- ``lp_key``: a tag key or field key.
- ``lp_tag``: a tag value (an empty one is an error: leave the tag out instead).
- ``lp_field``: a field value, typed as a record's would be (``True`` ->
  ``true``, ``3`` -> ``3i``, ``2.5`` -> ``2.5``, text quoted and escaped);
  ``lp_field(ints_as_floats=True)`` writes ``3`` as ``3.0``, for values typed
  into forms, where InfluxDB would otherwise fix the field's type as integer.
- ``lp_time(precision)``: an aware datetime, ISO 8601 string or int as an
  integer timestamp in ``precision``; pass the operator's (``task.precision``).
- ``lp_line(precision)``: a whole record dict as one line.

:func:`expression_value` gives a template that is one expression the value it
evaluates to, not its text: the operator renders record values with it, so that
``"{{ params.v }}"`` with ``v=21.5`` is written as a float field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import nodes

from .line_protocol import encode_field_value, encode_record, encode_time
from .line_protocol.escaping import escape_key, escape_measurement


def lp_measurement(value: Any) -> str:
    return escape_measurement(_text(value, "measurement"))


def lp_key(value: Any) -> str:
    return escape_key(_text(value, "key"))


def lp_tag(value: Any) -> str:
    return escape_key(_text(value, "tag value"), "tag value")


def _text(value: Any, what: str) -> str:
    # Names are text; numbers read as their digits. Anything else (None, True, a
    # list) would be written as its Python repr, which is never what was meant.
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{what} {value!r} is not text; give text, or leave it out")


def lp_field(value: Any, ints_as_floats: bool = False) -> str:
    if ints_as_floats and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return encode_field_value(value)


def lp_time(value: Any, precision: str | None) -> str:
    return str(encode_time(value, _given(precision, "lp_time")))


def lp_line(record: Any, precision: str | None) -> str:
    return encode_record(record, precision=_given(precision, "lp_line"))


def _given(precision: str | None, name: str) -> str:
    # Guessing a unit here is how seconds end up read as nanoseconds, in 1970.
    if precision is None:
        raise ValueError(f"{name} needs a precision: set precision= on the operator and pass task.precision")
    return precision


FILTERS = {
    "lp_measurement": lp_measurement,
    "lp_key": lp_key,
    "lp_tag": lp_tag,
    "lp_field": lp_field,
    "lp_time": lp_time,
    "lp_line": lp_line,
}


def expression_value(env: jinja2.Environment, text: str, context: Mapping[str, Any]) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is one Jinja expression (``{{ ... }}``, with
    nothing around it but blanks): the value it evaluates to in ``env``, of its own
    type (a float stays a float, a datetime a datetime, ``None`` stays ``None``).
    ``(False, None)`` for any other text (``"{{ v }} kWh"``, two expressions, a
    statement, a syntax error) and for an undefined value: those are left to the
    usual rendering as text, which also raises for an undefined name as it should.
    """
    if env.variable_start_string not in text:
        return False, None
    try:
        tree = env.parse(text)
    except jinja2.TemplateSyntaxError:
        return False, None
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return False, None
    parts = [
        node
        for node in tree.body[0].nodes
        if not (isinstance(node, nodes.TemplateData) and not node.data.strip())
    ]
    if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
        return False, None
    # As Environment.compile_expression does, without its source text: the value is
    # assigned to a variable, so it is never turned into text. The sandbox of a
    # sandboxed environment applies as in any template it compiles.
    body = [nodes.Assign(nodes.Name("result", "store"), parts[0], lineno=1)]
    template = env.from_string(nodes.Template(body, lineno=1))
    run = template.new_context(dict(context))
    for _ in template.root_render_func(run):
        pass
    value = run.vars["result"]
    if isinstance(value, jinja2.Undefined):
        return False, None
    return True, value
