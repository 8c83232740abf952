"""Schemas of profile data: found in DuckDB and Spark types, JSON structure or Python values,
and rendered back as DuckDB and Spark type names for an explicit read schema."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pqltools.engines.types import (
    BIGINT,
    BOOLEAN,
    DOUBLE,
    JSON,
    NULL,
    STRING,
    TIMESTAMP,
    ListOf,
    Scalar,
    SqlType,
    Struct,
    infer_value,
    merge,
)

__all__ = ["duckdb_type_name", "from_duckdb_type", "from_json_structure", "from_spark_type",
           "infer_rows", "spark_type"]

_DUCK_SCALARS = {
    "VARCHAR": STRING, "BOOLEAN": BOOLEAN, "BIGINT": BIGINT, "INTEGER": BIGINT,
    "SMALLINT": BIGINT, "TINYINT": BIGINT, "HUGEINT": BIGINT, "UBIGINT": BIGINT,
    "UINTEGER": BIGINT, "USMALLINT": BIGINT, "UTINYINT": BIGINT, "DOUBLE": DOUBLE,
    "FLOAT": DOUBLE, "DECIMAL": DOUBLE, "TIMESTAMP": TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": TIMESTAMP, "TIMESTAMP_MS": TIMESTAMP, "TIMESTAMP_NS": TIMESTAMP,
    "TIMESTAMP_S": TIMESTAMP, "DATE": TIMESTAMP, "NULL": NULL, "JSON": JSON,
}


def from_duckdb_type(t: Any) -> SqlType:
    """Our type for a DuckDB type (a ``DuckDBPyType``); unknown kinds read as ``json``."""
    kind = t.id.upper()
    if kind == "STRUCT":
        return Struct(tuple((name, from_duckdb_type(child)) for name, child in t.children))
    if kind in ("LIST", "ARRAY"):
        return ListOf(from_duckdb_type(t.children[0][1]))
    name = str(t).upper()
    if name in _DUCK_SCALARS:
        return _DUCK_SCALARS[name]
    if name.startswith("DECIMAL"):
        return DOUBLE
    return _DUCK_SCALARS.get(kind, JSON)


def from_json_structure(text: str | None) -> SqlType:
    """Our type for DuckDB's ``json_group_structure`` output."""
    if text is None:
        return NULL
    return _structure(json.loads(text))


def _structure(node: Any) -> SqlType:
    if isinstance(node, dict):
        return Struct(tuple((k, _structure(v)) for k, v in node.items()))
    if isinstance(node, list):
        return ListOf(_structure(node[0]) if node else NULL)
    return {"VARCHAR": STRING, "BIGINT": BIGINT, "UBIGINT": BIGINT, "DOUBLE": DOUBLE,
            "BOOLEAN": BOOLEAN, "NULL": NULL}.get(str(node), JSON)


def duckdb_type_name(t: SqlType) -> str:
    """The DuckDB type that reads values of type ``t`` (null reads as VARCHAR, json as JSON)."""
    if isinstance(t, ListOf):
        return duckdb_type_name(t.item) + "[]"
    if isinstance(t, Struct):
        fields = ", ".join(f'{_duck_ident(k)} {duckdb_type_name(v)}' for k, v in t.fields)
        return f"STRUCT({fields})" if fields else "JSON"
    return {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
            "timestamp": "TIMESTAMPTZ", "null": "VARCHAR", "json": "JSON"}[t.kind]


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def infer_rows(rows: Iterable[Mapping[str, Any]]) -> Struct:
    """The merged type of in-memory JSON objects (every value seen: no sampling)."""
    t: SqlType = Struct(())
    for row in rows:
        t = merge(t, infer_value(row))
    return t if isinstance(t, Struct) else Struct(())


def from_spark_type(t: Any) -> SqlType:
    """Our type for a Spark ``DataType``."""
    name = type(t).__name__
    if name == "StructType":
        return Struct(tuple((f.name, from_spark_type(f.dataType)) for f in t.fields))
    if name == "ArrayType":
        return ListOf(from_spark_type(t.elementType))
    return {"StringType": STRING, "BooleanType": BOOLEAN, "LongType": BIGINT,
            "IntegerType": BIGINT, "ShortType": BIGINT, "ByteType": BIGINT,
            "DoubleType": DOUBLE, "FloatType": DOUBLE, "DecimalType": DOUBLE,
            "TimestampType": TIMESTAMP, "TimestampNTZType": TIMESTAMP, "DateType": TIMESTAMP,
            "NullType": NULL}.get(name, JSON)


def spark_type(t: SqlType) -> Any:
    """The Spark ``DataType`` that holds values of type ``t`` (null and json as strings)."""
    from pyspark.sql import types as st
    if isinstance(t, ListOf):
        return st.ArrayType(spark_type(t.item))
    if isinstance(t, Struct):
        return st.StructType([st.StructField(k, spark_type(v)) for k, v in t.fields])
    return {"string": st.StringType(), "bigint": st.LongType(), "double": st.DoubleType(),
            "boolean": st.BooleanType(), "timestamp": st.TimestampType(),
            "null": st.StringType(), "json": st.StringType()}[t.kind]


def conform(value: Any, t: SqlType, *, json_text: bool = True) -> Any:
    """``value`` shaped to type ``t`` for loading (ints of a double column become floats).

    A ``json`` path (different JSON types in different rows) is loaded as its JSON text
    (``json_text``: a Spark STRING column) or as the value itself (a DuckDB JSON column read
    from NDJSON), so that it holds the same JSON text in both engines.
    """
    if value is None:
        return None
    if isinstance(t, Struct):
        if not isinstance(value, Mapping):
            return None
        return {k: conform(value.get(k), v, json_text=json_text) for k, v in t.fields}
    if isinstance(t, ListOf):
        return [conform(v, t.item, json_text=json_text) for v in value] \
            if isinstance(value, list) else None
    if t == DOUBLE and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if t == JSON or t == NULL:
        return None if t == NULL else json.dumps(value) if json_text else value
    return value


__all__ += ["conform", "Scalar"]
