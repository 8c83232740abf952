"""Run conformance cases on a SQL engine: outcome = ("expect", bool) | ("value", v) |
("error", category) | ("refused", diagnostic)."""

from __future__ import annotations

from typing import Any

from pqltools.engines.compiler import REFUSED
from pqltools.errors import PQLError, PQLEvaluationError, PQLSyntaxError, PQLValidationError

CATEGORIES = ((PQLSyntaxError, "syntax"), (PQLValidationError, "validation"),
              (PQLEvaluationError, "evaluation"))


def category(exc: PQLError) -> str:
    for cls, name in CATEGORIES:
        if isinstance(exc, cls):
            return name
    return "other"


def classify_error(exc: PQLError) -> tuple[str, Any]:
    diag = exc.diagnostics[0] if exc.diagnostics else None
    if diag is not None and diag.code == REFUSED:
        return ("refused", diag)
    return ("error", category(exc))


def case_kind(case: dict[str, Any]) -> str:
    return next(k for k in ("expect", "value", "error") if k in case)


_CON: list[Any] = []


def run_duckdb(case: dict[str, Any]) -> tuple[str, Any]:
    from pqltools.engines import duckdb_engine as dd
    from pqltools.engines.plan import compile_run
    from pqltools.runtime.context import make_clock
    kind = case_kind(case)
    try:
        segments = compile_run({"case": case["expr"]})
        clock = make_clock(case["now"])
        if not _CON:
            _CON.append(dd.connect())
        source = dd.open_source([(case["profile"], case["events"])], segments, con=_CON[0])
        try:
            plan = dd.plan_for(source, segments, clock, values=kind == "value")
            rows = list(dd.run_plan(source, plan))
        finally:
            source.close()
    except PQLError as exc:
        return classify_error(exc)
    result = rows[0][0]
    if kind == "value":
        return ("value", result)
    return ("expect", bool(result))
