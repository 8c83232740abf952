"""Machine-readable output: one JSON document with a ``version`` field (shape in docs/cli.md).

The shape is stable: fields are only ever added, and a breaking change bumps ``version``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pqltools.analysis.results import FileResult, Finding
from pqltools.errors import Diagnostic, Edit, Severity, Span
from pqltools.render import RenderOptions, rule_info, severity_counts
from pqltools.version import package_version

__all__ = ["JSON_VERSION", "edit_json", "location", "render_json"]

#: Version of the JSON shape (not of pqltools).
JSON_VERSION = 1


def location(span: Span, *, end: bool = False) -> dict[str, int]:
    """``{"line", "column", "offset"}`` (1-based line/column, 0-based character offset)."""
    if end:
        return {"line": span.end_line, "column": span.end_column, "offset": span.end}
    return {"line": span.line, "column": span.column, "offset": span.start}


def edit_json(text: str, edit: Edit) -> dict[str, Any]:
    """One fix edit of the file ``text`` with its start and end positions."""
    span = Span.from_offsets(text, edit.start, edit.end)
    return {"location": location(span), "end_location": location(span, end=True),
            "content": edit.replacement}


def _diagnostic(path: str, diag: Diagnostic) -> dict[str, Any]:
    return {
        "file": path,
        "code": diag.code,
        "name": rule_info(diag.code).name,
        "severity": diag.severity.value,
        "message": diag.message,
        "help": diag.help,
        "location": location(diag.span),
        "end_location": location(diag.span, end=True),
    }


def _finding(result: FileResult, finding: Finding) -> dict[str, Any]:
    out = _diagnostic(result.path, finding.diagnostic)
    out["definition"] = None if finding.definition is None else {
        "index": finding.definition, "name": finding.definition_name,
        "id": finding.definition_id}
    fix = finding.diagnostic.fix
    out["fix"] = None if fix is None else {
        "message": fix.message,
        "applicability": "safe" if fix.safe else "unsafe",
        "edits": ([edit_json(result.text, e) for e in finding.edits]
                  if finding.edits is not None else None),
    }
    return out


def render_json(results: Sequence[FileResult], options: RenderOptions) -> str:
    """``{"version", "tool", "summary", "findings", "errors"}`` as indented JSON."""
    counts = severity_counts(results)
    document = {
        "version": JSON_VERSION,
        "tool": {"name": "pqltools", "version": package_version()},
        "summary": {
            "files": len(results),
            "sources": sum(r.sources for r in results),
            "findings": sum(counts.values()),
            "by_severity": {s.value: counts[s] for s in Severity},
            "fixable": sum(1 for r in results for f in r.findings if f.fixable),
            "fixed": sum(r.fixed for r in results),
            "errors": sum(1 for r in results if r.error is not None),
        },
        "findings": [_finding(r, f) for r in results for f in r.findings],
        "errors": [_diagnostic(r.path, r.error) for r in results if r.error is not None],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
