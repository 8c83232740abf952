"""Membership records built in SQL, for output that never passes through Python objects.

:func:`membership_select` wraps a run's query: for every definition it reads the previous status
and ``lastQualificationTime`` from the profile's own ``segmentMembership.ups.<id>`` (when the data
has it) and applies the interpreter's transitions (docs/semantics.md "Membership"): qualifying
and not a member -> ``realized``; qualifying and a member -> ``existing``; a member no longer
qualifying -> ``exited``; an ``exited`` entry younger than 30 days is kept. The result has two
columns, ``id`` and ``segmentMembership`` (``{"ups": {id: {status, lastQualificationTime}}}``,
a map holding only the entries that exist). Entries of other namespaces and of audiences not in
the run are not carried over here (``pqltools.segment`` does carry them).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from pqltools.engines.compiler import SqlCompiler
from pqltools.engines.dialects import DIALECTS, call, var
from pqltools.engines.types import STRING, Struct
from pqltools.runtime.context import Clock
from pqltools.runtime.membership import EXITED_RETENTION_DAYS
from pqltools.runtime.timephrases import DAY, iso
from pqltools.syntax import ast

__all__ = ["count_select", "membership_select", "previous_columns"]

_MEMBER = ("realized", "existing")


def previous_columns(profile: Struct, segment_ids: Sequence[str], dialect: str, clock: Clock
                     ) -> list[tuple[str, exp.Expression]]:
    """Per definition: its previous status (lower case) and lastQualificationTime in ms."""
    compiler = SqlCompiler(dialect, profile, clock=clock)
    out: list[tuple[str, exp.Expression]] = []
    node = ast.Name("segmentMembership")
    for index, seg_id in enumerate(segment_ids):
        entry = compiler._root()
        for name in ("segmentMembership", "ups", seg_id):
            entry = compiler._field(entry, name, node)
        status = compiler._field(entry, "status", node)
        when = compiler._field(entry, "lastQualificationTime", node)
        out.append((f"__pql_prev{index}", exp.Lower(this=status.sql) if status.type == STRING
                    else exp.Cast(this=exp.null(), to=exp.DataType.build("VARCHAR"))))
        out.append((f"__pql_prevtime{index}", DIALECTS[dialect].iso_to_ms(when.sql)
                    if when.type == STRING else exp.Cast(this=exp.null(),
                                                          to=exp.DataType.build("BIGINT"))))
    return out


def _col(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True), table=exp.to_identifier("q"))


def membership_select(inner: exp.Select, segment_ids: Sequence[str], seg_columns: Sequence[str],
                      dialect: str, clock: Clock) -> exp.Select:
    """``SELECT id, segmentMembership FROM (inner) q`` (inner has ``__pql_id``, the previous
    columns of :func:`previous_columns` and one Boolean column per definition)."""
    stamp = exp.Literal.string(iso(clock.now))
    entries = []
    for index, (seg_id, column) in enumerate(zip(segment_ids, seg_columns)):
        prev, prev_time = _col(f"__pql_prev{index}"), _col(f"__pql_prevtime{index}")
        member = exp.In(this=prev.copy(), expressions=[exp.Literal.string(s) for s in _MEMBER])
        kept = exp.And(this=exp.EQ(this=prev.copy(), expression=exp.Literal.string("exited")),
                       expression=exp.GTE(this=prev_time.copy(), expression=exp.Literal.number(
                           clock.now - EXITED_RETENTION_DAYS * DAY)))
        status = exp.Case(ifs=[
            exp.If(this=_col(column), true=exp.Case(
                ifs=[exp.If(this=member.copy(), true=exp.Literal.string("existing"))],
                default=exp.Literal.string("realized"))),
            exp.If(this=member.copy(), true=exp.Literal.string("exited")),
            exp.If(this=kept.copy(), true=exp.Literal.string("exited")),
        ], default=exp.Cast(this=exp.null(), to=exp.DataType.build("VARCHAR")))
        when = exp.Case(ifs=[exp.If(this=exp.And(this=exp.Not(this=_col(column)),
                                                 expression=kept.copy()),
                                    true=_iso_of(prev_time.copy(), dialect))], default=stamp)
        value = _struct(dialect, [("status", status), ("lastQualificationTime", when)])
        entries.append(_struct(dialect, [("key", exp.Literal.string(seg_id)), ("value", value)]))
    present = DIALECTS[dialect].filter(
        exp.Array(expressions=entries), "__pql_m",
        exp.Not(this=exp.Is(this=exp.Dot(this=exp.Dot(this=var("__pql_m"),
                                                          expression=exp.to_identifier("value")),
                                                 expression=exp.to_identifier("status")),
                            expression=exp.Null())))
    ups = call("map_from_entries", present)
    membership = _struct(dialect, [("ups", ups)])
    return exp.select(exp.alias_(_col("__pql_id"), "id"),
                      exp.alias_(membership, "segmentMembership")).from_(inner.subquery("q"))


def _struct(dialect: str, fields: list[tuple[str, exp.Expression]]) -> exp.Expression:
    if dialect == "duckdb":
        return call("struct_pack", *(exp.PropertyEQ(this=exp.to_identifier(k), expression=v)
                                     for k, v in fields))
    args: list[exp.Expression] = []
    for k, v in fields:
        args += [exp.Literal.string(k), v]
    return call("named_struct", *args)


def _iso_of(ms: exp.Expression, dialect: str) -> exp.Expression:
    ts = DIALECTS[dialect].ms_to_timestamp(ms)
    if dialect == "duckdb":
        return call("strftime", ts, exp.Literal.string("%Y-%m-%dT%H:%M:%S.%g+00:00"))
    return call("date_format", ts, exp.Literal.string("yyyy-MM-dd'T'HH:mm:ss.SSS'+00:00'"))


def count_select(inner: exp.Select, seg_columns: Sequence[str]) -> exp.Select:
    """How many profiles qualify per definition: ``SELECT count_if(seg) ... FROM (inner) q``,
    or for one definition ``SELECT count(*) FROM source WHERE condition`` so that the engine can
    push the filter into the scan (Parquet statistics, dictionary filters)."""
    if len(seg_columns) == 1 and len(inner.expressions) == 1 and not inner.args.get("order"):
        condition = _where_form(inner.expressions[0].this.copy())
        from_ = inner.args["from_"].copy()
        query = exp.select(exp.alias_(exp.Count(this=exp.Star()), seg_columns[0]))
        query.set("from_", from_)
        return query.where(condition)
    return exp.select(*(exp.alias_(call("count_if", _col(c)), c) for c in seg_columns)).from_(
        inner.subquery("q"))


def _where_form(e: exp.Expression) -> exp.Expression:
    """A condition without the ``COALESCE(x, FALSE)`` wrappers of its top AND/OR tree: in WHERE,
    NULL and FALSE filter alike, and AND/OR never turn a NULL operand into TRUE wrongly."""
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, (exp.And, exp.Or)):
        return type(e)(this=_paren_of(_where_form(e.this)),
                       expression=_paren_of(_where_form(e.expression)))
    if isinstance(e, exp.Coalesce) and len(e.expressions) == 1 and isinstance(
            e.expressions[0], exp.Boolean) and not e.expressions[0].this:
        return e.this
    return e


def _paren_of(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e) if isinstance(e, (exp.And, exp.Or)) else e

