"""Command-line arguments as PQL sources, for the ``pql`` subcommands that stop at bad input.

What a file, directory, ``-`` or expression argument holds is decided in
:mod:`pqltools.sources`; this module adds the command line's reaction to bad input (a message
and exit code 2). ``Source``, ``iter_paths`` and ``sources_from_text`` are re-exported for the
subcommands.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from pqltools.errors import DefinitionError, render_snippet
from pqltools.fileio import UnreadableInput, read_stdin
from pqltools.sources import (
    SUFFIXES,
    Source,
    iter_paths,
    looks_like_path,
    read_text,
    sources_from_text,
)

__all__ = [
    "EXIT_USAGE",
    "SUFFIXES",
    "InputError",
    "Source",
    "iter_paths",
    "looks_like_path",
    "read_sources",
    "sources_from_text",
]

#: Exit code for usage, I/O and configuration errors (ruff's convention).
EXIT_USAGE = 2


class InputError(click.ClickException):
    """An input that cannot be used at all (unreadable, not UTF-8): exit code 2."""

    exit_code = EXIT_USAGE


def read_sources(arguments: tuple[str, ...] | list[str], *,
                 as_expression: bool = False) -> Iterator[Source]:
    """Every source named by ``arguments``. Unreadable files and bad JSON exit with code 2."""
    if as_expression:
        for i, arg in enumerate(arguments):
            yield Source(f"<expression {i + 1}>" if len(arguments) > 1 else "<expression>", arg)
        return
    for item in iter_paths(arguments):
        if isinstance(item, Path):
            try:
                text = read_text(item)
            except DefinitionError as exc:
                raise InputError(f"{item}: {exc.diagnostics[0].message}") from None
        try:
            if item == "-":
                try:
                    text = read_stdin()
                except UnreadableInput as exc:
                    raise InputError(f"<stdin>: {exc}") from None
                yield from sources_from_text("<stdin>", text)
            elif isinstance(item, Path):
                yield from sources_from_text(str(item), text, path=item,
                                             json_input=item.suffix == ".json")
            else:
                if looks_like_path(item):
                    raise InputError(f"{item}: no such file or directory")
                yield Source("<expression>", item)
        except DefinitionError as exc:
            click.echo(str(exc), err=True)
            for d in exc.diagnostics:
                if exc.text:
                    click.echo(render_snippet(exc.text, d.span), err=True)
            sys.exit(EXIT_USAGE)
