"""Incremental parsing of long ``.pql`` documents: one parse per top-level clause.

A long segment is almost always a chain of conditions joined by ``and``/``or`` at the top level,
one or a few per line. Typing a character changes one of them, so the document is cut at its
top-level ``and``/``or`` (found by the forgiving scanner, outside any bracket), each clause is
parsed on its own (memoised by its text, so unchanged clauses are never parsed again, wherever
they moved), its spans are moved to where the clause stands, and the clauses are joined with
the precedence the grammar gives (``and`` binds tighter than ``or``) into the tree the whole
parse would have built.

The whole text is parsed instead whenever the cut could change the meaning or the messages:
fewer than :data:`MIN_CLAUSES` clauses, a top-level word that may take an ``and``/``or`` into
its own operand (``select``, ``exists``, ``let``, ``not``, ``between``, a lambda...), a clause
with a syntax error (so that error recovery and messages are exactly the parser's), or one close
to the depth limit. ``tests/lsp/test_lsp_incremental.py`` checks, for generated documents, that
the result equals the whole parse, spans and comments included.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable

from pqltools_lsp.memo import Memo

from pqltools.errors import Diagnostic, Span
from pqltools.syntax import ast
from pqltools.syntax.parser import Comment, ParseOptions, ParseResult

__all__ = ["MIN_CLAUSES", "clause_bounds", "parse_clauses"]

#: Below this many top-level clauses the whole text is parsed (it is fast enough).
MIN_CLAUSES = 8

#: Words that, at the top level, may own an ``and``/``or`` that follows them.
_BINDING_WORDS = frozenset({"select", "exists", "forall", "some", "let", "not", "between",
                            "where", "from", "over", "sum", "average", "min", "max"})


def parse_clauses(text: str, parse: Callable[[str], ParseResult],
                  options: ParseOptions) -> ParseResult | None:
    """The parse of ``text`` assembled from its top-level clauses, or None when the whole text
    must be parsed (see the module docstring). ``parse`` parses one clause (memoised)."""
    if len(text) > options.max_length:
        return None
    cuts = _top_level_operators(text, options.comments)
    if cuts is None or len(cuts) + 1 < MIN_CLAUSES:
        return None
    bounds = [0, *(p for start, end, _ in cuts for p in (start, end)), len(text)]
    clauses: list[ast.Expr] = []
    comments: list[Comment] = []
    diagnostics: list[Diagnostic] = []
    line, line_start = 0, 0
    for i in range(0, len(bounds), 2):
        start, end = bounds[i], bounds[i + 1]
        clause = text[start:end]
        piece = parse(clause)
        if not piece.ok or piece.expr is None:
            return None
        line += text.count("\n", bounds[i - 1] if i else 0, start)
        if line:
            line_start = text.rfind("\n", 0, start) + 1
        where = (start, line, start - line_start)
        expr, moved, notes = _SHIFTED.get((clause, where),
                                          functools.partial(_moved, piece, *where))
        clauses.append(expr)
        comments.extend(moved)
        diagnostics.extend(notes)
        line += clause.count("\n")
    expr = _join(clauses, [op for _, _, op in cuts])
    if _depth(expr) > options.max_depth:
        return None
    return ParseResult(expr, diagnostics, comments, text, options=options)


#: What matters for finding top-level operators: strings and comments (skipped), brackets,
#: the operators and the words that forbid cutting, and characters PQL has no use for.
_INTERESTING = re.compile(
    r'(?P<string>"(?:[^"\\\n]|\\.)*"?)|(?P<comment>--[^\n]*)|(?P<open>[(\[{])|(?P<close>[)\]}])'
    r"|(?<![\w.$@])(?P<word>(?i:and|or|" + "|".join(sorted(_BINDING_WORDS)) + r"))(?!\w)"
    r"|(?P<odd>=>|:|[^\w\s\"()\[\]{},.=<>!+\-*/%$@^])")


def clause_bounds(text: str, comments: bool) -> list[tuple[int, int]] | None:
    """``[start, end)`` of each top-level clause (between operators), or None (see
    :func:`parse_clauses` for when)."""
    cuts = _top_level_operators(text, comments)
    if cuts is None or len(cuts) + 1 < MIN_CLAUSES:
        return None
    bounds = [0, *(p for start, end, _ in cuts for p in (start, end)), len(text)]
    return [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]


def _top_level_operators(text: str, comments: bool) -> list[tuple[int, int, str]] | None:
    """``(start, end, "and"|"or")`` of each top-level operator; None when cutting is unsafe."""
    depth = 0
    out: list[tuple[int, int, str]] = []
    for m in _INTERESTING.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                return None
        elif kind == "comment":
            if not comments:
                return None
        elif depth == 0 and kind == "word":
            low = m.group().lower()
            if low not in ("and", "or"):
                return None
            out.append((m.start(), m.end(), low))
        elif depth == 0 and kind == "odd":
            return None
    return out if depth == 0 else None


def _join(clauses: list[ast.Expr], ops: list[str]) -> ast.Expr:
    """``c0 op0 c1 op1 c2 ...`` as the grammar groups it: n-ary ``and`` inside n-ary ``or``."""
    groups: list[list[ast.Expr]] = [[clauses[0]]]
    for op, clause in zip(ops, clauses[1:], strict=True):
        if op == "or":
            groups.append([clause])
        else:
            groups[-1].append(clause)
    joined = [g[0] if len(g) == 1 else _bool("and", g) for g in groups]
    return joined[0] if len(joined) == 1 else _bool("or", joined)


def _bool(op: str, values: list[ast.Expr]) -> ast.BoolOp:
    return ast.BoolOp(op, tuple(values), span=values[0].span.cover(values[-1].span))


def _depth(root: ast.Node) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.children())
    return deepest


_Moved = tuple[ast.Expr, list[Comment], list[Diagnostic]]
#: Clauses moved to where they stand, by (text, (offset, line, column)): clauses before an
#: edit keep their place and are reused as they are.
_SHIFTED: Memo[tuple[str, tuple[int, int, int]], _Moved] = Memo(4096)


def _moved(piece: ParseResult, offset: int, lines: int, columns: int) -> _Moved:
    shift = _Shift(offset, lines, columns)
    assert piece.expr is not None
    expr = shift.node(piece.expr)
    assert isinstance(expr, ast.Expr)
    return (expr, [Comment(c.text, shift.span(c.span)) for c in piece.comments],
            [dataclasses.replace(d, span=shift.span(d.span)) for d in piece.diagnostics])


def _slots(cls: type) -> tuple[str, ...]:
    return tuple(name for klass in reversed(cls.__mro__)
                 for name in getattr(klass, "__slots__", ()) if name != "__weakref__")


_SLOTS: dict[type, tuple[str, ...]] = {}


class _Shift:
    """Moves spans of a clause parsed alone to where the clause starts in the document."""

    def __init__(self, offset: int, lines: int, columns: int) -> None:
        self.offset = offset
        self.lines = lines
        self.columns = columns

    def span(self, span: Span) -> Span:
        if span.start == span.end == 0 and span.line == 0:
            return span  # NO_SPAN and the like: nowhere
        column = span.column + (self.columns if span.line == 1 else 0)
        end_column = span.end_column + (self.columns if span.end_line == 1 else 0)
        return Span(span.start + self.offset, span.end + self.offset, span.line + self.lines,
                    column, span.end_line + self.lines, end_column)

    def node(self, node: ast.Node) -> ast.Node:
        """A copy of ``node`` with every span moved (built slot by slot: nodes are frozen and
        ``dataclasses.replace`` costs several times more)."""
        cls = type(node)
        slots = _SLOTS.get(cls)
        if slots is None:
            slots = _SLOTS[cls] = _slots(cls)
        copy = object.__new__(cls)
        children = node.child_fields
        for name in slots:
            value = getattr(node, name)
            if name == "span":
                value = self.span(value)
            elif name in children:
                if isinstance(value, ast.Node):
                    value = self.node(value)
                elif isinstance(value, tuple):
                    value = tuple(self.node(v) if isinstance(v, ast.Node) else v
                                  for v in value)
            object.__setattr__(copy, name, value)
        return copy
