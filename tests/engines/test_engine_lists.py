"""``map``, ``topN``/``bottomN``, ``get`` by a literal key and the value of ``date(...)`` on the
SQL engines, against the interpreter: Hypothesis lists with nulls, ties, absent fields, empty
and missing lists, on DuckDB (many profiles in one query, so the schema is their merge); the
cases where DuckDB and Spark differ (sort order of nulls, slicing, errors) on Spark too; and the
refusals that remain, by name. Long run:

    PQL_ENGINE_EXAMPLES=2000 python -m pytest -q tests/engines/test_engine_lists.py
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb")

from harness import run_duckdb
from test_conformance import _same

from pqltools.errors import PQLError, PQLEvaluationError
from pqltools.runtime.compiler import compile as compile_pql

EXAMPLES = int(os.environ.get("PQL_ENGINE_EXAMPLES", "30"))
NOW = "2024-05-15T12:00:00Z"
ERROR = "evaluation error"
_CON: list[Any] = []


def interpreter(expr: str, profile: dict[str, Any]) -> Any:
    """The interpreter's value, or ERROR."""
    try:
        return compile_pql(expr).evaluate_value(profile, None, now=NOW)
    except PQLEvaluationError:
        return ERROR


def duckdb_values(expr: str, profiles: list[dict[str, Any]]) -> list[Any]:
    """DuckDB's value per profile, all profiles in one query (their schema merged); when the
    query stops with an evaluation error, each profile alone (ERROR where it stops)."""
    from pqltools.engines import duckdb_engine as dd
    from pqltools.engines.plan import compile_run
    from pqltools.runtime.context import make_clock
    if not _CON:
        _CON.append(dd.connect())
    segments = compile_run({"e": expr})

    def run(rows: list[dict[str, Any]]) -> list[Any]:
        source = dd.open_source([(p, None) for p in rows], segments, con=_CON[0])
        try:
            plan = dd.plan_for(source, segments, make_clock(NOW), values=True)
            return [row[0] for row in dd.run_plan(source, plan)]
        finally:
            source.close()
    try:
        return run(profiles)
    except PQLEvaluationError:
        if len(profiles) == 1:
            return [ERROR]
        return [duckdb_values(expr, [p])[0] for p in profiles]


def agree(expr: str, profiles: list[dict[str, Any]]) -> None:
    expected = [interpreter(expr, p) for p in profiles]
    got = duckdb_values(expr, profiles)
    for profile, want, have in zip(profiles, expected, got):
        if isinstance(want, bool) and have is None:
            have = False  # a test's value column: null is false (docs/engines.md)
        assert _same(have, want), f"{expr} on {profile}: interpreter {want!r}, duckdb {have!r}"


# ------------------------------------------------------------------ generated data

numbers = st.one_of(st.none(), st.integers(-2, 2))
names = st.one_of(st.none(), st.sampled_from(["", "a", "B", "b", "aa", "ä", "é"]))
order = st.fixed_dictionaries({}, optional={"price": numbers, "name": names,
                                            "flag": st.one_of(st.none(), st.booleans())})


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Any]:
    """A profile with maybe ``xs`` (numbers with nulls and ties), ``orders`` (objects with
    maybe a price, a name; each with its position as ``id``), ``n`` (a count) and ``o``."""
    profile: dict[str, Any] = {}
    if draw(st.booleans()):
        profile["xs"] = draw(st.one_of(st.none(), st.lists(numbers, max_size=6)))
    if draw(st.booleans()):
        orders = draw(st.one_of(st.none(), st.lists(order, max_size=6)))
        profile["orders"] = None if orders is None else [
            {**o, "id": i} for i, o in enumerate(orders)]
    if draw(st.booleans()):
        profile["n"] = draw(st.one_of(st.none(), st.integers(-1, 7),
                                      st.sampled_from([2.5, -0.5, 1.0])))
    if draw(st.booleans()):
        profile["o"] = draw(st.fixed_dictionaries({}, optional={"a": numbers, "b": names,
                                                               "1": numbers}))
    return profile


profile_lists = st.lists(profiles(), min_size=1, max_size=6)
COUNTS = ["2", "0", "-1", "1.7", "9", "n"]
RANKED = [f"{receiver}.{method}({key}, {count}){tail}"
          for method in ("topN", "bottomN")
          for receiver, key, tail in (("xs", "this", ""), ("orders", "price", ".id"),
                                      ("orders", "name", ".id"),
                                      ("orders", "(o) => o.price * -1", ".id"))
          for count in COUNTS]
MAPPED = ["xs.map(this * 2)", "xs.map((v) => v + 1)", "orders.map(price)", "orders.map(name)",
          "orders.map(flag)", "orders.map(price > 0)", "orders.map(name.startsWith(\"a\"))",
          "xs.map(this > 0 and this < 2)", "orders.map((K, G) => G.price)", "xs.map(missing)",
          "n.map(this + 1)", "orders.map(price).sum()", "xs.map(this * 2) = [2, 4]",
          "orders.topN(price, 3).map(name)"]
GOT = ['o.get("a")', 'o.get("b")', 'o.get(1)', 'o.get("zz")', 'orders.get("price")',
       'o.get("a") > 0', 'xs.get("a")']


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expr=st.sampled_from(RANKED), rows=profile_lists)
def test_top_and_bottom_n_agree(expr: str, rows: list[dict[str, Any]]) -> None:
    agree(expr, rows)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expr=st.sampled_from(MAPPED + GOT), rows=profile_lists)
def test_map_and_get_agree(expr: str, rows: list[dict[str, Any]]) -> None:
    agree(expr, rows)


@settings(max_examples=EXAMPLES, deadline=None)
@given(year=st.sampled_from([0, 1, 1900, 2023, 2024, 9999, 10000]),
       month=st.integers(0, 13), day=st.sampled_from([0, 1, 28, 29, 30, 31, 32]),
       form=st.sampled_from(["{d}", "{d} = date(2024, 2, 29)", "{d} != date(2024, 2, 29)",
                             "{d} < date(2024, 2, 29)", '{d} = "2024-02-29"',
                             "{d} in [date(2024, 2, 29), date(2023, 1, 1)]",
                             "t occurs on {d}", "let D = {d} in t occurs on D",
                             '{d}.startsWith("2")', "{d}.count()", "[{d}, {d}].distinct()"]))
def test_date_values_agree(year: int, month: int, day: int, form: str) -> None:
    expr = form.format(d=f"date({year}, {month}, {day})")
    rows = [{"t": "2024-02-29T23:59:59.999Z"}, {"t": "2024-03-01T00:00:00Z"}, {}]
    valid = interpreter(f"date({year}, {month}, {day})", {}) != ERROR
    if valid or form == "{d}" or "occurs on {d}" in form and "let" not in form:
        agree(expr, rows)
        return
    # an invalid day inside a larger expression is refused, by name
    with pytest.raises(PQLError) as caught:
        duckdb_values(expr, rows)
    assert caught.value.diagnostics[0].code == "PQL430"
    assert "of an invalid day" in str(caught.value)


# ------------------------------------------------------------------ fixed cases, both engines

EDGES: list[tuple[str, dict[str, Any]]] = [
    # ties keep list order, highest first and lowest first
    ("xs.topN(this, 4)", {"xs": [1, 2, 1, 2, None]}),
    ("orders.topN(price, 3).id", {"orders": [{"id": 0, "price": 1}, {"id": 1, "price": 2},
                                             {"id": 2, "price": 2}, {"id": 3, "price": 1}]}),
    ("orders.bottomN(price, 3).id", {"orders": [{"id": 0, "price": 2}, {"id": 1, "price": 1},
                                                {"id": 2}, {"id": 3, "price": 1}]}),
    # strings by code point; nulls and absent keys dropped (never sorted first or last)
    ("orders.topN(name, 9).id", {"orders": [{"id": 0, "name": "b"}, {"id": 1, "name": "B"},
                                            {"id": 2}, {"id": 3, "name": "ä"}]}),
    ("orders.bottomN(name, 2).id", {"orders": [{"id": 0, "name": "b"}, {"id": 1},
                                               {"id": 2, "name": "B"}]}),
    ("xs.bottomN(this, 2.9)", {"xs": [3, None, 1, 2]}),
    ("xs.topN(this, 0)", {"xs": [3, 1]}),
    ("xs.topN(this, -3)", {"xs": [3, 1]}),
    ("xs.topN(this, n)", {"xs": [3, 1, 2], "n": 2}),
    ("xs.topN(this, n)", {"xs": [3, 1, 2], "n": 2.5}),
    ("xs.topN(this, n)", {"xs": [3, 1, 2]}),
    ("xs.topN(this, 2)", {"xs": []}),
    ("xs.topN(this, 2)", {}),
    ("xs.topN(this, 2)", {"xs": [None, None]}),
    ("x.topN(this, 2)", {"x": 5}),
    ("xs.topN(missing, 2)", {"xs": [1, 2]}),
    # a count that is not a number: an error when both sides have a value, else null
    ('xs.topN(this, "two")', {"xs": [1]}),
    ('xs.topN(this, "two")', {}),
    ("xs.topN(this, true)", {"xs": []}),
    ("xs.topN(this, s)", {"xs": [1], "s": "2"}),
    ("xs.topN(this, s)", {"s": "2"}),
    ("xs.topN(this, s)", {"xs": [1]}),
    ("xs.topN(this, null)", {"xs": [1]}),
    # map keeps nulls and the list's length; a test is never null
    ("xs.map(this * 2)", {"xs": [1, None, 3]}),
    ("xs.map(this > 1)", {"xs": [1, None, 3]}),
    ("xs.map(this)", {"xs": []}),
    ("xs.map(this)", {}),
    ("xs.map(missing)", {"xs": [1, 2]}),
    ("orders.map(flag)", {"orders": [{"flag": True}, {}, {"flag": False}]}),
    # get by a literal key
    ('o.get("a")', {"o": {"a": 1, "b": 2}}),
    ('o.get(1)', {"o": {"1": "one"}}),
    ('o.get("a")', {"o": [{"a": 1}, {"b": 2}, {"a": 3}]}),
    ('o.get("a")', {"o": "text"}),
    # date values
    ("date(2024, 2, 29)", {}),
    ("date(2023, 2, 29)", {}),
    ("date(2024, 2, 29) = date(2024, 2, 29)", {}),
    ('date(2024, 2, 29) != "2024-02-29"', {}),
    ("date(2024, 2, 29) >= date(2024, 2, 29)", {}),
    ("let D = date(2024, 2, 29) in t occurs on D", {"t": "2024-02-29T10:00:00Z"}),
]


def _case(expr: str, profile: dict[str, Any]) -> dict[str, Any]:
    expected = interpreter(expr, profile)
    case: dict[str, Any] = {"section": "lists", "id": expr, "expr": expr, "profile": profile,
                            "events": None, "now": NOW}
    if expected == ERROR:
        case["error"] = "evaluation"
    else:
        case["value"] = expected
    return case


def _agrees(case: dict[str, Any], outcome: tuple[str, Any]) -> bool:
    if "error" in case:
        return outcome == ("error", "evaluation")
    return outcome[0] == "value" and _same(outcome[1], case["value"])


@pytest.mark.parametrize(("expr", "profile"), EDGES, ids=[f"{e} {p}" for e, p in EDGES])
def test_edges_on_duckdb(expr: str, profile: dict[str, Any]) -> None:
    case = _case(expr, profile)
    outcome = run_duckdb(case)
    assert _agrees(case, outcome), f"{case}: duckdb {outcome}"


def test_edges_on_spark() -> None:
    pytest.importorskip("pyspark")
    from harness import run_spark_batch

    from pqltools.engines.spark_engine import session
    spark = session()
    cases = [_case(expr, profile) for expr, profile in EDGES]
    outcomes = run_spark_batch(cases, spark)
    wrong = [(c["expr"], c["profile"], o) for c, o in zip(cases, outcomes) if not _agrees(c, o)]
    assert wrong == []


def test_errors_are_the_interpreters() -> None:
    """The conformance cases cover a constant bad count and an invalid day; these are the
    interpreter's evaluation errors that depend on the data."""
    for expr, profile in (("xs.topN(this, s)", {"xs": [1], "s": "2"}),
                          ("xs.topN(this, n)", {"xs": [1], "n": float("inf")})):
        assert interpreter(expr, profile) == ERROR
    assert duckdb_values("xs.topN(this, s)", [{"xs": [1], "s": "2"}, {"s": "2"}]) == [ERROR,
                                                                                        None]


# ------------------------------------------------------------------ what stays refused


@pytest.mark.parametrize(("text", "construct"), [
    ('o.get(k)', "`get` with a key that is not a literal"),
    ("xs.topN(this > 1, 2)", "`topN` by a key that is a boolean"),
    ("orders.map(this)", "`map` whose value per element is a object"),
    ("orders.map(tags)", "`map` whose value per element is a list of string"),
    ("orders.map(mapEntry(price, 1))", "`map` to `mapEntry(...)`"),
    ("o.map(this)", "`map` over an object"),
    ("orders.groupBy(price)", "the method `groupBy`: its value is a map"),
    ("orders.map(if(price > 1, flag, false))", "`map` to a Boolean that is neither"),
    ("date(year, 1, 1)", "the value of `date(...)` whose arguments are not constants"),
    ("xs.topN(this, j)", "a path whose values have different JSON types"),
])
def test_refused_with_the_construct_named(text: str, construct: str) -> None:
    from pqltools.engines.plan import compile_run, plan_query
    from pqltools.engines.types import NULL, infer_value, merge
    from pqltools.runtime.context import make_clock
    rows = [{"o": {"a": 1}, "k": "a", "xs": [1], "year": 2024, "j": 1,
             "orders": [{"price": 1, "flag": True, "tags": ["x"]}]}, {"j": "one"}]
    schema = merge(infer_value(rows[0]), infer_value(rows[1]))
    for dialect in ("duckdb", "spark"):
        with pytest.raises(PQLError) as caught:
            plan_query(compile_run({"s": text}), dialect, schema, NULL, make_clock(NOW), "t",
                       values=True)
        assert caught.value.diagnostics[0].code == "PQL430"
        assert construct in str(caught.value)
