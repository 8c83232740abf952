"""Human-readable output: ``file:line:col: severity CODE: message``, the line, a caret, help.

Colour is applied only when asked (the CLI asks when standard output is a terminal); the
layout is the same either way, so golden files and terminals show the same text.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from pqltools.analysis.results import FileResult, Finding
from pqltools.errors import Diagnostic, Severity, render_snippet
from pqltools.render import RenderOptions, summary_line

__all__ = ["header", "paint", "render_text"]

_SEVERITY_STYLE: dict[Severity, dict[str, object]] = {
    Severity.ERROR: {"fg": "red", "bold": True},
    Severity.WARNING: {"fg": "yellow", "bold": True},
    Severity.INFO: {"fg": "blue", "bold": True},
    Severity.HINT: {"fg": "cyan"},
}


def paint(text: str, color: bool, **style: object) -> str:
    """``text`` with ANSI styling when ``color`` is on, else unchanged."""
    return click.style(text, **style) if color else text  # type: ignore[arg-type]


def header(path: str, diag: Diagnostic, color: bool, finding: Finding | None = None) -> str:
    """``path:line:col: severity CODE: message``, with `` [*]`` when ``--fix`` can fix it."""
    where = paint(f"{path}:{diag.span.line}:{diag.span.column}:", color, bold=True)
    severity = paint(diag.severity.value, color, **_SEVERITY_STYLE[diag.severity])
    code = paint(diag.code, color, bold=True)
    mark = " [*]" if finding is not None and finding.safe_fix else ""
    return f"{where} {severity} {code}:{mark} {diag.message}"


def _block(result: FileResult, diag: Diagnostic, options: RenderOptions,
           finding: Finding | None) -> str:
    color = options.color
    lines = [header(result.path, diag, color, finding)]
    snippet = render_snippet(result.text, diag.span)
    if color:
        source_line, _, caret = snippet.partition("\n")
        snippet = f"{source_line}\n{paint(caret, color, **_SEVERITY_STYLE[diag.severity])}"
    lines.append(snippet)
    if finding is not None and finding.definition is not None:
        lines.append(f"  {paint('in:', color, dim=True)} {finding.source}")
    if diag.help:
        lines.append(f"  {paint('help:', color, fg='cyan', bold=True)} {diag.help}")
    if finding is not None and diag.fix is not None:
        lines.append(f"  {paint('fix:', color, fg='green', bold=True)} {_fix_note(finding)}")
    return "\n".join(lines)


def _fix_note(finding: Finding) -> str:
    fix = finding.diagnostic.fix
    assert fix is not None
    if not finding.fixable:
        return f"{fix.message} (not applied automatically here: pql/json definition)"
    if fix.safe:
        return f"{fix.message} (safe: --fix)"
    return f"{fix.message} (unsafe: --fix --unsafe-fixes)"


def render_text(results: Sequence[FileResult], options: RenderOptions) -> str:
    """Every finding with its source line and caret, then a one-line summary."""
    blocks: list[str] = []
    for result in results:
        if result.error is not None:
            blocks.append(_block(result, result.error, options, None))
        for finding in result.findings:
            blocks.append(_block(result, finding.diagnostic, options, finding))
    blocks.append(summary_line(results, unsafe_fixes=options.unsafe_fixes))
    return "\n\n".join(blocks) + "\n"
