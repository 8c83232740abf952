"""Diagnostics of a document: the linter's findings (syntax errors included) in LSP form.

The linter (:func:`pqltools.analysis.lint.lint_source`) does all the judging, with the same
configuration, ``noqa`` handling and per-definition suppressions as ``pql lint``; this module only
runs it over each region of a snapshot and maps spans into the document.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pqltools_lsp.clause_facts import warm as warm_facts
from pqltools_lsp.clause_lint import forget as forget_clauses
from pqltools_lsp.clause_lint import lint_clauses, warm
from pqltools_lsp.documents import Region, Snapshot, parsed, parsed_clauses
from pqltools_lsp.memo import PER_DEFINITION, Memo
from pqltools_lsp.settings import ConfigResult

from pqltools.analysis.lint import lint_source
from pqltools.errors import Diagnostic, Severity

__all__ = ["SEVERITIES", "LocatedDiagnostic", "analyse", "forget_lint_results", "prepare",
           "to_lsp"]

log = logging.getLogger(__name__)

#: A diagnostic and the region its span refers to (None: the span is a document span).
LocatedDiagnostic = tuple[Region | None, Diagnostic]

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def analyse(snapshot: Snapshot, config: ConfigResult) -> list[LocatedDiagnostic]:
    """Every finding in ``snapshot`` (memoised on it, so code actions reuse the same list)."""
    cached: list[LocatedDiagnostic] | None = snapshot.cache.get("findings")
    if cached is not None:
        return cached
    found: list[LocatedDiagnostic] = [(None, d) for d in snapshot.problems]
    if config.error is not None:
        found.append((None, config.error))
    path = snapshot.path
    filename = str(path) if path is not None else snapshot.uri
    stamp = _schema_stamp(config)  # once per document, not once per definition
    for region in snapshot.regions:
        try:
            diags = _lint(region, config, filename, stamp, edited=snapshot.version is not None)
        except Exception:  # a bug in one rule must not hide the syntax errors
            log.exception("linter failed on %s (%s); showing syntax errors only",
                          snapshot.uri, region.label)
            diags = list(region.parse.diagnostics)
        found.extend((region, d) for d in diags)
    snapshot.cache["findings"] = found
    return found


#: Lint results by (expression, comments, configuration, schema, definition, file): editing
#: one definition of a JSON file re-lints only that one.
_LINTED: Memo[tuple[object, ...], list[Diagnostic]] = Memo(PER_DEFINITION)


def _lint(region: Region, config: ConfigResult, filename: str,
          stamp: float | None, edited: bool = False) -> list[Diagnostic]:
    if edited and _by_clause(region):  # a long .pql text being edited: clause by clause
        found = lint_clauses(region.text, config.config, filename)
        if found is not None:
            return found
    key = (region.text, region.comments, id(config.config), stamp,
           region.fingerprint, filename)
    return _LINTED.get(key, lambda: lint_source(
        region.text, comments=region.comments, config=config.config, schema=None,
        definition=region.definition, filename=filename,
        parsed=parsed(region.text, region.comments)))


def _by_clause(region: Region) -> bool:
    return region.definition is None and region.comments


def prepare(snapshot: Snapshot, config: ConfigResult) -> None:
    """Work for the requests that follow a change, done once its diagnostics are out: parse
    every region, but for a long ``.pql`` text being edited, whose features work clause by
    clause, lint (and read the eligibility facts of) the clauses never linted
    (:data:`pqltools_lsp.clause_lint.COLD_LIMIT`)."""
    for region in snapshot.regions:
        if snapshot.version is not None and _by_clause(region) \
                and parsed_clauses(region.text) is not None:
            warm(region.text, config.config)  # features read it clause by clause: no tree
            warm_facts(region.text)
        else:
            region.parse  # noqa: B018 - parsed now, for the requests that follow


def _schema_stamp(config: ConfigResult) -> float | None:
    """The schema file's modification time: a changed schema invalidates cached results."""
    schema = config.config.schema
    if schema is None:
        return None
    try:
        return schema.stat().st_mtime
    except OSError:
        return None


def forget_lint_results() -> None:
    """Drop cached lint results (the configuration or the schema changed)."""
    _LINTED.clear()
    forget_clauses()


def document_offsets(region: Region | None, diag: Diagnostic) -> tuple[int, int]:
    """The ``[start, end)`` document offsets a finding points at."""
    if region is None:
        return diag.span.start, diag.span.end
    return region.doc_span(diag.span)


def to_lsp(snapshot: Snapshot, finding: LocatedDiagnostic) -> types.Diagnostic:
    """One finding as an LSP diagnostic (help text on a second line of the message)."""
    region, diag = finding
    anchor = snapshot.anchor(region) if region is not None else None
    if anchor is None:
        return _lsp_diagnostic(diag, snapshot.index.range(*document_offsets(region, diag)))
    # a JSON expression on one line: placed relative to its string, and the same object
    # again while the string stays where it is
    assert region is not None
    key = (diag, region.raw, snapshot.encoding, anchor)
    found: types.Diagnostic = _PLACED.get(key, lambda: _placed(snapshot, region, diag))
    return found


#: LSP diagnostics of JSON expressions, by (finding, string, encoding, where it starts).
_PLACED: Memo[tuple[object, ...], types.Diagnostic] = Memo(4 * PER_DEFINITION)


def _placed(snapshot: Snapshot, region: Region, diag: Diagnostic) -> types.Diagnostic:
    anchored = snapshot.anchored(region)
    assert anchored is not None
    start = anchored.column(diag.span.start)
    end = max(start, anchored.column(diag.span.end))
    return _lsp_diagnostic(diag, types.Range(
        start=types.Position(line=anchored.line, character=start),
        end=types.Position(line=anchored.line, character=end)))


def _lsp_diagnostic(diag: Diagnostic, rng: types.Range) -> types.Diagnostic:
    message = diag.message if not diag.help else f"{diag.message}\nhelp: {diag.help}"
    return types.Diagnostic(
        range=rng,
        message=message,
        severity=SEVERITIES[diag.severity],
        code=diag.code,
        source="pqltools",
    )
