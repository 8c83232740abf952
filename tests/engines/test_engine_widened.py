"""Constructs the SQL engines compile since the first version, against the interpreter on
DuckDB: time references that are expressions (calendar units included), constant ``date(...)``
references, two lists compared as values, the value of a one-variable ``select``. Each case is
an expression and a profile; the interpreter's answer is the reference (the conformance cases
run these constructs on Spark too)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("duckdb")

from pqltools import segment
from pqltools.errors import PQLError, PQLEvaluationError

NOW = "2024-05-15T12:00:00Z"

TIME = {"a": "2024-01-31T10:00:00Z", "b": "2024-02-29T09:00:00Z", "c": "2024-03-01T10:00:00Z",
        "n": 1706695200000, "f": 1706695200000.75, "late": "2024-05-15T11:00:00Z"}
CASES: list[tuple[str, dict[str, Any]]] = [
    # months move along the calendar: Jan 31 + 1 month is Feb 29 (2024)
    ("b occurs < 1 month after a", TIME),
    ("c occurs < 1 month after a", TIME),
    ("c occurs <= 1 month after a", TIME),
    ("b occurs = 1 month after a", TIME),
    ("c occurs != 1 month after a", TIME),
    ("a occurs > 1 year before c", TIME),
    ("a occurs >= 2 weeks before b", TIME),
    ("b occurs after a", TIME),
    ("a occurs before n", TIME),
    ("b occurs < 30 days after n", TIME),
    ("b occurs < 30 days after f", TIME),
    ("a occurs on a", TIME),
    ("b occurs between a and c", TIME),
    ("late occurs between a and now", TIME),
    ("b occurs < 1 month after missing", TIME),
    ("late occurs on date(2024, 5, 15)", TIME),
    ("late occurs before date(currentYear(), currentMonth(), 15)", TIME),
    ("a occurs between date(2024, 1, 1) and date(2024, 1, 31)", TIME),
    # lists as values
    ('tags = ["a", "b"]', {"tags": ["a", "b"]}),
    ('tags = ["b", "a"]', {"tags": ["a", "b"]}),
    ('tags != ["b", "a"]', {"tags": ["a", "b"]}),
    ('tags != ["a", "b"]', {"tags": ["a", "b"]}),
    ('tags = ["a"]', {"tags": ["a", "b"]}),
    ('tags = ["a", "b"]', {}),
    ('tags != ["a", "b"]', {}),
    ('tags = ["a", "b"]', {"tags": ["a", None]}),
    ('tags != ["a", "b"]', {"tags": ["a", None]}),
    ('tags < ["a", "b"]', {"tags": ["a", "b"]}),
    ('nums = ["1", "2.5"]', {"nums": [1, 2.5]}),
    ("nums = [1, 2.5]", {"nums": [1, 2.5]}),
    ("nums = others", {"nums": [1, 2], "others": [1, 2]}),
    ("nums = others", {"nums": [1, 2], "others": [1, 2, 3]}),
    ("nums != others", {"nums": [1, 2], "others": [2, 1]}),
    ('"a" = tags', {"tags": ["a"]}),
    ('"a" != tags', {"tags": ["a"]}),
    # select with one variable
    ("(select X from orders where X.price > 20).status = \"open\"",
     {"orders": [{"price": 10, "status": "open"}, {"price": 30, "status": "paid"}]}),
    ("(select X from orders where X.price > 5).status = \"open\"",
     {"orders": [{"price": 10, "status": "open"}, {"price": 30, "status": "paid"}]}),
    ("(select X from orders where X.price > 5).count() = 2",
     {"orders": [{"price": 10, "status": "open"}, {"price": 30}]}),
    ("select X from orders where X.price > 50", {"orders": [{"price": 10}]}),
]


def _outcome(text: str, profile: dict[str, Any], engine: str) -> Any:
    try:
        return list(segment({"s": text}, [(profile, [])], now=NOW, engine=engine))
    except PQLEvaluationError:
        return "evaluation error"


@pytest.mark.parametrize(("text", "profile"), CASES, ids=[c[0] for c in CASES])
def test_duckdb_agrees_with_the_interpreter(text: str, profile: dict[str, Any]) -> None:
    assert _outcome(text, profile, "duckdb") == _outcome(text, profile, "python")


@pytest.mark.parametrize("text", ['late occurs on date(2023, 2, 29)',
                                  'late occurs before date(2024, 13, 1)',
                                  "b occurs after bad", "b occurs after flag"])
def test_a_reference_that_is_not_a_time_is_an_evaluation_error(text: str) -> None:
    profile = {**TIME, "bad": "soon", "flag": True}
    assert _outcome(text, profile, "python") == "evaluation error"
    assert _outcome(text, profile, "duckdb") == "evaluation error"


@pytest.mark.parametrize(("text", "construct"), [
    ("late occurs on date(year, 1, 1)", "`date(...)` whose arguments are not constants"),
    ("date(year, 1, 1)", "the value of `date(...)` whose arguments are not constants"),
    ("select X from orders where X.price > 5", "an object (or a list of objects) as the value"),
    ("attributes.values().count() > 0", "the method `values` of an object"),
])
def test_refused_with_the_construct_named(text: str, construct: str) -> None:
    from pqltools.engines.api import to_sql
    from pqltools.engines.plan import compile_run, plan_query
    from pqltools.engines.types import NULL, infer_value
    from pqltools.runtime.context import make_clock
    profile = {"year": 2024, "orders": [{"price": 10}], "attributes": {"a": 1}}
    with pytest.raises(PQLError) as caught:
        if "value" in construct and "method" not in construct:
            plan_query(compile_run({"s": text}), "duckdb", infer_value(profile), NULL,
                       make_clock(NOW), "t", values=True)
        else:
            to_sql(text, "duckdb", now=NOW, profile=profile)
    assert construct in str(caught.value)
