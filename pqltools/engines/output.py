"""Membership records built in SQL, for output that never passes through Python objects.

:func:`membership_select` wraps a run's query and computes, per profile, exactly what
:func:`pqltools.runtime.membership.membership_record` computes in the interpreter, on the
previous membership as JSON (DuckDB's JSON type, Spark's JSON text):

* the ``ups`` namespace is found case-insensitively (an exact ``ups`` first) and written back
  under the input's casing, last, after the other namespaces;
* each definition of the run gets the interpreter's transition (docs/semantics.md
  "Membership"): qualifying and not a member -> ``realized``; qualifying and a member ->
  ``existing``; a member no longer qualifying -> ``exited``; an ``exited`` entry younger than 30
  days (or without a readable time) is kept as it was; an entry that had a ``timestamp`` gets
  the new one;
* entries of audiences not in the run and every other namespace are carried over unchanged,
  minus ``exited`` entries more than 30 days old.

The previous membership is the profile's own ``segmentMembership`` (null fields, which a merged
JSON schema adds, removed first) or a row of a previous output (``--previous``), joined by id.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from pqltools.engines.dialects import DIALECTS, call, var
from pqltools.runtime.context import Clock
from pqltools.runtime.membership import EXITED_RETENTION_DAYS, NAMESPACE
from pqltools.runtime.timephrases import DAY, iso

__all__ = ["PRIOR_COLUMN", "count_select", "membership_select", "prior_json", "with_previous"]

_MEMBER = ("realized", "existing")
#: The inner query's column holding the previous membership as JSON (or NULL).
PRIOR_COLUMN = "__pql_prior"


def _s(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _dot(sql: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=sql, expression=exp.to_identifier(name))


class _Json:
    """JSON values as each dialect holds them: DuckDB's JSON type, Spark's JSON text."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.duck = dialect == "duckdb"

    def is_object(self, v: exp.Expression) -> exp.Expression:
        if self.duck:
            return exp.Coalesce(this=exp.EQ(this=call("json_type", v), expression=_s("OBJECT")),
                                expressions=[exp.false()])
        return exp.Not(this=exp.Is(this=call("json_object_keys", v), expression=exp.Null()))

    def as_map(self, v: exp.Expression) -> exp.Expression:
        """The object ``v`` (``{}`` when not an object) as a map of key -> JSON value."""
        obj = exp.Case(ifs=[exp.If(this=self.is_object(v.copy()), true=v)],
                       default=self.text("{}"))
        if self.duck:
            return call("json_transform", obj, _s('"MAP(VARCHAR, JSON)"'))
        return call("from_json", obj, _s("MAP<STRING, STRING>"))

    def text(self, literal: str) -> exp.Expression:
        if self.duck:
            return exp.Cast(this=_s(literal), to=exp.DataType.build("JSON", dialect="duckdb"))
        return _s(literal)

    def get(self, m: exp.Expression, key: exp.Expression) -> exp.Expression:
        if self.duck:
            return exp.Bracket(this=m, expressions=[key])
        return call("try_element_at", m, key)

    def field(self, v: exp.Expression, name: str) -> exp.Expression:
        """A field of the object ``v`` as text (NULL when absent)."""
        path = _s(f'$."{name}"' if self.duck else f"$.{name}")
        return call("json_extract_string" if self.duck else "get_json_object", v, path)

    def has_key(self, v: exp.Expression, name: str) -> exp.Expression:
        keys = call("json_keys" if self.duck else "json_object_keys", v)
        return exp.Coalesce(this=call("array_contains", keys, _s(name)),
                            expressions=[exp.false()])

    def object(self, fields: Sequence[tuple[str, exp.Expression]]) -> exp.Expression:
        if self.duck:
            args: list[exp.Expression] = []
            for k, val in fields:
                args += [_s(k), val]
            return call("json_object", *args)
        from pqltools.engines.events import struct_value
        return call("to_json", struct_value(self.dialect, fields))

    def from_entries(self, entries: exp.Expression) -> exp.Expression:
        """A JSON object from a list of ``{key, value}`` (values JSON), in list order."""
        if self.duck:
            return call("to_json", call("map_from_entries", entries))
        from pqltools.engines.events import struct_value
        parsed = DIALECTS["spark"].transform(entries, "__pql_kv", struct_value("spark", [
            ("key", _dot(var("__pql_kv"), "key")),
            ("value", call("parse_json", _dot(var("__pql_kv"), "value")))]))
        return call("to_json", call("map_from_entries", parsed))

    def entry(self, key: exp.Expression, value: exp.Expression) -> exp.Expression:
        from pqltools.engines.events import struct_value
        return struct_value(self.dialect, [("key", key), ("value", value)])

    def concat(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return call("list_concat" if self.duck else "concat", a, b)


def prior_json(column: exp.Expression, dialect: str) -> exp.Expression:
    """A stored ``segmentMembership`` column as JSON, without the null fields a merged schema
    gives the keys a profile lacks."""
    if dialect == "duckdb":
        return call("json_merge_patch", exp.Cast(this=_s("{}"), to=exp.DataType.build("JSON")),
                    call("to_json", column))
    return call("to_json", column)  # Spark's to_json leaves null fields out


def with_previous(inner: exp.Select, view: str, dialect: str) -> exp.Select:
    """``inner`` (which has ``__pql_id``) with :data:`PRIOR_COLUMN` from a previous output
    (``view``: rows ``id``, ``segmentMembership``), the last row of each id: as the interpreter,
    a profile whose id is not there (or that has none) had no membership."""
    rank = exp.Window(this=exp.RowNumber())
    rows = exp.select(exp.alias_(exp.column("id"), "__pql_pid", quoted=True),
                      exp.alias_(prior_json(exp.column("segmentMembership"), dialect),
                                 "__pql_sm", quoted=True),
                      exp.alias_(rank if dialect == "duckdb" else call(
                          "monotonically_increasing_id"), "__pql_rank", quoted=True)
                      ).from_(exp.table_(view))
    last = call("arg_max" if dialect == "duckdb" else "max_by", exp.column("__pql_sm"),
                exp.column("__pql_rank"))
    grouped = exp.select(exp.column("__pql_pid"), exp.alias_(last, "__pql_sm", quoted=True)
                         ).from_(rows.subquery("r")).group_by(exp.column("__pql_pid"))
    prior = exp.Coalesce(this=_col("__pql_sm", "v"), expressions=[_Json(dialect).text("{}")])
    return exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("q")),
                      exp.alias_(prior, PRIOR_COLUMN, quoted=True)).from_(
        inner.subquery("q")).join(grouped.subquery("v"), on=exp.EQ(
            this=_col("__pql_id"), expression=_col("__pql_pid", "v")), join_type="left")


def _col(name: str, table: str = "q") -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True), table=exp.to_identifier(table))


def _expired(js: _Json, v: exp.Expression, clock: Clock, dialect: str) -> exp.Expression:
    """``v`` is an ``exited`` entry whose lastQualificationTime is over 30 days old."""
    when = DIALECTS[dialect].iso_to_ms(js.field(v.copy(), "lastQualificationTime"))
    return exp.Coalesce(this=exp.and_(
        exp.EQ(this=exp.Lower(this=js.field(v.copy(), "status")), expression=_s("exited")),
        exp.LT(this=when, expression=exp.Literal.number(
            clock.now - EXITED_RETENTION_DAYS * DAY))), expressions=[exp.false()])


def membership_select(inner: exp.Select, segment_ids: Sequence[str], seg_columns: Sequence[str],
                      dialect: str, clock: Clock) -> exp.Select:
    """``SELECT id, segmentMembership FROM (inner) q``: ``inner`` has ``__pql_id``,
    :data:`PRIOR_COLUMN` (the previous membership as JSON, or NULL) and one Boolean column per
    definition; ``segmentMembership`` is JSON (see the module docstring)."""
    js = _Json(dialect)
    sql = DIALECTS[dialect]
    # level 1: the previous membership as a map of namespaces, and the key of `ups` in it
    prior = js.as_map(exp.Coalesce(this=_col(PRIOR_COLUMN), expressions=[js.text("{}")]))
    keys = call("map_keys", _col("__pql_ns", "m"))
    like = sql.filter(keys.copy(), "__pql_k", exp.EQ(this=exp.Lower(this=var("__pql_k")),
                                                     expression=_s(NAMESPACE)))
    first = call("list_extract", like, exp.Literal.number(1)) if js.duck else call(
        "try_element_at", like, exp.Literal.number(1))
    ups_key = exp.Case(ifs=[exp.If(this=exp.Coalesce(this=call("array_contains", keys, _s(
        NAMESPACE)), expressions=[exp.false()]), true=_s(NAMESPACE))],
        default=exp.Coalesce(this=first, expressions=[_s(NAMESPACE)]))
    level1 = exp.select(_col("__pql_id"), *(_col(c) for c in seg_columns),
                        exp.alias_(prior, "__pql_ns", quoted=True)).from_(inner.subquery("q"))
    level2 = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("m")),
                        exp.alias_(ups_key, "__pql_key", quoted=True)).from_(
        level1.subquery("m"))
    # level 3: the old entries of `ups`
    old = js.as_map(js.get(_col("__pql_ns", "n"), _col("__pql_key", "n")))
    level3 = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("n")),
                        exp.alias_(old, "__pql_old", quoted=True)).from_(level2.subquery("n"))
    stamp = _s(iso(clock.now))
    entries: list[exp.Expression] = []
    for seg_id, column in zip(segment_ids, seg_columns):
        prior_entry = js.get(_col("__pql_old", "o"), _s(seg_id))
        before = exp.Lower(this=js.field(prior_entry.copy(), "status"))
        member = exp.Coalesce(this=exp.In(this=before.copy(), expressions=[
            _s(s) for s in _MEMBER]), expressions=[exp.false()])
        qualifies = exp.Coalesce(this=_col(column, "o"), expressions=[exp.false()])
        status = exp.Case(ifs=[exp.If(this=qualifies.copy(), true=exp.Case(
            ifs=[exp.If(this=member.copy(), true=_s("existing"))], default=_s("realized")))],
            default=_s("exited"))
        fields = [("status", status), ("lastQualificationTime", stamp.copy())]
        new = exp.Case(ifs=[exp.If(this=js.has_key(prior_entry.copy(), "timestamp"),
                                   true=js.object([*fields, ("timestamp", stamp.copy())]))],
                       default=js.object(fields))
        kept = exp.and_(exp.EQ(this=before.copy(), expression=_s("exited")),
                        exp.Not(this=_expired(js, prior_entry.copy(), clock, dialect)))
        value = exp.Case(ifs=[exp.If(this=exp.or_(qualifies, member), true=new),
                              exp.If(this=kept, true=prior_entry.copy())])
        entries.append(js.entry(_s(seg_id), value))
    present = sql.filter(exp.Array(expressions=entries), "__pql_e", exp.Not(this=exp.Is(
        this=_dot(var("__pql_e"), "value"), expression=exp.Null())))
    ids = exp.Array(expressions=[_s(i) for i in segment_ids])
    carried = sql.filter(call("map_entries", _col("__pql_old", "o")), "__pql_e", exp.And(
        this=exp.Not(this=exp.Coalesce(this=call("array_contains", ids, _dot(
            var("__pql_e"), "key")), expressions=[exp.false()])),
        expression=exp.Not(this=_expired(js, _dot(var("__pql_e"), "value"), clock, dialect))))
    ups = js.entry(_col("__pql_key", "o"), js.from_entries(js.concat(present, carried)))
    others = sql.transform(
        sql.filter(call("map_entries", _col("__pql_ns", "o")), "__pql_n",
                   exp.NEQ(this=_dot(var("__pql_n"), "key"), expression=_col("__pql_key", "o"))),
        "__pql_n", js.entry(_dot(var("__pql_n"), "key"), exp.Case(ifs=[exp.If(
            this=js.is_object(_dot(var("__pql_n"), "value")),
            true=js.from_entries(sql.filter(
                call("map_entries", js.as_map(_dot(var("__pql_n"), "value"))), "__pql_x",
                exp.Not(this=_expired(js, _dot(var("__pql_x"), "value"), clock, dialect)))))],
            default=_dot(var("__pql_n"), "value"))))
    membership = js.from_entries(js.concat(others, exp.Array(expressions=[ups])))
    return exp.select(exp.alias_(_col("__pql_id", "o"), "id"),
                      exp.alias_(membership, "segmentMembership")).from_(level3.subquery("o"))


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
        inner: exp.Expression = e.this
        return inner
    return e


def _paren_of(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e) if isinstance(e, (exp.And, exp.Or)) else e

