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

    def _expect(self, uri: str, version: int | None) -> asyncio.Task[list[types.Diagnostic]]:
        return asyncio.ensure_future(asyncio.wait_for(published(self.client, uri, version),
                                                      TIMEOUT))


def record_diagnostics(client: LanguageClient) -> None:
    """Keep every ``publishDiagnostics`` by (uri, version).

    pygls' ``wait_for_notification`` holds one future per method, so a burst of notifications
    (a configuration change republishes every open document) can slip past a waiter; recording
    them all in the client's handler cannot miss one.
    """
    store: dict[tuple[str, int | None], list[types.Diagnostic]] = {}
    events: dict[tuple[str, int | None], asyncio.Event] = {}
    features = client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> Any:
        key = (params.uri, params.version)
        store[key] = list(params.diagnostics)
        events.setdefault(key, asyncio.Event()).set()
        return original(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    client.published = (store, events)  # type: ignore[attr-defined]


async def published(client: LanguageClient, uri: str,
                    version: int | None) -> list[types.Diagnostic]:
    """The diagnostics published for ``uri`` at ``version`` (waiting for them if needed)."""
    store, events = client.published  # type: ignore[attr-defined]
    key = (uri, version)
    event = events.setdefault(key, asyncio.Event())
    await event.wait()
    diagnostics: list[types.Diagnostic] = store[key]
    return diagnostics


def pos(line: int, character: int) -> types.Position:
    """Shorthand for an LSP position."""
    return types.Position(line=line, character=character)


def doc_id(docs: Docs, name: str) -> types.TextDocumentIdentifier:
    """The identifier of an open document."""
    return types.TextDocumentIdentifier(uri=docs.uri(name))
