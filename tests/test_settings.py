"""Connection settings without Airflow: each extra's one definition serves the form, parser and docs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from influxdb_write.provider import CONN_FIELDS
from influxdb_write.settings import EXTRA_BY_NAME, EXTRAS, ConnectionSettings

TOKEN = "tok-3f9a-never-shown"
CONNECTION_PAGE = Path(__file__).resolve().parent.parent / "docs" / "connection.md"


def settings(host: str | None = "http://db", port: int | None = None, **extra: Any) -> ConnectionSettings:
    return ConnectionSettings.from_parts(host=host, port=port, login=None, password=TOKEN, extra=extra)


def connection_section() -> str:
    """The docs page of the connection, down to its first section (the table and the regions)."""
    text = CONNECTION_PAGE.read_text(encoding="utf-8")
    return text[: text.index("\n## ")]


def readme_defaults() -> dict[str, str]:
    """The connection table's ``| extra `name` | meaning | default |`` rows, as name: default cell."""
    rows = re.findall(r"^\| extra `(\w+)` \| .* \| (.+?) \|$", connection_section(), re.MULTILINE)
    return dict(rows)


def readme_rows() -> dict[str, str]:
    rows = re.findall(r"^\| extra `(\w+)` \| (.*) \|$", connection_section(), re.MULTILINE)
    return dict(rows)


SETTINGS_FIELDS = {f.name: f.default for f in dataclasses.fields(ConnectionSettings)}


@pytest.mark.parametrize("name", EXTRAS)
def test_form_parser_and_readme_share_each_default(name: str) -> None:
    extra = EXTRA_BY_NAME[name]
    assert CONN_FIELDS[name]["schema"].get("default") == extra.default
    assert getattr(settings(), name, extra.default) == extra.default
    if name != "region":  # region becomes the url
        assert SETTINGS_FIELDS[name] == extra.default
    cell = readme_defaults()[name]
    assert (None if cell == "none" else extra.parse(cell.strip("`"))) == extra.default, cell


def test_readme_lists_exactly_the_defined_extras() -> None:
    assert list(readme_defaults()) == list(EXTRAS)
    assert list(CONN_FIELDS) == list(EXTRAS)


@pytest.mark.parametrize("name", EXTRAS)
def test_readme_states_what_each_extra_accepts(name: str) -> None:
    extra = EXTRA_BY_NAME[name]
    if extra.choices:  # each in backticks, in the row or (regions) the table below it
        assert all(f"`{choice}`" in connection_section() for choice in extra.choices)
    elif extra.kind != "string":
        assert extra.allowed in readme_rows()[name]


@pytest.mark.parametrize("name", EXTRAS)
def test_form_field_matches_the_definition(name: str) -> None:
    extra, spec = EXTRA_BY_NAME[name], CONN_FIELDS[name]
    assert (spec["label"], spec["description"]) == (extra.label, extra.description)
    assert spec["description"] and spec["label"]
    if extra.kind == "boolean" and extra.default is None:  # not set, true or false: a choice list
        assert spec["schema"]["type"] == ["string", "null"]
        assert spec["schema"]["enum"] == [None, "true", "false"]
        assert extra.parse("false") is False and extra.parse(None) is None
        return
    assert spec["schema"]["type"] == [extra.kind, "null"]
    if extra.choices:
        assert [value for value in spec["schema"]["enum"] if value is not None] == list(extra.choices)


def test_form_schema_keeps_its_shape() -> None:
    assert CONN_FIELDS["gzip_level"]["schema"] == {
        "type": ["integer", "null"],
        "minimum": 0,
        "maximum": 9,
        "default": 1,
    }
    assert CONN_FIELDS["region"]["schema"]["enum"][0] is None
    assert CONN_FIELDS["precision"]["schema"]["enum"] == ["ns", "us", "ms", "s"]
    timeout = {"type": ["number", "null"], "exclusiveMinimum": 0, "default": 60}
    assert CONN_FIELDS["timeout"]["schema"] == timeout


@pytest.mark.parametrize("name", [name for name, extra in EXTRA_BY_NAME.items() if extra.choices])
def test_choice_lists_name_their_unset_choice_in_words(name: str) -> None:
    """Airflow's form shows a None choice as "null" unless ``values_display`` names it."""
    extra, schema = EXTRA_BY_NAME[name], CONN_FIELDS[name]["schema"]
    if None in schema["enum"]:
        assert schema["values_display"] == {"null": extra.unset_label}
        assert "null" not in extra.unset_label
    else:
        assert "values_display" not in schema
    assert CONN_FIELDS["region"]["schema"]["values_display"]["null"].startswith("none (")


GOOD = [
    # extra, raw value, parsed
    ("timeout", "30", 30.0),
    ("timeout", 30, 30.0),
    ("timeout", 0.5, 0.5),
    ("timeout", " 2.5 ", 2.5),
    ("timeout", "1e2", 100.0),
    ("gzip_level", "1", 1),
    ("gzip_level", 0, 0),
    ("gzip_level", "0", 0),
    ("gzip_level", 9, 9),
    ("gzip_level", 6.0, 6),
    ("verify_ssl", True, True),
    ("verify_ssl", False, False),
    *[("verify_ssl", text, True) for text in ("true", "True", "1", "yes", "on", "ON")],
    *[("verify_ssl", text, False) for text in ("false", "FALSE", "0", "no", "off")],
    ("verify_ssl", 0, False),
    ("precision", "s", "s"),
    ("precision", " ms ", "ms"),
    ("api", "v3", "v3"),
    ("region", "eastus-1", "eastus-1"),
    ("org", " acme ", "acme"),
    ("bucket", "db/rp", "db/rp"),
]


@pytest.mark.parametrize(("name", "raw", "parsed"), GOOD, ids=[f"{r[0]}={r[1]!r}" for r in GOOD])
def test_good_values(name: str, raw: Any, parsed: Any) -> None:
    value = EXTRA_BY_NAME[name].parse(raw)
    assert value == parsed and type(value) is type(parsed)
    if name != "region":
        assert getattr(settings(**{name: raw}), name) == parsed


BAD = [
    # extra, raw value, words the message must hold
    ("gzip_level", 12, "gzip_level extra 12 is not an integer from 0 to 9"),
    ("gzip_level", "12", "gzip_level extra '12' is not an integer from 0 to 9"),
    ("gzip_level", -1, "from 0 to 9"),
    ("gzip_level", "abc", "gzip_level extra 'abc' is not an integer from 0 to 9"),
    ("gzip_level", "1.5", "gzip_level extra '1.5' is not an integer"),
    ("gzip_level", 1.5, "gzip_level extra 1.5 is not an integer"),
    ("gzip_level", True, "gzip_level extra True is not an integer"),
    ("timeout", -1, "timeout extra -1 is not a positive number of seconds"),
    ("timeout", 0, "timeout extra 0 is not a positive number of seconds"),
    ("timeout", "0", "timeout extra '0' is not a positive number of seconds"),
    ("timeout", "abc", "timeout extra 'abc' is not a positive number of seconds"),
    ("timeout", True, "timeout extra True is not a positive number of seconds"),
    ("timeout", "nan", "timeout extra 'nan' is not a positive number"),
    ("timeout", "inf", "timeout extra 'inf' is not a positive number"),
    ("timeout", "1_000", "timeout extra '1_000' is not a positive number"),
    ("timeout", [5], "timeout extra [5] is not a positive number"),
    ("verify_ssl", "maybe", "verify_ssl extra 'maybe' is not true or false (or 1/0, yes/no, on/off)"),
    ("verify_ssl", 2, "verify_ssl extra 2 is not true or false"),
    ("precision", "n", "precision extra 'n' is not one of ns, us, ms, s"),
    ("precision", "NS", "precision extra 'NS' is not one of ns, us, ms, s"),
    ("api", "v4", "api extra 'v4' is not one of v2, v1, v3"),
    ("region", "mars-1", "unknown InfluxDB Cloud region 'mars-1'; valid regions: us-west-2-1"),
    ("org", 5, "org extra 5 is not text"),
    ("bucket", True, "bucket extra True is not text"),
]


@pytest.mark.parametrize(("name", "raw", "message"), BAD, ids=[f"{r[0]}={r[1]!r}" for r in BAD])
def test_bad_values_name_the_extra_and_what_it_accepts(name: str, raw: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        settings(**{name: raw})
    assert message in str(caught.value)
    assert TOKEN not in str(caught.value)


URLS = [
    # host, port, url
    ("http://db:8086", None, "http://db:8086"),
    ("http://localhost", 8086, "http://localhost:8086"),
    ("http://db:1234", 8086, "http://db:1234"),
    ("influx.example.com", None, "https://influx.example.com"),
    ("influx.example.com:8086", None, "https://influx.example.com:8086"),
    ("http://db/", 9999, "http://db:9999"),
    ("http://[::1]:8086", None, "http://[::1]:8086"),
    ("http://[::1]:8086", 9999, "http://[::1]:8086"),
    ("[::1]", 8086, "https://[::1]:8086"),
    ("http://[::1]", None, "http://[::1]"),
    ("https://[2001:db8::1]:8443/influx", 8086, "https://[2001:db8::1]:8443/influx"),
    ("https://example.com/influx", None, "https://example.com/influx"),
    ("https://example.com/influx/", 8443, "https://example.com:8443/influx"),
    (" http://db:8086 ", None, "http://db:8086"),
]


@pytest.mark.parametrize(("host", "port", "url"), URLS, ids=[f"{r[0]}+{r[1]}" for r in URLS])
def test_url_from_host_and_port(host: str, port: int | None, url: str) -> None:
    assert settings(host, port).url == url


BAD_HOSTS = [
    ("::1", "an IPv6 address goes in brackets"),
    ("http://[::1", "not a valid URL"),
    ("http://db:port", "not a valid URL"),
    ("ftp://db", "must be a URL starting with http:// or https://"),
    ("http://", "has no server name"),
]


@pytest.mark.parametrize(("host", "message"), BAD_HOSTS, ids=[row[0] for row in BAD_HOSTS])
def test_bad_hosts(host: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        settings(host)


def test_region_gives_the_url_and_host_wins() -> None:
    assert settings(None, region="eastus-1").url == "https://eastus-1.azure.cloud2.influxdata.com"
    assert settings("http://db", region="eastus-1").url == "http://db"
    with pytest.raises(ValueError, match=r"neither a host .* nor a region extra"):
        settings(None)


def test_old_prefix_and_empty_values() -> None:
    got = settings(
        extra__influxdb_write__org="o",
        extra__influxdb_write__timeout="5",
        bucket="",
        api=None,
        gzip_level="  ",
    )
    assert (got.org, got.timeout, got.bucket, got.api, got.gzip_level) == ("o", 5.0, None, "v2", 1)


def test_unknown_extras_list_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        settings(bukcet="b", extra__influxdb_write__colour="red")
    assert str(caught.value) == (
        "unknown connection extra(s) bukcet, colour; known extras: "
        "region, org, bucket, precision, api, timeout, verify_ssl, ca_cert, client_cert, client_key, "
        "client_key_password, proxy, proxy_from_env, headers, gzip_level, accept_partial, no_sync"
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"api": "v3", "accept_partial": "false", "no_sync": "yes"}, (False, True)),
        ({"api": "v3"}, (None, None)),
        ({"api": "v3", "accept_partial": True}, (True, None)),
    ],
)
def test_v3_options(extra: dict[str, Any], expected: tuple[bool | None, bool | None]) -> None:
    parsed = settings(**extra)
    assert (parsed.accept_partial, parsed.no_sync) == expected


def test_v3_options_are_refused_for_other_apis() -> None:
    with pytest.raises(ValueError) as caught:
        settings(accept_partial="false", no_sync=True)
    assert str(caught.value) == (
        "accept_partial and no_sync extra(s) apply to api v3 (/api/v3/write_lp) only; "
        "remove them or set the api extra to v3 (it is v2)"
    )


def test_token_stays_out_of_repr() -> None:
    got = settings(org="o")
    assert got.token == TOKEN
    assert TOKEN not in repr(got) and "token" not in repr(got)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"headers": {"Authorization": "Bearer x"}}, "header 'Authorization' may not be set in headers"),
        ({"headers": {"content-type": "text/csv"}}, "header 'content-type' may not be set in headers"),
        ({"headers": {"Content-Encoding": "br"}}, "header 'Content-Encoding' may not be set"),
        ({"headers": {"Proxy-Authorization": "Basic x"}}, "the proxy extra's URL sets it"),
        ({"headers": '{"Authorization": "Token stolen"}'}, "header 'Authorization' may not be set"),
        ({"headers": {"X-Key": "a\r\nInjected: 1"}}, "header 'X-Key': the value holds a line break"),
        ({"headers": {"X Key": "v"}}, "header name 'X Key' is not a valid HTTP header name"),
        ({"headers": {"X-Key": 5}}, "header 'X-Key': the value must be text, not int"),
        ({"headers": "[1, 2]"}, "headers extra '[1, 2]' is not a JSON object of text values"),
        ({"headers": "{not json"}, "is not a JSON object of text values"),
        ({"proxy": "socks5://proxy:1080"}, "must start with http:// or https://"),
        ({"proxy": "http://proxy"}, "has no port; write it as http://host:port"),
        ({"proxy": "http://:3128"}, "has no host"),
        ({"client_key": "/keys/client.key"}, "client_key is set but client_cert is not"),
        ({"client_key_password": "secret-pass"}, "client_key_password is set but client_cert is not"),
        ({"ca_cert": "/etc/ca.pem", "verify_ssl": "false"}, "ca_cert is set but certificate verification"),
        (
            {"ca_cert": "-----BEGIN CERTIFICATE-----\nMIIB"},
            "ca_cert: the PEM text holds no whole PEM certificate",
        ),
        (
            {
                "client_cert": "/c.pem",
                "client_key": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
            },
            "client_key: the PEM text holds no whole PEM private key",
        ),
    ],
)
def test_network_extras_are_refused_at_parse_time_naming_what_to_fix(
    extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        settings(**extra)
    assert message in str(caught.value)
    assert "stolen" not in str(caught.value) and "Injected" not in str(caught.value)


def test_network_extras_parse_from_json_and_from_a_uri_query() -> None:
    parsed = settings(
        headers='{"X-Tenant": "acme"}',
        proxy="http://alice:p%40ss@proxy:3128",
        proxy_from_env="no",
        ca_cert="/etc/ssl/private-ca.pem",
    )
    assert parsed.headers == {"X-Tenant": "acme"}
    assert parsed.proxy == "http://alice:p%40ss@proxy:3128" and parsed.proxy_from_env is False
    assert parsed.ca_cert == "/etc/ssl/private-ca.pem"
    assert settings().proxy_from_env is True
    shown = repr(parsed)
    assert "p%40ss" not in shown and "acme" not in shown and TOKEN not in shown
