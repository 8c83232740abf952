"""PQL's typed AST compiled to SQL expression nodes (sqlglot), for DuckDB and Spark SQL.

One visitor method per PQL construct builds a :class:`sqlglot.exp.Expression`; the dialect
object (:mod:`pqltools.engines.dialects`) supplies what the engines spell differently. The SQL
is never assembled from strings and never transpiled from one dialect to another.

The compiler is driven by the schema of the data (:mod:`pqltools.engines.types`): every compiled
value carries its column type, so PQL's dynamic rules become static choices (a number compared
with a numeric string literal compares numbers; a string compared with a number is false). PQL's
two-valued logic is kept by wrapping: SQL NULL in Boolean position becomes FALSE, comparisons
with a null side are false (so ``!=`` and ``notIn`` are false on missing values), and list
quantifiers count matching elements instead of trusting ``exists``/``forall`` (Spark's
``exists([1, null], x -> x > 1)`` is NULL). Time windows are computed in Python from the run's
single ``now`` and emitted as epoch-millisecond literals.

Whatever cannot be given the interpreter's meaning is refused with a
:class:`~pqltools.errors.PQLValidationError` (code PQL430) naming the construct and pointing at
its span; there is no silent fallback to Python. docs/engines.md lists the refusals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from pqltools import catalog
from pqltools.analysis.scope import NameKind, Scopes, resolve
from pqltools.engines import regex as sql_regex
from pqltools.engines.dialects import DIALECTS, SqlDialect, var
from pqltools.engines.types import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    JSON,
    NULL,
    STRING,
    ListOf,
    Scalar,
    SqlType,
    Struct,
    describe,
)
from pqltools.errors import Diagnostic, PQLValidationError, Severity
from pqltools.runtime.context import Clock
from pqltools.runtime.regex import RegexError, compile_regex
from pqltools.runtime.timephrases import (
    NEG_INF,
    POS_INF,
    UNIT_MILLIS,
    UNIT_MONTHS,
    Interval,
    Window,
    at_window,
    between_window,
    calendar_period,
    keyword_interval,
    relative_window,
)
from pqltools.syntax import ast
from pqltools.syntax.visitor import Visitor

__all__ = ["PROFILE_ALIAS", "REFUSED", "Compiled", "SqlCompiler", "Val", "referenced_names"]

#: The table alias the compiled expressions read profile columns through.
PROFILE_ALIAS = "p"
#: The diagnostic code of a construct the SQL engines refuse.
REFUSED = "PQL430"
#: Statuses of a stored membership that make ``inSegment`` true (reference 8.3, 11.2).
_MEMBER = ("realized", "existing")
_ORDER_OPS: dict[str, type[exp.Expression]] = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT,
                                                ">=": exp.GTE}
_COMPARE_OPS: dict[str, type[exp.Expression]] = {"=": exp.EQ, "!=": exp.NEQ, **_ORDER_OPS}


@dataclass(frozen=True)
class Val:
    """A compiled value: its SQL, its column type, and whether it can be NULL.

    ``root`` marks the profile itself (reachable as ``$1``, ``^``): only its fields can be read.
    """

    sql: exp.Expression
    type: SqlType
    nullable: bool = True
    root: bool = False
    #: the ``select`` node when only the Boolean meaning (is there a tuple?) compiled
    truth_only: ast.Node | None = None


@dataclass
class _Elem:
    """An element scope: the lambda parameter that holds the current element (or, for a chain
    step, the expression that reads the current event out of the chain's list)."""

    param: str
    type: SqlType
    expr: exp.Expression | None = None

    def ref(self) -> exp.Expression:
        """The SQL of the current element."""
        return self.expr.copy() if self.expr is not None else var(self.param)


@dataclass
class _Var:
    """A variable (``select``/``exists`` binding, lambda parameter, ``let``, chain label)."""

    name: str
    val: Val
    #: a chain label's timestamp field and its epoch ms, already computed by the chain
    stamp: tuple[str, exp.Expression] | None = None


@dataclass
class Compiled:
    """The result of compiling one expression: its Boolean SQL and the value SQL."""

    condition: exp.Expression
    value: Val
    segments_read: set[str] = field(default_factory=set)


def _false() -> exp.Expression:
    return exp.false()


def _lit(v: Any) -> exp.Expression:
    if v is True or v is False:
        return exp.true() if v else exp.false()
    if isinstance(v, (int, float)):
        return exp.Literal.number(repr(v) if isinstance(v, float) else str(v))
    return exp.Literal.string(str(v))


def _coalesce_false(e: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=e, expressions=[exp.false()])


def _paren(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e)


def referenced_names(tree: ast.Node) -> set[str]:
    """Every field name the expression can read: the columns a scan must provide.

    A superset of the paths a definition references (a bare name inside a filter may be an
    element's or the profile's field), so pruning a schema to these names never loses data the
    expression needs.
    """
    names: set[str] = set()
    for node in tree.walk():
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Attribute, ast.MethodCall)):
            names.add(node.name)
            if isinstance(node, ast.MethodCall) and node.name == "get":
                from pqltools.engines.values import get_key
                key = get_key(node)  # the field a literal key reads
                if key is not None:
                    names.add(key)
        elif isinstance(node, ast.Chain):
            names.update(node.timestamp_field.split("."))
        elif isinstance(node, ast.Call) and node.name == "inSegment":
            names.update(("segmentMembership", "ups", "status"))
            names.update(a.value for a in node.args if isinstance(a, ast.String))
    return names


class SqlCompiler(Visitor[Val]):
    """Compiles one expression against a profile schema for one dialect.

    ``profile`` is the type of a profile row (its columns, events excluded), ``events`` the type
    of ``xEvent`` and ``events_sql`` the column holding it. ``segments`` maps the ids of
    definitions compiled earlier in the same run to their Boolean SQL (segment-of-segments).
    """

    def __init__(self, dialect: str | SqlDialect, profile: Struct, *, events: SqlType = NULL,
                 events_sql: exp.Expression | None = None, clock: Clock, text: str | None = None,
                 segments: Mapping[str, exp.Expression] | None = None) -> None:
        self.d = DIALECTS[dialect] if isinstance(dialect, str) else dialect
        self.profile = profile
        self.events = events
        self.events_sql = events_sql if events_sql is not None else exp.null()
        self.clock = clock
        self.text = text
        self.segments = dict(segments or {})
        self.frames: list[_Elem | _Var] = []
        self.counter = 0
        self.segments_read: set[str] = set()
        self.scopes = Scopes()
        #: the whole expression being compiled
        self.root: ast.Node | None = None

    # ------------------------------------------------------------ entry points

    def compile(self, tree: ast.Node) -> Compiled:
        """The Boolean condition (never NULL) and the value of ``tree``."""
        self.scopes = resolve(tree, self.text)  # the one name resolution (docs/semantics.md)
        self.root = tree
        value = self.visit(tree)
        return Compiled(self.truth(value, tree), value, self.segments_read)

    # ------------------------------------------------------------ helpers

    def refuse(self, node: ast.Node, message: str) -> PQLValidationError:
        """The error for a construct this engine cannot compile with the interpreter's meaning."""
        return PQLValidationError([Diagnostic(
            REFUSED, f"the {self.d.name} engine cannot compile {message}", Severity.ERROR,
            node.span)], self.text)

    def fresh(self, hint: str = "e") -> str:
        self.counter += 1
        return f"__{hint}{self.counter}"

    def truth(self, v: Val, node: ast.Node) -> exp.Expression:
        """``v`` in Boolean position (§5.1): null is false, a list is true iff non-empty."""
        t = v.type
        if t == BOOLEAN:
            return _coalesce_false(v.sql) if v.nullable else v.sql
        if t == NULL:
            return _false()
        if isinstance(t, ListOf):
            return _coalesce_false(exp.GT(this=self.d.size(v.sql), expression=_lit(0)))
        if v.root:
            return exp.true()
        if isinstance(t, Scalar) and t.kind == "json":
            raise self.refuse(node, "a path whose values have different JSON types in "
                              "different profiles")
        return exp.Not(this=exp.Is(this=v.sql, expression=exp.Null())) if v.nullable \
            else exp.true()

    def test(self, node: ast.Node) -> exp.Expression:
        """Compile ``node`` for a Boolean position."""
        return self.truth(self.visit(node), node)

    def scoped(self, node: ast.Node, *frames: _Elem | _Var) -> Val:
        self.frames.extend(frames)
        try:
            return self.visit(node)
        finally:
            del self.frames[len(self.frames) - len(frames):]

    def scoped_test(self, node: ast.Node, *frames: _Elem | _Var) -> exp.Expression:
        self.frames.extend(frames)
        try:
            return self.test(node)
        finally:
            del self.frames[len(self.frames) - len(frames):]

    def _known(self, v: Val, node: ast.Node) -> None:
        if isinstance(v.type, Scalar) and v.type.kind == "json":
            raise self.refuse(node, "a path whose values have different JSON types in different "
                              "profiles (a string in one, a number in another)")
        if v.root:
            raise self.refuse(node, "the whole profile as a value")
        if v.truth_only is not None:
            raise self.refuse(v.truth_only, "the value of `select` with several variables (a "
                              "list of tuples); only its Boolean meaning, whether there is a "
                              "match, compiles")

    def check_value(self, v: Val, node: ast.Node) -> None:
        """Refuse a value that cannot be returned with the interpreter's meaning (the value of
        a whole expression, not its Boolean meaning): besides what :meth:`_known` refuses, an
        object or a list of objects, whose absent fields SQL reads as null and whose fields the
        definition does not name are not read at all."""
        self._known(v, node)
        t = v.type
        while isinstance(t, ListOf):
            t = t.item
        if isinstance(t, Struct):
            raise self.refuse(node, "an object (or a list of objects) as the value of the "
                              "expression: SQL reads an absent field as null and reads only "
                              "the fields the definition names")

    # ------------------------------------------------------------ literals

    def visit_String(self, node: ast.String) -> Val:
        return Val(_lit(node.value), STRING, False)

    def visit_Number(self, node: ast.Number) -> Val:
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise self.refuse(node, "a number that is not finite")
        return Val(_lit(node.value), DOUBLE if isinstance(node.value, float) else BIGINT, False)

    def visit_Boolean(self, node: ast.Boolean) -> Val:
        return Val(_lit(node.value), BOOLEAN, False)

    def visit_ListLiteral(self, node: ast.ListLiteral) -> Val:
        items = [self.visit(i) for i in node.items]
        if not items:
            return Val(exp.Array(expressions=[]), ListOf(NULL), False)
        kinds = {("number" if isinstance(i.type, Scalar) and i.type.is_number else i.type)
                 for i in items}
        if len(kinds) != 1 or not all(isinstance(i.type, Scalar) for i in items):
            raise self.refuse(node, "a list literal mixing types or holding lists or objects")
        numbers = any(i.type == DOUBLE for i in items)
        t = DOUBLE if numbers else items[0].type
        sql = [exp.Cast(this=i.sql, to=exp.DataType.build("DOUBLE")) if numbers else i.sql
               for i in items]
        return Val(exp.Array(expressions=sql), ListOf(t), False)

    def visit_ObjectLiteral(self, node: ast.ObjectLiteral) -> Val:
        raise self.refuse(node, "an object literal")

    # ------------------------------------------------------------ names and paths

    def _root(self) -> Val:
        return Val(exp.to_identifier(PROFILE_ALIAS), self.profile, False, root=True)

    def _profile_field(self, name: str) -> Val:
        t = self.profile.get(name)
        if t is None:
            return Val(exp.null(), NULL)
        return Val(exp.column(exp.to_identifier(name, quoted=True),
                              table=exp.to_identifier(PROFILE_ALIAS)), t)

    def _field(self, base: Val, name: str, node: ast.Node) -> Val:
        """``base.name``: a struct field, or over a list of objects the flattened field list."""
        if base.root:
            return self._profile_field(name)
        self._known(base, node)
        t = base.type
        if isinstance(t, Struct):
            ft = t.get(name)
            if ft is None:
                return Val(exp.null(), NULL)
            return Val(exp.Dot(this=base.sql, expression=exp.to_identifier(name, quoted=True)),
                       ft)
        if isinstance(t, ListOf) and isinstance(t.item, Struct):
            ft = t.item.get(name)
            if ft is None:
                return self._no_fields(base)
            p = self.fresh()
            each = exp.Dot(this=var(p), expression=exp.to_identifier(name, quoted=True))
            values = self.d.transform(base.sql, p, each)
            item = ft
            if isinstance(ft, ListOf):
                values, item = self.d.flatten(values), ft.item
            q = self.fresh()
            present = self.d.filter(values, q, exp.Not(this=exp.Is(this=var(q),
                                                                     expression=exp.Null())))
            return Val(present, ListOf(item))
        if isinstance(t, ListOf):
            return self._no_fields(base)
        # a field of a string, a number: PQL gives null
        return Val(exp.null(), NULL)

    @staticmethod
    def _no_fields(items: Val) -> Val:
        """A field of a list none of whose elements has it: [] (null for a null list)."""
        if not items.nullable:
            return Val(exp.Array(expressions=[]), ListOf(NULL), False)
        return Val(exp.Case(ifs=[exp.If(this=exp.Is(this=items.sql, expression=exp.Null()),
                                        true=exp.null())], default=exp.Array(expressions=[])),
                   ListOf(NULL))

    def visit_Name(self, node: ast.Name) -> Val:
        name = node.id
        kind = self.scopes.resolution(node).kind
        if kind is NameKind.VARIABLE:
            bound = [f.val for f in self.frames if isinstance(f, _Var) and f.name == name]
            if not bound:
                raise self.refuse(node, f"the variable `{name}` here")
            return bound[-1]
        if kind is NameKind.EVENTS:
            return Val(self.events_sql, self.events)
        if kind is NameKind.THIS:
            elems = [f for f in self.frames if isinstance(f, _Elem)]
            if not elems:
                return self._root()
            return Val(elems[-1].ref(), elems[-1].type)
        # an element field: the innermost element that has it, then outer ones, then the profile
        candidates: list[Val] = []
        for frame in reversed(self.frames):
            if isinstance(frame, _Elem) and isinstance(frame.type, Struct) and (
                    frame.type.get(name) is not None):
                candidates.append(self._field(Val(frame.ref(), frame.type), name, node))
        candidates.append(self._profile_field(name))
        candidates = [c for c in candidates if c.type != NULL] or [Val(exp.null(), NULL)]
        if len(candidates) == 1:
            return candidates[0]
        first = candidates[0].type
        if any(c.type != first for c in candidates[1:]) or isinstance(first, (ListOf, Struct)):
            raise self.refuse(node, f"`{name}`: the element's field and the enclosing one have "
                              "different types, or are lists or objects")
        # the element's field when it has a value, else the enclosing scope's (§3.3)
        return Val(exp.Coalesce(this=candidates[0].sql, expressions=[c.sql for c in
                                                                     candidates[1:]]), first)

    def visit_Attribute(self, node: ast.Attribute) -> Val:
        base = self.visit(node.receiver)
        return self._field(base, node.name, node)

    def visit_Param(self, node: ast.Param) -> Val:
        if node.position != 1:
            raise PQLValidationError([Diagnostic(
                "PQL410", f"${node.position} is not available: a segment has one parameter, "
                "the profile ($1)", Severity.ERROR, node.span)], self.text)
        return self._root()

    def visit_ParentRef(self, node: ast.ParentRef) -> Val:
        elems = [f for f in self.frames if isinstance(f, _Elem)]
        index = len(elems) - 1 - node.levels
        if index < -1:
            raise PQLValidationError([Diagnostic(
                "PQL410", f"{'^' * node.levels} climbs {node.levels} levels but only "
                f"{len(elems)} enclosing filter level(s) exist here", Severity.ERROR,
                node.span)], self.text)
        if index == -1:
            return self._root()
        return Val(elems[index].ref(), elems[index].type)

    def visit_ContextRef(self, node: ast.ContextRef) -> Val:
        raise PQLValidationError([Diagnostic(
            "PQL410", "decisioning context data (@{...}) is only available inside Adobe Journey "
            "Optimizer; it cannot be evaluated offline", Severity.ERROR, node.span)], self.text)

    # ------------------------------------------------------------ operators

    def visit_Not(self, node: ast.Not) -> Val:
        return Val(exp.Not(this=_paren(self.test(node.operand))), BOOLEAN, False)

    def visit_BoolOp(self, node: ast.BoolOp) -> Val:
        parts = [_paren(self.test(v)) for v in node.values]
        cls = exp.And if node.op == "and" else exp.Or
        out = parts[0]
        for p in parts[1:]:
            out = cls(this=out, expression=p)
        return Val(out, BOOLEAN, False)

    def visit_Neg(self, node: ast.Neg) -> Val:
        v = self.visit(node.operand)
        if not (isinstance(v.type, Scalar) and v.type.is_number):
            return Val(exp.null(), NULL)
        return Val(exp.Neg(this=_paren(v.sql)), v.type, v.nullable)

    def visit_BinOp(self, node: ast.BinOp) -> Val:
        a, b = self.visit(node.left), self.visit(node.right)
        for v, n in ((a, node.left), (b, node.right)):
            self._known(v, n)
        if a.type == NULL or b.type == NULL:
            return Val(exp.null(), NULL)
        if not (isinstance(a.type, Scalar) and a.type.is_number and isinstance(b.type, Scalar)
                and b.type.is_number):
            if isinstance(a.type, Scalar) and isinstance(b.type, Scalar):
                return Val(exp.null(), NULL)  # arithmetic on a non-number is null (§5)
            raise self.refuse(node, f"`{node.op}` on a {describe(a.type)} and a "
                              f"{describe(b.type)}")
        both_int = a.type == BIGINT and b.type == BIGINT
        x, y = _paren(a.sql), _paren(b.sql)
        if node.op == "+":
            return Val(exp.Add(this=x, expression=y), BIGINT if both_int else DOUBLE)
        if node.op == "-":
            return Val(exp.Sub(this=x, expression=y), BIGINT if both_int else DOUBLE)
        if node.op == "*":
            return Val(exp.Mul(this=x, expression=y), BIGINT if both_int else DOUBLE)
        divisor = exp.Nullif(this=exp.Cast(this=y, to=exp.DataType.build("DOUBLE")),
                             expression=_lit(0))
        if node.op == "/":
            return Val(exp.Div(this=exp.Cast(this=x, to=exp.DataType.build("DOUBLE")),
                               expression=divisor), DOUBLE)
        if node.op == "%" and both_int:
            # Java's remainder: the sign of the dividend, in both engines' integer remainder
            return Val(exp.Mod(this=x, expression=exp.Nullif(this=y, expression=_lit(0))),
                       BIGINT)
        raise self.refuse(node, f"the `{node.op}` operator on numbers that are not integers")

    # ------------------------------------------------------------ comparison

    def visit_Compare(self, node: ast.Compare) -> Val:
        if node.op in ("like", "matches"):
            return self._pattern(node, self.visit(node.left), node.right, node.op == "like")
        left, right = self.visit(node.left), self.visit(node.right)
        self._known(left, node.left)
        self._known(right, node.right)
        if node.op in ("in", "notIn"):
            return self._membership(node, left, right, node.op == "notIn")
        if left.type == NULL or right.type == NULL:
            return Val(_false(), BOOLEAN, False)
        if isinstance(left.type, ListOf) and not isinstance(right.type, ListOf):
            return self._exists_item(left, lambda x: self._relation(node, node.op, x, right))
        return self._relation(node, node.op, left, right)

    def _exists_item(self, items: Val, pred: Any) -> Val:
        """Whether some non-null element satisfies ``pred`` (a Val -> Val of the element)."""
        assert isinstance(items.type, ListOf)
        p = self.fresh()
        inner = pred(Val(var(p), items.type.item))
        cond = _coalesce_false(inner.sql) if inner.nullable else inner.sql
        matched = self.d.filter(items.sql, p, cond)
        return Val(exp.GT(this=self.d.size(matched), expression=_lit(0)), BOOLEAN, True)

    def _relation(self, node: ast.Node, op: str, a: Val, b: Val) -> Val:
        """``a op b`` for two values (nullable Boolean: NULL means false)."""
        ta, tb = a.type, b.type
        if ta == NULL or tb == NULL or (isinstance(ta, ListOf) and ta.item == NULL):
            return Val(_false(), BOOLEAN, False)
        if isinstance(ta, ListOf) and isinstance(tb, ListOf):
            return self._lists_relation(node, op, a, b)
        if isinstance(ta, ListOf) != isinstance(tb, ListOf) and not isinstance(ta, Struct) \
                and not isinstance(tb, Struct):
            return self._unequal(op, a, b)  # a list never equals a scalar
        if isinstance(ta, ListOf) or isinstance(tb, ListOf) or isinstance(ta, Struct) \
                or isinstance(tb, Struct):
            raise self.refuse(node, f"comparing a {describe(ta)} with a {describe(tb)}")
        assert isinstance(ta, Scalar) and isinstance(tb, Scalar)
        if ta.kind == "timestamp" or tb.kind == "timestamp":
            raise self.refuse(node, "comparing a TIMESTAMP column with `=`/`<` (use `occurs`)")
        right_sql = b.sql
        if tb == STRING and ta != STRING:
            coerced = self._coerce_literal(node, ta, b)
            if coerced is None:
                return self._unequal(op, a, b)
            right_sql, tb = coerced
        same = (ta.is_number and tb.is_number) or ta == tb
        if not same:
            return self._unequal(op, a, b)
        if op in _ORDER_OPS and ta in (BOOLEAN, DATE):  # Booleans and days are not ordered
            return Val(_false(), BOOLEAN, False)
        cls = _COMPARE_OPS[op]
        return Val(cls(this=a.sql, expression=right_sql), BOOLEAN,
                   a.nullable or b.nullable)

    def _lists_relation(self, node: ast.Node, op: str, a: Val, b: Val) -> Val:
        """Two lists compare as values (§5): ``=`` when they have the same length and every
        pair of elements at the same position is defined and equal; ``!=`` is its negation;
        ``<``-like relations are false. False when either list is null."""
        assert isinstance(a.type, ListOf) and isinstance(b.type, ListOf)
        if not (isinstance(a.type.item, Scalar) and isinstance(b.type.item, Scalar)) \
                or NULL in (a.type.item, b.type.item):
            raise self.refuse(node, f"comparing a {describe(a.type)} with a "
                              f"{describe(b.type)}")
        if op in _ORDER_OPS:
            return Val(_false(), BOOLEAN, False)
        x, i = self.fresh("x"), self.fresh("i")
        other = Val(self.d.element(b.sql.copy(), _minus(var(i), self.d.index_base - 1)),
                    b.type.item)
        if isinstance(b.sql, exp.Array) and all(isinstance(e, exp.Literal)
                                                for e in b.sql.expressions):
            # a literal list: compare each element with its literal (coerced like one)
            pairs = [self._relation(node, "=", Val(self.d.element(
                a.sql.copy(), _lit(k + 1)), a.type.item), Val(e.copy(), b.type.item, False))
                for k, e in enumerate(b.sql.expressions)]
            same: exp.Expression = exp.EQ(this=self.d.size(a.sql.copy()),
                                          expression=_lit(len(pairs)))
            for pair in pairs:
                same = exp.And(this=same, expression=_coalesce_false(pair.sql))
        else:
            pair = self._relation(node, "=", Val(var(x), a.type.item), other)
            flags = self.d.transform_indexed(a.sql.copy(), x, i, _coalesce_false(pair.sql))
            y = self.fresh("y")
            equal_pairs = self.d.size(self.d.filter(flags, y, var(y)))
            same = exp.And(this=exp.EQ(this=self.d.size(a.sql.copy()),
                                       expression=self.d.size(b.sql.copy())),
                           expression=exp.EQ(this=equal_pairs,
                                             expression=self.d.size(a.sql.copy())))
        if op == "!=":
            same = exp.Not(this=_paren(same))
        defined = [exp.Not(this=exp.Is(this=v.sql.copy(), expression=exp.Null()))
                   for v in (a, b) if v.nullable]
        for d in defined:
            same = exp.And(this=d, expression=_paren(same))
        return Val(_coalesce_false(same), BOOLEAN, False)

    def _unequal(self, op: str, a: Val, b: Val) -> Val:
        """Two defined values of types PQL never finds equal: ``!=`` is true, the rest false."""
        if op != "!=":
            return Val(_false(), BOOLEAN, False)
        defined = [exp.Not(this=exp.Is(this=v.sql.copy(), expression=exp.Null()))
                   for v in (a, b) if v.nullable]
        if not defined:
            return Val(exp.true(), BOOLEAN, False)
        out = defined[0] if len(defined) == 1 else exp.And(this=defined[0],
                                                            expression=defined[1])
        return Val(out, BOOLEAN, False)

    def _coerce_literal(self, node: ast.Node, left: Scalar, right: Val
                        ) -> tuple[exp.Expression, Scalar] | None:
        """The right operand coerced to the left's type (§1), or None when it cannot be.

        Only a string literal can be coerced at compile time; a string column next to a number
        or a Boolean is refused by the caller.
        """
        if not isinstance(right.sql, exp.Literal) or not right.sql.is_string:
            if left.is_number or left == BOOLEAN:
                raise self.refuse(node, "comparing a number or Boolean with a string value that "
                                  "is not a literal (the interpreter converts numeric strings "
                                  "at run time)")
            return None
        text = right.sql.this
        if left == BOOLEAN:
            low = text.strip().lower()
            return (_lit(low == "true"), BOOLEAN) if low in ("true", "false") else None
        if left.is_number:
            try:
                number = float(text)
            except ValueError:
                return None
            if not math.isfinite(number):
                return None
            if number.is_integer() and "." not in text:
                return _lit(int(number)), BIGINT
            return _lit(number), DOUBLE
        return None

    def _membership(self, node: ast.Compare, left: Val, right: Val, negate: bool) -> Val:
        """``left in right`` / ``left notIn right``: false when either side is null (§5.4)."""
        if left.type == NULL or right.type == NULL:
            return Val(_false(), BOOLEAN, False)
        items = right if isinstance(right.type, ListOf) else None
        if items is None:
            # `x in 5`: a single value is a one-element list
            return self._relation(node, "!=" if negate else "=", left, right) \
                if not isinstance(left.type, ListOf) else self._exists_item(
                    left, lambda x: self._relation(node, "!=" if negate else "=", x, right))
        assert isinstance(items.type, ListOf)
        if isinstance(left.type, ListOf):
            return self._exists_item(left, lambda x: self._member(node, x, items, negate))
        return self._member(node, left, items, negate)

    def _member(self, node: ast.Node, item: Val, items: Val, negate: bool) -> Val:
        assert isinstance(items.type, ListOf)
        if items.type.item == NULL:
            # `x in []` is false; `x notIn []` is true for a defined x
            if not negate:
                return Val(_false(), BOOLEAN, False)
            return Val(exp.Not(this=exp.Is(this=item.sql, expression=exp.Null())), BOOLEAN,
                       False)
        if isinstance(items.sql, exp.Array) and isinstance(item.type, Scalar) and all(
                isinstance(e, exp.Literal) for e in items.sql.expressions) and (
                item.type == items.type.item or (item.type.is_number
                                                  and isinstance(items.type.item, Scalar)
                                                  and items.type.item.is_number)):
            # a literal list of the item's type: SQL's IN (NULL only when the item is null)
            found_in = exp.In(this=item.sql, expressions=[e.copy() for e in
                                                          items.sql.expressions])
            if not negate:
                return Val(found_in, BOOLEAN, True)
            return Val(exp.Not(this=_paren(found_in)), BOOLEAN, True)
        p = self.fresh()
        eq = self._relation(node, "=", item, Val(var(p), items.type.item))
        cond = _coalesce_false(eq.sql) if eq.nullable else eq.sql
        found = exp.GT(this=self.d.size(self.d.filter(items.sql, p, cond)), expression=_lit(0))
        if not negate:
            return Val(found, BOOLEAN, True)
        # notIn: false when the item is null, else not found
        defined = exp.Not(this=exp.Is(this=item.sql, expression=exp.Null()))
        return Val(exp.And(this=defined, expression=exp.Not(this=_paren(found))), BOOLEAN,
                   True)

    def _pattern(self, node: ast.Node, subject: Val, pattern_node: ast.Expr, like: bool) -> Val:
        if not isinstance(pattern_node, ast.String):
            raise self.refuse(pattern_node, "a pattern that is not a string literal")
        pattern = pattern_node.value
        if like and self.d.name == "spark" and pattern.count("%") > 2:
            raise self.refuse(pattern_node, "a `like` pattern with more than two `%` wildcards "
                              "(Spark matches it with a backtracking regular expression whose "
                              "time grows as a power of the input's length)")
        if not like:
            try:
                compile_regex(pattern)
            except RegexError as exc:
                raise PQLValidationError([Diagnostic("PQL411", str(exc), Severity.ERROR,
                                                     pattern_node.span)], self.text) from None
            try:
                translated = sql_regex.translate(pattern, self.d.name)
            except sql_regex.Untranslatable as exc:
                raise self.refuse(pattern_node, f"the regular expression {pattern!r}: {exc}") \
                    from None

        def test(s: Val) -> Val:
            if s.type != STRING:
                return Val(_false(), BOOLEAN, False)
            sql = self.d.like(s.sql, pattern) if like else self.d.regex_find(s.sql, translated)
            return Val(sql, BOOLEAN, s.nullable)
        self._known(subject, node)
        if isinstance(subject.type, ListOf):
            return self._exists_item(subject, test)
        return test(subject)

    # ------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call) -> Val:
        spec = catalog.lookup(node.name, "global")
        if spec is None:
            raise self.refuse(node, f"the unknown function `{node.name}`")
        if node.name == "inSegment":
            return self._in_segment(node)
        if node.name == "if":
            test = self.test(node.args[0])
            a, b = self.visit(node.args[1]), self.visit(node.args[2])
            if a.type != b.type and NULL not in (a.type, b.type):
                raise self.refuse(node, "`if` whose branches have different types")
            t = a.type if a.type != NULL else b.type
            return Val(exp.Case(ifs=[exp.If(this=test, true=a.sql)], default=b.sql), t)
        if node.name == "date":
            from pqltools.engines.values import date_value
            return date_value(self, node)
        if node.name in ("currentMonth", "currentYear", "currentDayOfMonth"):
            moment = _utc(self.clock.now)
            value = {"currentMonth": moment.month, "currentYear": moment.year,
                     "currentDayOfMonth": moment.day}[node.name]
            return Val(_lit(value), BIGINT, False)
        raise self.refuse(node, f"the function `{node.name}`")

    def _in_segment(self, node: ast.Call) -> Val:
        if len(node.args) != 1 or not isinstance(node.args[0], ast.String):
            raise self.refuse(node, "`inSegment` with an id that is not a string literal")
        seg_id = node.args[0].value
        if seg_id in self.segments:
            self.segments_read.add(seg_id)
            return Val(_paren(self.segments[seg_id].copy()), BOOLEAN, False)
        status = self._field(self._field(self._field(self._field(
            self._root(), "segmentMembership", node), "ups", node), seg_id, node), "status", node)
        if status.type == NULL:
            return Val(_false(), BOOLEAN, False)
        if status.type != STRING:
            raise self.refuse(node, "a stored segmentMembership whose status is not a string")
        member = exp.In(this=exp.Lower(this=status.sql), expressions=[_lit(s) for s in _MEMBER])
        return Val(member, BOOLEAN, True)

    def visit_MethodCall(self, node: ast.MethodCall) -> Val:
        name = node.name
        handler = getattr(self, f"_m_{name}", None)
        if handler is None:
            raise self.refuse(node, f"the method `{name}`")
        result: Val = handler(node)
        return result

    def _receiver(self, node: ast.MethodCall) -> Val:
        v = self.visit(node.receiver)
        self._known(v, node.receiver)
        return v

    def _m_count(self, node: ast.MethodCall) -> Val:
        v = self._receiver(node)
        if v.type == NULL:
            return Val(_lit(0), BIGINT, False)
        if isinstance(v.type, ListOf):
            return Val(self.d.count(v.sql), BIGINT, False)
        if isinstance(v.type, Struct):
            raise self.refuse(node, "`count()` of an object (a map)")
        return Val(exp.Case(ifs=[exp.If(this=exp.Is(this=v.sql, expression=exp.Null()),
                                        true=_lit(0))], default=_lit(1)), BIGINT, False)

    def _object_entries(self, node: ast.MethodCall) -> Val:
        v = self._receiver(node)
        if isinstance(v.type, Struct):
            raise self.refuse(node, f"the method `{node.name}` of an object (its keys: the "
                              "engines read only the fields a definition names, and read an "
                              "absent field as null)")
        return Val(exp.null(), NULL)  # of anything but an object: null

    def _m_keys(self, node: ast.MethodCall) -> Val:
        return self._object_entries(node)

    def _m_values(self, node: ast.MethodCall) -> Val:
        return self._object_entries(node)

    def _m_isNull(self, node: ast.MethodCall) -> Val:
        v = self._receiver(node)
        if v.type == NULL:
            return Val(exp.true(), BOOLEAN, False)
        return Val(exp.Is(this=v.sql, expression=exp.Null()), BOOLEAN, False)

    def _m_isNotNull(self, node: ast.MethodCall) -> Val:
        v = self._receiver(node)
        if v.type == NULL:
            return Val(_false(), BOOLEAN, False)
        return Val(exp.Not(this=exp.Is(this=v.sql, expression=exp.Null())), BOOLEAN, False)

    def _m_exists(self, node: ast.MethodCall) -> Val:
        v = self._receiver(node)
        if node.args:
            v = self._filtered(v, node.args[0], node)
        return self._nonempty(v)

    def _nonempty(self, v: Val) -> Val:
        if v.type == NULL:
            return Val(_false(), BOOLEAN, False)
        if isinstance(v.type, ListOf):
            return Val(exp.GT(this=self.d.size(v.sql), expression=_lit(0)), BOOLEAN, True)
        return Val(exp.Not(this=exp.Is(this=v.sql, expression=exp.Null())), BOOLEAN, False)

    def _m_filter(self, node: ast.MethodCall) -> Val:
        return self._filtered(self._receiver(node), node.args[0], node)

    # the set methods and includes (pqltools/engines/sets.py) and regexGroup
    # (engines/regexgroup.py), each in a module of its own, imported here because they build on
    # this compiler

    def _m_includes(self, node: ast.MethodCall) -> Val:
        from pqltools.engines import sets
        return sets.includes(self, node)

    def _m_intersects(self, node: ast.MethodCall) -> Val:
        from pqltools.engines import sets
        return sets.intersects(self, node)

    def _m_intersection(self, node: ast.MethodCall) -> Val:
        from pqltools.engines import sets
        return sets.intersection(self, node)

    def _m_subsetOf(self, node: ast.MethodCall) -> Val:
        from pqltools.engines import sets
        return sets.subset_of(self, node)

    def _m_supersetOf(self, node: ast.MethodCall) -> Val:
        from pqltools.engines import sets
        return sets.superset_of(self, node)

    def _m_regexGroup(self, node: ast.MethodCall) -> Val:
        from pqltools.engines.regexgroup import regex_group
        return regex_group(self, node)

    def _m_distinct(self, node: ast.MethodCall) -> Val:
        v = self._receiver(node)
        if not isinstance(v.type, ListOf) or not isinstance(v.type.item, Scalar):
            raise self.refuse(node, "`distinct()` of something that is not a list of scalars")
        return Val(self.d.distinct(v.sql), v.type, v.nullable)

    def _aggregate(self, node: ast.MethodCall, func: str) -> Val:
        v = self._receiver(node)
        if node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Lambda):
                raise self.refuse(arg, "a lambda argument of an aggregate")
            v = self._per_element(v, arg, node)
        return self._aggregate_values(node, func, v)

    def _aggregate_values(self, node: ast.Node, func: str, v: Val) -> Val:
        if v.type == NULL or isinstance(v.type, ListOf) and v.type.item == NULL:
            return Val(_lit(0), BIGINT, False) if func == "sum" else Val(exp.null(), NULL)
        if not isinstance(v.type, ListOf):
            v = Val(exp.Case(ifs=[exp.If(this=exp.Is(this=v.sql, expression=exp.Null()),
                                         true=exp.null())],
                             default=exp.Array(expressions=[v.sql])), ListOf(v.type))
        assert isinstance(v.type, ListOf)
        item = v.type.item
        # min/max of strings: code point order, as Python's (and both engines' binary order)
        if not (isinstance(item, Scalar) and item.is_number) and not (
                item == STRING and func in ("min", "max")):
            raise self.refuse(node, f"`{func}` over a {describe(v.type)}")
        sql = self.d.list_aggregate(func, v.sql)
        t = DOUBLE if func == "average" else item
        if func == "sum":
            return Val(exp.Coalesce(this=sql, expressions=[_lit(0)]), t, False)
        return Val(sql, t)

    def _m_sum(self, node: ast.MethodCall) -> Val:
        return self._aggregate(node, "sum")

    def _m_average(self, node: ast.MethodCall) -> Val:
        return self._aggregate(node, "average")

    def _m_min(self, node: ast.MethodCall) -> Val:
        return self._aggregate(node, "min")

    def _m_max(self, node: ast.MethodCall) -> Val:
        return self._aggregate(node, "max")

    def _string_method(self, node: ast.MethodCall, build: Any, negate: bool = False) -> Val:
        subject = self._receiver(node)
        args = list(node.args)
        flag: bool | None = None
        if len(args) == 2:
            if not isinstance(args[1], ast.Boolean):
                raise self.refuse(args[1], "a case flag that is not a literal true or false")
            flag = args[1].value
            args = args[:1]
        needle = self.visit(args[0])
        self._known(needle, args[0])
        if needle.type != STRING:
            return Val(_false(), BOOLEAN, False)
        exact = flag is None or flag
        if not exact and isinstance(args[0], ast.String) \
                and args[0].value.casefold() != args[0].value.lower():
            raise self.refuse(args[0], "a case-insensitive comparison with a string whose "
                              "case folding differs from lower case")
        n = needle.sql if exact else self.d.lower(needle.sql)

        def one(s: Val) -> Val:
            if s.type != STRING:
                return Val(_false(), BOOLEAN, False)
            hay = s.sql if exact else self.d.lower(s.sql)
            result = build(hay, n.copy())
            if negate:
                result = exp.Not(this=_paren(result))
            return Val(result, BOOLEAN, True)
        if subject.type == NULL:
            return Val(_false(), BOOLEAN, False)
        if isinstance(subject.type, ListOf):
            return self._exists_item(subject, one)
        return one(subject)

    def _m_contains(self, node: ast.MethodCall) -> Val:
        return self._string_method(node, self.d.contains)

    def _m_doesNotContain(self, node: ast.MethodCall) -> Val:
        return self._string_method(node, self.d.contains, negate=True)

    def _m_startsWith(self, node: ast.MethodCall) -> Val:
        return self._string_method(node, self.d.starts_with)

    def _m_doesNotStartWith(self, node: ast.MethodCall) -> Val:
        return self._string_method(node, self.d.starts_with, negate=True)

    def _m_endsWith(self, node: ast.MethodCall) -> Val:
        return self._string_method(node, self.d.ends_with)

    def _m_doesNotEndWith(self, node: ast.MethodCall) -> Val:
        return self._string_method(node, self.d.ends_with, negate=True)

    def _m_notEqualTo(self, node: ast.MethodCall) -> Val:
        return self._string_method(node, lambda a, b: exp.EQ(this=a, expression=b), negate=True)

    def _m_equals(self, node: ast.MethodCall) -> Val:
        args = list(node.args)
        flag: ast.Expr | None = None
        if len(args) > 1 and isinstance(args[-1], ast.Boolean):
            flag, args = args[-1], args[:-1]
        if len(args) > 1 and any(not isinstance(a, ast.String) for a in args):
            raise self.refuse(node, "`equals` with several values that are not string literals")
        parts = []
        for option in args:
            call = ast.MethodCall(node.receiver, "equals",
                                  (option,) if flag is None else (option, flag), span=node.span)
            parts.append(self._string_method(call, lambda a, b: exp.EQ(this=a, expression=b)))
        if len(parts) == 1:
            return parts[0]
        out = _paren(_coalesce_false(parts[0].sql))
        for p in parts[1:]:
            out = exp.Or(this=out, expression=_paren(_coalesce_false(p.sql)))
        return Val(out, BOOLEAN, False)

    def _m_matches(self, node: ast.MethodCall) -> Val:
        return self._pattern(node, self._receiver(node), node.args[0], like=False)

    def _date_part(self, node: ast.MethodCall, part: str) -> Val:
        v = self._receiver(node)
        if v.type == NULL:
            return Val(exp.null(), NULL)
        ts = self._as_timestamp(v, node)
        fn = {"year": self.d.year, "month": self.d.month, "day": self.d.day}[part]
        return Val(fn(ts), BIGINT)

    def _m_getYear(self, node: ast.MethodCall) -> Val:
        return self._date_part(node, "year")

    def _m_getMonth(self, node: ast.MethodCall) -> Val:
        return self._date_part(node, "month")

    def _m_getDayOfMonth(self, node: ast.MethodCall) -> Val:
        return self._date_part(node, "day")

    def _m_map(self, node: ast.MethodCall) -> Val:
        from pqltools.engines.lists import map_values
        return map_values(self, node)

    def _m_topN(self, node: ast.MethodCall) -> Val:
        from pqltools.engines.lists import ranked
        return ranked(self, node, highest=True)

    def _m_bottomN(self, node: ast.MethodCall) -> Val:
        from pqltools.engines.lists import ranked
        return ranked(self, node, highest=False)

    def _m_groupBy(self, node: ast.MethodCall) -> Val:
        raise self.refuse(node, "the method `groupBy`: its value is a map from each key to its "
                          "elements, an object whose keys are data, which no SQL column type "
                          "holds with the interpreter's meaning")

    def _m_get(self, node: ast.MethodCall) -> Val:
        from pqltools.engines.values import get_value
        return get_value(self, node)

    def _m_head(self, node: ast.MethodCall) -> Val:
        v = self._receiver(node)
        if not isinstance(v.type, ListOf):
            return v
        return Val(exp.Bracket(this=v.sql, expressions=[_lit(1 if self.d.name == "duckdb"
                                                             else 0)],
                               offset=1 if self.d.name == "duckdb" else 0, safe=True),
                   v.type.item)

    # ------------------------------------------------------------ element scopes

    def _filtered(self, items: Val, cond: ast.Expr, node: ast.Node) -> Val:
        if items.type == NULL:
            return Val(exp.Array(expressions=[]), ListOf(NULL), False)
        if not isinstance(items.type, ListOf):
            raise self.refuse(node, f"a filter over a {describe(items.type)} (not a list)")
        p = self.fresh()
        if isinstance(cond, ast.Lambda):
            if len(cond.params) != 1:
                raise self.refuse(cond, "a lambda with more than one parameter")
            test = self.scoped_test(cond.body, _Var(cond.params[0],
                                                    Val(var(p), items.type.item)))
        else:
            test = self.scoped_test(cond, _Elem(p, items.type.item))
        return Val(self.d.filter(items.sql, p, test), items.type, items.nullable)

    def _per_element(self, items: Val, body: ast.Expr, node: ast.Node) -> Val:
        if items.type == NULL:
            return Val(exp.Array(expressions=[]), ListOf(NULL), False)
        if not isinstance(items.type, ListOf):
            raise self.refuse(node, f"an element expression over a {describe(items.type)}")
        p = self.fresh()
        value = self.scoped(body, _Elem(p, items.type.item))
        self._known(value, body)
        if isinstance(value.type, ListOf):
            raise self.refuse(body, "an element expression whose value is a list")
        return Val(self.d.transform(items.sql, p, value.sql), ListOf(value.type), items.nullable)

    def visit_Filter(self, node: ast.Filter) -> Val:
        return self._filtered(self.visit(node.receiver), node.condition, node)

    # ------------------------------------------------------------ binders

    def _binding_source(self, b: ast.Binding) -> Val:
        src = self.visit(b.source)
        self._known(src, b.source)
        if src.type == NULL:
            return Val(exp.Array(expressions=[]), ListOf(NULL), False)
        if not isinstance(src.type, ListOf):
            raise self.refuse(b.source, f"a binding over a {describe(src.type)} (not a list)")
        return src

    def _any_tuple(self, bindings: tuple[ast.Binding, ...], i: int = 0) -> exp.Expression:
        """Whether some tuple of the bindings from ``i`` on satisfies every condition."""
        if i == len(bindings):
            return exp.true()
        b = bindings[i]
        src = self._binding_source(b)
        assert isinstance(src.type, ListOf)
        p = self.fresh("v")
        frame = _Var(b.var, Val(var(p), src.type.item))
        self.frames.append(frame)
        try:
            parts = []
            if b.condition is not None:
                parts.append(_paren(self.test(b.condition)))
            if i + 1 < len(bindings):
                parts.append(_paren(self._any_tuple(bindings, i + 1)))
        finally:
            self.frames.pop()
        cond = parts[0] if parts else exp.true()
        for extra in parts[1:]:
            cond = exp.And(this=cond, expression=extra)
        return _coalesce_false(exp.GT(this=self.d.size(self.d.filter(src.sql, p, cond)),
                                      expression=_lit(0)))

    def _all_tuples(self, bindings: tuple[ast.Binding, ...], i: int = 0) -> exp.Expression:
        """Whether every element of every source satisfies its condition (true over nothing)."""
        if i == len(bindings):
            return exp.true()
        b = bindings[i]
        src = self._binding_source(b)
        assert isinstance(src.type, ListOf)
        p = self.fresh("v")
        self.frames.append(_Var(b.var, Val(var(p), src.type.item)))
        try:
            parts = []
            if b.condition is not None:
                parts.append(_paren(self.test(b.condition)))
            if i + 1 < len(bindings):
                parts.append(_paren(self._all_tuples(bindings, i + 1)))
        finally:
            self.frames.pop()
        if not parts:
            return exp.true()
        cond = parts[0]
        for extra in parts[1:]:
            cond = exp.And(this=cond, expression=extra)
        failing = self.d.filter(src.sql, p, exp.Not(this=_paren(cond)))
        return _coalesce_false(exp.EQ(this=self.d.count(failing), expression=_lit(0)))

    def visit_Select(self, node: ast.Select) -> Val:
        if len(node.bindings) == 1:
            # one variable: its value is the list of matching elements, in order
            b = node.bindings[0]
            src = self._binding_source(b)
            assert isinstance(src.type, ListOf)
            if b.condition is None:
                return src
            p = self.fresh("v")
            cond = self.scoped_test(b.condition, _Var(b.var, Val(var(p), src.type.item)))
            return Val(self.d.filter(src.sql, p, cond), src.type, src.nullable)
        # several variables: a list of tuples mixing types, which no SQL array holds; only the
        # Boolean meaning (is there a tuple?) compiles
        return Val(self._any_tuple(node.bindings), BOOLEAN, False, truth_only=node)

    def visit_Quantifier(self, node: ast.Quantifier) -> Val:
        if node.kind in ("exists", "some"):
            return Val(self._any_tuple(node.bindings), BOOLEAN, False)
        return Val(self._all_tuples(node.bindings), BOOLEAN, False)

    def visit_Aggregate(self, node: ast.Aggregate) -> Val:
        if len(node.bindings) != 1:
            raise self.refuse(node, f"`{node.func} ... over` with several variables")
        b = node.bindings[0]
        src = self._binding_source(b)
        assert isinstance(src.type, ListOf)
        p = self.fresh("v")
        frame = _Var(b.var, Val(var(p), src.type.item))
        self.frames.append(frame)
        try:
            cond = self.test(b.condition) if b.condition is not None else None
            value = self.visit(node.value) if node.value is not None else frame.val
        finally:
            self.frames.pop()
        self._known(value, node.value or node)
        if isinstance(value.type, ListOf):
            raise self.refuse(node, f"`{node.func} ... over` of a list value")
        chosen = self.d.filter(src.sql, p, cond) if cond is not None else src.sql
        values = self.d.transform(chosen, p, value.sql)
        return self._aggregate_values(node, node.func, Val(values, ListOf(value.type)))

    def visit_Let(self, node: ast.Let) -> Val:
        v = self.visit(node.value)
        return self.scoped(node.body, _Var(node.name, v))

    def visit_Lambda(self, node: ast.Lambda) -> Val:
        raise self.refuse(node, "a lambda outside a filter")

    # ------------------------------------------------------------ time

    def _as_ms(self, v: Val, node: ast.Node) -> exp.Expression:
        """Epoch milliseconds of a timestamp value (ISO string, number or TIMESTAMP)."""
        t = v.type
        if t == STRING:
            return self._parsed_ms(v, node)
        if isinstance(t, Scalar) and t.kind == "timestamp":
            return self.d.epoch_ms(v.sql)
        if t == DOUBLE:
            return self.d.truncate(v.sql)  # to_millis: int() of a float
        if isinstance(t, Scalar) and t.is_number:
            return v.sql
        if t == BOOLEAN or isinstance(t, Struct):
            # never a timestamp: a value stops the query, as the interpreter's error does
            where = f" at line {node.span.line}, column {node.span.column}" \
                if getattr(node.span, "line", 0) else ""
            return self._checked(v, exp.Cast(this=exp.null(), to=exp.DataType.build("BIGINT")),
                                 exp.Literal.string(f"`occurs` needs a timestamp{where}: a "
                                                    f"{describe(t)} is not one"))
        raise self.refuse(node, f"`occurs` on a {describe(t)}")

    def _parsed_ms(self, v: Val, node: ast.Node) -> exp.Expression:
        """Epoch ms of an ISO-8601 string; a string that is not one stops the query, as the
        interpreter's evaluation error does."""
        where = f" at line {node.span.line}, column {node.span.column}" \
            if getattr(node.span, "line", 0) else ""
        return self._checked(v, self.d.iso_to_ms(v.sql),
                             exp.Literal.string(f"a value{where} is not an ISO-8601 timestamp"))

    def _checked(self, v: Val, ms: exp.Expression, message: exp.Expression) -> exp.Expression:
        """``ms``, or an evaluation error (``message``) when ``v`` has a value but ``ms`` is
        null: the value is not a timestamp."""
        bad = exp.And(this=exp.Is(this=ms.copy(), expression=exp.Null()),
                      expression=exp.Not(this=exp.Is(this=v.sql.copy(), expression=exp.Null())))
        return exp.Case(ifs=[exp.If(this=bad, true=self._fail_bigint(message))], default=ms)

    def _fail_bigint(self, message: exp.Expression) -> exp.Expression:
        return exp.Cast(this=self.d.fail(message), to=exp.DataType.build("BIGINT"))

    def _ms_or_null(self, v: Val) -> exp.Expression:
        """Epoch ms of any value as the interpreter's ``to_millis`` reads it: an ISO-8601
        string, a number (truncated), a TIMESTAMP; null for a value that is not a timestamp
        (a Boolean, a list, an object) and for null."""
        t = v.type
        if t == STRING:
            return self.d.iso_to_ms(v.sql)
        if isinstance(t, Scalar) and t.kind == "timestamp":
            return self.d.epoch_ms(v.sql)
        if t == DOUBLE:
            return self.d.truncate(v.sql)
        if t == BIGINT:
            return v.sql
        if t == JSON:
            # a path with strings in some rows and numbers in others holds JSON text
            text = exp.Cast(this=v.sql, to=exp.DataType.build("TEXT"))
            quoted = exp.Substring(this=text.copy(), start=_lit(2), length=exp.Sub(
                this=exp.Length(this=text.copy()), expression=_lit(2)))
            number = exp.TryCast(this=text.copy(), to=exp.DataType.build("DOUBLE"), safe=True)
            return exp.Case(ifs=[exp.If(this=self.d.starts_with(text.copy(), _lit('"')),
                                        true=self.d.iso_to_ms(quoted))],
                            default=self.d.truncate(number))
        return exp.Cast(this=exp.null(), to=exp.DataType.build("BIGINT"))

    def _as_timestamp(self, v: Val, node: ast.Node) -> exp.Expression:
        if isinstance(v.type, Scalar) and v.type.kind == "timestamp":
            return v.sql
        if v.type == STRING:
            return self.d.ms_to_timestamp(self._parsed_ms(v, node))
        if isinstance(v.type, Scalar) and v.type.is_number:
            return self.d.ms_to_timestamp(v.sql)
        raise self.refuse(node, f"a date function on a {describe(v.type)}")

    def visit_Occurs(self, node: ast.Occurs) -> Val:
        window = self.window(node.phrase)
        subject = self.visit(node.subject)
        self._known(subject, node.subject)
        if subject.type == NULL or window is None:
            return Val(_false(), BOOLEAN, False)

        def within(s: Val) -> Val:
            if s.type == NULL:
                return Val(_false(), BOOLEAN, False)
            return Val(_in_window(self._as_ms(s, node.subject), window), BOOLEAN, True)
        if isinstance(subject.type, ListOf):
            return self._exists_item(subject, within)
        return within(subject)

    def window(self, phrase: ast.Node) -> Window | SqlWindow | None:
        """The phrase's window: computed in Python from the run's ``now`` when its references
        are static (keywords, calendar periods), else SQL bounds from the reference's value
        (None when that value is always null: the phrase matches nothing)."""
        refs = [phrase.reference] if isinstance(phrase, (ast.AtTime, ast.RelativeTime)) else \
            [phrase.start, phrase.end] if isinstance(phrase, ast.BetweenTimes) else []
        if not refs:
            raise self.refuse(phrase, f"the time phrase {type(phrase).__name__}")
        if all(isinstance(r, (ast.TimeKeyword, ast.CalendarPeriod)) for r in refs):
            if isinstance(phrase, ast.AtTime):
                return at_window(self.reference(phrase.reference)[0])
            if isinstance(phrase, ast.BetweenTimes):
                return between_window(self.reference(phrase.start)[0],
                                      self.reference(phrase.end)[0])
            assert isinstance(phrase, ast.RelativeTime)
            ref, instant = self.reference(phrase.reference)
            return relative_window(phrase.comparator, phrase.amount, phrase.unit,
                                   phrase.direction, ref, instant)
        sql_refs = [self.sql_reference(r) for r in refs]
        if any(r is None for r in sql_refs):
            return None
        if isinstance(phrase, ast.AtTime):
            ref0 = sql_refs[0]
            assert ref0 is not None
            return ((ref0.start, _minus(ref0.end, 1)),)
        if isinstance(phrase, ast.BetweenTimes):
            start, end = sql_refs
            assert start is not None and end is not None
            return ((start.start, _minus(end.end, 1)),)
        assert isinstance(phrase, ast.RelativeTime) and sql_refs[0] is not None
        return self._relative_sql(phrase, sql_refs[0])

    def reference(self, ref: ast.Node) -> tuple[Interval, bool]:
        if isinstance(ref, ast.TimeKeyword):
            return keyword_interval(self.clock.now, ref.word), ref.word == "now"
        if isinstance(ref, ast.CalendarPeriod):
            return calendar_period(self.clock.now, ref.relation, ref.unit), False
        raise self.refuse(ref, "a time reference that is an expression (only now, today, "
                          "yesterday, tomorrow and this/last/next UNIT)")

    def sql_reference(self, ref: ast.Node) -> _SqlInterval | None:
        """A time reference as SQL bounds: a static one as literals, an expression as the
        one-millisecond instant of its value (an evaluation error when that value is not a
        timestamp, None when it is always null)."""
        if isinstance(ref, (ast.TimeKeyword, ast.CalendarPeriod)):
            interval, instant = self.reference(ref)
            return _SqlInterval(_lit(interval.start), _lit(interval.end), instant)
        if isinstance(ref, ast.Call) and ref.name == "date":
            return self._date_reference(ref)
        stamp = self._label_time(ref)
        if stamp is not None:
            return _SqlInterval(stamp, _minus(stamp, -1), True)
        v = self.visit(ref)
        if v.root or v.truth_only is not None:
            self._known(v, ref)
        if v.type == NULL:
            return None
        if v.type == DATE:  # a day (a variable bound to `date(...)`): the whole day
            from pqltools.engines.values import date_bounds
            return _SqlInterval(*date_bounds(self, v), False)
        where = f" at line {ref.span.line}, column {ref.span.column}" \
            if getattr(ref.span, "line", 0) else ""
        ms = self._checked(v, self._ms_or_null(v), exp.Literal.string(
            f"time reference{where}: not an ISO-8601 timestamp or epoch milliseconds"))
        return _SqlInterval(ms, exp.Add(this=_paren(ms.copy()), expression=_lit(1)), True)

    def _label_time(self, ref: ast.Node) -> exp.Expression | None:
        """The epoch ms of ``LABEL.<timestamp field>`` of an enclosing chain, which the chain
        has already computed (and checked), or None for any other reference."""
        names: list[str] = []
        while isinstance(ref, ast.Attribute):
            names.append(ref.name)
            ref = ref.receiver
        if not names or not isinstance(ref, ast.Name) or \
                self.scopes.resolution(ref).kind is not NameKind.VARIABLE:
            return None
        bound = [f for f in self.frames if isinstance(f, _Var) and f.name == ref.id]
        if not bound or bound[-1].stamp is None:
            return None
        field, ms = bound[-1].stamp
        return ms.copy() if ".".join(reversed(names)) == field else None

    def _date_reference(self, node: ast.Call) -> _SqlInterval | None:
        """``date(y, m, d)`` as a reference: its UTC day, computed by the interpreter's own
        function when the arguments are constants (numbers, ``currentYear()``, arithmetic);
        an invalid day stops the query, as the interpreter's evaluation error does."""
        from pqltools.runtime.compiler import compile as compile_pql
        from pqltools.runtime.functions import GLOBAL_IMPLS, EvalProblem
        if not all(_constant(a) for a in node.args):
            raise self.refuse(node, "`date(...)` whose arguments are not constants")
        args = [compile_pql(a).evaluate_value({}, None, now=self.clock) for a in node.args]
        try:
            day = GLOBAL_IMPLS["date"](None, *args)
        except EvalProblem as exc:
            fail = self._fail_bigint(exp.Literal.string(f"date(...): {exc}"))
            return _SqlInterval(fail, fail.copy(), False)
        if day is None:
            return None
        return _SqlInterval(_lit(day.start), _lit(day.end), False)

    def _relative_sql(self, p: ast.RelativeTime, ref: _SqlInterval) -> SqlWindow:
        """:func:`relative_window` with SQL bounds (the same table, row for row)."""
        if p.comparator is None or p.amount is None or p.unit is None:
            if p.direction == "before":
                return ((None, _minus(ref.start, 1)),)
            if p.direction == "after":
                return ((ref.end, None),)
            return ((ref.start, None),)
        amount, unit = p.amount, p.unit
        if p.direction == "before":
            anchor = ref.start
            nearest = anchor if ref.instant else _minus(anchor, 1)
            edge = self._shift(anchor, -amount, unit)
            beyond = self._shift(anchor, -(amount + 1), unit)
            ranges: dict[str, SqlWindow] = {
                "<": ((_minus(edge, -1), nearest),),
                "<=": ((edge, nearest),),
                ">": ((None, _minus(edge, 1)),),
                ">=": ((None, edge),),
                "=": ((_minus(beyond, -1), edge),),
                "!=": ((None, beyond), (_minus(edge, -1), nearest)),
            }
        else:
            anchor = ref.start if (ref.instant or p.direction == "from") else ref.end
            edge = self._shift(anchor, amount, unit)
            beyond = self._shift(anchor, amount + 1, unit)
            ranges = {
                "<": ((anchor, _minus(edge, 1)),),
                "<=": ((anchor, edge),),
                ">": ((_minus(edge, -1), None),),
                ">=": ((edge, None),),
                "=": ((edge, _minus(beyond, 1)),),
                "!=": ((anchor, _minus(edge, 1)), (beyond, None)),
            }
        return ranges[p.comparator]

    def _shift(self, ms: exp.Expression, amount: int, unit: str) -> exp.Expression:
        """:func:`~pqltools.runtime.timephrases.shift` in SQL."""
        fixed = UNIT_MILLIS.get(unit)
        if fixed is not None:
            return _minus(ms, -amount * fixed)
        return self.d.add_months_ms(ms.copy(), amount * UNIT_MONTHS[unit])

    # ------------------------------------------------------------ sequences

    def visit_Chain(self, node: ast.Chain) -> Val:
        """``chain(...)``: a left fold over the events sorted by time (docs/engines.md).

        Every event becomes ``{ts, pos, c0, c1, ...}``: its epoch ms, its 1-based position and,
        for each step, whether it satisfies the clauses of that step that read no earlier label
        (computed once per event, outside the fold). These are sorted by time, then position
        (the interpreter's stable sort). The fold's state is the step being matched, how many
        events matched it so far, the time the previous step was completed at, and the
        position and time of each label's event. An event moves the state only when it is
        strictly later than the previous step and satisfies the current step (the clauses that
        read an earlier label are evaluated in the fold, on the event at ``pos``): exactly the
        interpreter's greedy, earliest-first scan.
        """
        events = self.visit(node.events)
        self._known(events, node.events)
        if events.type == NULL or isinstance(events.type, ListOf) and events.type.item == NULL:
            return Val(_false(), BOOLEAN, False)  # no events: no sequence
        if not isinstance(events.type, ListOf) or not isinstance(events.type.item, Struct):
            raise self.refuse(node.events, f"`chain` over a {describe(events.type)} (not a "
                              "list of events)")
        item = events.type.item
        steps = node.steps
        labels = [f"label{j}" for j in range(len(steps))]
        times = [f"time{j}" for j in range(len(steps))]
        # per step: (clauses evaluated once per event, clauses that read an earlier label)
        split = [self._chain_clauses(step, {s.label for s in steps[:j]})
                 for j, step in enumerate(steps)]
        stamps = self._chain_stamps(node, events.sql, item, [own for own, _ in split])
        acc, x = self.fresh("acc"), self.fresh("x")

        def state(step: exp.Expression, seen: exp.Expression, after: exp.Expression,
                  bound: dict[str, exp.Expression]) -> exp.Expression:
            fields = [("step", step), ("seen", seen), ("after", after)]
            fields += [(name, bound.get(name, _dot(var(acc), name))) for name in labels + times]
            # every field BIGINT: Spark's aggregate wants the state's type exactly
            return self.d.struct([(k, exp.Cast(this=v, to=exp.DataType.build("BIGINT"))
                                   if isinstance(v, (exp.Literal, exp.Null)) else v)
                                  for k, v in fields])

        at, pos = _dot(var(x), "ts"), _dot(var(x), "pos")
        ifs: list[exp.If] = []
        for j, step in enumerate(steps):
            parts: list[exp.Expression] = [
                exp.EQ(this=_dot(var(acc), "step"), expression=_lit(j)),
                exp.GT(this=at.copy(), expression=_dot(var(acc), "after"))]
            if split[j][0]:
                parts.append(_dot(var(x), f"c{j}"))
            if split[j][1]:
                bound = [_Var(s.label, Val(self.d.element(events.sql.copy(),
                                                          _dot(var(acc), name)), item),
                              (node.timestamp_field, _dot(var(acc), time)))
                         for s, name, time in zip(steps[:j], labels, times)]
                here = _Elem(self.fresh("ev"), item, self.d.element(events.sql.copy(), pos))
                parts += self._chain_tests(split[j][1], at, [*bound, here])
            cond = parts[0]
            for part in parts[1:]:
                cond = exp.And(this=cond, expression=part)
            need = step.count or 1
            matched = state(_lit(j + 1), _lit(0), at.copy(), {labels[j]: pos.copy(),
                                                               times[j]: at.copy()})
            if need > 1:
                counted = state(_lit(j), exp.Add(this=_dot(var(acc), "seen"),
                                                 expression=_lit(1)),
                                _dot(var(acc), "after"), {})
                matched = exp.Case(ifs=[exp.If(this=exp.GTE(
                    this=exp.Add(this=_dot(var(acc), "seen"), expression=_lit(1)),
                    expression=_lit(need)), true=matched)], default=counted)
            ifs.append(exp.If(this=cond, true=matched))
        initial = state(_lit(0), _lit(0), _lit(NEG_INF),
                        {name: exp.null() for name in labels + times})
        body = exp.Case(ifs=ifs, default=var(acc))
        folded = self.d.reduce(self.d.sort(stamps), acc, x, body, initial)
        done = exp.EQ(this=_dot(folded, "step"), expression=_lit(len(steps)))
        return Val(done, BOOLEAN, True)

    def _chain_clauses(self, step: ast.ChainStep, earlier: set[str]
                       ) -> tuple[list[ast.Node], list[ast.Node]]:
        """A step's clauses split into those that read no earlier label and those that do."""
        own: list[ast.Node] = []
        later: list[ast.Node] = []
        for clause in (step.what, step.when, step.where):
            if clause is None:
                continue
            reads_label = any(
                isinstance(n, ast.Name) and n.id in earlier
                and self.scopes.resolution(n).kind is NameKind.VARIABLE for n in clause.walk())
            (later if reads_label else own).append(clause)
        return own, later

    def _chain_tests(self, clauses: list[ast.Node], at: exp.Expression,
                     frames: list[_Elem | _Var]) -> list[exp.Expression]:
        """The SQL of a step's clauses (``WHAT``/``WHERE`` tested on the element, ``WHEN`` on
        its time ``at``) with ``frames`` in scope."""
        tests: list[exp.Expression] = []
        self.frames.extend(frames)
        try:
            for clause in clauses:
                if isinstance(clause, (ast.AtTime, ast.BetweenTimes, ast.RelativeTime)):
                    window = self.window(clause)
                    tests.append(_coalesce_false(_in_window(at.copy(), window))
                                 if window is not None else _false())
                else:
                    tests.append(_paren(self.test(clause)))
        finally:
            del self.frames[len(self.frames) - len(frames):]
        return tests

    def _chain_stamps(self, node: ast.Chain, events: exp.Expression, item: Struct,
                      own: list[list[ast.Node]]) -> exp.Expression:
        """The events as ``{ts, pos, c0, ...}`` (epoch ms, 1-based position, whether the event
        satisfies each step's clauses that read no label); an event whose field is missing or
        not a timestamp stops the query, as the interpreter's evaluation error does."""
        e, i, s = self.fresh("e"), self.fresh("i"), self.fresh("s")
        raw = Val(var(e), item)
        field = node.timestamp_field
        for name in field.split("."):
            t = raw.type.get(name) if isinstance(raw.type, Struct) else None
            if t is None or t == NULL:
                raw = Val(exp.Cast(this=exp.null(), to=exp.DataType.build("BIGINT")), NULL)
                break
            if t == JSON and name != field.split(".")[-1]:
                raise self.refuse(node, f"the timestamp path `{field}` through values of "
                                  "different JSON types")
            raw = Val(_dot(raw.sql, name), t)
        # first pass: the time (null when missing or not a timestamp) next to the event
        first = self.d.transform_indexed(events.copy(), e, i, self.d.struct([
            ("ms", self._ms_or_null(raw) if raw.type != NULL else raw.sql),
            ("missing", exp.Is(this=raw.sql.copy(), expression=exp.Null())),
            ("pos", exp.Cast(this=_minus(var(i), self.d.index_base - 1),
                             to=exp.DataType.build("BIGINT"))),
            ("event", var(e))]))
        # second pass: the time checked, and each step's own clauses
        index = exp.Cast(this=_minus(_dot(var(s), "pos"), 1), to=exp.DataType.build("TEXT"))

        def message(problem: str) -> exp.Expression:
            return exp.Anonymous(this="concat", expressions=[
                _lit("chain: event "), index.copy(), _lit(f" {problem}")])
        ms = _dot(var(s), "ms")
        stamp = exp.Case(ifs=[
            exp.If(this=_dot(var(s), "missing"),
                   true=self._fail_bigint(message(f"has no `{field}` to order it by"))),
            exp.If(this=exp.Is(this=ms.copy(), expression=exp.Null()),
                   true=self._fail_bigint(message(
                       f"`{field}` is not an ISO-8601 timestamp or epoch milliseconds")))],
            default=ms.copy())
        fields: list[tuple[str, exp.Expression]] = [("ts", stamp), ("pos", _dot(var(s), "pos"))]
        here = _Elem(self.fresh("ev"), item, _dot(var(s), "event"))
        for j, clauses in enumerate(own):
            if clauses:
                tests = self._chain_tests(clauses, ms, [here])
                test = tests[0]
                for extra in tests[1:]:
                    test = exp.And(this=test, expression=extra)
                fields.append((f"c{j}", test))
        return self.d.transform(first, s, self.d.struct(fields))

    def generic_visit(self, node: ast.Node) -> Val:
        raise self.refuse(node, f"{type(node).__name__}")


@dataclass(frozen=True)
class _SqlInterval:
    """A time reference in SQL: ``[start, end)`` in epoch ms; an instant or a period."""

    start: exp.Expression
    end: exp.Expression
    instant: bool


#: A window with SQL bounds: inclusive (low, high) ranges, None where unbounded.
SqlWindow = tuple[tuple[exp.Expression | None, exp.Expression | None], ...]


def _constant(node: ast.Node) -> bool:
    """Whether ``node``'s value depends on nothing but the clock (numbers, arithmetic,
    ``currentYear()`` and its kin)."""
    if isinstance(node, (ast.Number, ast.String, ast.Boolean)):
        return True
    if isinstance(node, ast.Call):
        return node.name in ("currentYear", "currentMonth", "currentDayOfMonth") \
            and not node.args
    if isinstance(node, (ast.BinOp, ast.Neg)):
        return all(_constant(c) for c in node.children())
    return False


def _dot(base: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=base.copy(), expression=exp.to_identifier(name, quoted=True))


def _minus(e: exp.Expression, n: int) -> exp.Expression:
    """``e - n`` (``e + -n`` for a negative n), folded when ``e`` is a number literal."""
    if isinstance(e, exp.Literal) and e.is_number:
        return _lit(int(e.this) - n)
    if n == 0:
        return e.copy()
    if n < 0:
        return exp.Add(this=_paren(e.copy()), expression=_lit(-n))
    return exp.Sub(this=_paren(e.copy()), expression=_lit(n))


def _in_window(ms: exp.Expression, window: Window | SqlWindow) -> exp.Expression:
    if not window:
        return _false()
    parts: list[exp.Expression] = []
    for lo, hi in window:
        low = (_lit(lo) if lo > NEG_INF else None) if isinstance(lo, int) else lo
        high = (_lit(hi) if hi < POS_INF else None) if isinstance(hi, int) else hi
        bounds: list[exp.Expression] = []
        if low is not None:
            bounds.append(exp.GTE(this=ms.copy(), expression=low.copy()))
        if high is not None:
            bounds.append(exp.LTE(this=ms.copy(), expression=high.copy()))
        if not bounds:
            bounds.append(exp.Not(this=exp.Is(this=ms.copy(), expression=exp.Null())))
        if len(bounds) == 2:
            assert low is not None and high is not None
            bounds = [exp.Between(this=ms.copy(), low=low.copy(), high=high.copy())]
        parts.append(bounds[0])
    out = parts[0] if len(parts) == 1 else _paren(parts[0])
    for extra in parts[1:]:
        out = exp.Or(this=out, expression=_paren(extra))
    return _paren(out)


def _utc(ms: int) -> Any:
    from pqltools.runtime.timephrases import from_millis
    return from_millis(ms)
