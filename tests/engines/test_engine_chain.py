"""``chain(...)`` on DuckDB against the interpreter: generated chains (one to three steps,
COUNT, WHEN relative to an earlier label's time, WHERE reading an earlier label) over generated
events with few distinct times (ties), as ISO-8601 strings, epoch milliseconds or a mix of both.
The conformance cases (tests/conformance/chain.yaml) run on Spark too; this widens the search.

Long run: ``PQL_ENGINE_EXAMPLES=2000 python -m pytest -q tests/engines/test_engine_chain.py``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb")

from pqltools import segment
from pqltools.errors import PQLEvaluationError
from pqltools.syntax import ast
from pqltools.syntax.printer import format as format_pql

EXAMPLES = int(os.environ.get("PQL_ENGINE_EXAMPLES", "40"))
NOW = "2024-05-15T12:00:00Z"
_BASE = 1_715_760_000_000  # 2024-05-15T08:00:00Z
_TYPES = ["view", "add", "buy"]
_SKUS = ["A", "B"]
_LABELS = ["A", "B", "C"]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _event(kind: str, minutes: int, sku: str | None, form: str) -> dict[str, Any]:
    ms = _BASE + minutes * 60_000
    ts: Any = ms if form == "ms" or (form == "mixed" and minutes % 2) else _iso(ms)
    event: dict[str, Any] = {"eventType": kind, "timestamp": ts}
    if sku is not None:
        event["sku"] = sku
    return event


def _events(form: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    # few distinct minutes, so that equal times (not strictly ordered) are common
    return st.lists(st.builds(_event, st.sampled_from(_TYPES), st.sampled_from(
        [-1500, 0, 30, 60, 90, 240]), st.one_of(st.none(), st.sampled_from(_SKUS)),
        st.just(form)), max_size=6)


@st.composite
def _chains(draw: st.DrawFn) -> ast.Expr:
    steps = []
    for j in range(draw(st.integers(1, 3))):
        what = draw(st.one_of(st.none(), st.sampled_from(_TYPES).map(
            lambda t: ast.Compare("=", ast.Name("eventType"), ast.String(t)))))
        when: Any = None
        where: Any = None
        if j and draw(st.booleans()):
            earlier = ast.Attribute(ast.Name(_LABELS[draw(st.integers(0, j - 1))]), "timestamp")
            when = ast.RelativeTime(draw(st.sampled_from(["<", "<=", ">", "="])),
                                    draw(st.sampled_from([1, 2, 3])), "hour", "after", earlier)
        elif draw(st.booleans()):
            when = draw(st.sampled_from([
                ast.AtTime(ast.TimeKeyword("today")),
                ast.RelativeTime("<", 24, "hour", "before", ast.TimeKeyword("now")),
                ast.RelativeTime(None, None, None, "before", ast.TimeKeyword("today"))]))
        if j and draw(st.booleans()):
            where = ast.Compare("=", ast.Name("sku"), ast.Attribute(
                ast.Name(_LABELS[draw(st.integers(0, j - 1))]), "sku"))
        count = draw(st.one_of(st.none(), st.integers(1, 3)))
        steps.append(ast.ChainStep(_LABELS[j], what, when, count, where))
    chain: ast.Expr = ast.Chain(ast.Name("xEvent"), "timestamp", tuple(steps))
    return ast.Not(chain) if draw(st.booleans()) else chain


def _outcome(definitions: dict[str, str], rows: list[Any], engine: str) -> Any:
    try:
        return list(segment(definitions, rows, now=NOW, engine=engine))
    except PQLEvaluationError:
        return "evaluation error"


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=_chains(), data=st.data())
def test_chain_interpreter_and_duckdb_agree(tree: ast.Expr, data: st.DataObject) -> None:
    form = data.draw(st.sampled_from(["iso", "ms", "mixed"]))
    rows = data.draw(st.lists(st.tuples(st.just({"id": "p"}), _events(form)), min_size=1,
                              max_size=4))
    definitions = {"s": format_pql(tree)}
    expected = _outcome(definitions, rows, "python")
    assert expected != "evaluation error"
    assert _outcome(definitions, rows, "duckdb") == expected, f"{definitions['s']}\n{rows}"


def test_chain_errors_on_an_event_without_a_usable_time() -> None:
    definitions = {"s": 'chain(xEvent, timestamp, [A: WHAT(eventType = "buy")])'}
    for events in ([{"eventType": "buy", "timestamp": "2024-05-15T08:00:00Z"},
                    {"eventType": "view"}],
                   [{"eventType": "buy", "timestamp": "2024-05-15T08:00:00Z"},
                    {"eventType": "view", "timestamp": "later"}],
                   [{"eventType": "buy", "timestamp": 5}, {"eventType": "view",
                                                           "timestamp": True}]):
        for engine in ("python", "duckdb"):
            with pytest.raises(PQLEvaluationError, match="chain"):
                list(segment(definitions, [({"id": "p"}, events)], now=NOW, engine=engine))


def test_chain_label_binds_the_first_of_equal_times_in_list_order() -> None:
    # two candidates for A at the same time: the interpreter's stable sort keeps list order,
    # so A is the first one (sku "A") and B's WHERE compares with it
    text = ('chain(xEvent, timestamp, [A: WHAT(eventType = "view"), '
            'B: WHAT(eventType = "buy") WHERE(sku = A.sku)])')
    for first, expected in (("A", "realized"), ("B", None)):
        events = [{"eventType": "view", "timestamp": 10, "sku": first},
                  {"eventType": "view", "timestamp": 10, "sku": "B" if first == "A" else "A"},
                  {"eventType": "buy", "timestamp": 20, "sku": "A"}]
        for engine in ("python", "duckdb"):
            (record,) = segment({"s": text}, [({"id": "p"}, events)], now=NOW, engine=engine)
            status = record["ups"].get("s", {}).get("status")
            assert status == expected, (engine, first)
