"""Schema-aware rules: run only when a schema is configured (``schema`` key or ``--schema``)."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.analysis.rules._util import article, name_span, shown
from pqltools.analysis.scope import NameKind
from pqltools.analysis.types import NUMERIC, literal_type
from pqltools.errors import Diagnostic, Edit, Fix, Severity, Span
from pqltools.syntax import ast

_DATES = frozenset({"date", "timestamp"})
#: Schema types ``occurs`` accepts: dates, date-times and epoch milliseconds (integers, §4).
_OCCURS_OK = frozenset({"date", "timestamp", "integer"})
_ORDERING = frozenset({"<", "<=", ">", ">="})


@register
class UnknownField(Rule):
    code = "PQL201"
    severity = Severity.ERROR
    explanation = (
        "With a schema, every path is looked up as PQL navigates it: arrays are stepped into, "
        "a map takes any key, objects defined by a reference outside the schema file accept "
        "anything. The first segment that does not exist is reported, with the closest "
        "sibling field as suggestion. Element fields inside filters and chain steps are "
        "looked up under their collection (`xEvent[eventType = ...]` checks "
        "`xEvent.eventType`), and the chain's timestamp field under its events. Capitalised "
        "unbound names at the root are left to `unbound-variable`."
    )
    why = (
        "A path the schema does not have is null for every profile, so the condition is "
        "silently false: usually a typo or a field from another sandbox."
    )
    bad = 'homeAddress.countryCod = "US"'
    good = 'homeAddress.countryCode = "US"'
    nodes = (ast.Name, ast.Attribute, ast.Chain)
    requires_schema = True
    fix = "unsafe"

    def check(self, node: ast.Name | ast.Attribute | ast.Chain,
              ctx: LintContext) -> Iterator[Diagnostic]:
        assert ctx.schema is not None
        if isinstance(node, ast.Chain):
            base = ctx.info.path(node.events)
            path = None if base is None else (*base, node.timestamp_field)
            where = _timestamp_span(ctx, node)
        else:
            if isinstance(node, ast.Name) and self._not_a_field(node, ctx):
                return
            path = ctx.info.path(node)
            where = name_span(ctx, node) if isinstance(node, ast.Attribute) else node.span
        if path is None or ctx.schema.lookup(path) is not None:
            return
        if len(path) > 1 and ctx.schema.lookup(path[:-1]) is None:
            return  # an earlier segment is the unknown one, reported there
        suggestion = ctx.schema.suggest(path)
        parent = f" in `{'.'.join(path[:-1])}`" if len(path) > 1 else ""
        message = f"unknown field `{path[-1]}`{parent}"
        fix = None
        if suggestion:
            message += f"; did you mean `{suggestion}`?"
            fix = Fix(f"rename to `{suggestion}`", (Edit(where.start, where.end, suggestion),),
                      safe=False)
        yield self.diagnostic(where, message, fix=fix,
                              help=f"schema: {ctx.schema.source}")

    @staticmethod
    def _not_a_field(node: ast.Name, ctx: LintContext) -> bool:
        kind = ctx.scopes.resolution(node).kind
        if kind not in (NameKind.PROFILE_FIELD, NameKind.ELEMENT_FIELD):
            return True
        return node.id == "null" or (kind is NameKind.PROFILE_FIELD and node.id[:1].isupper())


def _timestamp_span(ctx: LintContext, node: ast.Chain) -> Span:
    start = ctx.text.find(node.timestamp_field, node.events.span.end, node.span.end)
    if start < 0:
        return node.span
    return ctx.span(start, start + len(node.timestamp_field))


def _mismatch(field: str, op: str, other: str) -> str | None:
    """Why comparing a ``field``-typed value with an ``other``-typed one never works."""
    if op in _ORDERING:
        if field in ("string", "boolean"):
            return f"ordering comparison `{op}` on {article(field)} field"
        if other in ("string", "boolean") and field in NUMERIC:
            return f"{article(field)} field compared with {article(other)}"
        return None
    if op in ("like", "matches"):
        return None if field == "string" else f"`{op}` on {article(field)} field"
    groups = ({"string"}, NUMERIC, {"boolean"})
    for group in groups:
        if field in group:
            if other in group or (field == "string" and other in _DATES) or other in (
                    "any", "object", "list", "map"):
                return None
            return f"{article(field)} field compared with {article(other)}"
    return None


@register
class TypeMismatch(Rule):
    code = "PQL202"
    severity = Severity.ERROR
    explanation = (
        "With a schema, a comparison whose field side has a known type is checked against the "
        "other side: a string field compared with a number or boolean (`=`/`!=`/`in`), a "
        "numeric field compared with a string, an ordering comparison (`<`, `>=`...) on a "
        "string or boolean field, `like`/`matches` on a non-string field. Such comparisons "
        "are always false at evaluation (PQL does not convert types)."
    )
    why = (
        "PQL does not convert types: a string field never equals a number, so the comparison is"
        " false for every profile."
    )
    bad = "_acme.loyalty.tier > 2"
    good = '_acme.loyalty.tier = "gold"'
    nodes = (ast.Compare,)
    requires_schema = True

    def check(self, node: ast.Compare, ctx: LintContext) -> Iterator[Diagnostic]:
        for field_side, other in ((node.left, node.right), (node.right, node.left)):
            field = ctx.info.field_type(field_side)
            if field is None or field in ("object", "map", "list"):
                continue
            others: tuple[ast.Node, ...] = (other,)
            if node.op in ("in", "notIn") and isinstance(other, ast.ListLiteral):
                others = other.items
            for value in others:
                kind = literal_type(value) or ctx.info.field_type(value)
                if kind is None:
                    continue
                why = _mismatch(field, "=" if node.op in ("in", "notIn") else node.op, kind)
                if why is not None:
                    yield self.diagnostic(node, f"{why}: {shown(ctx, node)} is always false",
                                          help=f"{shown(ctx, field_side)} is {article(field)} "
                                               f"in schema {ctx.schema.source if ctx.schema else ''}")
                    return


@register
class OccursOnNonDate(Rule):
    code = "PQL203"
    severity = Severity.ERROR
    explanation = (
        "`occurs` compares a timestamp with a time window. With a schema, the subject's type "
        "must be `date`, `date-time`, or an integer (timestamps may be stored as epoch "
        "milliseconds, §4); a string without `format: date-time`, a number, boolean, object "
        "or array of non-dates is reported."
    )
    why = (
        "`occurs` on a value that is not a date is false for every profile (or an evaluation "
        "error), so the audience is silently empty."
    )
    bad = "person.name.firstName occurs < 7 days before now"
    good = "person.birthDate occurs this month"
    nodes = (ast.Occurs,)
    requires_schema = True

    def check(self, node: ast.Occurs, ctx: LintContext) -> Iterator[Diagnostic]:
        assert ctx.schema is not None
        path = ctx.info.path(node.subject)
        info = ctx.schema.lookup(path) if path is not None else None
        if info is None or info.type == "any":
            return
        kind = info.item_type if info.type == "list" and info.item_type else info.type
        if kind in _OCCURS_OK:
            return
        yield self.diagnostic(node.subject, f"`occurs` needs a date or date-time, but "
                                            f"{shown(ctx, node.subject)} is {article(kind)}",
                              help=f"schema: {ctx.schema.source}")
