"""The reference interpreter: PQL compiled once into a tree of Python closures, run many times.

:func:`compile` parses (if given text), resolves every name against its scope, checks functions
against :mod:`pqltools.catalog`, pre-compiles literal regular expressions and builds one closure
per node; :meth:`Program.evaluate` then only runs closures. No source is generated and nothing is
passed to ``eval``/``exec``.

Names are resolved once, by :func:`pqltools.analysis.scope.resolve` (the resolver the linter
and the language server use; rule in docs/semantics.md "Names"): a variable in scope is that
variable; otherwise, inside an element scope (a filter ``a[...]``, an element-scoped method
argument such as ``sum(price)``, a chain's ``WHAT``/``WHERE``), a bare name is the innermost
element's field if the element has it, then an outer element's, then the profile's. Only "does
the element have this field" is tested at run time. Unknown functions and wrong argument counts
are the linter's findings PQL101-PQL103 (:func:`pqltools.analysis.lint.check_calls`).
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pqltools import catalog
from pqltools.analysis.scope import NameKind, Scopes, resolve
from pqltools.errors import (
    Diagnostic,
    PQLEvaluationError,
    PQLValidationError,
    Severity,
    Span,
)
from pqltools.records import record
from pqltools.runtime import functions
from pqltools.runtime.context import Clock, Context, evaluation_error, make_clock
from pqltools.runtime.regex import RegexError, compile_regex, like_regex
from pqltools.runtime.timephrases import (
    DAY,
    NEG_INF,
    POS_INF,
    UNIT_MILLIS,
    Interval,
    TimestampError,
    Window,
    at_window,
    between_window,
    calendar_period,
    keyword_interval,
    relative_window,
    to_millis,
)
from pqltools.runtime.values import (
    MapEntry,
    arithmetic,
    compare,
    get_field,
    in_list,
    is_number,
    map_key,
    truthy,
    type_name,
)
from pqltools.syntax import ast
from pqltools.syntax.parser import parse
from pqltools.syntax.visitor import Visitor

__all__ = ["Limits", "Program", "compile", "evaluate", "evaluate_value", "to_json_value"]

Fn = Callable[[Context], Any]
WindowFn = Callable[[Context], "Window | None"]
_MISSING = object()


@record(frozen=True, slots=True)
class Limits:
    """Bounds that keep untrusted definitions and inputs from running away.

    ``max_combinations`` caps the tuples one ``select``/``exists``/``forall``/``sum ... over``
    with several variables may enumerate per evaluation (the cross product of two 5,000-event
    lists is 25 million). ``max_cost`` caps the elements that filters and list methods nested
    inside another iteration may visit per evaluation (``a[b[c[...]]]`` costs n^k), in the
    spirit of cel-go's cost budget; docs/limits.md.
    """

    max_combinations: int = 2_000_000
    max_cost: int = 10_000_000


#: Key of the remaining cost budget in ``Context.vars`` (no PQL name can hold a NUL).
_BUDGET = "\x00cost"


# ---------------------------------------------------------------- scopes


@record(frozen=True, slots=True)
class _Elem:
    """An element scope level (its index into ``ctx.elems``)."""

    depth: int


#: Variables need no frame: the resolver (analysis/scope) says which names are variables, and
#: they are read from ``ctx.vars`` by name.
_Frame = _Elem


class _Compiler(Visitor[Fn]):
    """Turns a syntax tree into closures; one instance per compiled program."""

    def __init__(self, text: str | None, limits: Limits, scopes: Scopes) -> None:
        self.text = text
        self.limits = limits
        self.scopes = scopes
        self.frames: list[_Frame] = []
        #: how many iterations enclose the node being compiled (filters, element functions)
        self.loops = 0
        #: whether some nested iteration charges the cost budget
        self.charged = False

    # ------------------------------------------------------------ helpers

    def error(self, message: str, node: ast.Node, code: str = "PQL410") -> PQLValidationError:
        """A compile-time error at ``node``."""
        return PQLValidationError([Diagnostic(code, message, Severity.ERROR, node.span)],
                                  self.text)

    @property
    def depth(self) -> int:
        return sum(1 for f in self.frames if isinstance(f, _Elem))

    def scoped(self, node: ast.Node, *frames: _Frame) -> Fn:
        """Compile ``node`` with extra frames pushed (removed afterwards)."""
        self.frames.extend(frames)
        try:
            return self.visit(node)
        finally:
            del self.frames[len(self.frames) - len(frames):]

    def test(self, node: ast.Node) -> Callable[[Context], bool]:
        """Compile ``node`` for a Boolean position (§5.1 coercion; short-circuiting binders)."""
        if isinstance(node, (ast.Compare, ast.BoolOp, ast.Not, ast.Occurs, ast.Chain,
                             ast.Quantifier)):
            return self.visit(node)
        if isinstance(node, ast.Select):
            return self._select_any(node)
        fn = self.visit(node)

        def coerce(ctx: Context) -> bool:
            return truthy(fn(ctx))
        return coerce

    def guarded(self, fn: Callable[..., Any], node: ast.Node) -> Callable[..., Any]:
        """Wrap a runtime helper so that its problems become errors pointing at ``node``."""
        span, text = node.span, self.text

        def run(*args: Any) -> Any:
            try:
                return fn(*args)
            except (functions.EvalProblem, TimestampError, RegexError) as exc:
                raise evaluation_error(str(exc), span, text) from None
        return run

    def charge(self, receiver: Fn, node: ast.Node) -> Fn:
        """``receiver``, charging the cost budget with its length when it is iterated inside
        another iteration (where costs multiply); unchanged at the top level."""
        if not self.loops:
            return receiver
        self.charged = True
        limit = self.limits.max_cost
        span, text = node.span, self.text

        def charged(ctx: Context) -> Any:
            items = receiver(ctx)
            variables = ctx.vars
            left = variables.get(_BUDGET, limit) - (len(items) if type(items) is list else 1)
            if left < 0:
                raise evaluation_error(
                    f"this expression visits more than {limit:,} elements for one profile "
                    "(nested filters or list functions multiply); narrow it, or raise "
                    "Limits.max_cost (docs/limits.md)", span, text)
            variables[_BUDGET] = left
            return items
        return charged

    def element_fn(self, node: ast.Expr) -> functions.ElementFn:
        """An element-scoped argument: a lambda binds its parameters, anything else the element."""
        self.loops += 1
        try:
            return self._element_fn(node)
        finally:
            self.loops -= 1

    def _element_fn(self, node: ast.Expr) -> functions.ElementFn:
        if isinstance(node, ast.Lambda):
            return self._lambda_element(node)
        body = self.scoped(node, _Elem(self.depth))

        def per_element(ctx: Context, item: Any, key: Any) -> Any:
            elems = ctx.elems
            elems.append(item)
            try:
                return body(ctx)
            finally:
                elems.pop()
        return per_element

    def _lambda_element(self, node: ast.Lambda) -> functions.ElementFn:
        if not 1 <= len(node.params) <= 2:
            raise self.error(f"a lambda here takes one parameter (the element) or two (key and "
                             f"group), not {len(node.params)}", node)
        body = self.visit(node.body)
        params = node.params

        def per_element(ctx: Context, item: Any, key: Any) -> Any:
            values = (item,) if len(params) == 1 else (key, item)
            with _bound(ctx, params, values):
                return body(ctx)
        return per_element

    # ------------------------------------------------------------ literals

    def visit_String(self, node: ast.String) -> Fn:
        return _constant(node.value)

    def visit_Number(self, node: ast.Number) -> Fn:
        return _constant(node.value)

    def visit_Boolean(self, node: ast.Boolean) -> Fn:
        return _constant(node.value)

    def visit_ListLiteral(self, node: ast.ListLiteral) -> Fn:
        if all(isinstance(i, (ast.String, ast.Number, ast.Boolean)) for i in node.items):
            return _constant([i.value for i in node.items])  # type: ignore[attr-defined]
        items = [self.visit(i) for i in node.items]
        return lambda ctx: [f(ctx) for f in items]

    def visit_ObjectLiteral(self, node: ast.ObjectLiteral) -> Fn:
        entries = [(e.key, self.visit(e.value)) for e in node.entries]
        return lambda ctx: {k: f(ctx) for k, f in entries}

    # ------------------------------------------------------------ names and paths

    def visit_Name(self, node: ast.Name) -> Fn:
        kind = self.scopes.resolution(node).kind
        name = node.id
        if kind is NameKind.VARIABLE:
            return lambda ctx: ctx.vars.get(name)
        if kind is NameKind.EVENTS:
            return _events
        depth = self.depth
        if kind is NameKind.THIS:
            if depth == 0:
                return lambda ctx: ctx.profile
            return lambda ctx: ctx.elems[depth - 1]
        return _lookup(name, list(range(depth - 1, -1, -1)))

    def _element_field(self, node: ast.Node) -> tuple[int, str] | None:
        """``(depth, name)`` when ``node`` is a bare name read from one element, else None."""
        if not isinstance(node, ast.Name) or self.depth != 1:
            return None
        kind = self.scopes.resolution(node).kind
        return (0, node.id) if kind is NameKind.ELEMENT_FIELD else None

    def _profile_path(self, node: ast.Node) -> tuple[str, ...] | None:
        """The names of ``a.b.c`` when ``node`` is a path that can only start at the profile."""
        if isinstance(node, ast.Name):
            return (node.id,) if self._is_profile_name(node) else None
        if isinstance(node, ast.Attribute):
            path = ast.dotted_path(node)
            root: ast.Expr = node
            while isinstance(root, ast.Attribute):
                root = root.receiver
            if path is not None and self._is_profile_name(root):
                return path
        return None

    def _is_profile_name(self, node: ast.Expr) -> bool:
        """Whether ``node`` is a bare name that the resolver binds to a field of the profile."""
        return isinstance(node, ast.Name) and (
            self.scopes.resolution(node).kind is NameKind.PROFILE_FIELD)

    def visit_Attribute(self, node: ast.Attribute) -> Fn:
        path = self._profile_path(node)
        if path is not None:
            return _profile_path(path)
        return _path(self.visit(node.receiver), (node.name,))

    def visit_Param(self, node: ast.Param) -> Fn:
        if node.position != 1:
            raise self.error(f"${node.position} is not available: a segment has one parameter, "
                             "the profile ($1)", node)
        return lambda ctx: ctx.profile

    def visit_ParentRef(self, node: ast.ParentRef) -> Fn:
        index = self.depth - 1 - node.levels
        if index < -1:
            raise self.error(f"{'^' * node.levels} climbs {node.levels} levels but only "
                             f"{self.depth} enclosing filter level(s) exist here", node)
        if index == -1:
            return lambda ctx: ctx.profile
        return lambda ctx: ctx.elems[index]

    def visit_ContextRef(self, node: ast.ContextRef) -> Fn:
        raise self.error("decisioning context data (@{...}) is only available inside Adobe "
                         "Journey Optimizer; it cannot be evaluated offline", node)

    # ------------------------------------------------------------ operators

    def visit_Not(self, node: ast.Not) -> Fn:
        operand = self.test(node.operand)
        return lambda ctx: not operand(ctx)

    def visit_Neg(self, node: ast.Neg) -> Fn:
        operand = self.visit(node.operand)

        def negate(ctx: Context) -> Any:
            v = operand(ctx)
            return -v if is_number(v) else None
        return negate

    def visit_BoolOp(self, node: ast.BoolOp) -> Fn:
        tests = [self.test(v) for v in node.values]
        if node.op == "and":
            if len(tests) == 2:
                a, b = tests
                return lambda ctx: a(ctx) and b(ctx)
            if len(tests) == 3:
                a, b, c = tests
                return lambda ctx: a(ctx) and b(ctx) and c(ctx)
            return lambda ctx: all(t(ctx) for t in tests)
        if len(tests) == 2:
            a, b = tests
            return lambda ctx: a(ctx) or b(ctx)
        return lambda ctx: any(t(ctx) for t in tests)

    def visit_Compare(self, node: ast.Compare) -> Fn:
        left = self.visit(node.left)
        if node.op in ("like", "matches"):
            return self._pattern_compare(node, left)
        right_node = node.right
        if node.op in ("in", "notIn"):
            return _membership(left, self.visit(right_node), right_node, node.op == "notIn",
                               self._profile_path(node.left))
        if isinstance(right_node, (ast.String, ast.Number, ast.Boolean)):
            field = self._element_field(node.left)
            if field is not None and node.op in ("=", "!="):
                return _element_compare_constant(node.op, *field, right_node.value)
            path = self._profile_path(node.left)
            if path is not None:
                fused = _profile_compare_constant(path, node.op, right_node.value)
                if fused is not None:
                    return fused
            return _compare_constant(node.op, left, right_node.value)
        right = self.visit(right_node)
        op = node.op
        return lambda ctx: compare(op, left(ctx), right(ctx))

    def _pattern_compare(self, node: ast.Compare, left: Fn) -> Fn:
        build = like_regex if node.op == "like" else compile_regex
        if isinstance(node.right, ast.String):
            try:
                regex = build(node.right.value)
            except RegexError as exc:
                raise self.error(str(exc), node.right, "PQL411") from None
            return _pattern_test(left, lambda ctx: regex, node.op == "like")
        right = self.visit(node.right)

        def pattern(ctx: Context) -> Any:
            p = right(ctx)
            if type(p) is not str:
                return None
            return build(p)
        return _pattern_test(left, self.guarded(pattern, node.right), node.op == "like")

    def visit_BinOp(self, node: ast.BinOp) -> Fn:
        left, right, op = self.visit(node.left), self.visit(node.right), node.op
        return lambda ctx: arithmetic(op, left(ctx), right(ctx))

    # ------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call) -> Fn:
        if node.name == "if":
            test, then, other = (self.test(node.args[0]), self.visit(node.args[1]),
                                 self.visit(node.args[2]))
            return lambda ctx: then(ctx) if test(ctx) else other(ctx)
        args = [self.visit(a) for a in node.args]
        impl = self.guarded(functions.GLOBAL_IMPLS[node.name], node)
        if not args:
            return lambda ctx: impl(ctx)
        if len(args) == 1:
            (a,) = args
            return lambda ctx: impl(ctx, a(ctx))
        return lambda ctx: impl(ctx, *[f(ctx) for f in args])

    def visit_MethodCall(self, node: ast.MethodCall) -> Fn:
        spec = catalog.METHODS[node.name]  # known: check_calls ran before compiling
        if node.name == "count" and not node.args and isinstance(node.receiver, ast.Filter):
            return self._filter(node.receiver, count=True)  # counted without building the list
        receiver = self.visit(node.receiver)
        if any(p.element_scope for p in spec.params):
            receiver = self.charge(receiver, node)
        if node.name in ("matches", "regexGroup") and node.args and isinstance(
                node.args[0], ast.String):
            try:
                compile_regex(node.args[0].value)
            except RegexError as exc:
                raise self.error(str(exc), node.args[0], "PQL411") from None
        scoped = [bool(p and p.element_scope)
                  for p in (spec.param_for(i) for i in range(len(node.args)))]
        plain = [None if s else self.visit(a) for s, a in zip(scoped, node.args)]
        element_fns = [self.element_fn(a) if s else None for s, a in zip(scoped, node.args)]
        missing = [None] * sum(1 for p in spec.params[len(node.args):] if p.element_scope)
        impl = self.guarded(functions.METHOD_IMPLS[node.name], node)
        if not any(scoped) and len(plain) <= 1:
            if not plain:
                def call0(ctx: Context) -> Any:
                    return impl(ctx, receiver(ctx), *missing)
                return call0
            arg = plain[0]
            assert arg is not None
            return lambda ctx: impl(ctx, receiver(ctx), arg(ctx))

        def call(ctx: Context) -> Any:
            values = [fn(ctx) if fn is not None else element_fns[i]
                      for i, fn in enumerate(plain)]
            return impl(ctx, receiver(ctx), *values, *missing)
        return call

    def visit_Filter(self, node: ast.Filter) -> Fn:
        return self._filter(node, count=False)

    def _filter(self, node: ast.Filter, *, count: bool) -> Fn:
        """``a[cond]``: the matching elements, or with ``count`` how many (``a[cond].count()``)."""
        receiver = self.charge(self.visit(node.receiver), node)
        cond = node.condition
        # `a[x and y]`, the usual event filter, tests both conjuncts in the loop itself: one
        # closure call less per element
        parts = cond.values if (isinstance(cond, ast.BoolOp) and cond.op == "and"
                                and len(cond.values) == 2) else (cond,)
        inline = self._inline_element_test(parts[0])
        first = self.scoped_test(parts[0]) if inline is None else None
        second = self.scoped_test(parts[1]) if len(parts) == 2 else None
        if inline is not None:
            fused: _ElementOccurs | None = getattr(second, "fused", None)
            if fused is not None and fused[0] == self.depth:
                # `a[f = "x" and timestamp occurs <window>]`: the usual event filter, both
                # tests in the loop itself
                return _filter_inline_occurs(receiver, *inline, fused, count)
            return _filter_inline(receiver, *inline, second, count)
        assert first is not None
        listed = self._filter_closure(receiver, first, second)
        if count:
            return lambda ctx: len(listed(ctx))
        return listed

    def _inline_element_test(self, node: ast.Node) -> tuple[str, str, Any] | None:
        """``(name, op, literal)`` for a ``field = literal`` (or ``!=``) on the filtered element."""
        if not (isinstance(node, ast.Compare) and node.op in ("=", "!=")
                and isinstance(node.right, (ast.String, ast.Number, ast.Boolean))):
            return None
        self.frames.append(_Elem(self.depth))
        try:
            field = self._element_field(node.left)
            depth = self.depth - 1
        finally:
            self.frames.pop()
        if field is None or field[0] != depth:
            return None
        return field[1], node.op, node.right.value

    def _filter_closure(self, receiver: Fn, first: Callable[[Context], bool],
                        second: Callable[[Context], bool] | None) -> Fn:
        def filtered(ctx: Context) -> Any:
            items = receiver(ctx)
            if items is None:
                return []
            if type(items) is not list:
                items = [items]
            elems = ctx.elems
            elems.append(None)
            try:
                if second is None:
                    out = []
                    for item in items:
                        elems[-1] = item
                        if first(ctx):
                            out.append(item)
                    return out
                out = []
                for item in items:
                    elems[-1] = item
                    if first(ctx) and second(ctx):
                        out.append(item)
                return out
            finally:
                elems.pop()
        return filtered

    def scoped_test(self, node: ast.Node) -> Callable[[Context], bool]:
        """Compile a Boolean ``node`` inside a new element scope."""
        self.frames.append(_Elem(self.depth))
        self.loops += 1
        try:
            return self.test(node)
        finally:
            self.frames.pop()
            self.loops -= 1

    # ------------------------------------------------------------ binders

    def _bindings(self, bindings: tuple[ast.Binding, ...]) -> list[tuple[str, Fn, Fn | None]]:
        """Compile bindings left to right, each seeing the variables declared before it."""
        compiled = []
        for b in bindings:
            source = self.visit(b.source)
            condition = self.test(b.condition) if b.condition is not None else None
            compiled.append((b.var, source, condition))
        return compiled

    def _enumerate(self, node: ast.Node, bindings: tuple[ast.Binding, ...],
                   value: ast.Expr | None = None) -> tuple[Callable[[Context], Iterator[None]],
                                                         Fn | None]:
        """A generator over the binding tuples that satisfy every condition.

        While the generator is suspended the variables hold the current tuple. Also returns the
        aggregated expression compiled with every variable in scope.
        """
        compiled = self._bindings(bindings)
        names = [name for name, _, _ in compiled]
        body = self.visit(value) if value is not None else None
        limit = self.limits.max_combinations
        span, text = node.span, self.text

        def tuples(ctx: Context) -> Iterator[None]:
            budget = [limit]

            def level(i: int) -> Iterator[None]:
                if i == len(compiled):
                    yield None
                    return
                name, source, condition = compiled[i]
                for item in functions.elements(source(ctx)):
                    budget[0] -= 1
                    if budget[0] < 0:
                        raise evaluation_error(
                            f"this query enumerates more than {limit:,} combinations for one "
                            "profile; narrow it with `where` conditions", span, text)
                    ctx.vars[name] = item
                    if condition is None or condition(ctx):
                        yield from level(i + 1)

            saved = [ctx.vars.get(n, _MISSING) for n in names]
            try:
                yield from level(0)
            finally:
                _restore(ctx, names, saved)
        return tuples, body

    def _select_any(self, node: ast.Select) -> Callable[[Context], bool]:
        if len(node.bindings) == 1:
            return self._exists_one(node)
        tuples, _ = self._enumerate(node, node.bindings)

        def any_tuple(ctx: Context) -> bool:
            for _ in tuples(ctx):
                return True
            return False
        return any_tuple

    def _exists_one(self, node: ast.Select) -> Callable[[Context], bool]:
        """:meth:`_select_any` of one binding (``exists X from xEvent where ...``): the loop of
        :meth:`_enumerate` without its generators, the same budget and the same errors."""
        ((name, source, condition),) = self._bindings(node.bindings)
        limit = self.limits.max_combinations
        span, text = node.span, self.text

        def exists(ctx: Context) -> bool:
            variables = ctx.vars
            saved = variables.get(name, _MISSING)
            budget = limit
            try:
                for item in functions.elements(source(ctx)):
                    budget -= 1
                    if budget < 0:
                        raise evaluation_error(
                            f"this query enumerates more than {limit:,} combinations for one "
                            "profile; narrow it with `where` conditions", span, text)
                    variables[name] = item
                    if condition is None or condition(ctx):
                        return True
                return False
            finally:
                if saved is _MISSING:
                    variables.pop(name, None)
                else:
                    variables[name] = saved
        return exists

    def visit_Select(self, node: ast.Select) -> Fn:
        tuples, _ = self._enumerate(node, node.bindings)
        names = [b.var for b in node.bindings]
        if len(names) == 1:
            (only,) = names
            return lambda ctx: [ctx.vars[only] for _ in tuples(ctx)]
        return lambda ctx: [[ctx.vars[n] for n in names] for _ in tuples(ctx)]

    def visit_Quantifier(self, node: ast.Quantifier) -> Fn:
        if node.kind in ("exists", "some"):
            return self._select_any(ast.Select(node.bindings, span=node.span))
        # forall: every element of every source satisfies its condition
        compiled = self._bindings(node.bindings)
        names = [name for name, _, _ in compiled]

        def holds(ctx: Context, i: int) -> bool:
            if i == len(compiled):
                return True
            name, source, condition = compiled[i]
            for item in functions.elements(source(ctx)):
                ctx.vars[name] = item
                if condition is not None and not condition(ctx):
                    return False
                if not holds(ctx, i + 1):
                    return False
            return True

        def forall(ctx: Context) -> bool:
            saved = [ctx.vars.get(n, _MISSING) for n in names]
            try:
                return holds(ctx, 0)
            finally:
                _restore(ctx, names, saved)
        return forall

    def visit_Aggregate(self, node: ast.Aggregate) -> Fn:
        tuples, body = self._enumerate(node, node.bindings, node.value)
        last = node.bindings[-1].var
        func = node.func
        value: Fn = body if body is not None else (lambda ctx: ctx.vars[last])
        return lambda ctx: functions.aggregate(func, [value(ctx) for _ in tuples(ctx)])

    def visit_Let(self, node: ast.Let) -> Fn:
        value = self.visit(node.value)
        body = self.visit(node.body)
        names = (node.name,)

        def let(ctx: Context) -> Any:
            with _bound(ctx, names, (value(ctx),)):
                return body(ctx)
        return let

    def visit_Lambda(self, node: ast.Lambda) -> Fn:
        # A query written as a function of the profile: `(Profile) => Profile.homeAddress...`
        if len(node.params) > 1:
            raise self.error("a top-level lambda takes one parameter, the profile", node)
        body = self.visit(node.body)
        names = node.params

        def query(ctx: Context) -> Any:
            with _bound(ctx, names, (ctx.profile,) * len(names)):
                return body(ctx)
        return query

    # ------------------------------------------------------------ time

    def visit_Occurs(self, node: ast.Occurs) -> Fn:
        subject = self.visit(node.subject)
        # `timestamp occurs ...` inside an event filter: read the field inline (hot loop)
        field = self._element_field(node.subject)
        depth, name = field if field is not None else (-1, "")
        window = self.window(node.phrase)
        span, text = node.subject.span, self.text
        if field is not None and isinstance(window, _ClockWindow):
            return _element_occurs(depth, name, window, span, text)

        def occurs(ctx: Context) -> bool:
            if field is not None:
                element = ctx.elems[depth]
                v = element.get(name) if type(element) is dict else None
                if v is None:
                    v = ctx.profile.get(name)
            else:
                v = subject(ctx)
            if v is None:
                return False
            w = window(ctx)
            if w is None:
                return False
            if type(v) is not str:
                return _occurs_other(v, w, span, text)
            return _in(_iso_millis(ctx, v, span, text), w)
        return occurs

    def window(self, phrase: ast.Node) -> WindowFn:
        """Compile a time phrase to ``ctx -> Window`` (None when a reference is null)."""
        if isinstance(phrase, ast.AtTime):
            ref = self.reference(phrase.reference)
            return self._cached(phrase, lambda ctx: _map_ref(ref(ctx), at_window))
        if isinstance(phrase, ast.BetweenTimes):
            start, end = self.reference(phrase.start), self.reference(phrase.end)

            def between(ctx: Context) -> Window | None:
                a, b = start(ctx), end(ctx)
                if a is None or b is None:
                    return None
                return between_window(a[0], b[0])
            return self._cached(phrase, between)
        if isinstance(phrase, ast.RelativeTime):
            ref = self.reference(phrase.reference)
            p = phrase
            if isinstance(p.reference, ast.TimeKeyword) and p.reference.word == "now" and (
                    p.unit is None or (p.unit in UNIT_MILLIS and type(p.amount) is int)):
                return _ClockWindow(_sliding(
                    relative_window(p.comparator, p.amount, p.unit, p.direction,
                                    keyword_interval(0, "now"), True), ref, p))

            def relative(ctx: Context) -> Window | None:
                r = ref(ctx)
                if r is None:
                    return None
                return relative_window(p.comparator, p.amount, p.unit, p.direction, r[0], r[1])
            return self._cached(phrase, relative)
        raise self.error(f"unknown time phrase {type(phrase).__name__}", phrase)

    def _cached(self, phrase: ast.Node, compute: WindowFn) -> WindowFn:
        """Windows that depend only on the clock are computed once per clock."""
        refs = _references(phrase)
        if not all(_static_reference(r) for r in refs):
            return compute
        if all(isinstance(r, ast.TimeKeyword) and r.word != "now" for r in refs):
            compute = _DayWindow(compute)  # today, yesterday, tomorrow: one window a day
        return _ClockWindow(compute)

    def reference(self, ref: ast.Node) -> Callable[[Context], tuple[Interval, bool] | None]:
        """Compile a time reference to ``ctx -> (interval, is_instant)`` or None when null."""
        if isinstance(ref, ast.TimeKeyword):
            word = ref.word
            instant = word == "now"
            return lambda ctx: (keyword_interval(ctx.clock.now, word), instant)
        if isinstance(ref, ast.CalendarPeriod):
            relation, unit = ref.relation, ref.unit
            return lambda ctx: (calendar_period(ctx.clock.now, relation, unit), False)
        value = self.visit(ref)
        span, text = ref.span, self.text

        def expression(ctx: Context) -> tuple[Interval, bool] | None:
            v = value(ctx)
            if v is None:
                return None
            if isinstance(v, Interval):
                return v, False
            try:
                ms = to_millis(v)
            except TimestampError as exc:
                raise evaluation_error(f"time reference: {exc}", span, text) from None
            return Interval(ms, ms + 1), True
        return expression

    # ------------------------------------------------------------ sequences

    def visit_Chain(self, node: ast.Chain) -> Fn:
        events = self.visit(node.events)
        field = tuple(node.timestamp_field.split("."))
        steps = []
        for step in node.steps:
            what = self.scoped_test(step.what) if step.what is not None else None
            where = self.scoped_test(step.where) if step.where is not None else None
            when = None
            if step.when is not None:
                self.frames.append(_Elem(self.depth))
                try:
                    when = self.window(step.when)
                finally:
                    self.frames.pop()
            steps.append((step.label, what, when, step.count or 1, where))
        labels = [s[0] for s in steps]
        span, text = node.span, self.text

        def chain(ctx: Context) -> bool:
            stamped, times = _stamped_events(ctx, functions.elements(events(ctx)), field, span,
                                             text)
            saved = [ctx.vars.get(n, _MISSING) for n in labels]
            elems = ctx.elems
            elems.append(None)
            try:
                after = NEG_INF
                for label, what, when, need, where in steps:
                    found = 0
                    # strictly later than the event the previous step matched
                    for i in range(bisect.bisect_right(times, after), len(stamped)):
                        ts, event = stamped[i]
                        elems[-1] = event
                        if what is not None and not what(ctx):
                            continue
                        if when is not None:
                            w = when(ctx)
                            if w is None or not _in(ts, w):
                                continue
                        if where is not None and not where(ctx):
                            continue
                        found += 1
                        if found == need:
                            after = ts
                            ctx.vars[label] = event
                            break
                    else:
                        return False
                return True
            finally:
                elems.pop()
                _restore(ctx, labels, saved)
        return chain

    def generic_visit(self, node: ast.Node) -> Fn:
        raise self.error(f"{type(node).__name__} cannot be evaluated here", node)


# ---------------------------------------------------------------- closure builders


class _ClockWindow:
    """A window that depends only on the clock, computed once per clock object.

    ``entry`` is one ``(clock, window)`` tuple, replaced as a whole, so that threads evaluating
    with different clocks never pair one clock with another's window.
    """

    __slots__ = ("compute", "entry")

    def __init__(self, compute: WindowFn) -> None:
        self.compute = compute
        self.entry: tuple[Clock | None, Window | None] = (None, None)

    def __call__(self, ctx: Context) -> Window | None:
        clock, window = self.entry
        if clock is not ctx.clock:
            window = self.compute(ctx)
            self.entry = (ctx.clock, window)
        return window


class _DayWindow:
    """A window that depends on the clock only through the UTC day (its references are
    ``today``, ``yesterday``, ``tomorrow``), computed once per day: clocks of one day share it.

    ``entry`` is one ``(day, window)`` tuple, replaced as a whole (as in :class:`_ClockWindow`).
    """

    __slots__ = ("compute", "entry")

    def __init__(self, compute: WindowFn) -> None:
        self.compute = compute
        self.entry: tuple[int | None, Window | None] = (None, None)

    def __call__(self, ctx: Context) -> Window | None:
        now = ctx.clock.now
        if type(now) is not int:
            return self.compute(ctx)
        day = now - now % DAY
        start, window = self.entry
        if start != day:
            window = self.compute(ctx)
            self.entry = (day, window)
        return window


def _sliding(offsets: Window, ref: Callable[[Context], tuple[Interval, bool] | None],
             p: ast.RelativeTime) -> WindowFn:
    """The window of ``[CMP N UNIT] before|after|from now`` with a fixed unit: every finite edge
    is the clock plus a constant (``offsets``: the window at time 0), so the window at ``now`` is
    ``offsets`` moved by ``now``, as :func:`relative_window` would compute it."""
    if len(offsets) == 1 and NEG_INF < offsets[0][0] and offsets[0][1] < POS_INF:
        (low, high), = offsets

        def bounded(ctx: Context) -> Window | None:
            now = ctx.clock.now
            if type(now) is not int:
                return relative_window(p.comparator, p.amount, p.unit, p.direction,
                                       *ref(ctx))  # type: ignore[misc]
            return ((low + now, high + now),)
        return bounded

    def moved(ctx: Context) -> Window | None:
        now = ctx.clock.now
        if type(now) is not int:
            return relative_window(p.comparator, p.amount, p.unit, p.direction,
                                   *ref(ctx))  # type: ignore[misc]
        return tuple((lo if lo == NEG_INF else lo + now, hi if hi == POS_INF else hi + now)
                     for lo, hi in offsets)
    return moved


def _constant(value: Any) -> Fn:
    return lambda ctx: value


def _lookup(name: str, plan: list[int]) -> Fn:
    """Element fields at ``plan`` depths (innermost first), then the profile."""
    if not plan:
        return lambda ctx: ctx.profile.get(name)
    if len(plan) == 1:
        (depth,) = plan

        def element_or_profile(ctx: Context) -> Any:
            element = ctx.elems[depth]
            if type(element) is dict:
                found = element.get(name)
                if found is not None:
                    return found
            return ctx.profile.get(name)
        return element_or_profile

    def scoped(ctx: Context) -> Any:
        elems = ctx.elems
        for depth in plan:
            element = elems[depth]
            if type(element) is dict:
                found = element.get(name)
                if found is not None:
                    return found
        return ctx.profile.get(name)
    return scoped


def _path(root: Fn, names: tuple[str, ...]) -> Fn:
    """``root.a.b.c``: objects by key, lists through ``get_field`` (flattened)."""
    def path(ctx: Context) -> Any:
        v = root(ctx)
        for n in names:
            if type(v) is dict:
                v = v.get(n)
            elif v is None:
                return None
            else:
                v = get_field(v, n)
        return v
    return path


def _profile_path(names: tuple[str, ...]) -> Fn:
    """A path from the profile root, unrolled for the usual one to three steps (the hot path)."""
    if len(names) == 1:
        (a,) = names
        return lambda ctx: ctx.profile.get(a)
    if len(names) == 2:
        a, b = names

        def path2(ctx: Context) -> Any:
            v = ctx.profile.get(a)
            if type(v) is dict:
                return v.get(b)
            return None if v is None else get_field(v, b)
        return path2
    if len(names) == 3:
        a, b, c = names

        def path3(ctx: Context) -> Any:
            v = ctx.profile.get(a)
            v = v.get(b) if type(v) is dict else (None if v is None else get_field(v, b))
            if type(v) is dict:
                return v.get(c)
            return None if v is None else get_field(v, c)
        return path3
    return _path(lambda ctx: ctx.profile, names)


def _compare_constant(op: str, left: Fn, constant: Any) -> Fn:
    """A comparison with a literal on the right: the common case, with a same-type fast path."""
    kind = type(constant)
    if op == "=":
        def eq(ctx: Context) -> bool:
            v = left(ctx)
            if type(v) is kind:
                return bool(v == constant)
            return compare("=", v, constant)
        return eq
    if op == "!=":
        def ne(ctx: Context) -> bool:
            v = left(ctx)
            if type(v) is kind:
                return bool(v != constant)
            return compare("!=", v, constant)
        return ne
    if is_number(constant):
        relation = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

        def ordered(ctx: Context) -> bool:
            v = left(ctx)
            if type(v) is int or type(v) is float:
                return bool(relation(v, constant))
            return compare(op, v, constant)
        return ordered
    return lambda ctx: compare(op, left(ctx), constant)


def _profile_compare_constant(names: tuple[str, ...], op: str, constant: Any) -> Fn | None:
    """``a.b.c OP literal`` from the profile in one closure: the path read inline (the hot case).

    Paths of one to three names with ``=``/``!=`` (any literal) or an ordering against a number;
    None for anything else (the general closures handle it).
    """
    if len(names) > 3 or (op not in ("=", "!=") and not is_number(constant)):
        return None
    a, b, c = (*names, "", "")[:3]
    steps = len(names)
    kind = type(constant)
    if op in ("=", "!="):
        negate = op == "!="
        if steps == 1:
            def equals1(ctx: Context) -> bool:
                v = ctx.profile.get(a)
                if type(v) is kind:
                    same: bool = v == constant
                    return same != negate
                return compare(op, v, constant)
            return equals1

        def equals(ctx: Context) -> bool:
            v = ctx.profile.get(a)
            if type(v) is dict:
                v = v.get(b)
            elif v is not None:
                v = get_field(v, b)
            if steps == 3:
                if type(v) is dict:
                    v = v.get(c)
                elif v is not None:
                    v = get_field(v, c)
            if type(v) is kind:
                same: bool = v == constant
                return same != negate
            return compare(op, v, constant)
        return equals
    relation = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

    def ordered(ctx: Context) -> bool:
        v = ctx.profile.get(a)
        if steps > 1:
            if type(v) is dict:
                v = v.get(b)
            elif v is not None:
                v = get_field(v, b)
            if steps == 3:
                if type(v) is dict:
                    v = v.get(c)
                elif v is not None:
                    v = get_field(v, c)
        if type(v) is int or type(v) is float:
            return bool(relation(v, constant))
        return compare(op, v, constant)
    return ordered


def _filter_inline(receiver: Fn, name: str, op: str, constant: Any,
                   rest: Callable[[Context], bool] | None, count: bool) -> Fn:
    """``items[name = literal (and rest)]`` with the literal test inlined in the loop.

    The element's field, else the profile's (the element-first rule of :meth:`_Compiler._plan`).
    Returns the matching elements, or their number with ``count``.
    """
    kind = type(constant)
    negate = op == "!="

    def filtered(ctx: Context) -> Any:
        items = receiver(ctx)
        if items is None:
            return 0 if count else []
        if type(items) is not list:
            items = [items]
        profile = ctx.profile
        elems = ctx.elems
        elems.append(None)
        out = []
        found = 0
        try:
            for item in items:
                v = item.get(name) if type(item) is dict else None
                if v is None:
                    v = profile.get(name)
                if type(v) is kind:
                    if (v == constant) == negate:
                        continue
                elif not compare(op, v, constant):
                    continue
                if rest is not None:
                    elems[-1] = item
                    if not rest(ctx):
                        continue
                if count:
                    found += 1
                else:
                    out.append(item)
        finally:
            elems.pop()
        return found if count else out
    return filtered


def _element_compare_constant(op: str, depth: int, name: str, constant: Any) -> Fn:
    """``field = "literal"`` inside a filter, with the element lookup inlined (the hot loop)."""
    kind = type(constant)
    negate = op == "!="

    def element_compare(ctx: Context) -> bool:
        element = ctx.elems[depth]
        v = element.get(name) if type(element) is dict else None
        if v is None:
            v = ctx.profile.get(name)
        if type(v) is kind:
            return bool(v == constant) != negate
        return compare(op, v, constant)
    return element_compare


def _membership(left: Fn, right: Fn, right_node: ast.Expr, negate: bool,
                path: tuple[str, ...] | None = None) -> Fn:
    if isinstance(right_node, ast.ListLiteral) and right_node.items and all(
            isinstance(i, ast.String) for i in right_node.items):
        strings = frozenset(i.value for i in right_node.items)  # type: ignore[attr-defined]
        container = right(None)  # type: ignore[arg-type]
        if path is not None and len(path) == 2:
            a, b = path

            def path_in_strings(ctx: Context) -> bool:
                v = ctx.profile.get(a)
                if type(v) is dict:
                    v = v.get(b)
                elif v is not None:
                    v = get_field(v, b)
                if type(v) is str:
                    return (v in strings) != negate
                return in_list(v, container, negate)
            return path_in_strings

        def in_strings(ctx: Context) -> bool:
            v = left(ctx)
            if type(v) is str:
                return (v in strings) != negate
            return in_list(v, container, negate)
        return in_strings
    return lambda ctx: in_list(left(ctx), right(ctx), negate)


def _pattern_test(left: Fn, regex: Callable[[Context], Any], full: bool) -> Fn:
    def matches(ctx: Context) -> bool:
        v = left(ctx)
        if v is None:
            return False
        compiled = regex(ctx)
        if compiled is None:
            return False
        candidates = v if type(v) is list else (v,)
        return any(type(c) is str and compiled.search(c) is not None for c in candidates)
    return matches


#: What :func:`_element_occurs` compiled: (depth, field name, window, span, text), for a filter
#: to inline the test (:func:`_filter_inline_occurs`).
_ElementOccurs = tuple[int, str, _ClockWindow, Span, str | None]


def _filter_inline_occurs(receiver: Fn, name: str, op: str, constant: Any,
                          occurs: _ElementOccurs, count: bool) -> Fn:
    """``items[name = literal and ts occurs <window>]``: :func:`_filter_inline` with the
    :func:`_element_occurs` test written into its loop (no closure call, no ``ctx.elems`` entry
    per element: neither test reads any other element). Same answers, same errors.
    """
    kind = type(constant)
    negate = op == "!="
    _, ts_name, cache, span, text = occurs
    parse_iso = datetime.fromisoformat
    events = receiver is _events

    def filtered(ctx: Context) -> Any:
        unchecked: list[Any] | None = None
        if events and not ctx.checked and type(ctx.events) is list:
            # `xEvent[...]`: the check that every event is an object (_check_events) made in
            # this loop, which looks at each event's type anyway; an error found in the loop
            # waits until the check has run, so the errors are the ones _events raises first
            items = unchecked = ctx.events
        else:
            items = receiver(ctx)
            if items is None:
                return 0 if count else []
            if type(items) is not list:
                items = [items]
        try:
            result = loop(ctx, items, unchecked is not None)
        except Exception:
            if unchecked is not None:
                _check_events(unchecked)
            raise
        if unchecked is not None:
            ctx.checked = True
        return result

    def loop(ctx: Context, items: list[Any], strict: bool) -> Any:
        profile = ctx.profile
        out = []
        found = 0
        w: Window | None = None
        stamps = ctx.stamps
        for item in items:
            is_dict = type(item) is dict
            if not is_dict and strict:
                _check_events(items)  # raises: this event is not an object
            v = item.get(name) if is_dict else None
            if v is None:
                v = profile.get(name)
            if type(v) is kind:
                if (v == constant) == negate:
                    continue
            elif not compare(op, v, constant):
                continue
            # _element_occurs, inlined
            t = item.get(ts_name) if is_dict else None
            if t is None:
                t = profile.get(ts_name)
                if t is None:
                    continue
            if w is None:
                clock, w = cache.entry
                if clock is not ctx.clock:
                    w = cache(ctx)
                if w is None:
                    continue
            if type(t) is not str:
                if not _occurs_other(t, w, span, text):
                    continue
            else:
                if stamps is None:
                    stamps = ctx.stamps
                    if stamps is None:
                        stamps = ctx.stamps = {}
                ms = stamps.get(t)
                if ms is None:
                    try:
                        moment = parse_iso(t)
                        ms = stamps[t] = (round(moment.timestamp() * 1000)
                                          if moment.tzinfo is not None else to_millis(t))
                    except (TimestampError, ValueError) as exc:
                        raise evaluation_error(
                            f"`occurs` needs a timestamp: {_timestamp_problem(t, exc)}",
                            span, text) from None
                if len(w) == 1:
                    lo, hi = w[0]
                    if not lo <= ms <= hi:
                        continue
                elif not _in(ms, w):
                    continue
            if count:
                found += 1
            else:
                out.append(item)
        return found if count else out
    return filtered


def _element_occurs(depth: int, name: str, cache: _ClockWindow, span: Span,
                    text: str | None) -> Fn:
    """``timestamp occurs <window>`` on a filtered element, the window depending on the clock
    alone: the usual event test, once per event, so the general closure's branches are left out.
    """
    parse_iso = datetime.fromisoformat

    def element_occurs(ctx: Context) -> bool:
        element = ctx.elems[depth]
        v = element.get(name) if type(element) is dict else None
        if v is None:
            v = ctx.profile.get(name)
            if v is None:
                return False
        clock, w = cache.entry
        if clock is not ctx.clock:
            w = cache(ctx)
        if w is None:
            return False
        if type(v) is not str:
            if type(v) is int:  # epoch milliseconds
                return _in(v, w)
            return _occurs_other(v, w, span, text)
        # _iso_millis, inlined: this runs once per event
        stamps = ctx.stamps
        if stamps is None:
            stamps = ctx.stamps = {}
        ms = stamps.get(v)
        if ms is None:
            try:
                moment = parse_iso(v)
                ms = stamps[v] = (round(moment.timestamp() * 1000)
                                  if moment.tzinfo is not None else to_millis(v))
            except (TimestampError, ValueError) as exc:
                raise evaluation_error(f"`occurs` needs a timestamp: {_timestamp_problem(v, exc)}",
                                       span, text) from None
        if len(w) == 1:
            lo, hi = w[0]
            return lo <= ms <= hi
        return _in(ms, w)
    element_occurs.fused = (depth, name, cache, span, text)  # type: ignore[attr-defined]
    return element_occurs


def _iso_millis(ctx: Context, v: str, span: Span, text: str | None) -> int:
    """Epoch milliseconds of an ISO-8601 event time, parsed once per profile (``ctx.stamps``)."""
    stamps = ctx.stamps
    if stamps is None:
        stamps = ctx.stamps = {}
    ms = stamps.get(v)
    if ms is None:
        try:
            moment = datetime.fromisoformat(v)
            ms = stamps[v] = (round(moment.timestamp() * 1000) if moment.tzinfo is not None
                              else to_millis(v))
        except (TimestampError, ValueError) as exc:
            raise evaluation_error(f"`occurs` needs a timestamp: {_timestamp_problem(v, exc)}",
                                   span, text) from None
    return ms


def _occurs_other(v: Any, w: Window, span: Span, text: str | None) -> bool:
    """``occurs`` on a value that is not a string: epoch millis, a date, or a list of times."""
    try:
        if type(v) is list:
            return any(_in(to_millis(x), w) for x in v if x is not None)
        return _in(to_millis(v), w)
    except TimestampError as exc:
        raise evaluation_error(f"`occurs` needs a timestamp: {_timestamp_problem(v, exc)}",
                               span, text) from None


def _in(ms: int, window: Window) -> bool:
    if len(window) == 1:
        lo, hi = window[0]
        return lo <= ms <= hi
    return any(lo <= ms <= hi for lo, hi in window)


def _timestamp_problem(v: Any, exc: Exception) -> str:
    return str(exc) if isinstance(exc, TimestampError) else f"{v!r} is not an ISO-8601 timestamp"


def _map_ref(ref: tuple[Interval, bool] | None, build: Callable[[Interval], Window]
             ) -> Window | None:
    return None if ref is None else build(ref[0])


def _references(phrase: ast.Node) -> list[ast.Node]:
    if isinstance(phrase, ast.BetweenTimes):
        return [phrase.start, phrase.end]
    return [phrase.reference]  # type: ignore[attr-defined]


def _static_reference(ref: ast.Node) -> bool:
    """A reference whose value depends only on the clock (keywords, periods, literal dates)."""
    if isinstance(ref, (ast.TimeKeyword, ast.CalendarPeriod)):
        return True
    return isinstance(ref, ast.Call) and ref.name == "date" and all(
        isinstance(a, ast.Number) for a in ref.args)


def _stamped_events(ctx: Context, events: list[Any], field: tuple[str, ...], span: Span,
                    text: str | None) -> tuple[list[tuple[int, Any]], list[int]]:
    """``(epoch ms, event)`` sorted by time (stable), and the times alone.

    An event without a usable time is an error. The profile's own events (``xEvent``) are
    stamped and sorted once per context and timestamp field, however many chains read them.
    """
    shared = events is ctx.events
    if shared and ctx.chains is not None:
        cached = ctx.chains.get(field)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
    stamps = ctx.stamps
    if stamps is None:
        stamps = ctx.stamps = {}
    stamped = []
    for index, event in enumerate(events):
        v: Any = event
        for name in field:
            v = v.get(name) if type(v) is dict else None
        if v is None:
            raise evaluation_error(f"chain: event {index} has no `{'.'.join(field)}` to order "
                                   "it by", span, text)
        try:
            if type(v) is str:
                ms = stamps.get(v)
                if ms is None:
                    ms = stamps[v] = to_millis(v)
            else:
                ms = to_millis(v)
        except TimestampError as exc:
            raise evaluation_error(f"chain: event {index} `{'.'.join(field)}`: {exc}",
                                   span, text) from None
        stamped.append((ms, event))
    stamped.sort(key=_first)
    result = (stamped, [t for t, _ in stamped])
    if shared:
        if ctx.chains is None:
            ctx.chains = {}
        ctx.chains[field] = result
    return result


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


class _bound:
    """Bind variables for the duration of a ``with`` block, restoring what they shadowed."""

    __slots__ = ("ctx", "names", "saved", "values")

    def __init__(self, ctx: Context, names: tuple[str, ...], values: tuple[Any, ...]) -> None:
        self.ctx, self.names, self.values = ctx, names, values
        self.saved: list[Any] = []

    def __enter__(self) -> None:
        variables = self.ctx.vars
        self.saved = [variables.get(n, _MISSING) for n in self.names]
        for n, v in zip(self.names, self.values):
            variables[n] = v

    def __exit__(self, *exc: object) -> None:
        _restore(self.ctx, self.names, self.saved)


def _restore(ctx: Context, names: Any, saved: list[Any]) -> None:
    for n, old in zip(names, saved):
        if old is _MISSING:
            ctx.vars.pop(n, None)
        else:
            ctx.vars[n] = old


# ---------------------------------------------------------------- public API


def to_json_value(v: Any) -> Any:
    """A result as plain JSON: ``date(...)`` as its ISO text, map entries as ``[key, value]``."""
    if isinstance(v, Interval):
        return str(v)
    if isinstance(v, MapEntry):
        return [to_json_value(v.key), to_json_value(v.value)]
    if type(v) is list or type(v) is tuple:
        return [to_json_value(x) for x in v]
    if type(v) is dict:
        return {map_key(k): to_json_value(x) for k, x in v.items()}
    return v


def _events(ctx: Context) -> list[Any]:
    """``xEvent``: the events, checked on first use so profile-only tests never pay for it."""
    if not ctx.checked:
        ctx.events = _check_events(ctx.events)
        ctx.checked = True
    return ctx.events  # type: ignore[no-any-return]


_ONLY_DICT = frozenset({dict})


def _check_profile(profile: Any) -> None:
    if type(profile) is not dict:
        raise evaluation_error(f"a profile must be a JSON object, got {_describe(profile)}")


def _check_events(events: Any) -> list[Any]:
    if events is None:
        return []
    if type(events) is list and set(map(type, events)) <= _ONLY_DICT:  # the usual case, in C
        return events
    if type(events) is not list:
        raise evaluation_error(f"events must be a JSON array of objects, got {_describe(events)}")
    for index, event in enumerate(events):
        if type(event) is not dict:
            raise evaluation_error(f"event {index} must be a JSON object, got {_describe(event)}")
    return events


def _too_deep(text: str) -> PQLEvaluationError:
    return evaluation_error("the expression or the profile is nested too deeply to evaluate",
                            text=text)


def _describe(v: Any) -> str:
    return "null" if v is None else f"a {type_name(v)}"


class Program:
    """A compiled PQL expression: evaluate it against any number of profiles.

    Thread-safe: each :meth:`evaluate` call gets its own state. :meth:`bind` returns a faster
    single-threaded evaluator that reuses one state and one clock.
    """

    __slots__ = ("_clock", "_root", "_test", "text", "tree")

    def __init__(self, text: str, tree: ast.Node, root: Fn, test: Callable[[Context], bool]):
        self.text = text
        self.tree = tree
        self._root = root
        self._test = test
        #: the last ``now`` given and its clock, replaced as one tuple (thread-safe), so that a
        #: loop passing the same ``now`` object skips converting it
        self._clock: tuple[object, Clock | None] = (None, None)

    def _clock_for(self, now: str | datetime | int | Clock | None) -> Clock:
        if type(now) is Clock:
            return now
        last, clock = self._clock
        if last is now and clock is not None:
            return clock
        clock = make_clock(now)
        if now is not None:
            self._clock = (now, clock)
        return clock

    def __repr__(self) -> str:
        return f"Program({self.text!r})"

    def _run(self, fn: Fn, ctx: Context) -> Any:
        try:
            return fn(ctx)
        except RecursionError:
            raise _too_deep(self.text) from None

    def evaluate(self, profile: Mapping[str, Any], events: list[Any] | None = None, *,
                 now: str | datetime | int | Clock | None = None,
                 segments: Mapping[str, bool] | None = None) -> bool:
        """Whether ``profile`` (with its ``events``) qualifies at time ``now`` (default: now).

        ``segments`` overrides stored ``segmentMembership`` for ``inSegment`` (audience id ->
        member?). Raises :class:`~pqltools.errors.PQLEvaluationError` for unusable input.
        """
        if type(profile) is not dict:
            _check_profile(profile)
        last, clock = self._clock
        if last is not now or clock is None:
            clock = self._clock_for(now)
        try:
            return self._test(Context(profile, events, clock, segments))  # type: ignore[arg-type]
        except RecursionError:
            raise _too_deep(self.text) from None

    def evaluate_in(self, ctx: Context) -> bool:
        """Whether the profile of ``ctx`` qualifies: for several programs on one profile.

        :func:`~pqltools.runtime.membership.membership_for` gives every segment the same context,
        so the profile's events are checked once and their timestamps parsed once (and sorted
        once per ``chain`` timestamp field) however many segments read them.
        """
        try:
            return self._test(ctx)
        except RecursionError:
            raise _too_deep(self.text) from None

    def evaluate_value(self, profile: Mapping[str, Any], events: list[Any] | None = None, *,
                       now: str | datetime | int | Clock | None = None,
                       segments: Mapping[str, bool] | None = None) -> Any:
        """The expression's value (number, string, list, map, object or null) as plain JSON."""
        _check_profile(profile)
        ctx = Context(profile, events, self._clock_for(now), segments)  # type: ignore[arg-type]
        return to_json_value(self._run(self._root, ctx))

    def bind(self, *, now: str | datetime | int | Clock | None = None
             ) -> Callable[..., bool]:
        """A fast ``f(profile, events=None, segments=None) -> bool`` for one clock.

        For bulk evaluation in one thread: it reuses its evaluation state between calls, so
        windows such as ``30 days before now`` are computed once.
        """
        clock = make_clock(now)
        ctx = Context({}, [], clock)
        test = self._test

        def evaluate_bound(profile: Any, events: list[Any] | None = None,
                           segments: Mapping[str, bool] | None = None) -> bool:
            if type(profile) is not dict:
                _check_profile(profile)
            # a fresh state for this profile, set field by field: this runs once per profile
            ctx.profile = profile
            ctx.events = events
            ctx.checked = False
            ctx.segments = segments
            ctx.stamps = None
            ctx.chains = None
            try:
                return test(ctx)
            except BaseException as exc:
                # an error inside a binder leaves its variables and elements behind
                ctx.vars.clear()
                ctx.elems.clear()
                if isinstance(exc, RecursionError):
                    raise _too_deep(self.text) from None
                raise
        return evaluate_bound


def _budgeted(fn: Fn) -> Fn:
    """``fn`` starting each evaluation with a full cost budget."""
    def run(ctx: Context) -> Any:
        ctx.vars.pop(_BUDGET, None)
        return fn(ctx)
    return run


def compile(expression: str | ast.Node, *, limits: Limits | None = None,
            comments: bool = False) -> Program:
    """Compile PQL text (or a parsed tree) once into a :class:`Program`.

    ``comments=True`` accepts ``--`` line comments, as in ``.pql`` files.

    Raises :class:`~pqltools.errors.PQLSyntaxError` for text that is not PQL and
    :class:`~pqltools.errors.PQLValidationError` for unknown functions, wrong argument counts,
    invalid literal regular expressions or constructs that cannot be evaluated offline.
    """
    if isinstance(expression, ast.Node):
        tree, text = expression, None
    else:
        tree, text = parse(expression, comments=comments), expression
    # imported here: the linter's rule machinery is not needed until something is compiled
    from pqltools.analysis.lint import check_calls

    try:
        errors = check_calls(tree, text)
        if errors:
            raise PQLValidationError(errors, text)
        compiler = _Compiler(text, limits or Limits(), resolve(tree, text))
        root = compiler.visit(tree)
        test = compiler.test(tree)
        if compiler.charged:
            root, test = _budgeted(root), _budgeted(test)
    except RecursionError:
        raise PQLValidationError([Diagnostic("PQL414", "the expression is nested too deeply to "
                                             "compile", Severity.ERROR, tree.span)], text) from None
    return Program(text if text is not None else "", tree, root, test)


def evaluate(expression: str | ast.Node | Program, profile: Mapping[str, Any], *,
             events: list[Any] | None = None,
             now: str | datetime | int | None = None) -> bool:
    """Whether ``profile`` qualifies for ``expression`` (compiles it first unless a Program)."""
    program = expression if isinstance(expression, Program) else compile(expression)
    return program.evaluate(profile, events, now=now)


def evaluate_value(expression: str | ast.Node | Program, profile: Mapping[str, Any], *,
                   events: list[Any] | None = None,
                   now: str | datetime | int | None = None) -> Any:
    """The value of ``expression`` for ``profile`` (computed-attribute style), as plain JSON."""
    program = expression if isinstance(expression, Program) else compile(expression)
    return program.evaluate_value(profile, events, now=now)

