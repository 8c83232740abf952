"""Unit tests of the pieces the server maps positions with (no subprocess)."""

from __future__ import annotations

import json

from lsprotocol import types
from pqltools_lsp.documents import Snapshot
from pqltools_lsp.positions import LineIndex

from pqltools.definitions import load_definitions


def test_utf16_positions_count_astral_characters_twice() -> None:
    text = 'a = "😋"\nb = 1'
    index = LineIndex(text)
    closing_quote = text.index('"', 5)
    assert index.position(closing_quote) == types.Position(line=0, character=7)
    assert index.offset(types.Position(line=0, character=7)) == closing_quote
    # the middle of the surrogate pair clamps to before the emoji
    assert index.offset(types.Position(line=0, character=6)) == closing_quote - 1
    assert LineIndex(text, "utf-8").position(closing_quote) == types.Position(line=0,
                                                                              character=9)


def test_out_of_range_positions_are_clamped() -> None:
    index = LineIndex("ab\r\ncd")
    assert index.offset(types.Position(line=0, character=99)) == 2  # before the \r
    assert index.offset(types.Position(line=7, character=0)) == 6
    assert index.position(-5) == types.Position(line=0, character=0)
    assert index.position(99) == types.Position(line=1, character=2)


def test_expression_offset_inverts_file_offset_through_escapes() -> None:
    expression = 'name = "say \\"hi\\"" and x = "é"'
    text = json.dumps({"name": "n", "expression": {"type": "PQL", "format": "pql/text",
                                                   "value": expression}})
    (definition,) = load_definitions("d.json", text=text)
    assert definition.expression == expression
    for offset in range(len(expression) + 1):
        assert definition.expression_offset(definition.file_offset(offset)) == offset
    value_start = text.index('"name = ')
    assert definition.expression_offset(value_start) is None  # the opening quote
    assert definition.expression_offset(0) is None


def test_snapshot_maps_json_regions_and_ignores_other_json() -> None:
    text = json.dumps([{"name": "a", "expression": {"type": "PQL", "format": "pql/text",
                                                     "value": "x = 1"}}])
    snap = Snapshot.build("file:///w/defs.json", text)
    (region,) = snap.regions
    start = text.index("x = 1")
    assert snap.region_at(start + 2) == (region, 2)
    assert region.extent == (start, start + 5)
    assert Snapshot.build("file:///w/package.json", '{"name": "x"}').regions == []
