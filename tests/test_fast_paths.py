"""The decoder's fast paths agree with its parser on generated input.

The parser (``line_protocol.grammar``) is the one definition of line protocol;
the fast paths (``line_protocol.fast_path``) only let the decoder skip it. With
them and without them (``Decoder(fast=False)``), every generated input must give
the same entries, the same errors and the same framing. The inputs mix escapes,
quotes, raw newlines inside and outside string values, comments, repeated line
shapes with changing types, and bytes of every kind in between.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examples import examples
from influxdb_write.line_protocol import Decoder, iter_entries, with_default_time
from influxdb_write.line_protocol.decoder import iter_entry_runs, with_default_times
from influxdb_write.line_protocol.fast_path import closes_on_its_line, lines_are_entries, plain_line
from influxdb_write.line_protocol.grammar import NeedMoreText, SyntaxProblem, parse_entry, rules_for

SOUP = st.one_of(
    st.text(st.sampled_from(' "=,\\\nmvst1i.#\tu-\ufeff\r'), max_size=60),
    st.text(st.sampled_from('m "=\\,x\n'), max_size=24),  # where quotes and escapes meet
)

# Mostly the same few names, so that lines share shapes and the fast paths see
# lines of a known shape with every kind of value.
NAMES = st.one_of(
    st.just("m"),
    st.sampled_from(["cpu", "a\\ b", "a\\,b", 'q"', "t\\=x", "é", 'm\\ a="x', "b\ufeff", "a\\"]),
)
KEYS = st.one_of(
    st.sampled_from(["v", "s"]),
    st.sampled_from(["w", "time", "a\\ b", "k\\=", '"k', 'k\\="x', "\ufeffk", "_field"]),
)
STRING_TEXT = st.text(st.sampled_from('ab \\"\n,=é\ufeff'), max_size=8).map(
    lambda text: text.replace("\\", "\\\\").replace('"', '\\"')
)
# Values of each type, spelled every way, and near misses of each.
FLOATS = st.sampled_from(["1", "-1.5", "1e5", ".5", "-0", "1.", "-.5e-3", "1E+99", "1e400", "NaN", "1x", ""])
INTEGERS = st.sampled_from(["1i", "-1i", "01i", "9223372036854775807i", "99999999999999999999i", "1.5i"])
UNSIGNEDS = st.sampled_from(["2u", "0u", "18446744073709551615u", "18446744073709551616u", "-1u"])
BOOLEANS = st.sampled_from(["t", "FALSE", "True", "tru", "tRUE"])
STRINGS = st.one_of(
    STRING_TEXT.map(lambda text: f'"{text}"'),
    st.sampled_from(['"a\\"', '"\\\\"', '"a\\\\\\"', '"\\n"', '"a\\"b"', '"a""']),  # escapes at the end
    st.text(st.sampled_from('ab\\"\n'), max_size=6).map(lambda text: f'"{text}'),  # maybe unclosed
)
KINDS = [FLOATS, INTEGERS, UNSIGNEDS, BOOLEANS, STRINGS]
VALUES = st.one_of(*KINDS)


@st.composite
def entries(draw: st.DrawFn) -> str:
    """An entry, valid or nearly: its string values may hold raw newlines."""
    measurement = draw(NAMES)
    tags = "".join(f",{draw(KEYS)}={draw(NAMES)}" for _ in range(draw(st.sampled_from([0, 0, 1, 2]))))
    fields = ",".join(f"{draw(KEYS)}={draw(VALUES)}" for _ in range(draw(st.sampled_from([1, 1, 2, 3]))))
    stamp = draw(st.sampled_from(["", " 1", " 1700000000000000000", " x", "  "]))
    return f"{measurement}{tags} {fields}{stamp}"


@st.composite
def lines(draw: st.DrawFn) -> str:
    line = draw(entries())
    return draw(st.sampled_from([line, line, line, " " + line, "# " + line, "", line + "\r"]))


TAG_VALUES = st.one_of(
    st.sampled_from(["a", "b", "a\\ b", "a\ufeff", "\x01"]),
    st.text(st.sampled_from('ab\\ ,="\ufeff\x01é'), max_size=5),
)
STAMPS = st.sampled_from(["", " 1", " -1", " 9223372036854775807", " 1.5", " 1 2", "  "])


@st.composite
def one_shape(draw: st.DrawFn) -> str:
    """Lines of one measurement, tag keys and field keys, mostly with one type per
    field: the fast path learns the shape from the first good line and meets the
    rest, near misses included."""
    measurement = draw(st.sampled_from(["m", "a\\ b", "é"]))
    tag_keys = draw(st.lists(st.sampled_from(["t", "u", "k\\,"]), max_size=2, unique=True))
    field_keys = draw(st.lists(st.sampled_from(["v", "s", "n"]), min_size=1, max_size=3, unique=True))
    kinds = [draw(st.sampled_from(KINDS)) for _ in field_keys]
    shaped = []
    for _ in range(draw(st.integers(1, 8))):
        tags = "".join(f",{key}={draw(TAG_VALUES)}" for key in tag_keys)
        values = [draw(st.one_of(kind, kind, kind, VALUES)) for kind in kinds]
        fields = ",".join(f"{key}={value}" for key, value in zip(field_keys, values, strict=True))
        shaped.append(f"{measurement}{tags} {fields}{draw(STAMPS)}")
    return "\n".join(shaped)


TEXTS = st.one_of(SOUP, st.lists(lines(), max_size=12).map("\n".join))


def _all_ways(text: str, **options: Any) -> dict[str, Any]:
    """What the decoder makes of ``text`` in each of its modes."""
    outcome: dict[str, Any] = {}
    for check in (True, False):
        try:
            outcome[f"entries check={check}"] = list(Decoder(check=check, **options).entries(text))
        except ValueError as exc:
            outcome[f"entries check={check}"] = f"raised {exc}"
    outcome["errors only"] = list(Decoder(**options).entries(text, errors_only=True))
    return outcome


@settings(max_examples=examples(3000), deadline=None)
@given(TEXTS, st.sampled_from(["v1", "v2", "v3"]))
def test_the_fast_paths_change_nothing(text: str, api: str) -> None:
    # Twice over: shapes learned from the first copy serve the second.
    doubled = text + "\n" + text
    assert _all_ways(doubled, api=api) == _all_ways(doubled, api=api, fast=False)


@settings(max_examples=examples(3000), deadline=None)
@given(one_shape(), st.sampled_from(["v1", "v2", "v3"]))
def test_lines_of_a_known_shape_are_judged_as_the_parser_judges_them(text: str, api: str) -> None:
    doubled = text + "\n" + text
    assert _all_ways(doubled, api=api) == _all_ways(doubled, api=api, fast=False)


@settings(max_examples=examples(1500), deadline=None)
@given(TEXTS)
def test_a_line_proven_closed_never_opens_a_string(text: str) -> None:
    rules = rules_for(checks=False)
    for line in text.split("\n"):
        if not line or not closes_on_its_line(line, 0, len(line)):
            continue
        try:
            parse_entry(line, 0, rules, final=False)
        except SyntaxProblem as problem:
            assert not problem.unclosed
        except NeedMoreText:  # pragma: no cover - the assertion that matters
            raise AssertionError(f"{line!r} was proven closed, but its string value goes on") from None


@settings(max_examples=examples(1500), deadline=None)
@given(lines())
def test_the_plain_line_finds_the_timestamp_the_parser_finds(line: str) -> None:
    match = plain_line("ns").fullmatch(line)
    if match is None:
        return
    try:
        parsed, stop = parse_entry(line, 0, rules_for(checks=False))
    except SyntaxProblem as problem:  # the one thing the pattern leaves to the parser
        assert "duplicate" in problem.message or "reserved" in problem.message
        return
    assert parsed is not None and stop == len(line)
    assert (match.group(2) is not None) == (parsed.time is not None)


@pytest.mark.parametrize(
    "line",
    [
        "m a=1.5,b=2i",
        "m a=1.5,b=2i,c=3u 1700000000000000000",
        'm,t=x a="s",b=-7i,c=true',
        "m a=1,b=2",
    ],
)
def test_the_plain_line_takes_integers_after_the_first_field(line: str) -> None:
    # FLOAT matches the digits of "2i"; the fields' repetition must still reach INTEGER.
    assert plain_line("ns").fullmatch(line) is not None


@settings(max_examples=examples(1500), deadline=None)
@given(lines())
def test_the_default_time_goes_where_the_parser_finds_no_time(line: str) -> None:
    """with_default_time skips the parser for lines ending in a timestamp: it must
    give what the parser says, for valid and invalid lines alike."""
    stamp = 1_700_000_000_000_000_000
    try:
        parsed, stop = parse_entry(line, 0, rules_for(checks=False))
    except SyntaxProblem as problem:
        if "duplicate" in problem.message or "reserved" in problem.message:
            return  # the plain line leaves these to validation, as the server does
        parsed, stop = None, -1
    except NeedMoreText:
        parsed, stop = None, -1
    if parsed is not None and stop < len(line):
        return  # more than one entry: the function is given one
    if parsed is None or parsed.time is not None:
        assert with_default_time(line, stamp) == line
    else:
        assert with_default_time(line, stamp) == f"{line.rstrip(' ')} {stamp}"


def _flat(runs: Any) -> list[tuple[int, str]]:
    """Runs of :func:`iter_entry_runs` as the ``(number, entry)`` pairs they stand for."""
    pairs: list[tuple[int, str]] = []
    for number, entry in runs:
        if isinstance(entry, list):
            pairs.extend(enumerate(entry, number))
        else:
            pairs.append((number, entry))
    return pairs


def _framed(text: str) -> Any:
    try:
        return list(iter_entries(text))
    except ValueError as exc:
        return f"raised {exc}"


@settings(max_examples=examples(3000), deadline=None)
@given(st.one_of(TEXTS, st.lists(entries(), min_size=1, max_size=12).map("\n".join)))
def test_lines_proven_entries_are_framed_as_the_parser_frames_them(text: str) -> None:
    """A block that lines_are_entries accepts is sent split at its newlines: the
    decoder's framing without validation must be exactly that."""
    block = text if text.endswith("\n") else text + "\n"
    if not lines_are_entries(block) or _not_text(block):
        return
    assert _framed(block) == list(enumerate(block[:-1].split("\n"), 1))


def _not_text(text: str) -> bool:  # read_blocks takes these out before framing
    return text.startswith("\ufeff") or any("\ud800" <= char <= "\udfff" for char in text)


@settings(max_examples=examples(1500), deadline=None)
@given(st.lists(st.one_of(TEXTS, st.lists(entries(), min_size=1, max_size=30).map("\n".join)), max_size=4))
def test_entries_in_runs_are_the_entries(parts: list[str]) -> None:
    # Several items, so that runs and single entries alternate and blocks meet.
    assert _flat(iter_entry_runs(parts)) == list(iter_entries(parts))


@settings(max_examples=examples(1500), deadline=None)
@given(st.lists(st.one_of(lines(), entries()), min_size=1, max_size=12))
def test_default_times_of_many_lines_are_those_of_each(entries: list[str]) -> None:
    entries = [entry for entry in entries if "\n" not in entry]
    stamp = 1_700_000_000_000_000_000
    assert with_default_times(list(entries), stamp) == [with_default_time(entry, stamp) for entry in entries]


def test_a_file_of_plain_lines_is_framed_a_block_at_a_time() -> None:
    """The framing the write client streams a file with takes no Python step per
    line for lines that are each one entry (counted: items, not lines)."""
    line = 'm,host=a\\ b v=1.5,n=3i,s="say \\"hi\\"",ok=true 1700000000000000000'
    text = "\n".join([line] * 20_000)
    items = list(iter_entry_runs(text.encode()))
    assert sum(len(entry) if isinstance(entry, list) else 1 for _, entry in items) == 20_000
    assert len(items) <= 5
