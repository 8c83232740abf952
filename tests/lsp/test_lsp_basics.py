"""Diagnostics, hover and completion over a real stdio connection."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import Docs, doc_id, pos

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_syntax_error_is_published_on_open(docs: Docs) -> None:
    diags = await docs.open("broken.pql", 'homeAddress.countryCode = \n  and x = 1\n')
    assert [(d.code, d.severity, d.range.start.line) for d in diags] == [
        ("PQL001", types.DiagnosticSeverity.Error, 1)]
    assert diags[0].source == "pqltools"
    assert diags[0].range.start.character == 2


async def test_fixing_the_text_clears_diagnostics(docs: Docs) -> None:
    await docs.open("fixme.pql", "a = ")
    diags = await docs.change("fixme.pql", [types.TextDocumentContentChangePartial(
        range=types.Range(start=pos(0, 4), end=pos(0, 4)), text="1")])
    assert diags == []

