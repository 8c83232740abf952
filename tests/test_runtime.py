"""The interpreter's API, compile-time checks, error reporting and safety bounds.

Behaviour of individual functions and phrases lives in the conformance suite
(tests/conformance/*.yaml); these tests cover what data files cannot express.
"""

from __future__ import annotations

import ast as pyast
import inspect
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pqltools
from pqltools import catalog
from pqltools.errors import PQLEvaluationError, PQLSyntaxError, PQLValidationError
from pqltools.runtime import compiler, functions
from pqltools.runtime.compiler import Limits, Program
from pqltools.runtime.timephrases import at_window, between_window, relative_window
from pqltools.syntax.parser import parse

RUNTIME = Path(compiler.__file__).parent


def test_public_facade_names() -> None:
    assert pqltools.compile is compiler.compile
    assert pqltools.evaluate is compiler.evaluate
    assert pqltools.evaluate_value is compiler.evaluate_value
    assert pqltools.Program is Program


def test_every_catalog_entry_has_an_implementation() -> None:
    for spec in catalog.ALL_FUNCTIONS:
        table = functions.GLOBAL_IMPLS if spec.kind == "global" else functions.METHOD_IMPLS
        assert spec.name in table or spec.name in functions.SPECIAL_FORMS, spec.name
    assert set(functions.METHOD_IMPLS) == set(catalog.METHODS)
    assert set(functions.GLOBAL_IMPLS) | functions.SPECIAL_FORMS == set(catalog.GLOBALS)


def test_runtime_never_uses_eval_or_exec() -> None:
    for path in RUNTIME.glob("*.py"):
        tree = pyast.parse(path.read_text("utf-8"))
        for node in pyast.walk(tree):
            if isinstance(node, pyast.Call) and isinstance(node.func, pyast.Name):
                assert node.func.id not in ("eval", "exec", "__import__"), path.name
            if isinstance(node, pyast.Attribute) and isinstance(node.value, pyast.Name):
                assert (node.value.id, node.attr) != ("builtins", "compile"), path.name


def test_compile_once_evaluate_many() -> None:
    program = pqltools.compile('person.age >= 21 and homeAddress.countryCode = "US"')
    assert isinstance(program, Program)
    profiles = [{"person": {"age": a}, "homeAddress": {"countryCode": c}}
                for a, c in ((30, "US"), (18, "US"), (40, "FR"))]
    assert [program.evaluate(p) for p in profiles] == [True, False, False]
    evaluate = program.bind(now="2024-01-01T00:00:00Z")
    assert [evaluate(p) for p in profiles] == [True, False, False]


def test_compile_accepts_a_parsed_tree() -> None:
    tree = parse("a + 1")
    assert pqltools.evaluate_value(tree, {"a": 2}) == 3


def test_evaluate_accepts_a_program() -> None:
    program = pqltools.compile("a = 1")
    assert pqltools.evaluate(program, {"a": 1}) is True


def test_now_forms_agree() -> None:
    expr = "t occurs today"
    profile = {"t": "2024-05-15T08:00:00Z"}
    moment = datetime(2024, 5, 15, 12, tzinfo=UTC)
    assert pqltools.evaluate(expr, profile, now="2024-05-15T12:00:00Z")
    assert pqltools.evaluate(expr, profile, now=moment)
    assert pqltools.evaluate(expr, profile, now=int(moment.timestamp() * 1000))
    assert not pqltools.evaluate(expr, profile, now=moment + timedelta(days=1))


def test_now_defaults_to_current_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``now`` the clock reads the current time (frozen here: no real time in tests)."""
    from pqltools.runtime import context

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: object = None) -> FrozenDatetime:  # type: ignore[override]
            return cls(2024, 5, 15, 12, tzinfo=UTC)

    monkeypatch.setattr(context, "datetime", FrozenDatetime)
    assert pqltools.evaluate("t occurs < 1 minute before now", {"t": "2024-05-15T11:59:30Z"})
    assert not pqltools.evaluate("t occurs < 1 minute before now", {"t": "2024-05-15T11:58:00Z"})


def test_naive_now_is_rejected() -> None:
    with pytest.raises(PQLEvaluationError, match="timezone-aware"):
        pqltools.evaluate("true", {}, now=datetime(2024, 1, 1))


def test_bad_now_string() -> None:
    with pytest.raises(PQLEvaluationError, match="`now`: 'tomorrowish' is not an ISO-8601"):
        pqltools.evaluate("true", {}, now="tomorrowish")


def test_evaluate_value_returns_json() -> None:
    profile = {"orders": [{"s": "a", "p": 2}, {"s": "a", "p": 3}]}
    assert pqltools.evaluate_value("orders.groupBy(s).map((K, G) => mapEntry(K, G.sum(p)))",
                                   profile) == {"a": 5}
    assert pqltools.evaluate_value("date(2024, 1, 2)", {}) == "2024-01-02"
    assert pqltools.evaluate_value("mapEntry(1, 2)", {}) == [1, 2]
    assert pqltools.evaluate_value("xs.groupBy(this)", {"xs": [1, True, 1.0]}) == {
        "1": [1, 1.0], "true": [True]}


def test_syntax_error_is_raised_at_compile() -> None:
    with pytest.raises(PQLSyntaxError):
        pqltools.compile("a = ")


def test_unknown_method_suggests_and_points_at_call() -> None:
    with pytest.raises(PQLValidationError) as info:
        pqltools.compile('person.name.startwith("J")')
    diag = info.value.diagnostics[0]
    assert diag.code == "PQL102"  # the linter's rule: one check, one code, one message
    assert diag.message == "unknown method `startwith`; did you mean `startsWith`?"
    assert (diag.span.line, diag.span.column, diag.span.end) == (1, 13, 21)  # the name


def test_method_used_as_global_gets_a_hint() -> None:
    with pytest.raises(PQLValidationError) as info:
        pqltools.compile("count(xs)")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.message) == ("PQL101", "unknown function `count`")
    assert diag.help is not None and diag.help.startswith("`count` is a method: call it on a")


def test_arity_message_shows_signature() -> None:
    with pytest.raises(PQLValidationError) as info:
        pqltools.compile("date(2020, 1)")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.message) == ("PQL103", "`date` takes 3 arguments, got 2")
    assert diag.help == "signature: date(year: integer, month: integer, day: integer) -> date"


def test_literal_regex_errors_point_at_the_pattern() -> None:
    with pytest.raises(PQLValidationError) as info:
        pqltools.compile('name.matches("(a)\\\\1")')
    diag = info.value.diagnostics[0]
    assert "backreferences" in diag.message and "'(a)\\\\1'" in diag.message
    assert diag.span.column == 14


def test_lookaround_in_infix_matches() -> None:
    with pytest.raises(PQLValidationError, match="lookahead/lookbehind"):
        pqltools.compile('name matches "a(?!b)"')


def test_dynamic_regex_error_names_pattern_and_place() -> None:
    program = pqltools.compile("name.matches(p)")
    with pytest.raises(PQLEvaluationError) as info:
        program.evaluate({"name": "x", "p": "(?<=a)b"})
    diag = info.value.diagnostics[0]
    assert "'(?<=a)b'" in diag.message and diag.span.column == 1


def test_timestamp_error_names_value_and_place() -> None:
    program = pqltools.compile("x = 1 and t occurs today")
    with pytest.raises(PQLEvaluationError) as info:
        program.evaluate({"x": 1, "t": "2024-13-45"})
    diag = info.value.diagnostics[0]
    assert diag.message == "`occurs` needs a timestamp: '2024-13-45' is not an ISO-8601 timestamp"
    assert (diag.span.column, diag.span.end_column) == (11, 12)


def test_profile_must_be_an_object() -> None:
    for bad in ([1], "x", None, 3):
        with pytest.raises(PQLEvaluationError, match="a profile must be a JSON object"):
            pqltools.evaluate("a", bad)  # type: ignore[arg-type]
        with pytest.raises(PQLEvaluationError, match="a profile must be a JSON object"):
            pqltools.compile("a").bind()(bad)


def test_events_are_checked_when_read() -> None:
    with pytest.raises(PQLEvaluationError, match="event 1 must be a JSON object, got a string"):
        pqltools.evaluate("xEvent.count() > 0", {}, events=[{}, "x"])
    # a profile-only expression never reads them
    assert pqltools.evaluate("a = 1", {"a": 1}, events="junk")  # type: ignore[arg-type]


def test_catastrophic_regex_runs_on_re2() -> None:
    """Patterns that backtrack exponentially elsewhere run on RE2, linear in the input: checked
    by the engine in use, not by a stopwatch."""
    from pqltools.runtime.regex import compile_regex, like_regex

    text = "a" * 100_000 + "!"
    assert not pqltools.evaluate('s.matches("^(a+)+$")', {"s": text})
    assert not pqltools.evaluate('s matches "^(a|a)*$"', {"s": text})
    assert not pqltools.evaluate('s like "%a%a%a%a%a%a%a%b"', {"s": text})
    for compiled in (compile_regex("^(a+)+$"), like_regex("%a%a%b")):
        engine = getattr(compiled, "_regex", compiled)  # a Pattern wraps the RE2 object
        assert type(engine).__module__ == "re2"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(PQLSyntaxError) as info:  # 3000 nested lists: beyond limits.max-depth
        pqltools.compile("[" * 3000 + "]" * 3000)
    assert info.value.diagnostics[0].code == "PQL006"
    nested: list[object] = []
    for _ in range(49):
        nested = [nested]
    assert pqltools.compile("[" * 50 + "]" * 50).evaluate_value({}) == nested
    # parentheses make no node: any number of them is just the expression
    assert pqltools.compile("(" * 3000 + "1" + ")" * 3000).evaluate_value({}) == 1


def test_deeply_nested_profile_value() -> None:
    value: object = 1
    for _ in range(50_000):
        value = [value]
    with pytest.raises(PQLEvaluationError, match="nested too deeply"):
        pqltools.evaluate("xs.distinct().count() = 1", {"xs": [value, value]})


def test_huge_list_and_many_events() -> None:
    profile = {"xs": list(range(200_000))}
    events = [{"eventType": "view" if i % 3 else "buy", "timestamp": 1_700_000_000_000 + i}
              for i in range(5_000)]
    assert pqltools.evaluate("xs.sum() > 0 and 199999 in xs", profile)
    assert pqltools.evaluate('xEvent[eventType = "buy"].count() = 1667', {}, events=events)
    assert pqltools.evaluate('chain(xEvent, timestamp, [A: WHAT(eventType = "buy") COUNT(1000),'
                             ' B: WHAT(eventType = "view")])', {}, events=events)


def test_cross_product_is_bounded() -> None:
    events = [{"n": i, "timestamp": i} for i in range(3_000)]
    program = pqltools.compile("select A from xEvent, B from xEvent where A.n + B.n < 0",
                               limits=Limits(max_combinations=100_000))
    with pytest.raises(PQLEvaluationError, match="more than 100,000 combinations"):
        program.evaluate({}, events)


def test_bound_evaluator_recovers_after_an_error() -> None:
    evaluate = pqltools.compile("exists X from xs where X.t occurs today").bind(
        now="2024-05-15T12:00:00Z")
    with pytest.raises(PQLEvaluationError):
        evaluate({"xs": [{"t": "bad"}]})
    assert evaluate({"xs": [{"t": "2024-05-15T01:00:00Z"}]}) is True


def test_variables_do_not_leak_between_evaluations() -> None:
    program = pqltools.compile("let X = a in X")
    assert program.evaluate_value({"a": 1}) == 1
    assert program.evaluate_value({}) is None


def test_segments_override_for_insegment() -> None:
    program = pqltools.compile('inSegment("s")')
    stored = {"segmentMembership": {"ups": {"s": {"status": "realized"}}}}
    assert program.evaluate(stored)
    assert not program.evaluate(stored, segments={"s": False})


def test_program_repr_and_text() -> None:
    program = pqltools.compile("a = 1")
    assert repr(program) == "Program('a = 1')"
    assert program.text == "a = 1"


def test_functions_are_documented() -> None:
    for module in (compiler, functions):
        for name, obj in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == \
                    module.__name__:
                assert obj.__doc__, f"{module.__name__}.{name} has no docstring"


def test_threads_with_different_clocks_agree() -> None:
    from concurrent.futures import ThreadPoolExecutor

    program = pqltools.compile("t occurs today")
    profile = {"t": "2024-05-15T08:00:00Z"}
    jobs = [("2024-05-15T12:00:00Z", True), ("2024-05-16T12:00:00Z", False)] * 400
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda job: program.evaluate(profile, now=job[0]), jobs))
    assert results == [expected for _, expected in jobs]


def test_clocks_are_shared_per_now_value_and_stay_correct() -> None:
    from pqltools.runtime.context import make_clock

    assert make_clock("2025-06-15T12:00:00Z") is make_clock("2025-06-15T12:00:00Z")
    program = pqltools.compile("xEvent[timestamp occurs < 1 day before now].count() > 0")
    events = [{"timestamp": "2025-06-15T00:00:00Z"}]
    assert program.evaluate({}, events, now="2025-06-15T12:00:00Z") is True
    assert program.evaluate({}, events, now="2025-06-17T12:00:00Z") is False
    assert program.evaluate({}, events, now="2025-06-15T12:00:00Z") is True


@pytest.mark.parametrize("bad", [[2025], {"y": 1}, True, 1.5j])
def test_unusable_now_is_an_evaluation_error(bad: object) -> None:
    with pytest.raises(pqltools.PQLEvaluationError):
        pqltools.evaluate("a = 1", {"a": 1}, now=bad)  # type: ignore[arg-type]


@given(st.sampled_from(["<", "<=", "=", ">", ">=", "!="]), st.integers(0, 50),
       st.sampled_from(["millisecond", "second", "minute", "hour", "day", "week"]),
       st.sampled_from(["before", "after", "from"]), st.integers(0, 4_000_000_000_000),
       st.lists(st.integers(-3, 3), min_size=1, max_size=4))
def test_windows_relative_to_now_equal_relative_window(cmp: str, amount: int, unit: str,
                                                       direction: str, now: int,
                                                       nudges: list[int]) -> None:
    """The compiled window of ``CMP N UNIT before|after|from now`` (the window at time 0 moved
    by ``now``) holds exactly the timestamps :func:`relative_window` puts in it, at its edges
    too, clock after clock."""
    from pqltools.runtime.timephrases import UNIT_MILLIS, keyword_interval

    program = pqltools.compile(f"xEvent[timestamp occurs {cmp} {amount} {unit} {direction} now]")
    for step, nudge in enumerate(nudges):
        at = now + step * UNIT_MILLIS[unit]
        window = relative_window(cmp, amount, unit, direction, keyword_interval(at, "now"), True)
        edges = [e for lo, hi in window for e in (lo, hi) if abs(e) < 2**61] + [at]
        for edge in edges:
            ts = edge + nudge
            expected = any(lo <= ts <= hi for lo, hi in window)
            assert program.evaluate({}, [{"timestamp": ts}], now=at) is expected, (window, ts)


_DAY_PHRASES = {
    "occurs today": lambda at, kw: at_window(kw(at, "today")),
    "occurs yesterday": lambda at, kw: at_window(kw(at, "yesterday")),
    "occurs < 2 days before today":
        lambda at, kw: relative_window("<", 2, "day", "before", kw(at, "today"), False),
    "occurs between yesterday and tomorrow":
        lambda at, kw: between_window(kw(at, "yesterday"), kw(at, "tomorrow")),
    "occurs > 1 hours after today":
        lambda at, kw: relative_window(">", 1, "hour", "after", kw(at, "today"), False),
    "occurs < 1 months before today":
        lambda at, kw: relative_window("<", 1, "month", "before", kw(at, "today"), False),
}


@given(st.sampled_from(sorted(_DAY_PHRASES)), st.integers(0, 86_400_000 - 1),
       st.lists(st.integers(-2 * 86_400_000, 2 * 86_400_000), min_size=1, max_size=4))
def test_day_windows_shared_by_the_clocks_of_a_day(phrase: str, within: int,
                                                    lags: list[int]) -> None:
    """A window of ``today``/``yesterday``/``tomorrow`` is computed once per UTC day: one
    program evaluated at instants day after day (and at the last and first millisecond of
    days) holds what the window of each instant holds."""
    from pqltools.runtime.timephrases import keyword_interval

    day = 86_400_000
    start = 1_748_736_000_000
    program = pqltools.compile(f"xEvent[timestamp {phrase}]")
    instants = sorted({start + k * day + within for k in range(4)}
                      | {start + k * day + edge for k in range(1, 4) for edge in (-1, 0)})
    for now in instants:
        window = _DAY_PHRASES[phrase](now, keyword_interval)
        for lag in lags + [0]:
            ts = now + lag
            expected = any(lo <= ts <= hi for lo, hi in window)
            assert program.evaluate({}, [{"timestamp": ts}], now=now) is expected, (now, ts)


@given(st.one_of(st.integers(-2**50, 2**50), st.sampled_from([0, -1, 999, 253_402_300_799_000,
                                                             253_402_300_799_001])))
def test_iso_text_of_epoch_milliseconds(ms: int) -> None:
    """``iso`` (formatted from ``time.gmtime`` in the usual range) is ``datetime``'s text,
    clamped to its range."""
    from pqltools.runtime.timephrases import from_millis, iso

    assert iso(ms) == from_millis(ms).isoformat(timespec="milliseconds")
