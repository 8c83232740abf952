"""Hypothesis: generated definitions over generated profiles give the same membership on the
interpreter and on DuckDB. Long run (big budgets, outside the suite):

    PQL_ENGINE_EXAMPLES=5000 python -m pytest -q tests/engines/test_engine_properties.py
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb")

from strategies import (
    SEGMENT_NOW,
    segment_events,
    segment_exprs,
    segment_profiles,
)

from pqltools import segment
from pqltools.syntax.printer import format as format_pql

EXAMPLES = int(os.environ.get("PQL_ENGINE_EXAMPLES", "25"))
profiles_with_events = st.lists(st.tuples(segment_profiles, segment_events), min_size=1,
                                max_size=5)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=segment_exprs(), rows=profiles_with_events)
def test_interpreter_and_duckdb_agree(tree: Any, rows: list[Any]) -> None:
    text = format_pql(tree)
    definitions = {"s": text, "t": f'not inSegment("s") and ({text})'}
    expected = list(segment(definitions, rows, now=SEGMENT_NOW))
    got = list(segment(definitions, rows, now=SEGMENT_NOW, engine="duckdb"))
    assert got == expected, f"{text}\n{rows}"
