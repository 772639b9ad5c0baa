"""Extra HTTP headers for gateways in front of InfluxDB, checked once.

An API gateway often wants a header of its own (a tenant, a key). Such headers
are added to every request, but they may not replace the ones the write depends
on: the token (``Authorization``), how the body is encoded (``Content-Type``,
``Content-Encoding``, ``Content-Length``, ``Transfer-Encoding``), the ``Host``,
or the proxy's credentials, which belong in the proxy URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

RESERVED = (
    "Authorization",
    "Content-Type",
    "Content-Encoding",
    "Content-Length",
    "Transfer-Encoding",
    "Host",
    "Proxy-Authorization",
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def check_headers(headers: Mapping[Any, Any]) -> dict[str, str]:
    """``headers`` as a dict of text; ``ValueError`` names a header that cannot be sent
    or that would replace one the client sets."""
    reserved = {name.lower(): name for name in RESERVED}
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not a valid HTTP header name")
        if name.lower() in reserved:
            what = "the proxy extra's URL" if name.lower() == "proxy-authorization" else "the client"
            raise ValueError(
                f"header {name!r} may not be set in headers: {what} sets it "
                f"(headers may not replace {', '.join(RESERVED)})"
            )
        if not isinstance(value, str):
            raise ValueError(f"header {name!r}: the value must be text, not {type(value).__name__}")
        if not _VALUE.fullmatch(value):
            raise ValueError(
                f"header {name!r}: the value holds a line break, a control character or a "
                "non-Latin-1 letter, which cannot be sent in an HTTP header"
            )
        checked[name] = value
    return checked
