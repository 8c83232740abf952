"""Golden SQL per dialect: a change in the generated SQL (ours, or a sqlglot upgrade) shows up
as a diff. Regenerate with ``python tests/engines/regen.py`` after checking the change."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sqlglot")

from golden_cases import render

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_sql_matches_golden(dialect: str) -> None:
    expected = (GOLDEN / f"{dialect}.sql").read_text("utf-8")
    assert render(dialect) == expected


def test_golden_duckdb_sql_runs() -> None:
    """Every golden query is valid DuckDB SQL over a table with the guessed columns, and on a
    row of nulls gives the interpreter's answer for an empty profile."""
    duckdb = pytest.importorskip("duckdb")
    from golden_cases import GOLDEN as CASES
    from golden_cases import NOW

    from pqltools.engines.api import to_sql
    from pqltools.engines.guess import guess_schema
    from pqltools.engines.schema import duckdb_type_name
    from pqltools.engines.types import NULL
    from pqltools.runtime.compiler import compile as compile_pql
    con = duckdb.connect()
    for name, text in CASES.items():
        profile, events = guess_schema(compile_pql(text).tree)
        columns = [f'CAST(NULL AS {duckdb_type_name(t)}) AS "{k}"' for k, t in profile.fields]
        if events != NULL:
            columns.append(f'CAST(NULL AS {duckdb_type_name(events)}) AS "events"')
        con.execute(f"CREATE OR REPLACE TABLE p AS SELECT {', '.join(columns) or '1 AS x'}")
        sql = to_sql(text, "duckdb", now=NOW)
        expected = compile_pql(text).evaluate({}, None, now=NOW)
        assert con.execute(f"SELECT {sql} FROM p").fetchall() == [(expected,)], name
