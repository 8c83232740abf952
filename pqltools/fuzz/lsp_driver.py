"""Drive the language server's features in process, as an editor would, for the ``lsp`` target.

Each input is opened as a ``.pql`` document (and, when it looks like JSON, as a definitions
file), then every request the server answers is made at a handful of positions: hover,
completion, formatting (whole and range), code actions, semantic tokens, symbols, definition,
references and rename. The handlers are the server's own feature functions, called the way
``pqltools_lsp.server`` calls them, minus the JSON-RPC transport.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

from lsprotocol import types
from pqltools_lsp import actions, completion, formatting, hover, navigation, symbols, tokens
from pqltools_lsp.diagnostics import analyse
from pqltools_lsp.documents import Snapshot
from pqltools_lsp.refusal import Refused
from pqltools_lsp.settings import ConfigResult, ServerOptions

from pqltools.analysis.config import Config

__all__ = ["drive"]


def _positions(text: str, rng: random.Random) -> list[types.Position]:
    lines = text.split("\n")
    picks = [types.Position(0, 0), types.Position(len(lines) - 1, len(lines[-1]))]
    for _ in range(3):
        line = rng.randrange(len(lines))
        picks.append(types.Position(line, rng.randint(0, len(lines[line]) + 2)))
    picks.append(types.Position(len(lines) + 3, 0))  # beyond the end: editors do send these
    return picks


def drive(text: str) -> None:
    """Run every language feature on ``text``; an answer, None or a refusal (``Refused``: the
    server's error response with a message for the user) are fine."""
    rng = random.Random(text.encode("utf-8", "surrogatepass"))
    config = ConfigResult(Config())
    options = ServerOptions()
    names = ["file:///fuzz/doc.pql"]
    if text.lstrip()[:1] in ("{", "["):
        names.append("file:///fuzz/defs.json")
    for uri in names:
        for encoding in ("utf-16", "utf-8"):
            snap = Snapshot.build(uri, text, 1, encoding=encoding)
            findings = analyse(snap, config)
            whole = types.Range(types.Position(0, 0), types.Position(10**6, 0))
            actions.code_actions(snap, findings, whole)
            tokens.encode(snap)
            symbols.document_symbols(snap, config.config, options)
            _refusable(partial(formatting.format_document, snap))
            for position in _positions(text, rng):
                hover.hover(snap, position, config.config, options)
                completion.complete(snap, position, config.config)
                navigation.definition(snap, position)
                navigation.references(snap, position, True)
                if _refusable(partial(navigation.prepare_rename, snap, position)):
                    _refusable(partial(navigation.rename, snap, position, "renamed"))
                _refusable(partial(formatting.format_range, snap,
                                   types.Range(types.Position(0, 0), position)))


def _refusable(request: Callable[[], object]) -> object:
    """A request's answer, or None when the server refuses it (a message to the user)."""
    try:
        return request()
    except Refused:
        return None
