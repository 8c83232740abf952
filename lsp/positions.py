"""Offsets in Python strings <-> LSP positions (line, character in the negotiated encoding).

LSP counts characters in UTF-16 code units unless the client agreed on UTF-8 or UTF-32, while
pqltools spans count Python characters (code points). An astral character such as an emoji is one
code point but two UTF-16 units. Only ``\\n``, ``\\r\\n`` and ``\\r`` end a line in LSP: U+2028,
U+0085, form feeds and the other characters Python's ``str.splitlines`` breaks on do not.
Positions a client sends may be out of range (past the end of a line, past the last line, in the
middle of a surrogate pair): they are clamped, never an error.

Conversions cost O(log lines) on ASCII lines; a line with other characters gets a table of
cumulative code units the first time it is used (O(its length) once), so that thousands of
conversions on one long line (a 1 MB minified JSON file) stay linear overall.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING

from pqltools.errors import Span

if TYPE_CHECKING:
    from lsprotocol import types

__all__ = ["LineIndex", "line_breaks"]

_BREAK = re.compile(r"\r\n|\r|\n")


def line_breaks(text: str) -> list[int]:
    """Offsets where the lines of ``text`` start (LSP line ends only)."""
    if "\r" not in text:  # the common case, at C speed
        return [0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1])]
    return [0, *(m.end() for m in _BREAK.finditer(text))]


def _units(text: str, encoding: str) -> list[int]:
    """Code units of each character of ``text`` in ``encoding``."""
    if encoding == "utf-8":
        return [1 if c < "\x80" else 2 if c < "\u0800" else 3 if c <= "\uffff" else 4
                for c in text]
    return [2 if c > "\uffff" else 1 for c in text]


def _position(line: int, character: int) -> types.Position:
    from lsprotocol import types

    return types.Position(line=line, character=character)


class LineIndex:
    """Line starts of one text, for converting between offsets and LSP positions."""

    __slots__ = ("_columns", "_simple", "_starts", "encoding", "text")

    def __init__(self, text: str, encoding: str = "utf-16", *,
                 starts: list[int] | None = None) -> None:
        self.text = text
        self.encoding = encoding
        self._starts = line_breaks(text) if starts is None else starts
        # A pure-ASCII text (the common case) needs no per-character unit counting.
        self._simple = encoding == "utf-32" or text.isascii()
        self._columns: dict[int, list[int]] = {}

    def moved(self, text: str, at: int, delta: int) -> LineIndex:
        """The index of ``text``: this index's text with ``delta`` characters inserted (or
        removed, when negative) at offset ``at``, none of them a line break."""
        starts = self._starts
        first = bisect_right(starts, at)
        return LineIndex(text, self.encoding,
                         starts=[*starts[:first], *(s + delta for s in starts[first:])])

    @property
    def line_count(self) -> int:
        """Number of lines (a trailing line break starts one more, empty, line)."""
        return len(self._starts)

    def _line_bounds(self, line: int) -> tuple[int, int]:
        """``[start, end)`` of a line's text, its line break excluded."""
        starts: list[int] = self._starts
        start = starts[line]
        if line + 1 >= len(starts):
            return start, len(self.text)
        end = starts[line + 1] - 1
        if end > start and self.text[end] == "\n" and self.text[end - 1] == "\r":
            end -= 1
        return start, end

    def _cumulative(self, line: int) -> list[int] | None:
        """Code units before each character of a non-ASCII line (None for an ASCII line)."""
        table = self._columns.get(line)
        if table is None:
            start, end = self._line_bounds(line)
            chunk = self.text[start:end]
            if chunk.isascii():
                return None
            table = self._columns[line] = [0, *accumulate(_units(chunk, self.encoding))]
        return table

    def offset(self, position: types.Position) -> int:
        """The string offset of ``position``, clamped into the text."""
        line = max(0, position.line)
        if line >= self.line_count:
            return len(self.text)
        start, end = self._line_bounds(line)
        wanted = max(0, position.character)
        table = None if self._simple else self._cumulative(line)
        if table is None:
            return min(start + wanted, end)
        # the last character that starts at or before `wanted` units; inside a multi-unit
        # character the position stays before it
        return start + bisect_right(table, wanted) - 1

    def position(self, offset: int) -> types.Position:
        """The LSP position of string offset ``offset`` (clamped into the text)."""
        line, character = self.line_column(offset)
        return _position(line, character)

    def line_column(self, offset: int) -> tuple[int, int]:
        """``(line, character)`` of ``offset`` without building an LSP object."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if offset > start and self.text[offset - 1] == "\r" and offset < len(self.text) \
                and self.text[offset] == "\n":
            offset -= 1  # between \r and \n: the end of the line
        table = None if self._simple else self._cumulative(line)
        if table is None:
            return line, offset - start
        return line, table[min(offset - start, len(table) - 1)]

    def range(self, start: int, end: int) -> types.Range:
        """The LSP range of ``text[start:end]``."""
        from lsprotocol import types

        return types.Range(start=self.position(start), end=self.position(max(start, end)))

    def span_range(self, span: Span) -> types.Range:
        """The LSP range of a pqltools span (its offsets, which index this text)."""
        return self.range(span.start, span.end)

    def offsets(self, rng: types.Range) -> tuple[int, int]:
        """The ``[start, end)`` offsets of an LSP range (swapped if given backwards)."""
        a, b = self.offset(rng.start), self.offset(rng.end)
        return (a, b) if a <= b else (b, a)

    def line_text(self, line: int) -> str:
        """The text of line ``line`` without its line break ("" when out of range)."""
        if not 0 <= line < self.line_count:
            return ""
        start, end = self._line_bounds(line)
        return self.text[start:end]
