"""Spark (local mode) against the interpreter where its dialect differs from DuckDB's: array
functions on null lists (``size(NULL)``), string order (binary UTF-8, as Python's code points),
and ``regexGroup`` on the Java pattern the RE2 one is translated to (group numbers kept when a
group is named, ``.`` and line breaks, Unicode case folding). All cases run as one query."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pyspark")

from harness import run_spark_batch
from test_conformance import _same
from test_engine_sets import NOW, REGEX_GROUP, value_outcome

CASES: list[tuple[str, dict[str, Any]]] = [
    # null and empty lists, nulls inside
    ('tags.intersects(["a"])', {"tags": None}),
    ('tags.intersection(["a"])', {"tags": None}),
    ('tags.intersection(["a", "b"])', {"tags": ["b", None, "a", "b"]}),
    ("tags.subsetOf(others)", {"tags": [], "others": None}),
    ("tags.subsetOf(others)", {"tags": [], "others": []}),
    ("tags.subsetOf(others)", {"tags": ["a", None], "others": ["a"]}),
    ("others.supersetOf(tags)", {"tags": ["a"], "others": None}),
    ("nums.intersection(others)", {"nums": [2, 1, 2.0], "others": [1.0, 2, 3]}),
    ('["1", "2"].subsetOf(nums)', {"nums": [1, 2.0]}),
    ('orders.sku.supersetOf(["x"])', {"orders": [{"sku": "x"}, {}]}),
    # binary string order: an astral character after U+FFFF (Java's UTF-16 order differs)
    ("names.max()", {"names": ["\uffff", "\U0001f600", "a"]}),
    ("names.min()", {"names": ["b", None, "B", "\u00e9"]}),
    ("orders.min(name)", {"orders": [{"name": "b"}, {}, {"name": "a"}]}),
    *REGEX_GROUP,
]



def test_spark_agrees_with_the_interpreter(spark: Any) -> None:
    cases = [{"expr": expr, "profile": profile, "events": None, "now": NOW, "value": None}
             for expr, profile in CASES]
    outcomes = run_spark_batch(cases, spark)
    wrong = []
    for (expr, profile), got in zip(CASES, outcomes):
        expected = value_outcome(expr, profile)
        if got[0] != expected[0] or (got[0] == "value" and not _same(got[1], expected[1])):
            wrong.append(f"{expr} on {profile}: interpreter {expected}, spark {got}")
    assert not wrong, "\n".join(wrong)
