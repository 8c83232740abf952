"""Schema awareness: which fields exist and what type each one has.

Two input shapes are accepted (see ``examples/schema/``):

* an XDM JSON Schema as the Schema Registry exports it: nested ``properties``, ``type``,
  ``format: date-time``/``date``, ``meta:xdmType``, ``items`` for arrays, ``additionalProperties``
  for maps, ``allOf``/``$ref`` to ``#/definitions/...`` inside the same file. Tenant fields live
  under the tenant namespace (``_tenant`` or ``_yourOrg``) like any other object. A schema whose
  class (``meta:class`` or ``meta:extends``) is XDM ExperienceEvent is mounted under ``xEvent``
  (an array of those events); any other schema describes the profile root.
* a JSON array of such schemas (a profile schema and an ExperienceEvent schema, merged);
* a flat map ``{"homeAddress.countryCode": "string", "xEvent.timestamp": "date-time"}``.
  A ``[]`` suffix on a segment marks an array (``"orders[].price": "number"``) and ``{}`` a map
  (``"identityMap{}.id": "string"``); parents not listed are objects.

Types are normalised to the function catalogue's vocabulary: ``string``, ``integer``,
``number``, ``boolean``, ``object``, ``list``, ``map``, ``date``, ``timestamp``.

Paths are looked up as PQL navigates them: an array is stepped into transparently
(``xEvent.commerce.order`` navigates through the event array) and a map consumes one segment as
its key (``identityMap.ECID``, or ``*`` for "any key"). A ``$ref`` outside the file cannot be
followed: that object is *open* and every path below it is accepted with type ``any``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from pqltools.errors import Diagnostic, PQLError, Severity, Span
from pqltools.records import record

__all__ = ["EXPERIENCE_EVENT", "FieldInfo", "Schema", "SchemaError", "load_schema"]

#: The XDM class whose schemas describe ``xEvent`` elements.
EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"

_XDM_TYPES = {
    "string": "string", "int": "integer", "long": "integer", "short": "integer",
    "byte": "integer", "integer": "integer", "double": "number", "number": "number",
    "boolean": "boolean", "date": "date", "date-time": "timestamp", "object": "object",
    "array": "list", "map": "map",
}
_SIMPLE_TYPES = {**_XDM_TYPES, "datetime": "timestamp", "timestamp": "timestamp",
                 "list": "list", "any": "any", "float": "number", "long": "integer"}


class SchemaError(PQLError):
    """A schema file is unusable (not JSON, wrong shape, unknown type name)."""

    def __init__(self, message: str, *, path: str):
        self.path = path
        super().__init__([Diagnostic("PQL092", message, Severity.ERROR,
                                     Span(0, 0, 1, 1, 1, 1))])

    def _summary(self) -> str:
        return f"{self.path}: {self.diagnostics[0].message}"


@record
class _Node:
    """One schema position. ``items`` for arrays, ``values`` for maps, ``open`` = unknown below."""

    type: str
    description: str = ""
    children: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None
    values: _Node | None = None
    open: bool = False


@record(frozen=True, slots=True)
class FieldInfo:
    """What the schema says about one path.

    ``type`` is the field's own type (``any`` below an open object). ``through_array``: an
    array was stepped into before reaching the field, so PQL navigation yields a list of
    values. ``item_type``: the element type when the field itself is an array.
    """

    path: tuple[str, ...]
    type: str
    through_array: bool = False
    item_type: str | None = None
    description: str = ""

    @property
    def dotted(self) -> str:
        """``a.b.c``."""
        return ".".join(self.path)


class Schema:
    """A lookup table of field paths and types for the profile and ``xEvent``."""

    def __init__(self, root: _Node | None = None, source: str = "<schema>"):
        self._root = root or _Node("object")
        self.source = source

    # ---- construction ---------------------------------------------------------------------

    @classmethod
    def load(cls, source: str | Path | Mapping[str, Any] | Schema) -> Schema:
        """Load an XDM JSON Schema file, a ``{path: type}`` file, or the parsed equivalent."""
        if isinstance(source, Schema):
            return source
        label = "<schema>" if isinstance(source, Mapping) else str(source)
        try:
            return cls._load(source)
        except RecursionError:  # the JSON decoder and the XDM reader recurse per level
            raise SchemaError("schema is nested too deeply to read", path=label) from None

    @classmethod
    def _load(cls, source: str | Path | Mapping[str, Any]) -> Schema:
        if isinstance(source, Mapping):
            return cls._from_data(source, "<schema>")
        path = Path(source)
        import json

        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise SchemaError(f"cannot read schema: {exc.strerror}", path=str(path)) from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SchemaError(f"schema is not valid JSON: {exc}", path=str(path)) from exc
        if isinstance(data, list) and data and all(isinstance(d, Mapping) for d in data):
            # A profile schema and an ExperienceEvent schema exported into one file.
            return cls.merge(cls._from_data(d, str(path)) for d in data)
        if not isinstance(data, Mapping):
            raise SchemaError("a schema must be a JSON object (or an array of schema objects)",
                              path=str(path))
        return cls._from_data(data, str(path))

    @classmethod
    def merge(cls, schemas: Iterable[Schema]) -> Schema:
        """One schema with the fields of all (later schemas add to earlier ones)."""
        merged = cls()
        for schema in schemas:
            _merge_into(merged._root, schema._root)
            merged.source = schema.source
        return merged

    @classmethod
    def _from_data(cls, data: Mapping[str, Any], source: str) -> Schema:
        if _looks_like_json_schema(data):
            root = _XdmReader(data, source).node(data)
            if _is_event_schema(data):
                events = _Node("list", "ExperienceEvents of the profile", items=root)
                root = _Node("object", children={"xEvent": events})
            return cls(root, source)
        return cls(_from_flat_map(data, source), source)

    # ---- queries --------------------------------------------------------------------------

    def lookup(self, path: str | Sequence[str]) -> FieldInfo | None:
        """The field at ``path`` (dotted or segments), navigating arrays and maps as PQL does;
        None when the schema has no such field."""
        if isinstance(path, str):
            path = tuple(path.split("."))
        node = self._root
        through_array = False
        for segment in path:
            if node.open:
                return FieldInfo(tuple(path), "any", through_array)
            if node.type == "list" and node.items is not None:
                node, through_array = node.items, True
                if node.open:
                    return FieldInfo(tuple(path), "any", through_array)
            if node.type == "map":
                node = node.values or _Node("any", open=True)
                continue
            child = node.children.get(segment)
            if child is None:
                return None
            node = child
        item = node.items.type if node.type == "list" and node.items is not None else None
        return FieldInfo(tuple(path), node.type, through_array, item, node.description)

    def children(self, path: Sequence[str] = ()) -> list[FieldInfo]:
        """The fields directly below ``path`` (array items and map values stepped into)."""
        node = self._node_at(path)
        if node is None:
            return []
        while node.type in ("list", "map"):
            inner = node.items if node.type == "list" else node.values
            if inner is None:
                return []
            node = inner
        out = []
        for name in sorted(node.children):
            info = self.lookup((*path, name))
            if info is not None:
                out.append(info)
        return out

    def paths(self) -> list[tuple[str, str]]:
        """Every known ``(dotted path, type)``, sorted by path (map keys shown as ``*``).

        This is what completion lists; :meth:`fields` gives the full :class:`FieldInfo`.
        """
        return [(info.dotted, info.type) for info in self.fields()]

    def fields(self) -> Iterator[FieldInfo]:
        """Every known field with its type."""
        for path, _node in sorted(self._walk()):
            info = self.lookup(path)
            if info is not None:
                yield info

    def suggest(self, path: Sequence[str]) -> str | None:
        """The closest sibling name for the last segment of an unknown ``path``."""
        names = [f.path[-1] for f in self.children(path[:-1])]
        lowered = {n.lower(): n for n in names}
        if path[-1].lower() in lowered:
            return lowered[path[-1].lower()]
        import difflib

        close = difflib.get_close_matches(path[-1], names, n=1, cutoff=0.7)
        return close[0] if close else None

    def _node_at(self, path: Sequence[str]) -> _Node | None:
        node: _Node | None = self._root
        for segment in path:
            if node is None or node.open:
                return None
            if node.type == "list" and node.items is not None:
                node = node.items
            node = node.values if node.type == "map" else node.children.get(segment)
        return node

    def _walk(self) -> Iterator[tuple[tuple[str, ...], _Node]]:
        stack: list[tuple[tuple[str, ...], _Node]] = [((), self._root)]
        while stack:
            path, node = stack.pop()
            if path:
                yield path, node
            inner = node
            while inner.type in ("list", "map"):
                nxt = inner.items if inner.type == "list" else inner.values
                if nxt is None:
                    break
                if inner.type == "map":
                    path = (*path, "*")
                    if nxt.type not in ("object", "list", "map") or not nxt.children:
                        yield path, nxt
                inner = nxt
            for name, child in inner.children.items():
                stack.append(((*path, name), child))


def load_schema(source: str | Path | Mapping[str, Any] | Schema | Sequence[str | Path]
                ) -> Schema:
    """:meth:`Schema.load` for one source, or a merge of several files."""
    if isinstance(source, (list, tuple)):
        return Schema.merge(Schema.load(s) for s in source)
    return Schema.load(source)  # type: ignore[arg-type]


# ---- XDM JSON Schema reading ------------------------------------------------------------------


def _looks_like_json_schema(data: Mapping[str, Any]) -> bool:
    keys = {"properties", "allOf", "definitions", "$schema", "$id", "meta:class", "type"}
    return bool(keys & set(data)) and not all(isinstance(v, str) for v in data.values())


def _is_event_schema(data: Mapping[str, Any]) -> bool:
    extends = data.get("meta:extends", [])
    return data.get("meta:class") == EXPERIENCE_EVENT or (
        isinstance(extends, list) and EXPERIENCE_EVENT in extends)


class _XdmReader:
    """Turns a JSON Schema object into :class:`_Node` trees, resolving in-file ``$ref``."""

    def __init__(self, document: Mapping[str, Any], source: str):
        self.document = document
        self.source = source
        self.resolving: set[str] = set()

    def node(self, schema: Any) -> _Node:
        if not isinstance(schema, Mapping):
            return _Node("any", open=True)
        description = str(schema.get("description") or schema.get("title") or "")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._ref(ref, description)
        node = _Node(self._type(schema), description)
        for part in schema.get("allOf", []) or []:
            _merge_into(node, self.node(part))
        props = schema.get("properties")
        if isinstance(props, Mapping):
            node.type = "object" if node.type == "any" else node.type
            for name, sub in props.items():
                node.children[name] = self.node(sub)
        if node.type == "list":
            node.items = self.node(schema.get("items", {}))
        extra = schema.get("additionalProperties")
        if node.type == "map" or (isinstance(extra, Mapping) and not props):
            node.type = "map"
            node.values = self.node(extra) if isinstance(extra, Mapping) else _Node("any",
                                                                                    open=True)
        if node.type == "any" and not node.children and "allOf" not in schema:
            node.open = True
        return node

    def _ref(self, ref: str, description: str) -> _Node:
        if not ref.startswith("#/") or ref in self.resolving:
            # Another file (standard XDM field groups) or a cycle: unknown below this point.
            return _Node("object", description, open=True)
        target: Any = self.document
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        if target is None:
            raise SchemaError(f"$ref {ref!r} points at nothing in this file", path=self.source)
        self.resolving.add(ref)
        try:
            return self.node(target)
        finally:
            self.resolving.discard(ref)

    def _type(self, schema: Mapping[str, Any]) -> str:
        xdm = schema.get("meta:xdmType")
        if isinstance(xdm, str) and xdm in _XDM_TYPES:
            return _XDM_TYPES[xdm]
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "string" and schema.get("format") in ("date-time", "date"):
            return _XDM_TYPES[str(schema["format"])]
        return _XDM_TYPES.get(str(kind), "any") if kind is not None else "any"


def _merge_into(target: _Node, extra: _Node) -> None:
    if target.type == "any" and extra.type != "any":
        target.type = extra.type
    # An object partly defined by a reference we cannot follow may have any other field too.
    target.open = target.open or extra.open
    for name, child in extra.children.items():
        if name in target.children:
            _merge_into(target.children[name], child)
        else:
            target.children[name] = child
    target.items = target.items or extra.items
    target.values = target.values or extra.values
    target.description = target.description or extra.description


# ---- flat {path: type} maps -----------------------------------------------------------------


def _from_flat_map(data: Mapping[str, Any], source: str) -> _Node:
    root = _Node("object")
    for dotted, type_name in data.items():
        if not isinstance(type_name, str) or type_name.lower() not in _SIMPLE_TYPES:
            raise SchemaError(f"field {dotted!r}: unknown type {type_name!r} (expected one of "
                              f"{', '.join(sorted(set(_SIMPLE_TYPES)))})", path=source)
        node = root
        segments = str(dotted).split(".")
        if not all(segments):
            raise SchemaError(f"field {dotted!r}: empty path segment", path=source)
        for i, raw in enumerate(segments):
            name, wrappers = _strip_markers(raw)
            child = node.children.get(name)
            if child is None:
                child = _Node("object")
                node.children[name] = child
            node = child
            for wrap in wrappers:
                node.type = wrap
                if wrap == "list":
                    node.items = node.items or _Node("object")
                    node = node.items
                else:
                    node.values = node.values or _Node("object")
                    node = node.values
            if i == len(segments) - 1:
                node.type = _SIMPLE_TYPES[type_name.lower()]
                if node.type == "list" and node.items is None:
                    node.items = _Node("any", open=True)
                if node.type == "map" and node.values is None:
                    node.values = _Node("any", open=True)
    if "xEvent" in root.children and root.children["xEvent"].type == "object":
        # "xEvent.eventType" without [] still means the events array.
        events = root.children["xEvent"]
        root.children["xEvent"] = _Node("list", "ExperienceEvents of the profile", items=events)
    return root


def _strip_markers(segment: str) -> tuple[str, list[str]]:
    """``identityMap{}[]`` -> ``("identityMap", ["map", "list"])`` (outermost first)."""
    wrappers: list[str] = []
    while segment.endswith(("[]", "{}")):
        wrappers.insert(0, "list" if segment.endswith("[]") else "map")
        segment = segment[:-2]
    return segment, wrappers
