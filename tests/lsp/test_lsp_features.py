"""Hover, completion, formatting, code actions, tokens, symbols and navigation, end to end."""

from __future__ import annotations

import json

import pytest
from lsp_helpers import Docs, doc_id, pos
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

SELECT = 'select X from xEvent where X.eventType = "a"\n  and homeAddress.countryCode = "US"\n'


def _definition(value: str, **extra: object) -> dict[str, object]:
    return {"name": "buyers", **extra,
            "expression": {"type": "PQL", "format": "pql/text", "value": value},
            "evaluationInfo": {"continuous": {"enabled": True}}}


async def _hover(client: LanguageClient, docs: Docs, name: str, line: int,
                 character: int) -> types.Hover | None:
    return await client.text_document_hover_async(types.HoverParams(
        text_document=doc_id(docs, name), position=pos(line, character)))


async def test_hover_shows_the_catalog_signature_even_in_broken_text(
        client: LanguageClient, docs: Docs) -> None:
    await docs.open("hover.pql", 'person.name.startsWith("Jo") and and')
    hover = await _hover(client, docs, "hover.pql", 0, 15)
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith(
        "```pql\nstring.startsWith(text: string, [caseSensitive: boolean]) -> boolean\n```")
    assert hover.range == types.Range(start=pos(0, 12), end=pos(0, 22))


async def test_hover_on_a_field_shows_its_schema_type(client: LanguageClient,
                                                      docs: Docs) -> None:
    await docs.open("typed/fields.pql", SELECT)
    hover = await _hover(client, docs, "typed/fields.pql", 1, 20)
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("```pql\nhomeAddress.countryCode: string\n```")


async def test_hover_on_a_variable(client: LanguageClient, docs: Docs) -> None:
    await docs.open("var.pql", SELECT)
    hover = await _hover(client, docs, "var.pql", 0, 27)
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "select variable (1 reference)" in hover.contents.value


async def test_hover_on_a_definition_gives_the_eligibility_verdict(
        client: LanguageClient, docs: Docs) -> None:
    text = json.dumps([_definition('homeAddress.countryCode = "US"')], indent=2)
    await docs.open("elig.json", text)
    line = next(i for i, t in enumerate(text.splitlines()) if "countryCode" in t)
    column = text.splitlines()[line].index("= ")
    hover = await _hover(client, docs, "elig.json", line, column)
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("**Evaluation method: streaming**")
    assert "`evaluationInfo` requests: streaming" in hover.contents.value


async def _labels(client: LanguageClient, docs: Docs, name: str, text: str) -> list[str]:
    await docs.open(name, text)
    lines = text.split("\n")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc_id(docs, name), position=pos(len(lines) - 1, len(lines[-1]))))
    assert isinstance(result, types.CompletionList)
    return [item.label for item in result.items]


async def test_completion_after_a_dot_lists_schema_fields_then_methods(
        client: LanguageClient, docs: Docs) -> None:
    labels = await _labels(client, docs, "typed/c1.pql", "homeAddress.")
    assert labels[:2] == ["city", "countryCode"]
    assert {"startsWith", "count", "isNull"} <= set(labels)


async def test_completion_offers_time_units_after_a_number(client: LanguageClient,
                                                           docs: Docs) -> None:
    labels = await _labels(client, docs, "c2.pql", "xEvent.timestamp occurs < 8 ")
    assert labels == ["milliseconds", "seconds", "minutes", "hours", "days", "weeks", "months",
                      "years", "decades", "centuries", "millennia"]


async def test_completion_offers_chain_step_clauses(client: LanguageClient, docs: Docs) -> None:
    labels = await _labels(client, docs, "c3.pql",
                           'chain(xEvent, timestamp, [A: WHAT(eventType = "x") ')
    assert labels == ["WHAT", "WHEN", "COUNT", "WHERE"]


async def test_completion_at_the_start_offers_functions_keywords_and_fields(
        client: LanguageClient, docs: Docs) -> None:
    await docs.open("typed/c4.pql", "")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc_id(docs, "typed/c4.pql"), position=pos(0, 0)))
    assert isinstance(result, types.CompletionList)
    by_label = {item.label: item for item in result.items}
    assert by_label["inSegment"].detail == "inSegment(audienceId: string) -> boolean"
    assert by_label["select"].kind == types.CompletionItemKind.Keyword
    assert by_label["homeAddress"].kind == types.CompletionItemKind.Field


async def test_document_formatting(client: LanguageClient, docs: Docs) -> None:
    await docs.open("fmt.pql", "-- buyers\na=1 and   b  =2\n")
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc_id(docs, "fmt.pql"),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is not None
    assert [(e.range, e.new_text) for e in edits] == [
        (types.Range(start=pos(0, 0), end=pos(2, 0)), "-- buyers\na = 1 and b = 2\n")]


async def test_formatting_a_json_definition_keeps_it_one_escaped_line(
        client: LanguageClient, docs: Docs) -> None:
    text = json.dumps(_definition('name="a \\"b\\""  and  x>1'))
    await docs.open("fmt.json", text)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc_id(docs, "fmt.json"),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is not None and len(edits) == 1
    start = text.index('name=')
    assert edits[0].range == types.Range(start=pos(0, start), end=pos(0, start + 30))
    assert edits[0].new_text == 'name = \\"a \\\\\\"b\\\\\\"\\" and x > 1'


async def test_range_formatting_formats_a_complete_sub_expression(
        client: LanguageClient, docs: Docs) -> None:
    await docs.open("range.pql", "a=1 and   b  =2\n")
    edits = await client.text_document_range_formatting_async(
        types.DocumentRangeFormattingParams(
            text_document=doc_id(docs, "range.pql"),
            range=types.Range(start=pos(0, 8), end=pos(0, 15)),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is not None
    assert [(e.range, e.new_text) for e in edits] == [
        (types.Range(start=pos(0, 10), end=pos(0, 15)), "b = 2")]


async def _actions(client: LanguageClient, docs: Docs, name: str,
                   line: int) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc_id(docs, name),
        range=types.Range(start=pos(line, 0), end=pos(line, 200)),
        context=types.CodeActionContext(diagnostics=[])))
    assert result is not None
    return [a for a in result if isinstance(a, types.CodeAction)]


async def test_code_actions_offer_the_autofix_and_noqa(client: LanguageClient,
                                                       docs: Docs) -> None:
    await docs.open("fix.pql", 'a = 1\n  and x.startwith("a")\n')
    actions = await _actions(client, docs, "fix.pql", 1)
    assert [a.title for a in actions] == ["rename to `startsWith`", "Suppress PQL102 with noqa"]
    fix, noqa = (a.edit.changes[docs.uri("fix.pql")] for a in actions)  # type: ignore[union-attr]
    assert [(e.range, e.new_text) for e in fix] == [
        (types.Range(start=pos(1, 8), end=pos(1, 17)), "startsWith")]
    assert [(e.range, e.new_text) for e in noqa] == [
        (types.Range(start=pos(1, 22), end=pos(1, 22)), "  -- pql: noqa: PQL102")]


async def test_noqa_in_a_json_definition_goes_into_the_definition_object(
        client: LanguageClient, docs: Docs) -> None:
    text = json.dumps(_definition('x.startwith("a")'))
    await docs.open("noqa.json", text)
    actions = await _actions(client, docs, "noqa.json", 0)
    noqa = actions[-1]
    assert noqa.title == "Suppress PQL102 with noqa"
    (edit,) = noqa.edit.changes[docs.uri("noqa.json")]  # type: ignore[union-attr]
    patched = text[:edit.range.start.character] + edit.new_text + \
        text[edit.range.end.character:]
    assert json.loads(patched)["pqltools"] == {"noqa": ["PQL102"]}
    assert await docs.replace("noqa.json", patched) == []


async def test_semantic_tokens(client: LanguageClient, docs: Docs) -> None:
    await docs.open("tokens.pql", 'select X from xEvent where X.count() > 1 -- hi\n')
    result = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc_id(docs, "tokens.pql")))
    assert result is not None
    legend = client.capabilities and None  # the legend comes from the server's capabilities
    assert legend is None
    data = result.data
    decoded = []
    line = char = 0
    for i in range(0, len(data), 5):
        line += data[i]
        char = data[i + 1] if data[i] else char + data[i + 1]
        decoded.append((line, char, data[i + 2], data[i + 3], data[i + 4]))
    from pqltools_lsp.tokens import TOKEN_TYPES

    names = [(c, n, TOKEN_TYPES[t], m) for _, c, n, t, m in decoded]
    assert names == [
        (0, 6, "keyword", 0), (7, 1, "variable", 1), (9, 4, "keyword", 0),
        (14, 6, "variable", 2), (21, 5, "keyword", 0), (27, 1, "variable", 0),
        (29, 5, "method", 2), (37, 1, "operator", 0), (39, 1, "number", 0),
        (41, 5, "comment", 0)]


async def test_document_symbols_list_definitions_and_their_variables(
        client: LanguageClient, docs: Docs) -> None:
    text = json.dumps([_definition('homeAddress.countryCode = "US"'),
                       {**_definition("exists E from xEvent where E.a = 1"), "name": "events"}],
                      indent=2)
    await docs.open("symbols.json", text)
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc_id(docs, "symbols.json")))
    assert result is not None
    symbols = [s for s in result if isinstance(s, types.DocumentSymbol)]
    assert [s.name for s in symbols] == ["buyers", "events"]
    assert symbols[0].detail == "streaming (eligible: batch, edge, streaming)"
    assert symbols[0].range.start == pos(1, 2)
    assert [(c.name, c.detail) for c in symbols[1].children or []] == [("E", "exists")]


async def test_definition_references_and_rename(client: LanguageClient, docs: Docs) -> None:
    text = "select X from xEvent where X.a = 1, Y from xEvent where Y.t > X.t"
    await docs.open("nav.pql", text)
    ident = doc_id(docs, "nav.pql")
    location = await client.text_document_definition_async(types.DefinitionParams(
        text_document=ident, position=pos(0, 63)))
    assert isinstance(location, types.Location)
    assert location.range == types.Range(start=pos(0, 7), end=pos(0, 8))
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=ident, position=pos(0, 7),
        context=types.ReferenceContext(include_declaration=True)))
    assert [r.range.start.character for r in refs or []] == [7, 27, 62]
    edit = await client.text_document_rename_async(types.RenameParams(
        text_document=ident, position=pos(0, 27), new_name="Visit"))
    assert edit is not None and edit.changes is not None
    assert [e.range.start.character for e in edit.changes[ident.uri]] == [7, 27, 62]


async def test_chain_labels_are_navigable(client: LanguageClient, docs: Docs) -> None:
    text = ('chain(xEvent, timestamp, [A: WHAT(eventType = "x"), '
            'B: WHAT(eventType = "y") WHERE(B.p > A.p)])')
    await docs.open("chain.pql", text)
    location = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc_id(docs, "chain.pql"), position=pos(0, text.index("A.p"))))
    assert isinstance(location, types.Location)
    assert location.range.start == pos(0, 26)


async def test_rename_that_would_change_the_meaning_is_refused(
        client: LanguageClient, docs: Docs) -> None:
    await docs.open("clash.pql", "select X from xEvent where X.a = limit")
    ident = doc_id(docs, "clash.pql")
    for bad in ("limit", "and", "2x"):  # captures a field, a keyword, not an identifier
        with pytest.raises(Exception, match="would change what|not a PQL identifier"):
            await client.text_document_rename_async(types.RenameParams(
                text_document=ident, position=pos(0, 7), new_name=bad))


async def test_eligibility_mismatch_is_an_information_diagnostic_in_json(
        client: LanguageClient, docs: Docs) -> None:
    text = json.dumps([_definition('xEvent[eventType = "a"].count() > 3')], indent=2)
    diags = await docs.open("mismatch.json", text)
    (diag,) = diags
    assert (diag.code, diag.severity) == ("PQL301", types.DiagnosticSeverity.Information)
    assert diag.message.startswith("evaluationInfo asks for streaming")
    line = text.splitlines()[diag.range.start.line]
    assert line[diag.range.start.character:].startswith('xEvent[eventType = \\"a\\"]')


async def test_hover_on_the_definition_object_outside_the_expression(
        client: LanguageClient, docs: Docs) -> None:
    text = json.dumps([_definition('xEvent[eventType = "a"].count() > 3')], indent=2)
    await docs.open("outside.json", text)
    line = next(i for i, t in enumerate(text.splitlines()) if '"name"' in t)
    hover = await _hover(client, docs, "outside.json", line, 6)
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("**Evaluation method: batch**")
    assert "not eligible for streaming" in hover.contents.value
    assert "`ELIG-2025-SINGLE-EVENT-NO-WINDOW`" in hover.contents.value
    assert await _hover(client, docs, "outside.json", 0, 0) is None  # the enclosing list


async def test_fields_of_a_variable_come_from_what_it_ranges_over(
        client: LanguageClient, docs: Docs) -> None:
    labels = await _labels(client, docs, "typed/c5.pql", "select X from xEvent where X.")
    assert labels[:2] == ["commerce", "eventType"]
    await docs.open("typed/h5.pql", "select X from xEvent where X.commerce.order.priceTotal > 1")
    hover = await _hover(client, docs, "typed/h5.pql", 0, 45)
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("```pql\nX.commerce.order.priceTotal: number\n```")


async def test_completion_offers_variables_declared_before_the_cursor(
        client: LanguageClient, docs: Docs) -> None:
    await docs.open("vars.pql", "let limit = 5 in select X from xEvent where X.a > limit and ")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc_id(docs, "vars.pql"), position=pos(0, 60)))
    assert isinstance(result, types.CompletionList)
    variables = [(i.label, i.detail) for i in result.items
                 if i.kind == types.CompletionItemKind.Variable]
    assert variables == [("X", "variable (bound by from)"), ("limit", "variable (let)")]
