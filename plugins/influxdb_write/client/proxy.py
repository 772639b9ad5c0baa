"""Which proxy a client goes through, and how to name it without its password.

The ``proxy`` setting wins. Without it, ``proxy_from_env`` (default true) takes
``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` from the environment
exactly as ``requests`` and ``curl`` read them, so a worker in a proxied network
behaves like every other tool on it. Nothing else is read from the environment:
a ``.netrc`` entry for the server would replace the token with Basic auth.

Stdlib only until a proxy is chosen: ``settings`` checks the URL while parsing
a connection.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

SCHEMES = ("http", "https")


def check_proxy(url: str) -> str:
    """``url`` if it is a proxy URL this client can use; ``ValueError`` says what to fix."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"proxy {redact_proxy(url)!r} is not a valid URL ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"proxy {redact_proxy(url)!r} must start with http:// or https:// "
            "(the address of an HTTP proxy, such as http://proxy.example.com:3128)"
        )
    if not parts.hostname:
        raise ValueError(f"proxy {redact_proxy(url)!r} has no host; write it as http://host:port")
    if port is None:
        raise ValueError(f"proxy {redact_proxy(url)!r} has no port; write it as http://host:port")
    return url


def proxy_for(url: str, proxy: str | None, from_env: bool) -> str | None:
    """The proxy for requests to ``url``, or ``None`` to connect directly."""
    if proxy:
        return check_proxy(proxy)
    if not from_env:
        return None
    from requests.utils import get_environ_proxies  # honours NO_PROXY, as requests does

    found = get_environ_proxies(url)
    chosen = found.get(urlsplit(url).scheme) or found.get("all")
    return check_proxy(chosen if "://" in chosen else f"http://{chosen}") if chosen else None


def proxy_credentials(proxy: str | None) -> tuple[str, str] | None:
    """The user and password in the proxy URL, decoded, or ``None``."""
    if not proxy:
        return None
    parts = urlsplit(proxy)
    if parts.username is None and parts.password is None:
        return None
    return unquote(parts.username or ""), unquote(parts.password or "")


def redact_proxy(url: str) -> str:
    """``url`` with its password as ``***``, to show in messages."""
    scheme, at, rest = url.partition("://")
    userinfo, found, host = rest.rpartition("@")
    if not at or not found or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"
