"""The canonical PQL formatter: AST (or text) -> PQL text.

The printer is a :class:`~pqltools.syntax.visitor.Visitor` that turns each node into a small layout
document (text, optional line breaks, indentation, groups); a width-aware renderer then lays the
document out, breaking a group over several lines only when it does not fit in ``width``
(Wadler/Lindig style, iterative so deep trees cannot exhaust the stack while rendering).
``docs/formatting.md`` describes every style choice; the key property is
``parse(format(tree)) == tree``.
"""

from __future__ import annotations

import math
import re

from pqltools.errors import (
    NO_SPAN,
    Diagnostic,
    PQLError,
    PQLSyntaxError,
    PQLValidationError,
    Severity,
)
from pqltools.records import record
from pqltools.syntax import ast
from pqltools.syntax.parser import Comment, ParseOptions, parse_document
from pqltools.syntax.visitor import Visitor

__all__ = ["E_COMMENT", "ONE_LINE", "format", "format_expr", "quote_string", "unit_text"]

#: Diagnostic code for a ``--`` comment standing inside the expression (cannot be kept in place).
E_COMMENT = "PQL008"
#: A width no expression reaches: the layout never breaks a line. JSON definition values use it,
#: since a JSON string cannot hold a real line break and ``\n`` escapes are hard to read.
ONE_LINE = 1_000_000_000

# ----------------------------------------------------------------------------- layout documents


@record(frozen=True, slots=True)
class _Text:
    text: str


@record(frozen=True, slots=True)
class _Line:
    """A place where the layout may break: ``flat`` when the group fits, else a newline."""

    flat: str


@record(frozen=True, slots=True)
class _Concat:
    parts: tuple[Doc, ...]


@record(frozen=True, slots=True)
class _Nest:
    indent: int
    doc: Doc


@record(frozen=True, slots=True)
class _Group:
    doc: Doc


Doc = _Text | _Line | _Concat | _Nest | _Group

_LINE = _Line(" ")
_SOFTLINE = _Line("")
_FLAT, _BREAK = 0, 1


def _cat(*parts: Doc | str) -> Doc:
    return _Concat(tuple(_Text(p) if isinstance(p, str) else p for p in parts))


def _join(separator: Doc | str, docs: list[Doc]) -> Doc:
    parts: list[Doc | str] = []
    for i, doc in enumerate(docs):
        if i:
            parts.append(separator)
        parts.append(doc)
    return _cat(*parts)


def _fits(item: tuple[int, int, Doc], rest: list[tuple[int, int, Doc]], room: int) -> bool:
    """Whether ``item`` laid out flat, plus what follows it up to the next break, fits ``room``."""
    local = [item]
    rest_index = len(rest) - 1
    while room >= 0:
        if not local:
            if rest_index < 0:
                return True
            local.append(rest[rest_index])
            rest_index -= 1
        ind, mode, doc = local.pop()
        if isinstance(doc, _Text):
            room -= len(doc.text)
        elif isinstance(doc, _Concat):
            local.extend((ind, mode, part) for part in reversed(doc.parts))
        elif isinstance(doc, _Nest):
            local.append((ind + doc.indent, mode, doc.doc))
        elif isinstance(doc, _Group):
            local.append((ind, mode, doc.doc))
        elif mode == _FLAT:
            room -= len(doc.flat)
        else:
            return True
    return False


def _render(doc: Doc, width: int) -> str:
    out: list[str] = []
    column = 0
    stack: list[tuple[int, int, Doc]] = [(0, _BREAK, doc)]
    while stack:
        ind, mode, item = stack.pop()
        if isinstance(item, _Text):
            out.append(item.text)
            column += len(item.text)
        elif isinstance(item, _Concat):
            stack.extend((ind, mode, part) for part in reversed(item.parts))
        elif isinstance(item, _Nest):
            stack.append((ind + item.indent, mode, item.doc))
        elif isinstance(item, _Group):
            flat = mode == _FLAT or _fits((ind, _FLAT, item.doc), stack, width - column)
            stack.append((ind, _FLAT if flat else _BREAK, item.doc))
        elif mode == _FLAT:
            out.append(item.flat)
            column += len(item.flat)
        else:
            if out:
                out[-1] = out[-1].rstrip(" ")
            out.append("\n" + " " * ind)
            column = ind
    return "".join(out)


def _flat(doc: Doc) -> str:
    return _render(doc, math.inf)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- lexical helpers

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED = frozenset({"and", "or", "not"})
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}
#: Words that start a time reference, so an expression reference starting with one needs parens.
_TIME_WORDS = frozenset({"now", "today", "yesterday", "tomorrow", "this", "last", "next"})
#: What may follow ``sum``/``average``/``min``/``max`` for the lexer to read them as binders
#: (the AGG look-ahead of grammar/pql.lark).
_AGG_VALUE_START = re.compile(
    r"(?!(?:and|or|in|notin|like|matches|occurs|over|where|from)\b)[A-Za-z_$^@(\[\"0-9.]",
    re.IGNORECASE,
)
_PLURAL = {"century": "centuries", "millennium": "millennia"}


def quote_string(value: str) -> str:
    """``value`` as a PQL string literal that the parser reads back as exactly ``value``."""
    out = ['"']
    for ch in value:
        escaped = _ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif not ch.isprintable() and ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name) or name.lower() in _RESERVED:
        raise PQLValidationError(Diagnostic(
            "PQL007", f"{what} `{name}` is not a PQL identifier and cannot be written as pql/text",
            Severity.ERROR, NO_SPAN))
    return name


def _number(value: float) -> str:
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        raise PQLValidationError(Diagnostic(
            "PQL007", f"number {value!r} cannot be written in PQL", Severity.ERROR, NO_SPAN))
    return str(value) if isinstance(value, int) else repr(value)


def unit_text(amount: int, unit: str) -> str:
    """``1 day``, ``2 days``, ``3 centuries``: singular only for an amount of 1."""
    if amount == 1:
        return unit
    return _PLURAL.get(unit, unit + "s")


# ----------------------------------------------------------------------------- precedence

_BINDER, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _UNARY, _POSTFIX = range(9)
_BINDERS = (ast.Select, ast.Quantifier, ast.Aggregate, ast.Let, ast.Lambda)


def _precedence(node: ast.Node) -> int:
    if isinstance(node, _BINDERS):
        return _BINDER
    if isinstance(node, ast.BoolOp):
        return _OR if node.op == "or" else _AND
    if isinstance(node, ast.Not):
        return _NOT
    if isinstance(node, (ast.Compare, ast.Occurs)):
        return _CMP
    if isinstance(node, ast.BinOp):
        return _ADD if node.op in ("+", "-") else _MUL
    if isinstance(node, ast.Neg):
        return _UNARY
    if isinstance(node, ast.Number) and _number(node.value).startswith("-"):
        return _UNARY
    return _POSTFIX


# ----------------------------------------------------------------------------- the printer

class _Printer(Visitor[Doc]):
    """Builds the layout document of a node; :meth:`operand` adds the parentheses the tree needs."""

    def __init__(self, indent: int, chain_case: str) -> None:
        self.indent = indent
        # `CHAIN`/`WHAT`... upper case as the Segment Builder writes them, or all lower case
        self.chain_word = str.upper if chain_case == "upper" else str.lower

    # -- helpers
    def paren(self, doc: Doc) -> Doc:
        return _Group(_cat("(", _Nest(self.indent, _cat(_SOFTLINE, doc)), _SOFTLINE, ")"))

    def operand(self, node: ast.Node, minimum: int) -> Doc:
        """``node`` as an operand that must bind at least as tightly as ``minimum``."""
        doc = self.visit(node)
        return self.paren(doc) if _precedence(node) < minimum else doc

    def item(self, node: ast.Node, last: bool) -> Doc:
        """An element of a comma-separated list: a binder before a comma needs parentheses."""
        return self.operand(node, _BINDER if last else _OR)

    def delimited(self, open_: str, docs: list[Doc], close: str) -> Doc:
        if not docs:
            return _Text(open_ + close)
        inner = _join(_cat(",", _LINE), docs)
        return _Group(_cat(open_, _Nest(self.indent, _cat(_SOFTLINE, inner)), _SOFTLINE, close))

    def items(self, nodes: tuple[ast.Node, ...]) -> list[Doc]:
        return [self.item(n, i == len(nodes) - 1) for i, n in enumerate(nodes)]

    def infix(self, left: Doc, op: str, right: Doc) -> Doc:
        return _Group(_cat(left, " ", op, _Nest(self.indent, _cat(_LINE, right))))

    # -- literals and names
    def visit_String(self, node: ast.String) -> Doc:
        return _Text(quote_string(node.value))

    def visit_Number(self, node: ast.Number) -> Doc:
        return _Text(_number(node.value))

    def visit_Boolean(self, node: ast.Boolean) -> Doc:
        return _Text("true" if node.value else "false")

    def visit_ListLiteral(self, node: ast.ListLiteral) -> Doc:
        return self.delimited("[", self.items(node.items), "]")

    def visit_ObjectLiteral(self, node: ast.ObjectLiteral) -> Doc:
        n = len(node.entries)
        entries = [_cat(quote_string(e.key), ": ", self.item(e.value, i == n - 1))
                   for i, e in enumerate(node.entries)]
        return self.delimited("{", entries, "}")

    def visit_Name(self, node: ast.Name) -> Doc:
        return _Text(_identifier(node.id, "name"))

    def visit_Attribute(self, node: ast.Attribute) -> Doc:
        return _cat(self.operand(node.receiver, _POSTFIX), ".", _identifier(node.name, "field"))

    def visit_Param(self, node: ast.Param) -> Doc:
        return _Text(f"${node.position}")

    def visit_ParentRef(self, node: ast.ParentRef) -> Doc:
        return _Text("^" * node.levels)

    def visit_ContextRef(self, node: ast.ContextRef) -> Doc:
        return _Text(f"@{node.kind}{{{node.text}}}")

    # -- operators
    def visit_Not(self, node: ast.Not) -> Doc:
        return _cat("not ", self.operand(node.operand, _NOT))

    def visit_Neg(self, node: ast.Neg) -> Doc:
        operand = self.operand(node.operand, _UNARY)
        if _flat(operand).startswith("-"):  # `--` would start a comment in a .pql file
            operand = self.paren(operand)
        return _cat("-", operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> Doc:
        minimum = _AND if node.op == "or" else _NOT
        values = [self.operand(v, minimum) for v in node.values]
        return _Group(_join(_cat(_LINE, node.op, " "), values))

    def visit_Compare(self, node: ast.Compare) -> Doc:
        return self.infix(self.operand(node.left, _ADD), node.op, self.operand(node.right, _ADD))

    def visit_BinOp(self, node: ast.BinOp) -> Doc:
        level = _ADD if node.op in ("+", "-") else _MUL
        return self.infix(self.operand(node.left, level), node.op,
                          self.operand(node.right, level + 1))

    # -- calls
    def visit_Call(self, node: ast.Call) -> Doc:
        return _cat(_identifier(node.name, "function"), self.delimited("(", self.items(node.args),
                                                                      ")"))

    def visit_MethodCall(self, node: ast.MethodCall) -> Doc:
        return _cat(self.operand(node.receiver, _POSTFIX), ".", _identifier(node.name, "method"),
                    self.delimited("(", self.items(node.args), ")"))

    def visit_Filter(self, node: ast.Filter) -> Doc:
        condition = self.visit(node.condition)
        return _cat(self.operand(node.receiver, _POSTFIX), _Group(_cat(
            "[", _Nest(self.indent, _cat(_SOFTLINE, condition)), _SOFTLINE, "]")))

    # -- binders
    def bindings(self, keyword: str, bindings: tuple[ast.Binding, ...]) -> Doc:
        n = len(bindings)
        docs = [self.binding(b, i == n - 1) for i, b in enumerate(bindings)]
        return _Group(_cat(keyword, " ", _Nest(self.indent, _join(_cat(",", _LINE), docs))))

    def binding(self, node: ast.Binding, last: bool) -> Doc:
        head = _cat(_identifier(node.var, "variable"), " from ",
                    self.operand(node.source, _POSTFIX))
        if node.condition is None:
            return head
        return _Group(_cat(head, _LINE, "where ", self.item(node.condition, last)))

    def visit_Select(self, node: ast.Select) -> Doc:
        return self.bindings("select", node.bindings)

    def visit_Quantifier(self, node: ast.Quantifier) -> Doc:
        return self.bindings(node.kind.lower(), node.bindings)

    def visit_Aggregate(self, node: ast.Aggregate) -> Doc:
        func = node.func.lower()
        if node.value is None:
            return self.bindings(func, node.bindings)
        value = self.operand(node.value, _OR)
        if not _AGG_VALUE_START.match(_flat(value)):
            value = self.paren(value)
        return _Group(_cat(func, " ", value, " ", self.bindings("over", node.bindings)))

    def visit_Let(self, node: ast.Let) -> Doc:
        value = self.operand(node.value, _ADD)
        return _Group(_cat("let ", _identifier(node.name, "variable"), " = ", value, " in",
                           _LINE, self.visit(node.body)))

    def visit_Lambda(self, node: ast.Lambda) -> Doc:
        params = ", ".join(_identifier(p, "parameter") for p in node.params)
        return _Group(_cat(f"({params}) =>", _Nest(self.indent, _cat(_LINE,
                                                                     self.visit(node.body)))))

    # -- time
    def time_ref(self, ref: ast.Node) -> Doc:
        if isinstance(ref, ast.TimeKeyword):
            return _Text(ref.word.lower())
        if isinstance(ref, ast.CalendarPeriod):
            return _Text(f"{ref.relation.lower()} {ref.unit}")
        doc = self.operand(ref, _POSTFIX)
        if _precedence(ref) < _POSTFIX:
            return doc  # already parenthesised
        base = ref
        while isinstance(base, (ast.Attribute, ast.MethodCall, ast.Filter)):
            base = base.receiver
        word = base.id if isinstance(base, ast.Name) else (
            base.name if isinstance(base, ast.Call) else "")
        # `today.x` would read as the keyword `today`: only parentheses keep it an expression
        return self.paren(doc) if word.lower() in _TIME_WORDS else doc

    def visit_RelativeTime(self, node: ast.RelativeTime) -> Doc:
        ref = self.time_ref(node.reference)
        if node.comparator is None or node.amount is None or node.unit is None:
            return _cat(node.direction.lower(), " ", ref)
        return _cat(f"{node.comparator} {node.amount} {unit_text(node.amount, node.unit)} "
                    f"{node.direction.lower()} ", ref)

    def visit_AtTime(self, node: ast.AtTime) -> Doc:
        ref = self.time_ref(node.reference)
        if isinstance(node.reference, (ast.TimeKeyword, ast.CalendarPeriod)):
            return ref
        return _cat("on ", ref)

    def visit_BetweenTimes(self, node: ast.BetweenTimes) -> Doc:
        return _cat("between ", self.time_ref(node.start), " and ", self.time_ref(node.end))

    def visit_Occurs(self, node: ast.Occurs) -> Doc:
        return _cat(self.operand(node.subject, _ADD), " occurs ", self.visit(node.phrase))

    # -- sequences
    def clause(self, keyword: str, doc: Doc) -> Doc:
        return _Group(_cat(keyword, "(", _Nest(self.indent, _cat(_SOFTLINE, doc)), _SOFTLINE,
                           ")"))

    def visit_ChainStep(self, node: ast.ChainStep) -> Doc:
        clauses: list[Doc] = []
        if node.what is not None:
            clauses.append(self.clause(self.chain_word("WHAT"), self.visit(node.what)))
        if node.when is not None:
            clauses.append(self.clause(self.chain_word("WHEN"), self.visit(node.when)))
        if node.count is not None:
            clauses.append(_Text(f"{self.chain_word('COUNT')}({node.count})"))
        if node.where is not None:
            clauses.append(self.clause(self.chain_word("WHERE"), self.visit(node.where)))
        label = _identifier(node.label, "step label") + ":"
        if not clauses:
            return _Text(label)
        return _Group(_cat(label, _Nest(self.indent, _cat(*(_cat(_LINE, c) for c in clauses)))))

    def visit_Chain(self, node: ast.Chain) -> Doc:
        field_path = ".".join(_identifier(p, "field") for p in node.timestamp_field.split("."))
        steps = [self.visit(s) for s in node.steps]
        head = _cat(self.chain_word("CHAIN") + "(", self.item(node.events, last=False), ", ", field_path, ", [")
        if not steps:
            return _cat(head, "])")
        return _Group(_cat(head, _Nest(self.indent, _cat(_SOFTLINE, _join(_cat(",", _LINE),
                                                                          steps))),
                           _SOFTLINE, "])"))

    def generic_visit(self, node: ast.Node) -> Doc:
        raise PQLValidationError(Diagnostic(
            "PQL007", f"cannot format a {type(node).__name__} node on its own", Severity.ERROR,
            node.span))


def format_expr(node: ast.Node, *, width: int = 88, indent: int = 2,
                chain_case: str = "upper") -> str:
    """The canonical text of one AST node (no comments; see :func:`format`)."""
    try:
        return _render(_Printer(indent, chain_case).visit(node), width)
    except RecursionError:  # only hand-built or from_json trees get this deep
        raise PQLValidationError(Diagnostic(
            "PQL006", "expression is nested too deeply to format", Severity.ERROR, node.span,
        )) from None


def format(source: str | ast.Node, *, width: int = 88, indent: int = 2,
           comments: bool = True, chain_case: str = "upper") -> str:
    """Canonical PQL text for ``source`` (PQL text or an AST), laid out within ``width`` columns.

    ``chain_case`` is ``"upper"`` (``CHAIN(... [C0: WHAT(...) WHEN(...)])``, as Adobe's Segment
    Builder writes it) or ``"lower"`` (``chain(... [C0: what(...)])``); every other keyword is
    lower case.

    Text is parsed first (:class:`~pqltools.errors.PQLSyntaxError` on bad input). With
    ``comments=True`` (the ``.pql`` file form) ``--`` comments before and after the expression are
    kept; a comment standing inside the expression raises :class:`~pqltools.errors.PQLError`
    (code ``PQL008``) because it could not be kept in place. The result has no trailing newline.
    """
    if chain_case not in ("upper", "lower"):
        raise ValueError(f"chain_case must be 'upper' or 'lower', not {chain_case!r}")
    if isinstance(source, ast.Node):
        return format_expr(source, width=width, indent=indent, chain_case=chain_case)
    result = parse_document(source, ParseOptions(comments=comments))
    if result.expr is None or not result.ok:
        raise PQLSyntaxError(result.diagnostics, result.text)
    body = format_expr(result.expr, width=width, indent=indent, chain_case=chain_case)
    if not result.comments:
        return body
    return _with_comments(result.text, result.expr, body, result.comments)


def _with_comments(text: str, expr: ast.Expr, body: str, comments: list[Comment]) -> str:
    inside = [c for c in comments if expr.span.start < c.span.start < expr.span.end]
    if inside:
        raise PQLError([Diagnostic(
            E_COMMENT, "this comment stands inside the expression; the file cannot be "
            "formatted without moving comments", Severity.ERROR, c.span,
            help="move the comment before or after the expression") for c in inside], text)
    pieces: list[tuple[int, int, str]] = [(c.span.start, c.span.end, c.text.rstrip())
                                          for c in comments]
    pieces.append((expr.span.start, expr.span.end, body))
    pieces.sort()
    lines: list[str] = []
    previous_end: int | None = None
    for start, end, piece in pieces:
        gap = text[previous_end:start] if previous_end is not None else ""
        if previous_end is not None and "\n" not in gap:
            lines[-1] += " " + piece  # a comment on the expression's last line stays there
        else:
            if gap.count("\n") > 1:
                lines.append("")
            lines.extend(piece.split("\n"))
        previous_end = end
    return "\n".join(lines)
