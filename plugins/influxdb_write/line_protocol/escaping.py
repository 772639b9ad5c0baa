"""Escaping of names, keys, tag values and string field values.

InfluxDB reads a backslash as an escape only before the characters that are
special in that position (``,`` and space in a measurement; ``,`` ``=`` and space
in tag keys, tag values and field keys; ``"`` and ``\\`` in string field values).
Everywhere else a backslash is literal. So a name is written by escaping just
those characters, and a name that *ends* in a backslash is refused: the
backslash would escape the separator that follows it, and no escaping can
avoid that.
"""

from __future__ import annotations

import re

from .limits import MAX_NAME_BYTES, MAX_STRING_BYTES

_MEASUREMENT_SPECIAL = re.compile(r"[, ]")
_KEY_SPECIAL = re.compile(r"[,= ]")
_STRING_SPECIAL = re.compile(r'["\\]')
# Control characters cannot be escaped, and servers disagree on how they read them;
# a byte-order mark would be stored as part of the name; a lone surrogate is not
# text that UTF-8 can carry.
_UNWRITABLE = re.compile(r"[\x00-\x1f\x7f\ufeff\ud800-\udfff]|\\\Z")

_MEASUREMENT_TABLE = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_TABLE = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})
STRING_TABLE = str.maketrans({'"': '\\"', "\\": "\\\\"})


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)``, shortened for messages: a 64 KiB key must not flood a log."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 15]}...{text[-12:]}"


def _check_name(name: str, what: str) -> None:
    if not name:
        raise ValueError(f"{what} is empty")
    bad = _UNWRITABLE.search(name)
    if bad is not None:
        char = bad.group()
        if char == "\\":
            raise ValueError(
                f"{what} {shown(name)} ends with a backslash, which would escape the "
                "separator after it; remove or replace the trailing backslash"
            )
        if char == "\ufeff":
            raise ValueError(
                f"{what} {shown(name)} holds a byte-order mark (U+FEFF) at position {bad.start()}, "
                "which InfluxDB would store as part of the name; remove it"
            )
        if "\ud800" <= char <= "\udfff":
            raise ValueError(
                f"{what} {shown(name)} holds a lone surrogate ({char!r}) at position {bad.start()}, "
                "which is not text UTF-8 can carry; was it decoded with errors='surrogateescape'?"
            )
        kind = {"\n": "newline", "\r": "carriage return"}.get(char, "control character")
        raise ValueError(
            f"{what} {shown(name)} contains a {kind} ({char!r}) at position "
            f"{bad.start()}, which line protocol cannot carry"
        )
    if len(name) * 4 > MAX_NAME_BYTES and len(name.encode()) > MAX_NAME_BYTES:
        raise ValueError(f"{what} is longer than {MAX_NAME_BYTES} bytes")


def escape_measurement(name: str) -> str:
    """Escape a measurement name; ``ValueError`` if it cannot be written exactly."""
    _check_name(name, "measurement")
    if name[0] == "#":
        raise ValueError(
            f"measurement {shown(name)} starts with '#', so the line would be read as a "
            "comment and dropped; rename the measurement"
        )
    if _MEASUREMENT_SPECIAL.search(name) is None:
        return name
    return name.translate(_MEASUREMENT_TABLE)


def escape_key(name: str, what: str = "key") -> str:
    """Escape a tag key, tag value or field key; ``ValueError`` if it cannot be written."""
    _check_name(name, what)
    if _KEY_SPECIAL.search(name) is None:
        return name
    return name.translate(_KEY_TABLE)


def quote_string(value: str) -> str:
    """Quote and escape a string field value; ``ValueError`` if over the size limit."""
    if len(value) * 4 > MAX_STRING_BYTES and len(value.encode()) > MAX_STRING_BYTES:
        raise ValueError(f"string value is longer than {MAX_STRING_BYTES} bytes (InfluxDB's limit)")
    if _STRING_SPECIAL.search(value) is None:
        return f'"{value}"'
    return '"' + value.translate(STRING_TABLE) + '"'


_MEASUREMENT_ESCAPE = re.compile(r"\\([, ])")
_KEY_ESCAPE = re.compile(r"\\([,= ])")
_STRING_ESCAPE = re.compile(r'\\(["\\])')


def unescape_measurement(text: str) -> str:
    return _MEASUREMENT_ESCAPE.sub(r"\1", text) if "\\" in text else text


def unescape_key(text: str) -> str:
    return _KEY_ESCAPE.sub(r"\1", text) if "\\" in text else text


def unescape_string(text: str) -> str:
    return _STRING_ESCAPE.sub(r"\1", text) if "\\" in text else text
