"""Code actions: every linter autofix, and "add noqa" for any lint finding.

Fix edits are offsets into the expression; they are mapped into the document and, inside a JSON
string, written JSON-escaped. ``noqa`` goes where ``pql lint`` reads it: an end-of-line
``-- pql: noqa: CODE`` comment in a ``.pql`` file, the definition's ``"pqltools": {"noqa": [...]}``
list in a JSON file. Syntax errors (PQL0xx) cannot be suppressed, so they get no noqa action.
"""

from __future__ import annotations

import json
import re

from lsprotocol import types
from pqltools_lsp.diagnostics import LocatedDiagnostic, document_offsets, to_lsp
from pqltools_lsp.documents import Region, Snapshot

from pqltools.errors import Diagnostic

__all__ = ["code_actions"]

_NOQA_CODES = re.compile(r"--\s*pql\s*:\s*noqa\s*:\s*[A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*",
                         re.IGNORECASE)


def code_actions(snapshot: Snapshot, findings: list[LocatedDiagnostic],
                 rng: types.Range) -> list[types.CodeAction]:
    """Quick fixes for the findings that touch ``rng``."""
    start, end = snapshot.index.offsets(rng)
    out: list[types.CodeAction] = []
    for finding in findings:
        region, diag = finding
        d_start, d_end = document_offsets(region, diag)
        if d_end < start or d_start > end or region is None:
            continue
        lsp_diag = to_lsp(snapshot, finding)
        if diag.fix is not None and region.editable:
            edits = [types.TextEdit(range=snapshot.index.range(region.to_doc(e.start),
                                                               region.to_doc(e.end)),
                                    new_text=region.quote(e.replacement))
                     for e in diag.fix.edits]
            out.append(_action(snapshot, diag.fix.message, lsp_diag, edits, diag.fix.safe))
        if not diag.code.startswith("PQL0"):
            noqa = _noqa_edit(snapshot, region, diag, d_start)
            if noqa is not None:
                out.append(_action(snapshot, f"Suppress {diag.code} with noqa", lsp_diag,
                                   [noqa], False))
    return out


def _action(snapshot: Snapshot, title: str, diag: types.Diagnostic, edits: list[types.TextEdit],
            preferred: bool) -> types.CodeAction:
    return types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                            edit=types.WorkspaceEdit(changes={snapshot.uri: edits}),
                            is_preferred=preferred)


def _insert(snapshot: Snapshot, offset: int, text: str) -> types.TextEdit:
    return types.TextEdit(range=snapshot.index.range(offset, offset), new_text=text)


def _noqa_edit(snapshot: Snapshot, region: Region, diag: Diagnostic,
               doc_start: int) -> types.TextEdit | None:
    if region.definition is not None:
        return _json_noqa(snapshot, region, diag.code)
    line = snapshot.index.position(doc_start).line
    text = snapshot.index.line_text(line)
    line_start = snapshot.index.offset(types.Position(line=line, character=0))
    existing = _NOQA_CODES.search(text)
    if existing is not None:
        return _insert(snapshot, line_start + existing.end(), f", {diag.code}")
    return _insert(snapshot, line_start + len(text.rstrip()), f"  -- pql: noqa: {diag.code}")


def _json_noqa(snapshot: Snapshot, region: Region, code: str) -> types.TextEdit | None:
    found = snapshot.definition_object(region)
    if found is None:
        return None
    owner, (obj_start, _obj_end) = found
    spans = snapshot.json_spans
    own = region.definition.raw.get("pqltools") if region.definition is not None else None
    noqa = own.get("noqa") if isinstance(own, dict) else None
    if isinstance(noqa, list) and owner + ("pqltools", "noqa") in spans:
        list_end = spans[owner + ("pqltools", "noqa")][1] - 1  # before the closing ]
        sep = ", " if noqa else ""
        return _insert(snapshot, list_end, f"{sep}{json.dumps(code)}")
    if isinstance(own, dict) and "noqa" not in own and owner + ("pqltools",) in spans:
        table_start = spans[owner + ("pqltools",)][0] + 1
        sep = ", " if own else ""
        return _insert(snapshot, table_start, f'"noqa": [{json.dumps(code)}]{sep}')
    if own is not None:
        return None  # an unexpected "pqltools" value: leave it to the user
    return _insert(snapshot, obj_start + 1, f' "pqltools": {{"noqa": [{json.dumps(code)}]}},')
