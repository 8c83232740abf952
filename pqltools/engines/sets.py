"""The set methods of lists compiled to SQL: ``intersects``, ``intersection``, ``subsetOf`` and
``supersetOf`` (and ``includes``, a membership test of the same kind), with the interpreter's
meaning (:mod:`pqltools.runtime.functions`).

The interpreter reads both operands as lists (``elements``: a single value is a one-element
list, null no list at all) and finds an element ``x`` of the receiver in the argument when
``scalar_equal(y, x)`` for some element ``y`` of the argument: ``x`` is converted to ``y``'s type,
so ``["1"].intersects([1])`` holds and ``[1].intersects(["1"])`` does not. A null element is in
no list. Here each membership test is the compiler's own ``=`` with the argument's element on
the left (:meth:`SqlCompiler._relation`), so the conversions, and the refusals where a string
column would need converting at run time, are exactly those of ``=``. Elements of a literal list
are tested one by one, each a literal (a numeric string literal converts at compile time).

* ``intersects``: false when either side is null; else whether some element is found.
* ``intersection``: null when either side is null or nothing is found; else the receiver's
  found elements, first occurrences, in the receiver's order.
* ``subsetOf``: false when either side is null; else whether every element of the receiver
  (a null element never) is found; ``supersetOf`` swaps the operands. These two tell an empty
  list (true) from null (false), so an operand that SQL may read as one where the interpreter
  has the other is refused (:func:`_null_exact`).

Objects, lists of lists and lists mixing JSON types are refused by name.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from pqltools.analysis.scope import NameKind
from pqltools.engines.compiler import SqlCompiler, Val
from pqltools.engines.dialects import var
from pqltools.engines.types import BOOLEAN, NULL, ListOf, Scalar, Struct
from pqltools.syntax import ast

__all__ = ["includes", "intersection", "intersects", "subset_of", "superset_of"]


def includes(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``a.includes(item)``: ``item`` is in ``a`` (false when either is null); an element of
    ``a`` is the left side of ``=``, as in the interpreter (``[1].includes("1")`` holds,
    ``["1"].includes(1)`` does not), unlike ``item in a``."""
    items = c.visit(node.receiver)
    c._known(items, node.receiver)
    item = c.visit(node.args[0])
    c._known(item, node.args[0])
    return Val(_found(c, node, items, item), BOOLEAN, False)


def intersects(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``a.intersects(b)``: some element of ``a`` is in ``b`` (false when either is null)."""
    a, b = _operands(c, node)
    found = _some(c, a, lambda x: _found(c, node, b, x))
    return Val(_or_false(found), BOOLEAN, False)


def intersection(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``a.intersection(b)``: the distinct elements of ``a`` found in ``b``, in ``a``'s order;
    null when there are none or either side is null."""
    a, b = _operands(c, node)
    if a.type == NULL or b.type == NULL or _no_elements(a) or _no_elements(b):
        return Val(exp.null(), NULL)
    if not isinstance(a.type, ListOf):
        found = _found(c, node, b, a)
        return Val(exp.Case(ifs=[exp.If(this=found, true=exp.Array(expressions=[a.sql]))]),
                    ListOf(a.type))
    item = a.type.item
    literals = _literal_elements(a)
    if literals is not None:
        # each literal kept when found, then the nulls (the ones not found) dropped
        picked = exp.Array(expressions=[exp.Case(ifs=[exp.If(
            this=_found(c, node, b, Val(e, item, False)), true=e.copy())]) for e in literals])
        p = c.fresh()
        kept = c.d.filter(picked, p, exp.Not(this=exp.Is(this=var(p), expression=exp.Null())))
    else:
        p = c.fresh()
        kept = c.d.filter(a.sql.copy(), p, _found(c, node, b, Val(var(p), item)))
    some = exp.GT(this=c.d.size(kept.copy()), expression=exp.Literal.number(0))
    return Val(exp.Case(ifs=[exp.If(this=some, true=c.d.distinct(kept))]), a.type)


def subset_of(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``a.subsetOf(b)``: every element of ``a`` is in ``b`` (false when either is null)."""
    a, b = _operands(c, node)
    return _subset(c, node, a, b)


def superset_of(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``a.supersetOf(b)``: ``b.subsetOf(a)``."""
    a, b = _operands(c, node)
    return _subset(c, node, b, a)


def _subset(c: SqlCompiler, node: ast.MethodCall, sub: Val, sup: Val) -> Val:
    if sub.type == NULL or sup.type == NULL:
        return Val(exp.false(), BOOLEAN, False)
    if isinstance(sub.type, ListOf):
        literals = _literal_elements(sub)
        if literals is not None:
            every = _fold(exp.And, [_found(c, node, sup, Val(e, sub.type.item, False))
                                    for e in literals], exp.true())
        else:
            p = c.fresh()
            missing = c.d.filter(sub.sql.copy(), p, exp.Not(this=exp.Paren(this=_found(
                c, node, sup, Val(var(p), sub.type.item)))))
            every = exp.EQ(this=c.d.size(missing), expression=exp.Literal.number(0))
    else:
        every = _found(c, node, sup, sub)
    for v in (sub, sup):
        if v.nullable:
            every = exp.And(this=exp.Not(this=exp.Is(this=v.sql.copy(), expression=exp.Null())),
                            expression=exp.Paren(this=every))
    return Val(_or_false(every), BOOLEAN, False)


# ------------------------------------------------------------------ helpers


def _or_false(e: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=e, expressions=[exp.false()])


def _operands(c: SqlCompiler, node: ast.MethodCall) -> tuple[Val, Val]:
    """The receiver and the argument, checked: scalars or lists of scalars of one JSON type;
    for ``subsetOf``/``supersetOf`` also null exactly where the interpreter has null."""
    out = []
    for part in (node.receiver, node.args[0]):
        v = c.visit(part)
        c._known(v, part)
        item = v.type.item if isinstance(v.type, ListOf) else v.type
        if isinstance(item, Struct):
            raise c.refuse(part, f"`{node.name}` of objects (or lists of objects)")
        if isinstance(item, ListOf):
            raise c.refuse(part, f"`{node.name}` of a list of lists")
        if isinstance(item, Scalar) and item.kind == "json":
            raise c.refuse(part, f"`{node.name}` of a list whose elements have different JSON "
                           "types (a string in one, a number in another)")
        if node.name in ("subsetOf", "supersetOf") and not _null_exact(c, part, v):
            raise c.refuse(part, f"`{node.name}` of a value that SQL reads as an empty list "
                           "where the interpreter has null, or the reverse (a field the data "
                           "does not have, reached through a list, or a filter of one): "
                           f"`{node.name}` is true of an empty list and false of null")
        out.append(v)
    return out[0], out[1]


def _null_exact(c: SqlCompiler, node: ast.Node, v: Val) -> bool:
    """Whether ``v``'s SQL is null exactly where the interpreter's value is null.

    The compiler reads what the data does not have as a constant: NULL, or an empty list for a
    filter of an absent list (``missing[x > 1]``) or a field reached through one
    (``orders.missing`` when there is no ``orders``). The interpreter's value there depends on
    the row (a field of a null list is null, of a list ``[]``). A value of a known element type,
    a literal list, a field absent from the data (null in every row), a field that the elements
    of a list column lack (``[]`` or null by row, as in the interpreter) and a path to a column
    of empty lists are exact.
    """
    if isinstance(node, ast.ListLiteral):
        return True
    field = isinstance(node, ast.Name) and c.scopes.resolution(node).kind in (
        NameKind.PROFILE_FIELD, NameKind.ELEMENT_FIELD)
    if v.type == NULL:
        return field
    if isinstance(v.type, ListOf) and v.type.item == NULL:  # a column whose lists are empty
        return (field or isinstance(node, ast.Attribute)) and \
            not isinstance(v.sql, (exp.Array, exp.Null))
    return True


def _no_elements(v: Val) -> bool:
    """Whether ``v`` is a list that can hold nothing but nulls (its elements are in no list)."""
    return isinstance(v.type, ListOf) and v.type.item == NULL


def _literal_elements(v: Val) -> list[exp.Expression] | None:
    """The elements of a literal list of literals (tested one by one), else None."""
    if isinstance(v.sql, exp.Array) and all(isinstance(e, exp.Literal)
                                            for e in v.sql.expressions):
        return list(v.sql.expressions)
    return None


def _some(c: SqlCompiler, items: Val, test: Callable[[Val], exp.Expression]) -> exp.Expression:
    """Whether some element of ``items`` (a single value: itself) passes ``test``; NULL or
    false when ``items`` is null."""
    if items.type == NULL or _no_elements(items):
        return exp.false()
    if not isinstance(items.type, ListOf):
        return test(items)
    literals = _literal_elements(items)
    item = items.type.item
    if literals is not None:
        return _fold(exp.Or, [test(Val(e, item, False)) for e in literals], exp.false())
    p = c.fresh()
    matched = c.d.filter(items.sql.copy(), p, test(Val(var(p), item)))
    return exp.GT(this=c.d.size(matched), expression=exp.Literal.number(0))


def _fold(op: type[exp.Connector], parts: list[exp.Expression], empty: exp.Expression
          ) -> exp.Expression:
    """``parts`` joined with ``op`` (AND/OR); ``empty`` when there are none."""
    if not parts:
        return empty
    out: exp.Expr = parts[0]
    for part in parts[1:]:
        out = op(this=out, expression=part)
    assert isinstance(out, exp.Expression)
    return out


def _found(c: SqlCompiler, node: ast.MethodCall, container: Val, x: Val) -> exp.Expression:
    """Whether ``x`` equals an element of ``container`` (``scalar_equal(y, x)``, the element
    on the left); never NULL."""

    def equal(y: Val) -> exp.Expression:
        eq = c._relation(node, "=", Val(y.sql.copy(), y.type, y.nullable),
                         Val(x.sql.copy(), x.type, x.nullable))
        return _or_false(eq.sql) if eq.nullable else eq.sql
    return _or_false(_some(c, container, equal))
