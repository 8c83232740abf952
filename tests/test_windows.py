"""Time windows of event references, computed from the syntax tree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pqltools.analysis.windows import (
    DAY_MS,
    HOUR_MS,
    UNIT_MS,
    Window,
    describe_duration,
    event_references,
    phrase_window,
)
from pqltools.syntax.ast import Filter, Occurs
from pqltools.syntax.parser import parse


def window_of(phrase: str) -> Window:
    """The window of ``xEvent[timestamp occurs PHRASE]``."""
    tree = parse(f"xEvent[timestamp occurs {phrase}]")
    assert isinstance(tree, Filter) and isinstance(tree.condition, Occurs)
    return phrase_window(tree.condition.phrase)


@pytest.mark.parametrize("phrase, start, end", [
    ("< 8 days before now", -8 * DAY_MS, 0),
    ("<= 24 hours before now", -24 * HOUR_MS, 0),
    ("= 3 hours before now", -3 * HOUR_MS, -3 * HOUR_MS),
    ("> 2 days before now", None, -2 * DAY_MS),
    ("!= 2 days before now", None, None),
    ("before now", None, 0),
    ("before today", None, DAY_MS),
    ("after now", 0, None),
    ("< 2 hours after now", 0, 2 * HOUR_MS),
    ("< 1 hour from now", -HOUR_MS, HOUR_MS),
    ("today", -DAY_MS, DAY_MS),
    ("on yesterday", -2 * DAY_MS, 0),
    ("tomorrow", 0, 2 * DAY_MS),
    ("this month", -31 * DAY_MS, 31 * DAY_MS),
    ("last month", -62 * DAY_MS, 0),
    ("next week", 0, 14 * DAY_MS),
    ("<= 1 month before today", -32 * DAY_MS, DAY_MS),
    ("between yesterday and today", -2 * DAY_MS, DAY_MS),
])
def test_phrase_windows(phrase: str, start: int | None, end: int | None) -> None:
    window = window_of(phrase)
    assert (window.start, window.end, window.fixed) == (start, end, False)


@pytest.mark.parametrize("phrase", [
    "on date(2020, 1, 1)", "between date(2020, 1, 1) and today", "< 2 days before date(2024, 5, 1)",
])
def test_fixed_dates_are_unbounded(phrase: str) -> None:
    window = window_of(phrase)
    assert window.fixed and not window.bounded and window.lookback is None
    assert window.describe() == "fixed dates (unbounded relative to now)"


@pytest.mark.parametrize("phrase, within", [
    ("today", True), ("<= 24 hours before now", True), ("< 1 day before now", True),
    ("< 25 hours before now", False), ("yesterday", False), ("this week", False),
    ("before now", False), ("after now", True),
])
def test_within_24_hours(phrase: str, within: bool) -> None:
    assert window_of(phrase).within(DAY_MS) is within


@pytest.mark.parametrize("text, expected", [
    ("xEvent", [("path", "none", None)]),
    ("xEvent.metrics.x > 0", [("path", "none", None)]),
    ('xEvent[eventType = "a"]', [("filter", "none", None)]),
    ("xEvent[timestamp occurs < 3 days before now]", [("filter", "bounded", 3 * DAY_MS)]),
    ("xEvent.filter(timestamp occurs today).exists()", [("filter", "bounded", DAY_MS)]),
    ("xEvent[timestamp occurs today][timestamp occurs < 2 hours before now]",
     [("filter", "bounded", 2 * HOUR_MS)]),
    ("xEvent[timestamp occurs today or timestamp occurs < 3 days before now]",
     [("filter", "bounded", 3 * DAY_MS)]),
    ('xEvent[timestamp occurs today or eventType = "a"]', [("filter", "none", None)]),
    ("xEvent[not (timestamp occurs today)]", [("filter", "unbounded", None)]),
    ("select X from xEvent where X.timestamp occurs < 8 days before now",
     [("binding", "bounded", 8 * DAY_MS)]),
    ("exists X from xEvent: X.timestamp occurs today", [("binding", "bounded", DAY_MS)]),
    ("chain(xEvent, timestamp, [A: WHAT(a = 1) WHEN(< 5 minutes before now)])",
     [("chain-step", "bounded", 5 * 60_000)]),
    ("chain(xEvent, timestamp, [A: WHAT(timestamp occurs today)])",
     [("chain-step", "bounded", DAY_MS)]),
    (("chain(xEvent, timestamp, [A: WHAT(a = 1) WHEN(today) WHERE(timestamp occurs < 2 hours "
      "before now)])"), [("chain-step", "bounded", 2 * HOUR_MS)]),
    ("let e = xEvent[timestamp occurs today] in e.count() > 1", [("filter", "bounded", DAY_MS)]),
    ("homeAddress.country = \"US\"", []),
    ("birthDate occurs today", []),
])
def test_event_references(text: str, expected: list[tuple[str, str, int | None]]) -> None:
    refs = event_references(parse(text))
    assert [(r.kind, r.window_status, r.window.lookback if r.window else None)
            for r in refs] == expected


def test_profile_time_inside_event_filter_is_not_the_event_window() -> None:
    (ref,) = event_references(parse("xEvent[^birthDate occurs today]"))
    assert ref.window is None


def test_chain_steps_are_ordered_in_one_group() -> None:
    refs = event_references(parse(
        "chain(xEvent, timestamp, [A: WHAT(a = 1) WHEN(today), B: WHAT(a = 2) COUNT(3)])"))
    assert [(r.label, r.group, r.ordered, r.count) for r in refs] == [
        ("A", 0, False, None), ("B", 0, True, 3)]
    assert [r.aggregated for r in refs] == [False, True]


def test_separate_chains_are_separate_groups() -> None:
    refs = event_references(parse(
        "chain(xEvent, timestamp, [A: WHAT(a = 1)]) and chain(xEvent, timestamp, [B: WHAT(a = 2)])"))
    assert [(r.group, r.ordered) for r in refs] == [(0, False), (1, False)]


def test_select_variables_ordered_and_window_inherited() -> None:
    text = ("select F1 from xEvent where F1.timestamp occurs today, F2 from xEvent where "
            "F2.timestamp occurs <= 30 minutes after F1.timestamp")
    f1, f2 = event_references(parse(text))
    assert (f1.label, f1.ordered, f2.label, f2.ordered) == ("F1", False, "F2", True)
    assert f2.window is not None and f2.window.lookback == DAY_MS  # inherits F1's "today"
    assert f2.time_spans == ()


def test_select_ordered_by_timestamp_comparison() -> None:
    refs = event_references(parse(
        "select A from xEvent, B from xEvent where A.timestamp < B.timestamp"))
    assert [r.ordered for r in refs] == [False, True]


def test_variable_path_source_is_not_another_event() -> None:
    refs = event_references(parse(
        'select X from xEvent, I from X.productListItems where I.SKU = "a"'))
    assert [r.label for r in refs] == ["X"]


@pytest.mark.parametrize("text, negated", [
    ("not xEvent[a = 1]", True),
    ("not not xEvent[a = 1]", False),
    ("not (b = 1 or xEvent[a = 1])", True),
    ("xEvent[a = 1].count() = 0", True),
    ("xEvent[a = 1].count() > 0", False),
    ("forall X from xEvent: X.a = 1", True),
    ("not (forall X from xEvent: X.a = 1)", False),
])
def test_negation(text: str, negated: bool) -> None:
    (ref,) = event_references(parse(text))
    assert ref.negated is negated
    assert (ref.negated_by is not None) is negated


def test_aggregation_marks_reference() -> None:
    text = "sum X.price over X from xEvent where X.timestamp occurs today"
    (ref,) = event_references(parse(text))
    assert ref.aggregated and ref.aggregate is not None
    assert (ref.aggregate.start, ref.aggregate.end) == (0, len(text))


def test_time_spans_point_at_phrases() -> None:
    text = "xEvent[timestamp occurs < 3 hours before now]"
    (ref,) = event_references(parse(text))
    (span,) = ref.time_spans
    assert text[span.start:span.end] == "< 3 hours before now"


@pytest.mark.parametrize("ms, text", [
    (DAY_MS, "24 hours"), (3 * DAY_MS, "3 days"), (HOUR_MS, "1 hour"), (90 * 60_000, "90 minutes"),
    (1500, "1500 milliseconds"),
])
def test_describe_duration(ms: int, text: str) -> None:
    assert describe_duration(ms) == text


@given(st.sampled_from(["<", "<=", "=", ">", ">=", "!="]), st.integers(0, 10**6),
       st.sampled_from(sorted(UNIT_MS)), st.sampled_from(["before", "after", "from"]),
       st.sampled_from(["now", "today", "yesterday", "tomorrow"]))
def test_relative_windows_are_consistent(cmp: str, amount: int, unit: str, direction: str,
                                         ref: str) -> None:
    window = window_of(f"{cmp} {amount} {unit} {direction} {ref}")
    if window.start is not None and window.end is not None:
        assert window.start <= window.end
    # "within" never claims a window shorter than the phrase's own distance
    if cmp in ("<", "<=") and direction == "before" and window.lookback is not None:
        assert window.lookback >= amount * UNIT_MS[unit]


def test_nested_binder_ordered_with_enclosing_event() -> None:
    """``not (exists B ... where B.timestamp occurs after A.timestamp)`` inside ``select A``:
    B continues A's sequence (same group, ordered, negated) and inherits A's window."""
    refs = event_references(parse(
        'select A from xEvent where A.timestamp occurs today and not (exists B from xEvent '
        'where B.eventType = "buy" and B.timestamp occurs after A.timestamp)'))
    a, b = refs
    assert (a.label, a.ordered, a.negated) == ("A", False, False)
    assert (b.label, b.group, b.ordered, b.negated) == ("B", a.group, True, True)
    assert b.window is not None and b.window.within(DAY_MS)


def test_nested_binder_without_relation_is_separate() -> None:
    refs = event_references(parse(
        'select A from xEvent where A.timestamp occurs today and not (exists B from xEvent '
        'where B.timestamp occurs today)'))
    a, b = refs
    assert b.group != a.group and not b.ordered
