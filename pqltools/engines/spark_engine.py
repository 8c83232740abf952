"""Segment profiles on Spark SQL: sources (Python objects, NDJSON, Parquet, DataFrames), one query.

Every source becomes a DataFrame with one row per profile (its fields as columns, its events in
one array column), registered as a temporary view and read by the run's single ``SELECT``.
NDJSON is read with Spark's own schema inference over every line (``samplingRatio`` 1.0, its
default), then only the referenced columns are kept; in-memory profiles get an explicit schema
inferred from every value. The session's time zone must be UTC (:func:`session` sets it) so that
timestamps without an offset read as UTC, as in the interpreter.
"""

from __future__ import annotations

import glob as globmod
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pqltools.engines.api import membership_columns, records
from pqltools.engines.inputs import DataInputError, unreadable
from pqltools.engines.plan import ROW_COLUMN, Plan, check_profile, needed_names, plan_query
from pqltools.engines.schema import conform, from_spark_type, infer_rows, spark_type
from pqltools.engines.types import NULL, ListOf, SqlType, Struct, prune
from pqltools.runtime.context import Clock, evaluation_error
from pqltools.runtime.membership import CompiledSegment

__all__ = ["SparkSource", "open_source", "plan_for", "run_plan", "segment_spark", "session"]

_EVENTS = "__pql_events"
_VIEW = "pql_profiles"


def session(master: str = "local[2]") -> Any:
    """The active SparkSession, or a new local one, with the settings PQL needs (UTC)."""
    from pyspark.sql import SparkSession
    active = SparkSession.getActiveSession()
    if active is not None:
        active.conf.set("spark.sql.session.timeZone", "UTC")
        return active
    spark = (SparkSession.builder.master(master).appName("pqltools")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@dataclass
class SparkSource:
    """A DataFrame of profiles and what the compiler needs to know about it."""

    frame: Any
    profile: Struct
    events: SqlType
    events_column: str
    ordered: bool = False
    rows: list[tuple[Any, Any]] | None = None


def _split(item: Any) -> tuple[Any, Any]:
    if isinstance(item, tuple) and len(item) == 2:
        return item[0], item[1]
    return item, None


def open_source(profiles: Any, segments: Sequence[CompiledSegment], *, events_key: str = "events",
                spark: Any = None, id_key: str | None = None, events: Any = None,
                identity_key: str = "profileId") -> SparkSource:
    """The profiles of ``segment()`` as a Spark DataFrame (see the module docstring).

    ``events``, when given, is a separate events input (a path or glob of NDJSON or Parquet
    files, a DataFrame, or an iterable of event objects) joined to the profiles by identity in
    Spark SQL (:mod:`pqltools.engines.events`)."""
    names = needed_names(segments) | set(id_key.split(".") if id_key else ())
    if _is_frame(profiles):
        source = _frame_source(profiles, names, events_key)
    else:
        spark = spark or session()
        paths = _paths(profiles)
        if paths is not None:
            source = _frame_source(_read(spark, paths), names, events_key)
        else:
            source = _python_source(spark, profiles, names)
    if events is None:
        return source
    return _join_events(source, events, names, identity_key, id_key)


def _is_frame(value: Any) -> bool:
    return hasattr(value, "schema") and hasattr(value, "sparkSession")


def _paths(value: Any) -> list[str] | None:
    """The files a path, glob or list of them names (None: not paths)."""
    if not (isinstance(value, (str, Path)) or (isinstance(value, (list, tuple)) and value
                                               and all(isinstance(p, (str, Path))
                                                       for p in value))):
        return None
    items = [value] if isinstance(value, (str, Path)) else list(value)
    paths: list[str] = []
    for item in items:
        text = str(item)
        found = sorted(globmod.glob(text)) if any(c in text for c in "*?[") else [text]
        if not found:
            raise DataInputError(text, "no file matches")
        for f in found:
            if not Path(f).exists():
                raise DataInputError(f, "no such file")
        paths.extend(found)
    return paths


def _read(spark: Any, paths: list[str]) -> Any:
    """The files ``paths`` as a DataFrame. NDJSON is read strictly (``FAILFAST``: Spark's
    default turns a malformed line into a row of nulls); a file that cannot be read is a
    :class:`DataInputError` naming it (and the line, for NDJSON)."""
    try:
        if all(p.lower().endswith((".parquet", ".pq")) for p in paths):
            return spark.read.parquet(*paths)
        return spark.read.option("mode", "FAILFAST").json(paths)
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise unreadable(paths, "Spark", _spark_message(exc)) from None
        raise


_PROFILES_VIEW = "pql_profiles_input"
_EVENTS_VIEW = "pql_events_input"


def _join_events(source: SparkSource, events: Any, names: set[str], identity_key: str,
                 id_key: str | None) -> SparkSource:
    """``source`` with the events of ``events`` joined to each profile (in Spark SQL)."""
    from sqlglot import exp

    from pqltools.engines.events import JOINED_EVENTS, join_query
    spark = source.frame.sparkSession
    order: list[Any] = []
    if _is_frame(events):
        frame = events
    else:
        paths = _paths(events)
        if paths is None:
            frame = _events_frame(spark, list(events))
        else:
            frame = _read(spark, paths)
            # files by name, then line (Spark packs the files of a scan by size)
            order.append(exp.Anonymous(this="input_file_name", expressions=[]))
    order.append(exp.Anonymous(this="monotonically_increasing_id", expressions=[]))
    event_names = names | {identity_key.split(".")[0]}
    event = prune(Struct.of({f.name: from_spark_type(f.dataType)
                             for f in frame.schema.fields}), event_names)
    assert isinstance(event, Struct)
    nested = (source.events_column, source.events) if source.events != NULL else None
    query, joined_t = join_query("spark", _PROFILES_VIEW, source.profile, nested, _EVENTS_VIEW,
                                 event, identity_key, id_key, order)
    try:
        frame.createOrReplaceTempView(_EVENTS_VIEW)
        source.frame.createOrReplaceTempView(_PROFILES_VIEW)
        joined = spark.sql(query.sql(dialect="spark"))
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise evaluation_error(f"the spark engine stopped: {_spark_message(exc)}") from None
        raise
    return SparkSource(joined, source.profile, prune(joined_t, names), JOINED_EVENTS,
                       ordered=source.ordered, rows=source.rows)


def _events_frame(spark: Any, events: list[Any]) -> Any:
    """In-memory events as a DataFrame with a schema inferred from every value."""
    from pyspark.sql import types as st
    for event in events:
        check_profile(event, None)
    event_t = infer_rows(events)
    columns = {k: v for k, v in event_t.fields if v != NULL} or {"__pql_empty": NULL}
    schema = st.StructType([st.StructField(k, spark_type(v)) for k, v in columns.items()])
    data = [tuple(_tuples(conform(e.get(k), t), t) for k, t in columns.items()) for e in events]
    return spark.createDataFrame(data, schema)


def _frame_source(frame: Any, names: set[str], events_key: str) -> SparkSource:
    columns = {f.name: from_spark_type(f.dataType) for f in frame.schema.fields}
    events_t = columns.pop(events_key, NULL)
    profile = prune(Struct.of(columns), names)
    assert isinstance(profile, Struct)
    return SparkSource(frame, profile, prune(events_t, names), events_key)


def _python_source(spark: Any, profiles: Iterable[Any], names: set[str]) -> SparkSource:
    from pyspark.sql import types as st
    rows: list[tuple[dict[str, Any], Any]] = []
    for item in profiles:
        profile, events = _split(item)
        check_profile(profile, events)
        rows.append((dict(profile), events))
    profile_t = prune(infer_rows(p for p, _ in rows), names)
    assert isinstance(profile_t, Struct)
    found = infer_rows({"e": e} for _, e in rows).get("e")
    events_t: SqlType = prune(found, names) if isinstance(found, ListOf) else NULL
    columns = {k: v for k, v in profile_t.fields if v != NULL}
    fields = [st.StructField(ROW_COLUMN, st.LongType())]
    fields += [st.StructField(k, spark_type(v)) for k, v in columns.items()]
    if events_t != NULL:
        fields.append(st.StructField(_EVENTS, spark_type(events_t)))
    data = []
    for index, (profile, events) in enumerate(rows):
        row = [index] + [_tuples(conform(profile.get(k), t), t) for k, t in columns.items()]
        if events_t != NULL:
            row.append(_tuples(conform(events, events_t), events_t))
        data.append(tuple(row))
    frame = spark.createDataFrame(data, st.StructType(fields))
    source = SparkSource(frame, Struct.of(columns), events_t, _EVENTS, ordered=True)
    source.rows = [(p.get("segmentMembership"), p) for p, _ in rows]
    return source


def literal_source(profile: Mapping[str, Any], events: Any,
                   segments: Sequence[CompiledSegment]) -> tuple[Any, Struct, SqlType]:
    """One profile as a subquery of literals (``from_json`` of its JSON text), with its
    profile and events types: many such sources fit in one query, which is how the tests run
    hundreds of cases in one Spark job."""
    from sqlglot import exp
    names = needed_names(segments)
    check_profile(profile, events)
    profile_t = prune(infer_rows([profile]), names)
    assert isinstance(profile_t, Struct)
    found = infer_rows([{"e": events}]).get("e")
    events_t: SqlType = prune(found, names) if isinstance(found, ListOf) else NULL
    columns = {k: v for k, v in profile_t.fields if v != NULL}
    record = {k: conform(profile.get(k), t) for k, t in columns.items()}
    fields = dict(columns)
    if events_t != NULL:
        record[_EVENTS] = conform(events, events_t)
        fields[_EVENTS] = events_t
    if not fields:
        fields["__pql_empty"] = NULL
    parsed = exp.Anonymous(this="from_json", expressions=[
        exp.Literal.string(json.dumps(record)), exp.Literal.string(spark_ddl(Struct.of(fields)))])
    inner = exp.select(exp.alias_(parsed, "r"))
    query = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("r"))).from_(
        inner.subquery("t"))
    return query, Struct.of(columns), events_t


def spark_ddl(t: SqlType) -> str:
    """The Spark DDL type of ``t`` (``STRUCT<`a`: STRING, ...>``)."""
    if isinstance(t, ListOf):
        return f"ARRAY<{spark_ddl(t.item)}>"
    if isinstance(t, Struct):
        inner = ", ".join("`" + k.replace("`", "``") + "`: " + spark_ddl(v) for k, v in t.fields)
        return f"STRUCT<{inner}>"
    return {"string": "STRING", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
            "timestamp": "TIMESTAMP", "null": "STRING", "json": "STRING"}[t.kind]


def _tuples(value: Any, t: SqlType) -> Any:
    """Struct values as tuples in field order (what createDataFrame expects)."""
    if value is None:
        return None
    if isinstance(t, Struct):
        return tuple(_tuples(value.get(k), v) for k, v in t.fields)
    if isinstance(t, ListOf):
        return [_tuples(v, t.item) for v in value]
    return value


def plan_for(source: SparkSource, segments: Sequence[CompiledSegment], clock: Clock,
             extra: Sequence[tuple[str, Any]] = (), values: bool = False,
             view: str = _VIEW) -> Plan:
    """The run's query over the source's view."""
    return plan_query(segments, "spark", source.profile, source.events, clock, view, extra,
                      events_column=source.events_column,
                      order_by=ROW_COLUMN if source.ordered else None, values=values)


def run_plan(source: SparkSource, plan: Plan) -> Iterator[tuple[Any, ...]]:
    """The plan's rows (in source order for in-memory profiles)."""
    return run_sql(source, plan.query)


def _frame(source: SparkSource, query: Any) -> Any:
    source.frame.createOrReplaceTempView(_VIEW)
    return source.frame.sparkSession.sql(query.sql(dialect="spark"))


def run_sql(source: SparkSource, query: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query`` (a sqlglot SELECT reading the source as ``pql_profiles``)."""
    try:
        for row in _frame(source, query).toLocalIterator():
            yield tuple(row)
    except Exception as exc:  # a Spark failure at run time, in PQL's words
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise evaluation_error(f"the spark engine stopped: {_spark_message(exc)}") from None
        raise


def write_to(source: SparkSource, query: Any, path: str, fmt: str) -> None:
    """Write ``query``'s rows as a directory of ``parquet``, ``json`` (NDJSON) or ``text`` (one
    string column, a line per row) part files."""
    try:
        writer = _frame(source, query).write.mode("overwrite")
        {"parquet": writer.parquet, "json": writer.json, "text": writer.text}[fmt](path)
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise evaluation_error(f"the spark engine stopped: {_spark_message(exc)}") from None
        raise


def _spark_message(exc: Exception) -> str:
    """The first line of Spark's message that says what happened: past py4j's "An error
    occurred while calling o34.parquet." and without the Java exception's class name."""
    lines = [line.strip().removeprefix(": ") for line in str(exc).strip().splitlines()]
    lines = [line for line in lines if line and not line.startswith("An error occurred while")]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    head, sep, rest = text.partition(": ")
    if sep and "." in head and " " not in head:  # org.apache.spark.SparkException: ...
        text = rest
    return text[:500]


def segment_spark(segments: list[CompiledSegment], profiles: Any, clock: Clock,
                  previous: Mapping[str, Mapping[str, Any]] | None, id_key: str | None,
                  events_key: str, joined: Mapping[str, Any] | None = None
                  ) -> Iterator[dict[str, Any]]:
    """``segment(..., engine="spark")`` (``joined``: ``events`` and ``identity_key``)."""
    source = open_source(profiles, segments, events_key=events_key, id_key=id_key,
                         **(joined or {}))
    extra = membership_columns(source.profile, source.rows is None, previous is not None,
                               id_key, "spark")
    plan = plan_for(source, segments, clock, extra)
    return records(plan.segment_ids, len(extra), run_plan(source, plan), source.rows, clock,
                   previous, id_key)


def loads_json(value: Any) -> Any:
    """A JSON text column's value (None stays None)."""
    return json.loads(value) if isinstance(value, str) else value
