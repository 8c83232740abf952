"""Differential on Spark (local mode): every conformance case agrees with the interpreter or is
refused like on DuckDB. One SparkSession for the test session; all cases run as a few queries
(a UNION ALL of one branch per case), so the group costs a session start and a few jobs."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pyspark")

from harness import case_kind, run_spark_batch
from test_conformance import CASES
from test_engine_conformance_duckdb import DOC, agrees

BATCH = 150
_OUTCOMES: dict[int, tuple[str, Any]] = {}



@pytest.fixture(scope="module")
def outcomes(spark: Any) -> dict[int, tuple[str, Any]]:
    if not _OUTCOMES:
        for start in range(0, len(CASES), BATCH):
            batch = CASES[start:start + BATCH]
            for offset, outcome in enumerate(run_spark_batch(batch, spark)):
                _OUTCOMES[start + offset] = outcome
    return _OUTCOMES


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{c['section']}:{c['id']}" for c in CASES])
def test_spark_agrees_or_refuses(index: int, outcomes: dict[int, tuple[str, Any]]) -> None:
    case = CASES[index]
    outcome = outcomes[index]
    if outcome[0] == "refused":
        diag = outcome[1]
        assert "cannot compile" in diag.message
        assert diag.span.end > diag.span.start
        assert f"`{case['section']}:{case['id']}`" in DOC.read_text("utf-8"), (
            f"refusal not listed in docs/engines.md: {diag.message}")
        return
    assert agrees(case, outcome), f"{case['expr']!r}: interpreter {case_kind(case)}=" \
        f"{case[case_kind(case)]!r}, spark {outcome!r}"
