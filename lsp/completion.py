"""Completion: methods after ``.``, functions, keywords, time units, chain step clauses, fields.

The context is read from the scanned tokens before the cursor (the text being typed rarely
parses): what the previous token is, and which brackets are open (inside the step list of a
``chain(...)`` the step clauses are offered). Nothing is offered inside a string or a comment.
After a complete operand only what can follow one is offered: comparison operators after a
value, ``and``/``or`` after a condition. Functions and step clauses are snippets that put the
cursor between the parentheses when the client supports snippets.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types
from pqltools_lsp import insight
from pqltools_lsp.documents import Region, Snapshot
from pqltools_lsp.hover import function_markdown
from pqltools_lsp.incremental import clause_at
from pqltools_lsp.lexing import CLAUSE_WORDS, Token, scan

from pqltools import catalog
from pqltools.analysis.config import Config
from pqltools.syntax import ast

__all__ = ["CompletionContext", "complete", "context_at"]

_EXPRESSION_KEYWORDS = ("and", "or", "not", "in", "notIn", "like", "matches", "occurs", "true",
                        "false", "select", "exists", "forall", "let", "chain", "sum", "average",
                        "min", "max")
_PHRASE_STARTS = ("<", "<=", ">", ">=", "=", "before", "after", "between", "on", "today",
                  "yesterday", "tomorrow", "this", "last", "next")
_PLURALS = {"century": "centuries", "millennium": "millennia"}
_REFERENCES = ("now", "today", "yesterday", "tomorrow", "this", "last", "next")
#: What may follow a value (a field, a literal, a call that is not a condition).
_AFTER_VALUE = ("=", "!=", "<", "<=", ">", ">=", "in", "notIn", "like", "matches", "occurs",
                "+", "-", "*", "/", "%")
#: What may follow a condition.
_AFTER_CONDITION = ("and", "or")
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">=", "in", "notin", "like", "matches",
                          "occurs", "exists", "forall", "not"})
_OPERAND_WORDS_NOT = frozenset({"and", "or", "not", "in", "notin", "like", "matches", "occurs",
                                "select", "from", "where", "let", "exists", "forall", "some",
                                "chain", "on", "between", "before", "after", "over"})
_CLAUSE_DOCS = {
    "WHAT": "the event the step matches: `WHAT(eventType = \"commerce.purchases\")`",
    "WHEN": "when the step happens: `WHEN(<= 7 days before now)`",
    "COUNT": "at least this many matching events: `COUNT(3)`",
    "WHERE": "a further condition, may use earlier labels: `WHERE(B.total > A.total)`",
}


@dataclass(frozen=True)
class CompletionContext:
    """What precedes the cursor: the word being typed and the token before it."""

    prefix: str
    previous: Token | None
    before_previous: Token | None
    in_steps: bool
    path: tuple[str, ...]  # the dotted path before a trailing `.`
    words: frozenset[str]  # lower-cased words seen before the cursor
    quiet: bool = False  # inside a string or a comment
    operand: str | None = None  # "value" or "condition" when a complete operand precedes


def context_at(region: Region, offset: int) -> CompletionContext:
    """The completion context at expression offset ``offset``."""
    tokens = scan(region.text, region.comments, end=offset)
    if tokens and _inside(tokens[-1], offset):
        return CompletionContext("", None, None, False, (), frozenset(), quiet=True)
    prefix = ""
    if tokens and tokens[-1].kind == "word" and tokens[-1].end == offset:
        prefix = tokens.pop().text
    previous = tokens[-1] if tokens else None
    before_previous = tokens[-2] if len(tokens) > 1 else None
    path: list[str] = []
    if previous is not None and previous.text == ".":
        i = len(tokens) - 2
        while i >= 0 and tokens[i].kind == "word":
            path.insert(0, tokens[i].text)
            if i >= 1 and tokens[i - 1].text == ".":
                i -= 2
            else:
                break
    if path and path[0] in (sources := _binding_sources(tokens)):
        path = [*sources[path[0]], *path[1:]]  # `X.` with `X from xEvent`: xEvent's fields
    # an operand is complete when something separates it from the cursor (or the word typed)
    separated = bool(tokens) and tokens[-1].end < offset - len(prefix)
    return CompletionContext(prefix, previous, before_previous, _in_steps(tokens), tuple(path),
                   frozenset(t.text.lower() for t in tokens if t.kind == "word"),
                   operand=_operand(tokens) if separated else None)


def _inside(last: Token, offset: int) -> bool:
    """Whether the cursor at ``offset`` is inside the last token before it (a string not yet
    closed, or a comment, which runs to the end of its line)."""
    if last.end != offset:
        return False
    if last.kind == "comment":
        return True
    if last.kind == "string":
        body = last.text[1:]
        closed = body.endswith('"') and (len(body) - len(body.rstrip("\\")) - 1) % 2 == 0 \
            if len(body) >= 1 else False
        return not closed
    return False


def _operand(tokens: list[Token]) -> str | None:
    """"condition" or "value" when the tokens end with a complete operand, else None."""
    last = tokens[-1]
    low = last.text.lower()
    if last.kind in ("string", "number", "param", "context"):
        complete = True
    elif last.kind == "word":
        complete = low not in _OPERAND_WORDS_NOT and low not in ("if",)
        if low in ("true", "false") or low in ast.TIME_KEYWORDS:
            complete = True
    else:
        complete = last.text in (")", "]")
    if not complete:
        return None
    # a condition when a comparison appears since the start of this operand of and/or
    depth = 0
    for tok in reversed(tokens):
        text = tok.text.lower()
        if tok.text in (")", "]", "}"):
            depth += 1
        elif tok.text in ("(", "[", "{", ","):
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and text in ("and", "or"):
            break
        elif depth == 0 and (text in _COMPARISONS or tok.text in _COMPARISONS):
            return "condition"
    if last.text == ")" and _boolean_call(tokens):
        return "condition"
    return "value"


def _boolean_call(tokens: list[Token]) -> bool:
    """Whether the tokens end with a call of a function or method that returns a boolean."""
    depth = 0
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].text == ")":
            depth += 1
        elif tokens[i].text == "(":
            depth -= 1
            if depth == 0:
                if i == 0 or tokens[i - 1].kind != "word":
                    return False
                is_method = i >= 2 and tokens[i - 2].text == "."
                spec = catalog.lookup(tokens[i - 1].text, "method" if is_method else "global")
                return spec is not None and spec.returns == "boolean"
    return False


def _binding_sources(tokens: list[Token]) -> dict[str, list[str]]:
    """``{"X": ["xEvent"]}`` for every ``X from a.b`` before the cursor (text need not parse)."""
    out: dict[str, list[str]] = {}
    for i in range(len(tokens) - 2):
        if tokens[i].kind == "word" and tokens[i + 1].text.lower() == "from" \
                and tokens[i + 2].kind == "word":
            path = [tokens[i + 2].text]
            j = i + 3
            while j + 1 < len(tokens) and tokens[j].text == "." and tokens[j + 1].kind == "word":
                path.append(tokens[j + 1].text)
                j += 2
            out[tokens[i].text] = path
    return out


def _in_steps(tokens: list[Token]) -> bool:
    """Whether the innermost open bracket is the step list ``[...]`` of a ``chain(``."""
    stack: list[str] = []  # "chain(", "(", "[", "steps[", "{"
    commas: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.text in ("(", "[", "{"):
            kind = tok.text
            if tok.text == "(" and i and tokens[i - 1].text.lower() == "chain":
                kind = "chain("
            elif tok.text == "[" and stack and stack[-1] == "chain(" and commas[-1] >= 2:
                kind = "steps["
            stack.append(kind)
            commas.append(0)
        elif tok.text in (")", "]", "}") and stack:
            stack.pop()
            commas.pop()
        elif tok.text == "," and commas:
            commas[-1] += 1
    return bool(stack) and stack[-1] == "steps["


def _item(label: str, kind: types.CompletionItemKind, detail: str | None = None,
          doc: str | None = None, insert: str | None = None,
          sort: str = "5") -> types.CompletionItem:
    return types.CompletionItem(
        label=label, kind=kind, detail=detail, insert_text=insert,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc)
        if doc else None, sort_text=f"{sort}{label.lower()}")


def _function(spec: catalog.FunctionSpec, snippets: bool) -> types.CompletionItem:
    kind = (types.CompletionItemKind.Method if spec.kind == "method"
            else types.CompletionItemKind.Function)
    if not spec.params:
        insert = f"{spec.name}()"
    elif snippets:
        insert = f"{spec.name}($1)$0"
    else:
        insert = f"{spec.name}("
    item = _item(spec.name, kind, spec.signature, function_markdown(spec), insert=insert,
                 sort="2")
    if snippets and spec.params:
        item.insert_text_format = types.InsertTextFormat.Snippet
        item.command = types.Command(title="Signature help",
                                     command="editor.action.triggerParameterHints")
    return item


def _keywords(words: tuple[str, ...], sort: str = "4") -> list[types.CompletionItem]:
    return [_item(w, types.CompletionItemKind.Keyword, sort=sort) for w in words]


def _units(plural: bool) -> list[types.CompletionItem]:
    names = [_PLURALS.get(u, u + "s") if plural else u for u in ast.TIME_UNITS]
    return [_item(n, types.CompletionItemKind.Unit, "time unit", sort="1") for n in names]


def _fields(config: Config, path: tuple[str, ...]) -> list[types.CompletionItem]:
    """Schema fields directly under ``path`` (top-level fields for an empty path)."""
    return [_item(name, types.CompletionItemKind.Field, kind, sort="1")
            for name, kind in insight.field_children(config, path)]


def items_for(region: Region, offset: int, config: Config,
              snippets: bool = False) -> list[types.CompletionItem]:
    """The completion items at expression offset ``offset``."""
    ctx = context_at(region, offset)
    if ctx.quiet:
        return []
    prev = ctx.previous.text if ctx.previous is not None else ""
    low = prev.lower()
    if prev == ".":
        methods = [_function(spec, snippets) for spec in catalog.METHODS.values()]
        return _fields(config, ctx.path) + methods
    if ctx.in_steps and prev in (":", ")"):
        return [_clause(w, snippets) for w in CLAUSE_WORDS]
    if ctx.previous is not None and ctx.previous.kind == "number" and (
            "occurs" in ctx.words or "when" in ctx.words):
        return _units(plural=True)
    if low in ("this", "last", "next") and ("occurs" in ctx.words or "when" in ctx.words):
        return _units(plural=False)
    if low == "occurs" or (low == "(" and ctx.before_previous is not None
                           and ctx.before_previous.text.upper() == "WHEN"):
        return _keywords(_PHRASE_STARTS, sort="1")
    if low in ("before", "after", "between") or (low == "from" and "occurs" in ctx.words):
        return _keywords(_REFERENCES, sort="1") + [_function(catalog.GLOBALS["date"], snippets)]
    if ctx.operand == "condition":
        return [_item(w, types.CompletionItemKind.Keyword, "logical operator", sort="1")
                for w in _AFTER_CONDITION]
    if ctx.operand == "value":
        return [_item(w, types.CompletionItemKind.Operator, "operator", sort="1")
                for w in _AFTER_VALUE]
    items = [_function(spec, snippets) for spec in catalog.GLOBALS.values()]
    items += _keywords(_EXPRESSION_KEYWORDS)
    items += _variables(region, offset)
    items += _fields(config, ())
    return items


def _clause(word: str, snippets: bool) -> types.CompletionItem:
    item = _item(word, types.CompletionItemKind.Keyword, "chain step clause", _CLAUSE_DOCS[word],
                 insert=f"{word}($1)$0" if snippets else f"{word}(", sort="1")
    if snippets:
        item.insert_text_format = types.InsertTextFormat.Snippet
    return item


def _variables(region: Region, offset: int) -> list[types.CompletionItem]:
    """Variables declared before the cursor: ``X from ...`` bindings and ``let X =``.

    Read from the tokens, not the tree: the text being typed rarely parses, and waiting for
    the parse of a long document would make completion as slow as a lint.
    """
    tokens = scan(region.text, region.comments, end=offset)
    names = {name: "bound by from" for name in _binding_sources(tokens)}
    for i in range(len(tokens) - 2):
        if tokens[i].text.lower() == "let" and tokens[i + 1].kind == "word" \
                and tokens[i + 2].text == "=":
            names[tokens[i + 1].text] = "let"
    return [_item(n, types.CompletionItemKind.Variable, f"variable ({k})", sort="0")
            for n, k in sorted(names.items())]


def complete(snapshot: Snapshot, position: types.Position, config: Config,
             snippets: bool = False) -> types.CompletionList | None:
    """The completion list at ``position`` (None outside any PQL expression)."""
    offset = snapshot.index.offset(position)
    found = snapshot.region_at(offset)
    if found is None:
        return None
    region, at = found
    if region.definition is None:  # a long .pql text: only the clause being typed matters
        clause = clause_at(region.text, region.comments, at)
        if clause is not None:
            region, at = Region(clause.text, region.comments), at - clause.start
    return types.CompletionList(is_incomplete=False, items=items_for(region, at, config, snippets))
