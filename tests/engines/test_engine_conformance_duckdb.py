"""Differential: every conformance case on the DuckDB engine agrees with the interpreter (the
expected outcome in the case file) or is refused with PQL430 naming the construct and its span;
every refusal is listed in docs/engines.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")

from harness import case_kind, run_duckdb
from test_conformance import CASES, _same

DOC = Path(__file__).parents[2] / "docs" / "engines.md"


def agrees(case: dict[str, Any], outcome: tuple[str, Any]) -> bool:
    kind = case_kind(case)
    if outcome[0] != kind:
        return False
    if kind == "value":
        return _same(outcome[1], case["value"])
    return bool(outcome[1] == case[kind])


@pytest.mark.parametrize("case", CASES, ids=[f"{c['section']}:{c['id']}" for c in CASES])
def test_duckdb_agrees_or_refuses(case: dict[str, Any]) -> None:
    outcome = run_duckdb(case)
    if outcome[0] == "refused":
        diag = outcome[1]
        assert "cannot compile" in diag.message
        assert diag.span.end > diag.span.start, "a refusal points at the construct"
        assert f"`{case['section']}:{case['id']}`" in DOC.read_text("utf-8"), (
            f"refusal not listed in docs/engines.md: {diag.message}")
        return
    assert agrees(case, outcome), f"{case['expr']!r}: interpreter {case_kind(case)}=" \
        f"{case[case_kind(case)]!r}, duckdb {outcome!r}"
