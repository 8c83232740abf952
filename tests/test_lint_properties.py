"""Hypothesis properties of the linter: never crashes, spans stay inside the input, and safe
fixes never change what an expression evaluates to."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs

from pqltools.analysis.config import Config
from pqltools.analysis.lint import lint, lint_source
from pqltools.errors import Diagnostic, PQLError, apply_fixes
from pqltools.runtime.compiler import evaluate
from pqltools.syntax.printer import format as format_pql

SCHEMA = {"a": "string", "b": "integer", "person.name": "string", "orders[].price": "number",
          "xEvent[].eventType": "string", "xEvent[].timestamp": "date-time"}


def _inside(found: list[Diagnostic], text: str) -> None:
    for d in found:
        assert 0 <= d.span.start <= d.span.end <= len(text), d
        for fix in [d.fix] if d.fix else []:
            for edit in fix.edits:
                assert 0 <= edit.start <= edit.end <= len(text), d


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(alphabet=list('ab X.=<>"()[]{},:_-!$^ \n0129nulTRUE'), max_size=60),
                st.text(max_size=60)))
def test_any_text_lints_without_crashing(text: str) -> None:
    found = lint_source(text, comments=True, config=Config(select=("ALL",)), schema=SCHEMA)
    _inside(found, text)


@settings(max_examples=150, deadline=None)
@given(exprs(max_depth=3))
def test_every_node_kind_lints_without_crashing(tree: Any) -> None:
    text = format_pql(tree)
    found = lint(text, schema=SCHEMA, config=Config(select=("ALL",)))
    _inside(found, text)
    assert not [d for d in found if d.code.startswith("PQL0")], text


_VALUES = st.one_of(st.integers(-2, 3), st.sampled_from(['"US"', '"CA"', '"us"', '"MX"']))
_FIELD_VALUES = st.one_of(st.none(), st.integers(-2, 3), st.sampled_from(["US", "CA", "us"]),
                          st.lists(st.sampled_from(["US", "CA", 1]), max_size=3))


def _outcome(text: str, profile: dict[str, Any]) -> Any:
    try:
        return evaluate(text, profile)
    except PQLError as exc:
        return type(exc).__name__


def _apply_safe_fixes(text: str) -> tuple[str, int]:
    """Every safe fix of one lint run, applied together (their offsets refer to ``text``)."""
    fixes = [d.fix for d in lint(text) if d.fix is not None and d.fix.safe]
    return apply_fixes(text, fixes), len(fixes)


@settings(max_examples=200, deadline=None)
@given(st.lists(_VALUES, min_size=3, max_size=5), _FIELD_VALUES)
def test_or_chain_fix_keeps_the_result(values: list[str], field: Any) -> None:
    text = " or ".join(f"c.code = {v}" for v in values)
    fixed, applied = _apply_safe_fixes(text)
    assert applied == 1 and " in [" in fixed
    profile = {} if field is None else {"c": {"code": field}}
    assert _outcome(fixed, profile) == _outcome(text, profile), (text, fixed, profile)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(['"US"', '"CA"', '"us"', '"MX"']), min_size=3, max_size=5),
       _FIELD_VALUES)
def test_equals_list_fix_keeps_the_result(values: list[str], field: Any) -> None:
    text = f"c.code.equals({', '.join(values)})"
    fixed, applied = _apply_safe_fixes(text)
    assert applied == 1 and " in [" in fixed
    profile = {} if field is None else {"c": {"code": field}}
    assert _outcome(fixed, profile) == _outcome(text, profile), (text, fixed, profile)
