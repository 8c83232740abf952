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

import bisect
import dataclasses
import functools
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from pqltools_lsp.memo import Memo

from pqltools.errors import Diagnostic, Span
from pqltools.syntax import ast
from pqltools.syntax.parser import Comment, ParseOptions, ParseResult

__all__ = ["MIN_CLAUSES", "Clause", "Shift", "assembled_clauses", "clause_at", "clause_bounds", "parse_clauses",
           "split"]

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
    found = split(text, options.comments)
    if found is None:
        return None
    clauses: list[ast.Expr] = []
    comments: list[Comment] = []
    diagnostics: list[Diagnostic] = []
    depths: list[int] = []
    for clause in found:
        piece = parse(clause.text)
        if not piece.ok or piece.expr is None:
            return None
        expr, moved, notes, depth = _SHIFTED.get((clause.text, clause.place),
                                                 functools.partial(_moved, piece, *clause.place))
        clauses.append(expr)
        comments.extend(moved)
        diagnostics.extend(notes)
        depths.append(depth)
    ops = [c.op for c in found[1:] if c.op is not None]
    expr = _join(clauses, ops)
    if _joined_depth(depths, ops) > options.max_depth:
        return None
    return ParseResult(expr, diagnostics, comments, text, options=options)


class Clause(NamedTuple):
    """One top-level clause: its text, where it starts (``place``: offset, 0-based line,
    column in code points) and the operator before it (None for the first)."""

    text: str
    start: int
    end: int
    place: tuple[int, int, int]
    op: str | None


#: The clauses of recent texts: every feature asks for them after an edit.
_SPLITS: Memo[tuple[str, bool], tuple[Clause, ...] | None] = Memo(32)


def split(text: str, comments: bool) -> tuple[Clause, ...] | None:
    """The top-level clauses of ``text`` (memoised per text), or None when it cannot be cut
    (see the module docstring)."""
    return _SPLITS.get((text, comments), lambda: _split(text, comments))


def _split(text: str, comments: bool) -> tuple[Clause, ...] | None:
    cuts = _operators(text, comments)
    if cuts is None or len(cuts) + 1 < MIN_CLAUSES:
        return None
    out: list[Clause] = []
    line = line_start = start = 0
    op = None
    for cut_start, cut_end, next_op in [*cuts, (len(text), len(text), None)]:
        out.append(Clause(text[start:cut_start], start, cut_start,
                          (start, line, start - line_start), op))
        newlines = text.count("\n", start, cut_end)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", start, cut_end) + 1
        start, op = cut_end, next_op
    return tuple(out)


def assembled_clauses(text: str, parse: Callable[[str], ParseResult],
                      options: ParseOptions) -> tuple[Clause, ...] | None:
    """The clauses of ``text`` when :func:`parse_clauses` assembles its parse from theirs
    (each parses, the joined tree is not too deep), without assembling it: features that work
    clause by clause need no tree of the whole text, whose spans move after every edit."""
    if len(text) > options.max_length:
        return None
    found = split(text, options.comments)
    if found is None:
        return None
    depths: list[int] = []
    for clause in found:
        piece = parse(clause.text)
        if not piece.ok or piece.expr is None:
            return None
        depths.append(_DEPTHS.get(clause.text, functools.partial(_depth, piece.expr)))
    if _joined_depth(depths, [c.op for c in found[1:] if c.op is not None]) > options.max_depth:
        return None
    return found


def clause_at(text: str, comments: bool, offset: int) -> Clause | None:
    """The top-level clause of ``text`` holding ``offset`` (at either end included), or None
    (not cut into clauses, or ``offset`` inside an operator)."""
    clauses = split(text, comments)
    if clauses is None:
        return None
    i = bisect.bisect_right(clauses, offset, key=lambda c: c.start) - 1
    return clauses[i] if i >= 0 and offset <= clauses[i].end else None


def clause_bounds(text: str, comments: bool) -> list[tuple[int, int]] | None:
    """``[start, end)`` of each top-level clause (between operators), or None (see
    :func:`parse_clauses` for when)."""
    found = split(text, comments)
    return None if found is None else [(c.start, c.end) for c in found]


#: What matters for finding top-level operators: strings and comments (skipped), brackets,
#: the operators and the words that forbid cutting, and characters PQL has no use for.
_INTERESTING = re.compile(
    r'(?P<string>"(?:[^"\\\n]|\\.)*"?)|(?P<comment>--[^\n]*)|(?P<open>[(\[{])|(?P<close>[)\]}])'
    r"|(?<![\w.$@])(?P<word>(?i:and|or|" + "|".join(sorted(_BINDING_WORDS)) + r"))(?!\w)"
    r"|(?P<odd>=>|:|[^\w\s\"()\[\]{},.=<>!+\-*/%$@^])")


_Cut = tuple[int, int, str]


def _top_level_operators(text: str, comments: bool, start: int = 0,
                         before: list[_Cut] | None = None,
                         resync: tuple[int, list[_Cut], int] | None = None
                         ) -> list[_Cut] | None:
    """``(start, end, "and"|"or")`` of each top-level operator; None when cutting is unsafe.

    The scan may start at ``start``, a point outside any bracket, string or comment where a
    previous scan of the same prefix found the operators ``before``. With ``resync`` =
    ``(from, old, delta)``, a top-level operator found at or after ``from`` where the previous
    text had one of its operators ``old`` (moved by ``delta``) ends the scan: the rest of the
    text is the previous one's, so are its operators.
    """
    depth = 0
    out: list[_Cut] = list(before or ())
    for m in _INTERESTING.finditer(text, start):
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
            at = m.start()
            if resync is not None and at >= resync[0]:
                _, old, delta = resync
                i = bisect.bisect_left(old, (at - delta,))
                if i < len(old) and old[i][0] == at - delta:
                    return out + [(a + delta, b + delta, op) for a, b, op in old[i:]]
            out.append((at, m.end(), low))
        elif depth == 0 and kind == "odd":
            return None
    return out if depth == 0 else None


#: The last text cut and its operators: the next text is most often that one after an edit.
_last_cut: tuple[str, bool, list[_Cut]] | None = None


def _operators(text: str, comments: bool) -> list[_Cut] | None:
    """:func:`_top_level_operators` of ``text``, rescanning only from the clause an edit of
    the last text cut starts in up to the first operator after the edit that was there
    before."""
    global _last_cut
    last = _last_cut
    if last is None or last[1] != comments or not last[2]:
        cuts = _top_level_operators(text, comments)
    else:
        old, _, old_cuts = last
        prefix, suffix = common_affixes(old, text)
        delta = len(text) - len(old)
        # restart after the last operator that ends before the edit (its next character, which
        # a match there may look behind at, is unchanged too)
        keep = 0
        while keep < len(old_cuts) and old_cuts[keep][1] < prefix:
            keep += 1
        start = old_cuts[keep - 1][1] if keep else 0
        changed_end = len(text) - suffix  # the first character after the edit in ``text``
        cuts = _top_level_operators(text, comments, start, old_cuts[:keep],
                                    (changed_end + 1, old_cuts, delta))
    if cuts is not None and len(cuts) + 1 >= MIN_CLAUSES:  # not a clause's own parse
        _last_cut = (text, comments, cuts)
    return cuts


def common_affixes(old: str, new: str) -> tuple[int, int]:
    """The lengths of the longest common prefix and suffix of two texts, not overlapping in
    either (binary searches of slice comparisons, which run at C speed)."""
    limit = min(len(old), len(new))
    prefix = _longest(lambda k: old[:k] == new[:k], limit)
    suffix = _longest(lambda k: old[len(old) - k:] == new[len(new) - k:], limit - prefix)
    return prefix, suffix


def _longest(same: Callable[[int], bool], limit: int) -> int:
    """The largest ``k <= limit`` with ``same(k)`` (``same`` holds up to some k, then not)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if same(middle):
            low = middle
        else:
            high = middle - 1
    return low


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


def _joined_depth(depths: list[int], ops: list[str]) -> int:
    """The depth of :func:`_join`'s tree from the depths of its clauses."""
    if "or" not in ops:
        return 1 + max(depths)
    deepest, group = 0, [depths[0]]
    for op, depth in zip([*ops, "or"], [*depths[1:], 0], strict=True):
        if op == "or":
            deepest = max(deepest, max(group) + (1 if len(group) == 1 else 2))
            group = [depth]
        else:
            group.append(depth)
    return deepest


#: The depth of each clause's tree, by its text.
_DEPTHS: Memo[str, int] = Memo(4096)


def _depth(root: ast.Node) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.children())
    return deepest


_Moved = tuple[ast.Expr, list[Comment], list[Diagnostic], int]
#: Clauses moved to where they stand, by (text, (offset, line, column)): clauses before an
#: edit keep their place and are reused as they are.
_SHIFTED: Memo[tuple[str, tuple[int, int, int]], _Moved] = Memo(4096)


def _moved(piece: ParseResult, offset: int, lines: int, columns: int) -> _Moved:
    shift = Shift(offset, lines, columns)
    assert piece.expr is not None
    expr = shift.node(piece.expr)
    assert isinstance(expr, ast.Expr)
    return (expr, [Comment(c.text, shift.span(c.span)) for c in piece.comments],
            [dataclasses.replace(d, span=shift.span(d.span)) for d in piece.diagnostics],
            _DEPTHS.get(piece.text, functools.partial(_depth, piece.expr)))


def _slots(cls: type) -> tuple[str, ...]:
    return tuple(name for klass in reversed(cls.__mro__)
                 for name in getattr(klass, "__slots__", ()) if name != "__weakref__")


_Copier = Callable[[Any, "Shift"], Any]
_COPIERS: dict[type, _Copier] = {}


def _copier(cls: type) -> _Copier:
    """A function copying a frozen, slotted ``cls`` instance with its spans moved: the slots
    are written through their descriptors, which costs a fraction of ``__init__`` (a frozen
    dataclass's goes through ``object.__setattr__`` for each field) or of ``replace``."""
    found = _COPIERS.get(cls)
    if found is not None:
        return found
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    children = getattr(cls, "child_fields", ())
    body = []
    for i, name in enumerate(_slots(cls)):
        scope[f"_set{i}"] = getattr(cls, name).__set__
        value = (f"shift.span(node.{name})" if name == "span"
                 else f"shift.value(node.{name})" if name in children else f"node.{name}")
        body.append(f"    _set{i}(new, {value})\n")
    source = f"def copy(node, shift):\n    new = _new(_cls)\n{''.join(body)}    return new\n"
    exec(source, scope)  # noqa: S102 - slot names only, from the AST's own classes
    copier: _Copier = scope["copy"]
    _COPIERS[cls] = copier
    return copier


def _span_setters() -> Callable[..., Span]:
    setters = [getattr(Span, name).__set__ for name in _slots(Span)]
    assert _slots(Span) == ("start", "end", "line", "column", "end_line", "end_column")
    s0, s1, s2, s3, s4, s5 = setters
    new = object.__new__

    def make(start: int, end: int, line: int, column: int, end_line: int,
             end_column: int) -> Span:
        span = new(Span)
        s0(span, start)
        s1(span, end)
        s2(span, line)
        s3(span, column)
        s4(span, end_line)
        s5(span, end_column)
        return span

    return make


#: ``Span(...)`` without the frozen dataclass's ``__init__`` (same object).
_make_span = _span_setters()


class Shift:
    """Moves spans of a clause parsed alone to where the clause starts in the document."""

    __slots__ = ("columns", "lines", "offset")

    def __init__(self, offset: int, lines: int, columns: int) -> None:
        self.offset = offset
        self.lines = lines
        self.columns = columns

    def span(self, span: Span) -> Span:
        """``span`` moved."""
        if span.start == span.end == 0 and span.line == 0:
            return span  # NO_SPAN and the like: nowhere
        line, end_line = span.line, span.end_line
        return _make_span(span.start + self.offset, span.end + self.offset, line + self.lines,
                          span.column + self.columns if line == 1 else span.column,
                          end_line + self.lines,
                          span.end_column + self.columns if end_line == 1 else span.end_column)

    def node(self, node: ast.Node) -> ast.Node:
        """A copy of ``node`` with every span moved."""
        copied: ast.Node = _copier(type(node))(node, self)
        return copied

    def value(self, value: Any) -> Any:
        """A child field's value moved: a node, a tuple holding nodes, or anything else."""
        if isinstance(value, ast.Node):
            return _copier(type(value))(value, self)
        if isinstance(value, tuple):
            return tuple(_copier(type(v))(v, self) if isinstance(v, ast.Node) else v
                         for v in value)
        return value
