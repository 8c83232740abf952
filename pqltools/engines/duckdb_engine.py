"""Segment profiles on DuckDB: sources (Python objects, NDJSON, Parquet, relations), one query.

Every source becomes a relation with one row per profile: the profile's fields as columns and its
events in one list column. JSON is read with an explicit schema: a first pass asks DuckDB for the
merged structure (``json_group_structure``) of only the top-level fields the definitions
reference, over every line (DuckDB's own sampling would silently drop keys first seen late in a
file), the second reads exactly those columns with those types. A path absent from the data is
null. The whole run is one ``SELECT`` with a Boolean column per definition.
"""

from __future__ import annotations

import glob as globmod
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pqltools.engines.plan import ROW_COLUMN, Plan, check_profile, needed_names, plan_query
from pqltools.engines.schema import (
    conform,
    duckdb_type_name,
    from_duckdb_type,
    from_json_structure,
    infer_rows,
)
from pqltools.engines.types import NULL, ListOf, SqlType, Struct, prune
from pqltools.runtime.context import Clock, evaluation_error
from pqltools.runtime.membership import CompiledSegment

__all__ = ["DuckDBSource", "connect", "open_source", "run_plan"]

#: The name the run's query gives the source relation.
SOURCE_TABLE = "pql_profiles"
#: Internal name of the events column of in-memory profiles.
_EVENTS = "__pql_events"


def connect() -> Any:
    """A DuckDB connection set up for PQL (UTC: strings without an offset are UTC)."""
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


@dataclass
class DuckDBSource:
    """A relation of profiles and what the compiler needs to know about it."""

    con: Any
    relation: Any
    profile: Struct
    events: SqlType
    events_column: str
    ordered: bool = False
    cleanup: list[str] = field(default_factory=list)
    #: previous memberships and ids of in-memory profiles, by row
    rows: list[tuple[Any, Any]] | None = None

    def close(self) -> None:
        """Remove temporary files."""
        for path in self.cleanup:
            try:
                os.unlink(path)
            except OSError:
                pass


def _is_path(profiles: Any) -> bool:
    return isinstance(profiles, (str, Path)) or (
        isinstance(profiles, (list, tuple)) and bool(profiles)
        and all(isinstance(p, (str, Path)) for p in profiles))


def _expand(profiles: Any) -> list[str]:
    items = [profiles] if isinstance(profiles, (str, Path)) else list(profiles)
    out: list[str] = []
    for item in items:
        text = str(item)
        found = sorted(globmod.glob(text)) if any(c in text for c in "*?[") else [text]
        if not found:
            raise evaluation_error(f"{text}: no file matches")
        for f in found:
            if not os.path.exists(f):
                raise evaluation_error(f"{f}: no such file")
        out.extend(found)
    return out


def _is_parquet(paths: Sequence[str]) -> bool:
    return all(p.lower().endswith((".parquet", ".pq")) for p in paths)


def open_source(profiles: Any, segments: Sequence[CompiledSegment], *, events_key: str = "events",
                con: Any = None, id_key: str | None = None) -> DuckDBSource:
    """The profiles of ``segment()`` as a DuckDB relation (see the module docstring)."""
    names = needed_names(segments) | set(id_key.split(".") if id_key else ())
    if hasattr(profiles, "types") and hasattr(profiles, "columns") and hasattr(profiles, "query"):
        return _relation_source(profiles, names, events_key, con)
    con = con or connect()
    if _is_path(profiles):
        paths = _expand(profiles)
        if _is_parquet(paths):
            rel = con.read_parquet(paths)
            return _relation_source(rel, names, events_key, con)
        return _json_source(con, paths, names, events_key)
    return _python_source(con, profiles, names)


def _relation_source(rel: Any, names: set[str], events_key: str, con: Any) -> DuckDBSource:
    columns = dict(zip(rel.columns, (from_duckdb_type(t) for t in rel.types)))
    events_t = columns.pop(events_key, NULL)
    profile = prune(Struct.of(columns), names)
    assert isinstance(profile, Struct)
    return DuckDBSource(con, rel, profile, prune(events_t, names), events_key)


def _json_source(con: Any, paths: list[str], names: set[str], events_key: str) -> DuckDBSource:
    # DuckDB column names are case-insensitive: one column per spelling, ignoring case
    by_case: dict[str, str] = {}
    for name in sorted(names | {events_key}):
        by_case.setdefault(name.lower(), name)
    top = list(by_case.values())
    raw = con.read_json(paths, columns={n: "JSON" for n in top},
                        format="newline_delimited")
    import duckdb
    aggregates = [duckdb.FunctionExpression("json_group_structure", duckdb.ColumnExpression(n))
                  for n in top]
    try:
        structures = raw.aggregate(aggregates).fetchall()[0]
    except duckdb.Error as exc:
        raise _stopped(exc) from None
    columns: dict[str, SqlType] = {}
    for name, structure in zip(top, structures):
        t = prune(from_json_structure(structure), names)
        if t != NULL:
            columns[name] = t
    events_t = columns.pop(events_key, NULL)
    read = dict(columns)
    if events_t != NULL:
        read[events_key] = events_t
    if not read:
        read = {"__pql_empty": NULL}
    rel = con.read_json(paths, columns={k: duckdb_type_name(v) for k, v in read.items()},
                        format="newline_delimited")
    return DuckDBSource(con, rel, Struct.of(columns), events_t, events_key)


def _split(item: Any) -> tuple[Any, Any]:
    if isinstance(item, tuple) and len(item) == 2:
        return item[0], item[1]
    return item, None


def _python_source(con: Any, profiles: Iterable[Any], names: set[str]) -> DuckDBSource:
    rows: list[tuple[dict[str, Any], list[Any] | None]] = []
    for item in profiles:
        profile, events = _split(item)
        check_profile(profile, events)
        rows.append((dict(profile), events))
    profile_t = prune(infer_rows(p for p, _ in rows), names)
    events_t = infer_rows({"e": e} for _, e in rows).get("e")
    assert isinstance(profile_t, Struct)
    events_type: SqlType = prune(events_t, names) if isinstance(events_t, ListOf) else NULL
    columns = {k: v for k, v in profile_t.fields if v != NULL}
    fd, path = tempfile.mkstemp(suffix=".ndjson", prefix="pql-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        for index, (profile, events) in enumerate(rows):
            record: dict[str, Any] = {ROW_COLUMN: index}
            for k, t in columns.items():
                record[k] = conform(profile.get(k), t, json_text=False)
            if events_type != NULL:
                record[_EVENTS] = conform(events, events_type, json_text=False)
            out.write(json.dumps(record) + "\n")
    read = {ROW_COLUMN: "BIGINT", **{k: duckdb_type_name(v) for k, v in columns.items()}}
    if events_type != NULL:
        read[_EVENTS] = duckdb_type_name(events_type)
    rel = con.read_json(path, columns=read, format="newline_delimited")
    source = DuckDBSource(con, rel, Struct.of(columns), events_type, _EVENTS, ordered=True,
                          cleanup=[path])
    source.rows = [(p.get("segmentMembership"), p) for p, _ in rows]
    return source


def plan_for(source: DuckDBSource, segments: Sequence[CompiledSegment], clock: Clock,
             extra: Sequence[tuple[str, Any]] = (), values: bool = False) -> Plan:
    """The run's query over ``source``'s relation (``values``: each expression's value rather
    than its Boolean meaning)."""
    return plan_query(segments, "duckdb", source.profile, source.events, clock, SOURCE_TABLE,
                      extra, events_column=source.events_column,
                      order_by=ROW_COLUMN if source.ordered else None, values=values)


def run_plan(source: DuckDBSource, plan: Plan) -> Iterator[tuple[Any, ...]]:
    """The plan's rows, in source order."""
    return run_sql(source, plan.query)


def run_sql(source: DuckDBSource, query: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query`` (a sqlglot SELECT reading the source as ``pql_profiles``)."""
    import duckdb
    try:
        yield from source.relation.query(SOURCE_TABLE, query.sql(dialect="duckdb")).iter_rows()
    except duckdb.Error as exc:  # a failure at run time, in PQL's words
        raise _stopped(exc) from None


def copy_to(source: DuckDBSource, query: Any, path: str, fmt: str) -> None:
    """Write ``query``'s rows to ``path`` (``parquet`` or ``json``: NDJSON) inside DuckDB."""
    import duckdb
    from sqlglot import exp
    rel = source.relation.query(SOURCE_TABLE, query.sql(dialect="duckdb"))
    try:
        if fmt == "parquet":
            rel.write_parquet(path)
            return
        view = "pql_output"
        rel.create_view(view)
        copy = exp.Copy(this=exp.table_(view), kind=False, files=[exp.Literal.string(path)],
                        params=[exp.CopyParameter(this=exp.var("FORMAT"),
                                                  expression=exp.var("json"))])
        source.con.execute(copy.sql(dialect="duckdb"))
    except duckdb.Error as exc:
        raise _stopped(exc) from None


def _stopped(exc: Exception) -> Exception:
    message = str(exc).split("Error: ", 1)[-1]
    return evaluation_error(f"the duckdb engine stopped: {message}")
