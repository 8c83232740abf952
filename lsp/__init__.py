"""pqltools_lsp: the PQL language server (``pql lsp``), built on pygls 2 and lsprotocol.

It serves ``.pql`` files and the ``expression.value`` strings of segment-definition ``.json``
files. Everything it reports comes from the pqltools library (parser, linter, catalog, formatter,
eligibility analyzer); this package only maps between documents and expressions and speaks LSP.
The pqltools library never imports this package.

Entry points: :func:`pqltools_lsp.server.create_server` and :func:`pqltools_lsp.server.serve`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pqltools_lsp.server import PQLLanguageServer

__all__ = ["create_server", "serve"]


def create_server() -> PQLLanguageServer:
    """A new :class:`~pqltools_lsp.server.PQLLanguageServer` (imports pygls on first use)."""
    from pqltools_lsp.server import create_server as create

    return create()


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run the server on stdio, or on ``tcp=(host, port)`` for debugging.

    On stdio ``initialize`` is answered before pygls is imported (:mod:`pqltools_lsp.startup`),
    unless the environment sets ``PQLTOOLS_LSP_FAST_START=0``.
    """
    import os

    if tcp is None and os.environ.get("PQLTOOLS_LSP_FAST_START", "1") != "0":
        from pqltools_lsp.startup import serve_stdio

        serve_stdio()
        return
    from pqltools_lsp.server import serve as run

    run(tcp)
