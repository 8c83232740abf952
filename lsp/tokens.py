"""Semantic tokens: highlighting that knows functions from fields from variables.

Tokens come from the forgiving scanner (:mod:`pqltools_lsp.lexing`), so highlighting survives
syntax errors; when the expression parses, the syntax tree settles what the scanner cannot: a
word like ``count`` or ``last`` is a keyword only where the grammar read it as one, and a name
bound by ``select``/``exists``/``let``/a lambda/a chain label is a variable.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from pqltools_lsp.documents import Anchored, Region, Snapshot, parsed_clauses
from pqltools_lsp.incremental import Clause, clause_bounds
from pqltools_lsp.lexing import KEYWORDS, TIME_WORDS, Token, scan
from pqltools_lsp.memo import PER_DEFINITION, Memo
from pqltools_lsp.positions import LineIndex
from pqltools_lsp.variables import Variables

from pqltools import catalog
from pqltools.syntax import ast

if TYPE_CHECKING:
    from lsprotocol import types

__all__ = ["TOKEN_MODIFIERS", "TOKEN_TYPES", "classify", "delta", "encode", "encode_json"]

TOKEN_TYPES = ("keyword", "function", "method", "property", "variable", "parameter", "string",
               "number", "comment", "operator", "enumMember", "macro")
TOKEN_MODIFIERS = ("declaration", "defaultLibrary")
_TYPE_INDEX = {name: i for i, name in enumerate(TOKEN_TYPES)}
_DECLARATION, _LIBRARY = 1, 2  # bit masks of TOKEN_MODIFIERS
_BUILTIN_NAMES = frozenset({"xEvent", "this"})  # names the language itself binds
_CHAIN_WORDS = frozenset({"chain", "what", "when", "count", "where"})


def _next(tokens: list[Token], i: int) -> Token | None:
    return tokens[i + 1] if i + 1 < len(tokens) else None


def _previous(tokens: list[Token], i: int) -> Token | None:
    return tokens[i - 1] if i > 0 else None


#: Classified tokens by (expression, comments): in a JSON file only the edited definition is
#: classified again.
_CLASSIFIED: Memo[tuple[str, bool], list[tuple[Token, str, int]]] = Memo(PER_DEFINITION)


def classify(region: Region) -> list[tuple[Token, str, int]]:
    """Each highlighted token of a region with its type and modifier bits (memoised).

    A long ``.pql`` text that parses is classified clause by clause (the clauses of
    :mod:`pqltools_lsp.incremental`, each memoised), so an edit reclassifies one clause.
    """
    if region.definition is None and region.parse.ok:
        bounds = clause_bounds(region.text, region.comments)
        if bounds is not None:
            return _by_clause(region, bounds)
    return _memoised(region)


def _by_clause(region: Region, bounds: list[tuple[int, int]]) -> list[tuple[Token, str, int]]:
    out: list[tuple[Token, str, int]] = []
    text = region.text
    previous_end = None
    for start, end in bounds:
        if previous_end is not None:  # the `and`/`or` between two clauses
            op = text[previous_end:start]
            out.append((Token("word", op, previous_end, start), "keyword", 0))
        for tok, kind, mods in _memoised(Region(text[start:end], region.comments)):
            out.append((Token(tok.kind, tok.text, tok.start + start, tok.end + start), kind,
                        mods))
        previous_end = end
    return out


def _memoised(region: Region) -> list[tuple[Token, str, int]]:
    return _CLASSIFIED.get((region.text, region.comments), lambda: _classify(region))


def _classify(region: Region) -> list[tuple[Token, str, int]]:
    tokens = scan(region.text, region.comments)
    tree = region.parse.expr
    names: dict[int, ast.Node] = {}
    variables = Variables.of(tree, region.text) if tree is not None else None
    if tree is not None:
        for node in tree.walk():
            if isinstance(node, ast.Name):
                names[node.span.start] = node
            elif isinstance(node, ast.Attribute):
                names[node.span.end - len(node.name)] = node
    out: list[tuple[Token, str, int]] = []
    for i, tok in enumerate(tokens):
        kind, mods = _token_type(tokens, i, names, variables)
        if kind is not None:
            out.append((tok, kind, mods))
    return out


def _token_type(tokens: list[Token], i: int, names: dict[int, ast.Node],
                variables: Variables | None) -> tuple[str | None, int]:
    tok = tokens[i]
    simple = {"string": "string", "number": "number", "comment": "comment", "op": "operator",
              "arrow": "operator", "caret": "operator", "param": "parameter",
              "context": "macro"}
    if tok.kind != "word":
        return simple.get(tok.kind), 0
    before, after = _previous(tokens, i), _next(tokens, i)
    lower = tok.text.lower()
    called = after is not None and after.text == "("
    if before is not None and before.text == ".":
        if called:
            return "method", _LIBRARY if tok.text in catalog.METHODS else 0
        return "property", 0
    if variables is not None:
        var = variables.at(tok.start)
        if var is not None:
            return "variable", _DECLARATION if var.declared_at(tok.start) else 0
    if names:
        node = names.get(tok.start)
        if isinstance(node, ast.Name) and node.id in _BUILTIN_NAMES:
            return "variable", _LIBRARY
        if isinstance(node, (ast.Name, ast.Attribute)):
            return "property", 0
    if called and (lower in _CHAIN_WORDS or lower in KEYWORDS) \
            and tok.text not in catalog.GLOBALS:
        return "keyword", 0  # `and (`, `in (`, `WHAT(`: a keyword before a parenthesis
    if called:
        return "function", _LIBRARY if tok.text in catalog.GLOBALS else 0
    if lower in TIME_WORDS:
        return "enumMember", 0
    if lower in KEYWORDS:
        return "keyword", 0
    return "property", 0


def encode(snapshot: Snapshot, rng: types.Range | None = None) -> list[int]:
    """The LSP relative encoding (5 integers per token) of the tokens in the document (those
    inside ``rng`` when given). ``pql/json`` definitions have none: their PQL text is not in
    the document.

    The tokens of a JSON definition's expression, which lies on one line, are encoded once
    relative to the opening quote (memoised by the string); the full document's encoding then
    only places each definition, so an edit re-encodes the edited definition alone. A long
    ``.pql`` text that parses is encoded clause by clause the same way: each clause's encoding
    is memoised, and only its first token depends on where the clause stands.
    """
    return _encode(snapshot, rng, None)


def encode_json(snapshot: Snapshot) -> tuple[list[int], str]:
    """:func:`encode` of the whole document, and the same integers as a JSON array.

    In a JSON definition file the array is spliced from the text memoised with each
    definition's tokens, so an edit writes out the edited definition's integers alone (not
    the tens of thousands of the whole file, on the thread that answers every request).
    """
    pieces: list[str] = []
    data = _encode(snapshot, None, pieces)
    return data, "[" + ",".join(pieces) + "]"


def _ints(data: list[int]) -> str:
    return ",".join(map(str, data))


def _encode(snapshot: Snapshot, rng: types.Range | None,
            pieces: list[str] | None) -> list[int]:
    """:func:`encode`; with ``pieces``, the data is also appended there as JSON text (the
    integers separated by commas, in pieces that join with commas)."""
    if rng is None and len(snapshot.regions) == 1:
        region = snapshot.regions[0]
        if region.definition is None and region.comments:
            clauses = parsed_clauses(region.text)
            if clauses is not None:
                whole = _encode_clauses(snapshot, clauses, region.comments)
                if pieces is not None and whole:
                    pieces.append(_ints(whole))
                return whole
    if rng is not None or not any(r.raw is not None for r in snapshot.regions):
        each = _encode_each(snapshot, rng)
        if pieces is not None and each:
            pieces.append(_ints(each))
        return each
    data: list[int] = []
    written = 0  # data[:written] is in pieces
    last_line = last_char = 0
    for region in snapshot.regions:
        if not region.editable:
            continue
        anchor = snapshot.anchor(region)
        placed = _placed(region, snapshot.encoding) if anchor is not None else None
        if anchor is None or placed is None:
            last_line, last_char = _encode_region(snapshot, region, 0, len(snapshot.text), data,
                                                  last_line, last_char)
            continue
        first, tail, last, tail_text = placed
        if not first:
            continue
        line, base = anchor
        char = base + first[1]
        delta_line = line - last_line
        delta_char = char - last_char if delta_line == 0 else char
        if delta_line < 0 or delta_char < 0:  # definitions out of order: token by token
            last_line, last_char = _encode_region(snapshot, region, 0, len(snapshot.text),
                                                  data, last_line, last_char)
            continue
        data.extend((delta_line, delta_char, *first[2:]))
        if pieces is not None and tail:
            pieces.append(_ints(data[written:]))
            pieces.append(tail_text)
            written = len(data) + len(tail)
        data.extend(tail)
        last_line, last_char = line, base + last
    if pieces is not None and written < len(data):
        pieces.append(_ints(data[written:]))
    return data


class _Encoded(NamedTuple):
    """A clause's tokens encoded as if it started the document: the first token's deltas are
    zero; ``first`` and ``last`` are the (line, character) of its first and last token."""

    first: tuple[int, int]
    last: tuple[int, int]
    data: list[int]


#: Encoded clauses by (text, comments, encoding).
_ENCODED: Memo[tuple[str, bool, str], _Encoded | None] = Memo(4096)


def _encode_clauses(snapshot: Snapshot, clauses: tuple[Clause, ...],
                    comments: bool) -> list[int]:
    index = snapshot.index
    encoding = snapshot.encoding
    keyword = _TYPE_INDEX["keyword"]
    data: list[int] = []
    last_line = last_char = 0
    previous_end = 0
    for clause in clauses:
        if clause.op is not None:  # the `and`/`or` between two clauses
            line, char = index.line_column(previous_end)
            data.extend((line - last_line, char - last_char if line == last_line else char,
                         clause.start - previous_end, keyword, 0))
            last_line, last_char = line, char
        previous_end = clause.end
        encoded = _ENCODED.get((clause.text, comments, encoding),
                               partial(_encode_clause, clause.text, comments, encoding))
        if encoded is None:
            continue
        base_line, base_char = index.line_column(clause.start)
        line, char = encoded.first
        line, char = base_line + line, (base_char + char) if line == 0 else char
        data.extend((line - last_line, char - last_char if line == last_line else char))
        data.extend(encoded.data[2:])
        line, char = encoded.last
        last_line, last_char = base_line + line, (base_char + char) if line == 0 else char
    return data


def _encode_clause(text: str, comments: bool, encoding: str) -> _Encoded | None:
    index = LineIndex(text, encoding)
    data: list[int] = []
    first: tuple[int, int] | None = None
    last_line = last_char = 0
    for tok, kind, mods in _memoised(Region(text, comments)):
        if tok.end <= tok.start:
            continue
        line, char = index.line_column(tok.start)
        stop_line, stop_char = index.line_column(tok.end)
        if stop_line != line:
            continue  # tokens never span lines in PQL; guard against odd mappings
        if first is None:
            first = (line, char)
            data.extend((0, 0, stop_char - char, _TYPE_INDEX[kind], mods))
        else:
            delta_line = line - last_line
            data.extend((delta_line, char - last_char if delta_line == 0 else char,
                         stop_char - char, _TYPE_INDEX[kind], mods))
        last_line, last_char = line, char
    return None if first is None else _Encoded(first, (last_line, last_char), data)


_Placed = tuple[tuple[int, ...], list[int], int, str]
#: Tokens of one expression string encoded relative to its opening quote, by (string,
#: encoding): the first token ``(0, column, length, type, modifiers)``, the others' encoding,
#: the last token's column, and the others' encoding as JSON text (see :func:`encode_json`).
_PLACED: Memo[tuple[str, str], _Placed | None] = Memo(PER_DEFINITION)


def _placed(region: Region, encoding: str) -> _Placed | None:
    raw = region.raw
    assert raw is not None
    placed: _Placed | None = _PLACED.get((raw, encoding), lambda: _place(region, encoding))
    return placed


def _place(region: Region, encoding: str) -> _Placed | None:
    d = region.definition
    assert d is not None and d._offsets is not None
    anchored = Anchored(0, 0, d._offsets, region.columns(encoding))
    data: list[int] = []
    previous: int | None = None
    first: tuple[int, ...] = ()
    for tok, kind, mods in classify(region):
        start, end = anchored.column(tok.start), anchored.column(tok.end)
        if end <= start or (previous is not None and start < previous):
            return None  # not as a document would place it: encode token by token
        row = (0, start - (previous or 0), end - start, _TYPE_INDEX[kind], mods)
        if previous is None:
            first = (0, start, *row[2:])
        else:
            data.extend(row)
        previous = start
    return first, data, previous or 0, _ints(data)


def _encode_each(snapshot: Snapshot, rng: types.Range | None = None) -> list[int]:
    """:func:`encode`, mapping every token into the document (for a range, for ``.pql``)."""
    index = snapshot.index
    low, high = index.offsets(rng) if rng is not None else (0, len(snapshot.text))
    data: list[int] = []
    last_line = last_char = 0
    for region in snapshot.regions:
        if not region.editable:
            continue
        r_start, r_end = region.extent
        if r_end < low or r_start > high:
            continue
        last_line, last_char = _encode_region(snapshot, region, low, high, data, last_line,
                                              last_char)
    return data


def _encode_region(snapshot: Snapshot, region: Region, low: int, high: int, data: list[int],
                   last_line: int, last_char: int) -> tuple[int, int]:
    """Append the tokens of ``region`` between document offsets ``low`` and ``high`` to
    ``data``; the position of the last token appended."""
    index = snapshot.index
    for tok, kind, mods in classify(region):
        start, end = region.to_doc(tok.start), region.to_doc(tok.end)
        if end <= start or end <= low or start >= high:
            continue
        line, char = index.line_column(start)
        stop_line, stop_char = index.line_column(end)
        if stop_line != line:
            continue  # tokens never span lines in PQL; guard against odd mappings
        delta_line = line - last_line
        delta_char = char - last_char if delta_line == 0 else char
        if delta_line < 0 or delta_char < 0:
            continue
        data.extend((delta_line, delta_char, stop_char - char, _TYPE_INDEX[kind], mods))
        last_line, last_char = line, char
    return last_line, last_char


def delta(old: list[int], new: list[int]) -> list[types.SemanticTokensEdit]:
    """The edit that turns ``old`` token data into ``new`` (one edit: the changed middle)."""
    from lsprotocol import types

    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    if prefix == len(old) == len(new):
        return []
    return [types.SemanticTokensEdit(start=prefix, delete_count=len(old) - prefix - suffix,
                                     data=new[prefix:len(new) - suffix])]
