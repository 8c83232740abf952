"""Regression tests for the defects of issue 14 (each failed before its fix), end to end."""

from __future__ import annotations

import asyncio
import json

import pytest
from lsp_helpers import Docs, doc_id, pos, published
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

REQUEST_FAILED = -32803


def _definition(value: str, name: str = "d") -> dict[str, object]:
    return {"name": name, "expression": {"type": "PQL", "format": "pql/text", "value": value}}


async def test_every_version_gets_its_diagnostics_under_interleaved_requests(
        client: LanguageClient, docs: Docs) -> None:
    """VS Code asks for tokens and symbols right after each edit; no edit's result is lost."""
    name = "interleaved.json"
    defs = [_definition(f"a{i} = {i}", f"d{i}") for i in range(30)]
    text = json.dumps(defs, indent=2)
    await docs.open(name, text)
    ident = doc_id(docs, name)
    uri = ident.uri
    line = next(i for i, t in enumerate(text.split("\n")) if '"a7 = 7"' in t)
    column = text.split("\n")[line].index("a7 = 7") + 6
    for step in range(24):
        # alternate between a broken and a valid expression: stale results would be visible
        new = " and" if step % 2 == 0 else ""
        old_len = 0 if step % 2 == 0 else 4
        docs.versions[uri] += 1
        version = docs.versions[uri]
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=pos(line, column), end=pos(line, column + old_len)),
                text=new)]))
        await asyncio.gather(
            client.text_document_semantic_tokens_full_async(
                types.SemanticTokensParams(text_document=ident)),
            client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=ident)),
            client.text_document_hover_async(types.HoverParams(text_document=ident,
                                                               position=pos(line, column))),
            client.text_document_completion_async(types.CompletionParams(
                text_document=ident, position=pos(line, column))))
        # the latest version must always be published (an older one may be skipped when a
        # newer change arrives first, but here each version is the latest when we wait)
        diags = await asyncio.wait_for(published(client, uri, version), 10)
        assert [d.code for d in diags] == (["PQL001"] if step % 2 == 0 else []), version


async def test_unicode_line_separators_do_not_split_lines(client: LanguageClient,
                                                          docs: Docs) -> None:
    """Only \\n, \\r\\n and \\r end a line in LSP: U+2028, U+0085 and \\f do not."""
    name = "separators.pql"
    text = 'a = "x\u2028y\x85z\x0cw" and\nb = 1'
    assert await docs.open(name, text) == []
    # replace the `1` on line 1 by `2`: with wrong line splitting this edit lands elsewhere
    diags = await docs.change(name, [types.TextDocumentContentChangePartial(
        range=types.Range(start=pos(1, 4), end=pos(1, 5)), text="2")])
    assert diags == []
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc_id(docs, name),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    # (the formatter writes those characters as escapes)
    assert edits and edits[0].new_text == 'a = "x\\u2028y\\u0085z\\fw" and b = 2'


async def test_a_lone_carriage_return_ends_a_line(docs: Docs) -> None:
    diags = await docs.open("cr.pql", "a = 1\r  and = 2")
    (diag,) = diags
    assert diag.range.start == pos(1, 6)


async def test_keywords_before_a_parenthesis_are_keywords(client: LanguageClient,
                                                          docs: Docs) -> None:
    await docs.open("kw.pql", 'a and (b or c) and x in ("u")')
    result = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc_id(docs, "kw.pql")))
    assert result is not None
    legend = caps_legend(client.server_capabilities_seen)  # type: ignore[attr-defined]
    kinds = _decode(result.data, legend)
    assert kinds[(0, 2, 3)] == "keyword"  # and
    assert kinds[(0, 21, 2)] == "keyword"  # in


def _decode(data: list[int], legend: list[str]) -> dict[tuple[int, int, int], str]:
    out = {}
    line = char = 0
    for i in range(0, len(data), 5):
        d_line, d_char, length, kind, _mods = data[i:i + 5]
        line += d_line
        char = char + d_char if d_line == 0 else d_char
        out[(line, char, length)] = legend[kind]
    return out


async def test_pql_json_definitions_get_no_zero_length_tokens(client: LanguageClient,
                                                              docs: Docs) -> None:
    value = {"nodeType": "fnApply", "fnName": "=", "params": [
        {"nodeType": "fieldLookup", "fieldName": "a",
         "object": {"nodeType": "parameterReference", "position": 1}},
        {"nodeType": "literal", "literalType": "Integer", "value": 1}]}
    text = json.dumps([{"name": "j", "expression": {"type": "PQL", "format": "pql/json",
                                                     "value": value}}], indent=2)
    await docs.open("pqljson.json", text)
    result = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc_id(docs, "pqljson.json")))
    assert result is not None
    # the PQL text of a pql/json definition is not in the document: nothing to colour
    assert list(result.data) == []


async def test_semantic_tokens_range_and_delta(client: LanguageClient, docs: Docs) -> None:
    text = "a = 1\n  and b = 2\n  and c = 3\n"
    await docs.open("delta.pql", text)
    ident = doc_id(docs, "delta.pql")
    caps = client.server_capabilities_seen  # type: ignore[attr-defined]
    provider = caps.semantic_tokens_provider
    assert provider.range is True and provider.full == types.SemanticTokensFullDelta(delta=True)
    ranged = await client.text_document_semantic_tokens_range_async(
        types.SemanticTokensRangeParams(text_document=ident,
                                        range=types.Range(start=pos(1, 0), end=pos(2, 0))))
    assert ranged is not None
    assert _decode(ranged.data, caps_legend(caps)).keys() == {
        (1, 2, 3), (1, 6, 1), (1, 8, 1), (1, 10, 1)}
    full = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=ident))
    assert full is not None and full.result_id
    await docs.change("delta.pql", [types.TextDocumentContentChangePartial(
        range=types.Range(start=pos(2, 8), end=pos(2, 9)), text="30")])
    delta = await client.text_document_semantic_tokens_full_delta_async(
        types.SemanticTokensDeltaParams(text_document=ident,
                                        previous_result_id=full.result_id))
    assert isinstance(delta, types.SemanticTokensDelta)
    data = list(full.data)
    for edit in sorted(delta.edits, key=lambda e: e.start, reverse=True):
        data[edit.start:edit.start + edit.delete_count] = edit.data or []
    fresh = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=ident))
    assert fresh is not None and data == list(fresh.data)
    assert sum(e.delete_count for e in delta.edits) <= 5  # only the changed number


def caps_legend(caps: types.ServerCapabilities) -> list[str]:
    """The token types of the server's legend."""
    provider = caps.semantic_tokens_provider
    assert isinstance(provider, types.SemanticTokensOptions | types.SemanticTokensRegistrationOptions)
    return list(provider.legend.token_types)


async def _labels(client: LanguageClient, docs: Docs, name: str, text: str,
                  at: types.Position) -> list[str]:
    await docs.open(name, text)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc_id(docs, name), position=at))
    items = result.items if isinstance(result, types.CompletionList) else result or []
    return [item.label for item in items]


async def test_completion_is_quiet_inside_strings_and_comments(client: LanguageClient,
                                                               docs: Docs) -> None:
    assert await _labels(client, docs, "instr.pql", 'a = "hel', pos(0, 8)) == []
    assert await _labels(client, docs, "incomment.pql", "a = 1 -- note ", pos(0, 14)) == []
    caps = client.server_capabilities_seen  # type: ignore[attr-defined]
    assert " " not in (caps.completion_provider.trigger_characters or [])


async def test_completion_after_an_operand_offers_operators(client: LanguageClient,
                                                            docs: Docs) -> None:
    labels = await _labels(client, docs, "operand.pql", "a = 1 ", pos(0, 6))
    assert "and" in labels and "or" in labels
    assert "if" not in labels and "select" not in labels
    labels = await _labels(client, docs, "operand2.pql", "person.name ", pos(0, 12))
    assert "=" in labels and "in" in labels and "and" not in labels


async def test_function_completion_is_a_snippet_inside_the_parentheses(
        client: LanguageClient, docs: Docs) -> None:
    await docs.open("snippet.pql", "a.st")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc_id(docs, "snippet.pql"), position=pos(0, 4)))
    assert isinstance(result, types.CompletionList)
    item = next(i for i in result.items if i.label == "startsWith")
    assert item.insert_text_format == types.InsertTextFormat.Snippet
    assert item.insert_text == "startsWith($1)$0"


async def _error_of(request: object) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as caught:
        await request  # type: ignore[misc]
    return caught.value


async def test_refused_rename_is_a_request_failed_error_with_a_message(
        client: LanguageClient, docs: Docs) -> None:
    await docs.open("refuse.pql", "select X from xEvent where X.a = 1")
    error = await _error_of(client.text_document_rename_async(types.RenameParams(
        text_document=doc_id(docs, "refuse.pql"), position=pos(0, 7), new_name="and")))
    assert error.code == REQUEST_FAILED
    assert "would change what the expression means" in error.message
    assert "Traceback" not in error.message


@pytest.mark.parametrize(("text", "why"), [
    ("a = 1 -- keep me\n  and b = 2", "comment"),
    ("a = ", "syntax error"),
])
async def test_refused_formatting_says_why(client: LanguageClient, docs: Docs, text: str,
                                           why: str) -> None:
    name = f"noformat-{why.replace(' ', '-')}.pql"
    await docs.open(name, text)
    error = await _error_of(client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=doc_id(docs, name),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True))))
    assert error.code == REQUEST_FAILED
    assert why in error.message and "Traceback" not in error.message


@pytest.mark.parametrize("content", [
    {"rules": [{"name": "r", "expression": "a > 1 && b"}]},
    {"expression": {"op": "+", "args": [1, 2]}},
    [{"expression": "x * 2"}],
])
async def test_json_that_is_not_a_segment_definition_is_left_alone(
        docs: Docs, content: object) -> None:
    name = f"other-{abs(hash(json.dumps(content)))}.json"
    assert await docs.open(name, json.dumps(content, indent=2)) == []
    # and a definition file is still judged
    assert await docs.open("real-" + name, json.dumps([_definition("a = ")])) != []


async def test_a_request_for_an_unopened_file_answers_without_error(
        client: LanguageClient, docs: Docs) -> None:
    logged = len(client.log_messages)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=docs.uri("never-opened-2.pql")),
        position=pos(0, 0)))
    assert hover is None
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=docs.uri("never-opened-3.json"))))
    assert symbols in (None, [])
    assert client.log_messages[logged:] == []
