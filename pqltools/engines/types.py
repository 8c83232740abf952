"""The column types the SQL compiler reasons about, whatever the engine or the input format.

PQL is dynamically typed; SQL is not. The engines therefore compile against the *schema* of the
data (a Parquet file, a DuckDB relation, a Spark DataFrame, or the structure found in JSON input),
and every compiled expression carries one of these types. ``null`` is the type of a path the data
never has (always null); ``json`` is a path whose values have different JSON types in different
rows (a string here, a number there): the compiler refuses to read it, since no SQL column type
keeps PQL's meaning for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BIGINT", "BOOLEAN", "DATE", "DOUBLE", "JSON", "NULL", "STRING", "TIMESTAMP", "ListOf",
           "Scalar", "SqlType", "Struct", "describe", "infer_value", "merge", "prune"]


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar column type: string, bigint, double, boolean, timestamp, null or json."""

    kind: str

    @property
    def is_number(self) -> bool:
        """Whether values of this type are PQL numbers."""
        return self.kind in ("bigint", "double")


@dataclass(frozen=True, slots=True)
class ListOf:
    """A list (DuckDB ``T[]``, Spark ``ARRAY<T>``)."""

    item: SqlType


@dataclass(frozen=True, slots=True)
class Struct:
    """An object with known fields (DuckDB ``STRUCT``, Spark ``STRUCT``), in column order."""

    fields: tuple[tuple[str, SqlType], ...]

    def get(self, name: str) -> SqlType | None:
        """The type of field ``name``, or None when the object has no such field."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @classmethod
    def of(cls, fields: Mapping[str, SqlType]) -> Struct:
        """A struct from a mapping (insertion order kept)."""
        return cls(tuple(fields.items()))


SqlType = Scalar | ListOf | Struct

STRING = Scalar("string")
BIGINT = Scalar("bigint")
DOUBLE = Scalar("double")
BOOLEAN = Scalar("boolean")
TIMESTAMP = Scalar("timestamp")
NULL = Scalar("null")
JSON = Scalar("json")
#: the value of ``date(...)``: a calendar day, held as its ISO text ``YYYY-MM-DD`` but equal only
#: to another day (never to a string) and not ordered; data never has this type
DATE = Scalar("date")


def describe(t: SqlType) -> str:
    """A short name for messages: ``string``, ``list of number``, ``object``."""
    if isinstance(t, ListOf):
        return f"list of {describe(t.item)}"
    if isinstance(t, Struct):
        return "object"
    return {"bigint": "number", "double": "number", "json": "mixed JSON types"}.get(t.kind, t.kind)


def merge(a: SqlType, b: SqlType) -> SqlType:
    """The type that holds values of both ``a`` and ``b`` (``json`` when none does)."""
    if a == b:
        return a
    if a == NULL:
        return b
    if b == NULL:
        return a
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        if a.is_number and b.is_number:
            return DOUBLE
        return JSON
    if isinstance(a, ListOf) and isinstance(b, ListOf):
        return ListOf(merge(a.item, b.item))
    if isinstance(a, Struct) and isinstance(b, Struct):
        fields = dict(a.fields)
        for key, value in b.fields:
            fields[key] = merge(fields[key], value) if key in fields else value
        return Struct.of(fields)
    return JSON


def infer_value(v: Any) -> SqlType:
    """The type of one JSON value (Python object)."""
    if v is None:
        return NULL
    if v is True or v is False:
        return BOOLEAN
    if isinstance(v, int):
        return BIGINT
    if isinstance(v, float):
        return DOUBLE
    if isinstance(v, str):
        return STRING
    if isinstance(v, list):
        item: SqlType = NULL
        for x in v:
            item = merge(item, infer_value(x))
        return ListOf(item)
    if isinstance(v, Mapping):
        return Struct.of({str(k): infer_value(x) for k, x in v.items()})
    return JSON


def prune(t: SqlType, names: Iterable[str] | None) -> SqlType:
    """``t`` keeping only object fields whose name is in ``names`` (all when None).

    The compiler reads a path only through names that occur in the definition, so the others
    need not be read at all (the projection pushed down into the scan).
    """
    keep = None if names is None else frozenset(names)
    return _prune(t, keep)


#: Fields kept whole when named: a profile's id may be any namespace of ``identityMap``
#: (``profile_id``), whose names no definition spells; membership output carries every entry of
#: ``segmentMembership``.
WHOLE = frozenset({"identityMap", "segmentMembership"})


def _prune(t: SqlType, keep: frozenset[str] | None) -> SqlType:
    if isinstance(t, ListOf):
        return ListOf(_prune(t.item, keep))
    if isinstance(t, Struct):
        return Struct(tuple((k, v if k in WHOLE and keep is not None and k in keep
                             else _prune(v, keep)) for k, v in t.fields
                            if keep is None or k in keep))
    return t
