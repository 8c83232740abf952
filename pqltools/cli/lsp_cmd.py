"""``pql lsp``: run the PQL language server (stdio by default, TCP for debugging).

pygls is imported only when this command runs, so the other commands work without the ``lsp``
extra installed.
"""

from __future__ import annotations

import logging

import click

from pqltools.cli.inputs import EXIT_USAGE


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"expected HOST:PORT (e.g. 127.0.0.1:2087), not {value!r}",
                                 param_hint="--tcp")
    return host or "127.0.0.1", int(port)


@click.command("lsp")
@click.option("--stdio", "stdio", is_flag=True, default=False,
              help="Talk LSP over standard input/output (the default; accepted for clients "
              "that always pass it).")
@click.option("--tcp", "tcp", metavar="HOST:PORT", default=None,
              help="Listen on a TCP address instead of stdio (for debugging).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Write the server's own log to this file.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def lsp_command(stdio: bool, tcp: str | None, log_file: str | None, verbose: bool) -> None:
    """Run the PQL language server for editors (.pql files and segment-definition .json files).

    Diagnostics as you type, hover, completion, formatting, code actions, semantic tokens,
    document symbols, go to definition, references and rename. See docs/editors.md for VS Code,
    Neovim and Helix configuration.
    """
    address = _address(tcp) if tcp else None
    if stdio and address:
        raise click.UsageError("use either --stdio or --tcp, not both")
    # only look for pygls here: importing it (and lsprotocol) is what start-up must not wait
    # for before answering `initialize` (pqltools_lsp.startup)
    from importlib.util import find_spec

    if find_spec("pygls") is None or find_spec("pqltools_lsp") is None:
        click.echo("pql lsp needs the language-server extra: pip install 'pqltools[lsp]'",
                   err=True)
        raise SystemExit(EXIT_USAGE)
    from pqltools_lsp import serve
    # stdout is the LSP channel: logs go to stderr or the log file, never to stdout.
    handler: logging.Handler = (logging.FileHandler(log_file, encoding="utf-8") if log_file
                                else logging.StreamHandler())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        handlers=[handler],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(address)
