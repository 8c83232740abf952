"""Performance guardrails of audience validation (reference §3.1, §13.5)."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools import catalog
from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.analysis.rules._util import name_span, shown
from pqltools.analysis.scope import NameKind
from pqltools.errors import Diagnostic, Severity, Span
from pqltools.syntax import ast

#: Map accessors that step one level down (``values()``/``keys()`` list the map's own level:
#: iterating that list is what goes down, as in ``m.values().exists(...)``).
_MAP_ACCESS = frozenset({"get"})


@register
class TooManyAggregations(Rule):
    code = "PQL124"
    severity = Severity.WARNING
    explanation = (
        "Audience validation warns when a definition uses more than 3 aggregation functions "
        "(`count`, `sum`, `average`, `min`, `max`, in method or `sum ... over` form). The "
        "figure is `limits.aggregations`; the finding points at the first one over it."
    )
    why = (
        "Audience validation warns about definitions with many aggregations: they are costly to"
        " evaluate and may be refused for streaming."
    )
    bad = ("orders.count() > 1 and orders.sum(price) > 10 and orders.max(price) > 5 and "
           "orders.min(price) > 1")
    good = "orders.count() > 1 and orders.sum(price) > 10"
    nodes = (ast.MethodCall, ast.Aggregate)

    def check(self, node: ast.MethodCall | ast.Aggregate, ctx: LintContext) -> Iterator[Diagnostic]:
        spec = catalog.lookup(node.name, "method") if isinstance(node, ast.MethodCall) else None
        if isinstance(node, ast.Aggregate) or (spec is not None and spec.aggregation):
            ctx.state(self).setdefault("found", []).append(node)
        yield from ()  # counted here, reported by finish()

    def finish(self, ctx: LintContext) -> Iterator[Diagnostic]:
        return self.report(self.counted(ctx), ctx)

    def counted(self, ctx: LintContext) -> list[ast.Node]:
        """The aggregations met in this run's walk, in walk order."""
        found: list[ast.Node] = ctx.state(self).get("found", [])
        return found

    def report(self, found: list[ast.Node], ctx: LintContext) -> Iterator[Diagnostic]:
        """The finding for ``found``, every aggregation of ``ctx.root`` in walk order (the
        language server counts them clause by clause in a long ``.pql`` file)."""
        limit = ctx.config.limits.aggregations
        if len(found) > limit:
            found = sorted(found, key=lambda n: n.span.start)
            first = found[limit]
            where = name_span(ctx, first) if isinstance(first, ast.MethodCall) else first.span
            yield self.diagnostic(where, f"{len(found)} aggregation functions in one "
                                         f"definition; more than {limit} slows evaluation")


@register
class DeepNesting(Rule):
    code = "PQL125"
    severity = Severity.WARNING
    explanation = (
        "Audience validation warns about more than 2 levels of nested array or map data. "
        "Counted statically: each filter (`a[...]`), element-scope method (`filter`, `exists`, "
        "`sum`...), chain, `select`/`exists`/aggregation binding and map lookup (`get`) "
        "enters one level below the level of the collection it works on "
        "(a binding `I from X.items` is one below `X`). The finding points at the first "
        "construct deeper than `limits.nesting`."
    )
    why = (
        "Audience validation warns about deep nesting: it is costly to evaluate and keeps the "
        "definition from streaming and edge evaluation."
    )
    bad = 'xEvent[productListItems[options[name = "size"]]]'
    good = 'xEvent[productListItems[SKU = "PS"]]'
    nodes = (ast.Filter, ast.MethodCall, ast.Binding, ast.Chain)

    def check(self, node: ast.Node, ctx: LintContext) -> Iterator[Diagnostic]:
        level = self._opened_level(node, ctx)
        if level == ctx.config.limits.nesting + 1:
            where: ast.Node | Span = node
            if isinstance(node, ast.MethodCall):
                where = name_span(ctx, node)
            yield self.diagnostic(where, f"{shown(ctx, node)} navigates {level} levels of "
                                         "nested arrays/maps; more than "
                                         f"{ctx.config.limits.nesting} slows evaluation")

    def _opened_level(self, node: ast.Node, ctx: LintContext) -> int | None:
        """The level of the elements ``node`` iterates, or None if it iterates nothing."""
        if isinstance(node, ast.Binding):
            return self._level(node.source, ctx) + 1
        if isinstance(node, ast.MethodCall) and node.name in _MAP_ACCESS:
            return self._level(node.receiver, ctx) + 1
        scope = ctx.scopes.scope_opened_by(node)
        if scope is None:
            return None
        return self._level(scope.collection, ctx) + 1

    def _level(self, node: ast.Node, ctx: LintContext) -> int:
        """How many array/map levels the values of ``node`` sit below the profile."""
        memo: dict[int, int] = ctx.state(self).setdefault("levels", {})
        key = id(node)
        if key not in memo:
            memo[key] = 0  # a let may refer to itself through its value: stop there
            memo[key] = self._compute(node, ctx)
        return memo[key]

    def _compute(self, node: ast.Node, ctx: LintContext) -> int:
        if isinstance(node, ast.Name):
            res = ctx.scopes.resolution(node)
            if res.kind is NameKind.VARIABLE and res.binder is not None:
                if isinstance(res.binder.node, ast.Binding):
                    return self._opened_level(res.binder.node, ctx) or 0
                return self._level(res.binder.value, ctx) if res.binder.value else 0
            if res.element is not None:
                return self._level(res.element.collection, ctx) + 1
            return 0
        if isinstance(node, ast.Attribute):
            if isinstance(node.receiver, ast.ParentRef):
                target = ctx.scopes.parent_target(node.receiver)
                return self._level(target.collection, ctx) + 1 if target else 0
            return self._level(node.receiver, ctx)
        if isinstance(node, ast.Filter):
            return self._level(node.receiver, ctx)
        if isinstance(node, ast.MethodCall):
            extra = 1 if node.name in _MAP_ACCESS else 0
            return self._level(node.receiver, ctx) + extra
        return 0


@register
class ArrayNavigation(Rule):
    code = "PQL131"
    severity = Severity.HINT
    explanation = (
        "Adobe's reference says item properties of an array cannot be reached with a plain "
        "path and must be selected (§3.1), although several examples do it. pqltools "
        "evaluates `array.field` as the list of that field over the elements, and a "
        "comparison with it as \"some element matches\"; other engines may reject it. "
        "Reported where the value before the `.` is known to be a list: `xEvent`, filters, "
        "`select`, and array fields of the schema."
    )
    why = (
        "Adobe's documentation calls array navigation unsupported, so another engine may refuse"
        " the definition or evaluate it differently."
    )
    bad = 'xEvent.eventType = "commerce.purchases"'
    good = 'xEvent[eventType = "commerce.purchases"]'
    nodes = (ast.Attribute,)

    def check(self, node: ast.Attribute, ctx: LintContext) -> Iterator[Diagnostic]:
        receiver = node.receiver
        if ctx.info.type_of(receiver) != "list" or ctx.info.navigates_array(receiver):
            return
        yield self.diagnostic(
            name_span(ctx, node), f"`.{node.name}` navigates through the array "
            f"{shown(ctx, receiver)}: the result is the list of `{node.name}` over its "
            "elements", help="select the elements explicitly, e.g. `array[field = value]` or "
                             "`exists X from array where X.field = value`")
