"""Hypothesis properties of the interpreter: whatever the profile, only PQLEvaluationError escapes.

Every expression of the conformance suite that compiles is run on arbitrary JSON profiles and
events; the answer must be a Boolean (or, for values, plain JSON) or a PQLEvaluationError — never
another exception — and the thread-safe and bound evaluators must agree.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pqltools.errors import PQLError, PQLEvaluationError
from pqltools.runtime.compiler import Program
from pqltools.runtime.compiler import compile as compile_pql
from tests.test_conformance import CASES

NOW = "2024-05-15T12:00:00Z"

_NAMES = st.sampled_from(["person", "name", "age", "orders", "price", "timestamp", "eventType",
                          "items", "sku", "t", "s", "xs", "homeAddress", "countryCode", "status",
                          "segmentMembership", "ups", "a", "b", "this"])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**15), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["2024-05-15T10:00:00Z", "2024-05-14", "US", "buy", "realized", "(a)\\1"]),
)
JSON = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_NAMES, inner, max_size=5)), max_leaves=25)
PROFILES = st.dictionaries(_NAMES, JSON, max_size=6)
EVENTS = st.one_of(st.none(), st.lists(st.dictionaries(_NAMES, JSON, max_size=4), max_size=4))


def _programs() -> list[Program]:
    programs = []
    seen: set[str] = set()
    for case in CASES:
        if case["expr"] in seen:
            continue
        seen.add(case["expr"])
        try:
            programs.append(compile_pql(case["expr"]))
        except PQLError:
            continue
    return programs


PROGRAMS = _programs()


def test_the_properties_have_programs_to_run() -> None:
    """The properties below skip programs that raise; they must not run over nothing."""
    assert len(PROGRAMS) > 200


@settings(max_examples=60)
@given(profile=PROFILES, events=EVENTS)
def test_only_evaluation_errors_escape(profile: dict[str, Any], events: Any) -> None:
    for program in PROGRAMS:
        try:
            result = program.evaluate(profile, events, now=NOW)
        except PQLEvaluationError:
            continue
        assert result is True or result is False
        assert program.bind(now=NOW)(profile, events) is result


@settings(max_examples=40)
@given(profile=PROFILES, events=EVENTS)
def test_values_are_plain_json(profile: dict[str, Any], events: Any) -> None:
    for program in PROGRAMS:
        try:
            value = program.evaluate_value(profile, events, now=NOW)
        except PQLEvaluationError:
            continue
        json.dumps(value, allow_nan=False)
