"""One line per finding (``file:line:col: severity CODE: message``), for grep and editors."""

from __future__ import annotations

from collections.abc import Sequence

from pqltools.render import FileResult, RenderOptions, summary_line
from pqltools.render.text import header

__all__ = ["render_concise"]


def render_concise(results: Sequence[FileResult], options: RenderOptions) -> str:
    """The text format's header lines only, then the summary."""
    lines: list[str] = []
    for result in results:
        if result.error is not None:
            lines.append(header(result.path, result.error, options.color))
        lines.extend(header(result.path, f.diagnostic, options.color, f)
                     for f in result.findings)
    lines.append(summary_line(results, unsafe_fixes=options.unsafe_fixes))
    return "\n".join(lines) + "\n"
