"""Hostile input, one test per class at its root (issue 10); docs/limits.md lists the limits."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import pqltools
from pqltools.limits import MAX_NUMBER, finite_number, parse_int_text
from pqltools.syntax.parser import ParseOptions, _tok_span, parse_document

# ------------------------------------------------------------------ parser


@pytest.mark.parametrize("text", [
    "(1e400 false",  # an out-of-range number reduced inside a repair trial
    "(1e400 false and (",
    "1e400 (",
    "[1e400 true",
    "x.f(1e400 false",
])
def test_recovery_with_out_of_range_number_reports_errors(text: str) -> None:
    result = parse_document(text)
    assert not result.ok
    codes = {d.code for d in result.diagnostics}
    assert "PQL007" in codes
    for d in result.diagnostics:
        assert 0 <= d.span.start <= d.span.end <= len(text)
    with pytest.raises(pqltools.PQLSyntaxError):
        pqltools.parse(text)


def test_token_without_end_position_still_has_a_span() -> None:
    from lark import Token

    tok = Token("NUMBER", "1e400", start_pos=3, line=1, column=4)
    assert _tok_span(tok) == pqltools.Span(3, 8, 1, 4, 1, 9)


@pytest.mark.parametrize("text", [
    "9" * 5000,  # beyond Python's 4300-digit conversion limit
    "x occurs >= " + "9" * 5000 + " days before now",
    "chain(xEvent, timestamp, [A: COUNT(" + "9" * 5000 + ")])",
    "9" * 309,  # just beyond a double
    "-" + "9" * 320,
])
def test_numbers_beyond_the_range_are_syntax_errors(text: str) -> None:
    result = parse_document(text)
    assert [d.code for d in result.diagnostics] == ["PQL007"]
    assert "out of range" in result.diagnostics[0].message


def test_largest_integer_literal_is_exact() -> None:
    text = "9" * 308
    tree = pqltools.parse(text)
    assert tree.value == int(text)  # type: ignore[attr-defined]


def test_number_limits() -> None:
    assert parse_int_text("0" * 5000 + "7") == 7
    assert parse_int_text("9" * 400) is None
    assert finite_number(MAX_NUMBER) is None
    assert finite_number(MAX_NUMBER - 1) == MAX_NUMBER - 1
    assert finite_number(float("nan")) is None
    assert finite_number("x") == "x"


@pytest.mark.parametrize("text", [
    "a = 1\n  " + "not " * 1500 + "and " + "not " * 700 + 'x.startwith("a")',
    "r ts occurs = 1 hour after" + "a[" * 3000 + "\n" + "]" * 60,
    "(" * 5000 + "a b c d e" * 200,
    "x = 1 " + ") " * 5000,
    "not " * 3000 + "a b" * 1000,
])
def test_error_recovery_is_not_quadratic(text: str) -> None:
    # a linear parse takes milliseconds; before the fix these took 10 to 30 seconds
    start = time.process_time()
    result = parse_document(text, ParseOptions(comments=True))
    assert not result.ok
    assert time.process_time() - start < 5


def test_deep_stack_at_an_error_stops_with_a_limit() -> None:
    text = "not " * 2000 + "a b"
    result = parse_document(text)
    assert any(d.code == "PQL006" for d in result.diagnostics)


# ------------------------------------------------------------------ runtime: numbers, text, time


@pytest.mark.parametrize(("expression", "profile", "expected"), [
    ("a * a", {"a": 10**300}, None),  # beyond a double: null, like a float overflow
    ("a * a * a * a * a * a * a * a", {"a": 10**200}, None),
    ("b + 0.5", {"b": 10**400}, None),  # int too large to meet a float
    ("l.sum()", {"l": [10**308] * 3}, None),
    ("l.average()", {"l": [10**308, 10**308]}, 1e308),  # the mean is in range
    ("l.sum()", {"l": [10**300, 1]}, 10**300 + 1),  # exact inside the range
    ("(sum X over X from l) > 1", {"l": [10**400, 0.5]}, False),
])
def test_numbers_stay_inside_a_doubles_range(expression: str, profile: dict[str, object],
                                             expected: object) -> None:
    assert pqltools.evaluate_value(expression, profile) == expected


@pytest.mark.parametrize(("expression", "message"), [
    ("date(n, 1, 1) = x", "needs whole numbers, got date(nan, 1, 1)"),
    ("date(i, 1, 1) = x", "needs whole numbers, got date(inf, 1, 1)"),
    ("date(big, 1, 1) = x", "date(a 401-digit number, 1, 1) is not a calendar day"),
    ("date(10000, 1, 1) = x", "year 1-9999"),
    ('s.regexGroup("(.)", n)', "group number must be a finite number, got nan"),
    ('s.regexGroup("(.)", i)', "group number must be a finite number, got inf"),
    ("l.topN((x) => x, n)", "must be a finite number, got nan"),
])
def test_nan_infinity_and_huge_arguments_are_evaluation_errors(expression: str,
                                                               message: str) -> None:
    profile = {"n": float("nan"), "i": float("inf"), "big": 10**400, "s": "ab", "l": [1, 2]}
    with pytest.raises(pqltools.PQLEvaluationError, match=re.escape(message)):
        pqltools.evaluate_value(expression, profile)


@pytest.mark.parametrize("expression", [
    'name.matches("a")', 'name.matches("\ud800")', 'name like "%\ud800"',
    'name.regexGroup("(.)", 1) = "x"', 'names.matches("b")',
])
def test_lone_surrogates_never_reach_re2(expression: str) -> None:
    profile = {"name": "x\ud800", "names": ["\udfffb", "c"]}
    assert isinstance(pqltools.evaluate(expression, profile), bool)


def test_surrogate_matches_as_replacement_character() -> None:
    assert pqltools.evaluate('name.matches("^x.$")', {"name": "x\ud800"})
    assert pqltools.evaluate('name like "x_"', {"name": "x\udc80"})


@pytest.mark.parametrize("expression", [
    "select X from xEvent where X.timestamp occurs this month",
    "xEvent.exists(timestamp occurs next year)", "xEvent.exists(timestamp occurs this millennium)",
    "xEvent.exists(timestamp occurs < 5 years after now)", "xEvent.exists(timestamp occurs last decade)",
    "xEvent.exists(timestamp occurs between date(9999, 12, 31) and tomorrow)",
])
@pytest.mark.parametrize("now", ["9999-12-31T23:59:59Z", "9999-12-01T00:00:00Z",
                                 "0001-01-01T00:00:00Z"])
def test_calendar_phrases_at_the_ends_of_the_calendar(expression: str, now: str) -> None:
    events = [{"timestamp": "9999-12-15T00:00:00Z"}, {"timestamp": "0001-01-01T00:00:00Z"}]
    result = pqltools.evaluate_value(expression, {}, events=events, now=now)
    assert result is not None


def test_month_arithmetic_in_december_9999() -> None:
    from pqltools.runtime.timephrases import _add_months, to_millis

    assert _add_months(to_millis("9999-11-30T00:00:00Z"), 1) == to_millis(
        "9999-12-30T00:00:00Z")
    assert _add_months(to_millis("9999-12-31T00:00:00Z"), 1) == to_millis(
        "9999-12-31T23:59:59Z")  # saturates at the end of the calendar


# ------------------------------------------------------------------ regex cache


def test_regex_cache_is_bounded_by_total_pattern_size() -> None:
    from pqltools.runtime import regex

    saved = regex.cache_limits()
    try:
        regex.cache_limits(regex.CacheLimits(entries=100, chars=10_000))
        for i in range(20):
            regex.compile_regex(f"{i}" + "a" * 2_000)
        assert regex._REGEX_CACHE.chars <= 10_000
        assert len(regex._REGEX_CACHE.items) <= 5
        big = "b" * 20_000  # larger than the whole cache: compiled, never kept
        assert regex.compile_regex(big).search(big) is not None
        assert big not in regex._REGEX_CACHE.items
    finally:
        regex.cache_limits(saved)


# ------------------------------------------------------------------ pql eval, line by line


def _eval(*args: str, stdin: bytes) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from pqltools.cli import main

    result = CliRunner().invoke(main, ["eval", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_eval_reports_each_bad_line_with_its_number_and_goes_on() -> None:
    lines = [
        b'{"id": "p1", "a": 1}',
        b'{"id": "p2", "a": NaN}',
        b'{"id": "p3", "a": Infinity}',
        b'{"id": "p4", "a": 1e400}',
        b'{"id": "p5", "a": ' + b"9" * 5000 + b"}",
        b'{"id": "p6", "name": "\\ud800", "a": 2}',
        b'{"id": "p7", "a": \xff}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "p9", "a": 3}',
    ]
    code, out, err = _eval("--value", "-e", 'a + 1', "-", stdin=b"\n".join(lines) + b"\n")
    assert code == 1
    assert out.splitlines() == ['{"id": "p1", "value": 2}', '{"id": "p6", "value": 3}',
                                '{"id": "p9", "value": 4}']
    for number, reason in [(2, "`NaN` is not JSON"), (3, "`Infinity` is not JSON"),
                           (4, "out of range"), (5, "out of range"), (7, "UTF-8"),
                           (8, "nested too deeply")]:
        assert any(line.startswith(f"<stdin>:{number}:") and reason in line
                   for line in err.splitlines()), (number, err)


def test_eval_with_surrogates_in_profile_data() -> None:
    code, out, err = _eval("-e", 'name.matches("x")', "-",
                           stdin=b'{"id": "p1", "name": "x\\ud800"}\n')
    assert (code, out, err) == (0, "p1\n", "")


def test_eval_byte_order_mark_on_the_first_line() -> None:
    code, out, _ = _eval("-e", "a = 1", "-", stdin=b'\xef\xbb\xbf{"id": "p1", "a": 1}\n')
    assert (code, out) == (0, "p1\n")


def test_eval_now_at_the_end_of_the_calendar() -> None:
    code, out, err = _eval("--now", "9999-12-31T23:59:59Z", "-e",
                           "t occurs this month and not (t occurs next year)", "-",
                           stdin=b'{"id": "p1", "t": "9999-12-02T00:00:00Z"}\n')
    assert (code, out, err) == (0, "p1\n", "")


# ------------------------------------------------------------------ command line: inputs


def _pql(*args: str, stdin: bytes = b"", cwd: object = None) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from pqltools.cli import main

    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [["lint", "-"], ["format", "-"], ["classify", "-"],
                                     ["convert", "--to", "json", "-"], ["parse", "-"]])
def test_invalid_utf8_on_stdin_is_not_utf8_and_exits_2(command: list[str]) -> None:
    code, _, err = _pql(*command, stdin=b'a = "\xff\xfe"\n')
    assert code == 2, err
    assert "not UTF-8 text (byte 5)" in err
    assert "unexpected character" not in err


@pytest.mark.parametrize("command", [["lint"], ["format", "--check"], ["classify"],
                                     ["convert", "--to", "json"]])
def test_binary_file_exits_2(command: list[str], tmp_path: Path) -> None:
    binary = tmp_path / "data.pql"
    binary.write_bytes(bytes(range(256)) * 4)
    code, _, err = _pql(*command, str(binary))
    assert code == 2, err
    assert "not UTF-8 text" in err + _


@pytest.mark.parametrize(("name", "content"), [
    ("a.pql", 'a = "x"\n'),
    ("d.json", ('{"name": "n", "expression": {"type": "PQL", "format": "pql/text", '
               '"value": "a = \\"x\\""}}\n')),
])
@pytest.mark.parametrize("command", [["lint"], ["classify"], ["format", "--check"],
                                     ["convert", "--to", "json"]])
def test_byte_order_mark_is_accepted(name: str, content: str, command: list[str],
                                     tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + content.encode())
    code, out, err = _pql(*command, str(path))
    assert code == 0, out + err


def test_format_keeps_the_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "a.pql"
    path.write_bytes(b'\xef\xbb\xbfa  =   "x"\n')
    assert _pql("format", str(path))[0] == 0
    assert path.read_bytes() == b'\xef\xbb\xbfa = "x"\n'


def test_expression_longer_than_a_file_name(tmp_path: Path) -> None:
    expression = " and ".join(f'a{i} = "{"x" * 20}"' for i in range(400))
    for command in (["lint"], ["classify"], ["parse"], ["convert", "--to", "json"]):
        code, _, err = _pql(*command, expression)
        assert code in (0, 1), (command, err)


@pytest.mark.parametrize("option", ["--schema", "--audiences"])
@pytest.mark.parametrize("shape", ["list", "object"])
def test_side_inputs_nested_thousands_deep(option: str, shape: str, tmp_path: Path) -> None:
    path = tmp_path / "side.json"
    depth = 5000
    path.write_text("[" * depth + "]" * depth if shape == "list" else
                    '{"a":' * depth + "1" + "}" * depth)
    command = "lint" if option == "--schema" else "classify"
    code, _, err = _pql(command, option, str(path), 'inSegment("a") and a = 1')
    assert code == 2, err
    assert "nested too deeply" in err or "not" in err


def test_events_file_nested_thousands_deep(tmp_path: Path) -> None:
    events = tmp_path / "events.ndjson"
    events.write_text("[" * 5000 + "]" * 5000 + "\n")
    code, out, err = _pql("eval", "--events", str(events), "-e", "a = 1", "-",
                          stdin=b'{"id": "p", "a": 1}\n')
    assert code == 1 and out == "p\n"
    assert f"{events}:1: not valid JSON: JSON nested too deeply" in err


def test_convert_input_nested_thousands_deep() -> None:
    code, _, err = _pql("convert", "--to", "text", "-", stdin=b"[" * 5000 + b"]" * 5000)
    assert code in (1, 2) and "Traceback" not in err


@pytest.mark.parametrize("name", ["pqltools.toml", "pyproject.toml"])
def test_config_nested_thousands_deep(name: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    header = "[tool.pqltools]\n" if name == "pyproject.toml" else ""
    (tmp_path / name).write_text(header + "select = " + "[" * 5000 + "]" * 5000 + "\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = _pql("lint", "a = 1")
    assert code == 2
    assert "nested too deeply" in err


# ------------------------------------------------------------------ writing files


def test_full_disk_on_standard_output_is_an_error_not_a_traceback() -> None:
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    for args in (["format", "-"], ["convert", "--to", "json", "-"], ["lint", "-",
                                                                    "--format", "json"]):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "pqltools", *args], input=b"a  = 1\n",
                                  stdout=full, stderr=subprocess.PIPE, timeout=60, check=False)
        assert done.returncode == 2, (args, done.stderr)
        assert b"Traceback" not in done.stderr
        assert b"No space left on device" in done.stderr


def test_full_disk_when_formatting_a_file_leaves_it_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from pqltools import fileio

    path = tmp_path / "a.pql"
    path.write_text("a  =  1\n")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio, "_replace", full)
    monkeypatch.setattr(fileio, "_write_in_place", full)
    code, _, err = _pql("format", str(path))
    assert code == 2
    assert "cannot write: No space left on device; left unchanged" in err
    assert path.read_text() == "a  =  1\n"


def test_write_keeps_symlinks_hard_links_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    import os

    from pqltools.fileio import write_atomic

    real = tmp_path / "real.pql"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.pql"
    link.symlink_to(real)
    hard = tmp_path / "hard.pql"
    os.link(real, hard)
    write_atomic(link, "new\n")
    assert link.is_symlink()
    assert real.read_text() == hard.read_text() == "new\n"
    assert os.stat(real).st_ino == os.stat(hard).st_ino
    assert real.stat().st_mode & 0o777 == 0o640
    single = tmp_path / "single.pql"
    single.write_text("x")
    single.chmod(0o600)
    write_atomic(single, "y")
    assert single.read_text() == "y" and single.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hard.pql", "link.pql", "real.pql", "single.pql"]


def test_failed_write_in_place_puts_the_old_content_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from pqltools import fileio

    real = tmp_path / "real.pql"
    real.write_text("old content\n")
    os.link(real, tmp_path / "other.pql")  # a hard link: rewritten in place
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        fileio.write_atomic(real, "much longer new content\n" * 10)
    assert real.read_text() == "old content\n"


def test_temporary_file_is_unnamed_or_cleaned_up(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from pqltools import fileio

    path = tmp_path / "a.pql"
    path.write_text("x")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio.write_atomic(path, "y")
    assert [p.name for p in tmp_path.iterdir()] == ["a.pql"]
    assert path.read_text() == "x"


# ------------------------------------------------------------------ positions in big files

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n\r c\u00e9", max_size=80), st.data())
def test_line_index_gives_the_same_spans_and_snippets(text: str, data: st.DataObject) -> None:
    from pqltools import errors

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    indexed = errors.line_index(text).span(start, end)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    end_line = line + text.count("\n", start, end)
    end_column = end - (text.rfind("\n", 0, end) + 1) + 1
    assert indexed == pqltools.Span(start, end, line, column, end_line, end_column)
    lo, hi = errors.line_index(text).bounds(start)
    assert text[lo:hi] == text.split("\n")[line - 1]


def test_long_texts_use_one_line_index_per_text() -> None:
    from pqltools import errors

    text = '{"a": 1}\n' * 10_000
    first = errors.line_index(text)
    span = pqltools.Span.from_offsets(text, 9 * 5_000 + 2, 9 * 5_000 + 5)
    assert (span.line, span.column, span.end_column) == (5_001, 3, 6)
    assert errors.line_index(text) is first
    snippet = errors.render_snippet(text, span)
    assert snippet.splitlines()[0] == '  {"a": 1}'


def test_definitions_of_a_big_export_point_into_the_file() -> None:
    import json

    from pqltools.definitions import load_definitions

    definitions = [{"name": f"s{i}", "expression": {"type": "PQL", "format": "pql/text",
                                                     "value": f"a{i} = null"}}
                   for i in range(3_000)]
    text = json.dumps({"segments": definitions})  # minified: one line
    loaded = load_definitions("export.json", text=text)
    last = loaded[-1]
    span = last.file_span(pqltools.Span.from_offsets(last.expression, 0, 5))
    assert text[span.start:span.end] == "a2999"
    assert span.line == 1 and span.column == span.start + 1


# ------------------------------------------------------------------ costs


_MIXED = ["1", "1.0", "true", "TRUE", " false ", "x", "", 1, 1.0, 0, 2.5, True, False, [1],
          ["1"], {"a": 1}, None, float("nan"), "nan", "1e3", 1000, "2.5", 10**20]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_MIXED), max_size=8), st.sampled_from(_MIXED))
def test_indexed_membership_equals_scanning(items: list[object], value: object) -> None:
    from pqltools.runtime.values import MemberSet, scalar_equal

    index = MemberSet(items)
    if value is None:
        return
    assert (value in index) == any(x is not None and scalar_equal(value, x) for x in items)
    assert index.holds(value) == any(x is not None and scalar_equal(x, value) for x in items)


@pytest.mark.parametrize(("expression", "expected"), [
    ("a.intersects(b)", False), ("a.subsetOf(b)", False), ("a in b", False),
    ("a notIn a", False), ("a.intersection(b)", None), ("n.intersects(m)", False),
    ("a.intersects(c)", True), ("m.subsetOf(n)", True),
])
def test_membership_of_two_long_lists_is_linear(expression: str, expected: object) -> None:
    from pqltools.runtime import values

    calls = []
    real = values.scalar_equal

    def counting(a: object, b: object) -> bool:
        calls.append(1)
        return real(a, b)

    profile = {"a": [f"s{i}" for i in range(20_000)], "b": [f"t{i}" for i in range(20_000)],
               "c": ["zz", "s19999"], "n": list(range(20_000)),
               "m": [str(i) for i in range(19_000, 20_000)]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(values, "scalar_equal", counting)
        assert pqltools.evaluate_value(expression, profile) == expected
    assert len(calls) < 1_000  # a scan would compare 400 million pairs


def test_nested_filters_have_a_cost_budget() -> None:
    from pqltools.runtime.compiler import Limits
    from pqltools.runtime.compiler import compile as compile_pql

    profile = {"a": [{"b": [{"c": list(range(300))}] * 300}] * 300}
    with pytest.raises(pqltools.PQLEvaluationError, match="visits more than 10,000,000"):
        pqltools.evaluate_value("a[b[c[this > 5]]]", profile)
    small = compile_pql("a[b[c[this > 5]]]", limits=Limits(max_cost=50))
    with pytest.raises(pqltools.PQLEvaluationError, match="more than 50 elements"):
        small.evaluate({"a": [{"b": [{"c": list(range(60))}]}]})
    assert small.evaluate({"a": [{"b": [{"c": [1, 9]}]}]})  # within the budget
    # the budget is per evaluation: a bound evaluator starts each profile afresh
    run = small.bind(now="2024-01-01T00:00:00Z")
    for _ in range(100):
        assert run({"a": [{"b": [{"c": list(range(20))}]}]})


def test_top_level_iteration_is_not_charged() -> None:
    from pqltools.runtime.compiler import Limits
    from pqltools.runtime.compiler import compile as compile_pql

    program = compile_pql("a[this > 5].count() > 0", limits=Limits(max_cost=10))
    assert program.evaluate({"a": list(range(1000))})


# ------------------------------------------------------------------ pql/json round trip


@pytest.mark.parametrize(("value", "text"), [(-5, "5"), (5, "-5"), (-2.5, "2.5"), (0, "0")])
def test_from_json_negation_of_a_number_round_trips(value: object, text: str) -> None:
    node = {"nodeType": "fnApply", "fnName": "-",
            "params": [{"nodeType": "literal", "literalType": "Double", "value": value}]}
    tree = pqltools.from_json(node)
    printed = pqltools.format(tree)
    assert printed == text
    assert pqltools.parse(printed) == tree


@pytest.mark.parametrize(("kind", "value"), [("Double", float("inf")), ("Double", float("nan")),
                                             ("Integer", 10**400), ("Integer", "9" * 5000),
                                             ("Integer", "-" + "9" * 400)])
def test_from_json_numbers_beyond_the_range(kind: str, value: object) -> None:
    node = {"nodeType": "literal", "literalType": kind, "value": value}
    with pytest.raises(pqltools.PQLError, match="out of range"):
        pqltools.from_json(node)


# ------------------------------------------------------------------ unknown rule codes


@pytest.mark.parametrize(("option", "message"), [
    ("PQL999", "'PQL999' is not a pqltools code; did you mean"),
    ("PQL12", None), ("PQL1", None), ("ALL", None), ("PQL120", None),
    ("PQL7", "'PQL7' is not a pqltools code"),
    ("PQL312", "'PQL312' was renumbered: use PQL101, PQL102"),
])
def test_select_refuses_unknown_codes(option: str, message: str | None) -> None:
    code, out, err = _pql("lint", "--select", option, "a = 1")
    if message is None:
        assert code == 0, err
    else:
        assert code == 2 and message in err
        assert "All checks passed" not in out


@pytest.mark.parametrize("table", [
    'select = ["PQL999"]', 'ignore = ["PQL98"]', '[severity]\nPQL998 = "error"',
    '[per-file-ignores]\n"*.pql" = ["PQL997"]',
])
def test_config_refuses_unknown_codes(table: str, tmp_path: Path) -> None:
    from pqltools.analysis.config import Config, ConfigError

    path = tmp_path / "pqltools.toml"
    path.write_text(table + "\n")
    with pytest.raises(ConfigError, match="is not a pqltools code"):
        Config.from_file(path)
