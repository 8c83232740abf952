"""PQL text -> typed AST, with error recovery and messages in PQL's words.

The grammar (``grammar/pql.lark``) is parsed by Lark's LALR parser with the contextual lexer; this
module's :class:`_Builder` is handed to Lark as an inline transformer, so AST nodes are built during
the parse itself (no intermediate Lark tree, no recursion: 10,000 nested parentheses parse in
linear time). Nothing outside this module ever sees a Lark object.
"""

from __future__ import annotations

import copy
import importlib
import marshal
import math
import re
import threading
from contextvars import ContextVar
from dataclasses import field
from pathlib import Path
from typing import Any

import lark
from lark import Token
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.grammar import Rule
from lark.lexer import TerminalDef

from pqltools.errors import Diagnostic, Edit, Fix, PQLSyntaxError, Severity, Span
from pqltools.limits import parse_int_text
from pqltools.records import record
from pqltools.syntax import ast, lexer_cache

__all__ = ["Comment", "ParseOptions", "ParseResult", "grammar_text", "parse", "parse_document"]

# Syntax diagnostic codes (PQL0xx). Lint rules use PQL1xx and above.
E_SYNTAX = "PQL001"
E_STRING = "PQL002"
E_CHARACTER = "PQL003"
E_ESCAPE = "PQL004"
E_BRACKET = "PQL005"
E_LIMIT = "PQL006"
E_LITERAL = "PQL007"


@record(frozen=True, slots=True)
class Comment:
    """A ``-- ...`` comment (only in comment-enabled parses such as ``.pql`` files)."""

    text: str
    span: Span


@record(frozen=True, slots=True)
class ParseOptions:
    """Limits and dialect switches. Limits are configuration, not accidents.

    ``comments``: accept ``--`` line comments (the ``.pql`` file form; JSON definitions have none).
    ``max_depth``: deepest allowed nesting of AST nodes (every later pass stays within Python's
    recursion limit below it). ``max_errors``: stop reporting after this many syntax errors.
    ``max_length``: refuse longer inputs outright.
    """

    comments: bool = False
    max_depth: int = 100
    max_errors: int = 50
    max_length: int = 10_000_000


@record(slots=True)
class ParseResult:
    """What :func:`parse_document` returns: the tree when there were no errors, and everything found."""

    expr: ast.Expr | None
    diagnostics: list[Diagnostic]
    comments: list[Comment] = field(default_factory=list)
    text: str = ""
    options: ParseOptions | None = None

    @property
    def ok(self) -> bool:
        """True when the text parsed without errors."""
        return self.expr is not None and not any(
            d.severity is Severity.ERROR for d in self.diagnostics
        )


def _grammar_file(name: str) -> Path:
    """A file of the grammar package (``grammar/`` in a checkout, ``pqltools.grammar`` installed)."""
    try:
        package = importlib.import_module("pqltools.grammar")
    except ImportError:  # pragma: no cover - a source tree without the package mapping
        return Path(__file__).resolve().parents[2] / "grammar" / name
    return Path(package.__file__ or "").with_name(name)


def grammar_text() -> str:
    """The Lark grammar, from the installed package or, in a source checkout, ``grammar/``."""
    return _grammar_file("pql.lark").read_text("utf-8")


# ----------------------------------------------------------------------------- spans


def _tok_offsets(t: Token) -> tuple[int, int]:
    """``(start, end)`` of a token, also for one whose end Lark dropped.

    Lark's ``Token.__deepcopy__`` keeps only the start of a token, and the error recovery copies
    the parser state (``InteractiveParser.copy``) to try repairs, so rules reduced in a trial see
    tokens whose ``end_pos``/``end_line``/``end_column`` are None.
    """
    start = t.start_pos if t.start_pos is not None else 0
    end = t.end_pos if t.end_pos is not None else start + len(t.value)
    return start, end


def _trial(ip: Any) -> Any:
    """A copy of Lark's interactive parser to try a repair on, without building anything.

    Lark's default copy deep-copies the value stack: every AST node built so far and every token
    (losing their end positions), so each repair attempt cost time proportional to everything
    parsed before it. The copy here shares the (immutable) values and runs no callbacks: a trial
    only asks whether the tokens fit, as Lark's own ``accepts`` does.
    """
    try:
        trial = ip.copy(deepcopy_values=False)
    except TypeError:  # pragma: no cover - Lark older than 1.2 copies deeply
        trial = ip.copy()
    conf = copy.copy(trial.parser_state.parse_conf)
    conf.callbacks = {}
    trial.parser_state.parse_conf = conf
    return trial


def _tok_span(t: Token) -> Span:
    start, end = _tok_offsets(t)
    line = t.line if t.line is not None else 1
    column = t.column if t.column is not None else 1
    if t.end_line is not None and t.end_column is not None:
        return Span(start, end, line, column, t.end_line, t.end_column)
    value = str(t.value)
    newlines = value.count("\n")
    end_column = (column + len(value) if not newlines
                  else len(value) - value.rfind("\n"))
    return Span(start, end, line, column, line + newlines, end_column)


def _span(first: Any, last: Any) -> Span:
    a = first.span if isinstance(first, ast.Node) else _tok_span(first)
    b = last.span if isinstance(last, ast.Node) else _tok_span(last)
    return Span(a.start, b.end, a.line, a.column, b.end_line, b.end_column)


_UNITS = {
    "millisecond": "millisecond", "milliseconds": "millisecond", "second": "second",
    "seconds": "second", "minute": "minute", "minutes": "minute", "hour": "hour",
    "hours": "hour", "day": "day", "days": "day", "week": "week", "weeks": "week",
    "month": "month", "months": "month", "year": "year", "years": "year", "decade": "decade",
    "decades": "decade", "century": "century", "centuries": "century",
    "millennium": "millennium", "millenniums": "millennium", "millenium": "millennium",
    "milleniums": "millennium", "millennia": "millennium",
}

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "'": "'", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)


class _CallState:
    """What one parse call collects: its text and its diagnostics (never shared between calls)."""

    __slots__ = ("diagnostics", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.diagnostics: list[Diagnostic] = []


#: The state of the parse running in this thread (or asyncio task). The Lark parser and its
#: builder are shared and stateless; everything a parse records goes here, so concurrent parses in
#: the language server's worker threads neither wait for each other nor mix their diagnostics.
_CALL: ContextVar[_CallState] = ContextVar("pql_parse_call")


class _Builder(lark.Transformer):  # type: ignore[type-arg]
    """Lark inline transformer: one method per grammar rule (alias), each returning an AST node.

    Stateless: one instance serves every thread; diagnostics go to the calling parse's
    :class:`_CallState`.
    """

    # -- literals
    def string(self, c: list[Any]) -> ast.String:
        tok = c[0]
        raw = tok.value[1:-1]
        if "\\" not in raw:
            return ast.String(raw, span=_tok_span(tok))

        def repl(m: re.Match[str]) -> str:
            esc = m.group(1)
            if esc in _ESCAPES:
                return _ESCAPES[esc]
            if len(esc) == 5:
                return chr(int(esc[1:], 16))
            start = _tok_offsets(tok)[0] + 1 + m.start()
            self._error(
                E_ESCAPE,
                f"unknown escape `\\{esc}` in a string",
                start,
                start + 2,
                help="PQL strings use backslash escapes (\\\" \\\\ \\n \\t \\uXXXX); for a "
                f"regular expression write `\\\\{esc}`",
                fix=Fix(f"write `\\\\{esc}`", (Edit(start, start + 1, "\\\\"),), safe=False),
            )
            return esc

        return ast.String(_ESCAPE_RE.sub(repl, raw), span=_tok_span(tok))

    def number(self, c: list[Any]) -> ast.Number:
        tok = c[0]
        text = tok.value
        value: int | float
        found = parse_int_text(text) if text.isdigit() else float(text)
        if found is None or math.isinf(found):
            self._out_of_range(tok)
            found = 0
        value = found
        return ast.Number(value, span=_tok_span(tok))

    def _out_of_range(self, tok: Token) -> None:
        self._error(E_LITERAL, f"number `{_clip(str(tok.value))}` is out of range (numbers are "
                    "limited to the range of a double, ±1.8e308)", *_tok_offsets(tok))

    def _int(self, tok: Token) -> int:
        """The value of an INT token (``occurs`` amounts, ``COUNT(n)``), range-checked."""
        value = parse_int_text(tok.value)
        if value is None:
            self._out_of_range(tok)
            return 0
        return value

    def boolean(self, c: list[Any]) -> ast.Boolean:
        return ast.Boolean(c[0].value.lower() == "true", span=_tok_span(c[0]))

    def list_literal(self, c: list[Any]) -> ast.ListLiteral:
        items = tuple(c[1]) if c[1] is not None else ()
        return ast.ListLiteral(items, span=_span(c[0], c[-1]))

    def object_literal(self, c: list[Any]) -> ast.ObjectLiteral:
        entries = tuple(x for x in c[1:-1] if x is not None)
        return ast.ObjectLiteral(entries, span=_span(c[0], c[-1]))

    def entry(self, c: list[Any]) -> ast.ObjectEntry:
        key = self.string([c[0]]).value
        return ast.ObjectEntry(key, c[2], span=_span(c[0], c[2]))

    def args(self, c: list[Any]) -> list[Any]:
        return c

    # -- names
    def name(self, c: list[Any]) -> ast.Name:
        return ast.Name(c[0].value, span=_tok_span(c[0]))

    def param(self, c: list[Any]) -> ast.Param:
        tok = c[0]
        digits = tok.value[1:]
        position = int(digits) if len(digits) < 10 else 0
        if position < 1:
            self._error(E_LITERAL, f"`{_clip(tok.value)}` is not a parameter; parameters are "
                        "numbered from `$1` (the profile)", *_tok_offsets(tok))
            position = 1
        return ast.Param(position, span=_tok_span(tok))

    def parent_ref(self, c: list[Any]) -> ast.Expr:
        carets, name = c
        ref = ast.ParentRef(len(carets.value), span=_tok_span(carets))
        if name is None:
            return ref
        return ast.Attribute(ref, name.value, span=_span(carets, name))

    def context_ref(self, c: list[Any]) -> ast.ContextRef:
        text = c[0].value
        kind = "event" if text.startswith("@event") else ""
        body = text[text.index("{") + 1 : -1]
        return ast.ContextRef(kind, body, span=_tok_span(c[0]))

    # -- postfix
    def attribute(self, c: list[Any]) -> ast.Attribute:
        return ast.Attribute(c[0], c[1].value, span=_span(c[0], c[1]))

    def method_call(self, c: list[Any]) -> ast.MethodCall:
        args = tuple(c[2]) if c[2] is not None else ()
        return ast.MethodCall(c[0], c[1].value, args, span=_span(c[0], c[3]))

    def filter(self, c: list[Any]) -> ast.Filter:
        return ast.Filter(c[0], c[1], span=_span(c[0], c[2]))

    def call(self, c: list[Any]) -> ast.Call:
        args = tuple(c[1]) if c[1] is not None else ()
        return ast.Call(c[0].value, args, span=_span(c[0], c[2]))

    # -- operators
    def neg(self, c: list[Any]) -> ast.Expr:
        operand = c[1]
        if isinstance(operand, ast.Number) and not isinstance(operand.value, bool):
            return ast.Number(-operand.value, span=_span(c[0], operand))
        return ast.Neg(operand, span=_span(c[0], operand))

    def not_op(self, c: list[Any]) -> ast.Not:
        return ast.Not(c[1], span=_span(c[0], c[1]))

    def and_expr(self, c: list[Any]) -> ast.BoolOp:
        return ast.BoolOp("and", tuple(c), span=_span(c[0], c[-1]))

    def or_expr(self, c: list[Any]) -> ast.BoolOp:
        return ast.BoolOp("or", tuple(c), span=_span(c[0], c[-1]))

    def compare(self, c: list[Any]) -> ast.Compare:
        op = c[1]
        name = op.type
        if name == "IN":
            text = "in"
        elif name == "NOTIN":
            text = "notIn"
        elif name in ("LIKE", "MATCHES"):
            text = name.lower()
        else:
            text = op.value
        return ast.Compare(text, c[0], c[2], span=_span(c[0], c[2]))

    def binop(self, c: list[Any]) -> ast.BinOp:
        return ast.BinOp(c[1].value, c[0], c[2], span=_span(c[0], c[2]))

    # -- binders
    def binding(self, c: list[Any]) -> ast.Binding:
        var, _from, source, _kw, cond = c
        end = cond if cond is not None else source
        return ast.Binding(var.value, source, cond, span=_span(var, end))

    def bindings(self, c: list[Any]) -> tuple[ast.Binding, ...]:
        return tuple(c)

    def select_expr(self, c: list[Any]) -> ast.Select:
        return ast.Select(c[1], span=_span(c[0], c[1][-1]))

    def quant_expr(self, c: list[Any]) -> ast.Quantifier:
        return ast.Quantifier(c[0].value.lower(), c[1], span=_span(c[0], c[1][-1]))

    def agg_expr(self, c: list[Any]) -> ast.Aggregate:
        return ast.Aggregate(c[0].value.lower(), c[1], c[3], span=_span(c[0], c[3][-1]))

    def agg_var_expr(self, c: list[Any]) -> ast.Aggregate:
        return ast.Aggregate(c[0].value.lower(), None, c[1], span=_span(c[0], c[1][-1]))

    def let_expr(self, c: list[Any]) -> ast.Let:
        return ast.Let(c[1].value, c[3], c[5], span=_span(c[0], c[5]))

    def lambda_expr(self, c: list[Any]) -> ast.Lambda:
        head = c[0].value
        inner = head[head.index("(") + 1 : head.rindex(")")]
        params = tuple(p.strip() for p in inner.split(",") if p.strip())
        return ast.Lambda(params, c[1], span=_span(c[0], c[1]))

    # -- time
    def direction(self, c: list[Any]) -> Token:
        return c[0]  # type: ignore[no-any-return]

    def time_keyword(self, c: list[Any]) -> ast.TimeKeyword:
        return ast.TimeKeyword(c[0].value.lower(), span=_tok_span(c[0]))

    def calendar_period(self, c: list[Any]) -> ast.CalendarPeriod:
        return ast.CalendarPeriod(c[0].value.lower(), _UNITS[c[1].value.lower()],
                                  span=_span(c[0], c[1]))

    def relative_time(self, c: list[Any]) -> ast.RelativeTime:
        if len(c) == 2:
            direction, ref = c
            return ast.RelativeTime(None, None, None, direction.value.lower(), ref,
                                    span=_span(direction, ref))
        cmp, amount, unit, direction, ref = c
        return ast.RelativeTime(cmp.value, self._int(amount), _UNITS[unit.value.lower()],
                                direction.value.lower(), ref, span=_span(cmp, ref))

    def at_time(self, c: list[Any]) -> ast.AtTime:
        on, ref = c
        return ast.AtTime(ref, span=_span(on if on is not None else ref, ref))

    def between_times(self, c: list[Any]) -> ast.BetweenTimes:
        return ast.BetweenTimes(c[1], c[2], span=_span(c[0], c[2]))

    def occurs(self, c: list[Any]) -> ast.Occurs:
        return ast.Occurs(c[0], c[2], span=_span(c[0], c[2]))

    # -- chains
    def field_path(self, c: list[Any]) -> Token:
        return Token.new_borrow_pos("FIELD_PATH", ".".join(t.value for t in c), c[0])

    def what_clause(self, c: list[Any]) -> tuple[str, Any, Token, Token]:
        return ("what", c[1], c[0], c[2])

    def when_clause(self, c: list[Any]) -> tuple[str, Any, Token, Token]:
        return ("when", c[1], c[0], c[2])

    def where_clause(self, c: list[Any]) -> tuple[str, Any, Token, Token]:
        return ("where", c[1], c[0], c[2])

    def count_clause(self, c: list[Any]) -> tuple[str, Any, Token, Token]:
        return ("count", self._int(c[1]), c[0], c[2])

    def step(self, c: list[Any]) -> ast.ChainStep:
        label = c[0]
        clauses: dict[str, Any] = {}
        last: Any = c[1]
        for kind, value, kw, rpar in c[2:]:
            if kind in clauses:
                self._error(E_SYNTAX, f"step `{label.value}` has a second `{kw.value}` clause",
                            _tok_offsets(kw)[0], _tok_offsets(rpar)[1],
                            help="each of WHAT, WHEN, COUNT and WHERE may appear once per step")
            clauses[kind] = value
            last = rpar
        return ast.ChainStep(label.value, span=_span(label, last), **clauses)

    def chain(self, c: list[Any]) -> ast.Chain:
        steps = tuple(x for x in c[3:-1] if x is not None)
        return ast.Chain(c[1], c[2].value, steps, span=_span(c[0], c[-1]))

    def start(self, c: list[Any]) -> Any:
        return c[0]

    # -- diagnostics
    def _error(self, code: str, message: str, start: int, end: int, *, help: str | None = None,
               fix: Fix | None = None) -> None:
        state = _CALL.get()
        state.diagnostics.append(
            Diagnostic(code, message, Severity.ERROR, Span.from_offsets(state.text, start, end),
                       fix=fix, help=help)
        )


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- error messages

_DESCRIBE = {
    "NAME": "a name", "STRING": "a string", "NUMBER": "a number", "INT": "a whole number",
    "PARAM": "a parameter like `$1`", "CARETS": "`^`", "CONTEXT_REF": "`@{...}`",
    "EQ": "`=`", "CMP": "a comparison", "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`",
    "SLASH": "`/`", "PERCENT": "`%`", "COLON": "`:`", "COMMA": "`,`", "DOT": "`.`",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`",
    "RBRACE": "`}`", "_AND": "`and`", "_OR": "`or`", "NOT": "`not`", "BANG": "`!`",
    "IN": "`in`", "NOTIN": "`notIn`", "LIKE": "`like`", "MATCHES": "`matches`",
    "OCCURS": "`occurs`", "OVER": "`over`", "FROM": "`from`", "WHERE": "`where`",
    "TRUE": "`true`", "FALSE": "`false`", "ON": "`on`", "BETWEEN": "`between`",
    "BEFORE": "`before`", "AFTER": "`after`", "NOW": "`now`", "TODAY": "`today`",
    "YESTERDAY": "`yesterday`", "TOMORROW": "`tomorrow`", "THIS": "`this`", "LAST": "`last`",
    "NEXT": "`next`", "WHAT": "`WHAT(...)`", "WHEN": "`WHEN(...)`", "COUNT": "`COUNT(...)`",
    "UNIT": "a time unit (`days`, `hours`, ...)", "SELECT": "`select`",
    "QUANT": "`exists`/`forall`", "AGG": "`sum`/`average`/`min`/`max`", "LET": "`let`",
    "CHAIN": "`chain(`", "LAMBDA_HEAD": "a lambda `(x) =>`", "$END": "the end of the expression",
}
_EXPRESSION_START = {"NAME", "STRING", "NUMBER", "PARAM", "LPAR", "LSQB", "MINUS"}
_OPERATORS = {"_AND", "_OR", "EQ", "CMP", "IN", "NOTIN", "LIKE", "MATCHES", "OCCURS", "PLUS",
              "MINUS", "STAR", "SLASH", "PERCENT", "DOT", "LSQB"}
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_OPENERS = {v: k for k, v in _CLOSERS.items()}
_TYPOGRAPHIC = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_TYPOGRAPHIC_SINGLE = "\u2018\u2019\u201a\u201b\u2032"
_NOT_TOKEN_START = re.compile(r"""[^\sA-Za-z0-9_"$^@{}()\[\].,:=!<>+\-*/%'`&|\\""" +
                              _TYPOGRAPHIC + _TYPOGRAPHIC_SINGLE + "]+")


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the expression"
    return f"`{_clip(str(tok.value))}`"


def _describe_expected(expected: set[str]) -> str:
    names = set(expected)
    parts: list[str] = []
    if len(names & _EXPRESSION_START) >= 3:
        parts.append("an expression")
        names -= _EXPRESSION_START | {"TRUE", "FALSE", "CARETS", "CONTEXT_REF", "NOT", "BANG",
                                      "SELECT", "QUANT", "AGG", "LET", "CHAIN", "LAMBDA_HEAD",
                                      "LBRACE"}
    if len(names & _OPERATORS) >= 4:
        parts.append("an operator")
        names -= _OPERATORS
    for n in sorted(names, key=lambda n: (n not in ("RPAR", "RSQB", "RBRACE", "COMMA"), n)):
        desc = _DESCRIBE.get(n)
        if desc and desc not in parts:
            parts.append(desc)
    if not parts:
        return "something else"
    if len(parts) > 6:
        parts = parts[:6] + ["..."]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _bracket_problem(text: str) -> tuple[str, int, str] | None:
    """The first unmatched closer or the innermost unclosed opener, outside strings."""
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    string_re = re.compile(r'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"')
    while i < n:
        ch = text[i]
        if ch == '"':
            m = string_re.match(text, i)
            if not m:
                nl = text.find("\n", i)
                i = n if nl == -1 else nl
                continue
            i = m.end()
            continue
        if ch in _CLOSERS:
            stack.append((ch, i))
        elif ch in _OPENERS:
            if stack and stack[-1][0] == _OPENERS[ch]:
                stack.pop()
            elif stack:
                return ("mismatched", i, stack[-1][0] + str(stack[-1][1]))
            else:
                return ("unmatched", i, ch)
        i += 1
    if stack:
        ch, pos = stack[-1]
        return ("unclosed", pos, ch)
    return None


#: Parser states one level of nesting can push at most (``x.all(`` pushes 4, a chain step ~12).
_STATES_PER_LEVEL = 12


class _Recovery:
    """Lark ``on_error`` handler: records a diagnostic per problem and repairs or skips input."""

    def __init__(self, state: _CallState, options: ParseOptions):
        self.text = state.text
        self.options = options
        self.diagnostics = state.diagnostics
        self.last_end = -1  # end offset of the last skipped input, for merging runs
        self.gave_up = False
        # Merged runs of bad tokens do not count as separate errors, so bound the work too.
        self.budget = max(1000, 20 * options.max_errors)
        # A repair trial may reduce the whole parser stack: bound their number, not just errors.
        self.trials = 4 * options.max_errors
        self._brackets: tuple[str, int, str] | None | bool = False

    def brackets(self) -> tuple[str, int, str] | None:
        """The bracket problem of the text, computed once per parse."""
        if self._brackets is False:
            self._brackets = _bracket_problem(self.text)
        return self._brackets  # type: ignore[return-value]

    def _merges(self, start: int) -> bool:
        """Whether a problem at ``start`` extends the previous diagnostic (a run of bad input)."""
        return bool(self.diagnostics and self.last_end >= 0
                    and not self.text[self.last_end:start].strip()
                    and self.diagnostics[-1].code in (E_SYNTAX, E_CHARACTER))

    def add(self, code: str, message: str, start: int, end: int, *, help: str | None = None,
            fix: Fix | None = None, merge: bool = True) -> None:
        if merge and self._merges(start):
            prev = self.diagnostics[-1]
            span = Span.from_offsets(self.text, prev.span.start, max(end, prev.span.end))
            self.diagnostics[-1] = Diagnostic(prev.code, prev.message, prev.severity, span,
                                              fix=prev.fix, help=prev.help)
            return
        self.diagnostics.append(Diagnostic(code, message, Severity.ERROR,
                                           Span.from_offsets(self.text, start, end),
                                           fix=fix, help=help))

    def __call__(self, e: UnexpectedInput) -> bool:
        self.budget -= 1
        if len(self.diagnostics) >= self.options.max_errors or self.budget <= 0:
            self.gave_up = True
            return False
        stack = len(e.interactive_parser.parser_state.state_stack)
        if stack > _STATES_PER_LEVEL * self.options.max_depth + 100:
            # Each repair costs time proportional to the parser's stack, and a stack this deep
            # can only end in a tree deeper than max_depth: stop here, in linear time.
            pos = e.pos_in_stream if isinstance(e, UnexpectedCharacters) else (
                _tok_offsets(e.token)[0] if isinstance(e, UnexpectedToken) else 0)
            self.add(E_LIMIT, f"expression is nested more than {self.options.max_depth} levels "
                     "deep", pos or 0, pos or 0, merge=False,
                     help="simplify the expression or raise the max_depth limit")
            return False
        if isinstance(e, UnexpectedCharacters):
            return self._characters(e)
        if isinstance(e, UnexpectedToken):
            return self._token(e)
        return False

    # -- a character no token can start with
    def _characters(self, e: UnexpectedCharacters) -> bool:
        text = self.text
        state = e.interactive_parser.lexer_thread.state
        assert state is not None  # Lark always has a lexer state for character errors
        p: int = e.pos_in_stream if e.pos_in_stream is not None else 0
        ch = text[p]
        line_end = text.find("\n", p)
        line_end = len(text) if line_end == -1 else line_end

        def skip_to(pos: int) -> None:
            state.line_ctr.feed(text[p:pos])
            self.last_end = pos

        if ch in "'" + _TYPOGRAPHIC + _TYPOGRAPHIC_SINGLE or ch == '"':
            closers = "'" + _TYPOGRAPHIC_SINGLE if ch in "'" + _TYPOGRAPHIC_SINGLE else (
                '"' + _TYPOGRAPHIC)
            close = -1
            for j in range(p + 1, line_end):
                if text[j] in closers and (text[j - 1] != "\\" or ch != '"'):
                    close = j
                    break
            if ch == '"' or close == -1:
                self.add(E_STRING, "unterminated string: no closing `\"` on this line", p,
                         line_end, merge=False,
                         help='close the string with `"` (strings cannot span lines)',
                         fix=Fix('add the closing `"`', (Edit(line_end, line_end, '"'),),
                                 safe=False))
                self._feed_placeholder(e, "STRING", '""', p)
                skip_to(line_end)
                return True
            inner = text[p + 1 : close].replace('"', '\\"')
            if ch == "'":
                what = "single-quoted strings are not PQL"
            else:
                what = f"typographic quote `{ch}` is not a PQL quote"
            self.add(E_STRING, what, p, close + 1, merge=False,
                     help=f'use straight double quotes: "{_clip(inner)}"',
                     fix=Fix("use double quotes", (Edit(p, close + 1, f'"{inner}"'),)))
            self._feed_placeholder(e, "STRING", '""', p)
            skip_to(close + 1)
            return True
        two = text[p : p + 2]
        if two in ("&&", "||"):
            word = "and" if two == "&&" else "or"
            self.add(E_CHARACTER, f"`{two}` is not PQL; write `{word}`", p, p + 2, merge=False,
                     fix=Fix(f"write `{word}`", (Edit(p, p + 2, word),)))
            self._feed_placeholder(e, "_AND" if word == "and" else "_OR", word, p)
            skip_to(p + 2)
            return True
        m = _NOT_TOKEN_START.match(text, p)
        end = m.end() if m else p + 1
        shown = text[p:end]
        printable = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256
                            else f"\\u{ord(c):04x}" for c in shown[:20])
        self.add(E_CHARACTER, f"unexpected character{'s' if len(shown) > 1 else ''} "
                 f"`{printable}`{'…' if len(shown) > 20 else ''}", p, end)
        skip_to(end)
        return True

    def _feed_placeholder(self, e: UnexpectedInput, type_: str, value: str, pos: int) -> None:
        """Feed a stand-in token when the parser can take it, so one typo makes one error."""
        ip = e.interactive_parser
        tok = Token(type_, value, start_pos=pos, line=1, column=1, end_line=1, end_column=1,
                    end_pos=pos)
        try:
            _trial(ip).feed_token(tok)
        except UnexpectedInput:
            return
        ip.feed_token(tok)

    # -- a token the grammar does not allow here
    def _token(self, e: UnexpectedToken) -> bool:
        tok = e.token
        text = self.text
        if tok.type == "$END":
            expected = set(e.accepts or e.expected)
            start = len(text.rstrip())
            problem = self.brackets()
            if problem and problem[0] == "unclosed":
                _, pos, opener = problem
                closer = _CLOSERS[opener]
                where = Span.from_offsets(text, pos, pos + 1)
                self.add(E_BRACKET, f"`{opener}` at line {where.line}, column {where.column} "
                         "is never closed", pos, pos + 1, merge=False,
                         help=f"add `{closer}`",
                         fix=Fix(f"add `{closer}` at the end", (Edit(start, start, closer),),
                                 safe=False))
            else:
                self.add(E_SYNTAX, f"the expression ends too early; expected "
                         f"{_describe_expected(expected)}", max(0, start - 1), start)
            return False
        start, end = _tok_offsets(tok)
        if self._merges(start):
            # a run of bad tokens makes one diagnostic, whose message is already written: skip
            # Lark's `accepts` (a trial parse per terminal, each as long as the parser's stack)
            self.add(E_SYNTAX, "", start, end)
            self.last_end = end
            return self._repair(e, set(e.expected))
        expected = set(e.accepts or e.expected)
        message, help_, fix = self._explain(tok, expected)
        self.add(E_SYNTAX if not message.startswith("unmatched") else E_BRACKET, message,
                 start, end, help=help_, fix=fix)
        self.last_end = end
        return self._repair(e, expected)

    def _explain(self, tok: Token, expected: set[str]) -> tuple[str, str | None, Fix | None]:
        text = self.text
        start, end = _tok_offsets(tok)
        before = text[max(0, start - 200) : start].rstrip()  # bounded: errors can be many
        if tok.type == "EQ" and before.endswith("="):
            return ("`==` is not PQL; equality is a single `=`", "write `=`",
                    Fix("write `=`", (Edit(start, end, ""),)))
        if tok.type == "CMP" and tok.value == ">" and before.endswith("<"):
            return ("`<>` is not PQL; write `!=`", None,
                    Fix("write `!=`", (Edit(start - 1, end, "!="),)))
        if tok.type in ("RPAR", "RSQB", "RBRACE") and tok.type not in expected:
            problem = self.brackets()
            if problem and problem[0] == "unmatched" and problem[1] == start:
                return (f"unmatched `{tok.value}`", (f"remove it or add the opening "
                        f"`{_OPENERS[tok.value]}`"), Fix(f"remove `{tok.value}`",
                                                         (Edit(start, end, ""),), safe=False))
            if problem and problem[0] == "mismatched" and problem[1] == start:
                opener, pos = problem[2][0], int(problem[2][1:])
                where = Span.from_offsets(text, pos, pos + 1)
                closer = _CLOSERS[opener]
                return ((f"unmatched `{tok.value}`: the `{opener}` at line {where.line}, column "
                        f"{where.column} is not closed"), f"add `{closer}` before it",
                        Fix(f"insert `{closer}`", (Edit(start, start, closer),), safe=False))
        m = re.search(r"(?:^|[^A-Za-z0-9_.])(select|exists|forall|some)$", before, re.IGNORECASE)
        if m and tok.type == "NAME":
            binder = f"{m.group(1)} {tok.value}"
            return (f"missing `from` after `{binder}`",
                    f"write `{binder} from <array> where <condition>`",
                    Fix("insert `from`", (Edit(end, end, " from"),), safe=False))
        if tok.type in ("EQ", "CMP", "IN", "NOTIN", "LIKE", "MATCHES", "OCCURS") and (
            "_AND" in expected
        ):
            return (f"comparisons cannot be chained: unexpected {_describe_token(tok)}",
                    "join the two comparisons with `and`", None)
        found = _describe_token(tok)
        message = f"unexpected {found}; expected {_describe_expected(expected)}"
        help_ = None
        if expected == {"NAME"} and before.endswith(","):
            help_ = ("a comma inside select/exists/forall starts another `VAR from ARRAY` "
                     "declaration; put the whole binder in parentheses when it is a function "
                     "argument or list item")
        if tok.type == "NAME" and re.match(r"(select|exists|forall|let|sum|min|max|average)$",
                                             str(tok.value), re.IGNORECASE):
            help_ = help_ or ("wrap the whole binder in parentheses when it is an operand: "
                     "`a and (select X from xEvent where ...)`")
        return message, help_, None

    def _repair(self, e: UnexpectedToken, expected: set[str]) -> bool:
        ip = e.interactive_parser
        tok = e.token
        if self.trials <= 0:
            return True  # repairs only help the first errors; past them, drop tokens cheaply
        candidates: list[Token] = []
        for closer, value in (("RPAR", ")"), ("RSQB", "]"), ("RBRACE", "}")):
            if closer in expected:
                candidates.append(Token(closer, value))
        if "NAME" in expected and tok.type in ("_AND", "_OR", "RPAR", "RSQB", "RBRACE", "COMMA",
                                              "EQ", "CMP", "PLUS", "STAR", "SLASH", "PERCENT"):
            candidates.append(Token("NAME", ""))
        for cand in candidates:
            placeholder = Token.new_borrow_pos(cand.type, cand.value, tok)
            self.trials -= 1
            trial = _trial(ip)
            try:
                trial.feed_token(placeholder)
                trial.feed_token(tok)
            except UnexpectedInput:
                continue
            ip.feed_token(placeholder)
            ip.feed_token(tok)
            self.last_end = -1
            return True
        return True  # drop the token and go on


# ----------------------------------------------------------------------------- the parser

#: Options of the one parser; part of the cache key, so changing them invalidates the cache.
_LARK_OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "contextual",
                                 "maybe_placeholders": True, "propagate_positions": False}
#: The LALR tables built from the grammar, shipped beside it (``python -m
#: pqltools.syntax.build_parser_cache`` writes it). Building them takes most of a cold start.
PARSER_CACHE = "pql.lark.cache"

_parser: lark.Lark | None = None
_parser_build = threading.Lock()  # taken only to build the parser, never to parse


def cache_key(grammar: str | None = None) -> str:
    """What the parser cache must have been built from: the grammar, the options, Lark's version."""
    text = grammar if grammar is not None else grammar_text()
    return "\0".join([text, repr(sorted(_LARK_OPTIONS.items())), lark.__version__])


def _cache_path() -> Path:
    return _grammar_file(PARSER_CACHE)


def _load_cached(path: Path, key: str) -> lark.Lark | None:
    """The parser stored at ``path`` if it was built from this grammar and Lark, else None.

    The file is ``marshal`` data (plain dicts, lists and strings: no code, read without
    importing anything); one that is stale, unreadable or from an incompatible Python is ignored.
    """
    try:
        # loads() of the bytes, not load() of the file: load() reads the file in many small
        # pieces, 10x slower for these tables (most of a cold start's parser loading)
        stored = marshal.loads(path.read_bytes())
        if type(stored) is not dict or stored.get("key") != key:
            return None  # stale: the grammar or Lark changed since the cache was built
        parser: lark.Lark = lark.Lark._load_from_dict(stored["data"], stored["memo"],  # type: ignore[no-untyped-call]
                                                      transformer=_BUILDER)
    except (OSError, EOFError, KeyError, TypeError, ValueError, AttributeError, LarkError):
        return None
    regex = stored.get("regex")
    if type(regex) is dict and regex.get("key") == lexer_cache.key():
        # the lexer's patterns as this interpreter compiled them when the cache was written
        lexer_cache.install(parser, regex.get("entries") or [])
    return parser


def _build(grammar: str, transformer: _Builder | None) -> lark.Lark:
    return lark.Lark(grammar, transformer=transformer, cache=False, **_LARK_OPTIONS)


def write_parser_cache(path: Path | None = None) -> Path:
    """Build the parser from the grammar and store its tables with the key they were built from."""
    target = path or _cache_path()
    grammar = grammar_text()
    data, memo = _build(grammar, None).memo_serialize([TerminalDef, Rule])
    # the patterns of every lexer state, recorded from the parser as it will be loaded
    loaded = lark.Lark._load_from_dict(data, memo)  # type: ignore[no-untyped-call]
    regex = {"key": lexer_cache.key(), "entries": lexer_cache.record(loaded)}
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(marshal.dumps({"key": cache_key(grammar), "data": data, "memo": memo,
                                   "regex": regex}))
    tmp.replace(target)
    return target


_BUILDER = _Builder()


def _get_parser() -> lark.Lark:
    """The shared parser: loaded from the cache when it matches the grammar, else built."""
    global _parser
    parser = _parser
    if parser is not None:
        return parser
    with _parser_build:
        if _parser is None:
            grammar = grammar_text()
            _parser = _load_cached(_cache_path(), cache_key(grammar)) or _build(
                grammar, _BUILDER)
        return _parser


_COMMENT_OR_STRING = re.compile(r'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"|--[^\n]*')


def _strip_comments(text: str) -> tuple[str, list[Comment]]:
    """Blank ``--`` comments (keeping offsets) and collect them."""
    comments: list[Comment] = []
    pieces: list[str] = []
    last = 0
    for m in _COMMENT_OR_STRING.finditer(text):
        if m.group().startswith("--"):
            comments.append(Comment(m.group(), Span.from_offsets(text, m.start(), m.end())))
            pieces.append(text[last : m.start()])
            pieces.append(" " * (m.end() - m.start()))
            last = m.end()
    if not comments:
        return text, comments
    pieces.append(text[last:])
    return "".join(pieces), comments


def _depth_exceeded(root: ast.Node, limit: int) -> ast.Node | None:
    """The first node deeper than ``limit``, found without recursion."""
    stack: list[tuple[ast.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        for child in node.children():
            stack.append((child, depth + 1))
    return None


def parse_document(text: str | bytes, options: ParseOptions | None = None) -> ParseResult:
    """Parse ``text`` and return the tree (or None) with every diagnostic; never raises for input.

    This is the entry point for tools that want all findings at once (the linter, the language
    server). :func:`parse` is the strict form that raises.
    """
    options = options or ParseOptions()
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            diag = Diagnostic(E_CHARACTER, f"input is not valid UTF-8 (byte {exc.start})",
                              Severity.ERROR, Span(0, 0, 1, 1, 1, 1))
            return ParseResult(None, [diag], [], "", options=options)
    if not isinstance(text, str):
        raise TypeError(f"parse() takes a str, not {type(text).__name__}")
    if len(text) > options.max_length:
        diag = Diagnostic(E_LIMIT, f"expression is {len(text)} characters long; the limit is "
                          f"{options.max_length}", Severity.ERROR, Span.from_offsets(text, 0, 0))
        return ParseResult(None, [diag], [], text, options=options)
    comments: list[Comment] = []
    source = text
    if options.comments:
        source, comments = _strip_comments(text)
    if not source.strip():
        diag = Diagnostic(E_SYNTAX, "empty expression", Severity.ERROR,
                          Span.from_offsets(text, 0, len(text)),
                          help="a segment definition needs a condition, e.g. "
                          'homeAddress.countryCode = "US"')
        return ParseResult(None, [diag], comments, text, options=options)

    parser = _get_parser()
    state = _CallState(text)
    recovery = _Recovery(state, options)
    token = _CALL.set(state)
    expr: ast.Expr | None
    try:
        expr = parser.parse(source, on_error=recovery)  # type: ignore[assignment]
    except UnexpectedInput:
        expr = None
    except RecursionError:  # pragma: no cover - the LALR parser does not recurse
        expr = None
        recovery.add(E_LIMIT, "expression is nested too deeply", 0, 0)
    finally:
        _CALL.reset(token)
    diagnostics = _dedupe(state.diagnostics)
    if recovery.gave_up:
        diagnostics.append(Diagnostic(E_LIMIT, f"stopped after {len(diagnostics)} errors",
                                      Severity.INFO, diagnostics[-1].span))
    if diagnostics and any(d.severity is Severity.ERROR for d in diagnostics):
        return ParseResult(None, diagnostics, comments, text, options=options)
    if expr is None:  # pragma: no cover - defensive: Lark gave up without telling us why
        diag = Diagnostic(E_SYNTAX, "could not parse the expression", Severity.ERROR,
                          Span.from_offsets(text, 0, len(text)))
        return ParseResult(None, [diag], comments, text, options=options)
    too_deep = _depth_exceeded(expr, options.max_depth)
    if too_deep is not None:
        diag = Diagnostic(E_LIMIT, f"expression is nested more than {options.max_depth} levels "
                          "deep", Severity.ERROR, too_deep.span,
                          help="simplify the expression or raise the max_depth limit")
        return ParseResult(None, [diag], comments, text, options=options)
    return ParseResult(expr, diagnostics, comments, text, options=options)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Diagnostic] = []
    for d in sorted(diags, key=lambda d: (d.span.start, d.span.end)):
        key = (d.code, d.span.start, d.span.end)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def parse(text: str | bytes, *, comments: bool = False, max_depth: int = 100,
          max_errors: int = 50) -> ast.Expr:
    """Parse PQL text into a typed AST.

    Raises :class:`~pqltools.errors.PQLSyntaxError` listing every syntax error found (the parser
    recovers after each one); never any other exception for any input string. ``comments=True``
    accepts ``--`` line comments, as in ``.pql`` files.

    >>> parse('homeAddress.countryCode = "US"')
    Compare(op='=', left=Attribute(receiver=Name(id='homeAddress'), name='countryCode'), right=String(value='US'))
    """
    result = parse_document(
        text, ParseOptions(comments=comments, max_depth=max_depth, max_errors=max_errors)
    )
    if result.expr is None or not result.ok:
        raise PQLSyntaxError(result.diagnostics, result.text)
    return result.expr

