"""Hover: function signatures and docs from the catalog, variables, fields, and eligibility.

What is under the cursor is decided on scanned tokens, so hover on a function keeps working while
the rest of the expression does not parse. Fields and variables need the syntax tree.
"""

from __future__ import annotations

from lsprotocol import types
from pqltools_lsp import insight
from pqltools_lsp.documents import Region, Snapshot, parsed_clauses
from pqltools_lsp.incremental import clause_at
from pqltools_lsp.lexing import Token, scan
from pqltools_lsp.settings import ServerOptions
from pqltools_lsp.variables import Variables

from pqltools import catalog
from pqltools.analysis.config import Config
from pqltools.syntax import ast

__all__ = ["function_markdown", "hover", "token_at"]


def function_markdown(spec: catalog.FunctionSpec) -> str:
    """Signature, documentation and example of a catalog function, as Markdown."""
    parts = [f"```pql\n{spec.signature}\n```", spec.doc]
    if spec.example:
        parts.append(f"Example: `{spec.example}`")
    return "\n\n".join(parts)


def token_at(tokens: list[Token], offset: int) -> int | None:
    """Index of the token under ``offset`` (a word wins when the cursor sits between two)."""
    hit: int | None = None
    for i, tok in enumerate(tokens):
        if tok.start <= offset <= tok.end:
            if hit is None or tok.kind == "word":
                hit = i
        elif tok.start > offset:
            break
    return hit


def hover(snapshot: Snapshot, position: types.Position, config: Config,
          options: ServerOptions) -> types.Hover | None:
    """The hover for ``position``, or None when there is nothing to say."""
    offset = snapshot.index.offset(position)
    found = snapshot.region_at(offset)
    if found is None:
        return _definition_hover(snapshot, offset, config, options)
    whole, at = found
    region, base = _clause_at(whole, at)
    at -= base
    tokens = scan(region.text, region.comments)
    i = token_at(tokens, at)
    text: str | None = None
    span: tuple[int, int] | None = None
    if i is not None and tokens[i].kind == "word":
        tok = tokens[i]
        span = (base + tok.start, base + tok.end)
        text = _word(region, tokens, i, config)
    if text is None and options.eligibility:
        text = insight.eligibility_markdown(whole, config)
        span = None
    if text is None:
        return None
    rng = snapshot.index.range(whole.to_doc(span[0]), whole.to_doc(span[1])) if span else None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=rng)


def _clause_at(region: Region, at: int) -> tuple[Region, int]:
    """The top-level clause holding ``at`` in a long ``.pql`` expression (and where it starts),
    or the ``and``/``or`` between two clauses, so that hover scans and walks one clause; the
    region itself otherwise."""
    clauses = parsed_clauses(region.text) if region.definition is None and region.comments \
        else None
    if clauses is not None:
        clause = clause_at(region.text, region.comments, at)
        if clause is not None:
            return Region(clause.text, region.comments), clause.start
        after = next((i for i, c in enumerate(clauses) if c.start > at), 0)
        if after:  # on the operator between two clauses (a keyword: no field, no variable)
            start, end = clauses[after - 1].end, clauses[after].start
            return Region(region.text[start:end], region.comments), start
    return region, 0


def _definition_hover(snapshot: Snapshot, offset: int, config: Config,
                      options: ServerOptions) -> types.Hover | None:
    """Anywhere else inside a JSON definition object: that definition's eligibility."""
    if not options.eligibility:
        return None
    for region in snapshot.regions:
        found = snapshot.definition_object(region)
        if found is not None and found[1][0] <= offset < found[1][1]:
            text = insight.eligibility_markdown(region, config)
            if text is None:
                return None
            return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                            value=text))
    return None


def _word(region: Region, tokens: list[Token], i: int, config: Config) -> str | None:
    tok = tokens[i]
    before = tokens[i - 1] if i > 0 else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if after is not None and after.text == "(":
        is_method = before is not None and before.text == "."
        spec = catalog.lookup(tok.text, "method" if is_method else "global")
        if spec is not None:
            return function_markdown(spec)
    tree = region.parse.expr
    variables = Variables.of_region(region)
    if tree is None or variables is None:
        return None
    var = variables.at(tok.start)
    if var is not None:
        where = "declared here" if var.declared_at(tok.start) else "variable"
        uses = len(var.references)
        return (f"```pql\n{var.name}\n```\n\n{var.kind} {where} "
                f"({uses} reference{'s' if uses != 1 else ''})")
    path = _field_path(tree, tok)
    if path is None:
        return None
    dotted = ".".join(path)
    head = variables.at(_path_start(tree, tok))
    if head is not None and head.source is not None:  # X.commerce with X from xEvent
        path = head.source + path[1:]
    kind = insight.field_type(config, path)
    shown = f"{dotted}: {kind}" if kind else dotted
    return f"```pql\n{shown}\n```\n\nfield" + ("" if kind else " (type unknown: no schema "
                                                 "configured or not in the schema)")


def _path_start(tree: ast.Node, tok: Token) -> int:
    """The offset where the path ending at ``tok`` starts (its first name)."""
    for node in tree.walk():
        if isinstance(node, ast.Attribute) and node.span.end == tok.end:
            return node.span.start
    return tok.start


def _field_path(tree: ast.Node, tok: Token) -> tuple[str, ...] | None:
    """The dotted path ending at the word ``tok`` if it is a field in the tree."""
    for node in tree.walk():
        if isinstance(node, ast.Attribute) and node.span.end == tok.end \
                and node.name == tok.text:
            return ast.dotted_path(node)
        if isinstance(node, ast.Name) and node.span.start == tok.start:
            return (node.id,)
    return None
