"""Sources: the PQL expressions a file, a directory, standard input or an argument holds.

A ``.pql`` file is one expression (``--`` comments allowed); a segment-definition ``.json`` file
holds one source per definition; a directory is searched recursively for both. Everything above
this module (the linter's runner, the CLI, the language server) reads its input through here, so
a file means the same thing to each of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pqltools import fileio
from pqltools.definitions import Definition, load_definitions
from pqltools.errors import DefinitionError, Diagnostic, Span
from pqltools.fileio import path_exists
from pqltools.records import record

__all__ = [
    "SUFFIXES",
    "Source",
    "iter_paths",
    "looks_like_path",
    "read_text",
    "sources_from_text",
]

SUFFIXES = (".pql", ".json")


@record(frozen=True)
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


def looks_like_path(arg: str) -> bool:
    """True when an argument that names no file was meant as a file name, not an expression."""
    return arg.endswith(SUFFIXES) and " " not in arg


def read_text(path: Path, label: str | None = None) -> str:
    """The text of ``path``, line endings kept (so a fix rewrites nothing else).

    A file that cannot be read or is not UTF-8 raises :class:`DefinitionError` with code
    PQL090 and a message naming the file.
    """
    try:
        return fileio.read_text(path)  # strict UTF-8, a byte-order mark set aside
    except fileio.UnreadableInput as exc:
        message = str(exc)
    raise DefinitionError(message, path=label if label is not None else str(path),
                          span=Span.from_offsets("", 0, 0), text="")


def sources_from_text(label: str, text: str, *, path: Path | None = None,
                      json_input: bool | None = None) -> list[Source]:
    """The sources in one file's text: definitions for JSON, else one PQL expression."""
    is_json = json_input if json_input is not None else text.lstrip()[:1] in ("{", "[")
    if is_json:
        definitions = load_definitions(label, text=text)
        return [Source(d.label, d.expression, path=path, definition=d) for d in definitions]
    return [Source(label, text, comments=True, path=path)]
