"""Editor features: signature help, highlights, folding, code lens, fixAll, workspace."""

from __future__ import annotations

import asyncio
import json

import pytest
from lsp_helpers import Docs, doc_id, pos, published
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_signature_help_follows_the_argument_being_typed(client: LanguageClient,
                                                               docs: Docs) -> None:
    await docs.open("sig.pql", 'person.name.startsWith("Jo", ')
    help_ = await client.text_document_signature_help_async(types.SignatureHelpParams(
        text_document=doc_id(docs, "sig.pql"), position=pos(0, 29)))
    assert help_ is not None
    (signature,) = help_.signatures
    assert signature.label.startswith("string.startsWith(text: string")
    assert help_.active_parameter == 1
    assert [p.label for p in signature.parameters or []] == [
        "text: string", "[caseSensitive: boolean]"]
    inside_string = await client.text_document_signature_help_async(types.SignatureHelpParams(
        text_document=doc_id(docs, "sig.pql"), position=pos(0, 25)))
    assert inside_string is None


async def test_highlights_mark_a_variable_and_its_uses(client: LanguageClient,
                                                       docs: Docs) -> None:
    await docs.open("hl.pql", "select X from xEvent where X.a = 1 and X.b = 2")
    marks = await client.text_document_document_highlight_async(
        types.DocumentHighlightParams(text_document=doc_id(docs, "hl.pql"),
                                      position=pos(0, 28)))
    assert marks is not None
    assert [(m.range.start.character, m.kind) for m in marks] == [
        (7, types.DocumentHighlightKind.Write), (27, types.DocumentHighlightKind.Read),
        (39, types.DocumentHighlightKind.Read)]


async def test_folding_ranges(client: LanguageClient, docs: Docs) -> None:
    text = "-- one\n-- two\na = 1 and (\n  b = 2\n  or c = 3\n)\n"
    await docs.open("fold.pql", text)
    ranges = await client.text_document_folding_range_async(types.FoldingRangeParams(
        text_document=doc_id(docs, "fold.pql")))
    assert ranges is not None
    assert [(r.start_line, r.end_line, r.kind) for r in ranges] == [
        (0, 1, types.FoldingRangeKind.Comment), (2, 4, None)]
    defs = json.dumps([{"name": "a", "expression": {"type": "PQL", "value": "a = 1"}}],
                      indent=2)
    await docs.open("fold.json", defs)
    ranges = await client.text_document_folding_range_async(types.FoldingRangeParams(
        text_document=doc_id(docs, "fold.json")))
    assert ranges is not None
    # the object from its `{` to the line before its `}` (which stays visible)
    assert [(r.start_line, r.end_line) for r in ranges] == [(1, 6)]


async def test_code_lens_shows_each_definitions_verdict(client: LanguageClient,
                                                        docs: Docs) -> None:
    defs = [{"name": "streamed", "expression": {"type": "PQL", "format": "pql/text",
                                                "value": 'homeAddress.countryCode = "US"'},
             "evaluationInfo": {"continuous": {"enabled": True}}},
            {"name": "batch", "expression": {"type": "PQL", "format": "pql/text",
                                             "value": "xEvent.count() > 3"}}]
    text = json.dumps(defs, indent=2)
    await docs.open("lens.json", text)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=doc_id(docs, "lens.json")))
    assert lenses is not None and len(lenses) == 2
    titles = [lens.command.title for lens in lenses if lens.command]
    assert titles[0].startswith("evaluation: streaming")
    assert titles[1].startswith("evaluation: batch")
    openings = [i for i, line in enumerate(text.splitlines()) if line == "  {"]
    assert [lens.range.start.line for lens in lenses] == openings


async def test_fix_all_applies_every_safe_fix(client: LanguageClient, docs: Docs) -> None:
    text = "(a = 1 or a = 2 or a = 3) and\n  (b = 1 or b = 2 or b = 3)\n"
    await docs.open("fixall.pql", text)
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc_id(docs, "fixall.pql"),
        range=types.Range(start=pos(0, 0), end=pos(0, 0)),
        context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"])))
    assert result is not None
    (action,) = result
    assert isinstance(action, types.CodeAction) and action.kind == "source.fixAll.pql"
    assert action.edit is not None and action.edit.changes is not None
    edits = action.edit.changes[docs.uri("fixall.pql")]
    assert sorted(e.new_text for e in edits) == ["a in [1, 2, 3]", "b in [1, 2, 3]"]
    caps = client.server_capabilities_seen  # type: ignore[attr-defined]
    assert "source.fixAll.pql" in caps.code_action_provider.code_action_kinds


async def test_go_to_the_definition_behind_in_segment(client: LanguageClient,
                                                      docs: Docs) -> None:
    await docs.open("uses.pql", 'inSegment("aud-2") and a = 1')
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc_id(docs, "uses.pql"), position=pos(0, 13)))
    assert isinstance(found, types.Location)
    assert found.uri == docs.uri("library/audiences.json")
    text = (docs.root / "library" / "audiences.json").read_text()
    assert found.range.start.line == next(i for i, line in enumerate(text.splitlines())
                                          if '"aud-2"' in line) - 1
    missing = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc_id(docs, "uses.pql"), position=pos(0, 0)))
    assert missing is None


async def test_workspace_files_get_diagnostics_without_being_opened(
        client: LanguageClient, docs: Docs) -> None:
    diags = await asyncio.wait_for(published(client, docs.uri("library/broken.pql"), None), 10)
    assert [d.code for d in diags] == ["PQL001"]
    clean = await asyncio.wait_for(published(client, docs.uri("library/audiences.json"),
                                             None), 10)
    assert clean == []
