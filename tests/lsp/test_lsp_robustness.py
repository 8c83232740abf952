"""The server survives anything a client or a document can throw at it."""

from __future__ import annotations

import random

import pytest
from lsp_helpers import Docs, doc_id, pos
from lsprotocol import types
from pqltools_lsp.refusal import REQUEST_FAILED
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

ALPHABET = list('abcXY.()[]{}"\\=<>!,:-^$@ \n\t0123456789é😋') + [
    "select ", "from ", "where ", "and ", "occurs ", "chain(", "WHAT(", "--", "\r\n"]


async def _still_answers(client: LanguageClient, docs: Docs) -> None:
    diags = await docs.open(f"alive-{random.random()}.pql", "a = ")
    assert [d.code for d in diags] == ["PQL001"]


async def test_positions_outside_the_document_are_clamped(client: LanguageClient,
                                                          docs: Docs) -> None:
    await docs.open("emoji.pql", 'a = "😋😋"\n')
    ident = doc_id(docs, "emoji.pql")
    for position in (pos(0, 6), pos(0, 999), pos(50, 3), pos(1, 0)):  # 6: inside a surrogate
        await client.text_document_hover_async(types.HoverParams(text_document=ident,
                                                                 position=position))
        await client.text_document_completion_async(types.CompletionParams(
            text_document=ident, position=position))
        await client.text_document_definition_async(types.DefinitionParams(
            text_document=ident, position=position))
    diags = await docs.change("emoji.pql", [types.TextDocumentContentChangePartial(
        range=types.Range(start=pos(0, 6), end=pos(7, 99)), text="x")])
    assert isinstance(diags, list)
    await _still_answers(client, docs)


async def test_malformed_requests_fail_alone(client: LanguageClient, docs: Docs) -> None:
    await docs.open("malformed.pql", "a = 1")
    bad = pos(0, 0)
    object.__setattr__(bad, "line", -1)  # bypass lsprotocol's validation on the client side
    object.__setattr__(bad, "character", "x")
    with pytest.raises(JsonRpcInvalidParams):
        await client.text_document_hover_async(types.HoverParams(
            text_document=doc_id(docs, "malformed.pql"), position=bad))
    await _still_answers(client, docs)


async def test_random_edits_never_stop_the_server(client: LanguageClient, docs: Docs) -> None:
    rng = random.Random(20261123)
    text = 'select X from xEvent where X.a = "😋"\n  and b.startsWith("x")\n'
    await docs.open("fuzz.pql", text)
    ident = doc_id(docs, "fuzz.pql")
    logged = len(client.log_messages)
    for _ in range(40):
        changes = []
        for _ in range(rng.randint(1, 4)):
            start = pos(rng.randint(0, 4), rng.randint(0, 60))
            end = pos(start.line + rng.randint(0, 2), rng.randint(0, 60))
            piece = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))
            changes.append(types.TextDocumentContentChangePartial(
                range=types.Range(start=start, end=end), text=piece))
        docs.versions[ident.uri] += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=ident.uri, version=docs.versions[ident.uri]),
            content_changes=changes))
        where = pos(rng.randint(0, 3), rng.randint(0, 40))
        for request in (
            client.text_document_hover_async(types.HoverParams(text_document=ident,
                                                               position=where)),
            client.text_document_completion_async(types.CompletionParams(
                text_document=ident, position=where)),
            client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(
                text_document=ident)),
            client.text_document_formatting_async(types.DocumentFormattingParams(
                text_document=ident, options=types.FormattingOptions(
                    tab_size=2, insert_spaces=True))),
            client.text_document_document_symbol_async(types.DocumentSymbolParams(
                text_document=ident)),
        ):
            try:
                await request
            except JsonRpcException as exc:  # formatting broken text is refused, and says so
                assert exc.code == REQUEST_FAILED and "cannot format" in exc.message
    diags = await docs.replace("fuzz.pql", "a = 1")
    assert diags == []
    errors = [m.message for m in client.log_messages[logged:]
              if m.type == types.MessageType.Error]
    assert errors == []


async def test_huge_and_binary_looking_documents(client: LanguageClient, docs: Docs) -> None:
    huge = " or ".join(f'a{i} = "{i}"' for i in range(5_000))  # one 70 kB line
    assert await docs.open("huge.pql", huge) == []
    garbage = "".join(chr(c) for c in range(0x2FF)) + "\ud800"
    diags = await docs.open("garbage.pql", garbage)
    assert diags and all(d.code.startswith("PQL0") for d in diags)
    deep = "not " * 5000 + "a"
    diags = await docs.open("deep.pql", deep)
    assert [d.code for d in diags] == ["PQL006"]
    await _still_answers(client, docs)
