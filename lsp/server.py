"""The PQL language server: pygls wiring, document state, debounced diagnostics, error isolation.

Each LSP feature lives in its own module and is a plain function of a :class:`Snapshot` (and a
few arguments); this module only registers them, runs them off the event loop, and makes sure
an exception in one of them fails that one request (and is logged) while the server lives on.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import itertools
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pqltools_lsp import (
    actions,
    completion,
    editing,
    formatting,
    hover,
    navigation,
    symbols,
    tokens,
)
from pqltools_lsp.diagnostics import analyse, forget_lint_results, prepare, to_lsp
from pqltools_lsp.documents import Snapshot, apply_changes, uri_to_path
from pqltools_lsp.memo import PER_DEFINITION, Memo
from pqltools_lsp.refusal import REQUEST_FAILED, Refused
from pqltools_lsp.settings import CONFIG_FILE_NAMES, ConfigStore, ServerOptions
from pqltools_lsp.workspace import WorkspaceIndex
from pygls.exceptions import JsonRpcException, JsonRpcServerNotInitialized
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from pqltools.version import package_version

__all__ = ["PQLLanguageServer", "create_server"]

log = logging.getLogger("pqltools_lsp")
T = TypeVar("T")


#: Files larger than this are not read from disk for requests on unopened documents.
MAX_UNOPENED_BYTES = 5_000_000


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, answering requests whose parameters cannot be read, and refusing every
    request but ``initialize`` before the server is initialized (LSP's -32002).

    pygls drops a message it cannot deserialize (a negative line, a string where a number
    belongs) without answering, which leaves the client waiting forever for that request.
    """

    #: the id of the ``initialize`` request :mod:`pqltools_lsp.startup` already answered
    already_answered: Any = None

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        if msg_id is not None and msg_id == self.already_answered:
            self.already_answered = None  # answered before pygls was loaded: not twice
            return
        if error is None and isinstance(result, Written):
            self._result_types.pop(msg_id, None)
            self._write(f'{{"id":{json.dumps(msg_id)},"jsonrpc":"2.0","result":{result.text}}}')
            return
        super()._send_response(msg_id, result, error)

    def _write(self, body: str) -> None:
        """Send a JSON message already written out (as pygls' ``_send_data`` does)."""
        if self.writer is None:
            log.error("unable to send data: no transport")
            return
        data = body.encode(self.CHARSET)
        if self._include_headers:
            data = (f"Content-Length: {len(data)}\r\n"
                    f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
                    ).encode("ascii") + data
        written = self.writer.write(data)
        if inspect.isawaitable(written):
            asyncio.ensure_future(written)

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        if self._workspace is None and method_name != types.INITIALIZE:
            self._send_response(msg_id, None, JsonRpcServerNotInitialized(
                f"server not initialized: {method_name} before initialize"
            ).to_response_error())
            return
        super()._handle_request(msg_id, method_name, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams
                                      ) -> Iterator[tuple[Any, ...]]:
        """Only the server's handler applies a change (pygls' own copy of the text splits
        lines at U+2028 and the like, and rewrites the change's range in place)."""
        handler = self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)
        if handler is not None:
            yield handler, (params,), None

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if self._workspace is None and method_name != types.EXIT:
            return  # LSP: notifications before initialize are dropped
        super()._handle_notification(method_name, params)

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                self._send_response(data["id"], None, exc.to_response_error())
            raise


@dataclass(frozen=True, slots=True)
class Written:
    """A request's result already written out as JSON ``text`` (what lsprotocol's converter
    makes of it): sent as it is, without converting or encoding it again on the event loop."""

    text: str


@dataclass(frozen=True)
class OpenDocument:
    """The editor's text of an open document (kept by the server, see :func:`apply_changes`)."""

    text: str
    version: int | None
    language_id: str | None


class PQLLanguageServer(LanguageServer):
    """A pygls server that keeps the text and one :class:`Snapshot` per open document.

    The text is kept here rather than in pygls' workspace because pygls splits lines with
    ``str.splitlines``, which also breaks at U+2028, U+0085, form feeds..., so its copy drifts
    from the editor's after an incremental edit next to one of those characters.
    """

    def __init__(self) -> None:
        super().__init__("pqltools", package_version(),
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=_Protocol)
        self.options = ServerOptions()
        self.configs = ConfigStore()
        self.documents: dict[str, OpenDocument] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._snapshot_lock = threading.Lock()
        self._pending: dict[str, asyncio.Task[None]] = {}
        #: the last full semantic tokens sent per document, for delta requests
        self.sent_tokens: dict[str, tuple[str, list[int]]] = {}
        self.index = WorkspaceIndex(None)
        self._token_serial = itertools.count(1)
        self._full_collections = 0

    # ---- documents --------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client ("utf-16" unless negotiated)."""
        try:
            value = self.workspace.position_encoding
        except RuntimeError:  # no workspace before initialize
            return "utf-16"
        return str(getattr(value, "value", value) or "utf-16")

    def open(self, item: types.TextDocumentItem) -> None:
        """Start tracking an opened document."""
        self.documents[item.uri] = OpenDocument(item.text, item.version, item.language_id)

    def change(self, params: types.DidChangeTextDocumentParams) -> None:
        """Apply the edits of one ``didChange`` to our copy of the text."""
        uri = params.text_document.uri
        doc = self.documents.get(uri)
        if doc is None:
            return  # a change to a document never opened: nothing to apply it to
        cached = self._snapshots.get(uri)  # its line index, when it is of this text
        text = apply_changes(doc.text, params.content_changes, self.encoding,
                             cached.index if cached is not None else None)
        self.documents[uri] = OpenDocument(text, params.text_document.version, doc.language_id)

    def snapshot(self, uri: str) -> Snapshot | None:
        """The current snapshot of ``uri`` (rebuilt only when the text changed).

        For a document the client never opened, the file on disk (None when there is no
        readable file): a request for it answers "nothing here" rather than failing.
        """
        doc = self.documents.get(uri)
        if doc is None:
            return self._from_disk(uri)
        with self._snapshot_lock:  # one build per text, whichever thread asks first
            cached = self._snapshots.get(uri)
            if cached is not None and cached.text == doc.text \
                    and cached.encoding == self.encoding:
                return cached
            snap = Snapshot.build(uri, doc.text, doc.version, language_id=doc.language_id,
                                  encoding=self.encoding, previous=cached)
            self._snapshots[uri] = snap
            return snap

    def _from_disk(self, uri: str) -> Snapshot | None:
        path = uri_to_path(uri)
        try:
            if path is None or not path.is_file() or \
                    path.stat().st_size > MAX_UNOPENED_BYTES:
                return None
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        return Snapshot.build(uri, text, None, encoding=self.encoding)

    @property
    def snippets(self) -> bool:
        """Whether the client accepts snippet completions."""
        document = self.client_capabilities.text_document
        completion_caps = document.completion if document is not None else None
        item = completion_caps.completion_item if completion_caps is not None else None
        return bool(item is not None and item.snippet_support)

    def remember_tokens(self, uri: str, data: list[int]) -> str:
        """Keep the semantic tokens sent for ``uri``; their result id."""
        result_id = str(next(self._token_serial))
        if uri in self.documents:
            self.sent_tokens[uri] = (result_id, data)
        return result_id

    def forget(self, uri: str) -> None:
        """Drop everything about a closed document; its diagnostics become those of the file
        on disk when it is part of the workspace (workspace diagnostics), else none."""
        self.documents.pop(uri, None)
        self.sent_tokens.pop(uri, None)
        with self._snapshot_lock:
            self._snapshots.pop(uri, None)
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()
        path = uri_to_path(uri)
        if self.options.workspace_diagnostics and path is not None and self.in_workspace(path):
            asyncio.ensure_future(self.publish_workspace([path], clear_missing=True))
            return
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def in_workspace(self, path: Path) -> bool:
        """Whether ``path`` lies below the workspace root."""
        root = self.index.root
        return root is not None and path.is_relative_to(root)

    async def publish_workspace(self, paths: list[Path] | None = None,
                                clear_missing: bool = False) -> None:
        """Diagnostics for the workspace's PQL files that are not open (read from disk)."""
        def diagnose() -> list[tuple[str, list[types.Diagnostic]]]:
            out: list[tuple[str, list[types.Diagnostic]]] = []
            for path in (paths if paths is not None else list(self.index.paths())):
                uri = path.as_uri()
                if uri in self.documents:
                    continue
                snap = self.index.snapshot(path, self.encoding)
                if snap is None:
                    if clear_missing:
                        out.append((uri, []))
                    continue
                findings = analyse(snap, self.configs.for_path(snap.path))
                out.append((uri, [to_lsp(snap, f) for f in findings]))
            return out

        try:
            published = await asyncio.to_thread(diagnose)
        except Exception:  # noqa: BLE001 - the open documents are served regardless
            self.log_error("workspace diagnostics failed")
            return
        for uri, diagnostics in published:
            if uri not in self.documents:
                self.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))

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
            started = time.perf_counter()
            result = await asyncio.to_thread(self._diagnose, uri)
            if result is None:
                return  # closed meanwhile
            snap, diagnostics = result
            doc = self.documents.get(uri)
            if doc is None or doc.text != snap.text:
                return  # the document changed meanwhile; that change publishes
            log.debug("%s v%s: %d findings in %.1f ms", uri, doc.version, len(diagnostics),
                      (time.perf_counter() - started) * 1000)
            # the version of the text analysed; a snapshot rebuilt for the same text by a
            # concurrent request is as good as this one (comparing identities lost results)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=doc.version, diagnostics=diagnostics))
            # parse (and lint clause by clause) for the requests and changes that follow now,
            # after the diagnostics are out, rather than when the first of them arrives
            await asyncio.to_thread(prepare, snap, self.configs.for_path(snap.path))
            self.settle()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one document's failure must not stop the server
            self.log_error(f"computing diagnostics for {uri} failed")
        finally:
            if self._pending.get(uri) is asyncio.current_task():
                del self._pending[uri]

    def settle(self) -> None:
        """Keep the objects that outlived a full garbage collection out of later ones.

        The memoised parses, lint results and tokens of open documents are tens of thousands
        of objects that live as long as the documents; a full collection scans them all (tens
        of milliseconds, every few edits, whichever request it falls on). What survived one is
        live, so it is frozen (:func:`gc.freeze`) and later collections scan only what edits
        made since; objects no longer referenced are still freed by reference counting.
        """
        full = gc.get_stats()[2]["collections"]
        if full != self._full_collections:
            gc.freeze()
            self._full_collections = full

    def _diagnose(self, uri: str) -> tuple[Snapshot, list[types.Diagnostic]] | None:
        if uri not in self.documents:
            return None
        snap = self.snapshot(uri)
        if snap is None:
            return None
        findings = analyse(snap, self.configs.for_path(snap.path))
        return snap, [to_lsp(snap, f) for f in findings]

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
        except Refused as exc:
            raise JsonRpcException(str(exc), code=REQUEST_FAILED) from None
        except Exception:
            server.log_error(f"{name} failed")
            raise

    return run


TOKEN_LEGEND = types.SemanticTokensLegend(token_types=list(tokens.TOKEN_TYPES),
                                          token_modifiers=list(tokens.TOKEN_MODIFIERS))


def reuse_unstructured(converter: Any, *classes: type) -> None:
    """Make ``converter`` turn an object of ``classes`` into JSON-ready data once.

    Document symbols and diagnostics of unchanged JSON definitions are the same objects after
    every edit (memoised, see :mod:`pqltools_lsp.symbols` and :mod:`pqltools_lsp.diagnostics`);
    their data is kept with them (keyed by identity, the object kept alive so that its id is
    not reused) instead of being rebuilt on the event loop for every response.
    """
    for cls in classes:
        original = converter.get_unstructure_hook(cls)
        done: Memo[int, tuple[Any, Any]] = Memo(4 * PER_DEFINITION)

        def unstructure(obj: Any, original: Any = original,
                        done: Memo[int, tuple[Any, Any]] = done) -> Any:
            return done.get(id(obj), lambda: (obj, original(obj)))[1]

        converter.register_unstructure_hook(cls, unstructure)


def create_server() -> PQLLanguageServer:
    """A new server with every feature registered."""
    server = PQLLanguageServer()
    reuse_unstructured(server.protocol._converter, types.DocumentSymbol, types.Diagnostic)

    @server.feature(types.INITIALIZE)
    def initialize(ls: PQLLanguageServer, params: types.InitializeParams) -> None:
        ls.options = ServerOptions.from_client(params.initialization_options)
        root = params.root_uri or (params.workspace_folders[0].uri
                                   if params.workspace_folders else None)
        ls.configs = ConfigStore(uri_to_path(root) if root else None)
        ls.index = WorkspaceIndex(uri_to_path(root) if root else None)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: PQLLanguageServer, params: types.InitializedParams) -> None:
        if ls.options.workspace_diagnostics:
            asyncio.ensure_future(ls.publish_workspace())
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
        ls.open(params.text_document)
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PQLLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.change(params)
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PQLLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri in ls.documents:
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
        """Register ``fn(ls, snapshot, params)`` for ``method``, run guarded in a worker
        thread; the answer is None when the document has no snapshot (never opened and not a
        readable file)."""

        def register(fn: Callable[..., T]) -> None:
            def with_snapshot(ls: PQLLanguageServer, params: Any) -> T | None:
                snap = ls.snapshot(params.text_document.uri)
                return None if snap is None else fn(ls, snap, params)

            guarded = _guarded(server, method, with_snapshot)

            async def handler(ls: PQLLanguageServer, params: Any) -> T | None:
                return await guarded(ls, params)

            server.feature(method, options)(handler)

        return register

    @request(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: PQLLanguageServer, snap: Snapshot,
                 params: types.HoverParams) -> types.Hover | None:
        return hover.hover(snap, params.position, ls.configs.for_path(snap.path).config,
                           ls.options)

    @request(types.TEXT_DOCUMENT_COMPLETION,
             types.CompletionOptions(trigger_characters=[".", "("]))
    def on_completion(ls: PQLLanguageServer, snap: Snapshot,
                      params: types.CompletionParams) -> types.CompletionList | None:
        return completion.complete(snap, params.position,
                                   ls.configs.for_path(snap.path).config,
                                   snippets=ls.snippets)

    @request(types.TEXT_DOCUMENT_FORMATTING)
    def on_format(ls: PQLLanguageServer, snap: Snapshot,
                  params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        return formatting.format_document(snap)

    @request(types.TEXT_DOCUMENT_RANGE_FORMATTING)
    def on_format_range(ls: PQLLanguageServer, snap: Snapshot,
                        params: types.DocumentRangeFormattingParams) -> list[types.TextEdit] | None:
        return formatting.format_range(snap, params.range)

    @request(types.TEXT_DOCUMENT_CODE_ACTION,
             types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix,
                                                        editing.FIX_ALL]))
    def on_code_action(ls: PQLLanguageServer, snap: Snapshot,
                       params: types.CodeActionParams) -> list[types.CodeAction]:
        findings = analyse(snap, ls.configs.for_path(snap.path))
        only = params.context.only
        out: list[types.CodeAction] = []
        if not only or any(k == types.CodeActionKind.QuickFix or str(k) == "quickfix"
                           for k in only):
            out.extend(actions.code_actions(snap, findings, params.range))
        if only and any(editing.FIX_ALL.startswith(str(getattr(k, "value", k)))
                        for k in only):
            fixed = editing.fix_all(snap, findings)
            if fixed is not None:
                out.append(fixed)
        return out

    @request(types.TEXT_DOCUMENT_SIGNATURE_HELP,
             types.SignatureHelpOptions(trigger_characters=["(", ","],
                                        retrigger_characters=[","]))
    def on_signature(ls: PQLLanguageServer, snap: Snapshot,
                     params: types.SignatureHelpParams) -> types.SignatureHelp | None:
        return editing.signature_help(snap, params.position)

    @request(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    def on_highlight(ls: PQLLanguageServer, snap: Snapshot,
                     params: types.DocumentHighlightParams
                     ) -> list[types.DocumentHighlight] | None:
        return editing.highlights(snap, params.position)

    @request(types.TEXT_DOCUMENT_FOLDING_RANGE)
    def on_folding(ls: PQLLanguageServer, snap: Snapshot,
                   params: types.FoldingRangeParams) -> list[types.FoldingRange]:
        return editing.folding_ranges(snap)

    @request(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def on_code_lens(ls: PQLLanguageServer, snap: Snapshot,
                     params: types.CodeLensParams) -> list[types.CodeLens]:
        if not ls.options.eligibility:
            return []
        return editing.code_lenses(snap, ls.configs.for_path(snap.path).config)

    @request(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
             types.SemanticTokensRegistrationOptions(
                 legend=TOKEN_LEGEND, full=types.SemanticTokensFullDelta(delta=True),
                 range=True))
    def on_tokens(ls: PQLLanguageServer, snap: Snapshot,
                  params: types.SemanticTokensParams) -> Written:
        data, text = tokens.encode_json(snap)
        result_id = ls.remember_tokens(snap.uri, data)
        return Written(f'{{"resultId":{json.dumps(result_id)},"data":{text}}}')

    @request(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL_DELTA)
    def on_tokens_delta(ls: PQLLanguageServer, snap: Snapshot,
                        params: types.SemanticTokensDeltaParams
                        ) -> types.SemanticTokens | types.SemanticTokensDelta:
        data = tokens.encode(snap)
        previous = ls.sent_tokens.get(snap.uri)
        result_id = ls.remember_tokens(snap.uri, data)
        if previous is None or previous[0] != params.previous_result_id:
            return types.SemanticTokens(data=data, result_id=result_id)
        return types.SemanticTokensDelta(edits=tokens.delta(previous[1], data),
                                         result_id=result_id)

    @request(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE)
    def on_tokens_range(ls: PQLLanguageServer, snap: Snapshot,
                        params: types.SemanticTokensRangeParams) -> types.SemanticTokens:
        return types.SemanticTokens(data=tokens.encode(snap, params.range))

    @request(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def on_symbols(ls: PQLLanguageServer, snap: Snapshot,
                   params: types.DocumentSymbolParams) -> Written:
        found = symbols.document_symbols(snap, ls.configs.for_path(snap.path).config,
                                         ls.options)
        return Written(symbols.to_json(found, server.protocol._converter.unstructure))

    @request(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: PQLLanguageServer, snap: Snapshot,
                      params: types.DefinitionParams) -> types.Location | None:
        found = navigation.definition(snap, params.position)
        if found is not None:
            return found
        segment = navigation.segment_reference(snap, params.position)
        if segment is None:
            return None
        opened = {uri: s for uri in list(ls.documents)
                  if (s := ls.snapshot(uri)) is not None}
        target = ls.index.find_definition(segment, opened, ls.encoding)
        if target is None:
            return None
        where, (start, end) = target
        return types.Location(uri=where.uri, range=where.index.range(start, end))

    @request(types.TEXT_DOCUMENT_REFERENCES)
    def on_references(ls: PQLLanguageServer, snap: Snapshot,
                      params: types.ReferenceParams) -> list[types.Location] | None:
        return navigation.references(snap, params.position,
                                     params.context.include_declaration)

    @request(types.TEXT_DOCUMENT_PREPARE_RENAME)
    def on_prepare_rename(ls: PQLLanguageServer, snap: Snapshot,
                          params: types.PrepareRenameParams) -> types.Range | None:
        return navigation.prepare_rename(snap, params.position)

    @request(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    def on_rename(ls: PQLLanguageServer, snap: Snapshot,
                  params: types.RenameParams) -> types.WorkspaceEdit | None:
        return navigation.rename(snap, params.position, params.new_name)

    return server


def announced_capabilities(client: dict[str, Any]) -> dict[str, Any]:
    """The ``capabilities`` pygls answers ``initialize`` with, for a client's capabilities
    (``python -m pqltools_lsp.startup`` records them; see :mod:`pqltools_lsp.startup`)."""
    from pygls.capabilities import ServerCapabilitiesBuilder

    server = create_server()
    protocol = server.protocol
    caps = protocol._converter.structure(client, types.ClientCapabilities)
    features = protocol.fm
    built = ServerCapabilitiesBuilder(
        caps, set({**features.features, **features.builtin_features}.keys()),
        features.feature_options, list(features.commands.keys()),
        server._text_document_sync_kind, server._notebook_document_sync,
        ServerCapabilitiesBuilder.choose_position_encoding(caps)).build()  # type: ignore[no-untyped-call]
    announced: dict[str, Any] = protocol._converter.unstructure(built)
    return announced


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run a server on stdio (or on a TCP address, for debugging) until the client exits."""
    server = create_server()
    if tcp is None:
        server.start_io()
    else:
        server.start_tcp(*tcp)
