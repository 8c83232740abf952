"""A separate events input joined to its profiles by identity, in SQL (DuckDB and Spark).

``segment(..., events=...)`` and ``pql eval --events FILE`` take the events apart from the
profiles: one event per row (an NDJSON line, a Parquet row, a relation or DataFrame row), its
owner at the dotted ``identity_key`` (default ``profileId``). The rule is the interpreter's
(``pql eval --events``): an event belongs to the profile whose id
(:func:`pqltools.runtime.membership.profile_id` with ``id_key``) equals the event's identity as
text; a profile's events are its own (under ``events``) followed by those of the events input,
in input order (files by name, then line); an event whose identity matches no profile, or that
has none, belongs to nobody.

:func:`join_query` wraps the profile relation: ``SELECT p.*, <its events> AS __pql_joined FROM
profiles p LEFT JOIN (events grouped by owner) g ON <id of p> = g.owner``; the run's query then
reads the joined relation exactly as it reads nested events. Nothing passes through Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from pqltools.engines.dialects import DIALECTS, call, lam, var
from pqltools.engines.types import (
    BIGINT,
    BOOLEAN,
    DOUBLE,
    JSON,
    NULL,
    STRING,
    TIMESTAMP,
    ListOf,
    SqlType,
    Struct,
)
from pqltools.runtime.membership import ID_FIELDS

__all__ = ["JOINED_EVENTS", "id_sql", "join_query"]

#: The column of the joined relation holding each profile's events (its own and the input's).
JOINED_EVENTS = "__pql_joined"
_OWNER = "__pql_owner"
_EVENT = "__pql_event"
_LIST = "__pql_list"


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _column(alias: str, name: str) -> exp.Column:
    return exp.column(_ident(name), table=exp.to_identifier(alias))


def _dot(sql: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=sql, expression=_ident(name))


def _typed_null(t: SqlType, dialect: str) -> exp.Expression:
    return exp.Cast(this=exp.null(), to=sql_type(t, dialect))


def sql_type(t: SqlType, dialect: str) -> exp.DataType:
    """``t`` as a sqlglot type node for ``dialect``."""
    if dialect == "duckdb":
        from pqltools.engines.schema import duckdb_type_name
        return exp.DataType.build(duckdb_type_name(t), dialect="duckdb")
    from pqltools.engines.spark_engine import spark_ddl
    return exp.DataType.build(spark_ddl(t), dialect="spark")


def struct_value(dialect: str, fields: Sequence[tuple[str, exp.Expression]]) -> exp.Expression:
    """A struct value with the named fields (``struct_pack`` / ``named_struct``)."""
    if dialect == "duckdb":
        return call("struct_pack", *(exp.PropertyEQ(this=_ident(k), expression=v)
                                     for k, v in fields))
    args: list[exp.Expression] = []
    for k, v in fields:
        args += [exp.Literal.string(k), v]
    return call("named_struct", *args)


def _text(sql: exp.Expression, t: SqlType | None, *, any_scalar: bool,
          dialect: str = "duckdb") -> exp.Expression | None:
    """The value as Python's ``str()`` writes it, for the types an id may have (None: not an
    id). Without ``any_scalar`` only strings and integers count, as in ``profile_id``."""
    if t == STRING:
        return sql
    if any_scalar and t == JSON and dialect == "duckdb":
        # values of several JSON types (5 here, "x" there): the scalars' text
        scalar = exp.In(this=call("json_type", sql.copy()), expressions=[
            exp.Literal.string(k) for k in ("VARCHAR", "BIGINT", "UBIGINT", "DOUBLE")])
        return exp.Case(ifs=[exp.If(this=scalar, true=call("json_extract_string", sql.copy(),
                                                           exp.Literal.string("$")))])
    if any_scalar and t == JSON:
        return exp.Cast(this=sql, to=exp.DataType.build("VARCHAR"))
    if t == BIGINT or (any_scalar and t in (DOUBLE, TIMESTAMP)):
        return exp.Cast(this=sql, to=exp.DataType.build("VARCHAR"))
    if any_scalar and t == BOOLEAN:
        return exp.Case(ifs=[exp.If(this=sql.copy(), true=exp.Literal.string("True")),
                             exp.If(this=exp.Not(this=sql.copy()),
                                    true=exp.Literal.string("False"))])
    return None


def _first(items: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "duckdb":
        return call("list_extract", items, exp.Literal.number(1))
    return call("try_element_at", items, exp.Literal.number(1))


def id_sql(row: Struct, alias: str, key: str | None, dialect: str) -> exp.Expression:
    """The id of the row ``alias`` (of type ``row``) as text, by the interpreter's rule
    (:func:`pqltools.runtime.membership.profile_id`): the dotted ``key`` when given, else the
    first of ``_id``, ``personID``, ``personId``, ``id`` that is a string or an integer, else
    the primary identity of ``identityMap``, else its first identity; NULL when there is none."""
    if key is not None:
        parts = key.split(".")
        t: SqlType | None = row
        sql: exp.Expression = _column(alias, parts[0])
        for index, part in enumerate(parts):
            t = t.get(part) if isinstance(t, Struct) else None
            if index:
                sql = _dot(sql, part)
        found = _text(sql, t, any_scalar=True, dialect=dialect)
        return found if found is not None else exp.Cast(this=exp.null(),
                                                        to=exp.DataType.build("VARCHAR"))
    options = [text for text in (_text(_column(alias, name), row.get(name), any_scalar=False)
                                 for name in ID_FIELDS) if text is not None]
    options += _identity_map(row, alias, dialect)
    if not options:
        return exp.Cast(this=exp.null(), to=exp.DataType.build("VARCHAR"))
    return options[0] if len(options) == 1 else exp.Coalesce(this=options[0],
                                                              expressions=options[1:])


def _identity_map(row: Struct, alias: str, dialect: str) -> list[exp.Expression]:
    """``identityMap``'s primary identity (first over the namespaces), then its first one."""
    namespaces = row.get("identityMap")
    if not isinstance(namespaces, Struct):
        return []
    sql = DIALECTS[dialect]
    primary, first = [], []
    for name, t in namespaces.fields:
        if not (isinstance(t, ListOf) and isinstance(t.item, Struct)
                and t.item.get("id") == STRING):
            continue
        items = _dot(_column(alias, "identityMap"), name)
        has_id = exp.Not(this=exp.Is(this=_dot(var("x"), "id"), expression=exp.Null()))
        if t.item.get("primary") == BOOLEAN:
            chosen = exp.And(this=exp.EQ(this=_dot(var("x"), "primary"),
                                         expression=exp.Boolean(this=True)),
                             expression=has_id.copy())
            primary.append(_first(sql.transform(sql.filter(items.copy(), "x", chosen), "x",
                                                _dot(var("x"), "id")), dialect))
        first.append(_first(sql.transform(sql.filter(items, "x", has_id), "x",
                                          _dot(var("x"), "id")), dialect))
    return primary + first


def reshape(sql: exp.Expression, have: SqlType, want: SqlType, dialect: str,
            depth: int = 0) -> exp.Expression:
    """A value of type ``have`` as type ``want`` (a wider type from :func:`types.merge`):
    struct fields it lacks are null, numbers widen."""
    if have == want:
        return sql
    if isinstance(want, Struct):
        if not isinstance(have, Struct):
            return _typed_null(want, dialect)
        fields = []
        for name, t in want.fields:
            found = have.get(name)
            fields.append((name, _typed_null(t, dialect) if found is None
                           else reshape(_dot(sql.copy(), name), found, t, dialect, depth)))
        return exp.Case(ifs=[exp.If(this=exp.Is(this=sql.copy(), expression=exp.Null()),
                                    true=_typed_null(want, dialect))],
                        default=struct_value(dialect, fields))
    if isinstance(want, ListOf):
        if not isinstance(have, ListOf):
            return _typed_null(want, dialect)
        x = f"__pql_x{depth}"
        return DIALECTS[dialect].transform(sql, x, reshape(var(x), have.item, want.item,
                                                           dialect, depth + 1))
    if have == NULL:
        return _typed_null(want, dialect)
    return exp.Cast(this=sql, to=sql_type(want, dialect))


def _grouped(dialect: str, events_view: str, event: Struct, identity_key: str,
             order: Sequence[exp.Expression], row: Struct) -> exp.Select:
    """``SELECT owner, <events of that owner in order> FROM events GROUP BY owner`` (``row``:
    the type of an events row, where the owner is found)."""
    alias = "e"
    keys = [f"__pql_k{index}" for index in range(len(order))]
    value = struct_value(dialect, [(name, _column(alias, name)) for name, _ in event.fields])
    rows = exp.select(exp.alias_(id_sql(row, alias, identity_key, dialect), _OWNER,
                                 quoted=True),
                      exp.alias_(value, _EVENT, quoted=True),
                      *(exp.alias_(o, k, quoted=True) for o, k in zip(order, keys))
                      ).from_(exp.table_(events_view, alias=alias))
    owner = exp.column(_ident(_OWNER))
    if dialect == "duckdb":
        ordered = exp.Order(expressions=[exp.Ordered(this=exp.column(_ident(k))) for k in keys])
        listed: exp.Expression = call("list", exp.Order(this=exp.column(_ident(_EVENT)),
                                                        expressions=ordered.expressions))
    else:
        pairs = struct_value(dialect, [(k, exp.column(_ident(k))) for k in keys]
                             + [("e", exp.column(_ident(_EVENT)))])
        compare: exp.Expression = exp.Literal.number(0)
        for k in reversed(keys):
            left, right = _dot(var("l"), k), _dot(var("r"), k)
            compare = exp.Case(ifs=[
                exp.If(this=exp.LT(this=left.copy(), expression=right.copy()),
                       true=exp.Literal.number(-1)),
                exp.If(this=exp.GT(this=left, expression=right), true=exp.Literal.number(1))],
                default=compare)
        collected = call("array_sort", call("collect_list", pairs), lam(["l", "r"], compare))
        listed = DIALECTS[dialect].transform(collected, "x", _dot(var("x"), "e"))
    return exp.select(owner.copy(), exp.alias_(listed, _LIST, quoted=True)).from_(
        rows.subquery("r")).where(exp.Not(this=exp.Is(this=owner.copy(),
                                                        expression=exp.Null()))).group_by(owner)


def join_query(dialect: str, profiles_view: str, profile: Struct,
               nested: tuple[str, SqlType] | None, events_view: str, event: Struct,
               identity_key: str, id_key: str | None, order: Sequence[exp.Expression],
               owner: Struct | None = None) -> tuple[exp.Select, SqlType]:
    """The profiles with their events joined, and the type of the :data:`JOINED_EVENTS` column.

    ``profile`` is the profile columns' type (without the nested events column ``nested``:
    its name and type, or None), ``event`` the type of an event as the definitions read it,
    ``owner`` the type of an events row where its identity is found (default ``event``),
    ``order`` the expressions (over the events row ``e``) giving the input order.
    """
    joined_t: SqlType = ListOf(event)
    listed: exp.Expression = _column("g", _LIST)
    if nested is not None and isinstance(nested[1], ListOf):
        from pqltools.engines.types import merge
        column, nested_t = nested
        merged = merge(nested_t, joined_t)
        own = reshape(_column("p", column), nested_t, merged, dialect)
        more = reshape(listed, joined_t, merged, dialect)
        both = call("list_concat" if dialect == "duckdb" else "concat", own.copy(), more.copy())
        listed = exp.Case(ifs=[
            exp.If(this=exp.Is(this=_column("g", _LIST), expression=exp.Null()), true=own),
            exp.If(this=exp.Is(this=_column("p", column), expression=exp.Null()), true=more)],
            default=both)
        joined_t = merged
    grouped = _grouped(dialect, events_view, event, identity_key, order, owner or event)
    on = exp.EQ(this=id_sql(profile, "p", id_key, dialect), expression=_column("g", _OWNER))
    query = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("p")),
                       exp.alias_(listed, JOINED_EVENTS, quoted=True)).from_(
        exp.table_(profiles_view, alias="p")).join(grouped.subquery("g"), on=on,
                                                     join_type="left")
    return query, joined_t
