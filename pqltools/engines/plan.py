"""One run of several definitions as one SQL query: the plan shared by DuckDB and Spark.

:func:`plan_query` compiles every definition (segment-of-segments in dependency order, a
definition reading another of the same run gets that one's condition inlined) against the
profile schema and returns one ``SELECT`` over the profile relation with one Boolean column per
definition: all definitions of a run are evaluated in one scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from pqltools.definitions import Definition
from pqltools.engines.compiler import PROFILE_ALIAS, SqlCompiler, referenced_names
from pqltools.engines.dialects import DIALECTS
from pqltools.engines.types import NULL, ListOf, SqlType, Struct, prune
from pqltools.runtime.context import Clock
from pqltools.runtime.membership import CompiledSegment, compile_segments, order_segments

if TYPE_CHECKING:
    from pqltools.runtime.compiler import Program

__all__ = ["EVENTS_COLUMN", "ROW_COLUMN", "Plan", "check_profile", "compile_run", "needed_names",
           "plan_query", "segment_column"]

#: The column holding a profile's events (``xEvent``) in the relation the query reads.
EVENTS_COLUMN = "events"
#: The column holding an in-memory profile's position (results come back in input order).
ROW_COLUMN = "__pql_row"


@dataclass
class Plan:
    """A compiled run: the query, and the segment ids in output column order."""

    query: exp.Select
    segment_ids: list[str]
    columns: list[str]
    profile: Struct
    events: SqlType

    def sql(self, dialect: str) -> str:
        """The query as SQL text for ``dialect``."""
        return self.query.sql(dialect=DIALECTS[dialect].sqlglot)


def compile_run(definitions: Iterable[Definition] | Mapping[str, str] | list[CompiledSegment]
                ) -> list[CompiledSegment]:
    """Definitions parsed, validated and put in dependency order (as the interpreter does)."""
    if isinstance(definitions, list) and definitions and isinstance(definitions[0],
                                                                    CompiledSegment):
        return order_segments(definitions)
    return compile_segments(definitions)  # type: ignore[arg-type]


def needed_names(segments: Sequence[CompiledSegment]) -> set[str]:
    """Every field name some definition of the run can read (the scan's projection)."""
    from pqltools.runtime.membership import ID_FIELDS
    # ids (identityMap's too) and the stored membership: membership output reads them
    names: set[str] = {*ID_FIELDS, "identityMap", "primary", "segmentMembership", "ups",
                       "status", "lastQualificationTime"}
    for seg in segments:
        names |= referenced_names(seg.program.tree)
        names.add(seg.id)
    return names


def check_profile(profile: Any, events: Any) -> None:
    """The interpreter's input checks: a profile is an object, events a list of objects."""
    from pqltools.runtime.context import evaluation_error
    if not isinstance(profile, Mapping):
        raise evaluation_error("a profile must be a JSON object")
    if events is not None and (not isinstance(events, list)
                               or not all(isinstance(e, Mapping) for e in events)):
        raise evaluation_error("events must be a list of JSON objects")


def segment_column(index: int) -> str:
    """The output column of the ``index``-th definition (ids may be any text)."""
    return f"__pql_seg{index}"


def plan_query(segments: Sequence[CompiledSegment], dialect: str, profile: SqlType,
               events: SqlType, clock: Clock, source: str | exp.Expression,
               extra: Sequence[tuple[str, exp.Expression]] = (), *,
               events_column: str = EVENTS_COLUMN, order_by: str | None = None,
               values: bool = False) -> Plan:
    """``SELECT extra..., <condition of each segment> FROM source AS p``.

    ``profile`` is the type of a profile row without its events; ``events`` the type of the
    ``events`` column (``xEvent``). Raises a PQLValidationError naming the first construct that
    cannot compile.
    """
    names = needed_names(segments)
    profile_t = prune(profile, names)
    if not isinstance(profile_t, Struct):
        profile_t = Struct(())
    events_t = prune(events, names)
    if not isinstance(events_t, ListOf):
        events_t = NULL
    events_sql = exp.column(exp.to_identifier(events_column, quoted=True),
                            table=exp.to_identifier(PROFILE_ALIAS)) if events_t != NULL \
        else None
    compiled: dict[str, exp.Expression] = {}
    select: list[exp.Expr] = [exp.alias_(e, name, quoted=True) for name, e in extra]
    columns = [name for name, _ in extra]
    for index, seg in enumerate(segments):
        compiler = SqlCompiler(dialect, profile_t, events=events_t, events_sql=events_sql,
                               clock=clock, text=seg.program.text, segments=compiled)
        result = compiler.compile(seg.program.tree)
        condition = result.condition
        compiled[seg.id] = condition
        column = segment_column(index)
        if values:
            compiler.check_value(result.value, seg.program.tree)
            condition = result.value.sql
        select.append(exp.alias_(condition.copy(), column, quoted=True))
        columns.append(column)
    relation = exp.table_(source, alias=PROFILE_ALIAS) if isinstance(source, str) \
        else exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier(
            PROFILE_ALIAS)))
    query = exp.select(*select).from_(relation)
    if order_by is not None:
        query = query.order_by(exp.column(exp.to_identifier(order_by, quoted=True),
                                          table=exp.to_identifier(PROFILE_ALIAS)))
    return Plan(query, [s.id for s in segments], columns, profile_t, events_t)


def expression_sql(text: str | Any, dialect: str, profile: SqlType, events: SqlType,
                   clock: Clock) -> exp.Expression:
    """The Boolean SQL of one expression (for :func:`pqltools.to_sql`)."""
    from pqltools.runtime.compiler import compile as compile_pql
    program: Program = compile_pql(text) if isinstance(text, str) else text
    names = referenced_names(program.tree)
    profile_t = prune(profile, names)
    events_t = prune(events, names)
    events_sql = exp.column(exp.to_identifier(EVENTS_COLUMN, quoted=True),
                            table=exp.to_identifier(PROFILE_ALIAS))
    compiler = SqlCompiler(dialect, profile_t if isinstance(profile_t, Struct) else Struct(()),
                           events=events_t, events_sql=events_sql, clock=clock,
                           text=program.text)
    return compiler.compile(program.tree).condition
