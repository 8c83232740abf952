"""The PQL language server: pygls wiring, document state, debounced diagnostics, error isolation.

Each LSP feature lives in its own module and is a plain function of a :class:`Snapshot` (and a
few arguments); this module only registers them, runs them off the event loop, and makes sure
an exception in one of them fails that one request (and is logged) while the server lives on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pqltools_lsp import actions, completion, formatting, hover, navigation, symbols, tokens
from pqltools_lsp.diagnostics import analyse, forget_lint_results, to_lsp
from pqltools_lsp.documents import Snapshot, uri_to_path
from pqltools_lsp.settings import CONFIG_FILE_NAMES, ConfigStore, ServerOptions
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from pqltools.version import package_version

__all__ = ["PQLLanguageServer", "create_server"]

log = logging.getLogger("pqltools_lsp")
T = TypeVar("T")


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, answering requests whose parameters cannot be read.

    pygls drops a message it cannot deserialize (a negative line, a string where a number
    belongs) without answering, which leaves the client waiting forever for that request.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                self._send_response(data["id"], None, exc.to_response_error())
            raise


class PQLLanguageServer(LanguageServer):
    """A pygls server that keeps one :class:`Snapshot` per open document."""

    def __init__(self) -> None:
        super().__init__("pqltools", package_version(),
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=_Protocol)
        self.options = ServerOptions()
        self.configs = ConfigStore()
        self._snapshots: dict[str, Snapshot] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}

    # ---- documents --------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client ("utf-16" unless negotiated)."""
        try:
            value = self.workspace.position_encoding
        except RuntimeError:  # no workspace before initialize
            return "utf-16"
        return str(value or "utf-16")

    def snapshot(self, uri: str) -> Snapshot:
        """The current snapshot of ``uri`` (rebuilt only when the text changed)."""
        doc = self.workspace.get_text_document(uri)
        text = doc.source
        cached = self._snapshots.get(uri)
        if cached is not None and cached.text == text and cached.encoding == self.encoding:
            return cached
        snap = Snapshot.build(uri, text, doc.version, language_id=doc.language_id,
                              encoding=self.encoding)
        if uri in self.workspace.text_documents:  # not for requests on unopened files
            self._snapshots[uri] = snap
        return snap

    def forget(self, uri: str) -> None:
        """Drop everything about a closed document and clear its diagnostics."""
        self._snapshots.pop(uri, None)
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # ---- diagnostics ------------------------------------------------------------------

    def schedule(self, uri: str, delay_ms: int | None = None) -> None:
        """Publish diagnostics for ``uri`` after ``delay_ms`` without a newer change."""
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        delay = self.options.debounce_ms if delay_ms is None else delay_ms
        self._pending[uri] = asyncio.ensure_future(self._publish(uri, delay / 1000))

    async def _publish(self, uri: str, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            snap = self.snapshot(uri)
            config = self.configs.for_path(snap.path)
            started = time.perf_counter()
            findings = await asyncio.to_thread(analyse, snap, config)
            if self._snapshots.get(uri) is not snap:
                return  # the document changed meanwhile; that change publishes
            log.debug("%s v%s: %d findings in %.1f ms", uri, snap.version, len(findings),
                      (time.perf_counter() - started) * 1000)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=snap.version,
                diagnostics=[to_lsp(snap, f) for f in findings]))
            # parse for the requests that follow a change (semantic tokens, hover...) now,
            # after the diagnostics are out, rather than when the first of them arrives
            await asyncio.to_thread(lambda: [region.parse for region in snap.regions])
        except asyncio.CancelledError:
            raise
        except KeyError:
            pass  # closed before the delay ran out
        except Exception:  # noqa: BLE001 - one document's failure must not stop the server
            self.log_error(f"computing diagnostics for {uri} failed")
        finally:
            if self._pending.get(uri) is asyncio.current_task():
                del self._pending[uri]

    def republish_all(self) -> None:
        """Re-lint every open document (the configuration changed)."""
        self.configs.invalidate()
        forget_lint_results()
        for uri, snap in list(self._snapshots.items()):
            snap.cache.clear()
            self.schedule(uri, 0)

    # ---- errors -----------------------------------------------------------------------

    def log_error(self, what: str) -> None:
        """Log the exception being handled, locally and to the client's log."""
        log.exception(what)
        try:
            self.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error, message=f"pqltools: {what} (internal error)"))
        except Exception:  # the client connection itself may be the problem
            log.exception("could not report an error to the client")

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log instead of popping up a message: the server recovers from any one failure."""
        log.error("pqltools language server error (%s): %s", getattr(source, "__name__", source),
                  error)


def _guarded(server: PQLLanguageServer, name: str,
             fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run ``fn`` in a worker thread; log any exception and fail only this request."""

    @functools.wraps(fn)
    async def run(*args: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args)
        except Exception:
            server.log_error(f"{name} failed")
            raise

    return run


TOKEN_LEGEND = types.SemanticTokensLegend(token_types=list(tokens.TOKEN_TYPES),
                                          token_modifiers=list(tokens.TOKEN_MODIFIERS))


def create_server() -> PQLLanguageServer:
    """A new server with every feature registered."""
    server = PQLLanguageServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: PQLLanguageServer, params: types.InitializeParams) -> None:
        ls.options = ServerOptions.from_client(params.initialization_options)
        root = params.root_uri or (params.workspace_folders[0].uri
                                   if params.workspace_folders else None)
        ls.configs = ConfigStore(uri_to_path(root) if root else None)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: PQLLanguageServer, params: types.InitializedParams) -> None:
        watch = ls.client_capabilities.workspace
        dynamic = (watch is not None and watch.did_change_watched_files is not None
                   and watch.did_change_watched_files.dynamic_registration)
        if not dynamic:
            return  # modification times are still checked on every lint
        watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}")
                    for name in CONFIG_FILE_NAMES]
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[
                types.Registration(
                    id="pqltools-config-watch",
                    method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(
                        watchers=watchers))]))
        except Exception as exc:  # noqa: BLE001 - not fatal: modification times are checked
            log.warning("client refused configuration file watchers: %s", exc)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PQLLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PQLLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PQLLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PQLLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: PQLLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(Path(uri_to_path(c.uri) or "").name in CONFIG_FILE_NAMES for c in params.changes):
            ls.republish_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def configuration(ls: PQLLanguageServer,
                      params: types.DidChangeConfigurationParams) -> None:
        ls.options = ServerOptions.from_client(params.settings, ls.options)
        ls.republish_all()

    def request(method: str, options: Any = None) -> Callable[[Callable[..., T]], None]:
        """Register ``fn(ls, params)`` for ``method``, run guarded in a worker thread."""

        def register(fn: Callable[..., T]) -> None:
            guarded = _guarded(server, method, fn)

            async def handler(ls: PQLLanguageServer, params: Any) -> T:
                return await guarded(ls, params)

            server.feature(method, options)(handler)

        return register

    @request(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: PQLLanguageServer, params: types.HoverParams) -> types.Hover | None:
        snap = ls.snapshot(params.text_document.uri)
        return hover.hover(snap, params.position, ls.configs.for_path(snap.path).config,
                           ls.options)

    @request(types.TEXT_DOCUMENT_COMPLETION,
             types.CompletionOptions(trigger_characters=[".", "(", " "]))
    def on_completion(ls: PQLLanguageServer,
                      params: types.CompletionParams) -> types.CompletionList | None:
        snap = ls.snapshot(params.text_document.uri)
        return completion.complete(snap, params.position,
                                   ls.configs.for_path(snap.path).config)

    @request(types.TEXT_DOCUMENT_FORMATTING)
    def on_format(ls: PQLLanguageServer,
                  params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        return formatting.format_document(ls.snapshot(params.text_document.uri))

    @request(types.TEXT_DOCUMENT_RANGE_FORMATTING)
    def on_format_range(ls: PQLLanguageServer,
                        params: types.DocumentRangeFormattingParams) -> list[types.TextEdit] | None:
        return formatting.format_range(ls.snapshot(params.text_document.uri), params.range)

    @request(types.TEXT_DOCUMENT_CODE_ACTION,
             types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def on_code_action(ls: PQLLanguageServer,
                       params: types.CodeActionParams) -> list[types.CodeAction]:
        snap = ls.snapshot(params.text_document.uri)
        findings = analyse(snap, ls.configs.for_path(snap.path))
        return actions.code_actions(snap, findings, params.range)

    @request(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
             types.SemanticTokensRegistrationOptions(legend=TOKEN_LEGEND, full=True,
                                                     range=False))
    def on_tokens(ls: PQLLanguageServer,
                  params: types.SemanticTokensParams) -> types.SemanticTokens:
        return types.SemanticTokens(data=tokens.encode(ls.snapshot(params.text_document.uri)))

    @request(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def on_symbols(ls: PQLLanguageServer,
                   params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        snap = ls.snapshot(params.text_document.uri)
        return symbols.document_symbols(snap, ls.configs.for_path(snap.path).config,
                                        ls.options)

    @request(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: PQLLanguageServer,
                      params: types.DefinitionParams) -> types.Location | None:
        return navigation.definition(ls.snapshot(params.text_document.uri), params.position)

    @request(types.TEXT_DOCUMENT_REFERENCES)
    def on_references(ls: PQLLanguageServer,
                      params: types.ReferenceParams) -> list[types.Location] | None:
        return navigation.references(ls.snapshot(params.text_document.uri), params.position,
                                     params.context.include_declaration)

    @request(types.TEXT_DOCUMENT_PREPARE_RENAME)
    def on_prepare_rename(ls: PQLLanguageServer,
                          params: types.PrepareRenameParams) -> types.Range | None:
        return navigation.prepare_rename(ls.snapshot(params.text_document.uri), params.position)

    @request(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    def on_rename(ls: PQLLanguageServer,
                  params: types.RenameParams) -> types.WorkspaceEdit | None:
        return navigation.rename(ls.snapshot(params.text_document.uri), params.position,
                                 params.new_name)

    return server


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run a server on stdio (or on a TCP address, for debugging) until the client exits."""
    server = create_server()
    if tcp is None:
        server.start_io()
    else:
        server.start_tcp(*tcp)
