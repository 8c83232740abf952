"""Lint results placed in the files the user gave: what the renderers and ``--fix`` consume.

The linter reports :class:`~pqltools.errors.Diagnostic` objects with spans inside one PQL
expression. A :class:`Finding` is such a diagnostic moved into the coordinates of its file (for
a JSON definition: the line and column inside the JSON file), with its fix as edits of the file
text; a :class:`FileResult` holds every finding of one file.
"""

from __future__ import annotations

from dataclasses import replace

from pqltools.errors import Diagnostic, Edit
from pqltools.records import record
from pqltools.sources import Source

__all__ = ["FileResult", "Finding", "file_edits", "place"]


@record(frozen=True, slots=True)
class Finding:
    """One diagnostic placed in a file.

    ``diagnostic.span`` is in the coordinates of the file (for a JSON definition: the line and
    column inside the JSON file). ``edits`` is the diagnostic's fix as edits of the *file* text
    (JSON-escaped for a definition), or None when there is no fix or it cannot be written back.
    ``source`` names the expression inside the file (``file.json[2] "name"`` for a definition);
    ``definition`` is the definition's index in the file, None for a ``.pql`` file.
    """

    diagnostic: Diagnostic
    source: str
    edits: tuple[Edit, ...] | None = None
    definition: int | None = None
    definition_name: str | None = None
    definition_id: str | None = None

    @property
    def fixable(self) -> bool:
        """True when ``--fix`` (or ``--unsafe-fixes``) can apply this finding's fix."""
        return self.edits is not None

    @property
    def safe_fix(self) -> bool:
        """True when the fix is applied by plain ``--fix``."""
        fix = self.diagnostic.fix
        return self.edits is not None and fix is not None and fix.safe


@record(frozen=True, slots=True)
class FileResult:
    """Everything found in one input file.

    ``text`` is the file's text (positions refer to it). ``error`` is set when the file could
    not be linted at all (unreadable, not UTF-8, invalid JSON, not a definition): such files
    make ``pql lint`` exit with code 2. ``sources`` counts the expressions linted; ``fixed``
    counts the fixes ``--fix`` applied.
    """

    path: str
    text: str
    findings: tuple[Finding, ...] = ()
    error: Diagnostic | None = None
    sources: int = 0
    fixed: int = 0


def file_edits(source: Source, diag: Diagnostic) -> tuple[Edit, ...] | None:
    """``diag``'s fix as edits of the file ``source`` came from, or None if it cannot be written.

    For a ``pql/text`` definition the offsets are mapped into the JSON string and the
    replacement is JSON-escaped; a ``pql/json`` definition's expression is generated text, so
    its fixes are shown but not applied.
    """
    if diag.fix is None:
        return None
    definition = source.definition
    if definition is None:
        return diag.fix.edits
    if definition.format != "pql/text" or definition.value_span is None:
        return None
    import json

    return tuple(Edit(definition.file_offset(e.start), definition.file_offset(e.end),
                      json.dumps(e.replacement, ensure_ascii=False)[1:-1])
                 for e in diag.fix.edits)


def place(source: Source, diag: Diagnostic) -> Finding:
    """``diag`` (reported on ``source``'s expression) as a finding in ``source``'s file."""
    mapped = replace(diag, span=source.file_span(diag.span))
    definition = source.definition
    return Finding(
        diagnostic=mapped,
        source=source.label,
        edits=file_edits(source, diag),
        definition=definition.index if definition is not None else None,
        definition_name=definition.name if definition is not None else None,
        definition_id=definition.id if definition is not None else None,
    )
