"""SARIF 2.1.0 output for GitHub code scanning and other SARIF viewers.

One run; the driver lists every rule that has results (with its summary, explanation, bad and
good examples, and default level); each result has a physical location
(file URI relative to the base directory, 1-based line/column region in Unicode code points)
and, when it has one, its fix as SARIF replacements.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pqltools.errors import Diagnostic, Severity, Span
from pqltools.render import (
    FileResult,
    Finding,
    RenderOptions,
    RuleInfo,
    rule_info,
)
from pqltools.version import package_version

__all__ = ["SARIF_SCHEMA", "render_sarif", "sarif_level"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_INFORMATION_URI = "https://github.com/pqltools/pqltools"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note",
           Severity.HINT: "note"}


def sarif_level(severity: Severity) -> str:
    """SARIF's ``level`` for a severity (info and hint are both ``note``)."""
    return _LEVELS[severity]


def _uri(path: str, base_dir: str | None) -> str:
    """A relative URI when ``path`` is under ``base_dir`` (what code scanning expects)."""
    candidate = Path(path)
    if candidate.exists():
        base = Path(base_dir or os.getcwd()).resolve()
        resolved = candidate.resolve()
        try:
            return quote(resolved.relative_to(base).as_posix())
        except ValueError:
            return resolved.as_uri()
    return quote(path.replace(os.sep, "/"))


def _region(span: Span) -> dict[str, int]:
    return {"startLine": span.line, "startColumn": span.column,
            "endLine": span.end_line, "endColumn": span.end_column,
            "charOffset": span.start, "charLength": span.end - span.start}


def _artifact(uri: str) -> dict[str, str]:
    """An artifactLocation; relative URIs are relative to the checkout root (``%SRCROOT%``)."""
    return {"uri": uri} if uri.startswith("file:") else {"uri": uri, "uriBaseId": "%SRCROOT%"}


def _location(uri: str, span: Span) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": _artifact(uri), "region": _region(span)}}


def _descriptor(rule: RuleInfo) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "defaultConfiguration": {"level": sarif_level(rule.severity)},
    }
    if rule.explanation:
        descriptor["fullDescription"] = {"text": rule.explanation}
        descriptor["help"] = {"text": rule.explanation, "markdown": rule.explanation}
    return descriptor


def _fixes(result: FileResult, uri: str, finding: Finding) -> list[dict[str, Any]]:
    fix = finding.diagnostic.fix
    if fix is None or finding.edits is None:
        return []
    replacements = [{
        "deletedRegion": _region(Span.from_offsets(result.text, e.start, e.end)),
        "insertedContent": {"text": e.replacement},
    } for e in finding.edits]
    return [{"description": {"text": fix.message},
             "artifactChanges": [{"artifactLocation": _artifact(uri),
                                  "replacements": replacements}]}]


def _result(diag: Diagnostic, index: int, location: dict[str, Any]) -> dict[str, Any]:
    text = diag.message + (f"\nhelp: {diag.help}" if diag.help else "")
    return {"ruleId": diag.code, "ruleIndex": index, "level": sarif_level(diag.severity),
            "message": {"text": text}, "locations": [location]}


def render_sarif(results: Sequence[FileResult], options: RenderOptions) -> str:
    """A SARIF 2.1.0 log with one run, as indented JSON."""
    rules = {f.diagnostic.code: rule_info(f.diagnostic.code)
             for result in results for f in result.findings}
    order = sorted(rules)
    index = {code: i for i, code in enumerate(order)}
    sarif_results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for result in results:
        uri = _uri(result.path, options.base_dir)
        for finding in result.findings:
            diag = finding.diagnostic
            entry = _result(diag, index[diag.code], _location(uri, diag.span))
            fixes = _fixes(result, uri, finding)
            if fixes:
                entry["fixes"] = fixes
            if finding.definition is not None:
                entry["properties"] = {"definition": finding.definition,
                                       "definitionName": finding.definition_name}
            sarif_results.append(entry)
        if result.error is not None:
            notifications.append({
                "level": "error",
                "message": {"text": f"{result.error.code}: {result.error.message}"},
                "locations": [_location(uri, result.error.span)],
            })
    run = {
        "tool": {"driver": {"name": "pqltools", "version": package_version(),
                            "semanticVersion": package_version(),
                            "informationUri": _INFORMATION_URI,
                            "rules": [_descriptor(rules[c]) for c in order]}},
        "invocations": [{"executionSuccessful": not notifications,
                         "toolExecutionNotifications": notifications}],
        "columnKind": "unicodeCodePoints",
        "results": sarif_results,
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
