"""``segment(..., engine="duckdb"|"spark")`` and ``to_sql``: the engines' public entry points."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlglot import exp

from pqltools.definitions import Definition
from pqltools.engines.plan import compile_run
from pqltools.engines.run import ENGINES
from pqltools.engines.types import Struct
from pqltools.runtime.context import Clock, evaluation_error, make_clock
from pqltools.runtime.membership import CompiledSegment, membership_record, profile_id

__all__ = ["ENGINES", "segment_sql"]



def _previous_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def segment_sql(definitions: Iterable[Definition] | Mapping[str, str] | list[CompiledSegment],
                profiles: Any, *, engine: str, now: str | datetime | int | Clock | None = None,
                previous: Mapping[str, Mapping[str, Any]] | None = None,
                id_key: str | None = None, events_key: str = "events", events: Any = None,
                identity_key: str = "profileId") -> Iterator[dict[str, Any]]:
    """The SQL engines' :func:`pqltools.segment`: the same records, computed in one query
    (``events``: a separate events input joined by ``identity_key``, see
    :mod:`pqltools.engines.events`)."""
    segments = compile_run(definitions)
    clock = make_clock(now)
    joined = {"events": events, "identity_key": identity_key}
    if engine == "duckdb":
        return _duckdb(segments, profiles, clock, previous, id_key, events_key, joined)
    if engine == "spark":
        from pqltools.engines.spark_engine import segment_spark
        return segment_spark(segments, profiles, clock, previous, id_key, events_key, joined)
    raise evaluation_error(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")


def _duckdb(segments: list[CompiledSegment], profiles: Any, clock: Clock,
            previous: Mapping[str, Mapping[str, Any]] | None, id_key: str | None,
            events_key: str, joined: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    from pqltools.engines import duckdb_engine as dd
    source = dd.open_source(profiles, segments, events_key=events_key, id_key=id_key, **joined)
    try:
        extra = membership_columns(source.profile, source.rows is None, previous is not None,
                                   id_key, "duckdb")
        plan = dd.plan_for(source, segments, clock, extra)
        rows = dd.run_plan(source, plan)
        yield from records(plan.segment_ids, len(extra), rows, source.rows, clock, previous,
                           id_key)
    finally:
        source.close()


def membership_columns(profile: Struct, from_data: bool, need_id: bool, id_key: str | None,
                       dialect: str = "duckdb") -> list[tuple[str, exp.Expression]]:
    """Extra columns a run selects to build membership records: the previous membership (as
    JSON text) and the profile id, when they come from the data rather than Python objects."""
    from pqltools.engines.compiler import PROFILE_ALIAS
    out: list[tuple[str, exp.Expression]] = []
    if not from_data:
        return out
    if profile.get("segmentMembership") is not None:
        column = exp.column(exp.to_identifier("segmentMembership", quoted=True),
                            table=exp.to_identifier(PROFILE_ALIAS))
        from pqltools.engines.output import prior_json
        out.append(("__pql_previous", prior_json(column, dialect)))
    else:
        out.append(("__pql_previous", exp.null()))
    if need_id:
        out.append(("__pql_id", id_expression(profile, id_key, dialect)))
    return out


def id_expression(profile: Struct, id_key: str | None, dialect: str = "duckdb"
                  ) -> exp.Expression:
    """The profile id in SQL, by the interpreter's rule (:func:`pqltools.engines.events.id_sql`:
    the dotted ``id_key``, else the first id field holding a string or integer, else the primary
    identity of ``identityMap``)."""
    from pqltools.engines.compiler import PROFILE_ALIAS
    from pqltools.engines.events import id_sql
    return id_sql(profile, PROFILE_ALIAS, id_key, dialect)


def records(segment_ids: list[str], extra: int, rows: Iterable[tuple[Any, ...]],
            python_rows: list[tuple[Any, Any]] | None, clock: Clock,
            previous: Mapping[str, Mapping[str, Any]] | None, id_key: str | None
            ) -> Iterator[dict[str, Any]]:
    """Membership records from the query's rows (Boolean columns after ``extra`` columns)."""
    for index, row in enumerate(rows):
        answers = row[extra:]
        results = {sid: bool(answer) for sid, answer in zip(segment_ids, answers)}
        if python_rows is not None:
            stored, profile = python_rows[index]
            if previous is not None:
                pid = profile_id(profile, id_key)
                prior: Any = previous.get(pid, {}) if pid is not None else {}
            else:
                prior = stored
        else:
            prior = _previous_json(row[0]) if extra else None
            if previous is not None:
                pid = row[1] if extra > 1 else None
                prior = previous.get(pid, {}) if pid is not None else {}
        yield membership_record(results, prior, clock.now)


def to_sql(expression: str | Any, dialect: str = "duckdb", *,
           profile: Any = None, events: Any = None,
           now: str | datetime | int | Clock | None = None) -> str:
    """The SQL of one PQL expression's Boolean meaning, for ``dialect`` (duckdb or spark).

    The SQL reads a profile row aliased ``p`` (its fields as columns) and its events from the
    column ``events``. Column types come from ``profile`` (a sample profile object, or a
    DuckDB relation / Spark DataFrame) and ``events`` (sample events); without them they are
    guessed from how the expression uses each path (compared with a number: a number; with
    ``occurs``: an ISO-8601 string; otherwise a string). Time windows are computed from ``now``
    (default: the current time) and appear as epoch-millisecond literals.
    """
    from pqltools.engines.dialects import DIALECTS
    from pqltools.engines.guess import guess_schema
    from pqltools.engines.plan import expression_sql
    from pqltools.engines.schema import from_duckdb_type, from_spark_type, infer_rows
    from pqltools.engines.types import ListOf, infer_value
    from pqltools.runtime.compiler import compile as compile_pql
    if dialect not in DIALECTS:
        raise evaluation_error(f"unknown SQL dialect {dialect!r}: use duckdb or spark")
    program = compile_pql(expression) if not hasattr(expression, "tree") else expression
    clock = make_clock(now)
    guessed_profile, guessed_events = guess_schema(program.tree)
    profile_t: Any = guessed_profile
    events_t: Any = guessed_events
    if isinstance(profile, Mapping):
        profile_t = infer_rows([profile])
        events_t = infer_value(events) if events is not None else guessed_events
    elif hasattr(profile, "types") and hasattr(profile, "columns"):
        profile_t = Struct(tuple(zip(profile.columns, (from_duckdb_type(t)
                                                       for t in profile.types))))
    elif hasattr(profile, "schema") and hasattr(profile, "sparkSession"):
        profile_t = from_spark_type(profile.schema)
    if isinstance(profile_t, Struct) and profile_t.get("events") is not None:
        found = profile_t.get("events")
        events_t = found if isinstance(found, ListOf) else events_t
        profile_t = Struct(tuple((k, v) for k, v in profile_t.fields if k != "events"))
    condition = expression_sql(program, dialect, profile_t, events_t, clock)
    return str(condition.sql(dialect=DIALECTS[dialect].sqlglot, pretty=True))
