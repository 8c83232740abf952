"""Offsets in Python strings <-> LSP positions (line, character in the negotiated encoding).

LSP counts characters in UTF-16 code units unless the client agreed on UTF-8 or UTF-32, while
pqltools spans count Python characters (code points). An astral character such as an emoji is one
code point but two UTF-16 units. Positions a client sends may be out of range (past the end of a
line, past the last line, in the middle of a surrogate pair): they are clamped, never an error.
"""

from __future__ import annotations

from bisect import bisect_right

from lsprotocol import types

from pqltools.errors import Span

__all__ = ["LineIndex"]


def _units(char: str, encoding: str) -> int:
    """How many code units ``char`` takes in ``encoding`` ("utf-16", "utf-8" or "utf-32")."""
    code = ord(char)
    if encoding == "utf-32":
        return 1
    if encoding == "utf-8":
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 2 if code > 0xFFFF else 1


class LineIndex:
    """Line starts of one text, for converting between offsets and LSP positions."""

    __slots__ = ("_simple", "_starts", "encoding", "text")

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        starts = [0]
        pos = text.find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        self._starts = starts
        # A pure-ASCII text (the common case) needs no per-character unit counting.
        self._simple = encoding == "utf-32" or text.isascii()

    @property
    def line_count(self) -> int:
        """Number of lines (a trailing newline starts one more, empty, line)."""
        return len(self._starts)

    def _line_bounds(self, line: int) -> tuple[int, int]:
        starts: list[int] = self._starts
        start = starts[line]
        end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self.text)
        if end > start and self.text[end - 1] == "\r":
            end -= 1  # a CRLF line ends before its \r
        return start, end

    def offset(self, position: types.Position) -> int:
        """The string offset of ``position``, clamped into the text."""
        line = max(0, position.line)
        if line >= self.line_count:
            return len(self.text)
        start, end = self._line_bounds(line)
        wanted = max(0, position.character)
        if self._simple:
            return min(start + wanted, end)
        seen = 0
        offset = start
        while offset < end:
            width = _units(self.text[offset], self.encoding)
            if seen + width > wanted:  # inside a multi-unit character: stay before it
                break
            seen += width
            offset += 1
        return offset

    def position(self, offset: int) -> types.Position:
        """The LSP position of string offset ``offset`` (clamped into the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if self._simple:
            return types.Position(line=line, character=offset - start)
        column = sum(_units(ch, self.encoding) for ch in self.text[start:offset])
        return types.Position(line=line, character=column)

    def range(self, start: int, end: int) -> types.Range:
        """The LSP range of ``text[start:end]``."""
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
