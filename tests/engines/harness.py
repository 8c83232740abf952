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


def _spark_branch(index: int, case: dict[str, Any], spark: Any) -> tuple[str, Any]:
    """("query", select) for one case, or its outcome when it fails before running."""
    from sqlglot import exp

    from pqltools.engines import spark_engine as se
    from pqltools.engines.plan import compile_run, plan_query
    from pqltools.runtime.context import make_clock
    kind = case_kind(case)
    try:
        segments = compile_run({"case": case["expr"]})
        query, profile_t, events_t = se.literal_source(case["profile"], case["events"],
                                                       segments)
        plan = plan_query(segments, "spark", profile_t, events_t, make_clock(case["now"]),
                          query, events_column="__pql_events", values=kind == "value")
    except PQLError as exc:
        return ("outcome", classify_error(exc))
    column = plan.query.expressions[0].this
    wrapped = exp.Anonymous(this="to_json", expressions=[exp.Anonymous(
        this="named_struct", expressions=[exp.Literal.string("v"), column])])
    select = exp.select(exp.alias_(exp.Literal.number(index), "c"), exp.alias_(wrapped, "v"))
    return ("query", select.from_(plan.query.args["from_"].this.copy()))


def _spark_outcome(case: dict[str, Any], text: str | None) -> tuple[str, Any]:
    import json
    value = json.loads(text).get("v") if text else None
    kind = case_kind(case)
    if kind == "value":
        return ("value", value)
    return ("expect", bool(value))


def run_spark_batch(cases: list[dict[str, Any]], spark: Any) -> list[tuple[str, Any]]:
    """Outcomes of many cases from one Spark query (a UNION ALL of one branch per case); a
    batch that fails at run time (an evaluation error) is rerun case by case."""
    from sqlglot import exp

    from pqltools.runtime.context import evaluation_error
    outcomes: list[tuple[str, Any] | None] = [None] * len(cases)
    branches: list[tuple[int, Any]] = []
    for i, case in enumerate(cases):
        kind, payload = _spark_branch(i, case, spark)
        if kind == "outcome":
            outcomes[i] = payload
        else:
            branches.append((i, payload))

    def run(selected: list[tuple[int, Any]]) -> None:
        query = selected[0][1]
        for _, other in selected[1:]:
            query = exp.union(query, other, distinct=False)
        for row in spark.sql(query.sql(dialect="spark")).collect():
            outcomes[row["c"]] = _spark_outcome(cases[row["c"]], row["v"])

    def bisect(selected: list[tuple[int, Any]]) -> None:
        try:
            run(selected)
        except Exception as exc:  # noqa: BLE001 - whatever the job raised, bisect to the case
            if len(selected) == 1:
                err = evaluation_error(f"the spark engine stopped: {str(exc)[:200]}")
                outcomes[selected[0][0]] = classify_error(err)
                return
            half = len(selected) // 2
            bisect(selected[:half])
            bisect(selected[half:])

    # cases expected to stop with an evaluation error run alone, the rest in one query
    alone = [b for b in branches if cases[b[0]].get("error") == "evaluation"]
    together = [b for b in branches if cases[b[0]].get("error") != "evaluation"]
    if together:
        bisect(together)
    for branch in alone:
        bisect([branch])
    return [o if o is not None else ("error", "missing") for o in outcomes]


def refusal(case: dict[str, Any], dialect: str) -> Any:
    """The refusal (REFUSED code) diagnostic when ``dialect`` refuses the case at compile time, else None."""
    from pqltools.engines import spark_engine as se
    from pqltools.engines.plan import compile_run, plan_query
    from pqltools.runtime.context import make_clock
    try:
        segments = compile_run({"case": case["expr"]})
        query, profile_t, events_t = se.literal_source(case["profile"], case["events"],
                                                       segments)
        plan_query(segments, dialect, profile_t, events_t, make_clock(case["now"]), query,
                   events_column="__pql_events", values=case_kind(case) == "value")
    except PQLError as exc:
        outcome = classify_error(exc)
        return outcome[1] if outcome[0] == "refused" else None
    return None
