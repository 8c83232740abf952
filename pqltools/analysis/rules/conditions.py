"""Rules about conditions that do not mean what they seem to (reference §2.4, §5, §13.5)."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.analysis.rules._util import name_span, shown
from pqltools.analysis.scope import NameKind
from pqltools.errors import Diagnostic, Edit, Fix, Severity
from pqltools.syntax import ast

_SCALAR_LITERALS = (ast.String, ast.Number, ast.Boolean)
_LITERALS = (*_SCALAR_LITERALS, ast.ListLiteral)
#: Nodes that need no parentheses as the receiver of a method call.
_POSTFIX = (ast.Name, ast.Attribute, ast.MethodCall, ast.Call, ast.Filter, ast.String,
            ast.Number, ast.Boolean, ast.ListLiteral, ast.Param, ast.Chain)


def as_receiver(ctx: LintContext, node: ast.Node) -> str:
    """Source text of ``node`` usable before ``.method()`` (parenthesised when needed)."""
    text = ctx.source(node)
    return text if isinstance(node, _POSTFIX) else f"({text})"


def _is_null_name(ctx: LintContext, node: ast.Node) -> bool:
    return isinstance(node, ast.Name) and node.id == "null" and (
        ctx.scopes.resolution(node).kind is not NameKind.VARIABLE)


@register
class NullComparison(Rule):
    code = "PQL120"
    severity = Severity.WARNING
    explanation = (
        "PQL has no `null` literal: in `x != null` the word `null` is a field path, the field "
        "does not exist, and a comparison with a missing value is always false (§5). So "
        "`x != null` is never true and `x = null` never either. Test existence with "
        "`x.isNotNull()` / `x.isNull()`. The fix is marked unsafe because it changes the "
        "result (from always false to the intended test)."
    )
    why = (
        "`x != null` reads like an existence test but is never true, so the audience is "
        "silently empty (and `not(x = null)` silently everyone)."
    )
    bad = "person.name != null"
    good = "person.name.isNotNull()"
    nodes = (ast.Compare,)
    fix = "unsafe"

    def check(self, node: ast.Compare, ctx: LintContext) -> Iterator[Diagnostic]:
        if _is_null_name(ctx, node.right):
            other, null = node.left, node.right
        elif _is_null_name(ctx, node.left):
            other, null = node.right, node.left
        else:
            return
        fix = None
        if node.op in ("=", "!="):
            method = "isNull" if node.op == "=" else "isNotNull"
            replacement = f"{as_receiver(ctx, other)}.{method}()"
            fix = Fix(f"replace with `{replacement}`",
                      (Edit(node.span.start, node.span.end, replacement),), safe=False)
        yield self.diagnostic(
            null, f"`null` here is a field named null, not a null value: {shown(ctx, node)} "
            "is always false", fix=fix,
            help="use `.isNull()` / `.isNotNull()` to test whether a field exists")


@register
class ConstantCondition(Rule):
    code = "PQL121"
    severity = Severity.WARNING
    explanation = (
        "A comparison of two literals (`1 = 1`, `\"a\" = \"a\"`) or a bare `true`/`false` "
        "used as a condition (the whole expression, an `and`/`or` operand, a `not`, a filter "
        "or `where` clause, a chain `WHAT`/`WHERE`, the test of `if`) always has the same "
        "value: usually a leftover from testing or a placeholder."
    )
    why = (
        "A condition that is always true or always false does nothing or empties the audience; "
        "it is usually a leftover from testing that reaches production."
    )
    bad = 'homeAddress.countryCode = "US" and 1 = 1'
    good = 'homeAddress.countryCode = "US"'
    nodes = (ast.Compare, ast.BoolOp, ast.Not, ast.Filter, ast.Binding, ast.ChainStep, ast.Call)

    def check(self, node: ast.Node, ctx: LintContext) -> Iterator[Diagnostic]:
        if isinstance(node, ast.Compare):
            if isinstance(node.left, _LITERALS) and isinstance(node.right, _LITERALS):
                yield self.diagnostic(node, f"{shown(ctx, node)} compares two constants")
            return
        for condition in _conditions(node):
            if isinstance(condition, ast.Boolean):
                yield self._constant(condition, ctx)

    def finish(self, ctx: LintContext) -> Iterator[Diagnostic]:
        if isinstance(ctx.root, ast.Boolean):
            yield self._constant(ctx.root, ctx)

    def _constant(self, node: ast.Boolean, ctx: LintContext) -> Diagnostic:
        return self.diagnostic(node, f"constant condition `{ctx.source(node)}`")


def _conditions(node: ast.Node) -> tuple[ast.Node | None, ...]:
    """The operands of ``node`` that are in Boolean (condition) position."""
    if isinstance(node, ast.BoolOp):
        return node.values
    if isinstance(node, ast.Not):
        return (node.operand,)
    if isinstance(node, ast.Filter):
        return (node.condition,)
    if isinstance(node, ast.Binding):
        return (node.condition,)
    if isinstance(node, ast.ChainStep):
        return (node.what, node.where)
    if isinstance(node, ast.Call) and node.name == "if" and node.args:
        return (node.args[0],)
    return ()


def _equality_parts(node: ast.Node) -> tuple[ast.Expr, ast.Expr] | None:
    """``(subject, literal)`` for ``subject = literal`` / ``literal = subject``."""
    if not isinstance(node, ast.Compare) or node.op != "=":
        return None
    if isinstance(node.right, _SCALAR_LITERALS) and not isinstance(node.left, _LITERALS):
        return node.left, node.right
    if isinstance(node.left, _SCALAR_LITERALS) and not isinstance(node.right, _LITERALS):
        return node.right, node.left
    return None


@register
class OrEqualitiesToIn(Rule):
    code = "PQL126"
    severity = Severity.WARNING
    explanation = (
        "Audience validation flags long `or` chains as excessive logical complexity (§13.5). "
        "`x = \"a\" or x = \"b\" or x = \"c\"` is `x in [\"a\", \"b\", \"c\"]`: both are false "
        "when x is missing, so the fix is safe. Reported from `limits.in-list` (3) equalities "
        "on the same path; the fix is offered when the whole `or` is such equalities."
    )
    why = (
        "Long `or` chains count as excessive logical complexity in audience validation; `in "
        "[...]` says the same thing once and is easier to read and to change."
    )
    bad = 'homeAddress.countryCode = "US" or homeAddress.countryCode = "CA" or ' \
          'homeAddress.countryCode = "MX"'
    good = 'homeAddress.countryCode in ["US", "CA", "MX"]'
    nodes = (ast.BoolOp,)
    fix = "safe"

    def check(self, node: ast.BoolOp, ctx: LintContext) -> Iterator[Diagnostic]:
        if node.op != "or":
            return
        groups: dict[ast.Expr, list[ast.Expr]] = {}
        for value in node.values:
            parts = _equality_parts(value)
            if parts is not None:
                groups.setdefault(parts[0], []).append(parts[1])
        for subject, literals in groups.items():
            if len(literals) < ctx.config.limits.in_list:
                continue
            listed = f"{ctx.source(subject)} in [{', '.join(ctx.source(v) for v in literals)}]"
            fix = None
            if len(literals) == len(node.values):
                fix = Fix(f"replace with `{listed}`",
                          (Edit(node.span.start, node.span.end, listed),), safe=True)
            yield self.diagnostic(
                node, f"{len(literals)} `or`-ed equalities on {shown(ctx, subject)}: use "
                "`in [...]`", fix=fix)


@register
class LongEqualsList(Rule):
    code = "PQL127"
    severity = Severity.WARNING
    explanation = (
        "`State.equals(\"AL\", \"AK\", \"AZ\")` (the variadic form, \"equals any of\") is a "
        "long value list that audience validation counts as logical complexity (§13.5). "
        "Without a case flag it means `State in [\"AL\", \"AK\", \"AZ\"]` (both case-sensitive, "
        "both false when the field is missing), which the safe fix writes. Reported from "
        "`limits.in-list` (3) values."
    )
    why = (
        "The variadic `equals` form counts as logical complexity in audience validation; `in "
        "[...]` means the same and is the documented form."
    )
    bad = 'homeAddress.state.equals("AL", "AK", "AZ")'
    good = 'homeAddress.state in ["AL", "AK", "AZ"]'
    nodes = (ast.MethodCall,)
    fix = "safe"

    def check(self, node: ast.MethodCall, ctx: LintContext) -> Iterator[Diagnostic]:
        if node.name != "equals" or len(node.args) < ctx.config.limits.in_list:
            return
        if not all(isinstance(a, ast.String) for a in node.args):
            return  # a trailing case flag (or computed values): not a plain value list
        listed = (f"{ctx.source(node.receiver)} in "
                  f"[{', '.join(ctx.source(a) for a in node.args)}]")
        fix = Fix(f"replace with `{listed}`", (Edit(node.span.start, node.span.end, listed),))
        yield self.diagnostic(name_span(ctx, node),
                              f"`.equals()` with {len(node.args)} values: use `in [...]`",
                              fix=fix)


@register
class NegatedComparison(Rule):
    code = "PQL130"
    severity = Severity.HINT
    explanation = (
        "Comparisons are true only when both operands exist (§5). `a != b` is false when `a` "
        "is missing, while `not(a = b)` is true then; likewise `notIn` is not the negation of "
        "`in`. Both forms are legitimate: this hint makes sure the choice is deliberate "
        "(`not(...)` includes profiles without the field)."
    )
    why = (
        "`not(a = b)` also includes profiles without `a`, `a != b` does not: picking one by "
        "accident changes the audience size silently."
    )
    bad = 'not(homeAddress.countryCode = "US")'
    good = 'homeAddress.countryCode != "US"'
    nodes = (ast.Not,)

    def check(self, node: ast.Not, ctx: LintContext) -> Iterator[Diagnostic]:
        inner = node.operand
        if not isinstance(inner, ast.Compare) or inner.op not in ("=", "in"):
            return
        other = "!=" if inner.op == "=" else "notIn"
        yield self.diagnostic(
            node, f"negating {shown(ctx, inner)} is also true when a value is missing; "
            f"`{other}` is false then", help=f"write `{other}` to exclude profiles without "
            "the field, or keep `not(...)` to include them")


@register
class InequalityExcludesMissing(Rule):
    code = "PQL132"
    severity = Severity.HINT
    explanation = (
        "Comparisons are true only when both operands exist (§5), so `!=` is not the negation "
        "of `=` and `notIn` is not the negation of `in`: a profile without the field matches "
        "neither `country = \"US\"` nor `country != \"US\"`. Audiences such as \"everyone "
        "outside the US\" silently lose every profile that has no country. When profiles "
        "without the field should qualify, negate the positive test instead; when they should "
        "not, keep the inequality (and suppress the hint). PQL130 is the mirror image for "
        "`not(a = b)`."
    )
    why = (
        'Profiles without the field are silently left out of the audience; for "everyone '
        'except" audiences that is often most of them.'
    )
    bad = 'homeAddress.countryCode != "US"'
    good = 'not(homeAddress.countryCode = "US")'
    nodes = (ast.Compare,)

    def check(self, node: ast.Compare, ctx: LintContext) -> Iterator[Diagnostic]:
        if node.op not in ("!=", "notIn"):
            return
        if isinstance(node.right, ast.Name) and node.right.id == "null":
            return  # PQL120 explains that case
        positive = "=" if node.op == "!=" else "in"
        yield self.diagnostic(
            node, f"{shown(ctx, node)} is false when {shown(ctx, node.left)} is missing "
            f"(`{node.op}` is not the negation of `{positive}`)",
            help=f"write `not({ctx.source(node.left)} {positive} {ctx.source(node.right)})` if "
            "profiles without the value should qualify")
