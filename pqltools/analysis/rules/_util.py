"""Helpers several rules share: locating the name part of a node, describing a node."""

from __future__ import annotations

import re

from pqltools.analysis.rules import LintContext
from pqltools.errors import Span
from pqltools.syntax import ast


def name_span(ctx: LintContext, node: ast.Call | ast.MethodCall | ast.Attribute) -> Span:
    """The span of just the function, method or attribute name of ``node``."""
    name = node.name
    start = node.span.start
    if isinstance(node, (ast.MethodCall, ast.Attribute)):
        start = node.receiver.span.end
    found = re.compile(rf"(?<![\w$]){re.escape(name)}(?!\w)").search(ctx.text, start,
                                                                     node.span.end)
    if found is None:
        return node.span
    return ctx.span(found.start(), found.end())


def clause_span(ctx: LintContext, step: ast.ChainStep, keyword: str) -> Span:
    """The span of ``KEYWORD(...)``'s keyword inside a chain step (case-insensitive)."""
    found = re.compile(rf"\b{keyword}\s*\(", re.IGNORECASE).search(ctx.text, step.span.start,
                                                                   step.span.end)
    if found is None:
        return step.span
    return ctx.span(found.start(), found.start() + len(keyword))


def label_span(ctx: LintContext, step: ast.ChainStep) -> Span:
    """The span of a chain step's label."""
    return ctx.span(step.span.start, step.span.start + len(step.label))


def shown(ctx: LintContext, node: ast.Node, limit: int = 40) -> str:
    """The node's source text on one line, clipped, in backquotes."""
    text = " ".join(ctx.source(node).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{text}`"


def article(type_name: str) -> str:
    """``a string``, ``an integer``: a type name as prose."""
    return ("an " if type_name[:1] in "aeiou" else "a ") + type_name
