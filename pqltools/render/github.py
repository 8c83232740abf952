"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding.

GitHub shows these as annotations on the pull request's changed lines. Values are escaped as
the runner expects (``%``, CR and LF everywhere; also ``:`` and ``,`` in properties).
"""

from __future__ import annotations

from collections.abc import Sequence

from pqltools.errors import Diagnostic, Severity
from pqltools.render import FileResult, RenderOptions

__all__ = ["escape_data", "escape_property", "render_github"]

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice",
             Severity.HINT: "notice"}


def escape_data(value: str) -> str:
    """Escape a workflow command's message."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value (``file=``, ``title=``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(path: str, diag: Diagnostic) -> str:
    """One ``::error file=...,line=...,col=...,endLine=...,endColumn=...,title=CODE::msg``."""
    span = diag.span
    props = (f"file={escape_property(path)},line={span.line},col={span.column},"
             f"endLine={span.end_line},endColumn={span.end_column},"
             f"title={escape_property(diag.code)}")
    message = diag.message + (f"\nhelp: {diag.help}" if diag.help else "")
    return f"::{_COMMANDS[diag.severity]} {props}::{escape_data(message)}"


def render_github(results: Sequence[FileResult], options: RenderOptions) -> str:
    """One annotation line per finding (and per file that could not be linted)."""
    lines: list[str] = []
    for result in results:
        if result.error is not None:
            lines.append(annotation(result.path, result.error))
        lines.extend(annotation(result.path, f.diagnostic) for f in result.findings)
    return "".join(line + "\n" for line in lines)
