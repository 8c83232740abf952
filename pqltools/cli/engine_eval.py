"""``pql eval --engine duckdb|spark``: the run as one SQL query (docs/engines.md).

PROFILES is a path or glob of NDJSON or Parquet files. ``--count`` prints how many profiles
qualify (computed by the engine: one number, or ``id<TAB>count`` lines for several
definitions); ``-o FILE.parquet|FILE.ndjson`` writes ``{"id", "segmentMembership"}`` records
built in SQL (Spark writes a directory of part files); otherwise the ids of qualifying profiles
or, with ``--membership``, the membership records are printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import click
from sqlglot import exp

from pqltools.engines.dialects import call
from pqltools.errors import NO_SPAN, DefinitionError, PQLError
from pqltools.runtime.context import Clock
from pqltools.runtime.membership import CompiledSegment

__all__ = ["run_engine"]

OUTPUT_SUFFIXES = (".parquet", ".ndjson", ".jsonl", ".json")
#: The view a ``--previous`` file is read as, for ``-o``.
PREVIOUS_VIEW = "pql_previous_input"


def run_engine(engine: str, segments: Sequence[CompiledSegment], profiles: str, *,
               clock: Clock, events_key: str, id_key: str | None,
               prior: dict[str, Any] | None, membership: bool, count: bool,
               output: Path | None, out: IO[str], events: str | None = None,
               identity_key: str = "profileId", previous: Path | None = None) -> None:
    """Evaluate ``segments`` over ``profiles`` on a SQL engine and print or write the result
    (``events``: a separate events file or glob, joined on ``identity_key`` in SQL)."""
    if profiles == "-":
        raise click.UsageError(f"--engine {engine} reads files: give PROFILES as a path or glob "
                               "of NDJSON or Parquet files, not standard input")
    if output is not None and not output.name.lower().endswith(OUTPUT_SUFFIXES):
        raise click.UsageError("-o/--output must end in .parquet or .ndjson")
    try:
        if engine == "duckdb":
            _DuckDB(segments, profiles, clock, events_key, id_key, events, identity_key).run(
                prior, membership, count, output, out, previous)
        else:
            _Spark(segments, profiles, clock, events_key, id_key, events, identity_key).run(
                prior, membership, count, output, out, previous)
    except PQLError as exc:
        from pqltools.engines.compiler import REFUSED
        from pqltools.engines.inputs import DATA_CODE
        first = exc.diagnostics[0] if exc.diagnostics else None
        # an error of the run as a whole (no place in the query): its message alone
        whole_run = (first is not None and first.span == NO_SPAN and exc.text is None
                     and not isinstance(exc, DefinitionError))
        click.echo(first.message if whole_run and first is not None else str(exc), err=True)
        # a refused construct or unreadable data: nothing was evaluated (exit 2, like a usage
        # error); an evaluation error of the engine: 1, like an unusable profile
        sys.exit(2 if first is not None and first.code in (REFUSED, DATA_CODE) else 1)


class _Engine:
    dialect = ""

    def __init__(self, segments: Sequence[CompiledSegment], profiles: str, clock: Clock,
                 events_key: str, id_key: str | None, events: str | None = None,
                 identity_key: str = "profileId") -> None:
        self.segments = list(segments)
        self.clock = clock
        self.id_key = id_key
        self.events_key = events_key
        self.events = events
        self.identity_key = identity_key
        self.source = self.open(profiles, events_key)

    @property
    def keys(self) -> dict[str, Any]:
        return {"events_key": self.events_key, "id_key": self.id_key, "events": self.events,
                "identity_key": self.identity_key}

    def open(self, profiles: str, events_key: str) -> Any:
        raise NotImplementedError

    def plan(self, extra: list[tuple[str, exp.Expression]]) -> Any:
        raise NotImplementedError

    def rows(self, query: exp.Select) -> Any:
        raise NotImplementedError

    def write(self, query: exp.Select, output: Path) -> None:
        raise NotImplementedError

    def previous_view(self, path: Path) -> str:
        """Register a previous output file (NDJSON ``{"id", "segmentMembership"}``) as a view."""
        raise NotImplementedError

    def run(self, prior: dict[str, Any] | None, membership: bool, count: bool,
            output: Path | None, out: IO[str], previous: Path | None = None) -> None:
        from pqltools.engines.api import id_expression, membership_columns, records
        from pqltools.engines.compiler import PROFILE_ALIAS
        from pqltools.engines.output import (
            PRIOR_COLUMN,
            count_select,
            membership_select,
            prior_json,
            with_previous,
        )
        ids = [s.id for s in self.segments]
        if count:
            plan = self.plan([])
            (row,) = list(self.rows(count_select(plan.query, plan.columns)))
            for seg_id, n in zip(ids, row):
                out.write(f"{n}\n" if len(ids) == 1 else f"{seg_id}\t{n}\n")
            return
        id_sql = id_expression(self.source.profile, self.id_key, self.dialect)
        if output is not None:
            extra = [("__pql_id", id_sql)]
            if previous is None:
                stored = self.source.profile.get("segmentMembership")
                extra.append((PRIOR_COLUMN, prior_json(exp.column(
                    exp.to_identifier("segmentMembership", quoted=True),
                    table=exp.to_identifier(PROFILE_ALIAS)), self.dialect)
                    if stored is not None else exp.null()))
            plan = self.plan(extra)
            seg_columns = plan.columns[len(extra):]
            inner = plan.query if previous is None else with_previous(
                plan.query, self.previous_view(previous), self.dialect)
            self.write(membership_select(inner, ids, seg_columns, self.dialect, self.clock),
                       output)
            return
        extra = membership_columns(self.source.profile, True, True, self.id_key, self.dialect)
        plan = self.plan(extra)
        rows = list(self.rows(plan.query))
        pids = [row[1] for row in rows]
        for pid, record in zip(pids, records(plan.segment_ids, len(extra), rows, None,
                                             self.clock, prior, self.id_key)):
            if membership:
                out.write(json.dumps({"id": pid, "segmentMembership": record}) + "\n")
                continue
            entries = record.get("ups", {})
            for seg_id in ids:
                if entries.get(seg_id, {}).get("status") in ("realized", "existing"):
                    out.write(f"{pid}\n" if len(ids) == 1 else f"{pid}\t{seg_id}\n")


class _DuckDB(_Engine):
    dialect = "duckdb"

    def open(self, profiles: str, events_key: str) -> Any:
        from pqltools.engines import duckdb_engine as dd
        return dd.open_source(profiles, self.segments, **self.keys)

    def plan(self, extra: list[tuple[str, exp.Expression]]) -> Any:
        from pqltools.engines import duckdb_engine as dd
        return dd.plan_for(self.source, self.segments, self.clock, extra)

    def rows(self, query: exp.Select) -> Any:
        from pqltools.engines import duckdb_engine as dd
        return dd.run_sql(self.source, query)

    def previous_view(self, path: Path) -> str:
        self.source.con.read_json(str(path), columns={"id": "VARCHAR",
                                                      "segmentMembership": "JSON"},
                                  format="newline_delimited").create_view(PREVIOUS_VIEW)
        return PREVIOUS_VIEW

    def write(self, query: exp.Select, output: Path) -> None:
        from pqltools.engines import duckdb_engine as dd
        fmt = "parquet" if output.name.lower().endswith(".parquet") else "json"
        dd.copy_to(self.source, query, str(output), fmt)


class _Spark(_Engine):
    dialect = "spark"

    def open(self, profiles: str, events_key: str) -> Any:
        from pqltools.engines import spark_engine as se
        return se.open_source(profiles, self.segments, **self.keys)

    def plan(self, extra: list[tuple[str, exp.Expression]]) -> Any:
        from pqltools.engines import spark_engine as se
        return se.plan_for(self.source, self.segments, self.clock, extra)

    def rows(self, query: exp.Select) -> Any:
        from pqltools.engines import spark_engine as se
        return se.run_sql(self.source, query)

    def previous_view(self, path: Path) -> str:
        frame = self.source.frame.sparkSession.read.json(str(path))
        if "segmentMembership" not in frame.columns:
            frame = frame.selectExpr("id", "CAST(NULL AS MAP<STRING, STRING>) AS segmentMembership")
        frame.createOrReplaceTempView(PREVIOUS_VIEW)
        return PREVIOUS_VIEW

    def write(self, query: exp.Select, output: Path) -> None:
        from pqltools.engines import spark_engine as se
        if output.name.lower().endswith(".parquet"):
            se.write_to(self.source, query, str(output), "parquet")
            return
        # one JSON object per line, segmentMembership as an object (it is JSON text here)
        record = call("to_json", call("named_struct", exp.Literal.string("id"),
                                      exp.column("id"),
                                      exp.Literal.string("segmentMembership"),
                                      call("parse_json", exp.column("segmentMembership"))))
        se.write_to(self.source, exp.select(exp.alias_(record, "value")).from_(
            query.subquery("r")), str(output), "text")
