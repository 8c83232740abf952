"""The server's copy of a document equals the editor's after any sequence of edits.

The editor is modelled by offsets into a Python string: an edit replaces ``text[start:end]``.
Positions are what an LSP client sends for those offsets (lines end only at ``\\n``, ``\\r\\n``
and ``\\r``; characters in UTF-16 code units unless another encoding was agreed).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pqltools_lsp.documents import apply_changes
from pqltools_lsp.positions import LineIndex

#: Characters Python's str.splitlines() treats as line ends but LSP does not, and others.
PIECES = ["a", "b", " ", "\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c",
          "\x1d", "\x1e", "é", "😋", '"', "--"]
_BREAK = re.compile(r"\r\n|\r|\n")


def _client_position(text: str, offset: int, encoding: str) -> types.Position:
    """How an editor names ``offset`` (written independently of the server's LineIndex)."""
    line_start = 0
    line = 0
    for m in _BREAK.finditer(text, 0, offset):
        if m.end() <= offset:
            line += 1
            line_start = m.end()
    before = text[line_start:offset]
    if encoding == "utf-16":
        units = len(before.encode("utf-16-le")) // 2
    elif encoding == "utf-8":
        units = len(before.encode("utf-8"))
    else:
        units = len(before)
    return types.Position(line=line, character=units)


def _valid_offset(text: str, offset: int) -> int:
    """Editors never put a position between the \\r and \\n of one line break."""
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset - 1
    return offset


texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@st.composite
def edit_sequences(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    text = draw(texts)
    edits = []
    current = text
    for _ in range(draw(st.integers(1, 6))):
        a = _valid_offset(current, draw(st.integers(0, len(current))))
        b = _valid_offset(current, draw(st.integers(0, len(current))))
        start, end = min(a, b), max(a, b)
        new = draw(texts)
        edits.append((start, end, new))
        current = current[:start] + new + current[end:]
    return text, edits


@settings(max_examples=300, deadline=None)
@given(edit_sequences(), st.sampled_from(["utf-16", "utf-8", "utf-32"]))
def test_server_text_equals_editor_text(case: tuple[str, list[tuple[int, int, str]]],
                                        encoding: str) -> None:
    editor, edits = case
    server = editor
    for start, end, new in edits:
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=_client_position(editor, start, encoding),
                              end=_client_position(editor, end, encoding)),
            text=new)
        editor = editor[:start] + new + editor[end:]
        server = apply_changes(server, [change], encoding)
        assert server == editor


@given(texts, st.sampled_from(["utf-16", "utf-8", "utf-32"]))
def test_positions_round_trip_on_lsp_lines(text: str, encoding: str) -> None:
    index = LineIndex(text, encoding)
    for offset in range(len(text) + 1):
        if _valid_offset(text, offset) != offset:
            continue
        position = _client_position(text, offset, encoding)
        assert index.position(offset) == position
        assert index.offset(position) == offset


def test_several_changes_in_one_notification_apply_in_order() -> None:
    changes = [
        types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=0),
                              end=types.Position(line=0, character=1)), text="x\ry"),
        types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=1, character=1),
                              end=types.Position(line=1, character=1)), text="!"),
        types.TextDocumentContentChangeWholeDocument(text="whole"),
        types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=5),
                              end=types.Position(line=0, character=5)), text="\u2028."),
    ]
    assert apply_changes("a = 1", changes[:2], "utf-16") == "x\ry! = 1"
    assert apply_changes("a = 1", changes, "utf-16") == "whole\u2028."
