"""List methods compiled to SQL: ``map`` (to a list of scalars), ``topN`` and ``bottomN``.

The interpreter's functions (:mod:`pqltools.runtime.functions`) are the specification:

* ``a.map(f)`` is ``f`` of every element of ``a`` in order, nulls included (null for a null
  ``a``; a single value is a one-element list). Its value must be a scalar: a list of lists or
  of objects, and ``mapEntry`` results (an object whose keys are data), are refused. A test
  (a comparison, ``and``, a Boolean method) is never null in the interpreter's list, so its
  SQL null becomes false; a stored Boolean keeps its null.
* ``a.topN(key, n)`` / ``a.bottomN(key, n)``: null when ``a`` or ``n`` is null; an evaluation
  error when ``n`` is not a finite number; else the elements whose key is a number (or, with no
  numbers, a string), sorted by key (highest first for ``topN``) with equal keys in list order
  (Python's sort is stable, also in reverse), the first ``max(0, int(n))`` of them. SQL sorts
  ``{k, j, v}`` structs (key, position, element), the position making the order total: ``j`` is
  the position for ``bottomN`` and minus the position for ``topN``, whose ascending sort is then
  reversed, so equal keys keep their list order in both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from pqltools import catalog
from pqltools.engines.compiler import Val, _constant, _Elem, _Var
from pqltools.engines.dialects import var
from pqltools.engines.types import BOOLEAN, DOUBLE, NULL, STRING, ListOf, Scalar, Struct, describe
from pqltools.runtime.functions import METHOD_IMPLS, EvalProblem
from pqltools.syntax import ast

if TYPE_CHECKING:
    from pqltools.engines.compiler import SqlCompiler

__all__ = ["as_list", "element_value", "map_values", "ranked"]

#: The longest slice Spark takes (an INT length); no array is longer.
_INT_MAX = 2**31 - 1
#: The interpreter's message for a count that is not a finite number (then the value's type).
_BAD_COUNT = "the count of topN/bottomN must be a finite number, got "


def _num(n: int) -> exp.Expression:
    return exp.Literal.number(str(n))


def _dot(base: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=base.copy(), expression=exp.to_identifier(name, quoted=True))


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e.copy(), expression=exp.Null())


def as_list(items: Val) -> Val:
    """The elements a list method works on (the interpreter's ``elements``): a list as it is,
    a single value as a one-element list (null stays null)."""
    if isinstance(items.type, ListOf) or items.type == NULL:
        return items
    if not items.nullable:
        return Val(exp.Array(expressions=[items.sql]), ListOf(items.type), False)
    return Val(exp.Case(ifs=[exp.If(this=_is_null(items.sql), true=exp.null())],
                        default=exp.Array(expressions=[items.sql.copy()])), ListOf(items.type))


def element_value(c: SqlCompiler, items: Val, arg: ast.Expr) -> tuple[str, Val]:
    """An element-scoped argument over ``items`` (a list): the lambda parameter name that holds
    the element in SQL, and the argument's value per element. A bare expression reads the
    element's fields; a lambda binds its parameter (of two, ``(K, G)``, the key is null over a
    list, as in the interpreter)."""
    assert isinstance(items.type, ListOf)
    p = c.fresh()
    element = Val(var(p), items.type.item)
    if isinstance(arg, ast.Lambda):
        if len(arg.params) == 1:
            frames: tuple[_Elem | _Var, ...] = (_Var(arg.params[0], element),)
        elif len(arg.params) == 2:
            frames = (_Var(arg.params[0], Val(exp.null(), NULL)), _Var(arg.params[1], element))
        else:
            raise c.refuse(arg, "a lambda with more than two parameters")
        value = c.scoped(arg.body, *frames)
        body: ast.Node = arg.body
    else:
        value = c.scoped(arg, _Elem(p, items.type.item))
        body = arg
    c._known(value, body)
    return p, value


def map_values(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``a.map(f)`` over a list (or a single value) when ``f`` gives a scalar per element."""
    items = c._receiver(node)
    if items.type == NULL:
        return Val(exp.null(), NULL)
    if isinstance(items.type, Struct):
        raise c.refuse(node, "`map` over an object (a grouped map): its value is an object "
                       "whose keys are data, which no SQL column type holds with the "
                       "interpreter's meaning")
    items = as_list(items)
    arg = node.args[0]
    body = arg.body if isinstance(arg, ast.Lambda) else arg
    if isinstance(body, ast.Call) and body.name == "mapEntry":
        raise c.refuse(body, "`map` to `mapEntry(...)`: its value is an object whose keys are "
                       "data, which no SQL column type holds with the interpreter's meaning")
    p, value = element_value(c, items, arg)
    if not isinstance(value.type, Scalar):
        raise c.refuse(body, f"`map` whose value per element is a {describe(value.type)} (only "
                       "a list of scalars compiles)")
    if value.type == BOOLEAN and value.nullable:
        if _always_boolean(body):
            # a test is true or false, never null, in the interpreter's list
            value = Val(exp.Coalesce(this=value.sql, expressions=[exp.false()]), BOOLEAN, False)
        elif not isinstance(value.sql, (exp.Column, exp.Dot)):
            raise c.refuse(body, "`map` to a Boolean that is neither a stored value nor a test "
                           "(SQL's null could stand for the interpreter's false)")
    return Val(c.d.transform(items.sql, p, value.sql), ListOf(value.type), items.nullable)


def _always_boolean(node: ast.Node) -> bool:
    """Whether the interpreter's value of ``node`` is always true or false (never null): a
    comparison, a logical operator, ``occurs``, a quantifier, a chain, a Boolean function."""
    if isinstance(node, (ast.Compare, ast.BoolOp, ast.Not, ast.Occurs, ast.Quantifier,
                         ast.Chain)):
        return True
    if isinstance(node, (ast.Call, ast.MethodCall)):
        spec = catalog.lookup(node.name, "global" if isinstance(node, ast.Call) else "method")
        return spec is not None and spec.returns == "boolean"
    return False


def _count_problem(n: object) -> str | None:
    """The interpreter's evaluation error for a constant count of ``topN``/``bottomN`` (None
    when the count is good), from the interpreter's own function."""
    try:
        METHOD_IMPLS["topN"](None, [], None, n)
    except EvalProblem as exc:
        return str(exc)
    return None


def ranked(c: SqlCompiler, node: ast.MethodCall, *, highest: bool) -> Val:
    """``a.topN(key, n)`` (``highest``) or ``a.bottomN(key, n)``."""
    items = c._receiver(node)
    key_arg, count_arg = node.args
    if items.type == NULL:
        return Val(exp.null(), NULL)
    items = as_list(items)
    assert isinstance(items.type, ListOf)
    p, key = element_value(c, items, key_arg)
    if key.type != NULL and not (isinstance(key.type, Scalar)
                                 and (key.type.is_number or key.type == STRING)):
        raise c.refuse(key_arg, f"`{node.name}` by a key that is a {describe(key.type)} (the "
                       "interpreter ranks by numbers or strings only)")
    count, problem = _count(c, count_arg, items)
    if count is None:
        return Val(exp.null(), NULL)
    # a key that is always null (a path the data never has) keeps no element
    k = key.sql if key.type != NULL else exp.Cast(this=exp.null(),
                                                 to=exp.DataType.build("BIGINT"))
    i = c.fresh("i")
    keyed = c.d.transform_indexed(items.sql, p, i, c.d.struct([
        ("k", k), ("j", exp.Neg(this=var(i)) if highest else var(i)), ("v", var(p))]))
    y = c.fresh("y")
    order = c.d.sort(c.d.filter(keyed, y, exp.Not(this=_is_null(_dot(var(y), "k")))))
    if highest:
        order = c.d.reverse(order)
    z = c.fresh("z")
    chosen = c.d.take(c.d.transform(order, z, _dot(var(z), "v")), count)
    if problem is None:
        return Val(chosen, items.type, True)
    # the error only where the interpreter raises it (both sides have a value)
    bad, message = problem
    return Val(exp.Case(ifs=[exp.If(this=bad, true=c.d.fail(f"{node.name}: {message}"))],
                        default=chosen), items.type, True)


def _count(c: SqlCompiler, arg: ast.Expr, items: Val
           ) -> tuple[exp.Expression | None, tuple[exp.Expression, str] | None]:
    """The count of ``topN``/``bottomN`` as SQL (a whole number from 0 to the list's length,
    null where the count is null), or None when it is always null; and, when it can be bad,
    the condition under which the interpreter stops with an evaluation error and its message.
    """
    defined = exp.Not(this=_is_null(items.sql))
    if _constant(arg):
        from pqltools.runtime.compiler import compile as compile_pql
        value = compile_pql(arg).evaluate_value({}, None, now=c.clock)
        if value is None:
            return None, None
        message = _count_problem(value)
        if message is not None:
            return _num(0), (defined, message)
        return _num(min(max(0, int(value)), _INT_MAX)), None
    n = c.visit(arg)
    c._known(n, arg)
    if n.type == NULL:
        return None, None
    if not (isinstance(n.type, Scalar) and n.type.is_number):
        # a string, a Boolean, a list or an object: an error wherever both sides have a value
        take = exp.Case(ifs=[exp.If(this=_is_null(n.sql), true=exp.null())], default=_num(0))
        return take, (exp.And(this=defined, expression=exp.Not(this=_is_null(n.sql))),
                      f"{_BAD_COUNT}a {describe(n.type)}")
    # GREATEST and LEAST skip a null argument: a null count is null first
    clamped = exp.Least(this=exp.Greatest(this=n.sql, expressions=[_num(0)]),
                        expressions=[c.d.count(items.sql.copy())])
    if n.type != DOUBLE:
        return exp.Case(ifs=[exp.If(this=_is_null(n.sql), true=exp.null())],
                        default=clamped), None
    infinity = exp.Cast(this=exp.Literal.string("Infinity"), to=exp.DataType.build("DOUBLE"))
    finite = exp.And(this=exp.GT(this=n.sql.copy(), expression=exp.Neg(this=infinity)),
                     expression=exp.LT(this=n.sql.copy(), expression=infinity.copy()))
    take = exp.Case(ifs=[exp.If(this=_is_null(n.sql), true=exp.null())],
                    default=c.d.truncate(clamped))
    return take, (exp.And(this=defined, expression=exp.Not(this=exp.Paren(this=finite))),
                  f"{_BAD_COUNT}a number that is not finite")
