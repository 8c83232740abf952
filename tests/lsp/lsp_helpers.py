"""Helpers shared by the language-server tests (documents, positions)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

TIMEOUT = 20.0


class Docs:
    """Open/change documents and wait for their diagnostics."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    async def open(self, name: str, text: str, language_id: str | None = None
                   ) -> list[types.Diagnostic]:
        uri = self.uri(name)
        lang = language_id or ("json" if name.endswith(".json") else "pql")
        self.versions[uri] = 1
        waiter = self._expect(uri, 1)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=lang, version=1,
                                                 text=text)))
        return await waiter

    async def change(self, name: str, changes: list[Any]) -> list[types.Diagnostic]:
        uri = self.uri(name)
        version = self.versions[uri] = self.versions[uri] + 1
        waiter = self._expect(uri, version)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=changes))
        return await waiter

    async def replace(self, name: str, text: str) -> list[types.Diagnostic]:
        return await self.change(name, [types.TextDocumentContentChangeWholeDocument(text=text)])

    def close(self, name: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri(name))))

    def _expect(self, uri: str, version: int) -> asyncio.Task[list[types.Diagnostic]]:
        async def wait() -> list[types.Diagnostic]:
            while True:
                params = await self.client.wait_for_notification(
                    types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
                if params.uri == uri and params.version == version:
                    return list(params.diagnostics)

        return asyncio.ensure_future(asyncio.wait_for(wait(), TIMEOUT))


def pos(line: int, character: int) -> types.Position:
    """Shorthand for an LSP position."""
    return types.Position(line=line, character=character)


def doc_id(docs: Docs, name: str) -> types.TextDocumentIdentifier:
    """The identifier of an open document."""
    return types.TextDocumentIdentifier(uri=docs.uri(name))
