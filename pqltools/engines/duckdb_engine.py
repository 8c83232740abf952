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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pqltools.engines.inputs import DataInputError, unreadable
from pqltools.engines.plan import ROW_COLUMN, Plan, check_profile, needed_names, plan_query
from pqltools.engines.schema import (
    conform,
    duckdb_type_name,
    fold_case,
    from_duckdb_type,
    from_json_structure,
    infer_rows,
)
from pqltools.engines.types import NULL, WHOLE, ListOf, SqlType, Struct, prune
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
            raise DataInputError(text, "no file matches")
        for f in found:
            if not os.path.exists(f):
                raise DataInputError(f, "no such file")
        out.extend(found)
    return out


def _is_parquet(paths: Sequence[str]) -> bool:
    return all(p.lower().endswith((".parquet", ".pq")) for p in paths)


def open_source(profiles: Any, segments: Sequence[CompiledSegment], *, events_key: str = "events",
                con: Any = None, id_key: str | None = None, events: Any = None,
                identity_key: str = "profileId") -> DuckDBSource:
    """The profiles of ``segment()`` as a DuckDB relation (see the module docstring).

    ``events``, when given, is a separate events input (a path or glob of NDJSON or Parquet
    files, a relation of the same connection as ``profiles``, or an iterable of event objects)
    joined to the profiles by identity in SQL (:mod:`pqltools.engines.events`)."""
    names = needed_names(segments) | set(id_key.split(".") if id_key else ())
    source = _profiles_source(profiles, names, events_key, con)
    if events is None:
        return source
    return _join_events(source, events, names, identity_key, id_key)


def _is_relation(value: Any) -> bool:
    return hasattr(value, "types") and hasattr(value, "columns") and hasattr(value, "query")


def _profiles_source(profiles: Any, names: set[str], events_key: str, con: Any
                     ) -> DuckDBSource:
    if _is_relation(profiles):
        return _relation_source(profiles, names, events_key, con)
    con = con or connect()
    if _is_path(profiles):
        paths = _expand(profiles)
        if _is_parquet(paths):
            return _relation_source(_read_parquet(con, paths), names, events_key, con)
        return _json_source(con, paths, names, events_key)
    return _python_source(con, profiles, names)


#: The views a run with a separate events input reads (replaced by the next such run).
_PROFILES_VIEW = "pql_profiles_input"
_EVENTS_VIEW = "pql_events_input"


def _join_events(source: DuckDBSource, events: Any, names: set[str], identity_key: str,
                 id_key: str | None) -> DuckDBSource:
    """``source`` with the events of ``events`` joined to each profile (in SQL)."""
    import duckdb
    from sqlglot import exp

    from pqltools.engines.dialects import call
    from pqltools.engines.events import JOINED_EVENTS, join_query
    event_names = names | {identity_key.split(".")[0]}
    order: list[Any] = []
    rows_placed = False
    if _is_relation(events):
        rel = events
        columns = dict(zip(rel.columns, (from_duckdb_type(t) for t in rel.types)))
    else:
        if source.con is None:
            raise evaluation_error("events given as files need profiles given as files too (or "
                                   "both as relations of one DuckDB connection)")
        con = source.con
        if not _is_path(events):
            events = _events_file(events, source)
        paths = _expand(events)
        several = len(paths) > 1
        if _is_parquet(paths):
            rel = _read_parquet(con, paths, filename=several, file_row_number=True,
                                union_by_name=several)
            columns = dict(zip(rel.columns, (from_duckdb_type(t) for t in rel.types)))
            columns.pop("file_row_number", None)
        else:
            rel, columns = _json_read(con, paths, event_names, filename=several)
        columns.pop("filename", None)
        if several:  # the file's place in the list, then the row's in the file
            order.append(call("list_position", exp.Array(expressions=[
                exp.Literal.string(p) for p in paths]), exp.column(exp.to_identifier(
                    "filename", quoted=True), table=exp.to_identifier("e"))))
        if _is_parquet(paths):  # a row's place in its file, without a window over the scan
            order.append(exp.column(exp.to_identifier("file_row_number", quoted=True),
                                    table=exp.to_identifier("e")))
            rows_placed = True
    if not rows_placed:
        order.append(exp.Window(this=exp.RowNumber()))
    owner = Struct.of(columns)
    event = prune(owner, names)
    assert isinstance(event, Struct)
    nested = (source.events_column, source.events) if source.events != NULL else None
    query, joined_t = join_query("duckdb", _PROFILES_VIEW, source.profile, nested, _EVENTS_VIEW,
                                 event, identity_key, id_key, order, owner)
    try:
        rel.create_view(_EVENTS_VIEW)
        joined = source.relation.query(_PROFILES_VIEW, query.sql(dialect="duckdb"))
    except duckdb.Error as exc:
        raise _stopped(exc) from None
    return DuckDBSource(source.con, joined, source.profile, prune(joined_t, names),
                        JOINED_EVENTS, ordered=source.ordered, cleanup=source.cleanup,
                        rows=source.rows)


def _events_file(events: Any, source: DuckDBSource) -> str:
    """In-memory events written to a temporary NDJSON file (removed with the source)."""
    fd, path = tempfile.mkstemp(suffix=".ndjson", prefix="pql-events-")
    source.cleanup.append(path)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        for event in events:
            check_profile(event, None)
            out.write(json.dumps(event) + "\n")
    return path


def _relation_source(rel: Any, names: set[str], events_key: str, con: Any) -> DuckDBSource:
    columns = dict(zip(rel.columns, (from_duckdb_type(t) for t in rel.types)))
    events_t = columns.pop(events_key, NULL)
    profile = prune(Struct.of(columns), names)
    assert isinstance(profile, Struct)
    return DuckDBSource(con, rel, profile, prune(events_t, names), events_key)


def _json_source(con: Any, paths: list[str], names: set[str], events_key: str) -> DuckDBSource:
    rel, columns = _json_read(con, paths, names | {events_key})
    events_t = columns.pop(events_key, NULL)
    return DuckDBSource(con, rel, Struct.of(columns), events_t, events_key)


def _json_read(con: Any, paths: list[str], names: set[str], filename: bool = False
               ) -> tuple[Any, dict[str, SqlType]]:
    """NDJSON files read with the explicit schema of the top-level ``names`` they hold
    (merged over every line), and that schema (``filename``: with a ``filename`` column)."""
    # DuckDB column names are case-insensitive: one column per spelling, ignoring case
    by_case: dict[str, str] = {}
    for name in sorted(names):
        by_case.setdefault(name.lower(), name)
    top = list(by_case.values())
    import duckdb
    try:
        raw = con.read_json(paths, columns={n: "JSON" for n in top},
                            format="newline_delimited")
        aggregates = [duckdb.FunctionExpression("json_group_structure",
                                                duckdb.ColumnExpression(n)) for n in top]
        structures = raw.aggregate(aggregates).fetchall()[0]
    except duckdb.Error as exc:  # the first pass reads every line: malformed ones fail here
        raise unreadable(paths, "DuckDB", _message(exc)) from None
    columns: dict[str, SqlType] = {}
    for name, structure in zip(top, structures):
        t = from_json_structure(structure)
        t = t if name in WHOLE else prune(t, names)
        if t != NULL:
            columns[name] = t
    read = dict(columns) or {"__pql_empty": NULL}
    rel = con.read_json(paths, columns={k: duckdb_type_name(v) for k, v in read.items()},
                        format="newline_delimited", filename=filename)
    return rel, columns


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
    profile_t = fold_case(prune(infer_rows(p for p, _ in rows), names))
    events_t = fold_case(infer_rows({"e": e} for _, e in rows)).get("e")  # type: ignore[union-attr]
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


def _read_parquet(con: Any, paths: list[str], **options: Any) -> Any:
    """The Parquet files ``paths`` as a relation; a file that is not Parquet is a
    :class:`DataInputError` naming it."""
    import duckdb
    try:
        return con.read_parquet(paths, **options)
    except duckdb.Error as exc:
        raise unreadable(paths, "DuckDB", _message(exc)) from None


def _message(exc: Exception) -> str:
    """DuckDB's message without its error-class prefix."""
    return str(exc).split("Error: ", 1)[-1]


def _stopped(exc: Exception) -> Exception:
    return evaluation_error(f"the duckdb engine stopped: {_message(exc)}")
