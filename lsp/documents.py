"""What the server knows about one open document: its PQL regions and their parses.

A ``.pql`` document is one region (the whole text, ``--`` comments allowed). A segment-definition
``.json`` document has one region per definition: the decoded ``expression.value`` string, with
offsets mapped both ways between the expression and the JSON text (escapes included) by
:class:`pqltools.definitions.Definition`. Every feature works on expression offsets inside a
region and converts at the edges, so no feature knows which kind of document it is serving.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import InitVar, dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pqltools_lsp.incremental import Clause, assembled_clauses, common_affixes, parse_clauses
from pqltools_lsp.memo import PER_DEFINITION, Memo
from pqltools_lsp.positions import LineIndex, _units

from pqltools.definitions import (
    LIST_KEYS,
    Definition,
    _decoded_offsets,  # the offsets map of a definition
    load_definitions,
    locate_strings,
)
from pqltools.errors import DefinitionError, Diagnostic, Span
from pqltools.syntax.parser import ParseOptions, ParseResult, parse_document

__all__ = ["Anchored", "Region", "Snapshot", "apply_changes", "looks_like_definitions", "parsed",
           "parsed_clauses", "uri_to_path"]

#: Parses kept in memory, keyed by (text, comments): unchanged definitions of a JSON file and
#: repeated requests on an unchanged document never parse twice.
_PARSES: Memo[tuple[str, bool], ParseResult] = Memo(PER_DEFINITION)

#: Cumulative code units of non-ASCII expression strings, by (raw JSON string, encoding).
_COLUMNS: Memo[tuple[str, str], tuple[int, ...]] = Memo(PER_DEFINITION)


def parsed(text: str, comments: bool) -> ParseResult:
    """``parse_document(text)``, memoised (the parser never raises for any input).

    A ``.pql`` text (``comments``) of many top-level clauses is assembled from the memoised
    parses of its clauses (:mod:`pqltools_lsp.incremental`): after an edit only the edited
    clause is parsed again.
    """
    return _PARSES.get((text, comments), lambda: _parse(text, comments))


#: The clauses of recent ``.pql`` texts whose parse is assembled from theirs.
_CLAUSES: Memo[str, tuple[Clause, ...] | None] = Memo(32)


def parsed_clauses(text: str) -> tuple[Clause, ...] | None:
    """The top-level clauses of a ``.pql`` text whose parse :func:`parsed` assembles from
    theirs, found without assembling it (:func:`pqltools_lsp.incremental.assembled_clauses`);
    None when the text is parsed whole. Features that work clause by clause use these, so that
    they never wait for the whole tree."""
    return _CLAUSES.get(text, lambda: assembled_clauses(
        text, lambda clause: parsed(clause, True), ParseOptions(comments=True)))


def _parse(text: str, comments: bool) -> ParseResult:
    options = ParseOptions(comments=comments)
    if comments:
        assembled = parse_clauses(text, lambda clause: parsed(clause, True), options)
        if assembled is not None:
            return assembled
    return parse_document(text, options)


def apply_changes(text: str, changes: Sequence[Any], encoding: str,
                  index: LineIndex | None = None) -> str:
    """``text`` after the ``contentChanges`` of one ``didChange``, applied in order.

    A change with a ``range`` replaces that range (positions as LSP defines them: lines end only
    at ``\\n``, ``\\r\\n`` and ``\\r``; characters in the negotiated encoding); one without
    replaces the whole text. ``index``, when given, is a line index the caller has of ``text``.
    """
    for change in changes:
        rng = getattr(change, "range", None)
        if rng is None:
            text = change.text
            continue
        if index is None or index.text is not text or index.encoding != encoding:
            index = LineIndex(text, encoding)
        start, end = index.offsets(rng)
        text = text[:start] + change.text + text[end:]
    return text


#: Keys of an ``expression`` object of a segment definition.
_EXPRESSION_KEYS = frozenset({"type", "format", "value"})


def looks_like_definitions(text: str) -> bool:
    """Whether a JSON text looks like segment definitions, so that it is analysed at all.

    It does when one of its definitions (the object itself, the items of a list, or of a
    ``segments``/``children``/``audiences``/``definitions`` list) has an ``expression`` object
    whose ``type`` is PQL, whose ``format`` is ``pql/text`` or ``pql/json``, or which holds only
    ``type``/``format``/``value``. Other JSON with an ``"expression"`` key (lint rules, math
    configurations with a string or another kind of object there) is not ours to judge. Text
    that is not valid JSON is judged when it has an ``"expression": {`` (a definition file
    being edited), so that its syntax error is shown.
    """
    if '"expression"' not in text:
        return False
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return re.search(r'"expression"\s*:\s*\{', text) is not None
    items: list[Any] = obj if isinstance(obj, list) else [obj]
    if isinstance(obj, dict) and "expression" not in obj:
        items = next((obj[k] for k in LIST_KEYS if isinstance(obj.get(k), list)), [])
    # a segment job response holds its definitions one level down: segments[i].segment
    items = [item["segment"] if isinstance(item, dict) and isinstance(item.get("segment"), dict)
             else item for item in items]
    return any(isinstance(item, dict) and _is_pql_expression(item.get("expression"))
               for item in items)


def _is_pql_expression(expression: Any) -> bool:
    if not isinstance(expression, dict):
        return False
    kind, fmt = expression.get("type"), expression.get("format")
    if isinstance(kind, str) and kind.upper() == "PQL":
        return True
    if fmt in ("pql/text", "pql/json"):
        return True
    return "value" in expression and set(expression) <= _EXPRESSION_KEYS


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

    @functools.cached_property
    def fingerprint(self) -> str | None:
        """The definition's JSON (None in a ``.pql`` file): what a verdict or a lint result
        depends on besides the expression (``evaluationInfo``, ``id``, suppressions)."""
        if self.definition is None:
            return None
        return json.dumps(self.definition.raw, sort_keys=True, default=str)

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
        """A span inside the expression as ``[start, end)`` document offsets (the offsets of
        :meth:`Definition.file_span`, without computing its lines and columns)."""
        d = self.definition
        if d is None or d.value_span is None or d.source_text is None:
            return span.start, span.end
        start = d.file_offset(span.start)
        end = d.file_offset(span.end) if d._offsets is not None else d.value_span.end
        return start, max(start, end)

    @functools.cached_property
    def raw(self) -> str | None:
        """The JSON text between the quotes of a ``pql/text`` expression string, when it holds
        no line break (always, for valid JSON): then the whole expression lies on one line of
        the document and its positions are that line's and a column counted from the opening
        quote (see :meth:`Snapshot.anchor`); None otherwise (a ``.pql`` file, ``pql/json``)."""
        d = self.definition
        if d is None or d._offsets is None or d.value_span is None or d.source_text is None:
            return None
        raw = d.source_text[d.value_span.start + 1:d.value_span.end - 1]
        return None if "\n" in raw or "\r" in raw else raw

    def columns(self, encoding: str) -> tuple[int, ...] | None:
        """Code units in ``encoding`` before each character of :attr:`raw` (None when every
        character is one unit: an ASCII string, or UTF-32)."""
        raw = self.raw
        if raw is None or encoding == "utf-32" or raw.isascii():
            return None
        found: tuple[int, ...] = _COLUMNS.get((raw, encoding),
                                              lambda: (0, *accumulate(_units(raw, encoding))))
        return found

    @property
    def extent(self) -> tuple[int, int]:
        """The document offsets the expression occupies (inside the quotes for JSON)."""
        return self.to_doc(0), self.to_doc(len(self.text))

    def quote(self, text: str) -> str:
        """``text`` as it must be written into the document (JSON-escaped inside a string)."""
        if self.definition is None:
            return text
        return json.dumps(text, ensure_ascii=False)[1:-1]


@dataclass(frozen=True, slots=True)
class Anchored:
    """Where the expression of a JSON definition stands: all on ``line``, its characters at
    columns counted from ``base`` (the column just after the opening quote).

    Features that place many things inside one expression (tokens, diagnostics, variables) use
    it instead of mapping each offset into the document and looking its line up.
    """

    line: int
    base: int
    offsets: tuple[int, ...]  # the definition's expression offset -> string offset map
    units: tuple[int, ...] | None  # :meth:`Region.columns`

    def raw_column(self, raw: int) -> int:
        """The column of offset ``raw`` inside the JSON string (escapes counted as written)."""
        return self.base + (self.units[raw] if self.units is not None else raw)

    def column(self, offset: int) -> int:
        """The column of expression offset ``offset`` (clamped like
        :meth:`Definition.file_offset`)."""
        offsets = self.offsets
        return self.raw_column(offsets[max(0, min(offset, len(offsets) - 1))])


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
    #: the line index, when the caller has it already (an edit that moved no line break)
    known_index: InitVar[LineIndex | None] = None

    def __post_init__(self, known_index: LineIndex | None) -> None:
        self.index = known_index if known_index is not None \
            else LineIndex(self.text, self.encoding)

    @classmethod
    def build(cls, uri: str, text: str, version: int | None = None, *,
              language_id: str | None = None, encoding: str = "utf-16",
              previous: Snapshot | None = None) -> Snapshot:
        """Split ``text`` into regions according to what kind of document it is.

        With the ``previous`` snapshot of the same document, an edit inside one definition's
        expression string of a JSON file reuses every other definition (moved by the length
        change) instead of reading the whole file again.
        """
        if previous is not None and previous.uri == uri and previous.encoding == encoding:
            reused = _edited_in_place(previous, text, version)
            if reused is not None:
                return reused
        snap = cls(uri, text, version, encoding)
        if not is_json(uri, language_id, text):
            snap.regions = [Region(text, comments=True)]
            return snap
        if not looks_like_definitions(text):
            return snap  # some other JSON file (package.json, rules...): not ours to judge
        try:
            definitions = load_definitions(uri, text=text)
        except DefinitionError as exc:
            snap.problems = list(exc.diagnostics)
            return snap
        snap.regions = [Region(d.expression, comments=False, definition=d) for d in definitions]
        return snap

    def anchored(self, region: Region) -> Anchored | None:
        """Where a JSON expression that lies on one line stands (None otherwise: a ``.pql``
        file, ``pql/json``); equal to mapping each offset with :meth:`Region.to_doc` and
        :meth:`LineIndex.line_column`."""
        at = self.anchor(region)
        if at is None:
            return None
        d = region.definition
        assert d is not None and d._offsets is not None
        return Anchored(at[0], at[1], d._offsets, region.columns(self.encoding))

    def anchor(self, region: Region) -> tuple[int, int] | None:
        """``(line, base)`` of :meth:`anchored`, without the rest."""
        if region.raw is None:
            return None
        d = region.definition
        assert d is not None and d.value_span is not None
        at: tuple[int, int] = self.index.line_column(d.value_span.start + 1)
        return at

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
        owners = self.cache.get("json_owners")
        if owners is None:
            spans = self.json_spans
            owners = self.cache["json_owners"] = {
                start: (path[:-2], spans[path[:-2]]) for path, (start, _end) in spans.items()
                if path[-2:] == ("expression", "value") and path[:-2] in spans}
        found: tuple[tuple[Any, ...], tuple[int, int]] | None = owners.get(d.value_span.start)
        return found

    @property
    def json_spans(self) -> dict[tuple[Any, ...], tuple[int, int]]:
        """Where each value of a JSON document is (:func:`locate_strings`), computed once."""
        spans: dict[tuple[Any, ...], tuple[int, int]] | None = self.cache.get("json_spans")
        if spans is None:
            pending = self.cache.get("json_spans_moved")
            if pending is not None:
                spans, moves = pending
                for prefix, old_end, delta in moves:
                    spans = {path: (a + delta, b + delta) if a >= old_end
                             else (a, b + delta) if b > prefix else (a, b)
                             for path, (a, b) in spans.items()}
            else:
                spans = locate_strings(self.text)
            self.cache["json_spans"] = spans
        return spans


def _edited_in_place(previous: Snapshot, text: str, version: int | None) -> Snapshot | None:
    """``previous`` updated for ``text`` when the edit stays inside one pql/text expression
    string of a JSON definition file and changes no quote, escape or line break; else None.

    Only the edited definition is read again. Definitions before the edit are kept as they are
    (the same objects, so every result memoised for them is found again); those after it are
    moved by the length change (their expression, parse and lint results do not change).
    """
    old = previous.text
    if not previous.regions or previous.problems or previous.regions[0].definition is None:
        return None
    prefix, suffix = common_affixes(old, text)
    old_end, new_end = len(old) - suffix, len(text) - suffix
    removed, inserted = old[prefix:old_end], text[prefix:new_end]
    if any(c in _UNSAFE or c < " " for c in removed + inserted):
        return None
    backslashes = len(text[:prefix]) - len(text[:prefix].rstrip("\\"))
    if backslashes % 2:
        return None  # the edit follows a backslash: an escape changed
    delta = len(inserted) - len(removed)
    target = None
    for i, region in enumerate(previous.regions):
        d = region.definition
        if d is None or d.value_span is None or d.format != "pql/text":
            continue
        if d.value_span.start < prefix and old_end < d.value_span.end:
            target = i
            break
    if target is None:
        return None
    # only positions after the edit on its line change column (no line break moved)
    line_end = old.find("\n", prefix)
    line_end = len(old) if line_end == -1 else line_end

    def column(position: int, value: int) -> int:
        """The column of old offset ``position`` (after the edit), which was ``value``."""
        return value + delta if position <= line_end else value

    regions: list[Region] = []
    for i, region in enumerate(previous.regions):
        d = region.definition
        assert d is not None
        if i == target:
            assert d.value_span is not None
            start, end = d.value_span.start, d.value_span.end + delta
            token = text[start:end]
            try:
                expression = json.loads(token)
            except ValueError:
                return None
            raw = dict(d.raw)
            if isinstance(raw.get("expression"), dict):
                raw["expression"] = {**raw["expression"], "value": expression}
            moved = dataclasses.replace(
                d, expression=expression, raw=raw, source_text=text,
                value_span=Span(start, end, d.value_span.line, d.value_span.column,
                                d.value_span.end_line,
                                column(d.value_span.end, d.value_span.end_column)),
                _offsets=_decoded_offsets(token[1:-1]))
            regions.append(Region(expression, region.comments, moved))
            continue
        span = d.value_span
        if span is None or span.end <= prefix:
            # before the edit: nothing it holds moved (its ``source_text`` is an older text,
            # identical up to the edit; the server maps through offsets only)
            regions.append(region)
            continue
        if span.start < old_end:
            return None  # an enclosing pql/json object: read the file again
        span = Span(span.start + delta, span.end + delta, span.line,
                    column(span.start, span.column), span.end_line,
                    column(span.end, span.end_column))
        # a copy with two fields changed, without ``dataclasses.replace`` (several times
        # slower, and this runs for every definition after the edit)
        copy = object.__new__(Definition)
        copy.__dict__.update(d.__dict__, value_span=span, source_text=text)
        kept = Region(region.text, region.comments, copy)
        for known in ("fingerprint", "raw"):  # the definition's JSON and string are unchanged
            if known in region.__dict__:
                kept.__dict__[known] = region.__dict__[known]
        regions.append(kept)
    snap = Snapshot(previous.uri, text, version, previous.encoding, regions,
                    known_index=previous.index.moved(text, prefix, delta))

    def moved_span(a: int, b: int) -> tuple[int, int]:
        return (a + delta, b + delta) if a >= old_end else (a, b + delta) if b > prefix \
            else (a, b)

    owners = previous.cache.get("json_owners")
    if owners is not None:
        snap.cache["json_owners"] = {
            key + delta if key >= old_end else key: (path, moved_span(*where))
            for key, (path, where) in owners.items()}
    # every JSON value's span is moved only when asked for (code actions), not on every edit
    spans = previous.cache.get("json_spans")
    pending = previous.cache.get("json_spans_moved")
    if spans is not None:
        snap.cache["json_spans_moved"] = (spans, [(prefix, old_end, delta)])
    elif pending is not None and len(pending[1]) < _MAX_PENDING_MOVES:
        snap.cache["json_spans_moved"] = (pending[0], [*pending[1], (prefix, old_end, delta)])
    return snap


#: Edits whose moves of every JSON value's span wait for a request (beyond: read again).
_MAX_PENDING_MOVES = 64


_UNSAFE = frozenset('"\\')


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
