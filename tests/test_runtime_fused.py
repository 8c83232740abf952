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
