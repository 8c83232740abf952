"""Rules checking calls against the function catalogue: names, arity, argument and receiver types."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools import catalog
from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.analysis.rules._util import article, name_span, shown
from pqltools.analysis.types import assignable, literal_type
from pqltools.errors import Diagnostic, Edit, Fix, Severity
from pqltools.syntax import ast

#: Types whose values are single scalars: list and map methods can never apply to them.
_SCALARS = frozenset({"boolean", "string", "integer", "number", "date", "timestamp"})


def _rename_fix(ctx: LintContext, node: ast.Call | ast.MethodCall, suggestion: str) -> Fix:
    span = name_span(ctx, node)
    return Fix(f"rename to `{suggestion}`", (Edit(span.start, span.end, suggestion),),
               safe=False)


@register
class UnknownFunction(Rule):
    code = "PQL101"
    severity = Severity.ERROR
    explanation = (
        "PQL's global functions are `if`, `date`, `currentMonth`, `currentYear`, "
        "`currentDayOfMonth`, `inSegment` and `mapEntry` (plus the `chain(...)` construct). "
        "Any other name is an error at evaluation time. Names are case-sensitive; a close "
        "match is suggested, and a method called like a function gets a hint to use the "
        "method form."
    )
    why = (
        "Adobe accepts the definition only when it is evaluated, and then fails it or silently "
        "never qualifies anyone; a misspelt function is found here before the audience is "
        "built."
    )
    bad = "inSegmnt(\"a730ed3f-5c3a-4e6a-9b5b-2b9a7d5f2c11\")"
    good = "inSegment(\"a730ed3f-5c3a-4e6a-9b5b-2b9a7d5f2c11\")"
    nodes = (ast.Call,)
    fix = "unsafe"

    def check(self, node: ast.Call, ctx: LintContext) -> Iterator[Diagnostic]:
        if catalog.lookup(node.name, "global") is not None:
            return
        suggestion = catalog.suggest(node.name, "global")
        message = f"unknown function `{node.name}`"
        help = None
        if suggestion:
            message += f"; did you mean `{suggestion}`?"
        elif catalog.lookup(node.name, "method") is not None:
            help = (f"`{node.name}` is a method: call it on a value, e.g. "
                    f"`{catalog.METHODS[node.name].example or 'x.' + node.name + '()'}`")
        else:
            help = f"`{node.name}()` is not part of PQL; see docs/functions.md"
        yield self.diagnostic(name_span(ctx, node), message, help=help,
                              fix=_rename_fix(ctx, node, suggestion) if suggestion else None)


@register
class UnknownMethod(Rule):
    code = "PQL102"
    severity = Severity.ERROR
    explanation = (
        "Methods (`startsWith`, `count`, `filter`, `get`...) come from a fixed catalogue and "
        "are case-sensitive lowerCamelCase. A misspelt method fails at evaluation; the closest "
        "catalogue name is suggested."
    )
    why = (
        "A misspelt method fails at evaluation, possibly only once the audience is activated; "
        "the linter finds it while the definition is written."
    )
    bad = 'person.name.startwith("Jo")'
    good = 'person.name.startsWith("Jo")'
    nodes = (ast.MethodCall,)
    fix = "unsafe"

    def check(self, node: ast.MethodCall, ctx: LintContext) -> Iterator[Diagnostic]:
        if catalog.lookup(node.name, "method") is not None:
            return
        suggestion = catalog.suggest(node.name, "method")
        message = f"unknown method `{node.name}`"
        help = None
        if suggestion:
            message += f"; did you mean `{suggestion}`?"
        elif catalog.lookup(node.name, "global") is not None:
            help = f"`{node.name}` is a global function: call it as `{node.name}(...)`"
        yield self.diagnostic(name_span(ctx, node), message, help=help,
                              fix=_rename_fix(ctx, node, suggestion) if suggestion else None)


def _spec(node: ast.Call | ast.MethodCall) -> catalog.FunctionSpec | None:
    return catalog.lookup(node.name, "global" if isinstance(node, ast.Call) else "method")


def _shown_name(node: ast.Call | ast.MethodCall) -> str:
    return f"`{node.name}`" if isinstance(node, ast.Call) else f"`.{node.name}()`"


@register
class WrongArgumentCount(Rule):
    code = "PQL103"
    severity = Severity.ERROR
    explanation = (
        "Every function and method has a fixed number of parameters, some optional "
        "(`startsWith(text, [caseSensitive])`) and a few variadic (`equals`). The counts come "
        "from the function catalogue (docs/functions.md)."
    )
    why = (
        "A call with the wrong number of arguments cannot be evaluated at all: the whole "
        "definition is refused, or fails when it runs."
    )
    bad = "date(2020, 3)"
    good = "date(2020, 3, 14)"
    nodes = (ast.Call, ast.MethodCall)

    def check(self, node: ast.Call | ast.MethodCall, ctx: LintContext) -> Iterator[Diagnostic]:
        spec = _spec(node)
        if spec is None:
            return
        low, high = spec.min_args, spec.max_args
        count = len(node.args)
        if low <= count and (high is None or count <= high):
            return
        if high is None:
            wanted = f"at least {low} argument{'s' if low != 1 else ''}"
        elif low == high:
            wanted = f"{low} argument{'s' if low != 1 else ''}" if low else "no arguments"
        else:
            wanted = f"{low} to {high} arguments"
        yield self.diagnostic(node, f"{_shown_name(node)} takes {wanted}, got {count}",
                              help=f"signature: {spec.signature}")


@register
class WrongArgumentType(Rule):
    code = "PQL104"
    severity = Severity.ERROR
    explanation = (
        "Parameter types come from the function catalogue. A literal (or any expression whose "
        "type is known statically, such as a comparison or a date function) of another type "
        "never works: `date(\"2020\", 1, 1)`, `topN(price, \"5\")`, `startsWith(1)`. Integers "
        "are accepted where numbers are expected; paths are only checked with a schema. Boolean "
        "parameters (conditions) accept any non-literal value, which PQL coerces (defined and "
        "non-empty is true, §5), but not a string or number literal (`startsWith(\"a\", "
        "\"false\")`)."
    )
    why = (
        "PQL does not convert types, so a literal of the wrong type makes the call fail or "
        "return nothing for every profile."
    )
    bad = 'orders.topN(price, "5")'
    good = "orders.topN(price, 5)"
    nodes = (ast.Call, ast.MethodCall)

    def check(self, node: ast.Call | ast.MethodCall, ctx: LintContext) -> Iterator[Diagnostic]:
        spec = _spec(node)
        if spec is None or (spec.max_args is not None and len(node.args) > spec.max_args):
            return
        for index, arg in enumerate(node.args):
            param = spec.param_for(index)
            if param is None or param.type == "any":
                continue
            if param.type == "boolean" and literal_type(arg) is None:
                continue  # any value is a condition: defined and non-empty means true (§5)
            actual = ctx.info.type_of(arg)
            if actual is None or (actual == "list" and isinstance(arg, (ast.Name,
                                                                        ast.Attribute))):
                continue
            if not assignable(actual, param.type):
                yield self.diagnostic(
                    arg, f"argument {index + 1} of {_shown_name(node)} (`{param.name}`) must "
                    f"be {article(param.type)}, got {article(actual)} {shown(ctx, arg)}",
                    help=f"signature: {spec.signature}")


@register
class WrongReceiverType(Rule):
    code = "PQL105"
    severity = Severity.ERROR
    explanation = (
        "List methods (`filter`, `count`, `sum`...) need a list, string methods "
        "(`startsWith`, `contains`...) a string, map methods (`get`, `keys`) a map. Where "
        "the receiver's type is known statically (a literal, a comparison, `chain(...)`, "
        "another method's result, or a field typed by the schema) a mismatch is reported. "
        "A path that navigates through an array yields a list, and string methods on it "
        "apply to each value, so that case is not reported."
    )
    why = (
        "A method on the wrong kind of value fails at evaluation or returns null, so the "
        "condition is silently false for every profile."
    )
    bad = 'chain(xEvent, timestamp, [A: WHAT(eventType = "x")]).filter(b)'
    good = 'xEvent[eventType = "x"].count() > 0'
    nodes = (ast.MethodCall,)

    def check(self, node: ast.MethodCall, ctx: LintContext) -> Iterator[Diagnostic]:
        spec = catalog.lookup(node.name, "method")
        if spec is None or spec.receiver in (None, "any"):
            return
        actual = ctx.info.type_of(node.receiver)
        if actual is None or assignable(actual, spec.receiver):
            return
        if actual == "list" and spec.receiver in _SCALARS:
            return  # navigation through an array: the method applies per value
        if spec.receiver == "list" and actual == "map" and node.name in ("map", "count"):
            return  # grouped maps are mapped and counted too (computed attributes)
        yield self.diagnostic(
            name_span(ctx, node),
            f"`.{node.name}()` applies to {article(spec.receiver)}, but "
            f"{shown(ctx, node.receiver)} is {article(actual)}",
            help=f"signature: {spec.signature}")
