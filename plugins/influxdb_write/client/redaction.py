"""Keeping the token and the v1 password out of everything built from server text.

A server or a proxy may echo request headers in an error page; messages, log
lines and exceptions quote server text, so every such text passes through a
:class:`Redactor` first.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import quote

MASK = "***"
# As Airflow's secrets masker: a shorter secret would turn every word holding it
# into "***" ("not" into "no***" for the token "t"), and guards little.
MIN_LENGTH = 5


class Redactor:
    """Replaces each secret, and the forms it travels in, with ``***``. Secrets
    shorter than ``MIN_LENGTH`` are left alone, as Airflow leaves them."""

    def __init__(
        self,
        token: str | None,
        username: str | None = None,
        password: str | None = None,
        *,
        secrets: Iterable[str | None] = (),
        basic: Iterable[tuple[str, str]] = (),
    ) -> None:
        """``secrets`` are other secrets (a key password, a gateway's header values);
        ``basic`` other user and password pairs (a proxy's), masked with their
        Basic-auth form."""
        pairs = [*([(username, password)] if username is not None and password else []), *basic]
        forms: set[str] = set()
        for secret in (token, password, *secrets, *(secret for _, secret in pairs)):
            if secret and len(secret) >= MIN_LENGTH:
                forms.update((secret, quote(secret, safe="")))
        for user, secret in pairs:
            forms.add(base64.b64encode(f"{user}:{secret}".encode()).decode("ascii"))
        # Longest first, so that a secret containing another is replaced whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._forms)} forms)"
