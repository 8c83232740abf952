"""Rules about variables: used outside the binder that declares them, or never bound."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.analysis.rules._util import shown
from pqltools.analysis.scope import NameKind
from pqltools.errors import Diagnostic, Severity
from pqltools.syntax import ast


@register
class VariableOutOfScope(Rule):
    code = "PQL106"
    severity = Severity.ERROR
    explanation = (
        "A variable is visible only to the right of its declaration and only inside the "
        "construct that declares it (reference §3.3): the `where` of its `select`, `exists`, "
        "`forall` or aggregation (and later bindings of the same construct), the body of its "
        "`let`, or the body of its lambda. Outside, the same name reads a profile field of "
        "that name, which is almost never what was meant."
    )
    why = (
        "Outside its construct the name silently reads a profile field of the same name, which "
        "does not exist: the condition is false for everyone, with no error."
    )
    bad = '(select X from xEvent where X.eventType = "x") and X.timestamp occurs today'
    good = 'exists X from xEvent where X.eventType = "x" and X.timestamp occurs today'

    def finish(self, ctx: LintContext) -> Iterator[Diagnostic]:
        binders = {b.name: b for b in ctx.scopes.binders}
        for name in ctx.scopes.unbound_variables():
            binder = binders[name.id]
            yield self.diagnostic(
                name, f"`{name.id}` is used outside the {binder.kind} that declares it: "
                f"{shown(ctx, binder.owner)}",
                help="move this condition inside that construct, or declare the variable "
                     "again where it is used")


@register
class UnboundVariable(Rule):
    code = "PQL107"
    severity = Severity.ERROR
    explanation = (
        "A bare name outside any element scope is a profile field, and XDM field names are "
        "lowerCamelCase or start with `_` (`homeAddress`, `_acme`); variables are written "
        "capitalised (`X`, `Order1`, `C0`). So a capitalised name at the profile root that no "
        "`select`/`exists`/`forall`/aggregation/`let`/lambda declares is reported as an "
        "unbound variable, unless the schema (when one is configured) has a top-level field "
        "of that name. Inside filters and other element scopes capitalised element fields "
        "(`SKU`) are common, so names there are not judged by this rule."
    )
    why = (
        "A name nothing declares reads a profile field that almost certainly does not exist, so"
        " the condition is silently false; usually a typo in a variable's name."
    )
    bad = 'select X from xEvent where Y.eventType = "commerce.purchases"'
    good = 'select X from xEvent where X.eventType = "commerce.purchases"'
    nodes = (ast.Name,)

    def check(self, node: ast.Name, ctx: LintContext) -> Iterator[Diagnostic]:
        if not node.id[:1].isupper() or ctx.scopes.resolution(node).kind is not (
                NameKind.PROFILE_FIELD):
            return
        if any(b.name == node.id for b in ctx.scopes.binders):
            return  # reported by variable-out-of-scope
        if ctx.schema is not None and ctx.schema.lookup((node.id,)) is not None:
            return
        visible = sorted({b.name for b in ctx.scopes.binders})
        help = (f"variables declared in this expression: {', '.join(visible)}" if visible
                else "declare it with `select`/`exists`/`forall`/`let`, or, if it is a "
                     "profile field, check its spelling in the schema")
        yield self.diagnostic(node, f"`{node.id}` is not bound: it looks like a variable but "
                                    "nothing declares it", help=help)
