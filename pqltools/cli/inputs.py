"""Turning command-line arguments into PQL sources, shared by every ``pql`` subcommand.

An argument is a ``.pql`` file (one expression, ``--`` comments allowed), a segment-definition
``.json`` file (one source per definition), a directory (searched recursively for both), ``-``
(standard input: JSON if it looks like JSON, else PQL), or, when no such file exists, a PQL
expression itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from pqltools.definitions import Definition, load_definitions
from pqltools.errors import DefinitionError, Diagnostic, Span, render_snippet
from pqltools.fileio import UnreadableInput, path_exists, read_stdin, read_text

SUFFIXES = (".pql", ".json")
#: Exit code for usage, I/O and configuration errors (ruff's convention).
EXIT_USAGE = 2


class InputError(click.ClickException):
    """An input that cannot be used at all (unreadable, not UTF-8): exit code 2."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Source:
    """One expression to work on, and how to point back at where it came from."""

    label: str
    text: str
    comments: bool = False
    path: Path | None = None
    definition: Definition | None = None

    @property
    def display_text(self) -> str:
        """The text positions refer to: the whole JSON file for a definition, else the PQL."""
        if self.definition is not None and self.definition.source_text is not None:
            return self.definition.source_text
        return self.text

    def file_span(self, span: Span) -> Span:
        """``span`` (inside the PQL text) as a span in the file the user gave."""
        return self.definition.file_span(span) if self.definition is not None else span

    def render(self, diag: Diagnostic) -> str:
        """``file:line:col: severity CODE: message`` with the source line and a caret."""
        mapped = Diagnostic(diag.code, diag.message, diag.severity, self.file_span(diag.span),
                            fix=diag.fix, help=diag.help)
        name = self.label if self.definition is None else self.definition.path
        return mapped.render(self.display_text, name)


def iter_paths(arguments: tuple[str, ...] | list[str]) -> Iterator[Path | str]:
    """Expand directories (recursively, sorted) into ``.pql``/``.json`` files; keep the rest."""
    for arg in arguments:
        if arg == "-":
            yield arg
            continue
        path = Path(arg)
        exists = path_exists(path)  # an expression too long for a file name is not a file
        is_dir = exists and path.is_dir()
        if is_dir:
            for found in sorted(path.rglob("*")):
                if found.is_file() and found.suffix in SUFFIXES and not any(
                    part.startswith(".") for part in found.relative_to(path).parts
                ):
                    yield found
        elif exists:
            yield path
        else:
            yield arg


def sources_from_text(label: str, text: str, *, path: Path | None = None,
                      json_input: bool | None = None) -> list[Source]:
    """The sources in one file's text: definitions for JSON, else one PQL expression."""
    is_json = json_input if json_input is not None else text.lstrip()[:1] in ("{", "[")
    if is_json:
        definitions = load_definitions(label, text=text)
        return [Source(d.label, d.expression, path=path, definition=d) for d in definitions]
    return [Source(label, text, comments=True, path=path)]


def read_sources(arguments: tuple[str, ...] | list[str], *,
                 as_expression: bool = False) -> Iterator[Source]:
    """Every source named by ``arguments``. Unreadable files and bad JSON exit with code 2."""
    if as_expression:
        for i, arg in enumerate(arguments):
            yield Source(f"<expression {i + 1}>" if len(arguments) > 1 else "<expression>", arg)
        return
    for item in iter_paths(arguments):
        try:
            if item == "-":
                try:
                    text = read_stdin()
                except UnreadableInput as exc:
                    raise InputError(f"<stdin>: {exc}") from None
                yield from sources_from_text("<stdin>", text)
            elif isinstance(item, Path):
                try:
                    text = read_text(item)
                except UnreadableInput as exc:
                    raise InputError(f"{item}: {exc}") from None
                yield from sources_from_text(str(item), text, path=item,
                                             json_input=item.suffix == ".json")
            else:
                if _looks_like_path(item):
                    raise InputError(f"{item}: no such file or directory")
                yield Source("<expression>", item)
        except DefinitionError as exc:
            click.echo(str(exc), err=True)
            for d in exc.diagnostics:
                if exc.text:
                    click.echo(render_snippet(exc.text, d.span), err=True)
            sys.exit(EXIT_USAGE)


def _looks_like_path(arg: str) -> bool:
    return arg.endswith(SUFFIXES) and " " not in arg
