"""Segment definitions (the Segmentation API's JSON envelope) as input.

:func:`load_definitions` reads a file (or an already-parsed object) holding one definition, a list
of them, or a list response (``{"segments": [...]}``, ``{"children": [...]}``), and returns one
:class:`Definition` per expression with the place of that expression in the file, so that every
later diagnostic can point at the right line and column *inside the JSON file*, JSON escapes
included.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import field
from pathlib import Path
from typing import Any

from pqltools.errors import DefinitionError, PQLError, Span
from pqltools.records import record

__all__ = ["Definition", "NoDefinitionError", "load_definitions", "locate_strings",
           "request_kind"]

#: Envelope keys under which a list response holds its definitions.
LIST_KEYS = ("segments", "children", "audiences", "definitions")
FORMATS = ("pql/text", "pql/json")


@record(frozen=True)
class Definition:
    """One segment definition's expression, with its place in the file it came from.

    ``expression`` is always PQL text: for a ``pql/json`` definition it is the text the JSON AST
    converts to. ``value_span`` is the span of the JSON string token holding the expression
    (quotes included) in ``source_text``, or of the JSON object for ``pql/json``; None when the
    definition came from a Python object.
    """

    path: str
    index: int
    expression: str
    format: str = "pql/text"
    id: str | None = None
    name: str | None = None
    evaluation_info: dict[str, bool] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    value_span: Span | None = None
    source_text: str | None = field(default=None, repr=False, compare=False)
    _offsets: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """``file.json[2] "name"``: how reports name this definition."""
        import json

        shown = f" {json.dumps(self.name)}" if self.name else ""
        return f"{self.path}[{self.index}]{shown}"

    @property
    def requested_methods(self) -> set[str]:
        """Evaluation methods ``evaluationInfo`` asks for: streaming, edge, batch."""
        names = {"continuous": "streaming", "synchronous": "edge", "batch": "batch"}
        return {names[k] for k, on in self.evaluation_info.items() if on and k in names}

    def file_offset(self, offset: int) -> int:
        """Map an offset inside ``expression`` to an offset in ``source_text``."""
        if self.value_span is None:
            return offset
        if self._offsets is None:  # pql/json: point at the JSON value itself
            return self.value_span.start
        offset = max(0, min(offset, len(self._offsets) - 1))
        return self.value_span.start + 1 + self._offsets[offset]

    def expression_offset(self, offset: int) -> int | None:
        """Map an offset in ``source_text`` to one inside ``expression``; None when outside it.

        The inverse of :meth:`file_offset` (an offset inside a JSON escape maps to the character
        the escape stands for). Always None for ``pql/json`` definitions.
        """
        if self.value_span is None or self._offsets is None:
            return None
        raw = offset - self.value_span.start - 1
        if raw < 0 or raw > self._offsets[-1]:
            return None
        return bisect.bisect_right(self._offsets, raw) - 1

    def file_span(self, span: Span) -> Span:
        """Map a span inside ``expression`` to a span (line, column) in ``source_text``."""
        if self.value_span is None or self.source_text is None:
            return span
        start = self.file_offset(span.start)
        end = self.file_offset(span.end) if self._offsets is not None else self.value_span.end
        return Span.from_offsets(self.source_text, start, max(start, end))


def _decoded_offsets(raw: str) -> tuple[int, ...]:
    """For each character of the decoded JSON string (plus its end), its offset in ``raw``."""
    offsets: list[int] = []
    i = 0
    n = len(raw)
    while i < n:
        if raw[i] == "\\" and i + 1 < n:
            width = 6 if raw[i + 1] == "u" else 2
            code = raw[i + 2 : i + 6] if raw[i + 1] == "u" else ""
            # a surrogate pair decodes to one character from 12 raw characters
            low = raw[i + 8 : i + 12] if raw[i + 6 : i + 8] == "\\u" else ""
            if (code and 0xD800 <= int(code, 16) <= 0xDBFF and len(low) == 4
                    and 0xDC00 <= int(low, 16) <= 0xDFFF):
                width = 12
            offsets.append(i)
            i += width
        else:
            offsets.append(i)
            i += 1
    offsets.append(n)
    return tuple(offsets)


_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<open>[\[{])|(?P<close>[\]}])|(?P<colon>:)'
    r"|(?P<comma>,)|(?P<lit>[^\s\[\]{},:\"]+))",
    re.DOTALL,
)


def locate_strings(text: str) -> dict[tuple[Any, ...], tuple[int, int]]:
    """The ``[start, end)`` offsets of every JSON value, keyed by its path (keys and indices).

    Only called on text that ``json.loads`` accepted, so it can trust the structure; it uses an
    explicit stack, never recursion.
    """
    spans: dict[tuple[Any, ...], tuple[int, int]] = {}
    # stack entries: [container kind, path, next index or pending key, start offset]
    stack: list[list[Any]] = []
    pos = 0
    pending_key: Any = None
    expect_key = False

    def current_path() -> tuple[Any, ...]:
        if not stack:
            return ()
        kind, path, state, _ = stack[-1]
        parent: tuple[Any, ...] = path
        return parent + ((pending_key,) if kind == "{" else (state,))

    while True:
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        start = m.start(kind) if kind else pos
        if kind == "open":
            path = current_path()
            stack.append([m.group("open"), path, 0, start])
            expect_key = m.group("open") == "{"
        elif kind == "close":
            _, path, _, begin = stack.pop()
            spans[path] = (begin, pos)
            if stack and stack[-1][0] == "[":
                stack[-1][2] += 1
            expect_key = False
        elif kind == "colon":
            expect_key = False
        elif kind == "comma":
            if stack and stack[-1][0] == "{":
                expect_key = True
        elif kind in ("str", "lit"):
            token = m.group(kind)
            if expect_key and stack and stack[-1][0] == "{":
                # keys rarely hold escapes: skip the JSON decoder for the common case
                pending_key = token[1:-1] if "\\" not in token else _json_loads(token)
                expect_key = False
                continue
            spans[current_path()] = (start, pos)
            if stack and stack[-1][0] == "[":
                stack[-1][2] += 1
    return spans


class NoDefinitionError(DefinitionError):
    """The JSON file holds no segment definition at all (an export job, a schedule...)."""

    def __init__(self, message: str, *, path: str, kind: str | None, text: str | None = None):
        super().__init__(message, path=path, span=Span.from_offsets(text, 0, 0) if text else
                         Span(0, 0, 1, 1, 1, 1), text=text)
        self.kind = kind


#: Segmentation API request and response bodies that hold no definition: (kind, its test).
_REQUEST_KINDS: tuple[tuple[str, Any], ...] = (
    ("ad-hoc activation request", lambda o: isinstance(o, dict) and "activationInfo" in o),
    ("schedule", lambda o: isinstance(o, dict) and "schedule" in o
     or isinstance(o, dict) and o.get("type") in ("batch_segmentation", "export")),
    ("export job", lambda o: isinstance(o, dict) and ("destination" in o or "fields" in o
                                                      or "filter" in o)),
    ("preview request", lambda o: isinstance(o, dict) and "predicateExpression" in o),
    ("segment job request", lambda o: (isinstance(o, list) and o and all(
        isinstance(i, dict) and "segmentId" in i and "segment" not in i for i in o))
     or (isinstance(o, dict) and isinstance(o.get("segments"), list) and o["segments"] and all(
        isinstance(i, dict) and "segmentId" in i and "segment" not in i for i in o["segments"]))),
)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def request_kind(obj: Any) -> str | None:
    """What a decoded JSON body is when it is a request that holds no definition, else None."""
    if isinstance(obj, dict) and "expression" in obj:
        return None
    for kind, test in _REQUEST_KINDS:
        if test(obj):
            return kind
    return None


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (``string``, not Python's ``str``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _error(path: str, text: str | None, message: str, offset: int = 0) -> DefinitionError:
    span = Span.from_offsets(text, offset, offset) if text is not None else Span(0, 0, 1, 1, 1, 1)
    return DefinitionError(message, path=path, span=span, text=text)


def load_definitions(source: str | Path | dict[str, Any] | list[Any], *,
                     text: str | None = None) -> list[Definition]:
    """Read segment definitions from a JSON file path, JSON text, or a parsed object.

    Accepts one definition, a list of definitions, or a list response with ``segments`` (or
    ``children``/``audiences``/``definitions``). Raises :class:`~pqltools.errors.DefinitionError`,
    naming the file, line and column, for malformed JSON, a definition without an expression, an
    expression that is not PQL, or an unknown ``format``.
    """
    label = "<object>"
    obj: Any
    if isinstance(source, (dict, list)):
        obj = source
    else:
        if text is None:
            path = Path(source)
            label = str(source)
            try:
                text = path.read_text("utf-8")
            except UnicodeDecodeError as exc:
                raise _error(label, None, f"file is not UTF-8 text (byte {exc.start})") from None
            except OSError as exc:
                raise _error(label, None, f"cannot read file: {exc.strerror or exc}") from None
        else:
            label = str(source)
        import json  # not at import time: a .pql file needs no JSON (start-up)

        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _error(label, text, f"not valid JSON: {exc.msg}", exc.pos) from None
        except RecursionError:
            raise _error(label, text, "JSON is nested too deeply") from None
    spans = locate_strings(text) if text is not None else {}

    kind = request_kind(obj)
    if kind is not None:
        raise NoDefinitionError(f"holds no segment definition: it is {_article(kind)} {kind} body",
                                path=label, kind=kind, text=text)
    items: list[tuple[tuple[Any, ...], Any]]
    if isinstance(obj, dict) and _job_segments(obj):
        items = _job_segments(obj)
    elif isinstance(obj, list):
        items = [((i,), item) for i, item in enumerate(obj)]
    elif isinstance(obj, dict) and "expression" not in obj and any(
        isinstance(obj.get(k), list) for k in LIST_KEYS
    ):
        key = next(k for k in LIST_KEYS if isinstance(obj.get(k), list))
        items = [((key, i), item) for i, item in enumerate(obj[key])]
    else:
        items = [((), obj)]

    out: list[Definition] = []
    for index, (path_key, item) in enumerate(items):
        out.append(_definition(label, text, spans, path_key, index, item))
    return out


def _job_segments(obj: dict[str, Any]) -> list[tuple[tuple[Any, ...], Any]]:
    """A segment job response's definitions, one level down: ``segments[i].segment``.

    The item's ``segmentId`` is the definition's id when the inner object has none.
    """
    segments = obj.get("segments")
    if "expression" in obj or not isinstance(segments, list) or not any(
            isinstance(s, dict) and isinstance(s.get("segment"), dict) for s in segments):
        return []
    out: list[tuple[tuple[Any, ...], Any]] = []
    for i, item in enumerate(segments):
        if isinstance(item, dict) and isinstance(item.get("segment"), dict):
            inner = item["segment"]
            if "id" not in inner and isinstance(item.get("segmentId"), str):
                inner = {**inner, "id": item["segmentId"]}
            out.append((("segments", i, "segment"), inner))
    return out


def _definition(label: str, text: str | None, spans: dict[tuple[Any, ...], tuple[int, int]],
                where: tuple[Any, ...], index: int, item: Any) -> Definition:
    def at(*keys: Any) -> int:
        for n in range(len(keys), -1, -1):
            found = spans.get(where + keys[:n])
            if found:
                return found[0]
        return 0

    if not isinstance(item, dict):
        raise _error(label, text, f"definition {index} is a JSON {_json_type(item)}, "
                     "not an object", at())
    expression = item.get("expression")
    if expression is None:
        raise _error(label, text, f"definition {index} has no `expression`", at())
    if not isinstance(expression, dict):
        raise _error(label, text, f"definition {index}: `expression` must be an object with "
                     "`type`, `format` and `value`", at("expression"))
    etype = expression.get("type", "PQL")
    if not isinstance(etype, str) or etype.upper() != "PQL":
        raise _error(label, text, f"definition {index}: expression type {etype!r} is not PQL",
                     at("expression", "type"))
    fmt = expression.get("format", "pql/text")
    if fmt not in FORMATS:
        raise _error(label, text, f"definition {index}: unknown expression format {fmt!r} "
                     f"(expected one of {', '.join(FORMATS)})", at("expression", "format"))
    if "value" not in expression:
        raise _error(label, text, f"definition {index}: `expression` has no `value`",
                     at("expression"))
    value = expression["value"]
    value_pos = spans.get(where + ("expression", "value"))
    value_span = Span.from_offsets(text, *value_pos) if (text and value_pos) else None
    offsets: tuple[int, ...] | None = None
    if fmt == "pql/text":
        if not isinstance(value, str):
            raise _error(label, text, f"definition {index}: a pql/text `value` must be a string",
                         at("expression", "value"))
        pql = value
        if text is not None and value_pos is not None:
            offsets = _decoded_offsets(text[value_pos[0] + 1 : value_pos[1] - 1])
    else:
        from pqltools.syntax.pqljson import from_json
        from pqltools.syntax.printer import format as format_pql

        try:
            pql = format_pql(from_json(value))
        except PQLError as exc:  # from_json reports the place inside the JSON value
            raise _error(label, text, f"definition {index}: invalid pql/json value: {exc}",
                         at("expression", "value")) from None
    info = item.get("evaluationInfo") or {}
    evaluation = {
        k: bool(v.get("enabled")) for k, v in info.items() if isinstance(v, dict)
    } if isinstance(info, dict) else {}
    return Definition(
        path=label,
        index=index,
        expression=pql,
        format=fmt,
        id=item.get("id") if isinstance(item.get("id"), str) else None,
        name=item.get("name") if isinstance(item.get("name"), str) else None,
        evaluation_info=evaluation,
        raw=item,
        value_span=value_span,
        source_text=text,
        _offsets=offsets,
    )


def _json_loads(text: str) -> Any:
    import json

    return json.loads(text)
