"""The set methods of lists (``intersects``, ``intersection``, ``subsetOf``, ``supersetOf``,
``includes``), ``min``/``max`` of strings and ``regexGroup`` on DuckDB against the interpreter:
Hypothesis lists with nulls, duplicates, mixed numbers, empty, null and absent, as columns and
as literals; the refusals that remain, by name. Long run:

    PQL_ENGINE_EXAMPLES=2000 python -m pytest -q tests/engines/test_engine_sets.py
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb")

from harness import run_duckdb
from test_conformance import _same

from pqltools.runtime.compiler import compile as compile_pql

EXAMPLES = int(os.environ.get("PQL_ENGINE_EXAMPLES", "60"))
NOW = "2024-05-15T12:00:00Z"
METHODS = ["intersects", "intersection", "subsetOf", "supersetOf", "includes"]
_ABSENT = object()

#: element pools per JSON type: duplicates, case, numeric and Boolean-looking strings, 1 vs 1.0
ELEMENTS: dict[str, st.SearchStrategy[Any]] = {
    "string": st.sampled_from(["a", "b", "A", "1", "2.5", "true", ""]),
    "number": st.sampled_from([1, 2, 1.0, 2.5, 0, -1]),
    "boolean": st.booleans(),
}


def _operand(kind: str) -> st.SearchStrategy[Any]:
    """A profile value for an operand: a list (nulls inside), a single value, null or absent."""
    element = ELEMENTS[kind]
    return st.one_of(st.lists(st.one_of(element, element, st.none()), max_size=4),
                     element, st.none(), st.just(_ABSENT))


def _pql(v: Any) -> str:
    if v is True or v is False:
        return "true" if v else "false"
    return json.dumps(v)


def value_outcome(expr: str, profile: dict[str, Any]) -> tuple[str, Any]:
    """The interpreter's ("value", v) or ("error", "evaluation")."""
    from pqltools.errors import PQLEvaluationError
    try:
        return ("value", compile_pql(expr).evaluate_value(profile, None, now=NOW))
    except PQLEvaluationError:
        return ("error", "evaluation")


def duckdb_outcome(expr: str, profile: dict[str, Any]) -> tuple[str, Any]:
    """DuckDB's ("value", v), ("error", category) or ("refused", diagnostic)."""
    return run_duckdb({"expr": expr, "profile": profile, "events": None, "now": NOW,
                       "value": None})


def _agree(expr: str, profile: dict[str, Any]) -> None:
    expected, got = value_outcome(expr, profile), duckdb_outcome(expr, profile)
    assert got[0] == expected[0] and (got[0] != "value" or _same(got[1], expected[1])), (
        f"{expr} on {profile}: interpreter {expected}, duckdb {got}")


@st.composite
def set_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any], str, str]:
    """(expression, profile, receiver kind, argument kind): each operand a column, a literal
    list, an absent field or a path through a list of objects."""
    method = draw(st.sampled_from(METHODS))
    kinds = (draw(st.sampled_from(sorted(ELEMENTS))), draw(st.sampled_from(sorted(ELEMENTS))))
    profile: dict[str, Any] = {}
    texts = []
    for name, kind in zip(("a", "b"), kinds):
        form = draw(st.sampled_from(["column", "column", "literal", "orders"]))
        if form == "literal":
            items = draw(st.lists(ELEMENTS[kind], max_size=3))
            texts.append("[" + ", ".join(_pql(v) for v in items) + "]")
        elif form == "orders":  # a path through a list of objects, some without the field
            orders = draw(st.lists(st.one_of(ELEMENTS[kind].map(lambda v: {"v": v}),
                                             st.just({"w": 1})), min_size=1, max_size=3))
            profile[f"{name}orders"] = orders
            texts.append(f"{name}orders.v")
        else:
            value = draw(_operand(kind))
            if value is not _ABSENT:
                profile[name] = value
            texts.append(name)
    return f"{texts[0]}.{method}({texts[1]})", profile, kinds[0], kinds[1]


def _allowed_refusal(expr: str, message: str, kinds: tuple[str, str]) -> bool:
    """The refusals that remain: an element of a string column converted to a number or a
    Boolean at run time (the container's element is the left side of `=`), and, for
    subsetOf/supersetOf, a field the data does not have reached through a list."""
    receiver, argument = kinds
    reversed_roles = ".supersetOf(" in expr or ".includes(" in expr
    element, container = (argument, receiver) if reversed_roles else kinds
    if "a string value that is not a literal" in message:
        return element == "string" and container != "string"
    if "reads as an empty list where the interpreter has null" in message:
        return ("subsetOf" in expr or "supersetOf" in expr) and "orders.v" in expr
    return False


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=set_cases())
def test_set_methods_agree_with_the_interpreter(case: tuple[str, dict[str, Any], str, str]
                                                ) -> None:
    expr, profile, *kinds = case
    got = duckdb_outcome(expr, profile)
    if got[0] == "refused":
        assert _allowed_refusal(expr, got[1].message, (kinds[0], kinds[1])), (
            f"{expr} on {profile}: refused: {got[1].message}")
        return
    _agree(expr, profile)


@pytest.mark.parametrize(("expr", "profile"), [
    # the element of the receiver is converted to the argument's element type, not the reverse
    ('["1", "2.5"].intersects(nums)', {"nums": [1, 2.5]}),
    ('["1"].intersection(nums)', {"nums": [1.0]}),
    ('[1].intersects(tags)', {"tags": ["1"]}),
    ('["true"].subsetOf(flags)', {"flags": [True]}),
    ('nums.supersetOf(["1", "2"])', {"nums": [2, 1]}),
    ('tags.intersects(["1"])', {"tags": [1]}),
    # includes: the receiver's element on the left of `=` too (`in` is the other way round)
    ('nums.includes("1")', {"nums": [1, 2]}),
    ('tags.includes(1)', {"tags": ["1"]}),
    ('[1, 2].includes(n)', {"n": 2.0}),
    ('tags.includes(["a"])', {"tags": ["a"]}),
    ('tags.includes(missing)', {"tags": ["a"]}),
    ('name.includes("Joe")', {"name": "Joe"}),
    ('tags.includes("a")', {"tags": None}),
    # duplicates and order: first occurrences, in the receiver's order
    ('tags.intersection(["b", "a", "a"])', {"tags": ["a", "b", "a", None, "c", "b"]}),
    ("nums.intersection(others)", {"nums": [2, 1, 2.0, 1], "others": [1.0, 2]}),
    # null elements are in no list: a list holding one is no subset
    ('tags.subsetOf(["a"])', {"tags": ["a", None]}),
    ("tags.subsetOf(others)", {"tags": [None], "others": [None]}),
    # an empty list is a subset of any list, but not of null; null is no subset
    ("tags.subsetOf(others)", {"tags": [], "others": []}),
    ("tags.subsetOf(others)", {"tags": [], "others": None}),
    ("tags.subsetOf(others)", {"tags": None, "others": []}),
    ("[].subsetOf(others)", {"others": ["a"]}),
    ("others.supersetOf([])", {}),
    ("missing.subsetOf([1])", {}),
    ('tags.intersection(["x"])', {"tags": []}),
    # a single value is a one-element list
    ('name.intersection(["Joe", "Ann"])', {"name": "Joe"}),
    ('name.subsetOf(["Joe"])', {"name": "Joe"}),
    ('tags.supersetOf("a")', {"tags": ["b", "a"]}),
    # lists of lists are not compared here, lists of objects neither (refused below); a path
    # through a list of objects is a list of its values
    ('orders.sku.intersection(["x", "y"])', {"orders": [{"sku": "y"}, {}, {"sku": "x"}]}),
    ('orders.sku.subsetOf(["x", "y"])', {"orders": [{"sku": "y"}, {"sku": "x"}]}),
    ('orders.sku.subsetOf(["x", "y"])', {"orders": [{"sku": None}]}),
    ('orders[sku = "a"].sku.subsetOf(["a"])', {"orders": [{"sku": "b"}]}),
    ('orders[sku = "a"].sku.supersetOf(["a"])', {"orders": [{"sku": "a"}, {"sku": "b"}]}),
    # the value compared as a list (`=`) and in Boolean position
    ('tags.intersection(["b", "a"]) = ["a", "b"]', {"tags": ["a", "b"]}),
    ('tags.intersection(["b"]) and tags.intersects(["a"])', {"tags": ["a"]}),
    # a field the elements of a list do not have: [] for a list, null for a null list, as in
    # the interpreter (so subsetOf is exact there)
    ('orders.missing.subsetOf(["a"])', {"orders": [{"sku": "a"}]}),
    ('orders.sku.subsetOf(["a"])', {"orders": []}),
])
def test_set_method_cases(expr: str, profile: dict[str, Any]) -> None:
    _agree(expr, profile)


@pytest.mark.parametrize(("expr", "profile", "construct"), [
    ("tags.intersects(nums)", {"tags": ["1"], "nums": [1]},
     "a string value that is not a literal"),
    ("tags.intersects([1])", {"tags": ["1"]}, "a string value that is not a literal"),
    ("nums.includes(s)", {"nums": [1], "s": "1"}, "a string value that is not a literal"),
    ("nums.supersetOf(tags)", {"tags": ["1"], "nums": [1]},
     "a string value that is not a literal"),
    ("orders.intersects(others)", {"orders": [{"a": 1}], "others": [{"a": 1}]},
     "`intersects` of objects"),
    ("grid.intersection([1])", {"grid": [[1]]}, "`intersection` of a list of lists"),
    ('mixed.subsetOf(["a"])', {"mixed": ["a", 1]}, "elements have different JSON types"),
    # the data has no `orders` at all: SQL reads `orders.missing` as one constant
    ('orders.missing.subsetOf(["a"])', {},
     "reads as an empty list where the interpreter has null"),
    ('missing[x = 1].supersetOf([])', {}, "reads as an empty list where the interpreter has"),
])
def test_set_refusals_name_the_construct(expr: str, profile: dict[str, Any],
                                         construct: str) -> None:
    got = duckdb_outcome(expr, profile)
    assert got[0] == "refused" and construct in got[1].message, got


_strings = st.text(alphabet=st.sampled_from(["a", "B", "b", "é", "\uffff", "\U0001f600", "ß",
                                              "Z", " ", "0"]), max_size=3)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(names=st.one_of(st.lists(st.one_of(_strings, st.none()), max_size=5), _strings,
                       st.none(), st.just(_ABSENT)),
       expr=st.sampled_from(["names.min()", "names.max()", "max X.name over X from orders",
                             "orders.max(name)", 'names.min() = "a"']))
def test_min_max_of_strings_agree(names: Any, expr: str) -> None:
    profile: dict[str, Any] = {}
    if names is not _ABSENT:
        profile["names"] = names
        items = names if isinstance(names, list) else [names]
        profile["orders"] = [{"name": n} for n in items]
    _agree(expr, profile)


@pytest.mark.parametrize(("expr", "profile"), [
    # code points: an astral character sorts after U+FFFF (UTF-16 order would put it first)
    ("names.max()", {"names": ["\uffff", "\U0001f600", "a"]}),
    ("names.min()", {"names": ["b", None, "B", "a"]}),
    ("names.max()", {"names": []}),
    ("names.min()", {"names": [None]}),
    ("names.min()", {"names": "solo"}),
])
def test_min_max_of_strings_cases(expr: str, profile: dict[str, Any]) -> None:
    _agree(expr, profile)


REGEX_GROUP: list[tuple[str, dict[str, Any]]] = [
    ('email.regexGroup("@(\\\\w+)\\\\.(\\\\w+)", 2)', {"email": "joe@adobe.com"}),
    ('email.regexGroup("@(\\\\w+)")', {"email": "joe@adobe.com"}),
    ('email.regexGroup("(a*)x", 1)', {"email": "bx"}),  # takes part, matching nothing: ""
    ('email.regexGroup("(?P<user>\\\\w+)@(\\\\w+)", 2)', {"email": "joe@adobe.com"}),
    ('email.regexGroup("(?i)(ADOBE)", 1)', {"email": "joe@adobe.com"}),
    ('email.regexGroup("(a.b)", 1)', {"email": "a\nb"}),  # `.` stops at a line break
    ('email.regexGroup("(?i)(\u00c9T\u00c9)", 1)', {"email": "l'\u00e9t\u00e9"}),
    ('email.regexGroup("#(\\\\w+)", 1)', {"email": "joe@adobe.com"}),
    ('email.regexGroup("(\\\\w+)", 1.0)', {"email": "joe"}),
    ('email.regexGroup("(\\\\w+)", 1)', {}),
    ('email.regexGroup("(\\\\w+)", 1)', {"email": ["joe", "ann"]}),
    ('email.regexGroup("(\\\\w+)", 1)', {"email": 5}),
    # a group the pattern does not have: an evaluation error, on a string only
    ('email.regexGroup("(\\\\w+)", 2)', {"email": "joe"}),
    ('email.regexGroup("(\\\\w+)", 2)', {"email": "zzz!"}),
    ('email.regexGroup("(\\\\w+)", 2)', {}),
    ('email.regexGroup("(\\\\w+)", 2)', {"email": 5}),
    ('email.regexGroup("(\\\\w+)", -1)', {"email": "joe"}),
    ('email.regexGroup("(\\\\w+)", "1")', {"email": "joe"}),
]


@pytest.mark.parametrize(("expr", "profile"), REGEX_GROUP)
def test_regex_group_agrees(expr: str, profile: dict[str, Any]) -> None:
    _agree(expr, profile)


@pytest.mark.parametrize(("expr", "construct"), [
    ('email.regexGroup("(a)|(b)", 1)', "may take no part in a match"),
    ('email.regexGroup("x(a)?", 1)', "may take no part in a match"),
    ('email.regexGroup(pattern, 1)', "a pattern that is not a string literal"),
    ('email.regexGroup("(a)", n)', "group number that is not a literal"),
])
def test_regex_group_refusals(expr: str, construct: str) -> None:
    got = duckdb_outcome(expr, {"email": "ab", "pattern": "(a)", "n": 1})
    assert got[0] == "refused" and construct in got[1].message, got


def test_regex_group_invalid_pattern_is_a_validation_error() -> None:
    assert duckdb_outcome('email.regexGroup("(a", 1)', {"email": "a"}) == \
        ("error", "validation")
