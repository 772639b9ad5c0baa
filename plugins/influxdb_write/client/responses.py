"""Reading InfluxDB's error responses, whichever version and format sent them.

- v2 (OSS, Cloud TSM): JSON ``{"code", "message", "line"}``; ``line`` is the first
  rejected physical line of the body, 1-based.
- v2 on InfluxDB 3 and Cloud Serverless/Dedicated: the same JSON, where the message
  lists up to 100 errors, one per line: ``error parsing line 2 (1-based): ...``.
- v1: JSON ``{"error": "partial write: unable to parse '<line>': <why> ... dropped=N"}``.
- v3 ``write_lp``: JSON ``{"error", "data": [{"original_line", "line_number",
  "error_message"}]}`` with ``accept_partial=true``; ``"data"`` is one such object with
  ``accept_partial=false``. ``line_number`` counts the lines the server parsed, 1-based,
  and ``original_line`` is cut to 20 bytes, so the batch's own text is reported.
  The ``error`` text differs between versions; only the structure is relied on.
- anything else (a proxy's HTML page, plain text): the text, tags stripped.

Sources: influxdb3_server/src/http.rs and influxdb3_types/src/write.rs (InfluxDB 3),
core/mutable_batch_lp/src/lib.rs (the per-line list).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .batching import Batch
from .errors import RejectedLine

_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_V1_LINE = re.compile(r"unable to parse '(.*?)': (.*?)(?=(?:\nunable to parse '|\s*dropped=\d+|$))", re.S)
_PER_LINE = re.compile(
    r"^(?:error (?:parsing|writing) line (\d+) \(1-based\): (.*)"
    r"|timestamp overflows i64 on line (\d+) \(1-based\))$",
    re.M,
)
MAX_MESSAGE = 1000


def server_message(body: str, content_type: str = "") -> str:
    """The server's message in a response body, readable and bounded in length."""
    data = _json(body)
    if isinstance(data, dict):
        for key in ("message", "error"):
            if isinstance(data.get(key), str) and data[key]:
                return str(data[key])[:MAX_MESSAGE]
    text = _TAGS.sub(" ", body) if "html" in content_type or body.lstrip().startswith("<") else body
    return _SPACE.sub(" ", text).strip()[:MAX_MESSAGE]


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _entry_of_body_line(batch: Batch, body_line: int) -> int | None:
    """Index of the entry holding 1-based physical line ``body_line`` of the body."""
    line = 1
    for index, entry in enumerate(batch.entries):
        line += entry.count("\n")
        if body_line <= line:
            return index
        line += 1
    return None


def rejected_lines(body: str, batch: Batch) -> list[RejectedLine]:
    """The lines of ``batch`` the server names as rejected, numbered in the caller's input."""
    data = _json(body)
    found: list[RejectedLine] = []

    def add(index: int | None, message: str) -> None:
        if index is not None and 0 <= index < len(batch.entries):
            found.append(
                RejectedLine(batch.numbers[index], batch.entries[index], message, batch.source_of(index))
            )

    if isinstance(data, dict) and isinstance(data.get("data"), (list, dict)):
        items = data["data"] if isinstance(data["data"], list) else [data["data"]]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("line_number"), int):
                add(item["line_number"] - 1, str(item.get("error_message", "")))
        return found
    message = server_message(body)
    listed = _PER_LINE.findall(message) if isinstance(data, dict) else []
    if listed:
        for line, why, overflow in listed:
            add(int(line or overflow) - 1, why or "timestamp overflows i64")
        return found
    if isinstance(data, dict) and isinstance(data.get("line"), int):
        add(_entry_of_body_line(batch, data["line"]), message)
        return found
    used: set[int] = set()
    for text, why in _V1_LINE.findall(message if data is None else str(data.get("error", ""))):
        for index, entry in enumerate(batch.entries):
            if index not in used and entry == text:
                used.add(index)
                add(index, why.strip())
                break
    return found
