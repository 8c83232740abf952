"""Formatting through the canonical formatter (:func:`pqltools.syntax.printer.format`).

* A ``.pql`` document is formatted as a whole, comments before and after the expression kept.
* In a JSON definition file each ``pql/text`` expression is formatted on one line (a JSON string
  cannot hold real line breaks, and ``\\n`` escapes would make the file harder to read) and
  written back JSON-escaped; ``pql/json`` definitions are left alone.
* Range formatting formats the selected text when it is a complete expression on its own (a
  sub-expression such as one ``and`` operand); in a JSON file, every definition the range
  touches. Text with syntax errors is never changed.

When nothing can be formatted the request is refused with the reason (a syntax error and where
it is, a comment inside the expression, a selection that is not an expression), so the editor
shows why instead of silently doing nothing.
"""

from __future__ import annotations

from lsprotocol import types
from pqltools_lsp.documents import Region, Snapshot
from pqltools_lsp.refusal import Refused

from pqltools.errors import PQLError
from pqltools.syntax.parser import ParseOptions, parse_document
from pqltools.syntax.printer import format as format_pql

__all__ = ["ONE_LINE", "format_document", "format_range"]

#: A width no expression reaches: the formatter then never breaks a line.
ONE_LINE = 1_000_000_000


def _region_edit(snapshot: Snapshot, region: Region) -> types.TextEdit | None:
    """The edit that formats one region, None when it is already formatted.

    Raises :class:`Refused` when the region cannot be formatted.
    """
    if not region.editable:
        return None
    where = "" if region.definition is None else f"{region.label}: "
    if not region.parse.ok:
        first = region.parse.diagnostics[0]
        line, column = snapshot.index.line_column(region.to_doc(first.span.start))
        raise Refused(f"{where}cannot format: syntax error at line {line + 1}, column "
                      f"{column + 1}: {first.message}")
    try:
        if region.definition is None:
            new = format_pql(region.text, comments=True)
            if region.text.endswith("\n"):
                new += "\n"
        else:
            new = format_pql(region.text, comments=False, width=ONE_LINE)
    except PQLError as exc:  # e.g. a comment inside the expression, which cannot be kept
        message = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        raise Refused(f"{where}cannot format: {message}") from None
    if new == region.text:
        return None
    start, end = region.extent
    return types.TextEdit(range=snapshot.index.range(start, end), new_text=region.quote(new))


def format_document(snapshot: Snapshot) -> list[types.TextEdit]:
    """Edits that format every expression of the document.

    In a file of several definitions the ones that can be formatted are; the request is refused
    only when none can (the first reason is given).
    """
    return _edits(snapshot, snapshot.regions)


def _edits(snapshot: Snapshot, regions: list[Region]) -> list[types.TextEdit]:
    edits: list[types.TextEdit] = []
    refusal: Refused | None = None
    for region in regions:
        try:
            edit = _region_edit(snapshot, region)
        except Refused as exc:
            refusal = refusal or exc
            continue
        if edit is not None:
            edits.append(edit)
    if refusal is not None and not edits:
        raise refusal
    return edits


def format_range(snapshot: Snapshot, rng: types.Range) -> list[types.TextEdit]:
    """Edits that format the selection (see the module docstring for what that covers)."""
    start, end = snapshot.index.offsets(rng)
    touched = [r for r in snapshot.regions
               if not (end < r.extent[0] or start > r.extent[1])]
    if touched and touched[0].definition is None:
        edit = _selection_edit(snapshot, start, end)
        return [edit] if edit is not None else []
    return _edits(snapshot, touched)


def _selection_edit(snapshot: Snapshot, start: int, end: int) -> types.TextEdit | None:
    """Format ``text[start:end]`` of a ``.pql`` document if it is an expression by itself."""
    selected = snapshot.text[start:end]
    body = selected.strip()
    if not body:
        return None
    if not parse_document(body, ParseOptions(comments=True)).ok:
        raise Refused("cannot format the selection: it is not a complete expression by itself "
                      "(select a whole condition, or format the document)")
    lead = len(selected) - len(selected.lstrip())
    trail = len(selected) - len(selected.rstrip())
    line_start = snapshot.text.rfind("\n", 0, start + lead) + 1
    indent = snapshot.text[line_start:start + lead]
    indent = indent if not indent.strip() else " " * len(indent)
    try:
        new = format_pql(body, comments=True, width=max(20, 88 - len(indent)))
    except PQLError as exc:
        message = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        raise Refused(f"cannot format the selection: {message}") from None
    new = new.replace("\n", "\n" + indent)
    if new == body:
        return None
    return types.TextEdit(range=snapshot.index.range(start + lead, end - trail), new_text=new)
