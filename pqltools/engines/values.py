"""Values the SQL engines compile besides lists: ``get`` by a literal key and ``date(...)``.

* ``m.get(key)`` is the interpreter's ``get_field(m, str(key))``: the field ``key`` of an
  object, the flattened fields of a list of objects, null for anything else. It compiles when
  the key is a literal (a string, or a number or Boolean, read as its text), since the engines
  read only the fields a definition names (the key is one of those names) and a struct's field
  is chosen when the SQL is built. A key known only at run time could name any field, of any
  type, including fields the scan did not read: it is refused.
* ``date(y, m, d)`` with constant arguments is computed by the interpreter's own function; its
  value is a calendar day (:data:`~pqltools.engines.types.DATE`), held as the ISO text the
  interpreter returns for it (``"2020-03-14"``). A day equals only the same day, is never
  ordered, is true in Boolean position, and as a time reference is the whole UTC day. An
  argument that is always null (a path the data never has) makes it null. An invalid day is the
  whole expression's evaluation error, which stops the query as the interpreter's does; inside
  a larger expression it is refused (SQL may skip evaluating it where the interpreter stops).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from pqltools.engines.compiler import Val, _constant
from pqltools.engines.types import DATE, NULL
from pqltools.runtime.functions import GLOBAL_IMPLS, EvalProblem
from pqltools.runtime.timephrases import DAY
from pqltools.syntax import ast

if TYPE_CHECKING:
    from pqltools.engines.compiler import SqlCompiler

__all__ = ["date_bounds", "date_value", "get_key", "get_value"]


def get_key(node: ast.MethodCall) -> str | None:
    """The field ``m.get(key)`` reads when its key is a literal (as the interpreter turns it
    into text), else None."""
    key = node.args[0] if node.args else None
    if isinstance(key, ast.String):
        return key.value
    if isinstance(key, (ast.Number, ast.Boolean)):
        return str(key.value)
    return None


def get_value(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``m.get(key)`` with a literal key: the field ``key`` of ``m``."""
    key = get_key(node)
    if key is None:
        raise c.refuse(node.args[0], "`get` with a key that is not a literal: the engines read "
                       "only the fields a definition names and choose a struct's field when "
                       "the SQL is built, so a key known only at run time cannot be looked up")
    return c._field(c.visit(node.receiver), key, node)


def date_value(c: SqlCompiler, node: ast.Call) -> Val:
    """The value of ``date(y, m, d)``: a calendar day, null, or an evaluation error."""
    from pqltools.runtime.compiler import compile as compile_pql
    if any(not _constant(a) for a in node.args):
        if all(_constant(a) or c.visit(a).type == NULL for a in node.args):
            return Val(exp.null(), NULL)  # an argument the data never has: null
        raise c.refuse(node, "the value of `date(...)` whose arguments are not constants (the "
                       "interpreter checks them at run time: whole numbers, a calendar day)")
    args = [compile_pql(a).evaluate_value({}, None, now=c.clock) for a in node.args]
    try:
        day = GLOBAL_IMPLS["date"](None, *args)
    except EvalProblem as exc:
        if node is not c.root:
            # inside a larger expression SQL may never evaluate it (a comparison with a string
            # is false whatever the value), where the interpreter stops
            raise c.refuse(node, f"`date(...)` of an invalid day ({exc}) inside a larger "
                           "expression; alone it stops the query as the interpreter does") \
                from None
        return Val(c.d.fail(f"date(...): {exc}"), DATE, True)
    if day is None:
        return Val(exp.null(), NULL)
    return Val(exp.Literal.string(str(day)), DATE, False)


def date_bounds(c: SqlCompiler, v: Val) -> tuple[exp.Expression, exp.Expression]:
    """A day's ``[start, end)`` in epoch ms, as a time reference (the whole UTC day)."""
    start = c.d.iso_to_ms(v.sql)
    return start, exp.Add(this=exp.Paren(this=start.copy()), expression=exp.Literal.number(DAY))
