"""Point identity (influxdb_write.line_protocol.points): entries of one write that land on
one point and give a field two values are found, exactly; merges of other fields and
repeated values are not; hash collisions never make a conflict; memory stays bounded.
No Airflow, no server."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from influxdb_write.line_protocol import Decoder, validate
from influxdb_write.line_protocol.points import Conflict, PointIndex, check_points

STAMP = 1_709_251_200
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def conflicts(
    text: str, *, stamp: int | None = STAMP, run: int = 10_000, **options: object
) -> tuple[list[tuple[int, int, str]], int, int]:
    """``(earlier line, later line, field)`` of each conflict in ``text`` (one entry a
    line, fed in runs of ``run``), the entries replacing a value, those losing one."""
    assert [e for e in validate(text) if "two types" not in e.message] == []  # types: another check
    lines = text.splitlines()
    index = PointIndex(stamp=stamp, **options)  # type: ignore[arg-type]
    for start in range(0, len(lines), run):
        index.add(lines[start : start + run])

    def read() -> itertools.chain[tuple[Sequence[str], Sequence[int]]]:
        runs = ((lines[s : s + run], range(s + 1, s + 1 + run)) for s in range(0, len(lines), run))
        return itertools.chain(runs)

    found, replacing, replaced = check_points(index, read)
    return [(c.earlier, c.later, c.field) for c in found], replacing, replaced


# (text, conflicts as (earlier line, later line, field))
CASES = [
    pytest.param("m v=1 5\nm v=2 5", [(1, 2, "v")], id="same-point"),
    pytest.param("m v=1 5\nm v=2 6", [], id="other-time"),
    pytest.param("m,s=a v=1 5\nm,s=b v=2 5", [], id="other-tag"),
    pytest.param("m,a=1,b=2 v=1 5\nm,b=2,a=1 v=2 5", [(1, 2, "v")], id="tag-order"),
    pytest.param(
        "m,b=2,a=1,c=3 v=1 5\nm,c=3,a=1,b=2 v=1 5\nm,a=1,c=3,b=2 v=3 5", [(2, 3, "v")], id="tag-order-3"
    ),
    pytest.param("m,t=a\\ b v=1 5\nm,t=a\\ b v=2 5", [(1, 2, "v")], id="escaped-space-in-tag"),
    pytest.param("m,t=a\\ b v=1 5\nm,t=a v=2 5", [], id="escaped-space-not-a-separator"),
    pytest.param(
        "m,b=x\\ y\\ z,a=1 v=1 5\nm,a=1,b=x\\ y\\ z v=2 5", [(1, 2, "v")], id="escaped-spaces-reordered"
    ),
    pytest.param("m,z=1,t=a\\,b v=1 5\nm,t=a\\,b,z=1 v=2 5", [(1, 2, "v")], id="escaped-comma-reordered"),
    pytest.param("m,t=a\\,b v=1 5\nm,t=a,b=x v=2 5", [], id="escaped-comma-is-not-two-tags"),
    pytest.param("m,t=a\\=b v=1 5\nm,t=a\\=b v=2 5", [(1, 2, "v")], id="escaped-equals"),
    pytest.param("m\\ x v=1 5\nm\\ x v=2 5", [(1, 2, "v")], id="escaped-space-in-measurement"),
    pytest.param("m\\ x v=1 5\nm v=2 5", [], id="other-measurement"),
    pytest.param("m,t=x\\\\ y v=1 5\nm,t=x\\\\ y v=2 5", [(1, 2, "v")], id="backslash-before-space"),
    pytest.param("m,t=x\\\\ y v=1 5\nm,t=x\\ y v=2 5", [], id="backslash-before-space-differs"),
    pytest.param("m a=1 5\nm b=2 5", [], id="disjoint-merge"),
    pytest.param("m a=1,b=2 5\nm a=1,b=2 5", [], id="identical-repeat"),
    pytest.param("m v=1 5\nm v=1.0 5\nm v=1e0 5", [], id="same-float-spelled-three-ways"),
    pytest.param("m v=t 5\nm v=true 5", [], id="same-boolean"),
    pytest.param("m v=1i 5\nm v=1i 5", [], id="same-integer"),
    pytest.param("m v=1i 5\nm v=2i 5", [(1, 2, "v")], id="other-integer"),
    pytest.param("m v=0.0 5\nm v=-0.0 5", [(1, 2, "v")], id="signed-zero-differs"),
    pytest.param("m v=1i 5\nm v=1 5", [(1, 2, "v")], id="other-type-is-another-value"),
    pytest.param('m s="a b" 5\nm s="a c" 5', [(1, 2, "s")], id="string-with-space"),
    pytest.param('m s="a 5" 5\nm s="a 5" 5', [], id="same-string-ending-in-digits"),
    pytest.param('m s="x \\" 5" 6\nm s="y" 6', [(1, 2, "s")], id="escaped-quote"),
    pytest.param("m v=1\nm v=2 1709251200", [(1, 2, "v")], id="no-time-gets-the-stamp"),
    pytest.param("m v=1\nm v=2", [(1, 2, "v")], id="both-without-time"),
    pytest.param("m v=1 007\nm v=2 7", [(1, 2, "v")], id="leading-zeros"),
    pytest.param("m v=1 -5\nm v=2 -5\nm v=3 5", [(1, 2, "v")], id="negative-time"),
    pytest.param("m v=1 5 \nm v=2 5", [(1, 2, "v")], id="trailing-space"),
    pytest.param("  m v=1 5\nm v=2 5", [(1, 2, "v")], id="leading-space"),
    pytest.param("m a=1,b=1 5\nm a=2,b=2 5", [(1, 2, "a"), (1, 2, "b")], id="two-fields-one-entry"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_conflicts_are_found_exactly(text: str, expected: list[tuple[int, int, str]]) -> None:
    assert conflicts(text)[0] == expected


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_forced_hash_collisions_change_nothing(text: str, expected: list[tuple[int, int, str]]) -> None:
    # Every key hashes alike: every entry is a candidate, and the exact comparison decides.
    assert conflicts(text, hasher=lambda key: 7)[0] == expected


def test_with_every_hash_colliding_distinct_points_never_conflict() -> None:
    text = "\n".join(f"m,host=h{i % 10} v={i} {i // 10}" for i in range(1000))
    assert conflicts(text, hasher=lambda key: 0) == ([], 0, 0)


def test_without_a_stamp_lines_without_time_share_the_servers_clock() -> None:
    found, _, _ = conflicts("m v=1\nm v=2\nm v=3 5", stamp=None)
    assert found == [(1, 2, "v")]


def test_counts_what_is_replaced_and_what_replaces() -> None:
    # Rows without time: each replaces the one before; every row but the last loses its value.
    text = "\n".join(f"m v={i}" for i in range(5))
    found, replacing, replaced = conflicts(text)
    assert found == [(1, 2, "v"), (2, 3, "v"), (3, 4, "v"), (4, 5, "v")]
    assert (replacing, replaced) == (4, 4)
    # One entry losing two fields to two later entries counts once.
    assert conflicts("m a=1,b=1 5\nm a=2 5\nm b=2 5")[1:] == (2, 1)


def test_conflicts_keep_the_point_and_both_values() -> None:
    index = PointIndex(stamp=STAMP)
    lines = ["m,b=2,a=1 v=1i", "m,a=1,b=2 v=2i"]
    index.add(lines)
    (conflict,), _, _ = check_points(index, lambda: iter([(lines, ["first", "second"])]))
    assert conflict == Conflict(
        point=(("m", (("a", "1"), ("b", "2")), STAMP)),  # type: ignore[arg-type]
        field="v",
        earlier="first",
        earlier_value=1,
        later="second",
        later_value=2,
    )


def test_runs_across_windows_spills_and_partitions_give_the_same_answer() -> None:
    lines = [f"m,host=h{i % 100} v={i % 3} {i // 100}" for i in range(20_000)]
    lines += ["m,host=h1 v=7 0", "m,host=h1 v=7 0"]  # replace the value of line 2; then repeat
    text = "\n".join(lines)
    plain = conflicts(text)
    assert plain == ([(2, 20_001, "v")], 1, 1)
    index_spilled = conflicts(text, run=700, spill_at=1000, window=3)
    assert index_spilled == plain


def test_a_window_beyond_the_limit_is_said() -> None:
    index = PointIndex(stamp=STAMP, window=2)
    lines = [f"m a{i}=1 {i}" for i in range(5)] + [f"m b{i}=1 {i}" for i in range(5)]
    index.add(lines)
    found, replacing, _ = check_points(index, lambda: iter([(lines, list(range(10)))]))
    assert (found, replacing) == ([], 0)  # disjoint merges only
    assert index.notes == [
        "more than 2 points are written by more than one entry; they are compared 2 at a time, "
        "each time reading the input again"
    ]


def test_spilled_hashes_leave_memory_bounded() -> None:
    index = PointIndex(spill_at=50_000)
    lines = [f"m,host=h{i} v=1 {i}" for i in range(10_000)]
    for _ in range(30):
        index.add(lines)
        assert index.held_bytes() <= 60_000 * 8
    assert index.entries == 300_000
    assert sum(len(window) for window in index.windows()) == 10_000  # each line 30 times


def test_memory_per_million_entries() -> None:
    index = PointIndex()
    lines = [f"cpu,host=h{i % 1000} usage=0.5 {i}" for i in range(100_000)]
    for part in range(10):
        index.add([f"{line}{part}" for line in lines])
    assert index.entries == 1_000_000
    assert index.held_bytes() <= 8_500_000  # 8 bytes an entry, and array slack
    assert list(index.windows()) == []


def test_the_decoder_hands_valid_entries_to_the_index() -> None:
    # Runs of known shapes, single lines, parsed lines, multi-line entries, comments and blanks.
    text = (
        "# header\n\n"
        + "".join(f"m,host=h{i} v={i} {i}\n" for i in range(300))
        + 'm s="two\nlines" 7\n'
        + "   \n"
        + 'm s="later" 7\n'
        + "m,host=h3 v=1 3\n"
    )
    index = PointIndex(stamp=STAMP)
    errors = [e for e in Decoder().entries(text, errors_only=True, seen=index.seen) if e.error is not None]
    index.flush()
    assert errors == []
    assert index.entries == 303
    entries = [entry.text for entry in Decoder().entries(text)]
    found, _, _ = check_points(index, lambda: iter([(entries, range(len(entries)))]))
    assert [(c.earlier, c.later, c.field) for c in found] == [(300, 301, "s"), (3, 302, "v")]


@pytest.mark.parametrize("between", ["# a comment\n", "\n", "   \n", "\t\n", " # indented\n"])
def test_the_index_leaves_out_each_kind_of_blank_and_comment_line(between: str) -> None:
    text = "".join(f"m,host=h{i} v={i} {i}\n" for i in range(200)) + between
    text += "".join(f"m,host=h{i} v={i} {i}\n" for i in range(200, 400))
    index = PointIndex(stamp=STAMP)
    list(Decoder().entries(text, errors_only=True, seen=index.seen))
    index.flush()
    assert index.entries == 400
    assert list(index.windows()) == []


def test_a_large_input_stays_within_its_memory_bound(tmp_path: Path) -> None:
    """Index a 100 MB file of 2,000,000 short lines the way the operator's check does and
    read the peak resident size of a child process: about the 1 GB bound (150 MB above the
    interpreter) scaled down by ten, plus the interpreter and codec."""
    script = f"""
import sys
sys.path.insert(0, {str(PLUGINS)!r})
from influxdb_write.line_protocol import Decoder
from influxdb_write.line_protocol.points import PointIndex
def peak():  # VmHWM: ru_maxrss of a child starts at its parent's peak
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
before = peak()
index = PointIndex(stamp=1)
def lines():
    for i in range(2_000_000):
        yield f"cpu,host=host-{{i % 1000:04d}},region=eu-central-1 usage={{i % 7}}.25,idle={{i}}i {{i}}\\n"
decoder = Decoder()
with open(sys.argv[1], "w") as out:
    out.writelines(lines())
with open(sys.argv[1], "rb") as data:
    errors = sum(1 for e in decoder.entries(data, errors_only=True, seen=index.seen))
index.flush()
assert errors == 0 and index.entries == 2_000_000, (errors, index.entries)
assert list(index.windows()) == []
print(before, peak())
"""
    path = tmp_path / "big.lp"
    run = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    before, peak = map(int, run.stdout.split())
    print(f"peak resident size added: {(peak - before) / 1024:.1f} MB")
    assert (peak - before) / 1024 < 40, (before, peak)  # KiB: 16 MB of hashes, their check, the blocks


@pytest.mark.parametrize(
    ("texts", "untimed"),
    [
        (["m v=1 1", "m,t=a\\ b v=2 -5", 'm s="a 12" 7'], False),
        (["m v=1 1", "m v=2"], True),
        (['m s="a 12"'], True),  # the last token is not the time
        (["m,t=a\\ b v=2"], True),  # an escaped space in the series key: parsed
        ([" m v=2 3"], False),
    ],
)
def test_the_index_tells_whether_some_entry_had_no_time(texts: list[str], untimed: bool) -> None:
    """The operator sends text unstamped when every entry had its own time: stamping
    would change nothing, and the client need not look for times again."""
    index = PointIndex(stamp=9)
    index.add(texts)
    assert index.untimed is untimed


def test_entries_given_by_their_parts_tell_whether_some_had_no_time() -> None:
    index = PointIndex(stamp=9)
    index.add_keys(["m", "m"], ["1", "2"])
    index.add_keys(["m"], "3")
    assert not index.untimed
    index.add_keys(["m", "m"], ["1", ""])
    assert index.untimed
    other = PointIndex()
    other.add_keys(["m"], "")
    assert other.untimed
