"""The conformance suite: tests/conformance/*.yaml run against every evaluation backend.

A file holds one ``section`` with defaults (``profile``, ``events``, ``now``) and ``cases``; a case
has a stable ``id``, an ``expr`` and exactly one of

* ``expect: true|false`` — the Boolean result (top-level coercion, reference §5),
* ``value: ...`` — the computed value as plain JSON (``evaluate_value``),
* ``error: syntax|validation|evaluation`` — the error category raised.

A case may override ``profile``, ``events`` and ``now``. To run another evaluator over the same
cases, add it to :data:`BACKENDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pqltools import catalog
from pqltools.errors import PQLEvaluationError, PQLSyntaxError, PQLValidationError
from pqltools.runtime.compiler import compile as compile_pql
from pqltools.syntax import ast
from pqltools.syntax.parser import parse

HERE = Path(__file__).parent / "conformance"
ERRORS = {"syntax": PQLSyntaxError, "validation": PQLValidationError,
          "evaluation": PQLEvaluationError}
_UNSET = object()


def _load() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(HERE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        for raw in data["cases"]:
            case = {"section": data["section"], "file": path.name,
                    "profile": data.get("profile", {}), "events": data.get("events"),
                    "now": data.get("now")}
            case.update(raw)
            cases.append(case)
    return cases


CASES = _load()


def _boolean(expr: str, profile: Any, events: Any, now: Any) -> bool:
    return compile_pql(expr).evaluate(profile, events, now=now)


def _bound(expr: str, profile: Any, events: Any, now: Any) -> bool:
    return compile_pql(expr).bind(now=now)(profile, events)


def _value(expr: str, profile: Any, events: Any, now: Any) -> Any:
    return compile_pql(expr).evaluate_value(profile, events, now=now)


#: backend name -> (Boolean evaluator, value evaluator or None).
BACKENDS: dict[str, tuple[Callable[..., bool], Callable[..., Any] | None]] = {
    "interpreter": (_boolean, _value),
    "interpreter-bound": (_bound, None),
}


def _params() -> list[Any]:
    out = []
    for case in CASES:
        for name, (_, value_fn) in BACKENDS.items():
            if "value" in case and value_fn is None:
                continue  # this backend only answers Boolean questions
            out.append(pytest.param(name, case, id=f"{name}:{case['section']}:{case['id']}"))
    return out


def _same(a: Any, b: Any) -> bool:
    """Equality that does not confuse true with 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b) and (a is None) == (b is None)


@pytest.mark.parametrize(("backend", "case"), _params())
def test_case(backend: str, case: dict[str, Any]) -> None:
    boolean_fn, value_fn = BACKENDS[backend]
    args = (case["expr"], case["profile"], case["events"], case["now"])
    outcomes = [k for k in ("expect", "value", "error") if k in case]
    assert len(outcomes) == 1, f"{case['id']}: give exactly one of expect/value/error"
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]) as info:
            (value_fn or boolean_fn)(*args)
        assert info.value.diagnostics and info.value.diagnostics[0].message
        return
    if "expect" in case:
        result = boolean_fn(*args)
        assert result is case["expect"], f"{case['expr']!r} gave {result!r}"
        return
    assert value_fn is not None
    result = value_fn(*args)
    assert _same(result, case["value"]), f"{case['expr']!r} gave {result!r}"


def test_case_ids_are_unique_and_sections_named() -> None:
    seen: set[tuple[str, str]] = set()
    for case in CASES:
        key = (case["section"], case["id"])
        assert key not in seen, f"duplicate case id {key}"
        seen.add(key)
    assert len({c["file"] for c in CASES}) >= 10


def _calls(expr: str) -> set[tuple[str, str]]:
    """``(kind, name)`` of every call the parsed expression makes (not a text search: the name
    `contains` inside `doesNotContain(` or a field `count` is no call of `count`)."""
    try:
        tree = parse(expr)
    except PQLSyntaxError:
        return set()
    return {("global", n.name) if isinstance(n, ast.Call) else ("method", n.name)
            for n in tree.walk() if isinstance(n, (ast.Call, ast.MethodCall))}


def test_every_catalog_function_has_a_conformance_case() -> None:
    called = set().union(*(_calls(case["expr"]) for case in CASES if "error" not in case))
    missing = [f.name for f in catalog.ALL_FUNCTIONS if (f.kind, f.name) not in called]
    assert missing == []
    assert ("method", "contains") not in _calls('a.doesNotContain("x") and contains = 1')


def test_every_null_rule_of_section_5_is_covered() -> None:
    ids = {case["id"] for case in CASES if case["section"] == "null-rules"}
    for needed in ("ne-is-not-negation-of-eq", "notin-not-negation-of-in",
                   "division-by-zero-is-null", "undefined-path-is-false", "empty-array-is-false",
                   "sum-of-nothing-is-zero", "average-of-nothing-is-null",
                   "min-of-nothing-is-null", "max-of-nothing-is-null",
                   "intersection-none-is-null", "doesnotcontain-undefined-false"):
        assert needed in ids
