"""``pql eval`` end to end through click's runner."""

from __future__ import annotations

import io
import itertools
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pqltools.cli import eval_cmd, eval_lines, main
from pqltools.cli.eval_cmd import _compile_sources
from pqltools.cli.eval_lines import LineEvaluator, ranges
from pqltools.runtime.context import make_clock
from pqltools.sources import Source

NOW = "2024-05-15T12:00:00Z"
PROFILES = [
    {"_id": "a", "age": 30, "events": [{"eventType": "buy", "timestamp": "2024-05-14T00:00:00Z"}]},
    {"_id": "b", "age": 10},
    {"personID": "c", "age": 50, "events": [{"eventType": "buy", "timestamp": "2020-01-01"}]},
]


def _ndjson(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["eval", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_prints_qualifying_ids(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", PROFILES)
    code, out, err = _run("age >= 18", str(profiles), "--now", NOW)
    assert (code, out, err) == (0, "a\nc\n", "")


def test_reads_standard_input() -> None:
    stdin = "".join(json.dumps(p) + "\n" for p in PROFILES)
    code, out, _ = _run("age < 18", stdin=stdin)
    assert (code, out) == (0, "b\n")


def test_events_under_the_events_key(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", PROFILES)
    code, out, _ = _run('xEvent[eventType = "buy" and timestamp occurs < 7 days before now]',
                        str(profiles), "--now", NOW)
    assert (code, out) == (0, "a\n")


def test_custom_events_key_and_id_key(tmp_path: Path) -> None:
    rows = [{"crm": {"key": "k1"}, "hits": [{"n": 1, "timestamp": 1}]}, {"crm": {"key": "k2"}}]
    profiles = _ndjson(tmp_path / "p.ndjson", rows)
    code, out, _ = _run("xEvent.count() = 1", str(profiles), "--events-key", "hits",
                        "--id-key", "crm.key")
    assert (code, out) == (0, "k1\n")


def test_separate_events_file_joined_by_identity(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", [{"_id": "a"}, {"_id": "b"}])
    events = _ndjson(tmp_path / "e.ndjson", [
        {"profileId": "b", "eventType": "buy", "timestamp": "2024-05-15T00:00:00Z"},
        {"profileId": "a", "eventType": "view", "timestamp": "2024-05-15T00:00:00Z"},
        {"profileId": "b", "eventType": "buy", "timestamp": "2024-05-15T01:00:00Z"},
    ])
    code, out, _ = _run('xEvent[eventType = "buy"].count() = 2', str(profiles),
                        "--events", str(events))
    assert (code, out) == (0, "b\n")


def test_identity_key_option(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", [{"_id": "a"}])
    events = _ndjson(tmp_path / "e.ndjson", [{"owner": {"id": "a"}, "timestamp": 1}])
    code, out, _ = _run("xEvent.count() = 1", str(profiles), "--events", str(events),
                        "--identity-key", "owner.id")
    assert (code, out) == (0, "a\n")


def test_membership_then_previous(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", PROFILES)
    code, out, _ = _run("age >= 18", str(profiles), "--membership", "--now", NOW)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c"]
    assert records[0]["segmentMembership"]["ups"]["expression"] == {
        "status": "realized", "lastQualificationTime": "2024-05-15T12:00:00.000+00:00"}
    assert records[1]["segmentMembership"] == {"ups": {}}
    previous = tmp_path / "m.ndjson"
    previous.write_text(out, "utf-8")
    code, out, _ = _run("age >= 40", str(profiles), "--membership", "--previous", str(previous),
                        "--now", NOW)
    statuses = [json.loads(line)["segmentMembership"]["ups"].get("expression", {}).get("status")
                for line in out.splitlines()]
    assert (code, statuses) == (0, ["exited", None, "existing"])


def test_definition_file_with_several_segments(tmp_path: Path) -> None:
    definitions = tmp_path / "defs.json"
    definitions.write_text(json.dumps([
        {"id": "adults", "expression": {"type": "PQL", "format": "pql/text",
                                        "value": "age >= 18"}},
        {"id": "seniors", "expression": {"type": "PQL", "format": "pql/text",
                                         "value": 'inSegment("adults") and age >= 50'}},
    ]), "utf-8")
    profiles = _ndjson(tmp_path / "p.ndjson", PROFILES)
    code, out, _ = _run(str(definitions), str(profiles))
    assert (code, out) == (0, "a\tadults\nc\tadults\nc\tseniors\n")


def test_pql_file_with_comments(tmp_path: Path) -> None:
    query = tmp_path / "adults.pql"
    query.write_text("-- grown-ups only\nage >= 18 -- inclusive\n", "utf-8")
    profiles = _ndjson(tmp_path / "p.ndjson", PROFILES)
    code, out, _ = _run(str(query), str(profiles))
    assert (code, out) == (0, "a\nc\n")


def test_values_mode(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", PROFILES[:2])
    code, out, _ = _run("age * 2", str(profiles), "--value")
    assert (code, out) == (0, '{"id": "a", "value": 60}\n{"id": "b", "value": 20}\n')


def test_bad_lines_are_reported_and_the_run_continues(tmp_path: Path) -> None:
    path = tmp_path / "p.ndjson"
    path.write_text('{"_id": "a", "t": "nope"}\nnot json\n[1]\n\n{"_id": "b", "t": "2024-05-15"}\n',
                    "utf-8")
    code, out, err = _run("t occurs today", str(path), "--now", NOW)
    assert code == 1
    assert out == "b\n"
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}:1 (profile a): ")
    assert "'nope' is not an ISO-8601 timestamp" in err
    assert f"{path}:2: not valid JSON" in err
    assert f"{path}:3: a profile must be a JSON object, got list" in err


def test_profile_without_id_uses_line_number(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", [{"x": 1}, {"x": 2}])
    code, out, _ = _run("x = 2", str(profiles))
    assert (code, out) == (0, "line:2\n")


def test_invalid_query_exits_2_with_caret() -> None:
    code, _, err = _run("age >", stdin="{}\n")
    assert code == 2
    assert "<expression>:1:" in err and "^" in err


def test_unknown_function_exits_2() -> None:
    code, _, err = _run("nope(1)", stdin="{}\n")
    assert code == 2 and "unknown function `nope`" in err


def test_bad_now_is_a_usage_error() -> None:
    code, _, err = _run("true", "--now", "someday", stdin="{}\n")
    assert code == 2 and "--now" in err


def test_membership_and_value_are_exclusive() -> None:
    code, _, err = _run("true", "--membership", "--value", stdin="")
    assert code == 2 and "alternatives" in err


def test_missing_profiles_file() -> None:
    code, _, err = _run("true", "/nonexistent/profiles.ndjson")
    assert code == 2 and "cannot read" in err


def test_cycle_between_definitions_exits_2(tmp_path: Path) -> None:
    definitions = tmp_path / "defs.json"
    definitions.write_text(json.dumps([
        {"id": "a", "expression": {"value": 'inSegment("b")'}},
        {"id": "b", "expression": {"value": 'inSegment("a")'}},
    ]), "utf-8")
    code, _, err = _run(str(definitions), stdin="{}\n")
    assert code == 2 and "cycle" in err


def test_progress_bar_when_forced(tmp_path: Path) -> None:
    profiles = _ndjson(tmp_path / "p.ndjson", PROFILES)
    code, out, err = _run("age >= 18", str(profiles), "--progress")
    assert (code, out) == (0, "a\nc\n")
    assert "evaluating" in err


class _GeneratedProfiles:
    """A binary 'file' that makes its NDJSON lines on the fly (never held in memory)."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __iter__(self) -> Iterator[bytes]:
        for i in range(self.count):
            row = {"_id": f"p{i}", "age": i % 90, "pad": "x" * 200,
                   "events": [{"eventType": "buy", "timestamp": 1_700_000_000_000 + i}] * 5}
            yield (json.dumps(row) + "\n").encode()


class _Sink(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


def test_memory_stays_flat_as_input_grows() -> None:
    segments, _ = _compile_sources([Source("<expression>", "age > 40 and xEvent.count() = 5")])
    peaks = []
    for count in (400, 4_000):
        evaluator = LineEvaluator(segments, make_clock(NOW), "events", None, "membership")
        sink = _Sink()
        tracemalloc.start()
        failures = sum(evaluator.line(number, raw, sink.write) is not None
                       for number, raw in enumerate(_GeneratedProfiles(count), 1))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert failures == 0
    # ten times the input (about 1.8 MB instead of 0.18 MB) must not need more memory
    assert peaks[1] < peaks[0] * 1.5 + 100_000


def _mixed_lines() -> bytes:
    """Profiles with and without ids, blank lines, bad JSON, bad UTF-8 and a bad timestamp."""
    lines = []
    for i in range(60):
        if i % 13 == 5:
            lines.append(b"{not json")
        elif i % 17 == 3:
            lines.append(b'{"_id": "u\xff"}')
        elif i % 11 == 7:
            lines.append(b"")
        elif i % 19 == 2:
            lines.append(json.dumps({"_id": f"t{i}", "age": 50, "events": [
                {"eventType": "buy", "timestamp": "yesterday"}]}).encode())
        else:
            row: dict[str, object] = {"age": i, "events": [
                {"eventType": "buy", "timestamp": f"2024-05-{1 + i % 14:02d}T00:00:00Z"}]}
            if i % 3:
                row["_id"] = f"p{i}"
            lines.append(json.dumps(row).encode())
    return b"\n".join(lines) + b"\r\n"


QUERY = 'age >= 20 and xEvent[timestamp occurs < 7 days before now].count() > 0'


def test_worker_processes_give_the_single_process_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.ndjson"
    path.write_bytes(_mixed_lines())
    for output in ([], ["--membership"], ["--value"], ["--count"]):
        args = (QUERY, str(path), "--now", NOW, *output)
        serial = _run(*args, "--jobs", "1")
        assert serial[0] == 1 and "not valid UTF-8" in serial[2]
        assert ("line:" in serial[1]) != (output == ["--count"])
        with monkeypatch.context() as patch:
            patch.setattr(eval_cmd, "PARALLEL_BYTES", 0)
            patch.setattr(eval_cmd, "evaluate_file", _small_pieces)
            assert _run(*args, "--jobs", "2") == serial


def test_count_is_the_number_of_ids_printed_in_one_or_many_processes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.ndjson"
    path.write_bytes(_mixed_lines())
    defs = tmp_path / "d.json"
    defs.write_text(json.dumps([
        {"id": "young", "expression": {"type": "PQL", "format": "pql/text", "value": "age < 20"}},
        {"id": "recent", "expression": {"type": "PQL", "format": "pql/text", "value": QUERY}},
        {"id": "none", "expression": {"type": "PQL", "format": "pql/text", "value": "age < 0"}},
    ]))
    code, ids, _ = _run(str(defs), str(path), "--now", NOW, "--jobs", "1")
    assert code == 1  # the unusable lines are reported; the others counted
    printed = [line.split("\t")[1] for line in ids.splitlines()]
    expected = "".join(f"{seg}\t{printed.count(seg)}\n" for seg in ("young", "recent", "none"))
    assert printed.count("young") > 0 and printed.count("recent") > 0
    serial = _run(str(defs), str(path), "--now", NOW, "--count", "--jobs", "1")
    assert serial[:2] == (1, expected)
    with monkeypatch.context() as patch:
        patch.setattr(eval_cmd, "PARALLEL_BYTES", 0)
        patch.setattr(eval_cmd, "evaluate_file", _small_pieces)
        assert _run(str(defs), str(path), "--now", NOW, "--count", "--jobs", "2") == serial
    assert _run(QUERY, str(path), "--now", NOW, "--count", "--value")[0] == 2


def _small_pieces(*args: object, **kwargs: object) -> object:
    """``evaluate_file`` in pieces of about 97 bytes: many ranges, lines split across none."""
    return eval_lines.evaluate_file(*args, chunk=97)  # type: ignore[arg-type]


def test_ranges_cover_the_file_in_whole_lines(tmp_path: Path) -> None:
    data = _mixed_lines()
    path = tmp_path / "p.ndjson"
    path.write_bytes(data)
    pieces = list(ranges(str(path), len(data), 50))
    assert len(pieces) > 5
    assert pieces[0][1] == 0 and pieces[-1][2] == len(data)
    for (_, _, end, _), (_, start, _, first) in itertools.pairwise(pieces):
        assert start == end and data[start - 1:start] == b"\n"
        assert first == data[:start].count(b"\n") + 1
