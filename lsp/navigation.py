"""Go to definition, find references and rename, for variables and chain labels.

Only names the scope resolver binds are handled (``select``/``exists``/``forall``/aggregation
variables, ``let``, lambda parameters, chain step labels); fields belong to the schema, not to
the document, so they are neither renamed nor navigated.
"""

from __future__ import annotations

import re

from lsprotocol import types
from pqltools_lsp.documents import Region, Snapshot, parsed
from pqltools_lsp.lexing import scan
from pqltools_lsp.refusal import Refused
from pqltools_lsp.variables import Variable, Variables
from pqltools_lsp.workspace import string_value

__all__ = ["IDENTIFIER", "definition", "prepare_rename", "references", "rename",
           "segment_reference"]

#: What a new variable name must look like (a PQL identifier; keywords are checked by parsing).
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _variable_at(snapshot: Snapshot,
                 position: types.Position) -> tuple[Region, Variable] | None:
    found = snapshot.region_at(snapshot.index.offset(position))
    if found is None:
        return None
    region, at = found
    variables = Variables.of_region(region)
    var = variables.at(at) if variables is not None else None
    return (region, var) if var is not None else None


def _range(snapshot: Snapshot, region: Region, span: tuple[int, int]) -> types.Range:
    return snapshot.index.range(region.to_doc(span[0]), region.to_doc(span[1]))


def definition(snapshot: Snapshot, position: types.Position) -> types.Location | None:
    """Where the variable under the cursor is declared."""
    found = _variable_at(snapshot, position)
    if found is None:
        return None
    region, var = found
    return types.Location(uri=snapshot.uri, range=_range(snapshot, region, var.declaration))


def segment_reference(snapshot: Snapshot, position: types.Position) -> str | None:
    """The audience id when the cursor is on the string argument of ``inSegment("id")``."""
    found = snapshot.region_at(snapshot.index.offset(position))
    if found is None:
        return None
    region, at = found
    tokens = scan(region.text, region.comments)
    for i, tok in enumerate(tokens):
        if tok.start <= at <= tok.end and tok.kind == "string" and i >= 2 \
                and tokens[i - 1].text == "(" and tokens[i - 2].text == "inSegment":
            return string_value(tok.text)
        if tok.start > at:
            break
    return None


def references(snapshot: Snapshot, position: types.Position,
               include_declaration: bool) -> list[types.Location] | None:
    """Every use of the variable under the cursor (and its declaration if asked)."""
    found = _variable_at(snapshot, position)
    if found is None:
        return None
    region, var = found
    spans = var.occurrences if include_declaration else sorted(var.references)
    return [types.Location(uri=snapshot.uri, range=_range(snapshot, region, s)) for s in spans]


def prepare_rename(snapshot: Snapshot, position: types.Position) -> types.Range | None:
    """The range of the variable name under the cursor, None where rename is not possible."""
    found = _variable_at(snapshot, position)
    if found is None or not found[0].editable:
        return None
    region, var = found
    at = region.from_doc(snapshot.index.offset(position))
    span = next((s for s in var.occurrences if at is not None and s[0] <= at <= s[1]),
                var.declaration)
    return _range(snapshot, region, span)


def rename(snapshot: Snapshot, position: types.Position,
           new_name: str) -> types.WorkspaceEdit | None:
    """Rename the variable under the cursor everywhere it is used.

    Raises :class:`Refused` (a ``RequestFailed`` answer) when ``new_name`` is not an identifier, or would make
    the expression mean something else (a keyword, or a name another variable already uses).
    """
    found = _variable_at(snapshot, position)
    if found is None or not found[0].editable:
        return None
    region, var = found
    if not IDENTIFIER.fullmatch(new_name):
        raise Refused(f"`{new_name}` is not a PQL identifier")
    if not _same_meaning(region, var, new_name):
        raise Refused(f"renaming `{var.name}` to `{new_name}` would change what the "
                         "expression means (a keyword, or a name already in use there)")
    changes = [types.TextEdit(range=_range(snapshot, region, s), new_text=new_name)
               for s in var.occurrences]
    return types.WorkspaceEdit(changes={snapshot.uri: changes})


def _same_meaning(region: Region, var: Variable, new_name: str) -> bool:
    """Whether the renamed expression parses and binds exactly the renamed occurrences."""
    text = region.text
    expected: list[tuple[int, int]] = []
    shift = 0
    for start, end in sorted(var.occurrences):
        expected.append((start + shift, start + shift + len(new_name)))
        shift += len(new_name) - (end - start)
    for start, end in sorted(var.occurrences, reverse=True):
        text = text[:start] + new_name + text[end:]
    tree = parsed(text, region.comments).expr
    if tree is None:
        return False
    declaration = var.declaration[0] + sum(
        len(new_name) - (e - s) for s, e in var.occurrences if s < var.declaration[0])
    renamed = Variables.of(tree, text).at(declaration)
    return renamed is not None and renamed.name == new_name and \
        sorted(renamed.occurrences) == expected
