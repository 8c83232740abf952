"""Spans, diagnostics and the error classes every pqltools pass raises.

This is the bottom layer of the package: it imports nothing else from pqltools, so the syntax,
analysis, runtime and rendering layers can all share one vocabulary for "where" and "what went
wrong".
"""

from __future__ import annotations

import bisect
import enum
import threading
from collections.abc import Iterable
from dataclasses import field
from itertools import pairwise

from pqltools.records import record


@record(frozen=True, slots=True)
class Span:
    """A region of source text.

    ``start``/``end`` are 0-based character offsets (end exclusive); ``line``/``column`` and
    ``end_line``/``end_column`` are 1-based, as editors and compilers show them.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def from_offsets(text: str, start: int, end: int) -> Span:
        """Build a span for ``text[start:end]``, computing lines and columns.

        For a long text the lines come from a :class:`LineIndex` built once per text, so that
        the thousands of spans of one big file cost O(log n) each, not O(n).
        """
        start = max(0, min(start, len(text)))
        end = max(start, min(end, len(text)))
        if len(text) > _INDEX_FROM:
            return line_index(text).span(start, end)
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        end_line = line + text.count("\n", start, end)
        end_column = end - (text.rfind("\n", 0, end) + 1) + 1
        return Span(start, end, line, column, end_line, end_column)

    def cover(self, other: Span) -> Span:
        """The smallest span holding both ``self`` and ``other``."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return Span(first.start, last.end, first.line, first.column, last.end_line, last.end_column)


#: The span of nodes built by hand or by ``from_json`` (no source text).
NO_SPAN = Span(0, 0, 1, 1, 1, 1)

#: Texts longer than this get a :class:`LineIndex` (shorter ones are counted directly).
_INDEX_FROM = 4096


class LineIndex:
    """Where each line of a text starts: offsets to lines and columns in O(log n)."""

    __slots__ = ("length", "starts")

    def __init__(self, text: str) -> None:
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.starts = starts
        self.length = len(text)

    def line_of(self, offset: int) -> int:
        """The 0-based line holding ``offset``."""
        return bisect.bisect_right(self.starts, offset) - 1

    def bounds(self, offset: int) -> tuple[int, int]:
        """``[start, end)`` of the line holding ``offset`` (``end`` at its newline)."""
        line = self.line_of(offset)
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else self.length
        return self.starts[line], end

    def span(self, start: int, end: int) -> Span:
        """The span of ``[start, end)``."""
        a, b = self.line_of(start), self.line_of(end)
        return Span(start, end, a + 1, start - self.starts[a] + 1, b + 1,
                    end - self.starts[b] + 1)


_INDEXES: dict[str, LineIndex] = {}
_INDEX_LOCK = threading.Lock()


def line_index(text: str) -> LineIndex:
    """The line index of ``text``, kept for the few texts most recently asked about.

    Python caches a string's hash, so looking the same text up again costs O(1).
    """
    with _INDEX_LOCK:
        found = _INDEXES.get(text)
    if found is None:
        found = LineIndex(text)
        with _INDEX_LOCK:
            if len(_INDEXES) >= 8:
                _INDEXES.pop(next(iter(_INDEXES)))
            _INDEXES[text] = found
    return found


class Severity(str, enum.Enum):
    """How serious a diagnostic is, in the order LSP and SARIF use."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"

    @property
    def rank(self) -> int:
        """0 for error (most severe) to 3 for hint."""
        return _SEVERITY_RANK[self]

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2, Severity.HINT: 3}


@record(frozen=True, slots=True)
class Edit:
    """Replace the text at ``[start, end)`` (offsets into the expression) with ``replacement``."""

    start: int
    end: int
    replacement: str


@record(frozen=True, slots=True)
class Fix:
    """A suggested change. ``safe`` fixes never change what the expression means."""

    message: str
    edits: tuple[Edit, ...]
    safe: bool = True

    def apply(self, text: str) -> str:
        """Return ``text`` with every edit applied (edits must not overlap)."""
        out = text
        for edit in sorted(self.edits, key=lambda e: e.start, reverse=True):
            out = out[: edit.start] + edit.replacement + out[edit.end :]
        return out


def apply_fixes(text: str, fixes: Iterable[Fix]) -> str:
    """``text`` with the edits of all ``fixes`` applied at once.

    Every offset refers to ``text`` as given (the fixes of one lint run), so edits are applied
    from the end; applying the fixes one after another would move later offsets. Raises
    :class:`ValueError` when two edits overlap (or insert at one point).
    """
    edits = sorted((e for fix in fixes for e in fix.edits), key=lambda e: (e.start, e.end))
    for first, second in pairwise(edits):
        if second.start < first.end or second.start == first.start:
            raise ValueError(f"edits overlap: {first} and {second}")
    out = text
    for edit in reversed(edits):
        out = out[: edit.start] + edit.replacement + out[edit.end :]
    return out


@record(frozen=True, slots=True)
class Diagnostic:
    """One finding: a syntax error, a lint rule hit, an eligibility note."""

    code: str
    message: str
    severity: Severity
    span: Span
    fix: Fix | None = None
    help: str | None = None
    source: str = field(default="pqltools", compare=False)

    def render(self, text: str, filename: str = "<input>") -> str:
        """``file:line:col: severity CODE: message``, the source line, a caret and any help."""
        head = (
            f"{filename}:{self.span.line}:{self.span.column}: "
            f"{self.severity.value} {self.code}: {self.message}"
        )
        parts = [head, render_snippet(text, self.span)]
        if self.help:
            parts.append(f"  help: {self.help}")
        return "\n".join(p for p in parts if p)


def render_snippet(text: str, span: Span, indent: str = "  ") -> str:
    """The source line of ``span`` with a ``^~~~`` marker under the spanned part.

    Long lines are clipped around the span so that a 1 MB one-line input still renders as a
    readable snippet.
    """
    if not text and span.start == 0:
        return f"{indent}\n{indent}^"
    if len(text) > _INDEX_FROM:  # a long (perhaps minified, one-line) file: no scan per snippet
        line_start, line_end = line_index(text).bounds(min(span.start, len(text)))
    else:
        line_start = text.rfind("\n", 0, span.start) + 1
        line_end = text.find("\n", span.start)
        if line_end == -1:
            line_end = len(text)
    line = text[line_start:line_end]
    col = span.start - line_start
    width = max(1, min(span.end, line_end) - span.start)
    window = 100
    if len(line) > window:
        lo = max(0, col - window // 2)
        hi = min(len(line), lo + window)
        prefix = "…" if lo > 0 else ""
        suffix = "…" if hi < len(line) else ""
        line = prefix + line[lo:hi] + suffix
        col = col - lo + len(prefix)
        width = min(width, hi - (col - len(prefix)) - lo if hi > lo else 1)
        width = max(1, width)
    visible = "".join(ch if ch == "\t" or ch.isprintable() else "?" for ch in line)
    pad = "".join("\t" if ch == "\t" else " " for ch in visible[:col])
    marker = "^" + "~" * (min(width, max(1, len(visible) - col)) - 1)
    return f"{indent}{visible}\n{indent}{pad}{marker}"


class PQLError(Exception):
    """Base class of every error a user can cause. Carries one or more diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic, text: str | None = None):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        self.text = text
        super().__init__(self._summary())

    @property
    def span(self) -> Span:
        """The span of the first diagnostic."""
        return self.diagnostics[0].span if self.diagnostics else NO_SPAN

    def _summary(self) -> str:
        if not self.diagnostics:
            return "error"
        if self.text is not None:
            return "\n".join(d.render(self.text) for d in self.diagnostics)
        first = self.diagnostics[0]
        more = f" (and {len(self.diagnostics) - 1} more)" if len(self.diagnostics) > 1 else ""
        return f"{first.span.line}:{first.span.column}: {first.message}{more}"


class PQLSyntaxError(PQLError):
    """The text is not PQL. ``diagnostics`` lists every error found, after recovery."""


class PQLValidationError(PQLError):
    """The text parses but cannot mean anything (unknown function, wrong arity...)."""


class PQLEvaluationError(PQLError):
    """Evaluation failed on the given input (malformed profile, unusable timestamp...)."""


class DefinitionError(PQLError):
    """A segment-definition file is unusable (not JSON, no expression, unknown format...)."""

    def __init__(
        self,
        message: str,
        *,
        path: str,
        span: Span = NO_SPAN,
        code: str = "PQL090",
        text: str | None = None,
    ):
        self.path = path
        diag = Diagnostic(code, message, Severity.ERROR, span)
        super().__init__([diag], text)

    def _summary(self) -> str:
        d = self.diagnostics[0]
        return f"{self.path}:{d.span.line}:{d.span.column}: {d.message}"
