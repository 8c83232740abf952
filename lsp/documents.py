"""What the server knows about one open document: its PQL regions and their parses.

A ``.pql`` document is one region (the whole text, ``--`` comments allowed). A segment-definition
``.json`` document has one region per definition: the decoded ``expression.value`` string, with
offsets mapped both ways between the expression and the JSON text (escapes included) by
:class:`pqltools.definitions.Definition`. Every feature works on expression offsets inside a
region and converts at the edges, so no feature knows which kind of document it is serving.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pqltools_lsp.positions import LineIndex

from pqltools.definitions import Definition, locate_strings
from pqltools.errors import DefinitionError, Diagnostic, Span
from pqltools.sources import sources_from_text
from pqltools.syntax.parser import ParseOptions, ParseResult, parse_document

__all__ = ["Region", "Snapshot", "parsed", "uri_to_path"]

@functools.lru_cache(maxsize=128)
def parsed(text: str, comments: bool) -> ParseResult:
    """``parse_document(text)``, memoised: unchanged definitions of a JSON file and repeated
    requests on an unchanged document never parse twice (the parser never raises)."""
    return parse_document(text, ParseOptions(comments=comments))


def uri_to_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, or None for other schemes (untitled buffers...)."""
    parsed_uri = urlparse(uri)
    if parsed_uri.scheme != "file":
        return None
    path = unquote(parsed_uri.path)
    if len(path) > 2 and path[0] == "/" and path[2] == ":":  # file:///C:/... on Windows
        path = path[1:]
    return Path(path)


@dataclass(frozen=True)
class Region:
    """One PQL expression inside a document.

    ``text`` is the expression; ``definition`` is set for a JSON definition (None for a
    ``.pql`` file, where expression offsets are document offsets).
    """

    text: str
    comments: bool
    definition: Definition | None = None

    @property
    def parse(self) -> ParseResult:
        """The (memoised) parse of the expression."""
        return parsed(self.text, self.comments)

    @property
    def editable(self) -> bool:
        """Whether edits inside the expression can be mapped back (not for ``pql/json``)."""
        d = self.definition
        return d is None or (d.format == "pql/text" and d.value_span is not None)

    @property
    def label(self) -> str:
        """How symbols and messages name this expression."""
        d = self.definition
        if d is None:
            return "expression"
        return d.name or d.id or f"definition {d.index}"

    def to_doc(self, offset: int) -> int:
        """Expression offset -> document offset."""
        return self.definition.file_offset(offset) if self.definition is not None else offset

    def from_doc(self, offset: int) -> int | None:
        """Document offset -> expression offset, or None when ``offset`` is outside it."""
        if self.definition is None:
            return offset if 0 <= offset <= len(self.text) else None
        return self.definition.expression_offset(offset)

    def doc_span(self, span: Span) -> tuple[int, int]:
        """A span inside the expression as ``[start, end)`` document offsets."""
        if self.definition is None:
            return span.start, span.end
        mapped = self.definition.file_span(span)
        return mapped.start, mapped.end

    @property
    def extent(self) -> tuple[int, int]:
        """The document offsets the expression occupies (inside the quotes for JSON)."""
        return self.to_doc(0), self.to_doc(len(self.text))

    def quote(self, text: str) -> str:
        """``text`` as it must be written into the document (JSON-escaped inside a string)."""
        if self.definition is None:
            return text
        return json.dumps(text, ensure_ascii=False)[1:-1]


@dataclass
class Snapshot:
    """One version of a document, split into regions, with the problems found while splitting.

    ``problems`` are document-level diagnostics whose spans are *document* offsets (a JSON
    syntax error, a definition without an expression).
    """

    uri: str
    text: str
    version: int | None
    encoding: str = "utf-16"
    regions: list[Region] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    index: LineIndex = field(init=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.index = LineIndex(self.text, self.encoding)

    @classmethod
    def build(cls, uri: str, text: str, version: int | None = None, *,
              language_id: str | None = None, encoding: str = "utf-16") -> Snapshot:
        """Split ``text`` into regions according to what kind of document it is."""
        snap = cls(uri, text, version, encoding)
        if not is_json(uri, language_id, text):
            snap.regions = [Region(text, comments=True)]
            return snap
        if '"expression"' not in text:
            return snap  # some other JSON file (package.json...): not ours to judge
        try:
            sources = sources_from_text(uri, text, json_input=True)
        except DefinitionError as exc:
            snap.problems = list(exc.diagnostics)
            return snap
        snap.regions = [Region(s.text, comments=False, definition=s.definition)
                        for s in sources]
        return snap

    @property
    def path(self) -> Path | None:
        """The document's file path, when it has one."""
        return uri_to_path(self.uri)

    def region_at(self, offset: int) -> tuple[Region, int] | None:
        """The region holding document offset ``offset`` and the expression offset there."""
        for region in self.regions:
            inner = region.from_doc(offset)
            if inner is not None:
                return region, inner
        return None

    def definition_object(self, region: Region) -> tuple[tuple[Any, ...], tuple[int, int]] | None:
        """The JSON path and ``[start, end)`` offsets of the object holding a definition."""
        d = region.definition
        if d is None or d.value_span is None:
            return None
        spans = self.cache.get("json_spans")
        if spans is None:
            spans = self.cache["json_spans"] = locate_strings(self.text)
        for path, (start, _end) in spans.items():
            if path[-2:] == ("expression", "value") and start == d.value_span.start:
                owner = path[:-2]
                if owner in spans:
                    return owner, spans[owner]
        return None


def is_json(uri: str, language_id: str | None, text: str) -> bool:
    """Whether a document is a JSON definition file rather than a ``.pql`` file."""
    if language_id in ("json", "jsonc"):
        return True
    if language_id == "pql":
        return False
    if uri.lower().endswith(".json"):
        return True
    if uri.lower().endswith(".pql"):
        return False
    return text.lstrip()[:1] in ("{", "[")
