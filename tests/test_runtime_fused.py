"""The fused fast paths give the answers of the general closures they replace."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pqltools.runtime import compiler
from pqltools.runtime.context import Context, make_clock
from pqltools.runtime.values import compare

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-3, 3),
                    st.sampled_from(["a", "b", "", "1"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)), max_leaves=8)
PROFILES = st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES, max_size=3)
PATHS = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map(tuple)
OPS = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
CONSTANTS = st.one_of(st.booleans(), st.integers(-3, 3), st.floats(-3, 3),
                      st.sampled_from(["a", "b", ""]))


def _general(path: tuple[str, ...], op: str, constant: Any, profile: dict[str, Any]) -> bool:
    read = compiler._path(lambda ctx: ctx.profile, path)
    return compare(op, read(Context(profile, None, make_clock(0))), constant)


@settings(max_examples=400, deadline=None)
@given(PROFILES, PATHS, OPS, CONSTANTS)
def test_fused_profile_compare(profile: dict[str, Any], path: tuple[str, ...], op: str,
                               constant: Any) -> None:
    fused = compiler._profile_compare_constant(path, op, constant)
    if fused is None:
        return
    assert fused(Context(profile, None, make_clock(0))) is _general(path, op, constant, profile)


@settings(max_examples=300, deadline=None)
@given(PROFILES, st.lists(PROFILES, max_size=4), st.sampled_from(["=", "!="]),
       st.one_of(st.booleans(), st.integers(0, 3), st.sampled_from([0.5, 2.0, "a", "b", ""])),
       st.booleans())
def test_inline_filter_matches_general_filter(profile: dict[str, Any],
                                              items: list[dict[str, Any]], op: str,
                                              constant: Any, counted: bool) -> None:
    literal = f'"{constant}"' if isinstance(constant, str) else str(constant).lower()
    text = f"xEvent[a {op} {literal} and b != 7]"
    program = compiler.compile(text + (".count()" if counted else ""))
    expected = [e for e in items if compare(op, e.get("a") if e.get("a") is not None
                                            else profile.get("a"), constant)
                and compare("!=", e.get("b") if e.get("b") is not None else profile.get("b"), 7)]
    got = program.evaluate_value(profile, items, now=0)
    assert got == (len(expected) if counted else expected)


STAMPS = st.one_of(st.none(), st.sampled_from([
    "2025-06-01T10:00:00Z", "2025-05-01T00:00:00+02:00", "2024-01-01T00:00:00Z", "2025-06-10",
    "2025-06-14T12:00:00", "not a time", ""]), st.integers(1_700_000_000_000, 1_760_000_000_000),
    st.lists(st.sampled_from(["2025-06-01T10:00:00Z", "bad"]), max_size=2))
EVENTS = st.lists(st.one_of(
    st.fixed_dictionaries({}, optional={"eventType": st.sampled_from(["buy", "view", 3]),
                                        "timestamp": STAMPS}),
    st.sampled_from([None, 5, "event", ["x"]])), max_size=5)
EVENT_PROFILES = st.fixed_dictionaries({}, optional={"eventType": st.just("buy"),
                                                     "timestamp": STAMPS})


def _outcome(program: compiler.Program, profile: dict[str, Any], events: Any) -> Any:
    try:
        return ("value", program.evaluate_value(profile, events, now="2025-06-15T12:00:00Z"))
    except compiler.PQLEvaluationError as exc:
        return ("error", str(exc))


@settings(max_examples=400, deadline=None)
@given(EVENT_PROFILES, st.one_of(st.none(), EVENTS), st.booleans(), st.booleans())
def test_filter_with_inlined_occurs_matches_the_closures(
        profile: dict[str, Any], events: Any, counted: bool, negated: bool) -> None:
    """``xEvent[f = lit and timestamp occurs ...]`` (one fused loop, the events checked in it)
    gives the values and the errors of the filter calling the occurs closure."""
    text = (f'xEvent[eventType {"!=" if negated else "="} "buy" and timestamp occurs < 30 days '
            'before now]' + (".count()" if counted else ""))
    fused = compiler.compile(text)
    original = compiler._element_occurs

    def unfused(*args: Any) -> Any:
        test = original(*args)
        return lambda ctx: test(ctx)

    compiler._element_occurs = unfused  # type: ignore[assignment]
    try:
        closures = compiler.compile(text)
    finally:
        compiler._element_occurs = original  # type: ignore[assignment]
    assert _outcome(fused, profile, events) == _outcome(closures, profile, events)
    # the same context again (a second segment on the profile): the check is not repeated wrongly
    assert _outcome(fused, profile, events) == _outcome(closures, profile, events)
