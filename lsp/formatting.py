"""Formatting through the canonical formatter (:func:`pqltools.syntax.printer.format`).

* A ``.pql`` document is formatted as a whole, comments before and after the expression kept.
* In a JSON definition file each ``pql/text`` expression is formatted on one line (a JSON string
  cannot hold real line breaks, and ``\\n`` escapes would make the file harder to read) and
  written back JSON-escaped; ``pql/json`` definitions are left alone.
* Range formatting formats the selected text when it is a complete expression on its own (a
  sub-expression such as one ``and`` operand); in a JSON file, every definition the range
  touches. Text with syntax errors is never changed.
"""

from __future__ import annotations

from lsprotocol import types
from pqltools_lsp.documents import Region, Snapshot

from pqltools.errors import PQLError
from pqltools.syntax.parser import ParseOptions, parse_document
from pqltools.syntax.printer import format as format_pql

__all__ = ["ONE_LINE", "format_document", "format_range"]

#: A width no expression reaches: the formatter then never breaks a line.
ONE_LINE = 1_000_000_000


def _region_edit(snapshot: Snapshot, region: Region) -> types.TextEdit | None:
    """The edit that formats one region, None when it is already formatted or cannot be."""
    if not region.editable or not region.parse.ok:
        return None
    try:
        if region.definition is None:
            new = format_pql(region.text, comments=True)
            if region.text.endswith("\n"):
                new += "\n"
        else:
            new = format_pql(region.text, comments=False, width=ONE_LINE)
    except PQLError:  # e.g. a comment inside the expression, which cannot be kept in place
        return None
    if new == region.text:
        return None
    start, end = region.extent
    return types.TextEdit(range=snapshot.index.range(start, end), new_text=region.quote(new))


def format_document(snapshot: Snapshot) -> list[types.TextEdit]:
    """Edits that format every expression of the document."""
    edits = (_region_edit(snapshot, region) for region in snapshot.regions)
    return [e for e in edits if e is not None]


def format_range(snapshot: Snapshot, rng: types.Range) -> list[types.TextEdit]:
    """Edits that format the selection (see the module docstring for what that covers)."""
    start, end = snapshot.index.offsets(rng)
    edits: list[types.TextEdit] = []
    for region in snapshot.regions:
        r_start, r_end = region.extent
        if end < r_start or start > r_end:
            continue
        if region.definition is not None:
            edit = _region_edit(snapshot, region)
        else:
            edit = _selection_edit(snapshot, start, end)
        if edit is not None:
            edits.append(edit)
    return edits


def _selection_edit(snapshot: Snapshot, start: int, end: int) -> types.TextEdit | None:
    """Format ``text[start:end]`` of a ``.pql`` document if it is an expression by itself."""
    selected = snapshot.text[start:end]
    body = selected.strip()
    if not body or not parse_document(body, ParseOptions(comments=True)).ok:
        return None
    lead = len(selected) - len(selected.lstrip())
    trail = len(selected) - len(selected.rstrip())
    line_start = snapshot.text.rfind("\n", 0, start + lead) + 1
    indent = snapshot.text[line_start:start + lead]
    indent = indent if not indent.strip() else " " * len(indent)
    try:
        new = format_pql(body, comments=True, width=max(20, 88 - len(indent)))
    except PQLError:
        return None
    new = new.replace("\n", "\n" + indent)
    if new == body:
        return None
    return types.TextEdit(range=snapshot.index.range(start + lead, end - trail), new_text=new)
