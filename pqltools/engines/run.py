"""``pqltools.segment``: one entry point for every engine (the interpreter, DuckDB, Spark).

The interpreter (:mod:`pqltools.runtime.membership`) stays the reference and needs no extra;
the SQL engines are imported only when asked for, so ``engine="python"`` works without the
``[duckdb]`` or ``[spark]`` extras installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pqltools.definitions import Definition
from pqltools.runtime.context import evaluation_error
from pqltools.runtime.membership import CompiledSegment
from pqltools.runtime.membership import segment as interpret

__all__ = ["ENGINES", "MissingExtraError", "require_engine", "segment", "to_sql"]

ENGINES = ("python", "duckdb", "spark")
#: engine -> (the pip extra that installs it, the modules it needs)
_EXTRAS = {"duckdb": ("duckdb", ("duckdb", "sqlglot")), "spark": ("spark", ("pyspark", "sqlglot"))}


class MissingExtraError(ImportError):
    """A SQL engine was asked for but its extra is not installed; the message says what to
    install."""


def require_engine(engine: str, *, sql_only: bool = False) -> None:
    """Raise :class:`MissingExtraError` unless ``engine``'s extra is installed (``sql_only``:
    only what writing its SQL needs, for :func:`to_sql`)."""
    extra, modules = _EXTRAS[engine]
    needed = ("sqlglot",) if sql_only else modules
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(f"the {engine} engine needs {', '.join(missing)}, which is not "
                                f"installed: pip install 'pqltools[{extra}]'")


def segment(definitions: Iterable[Definition] | Mapping[str, str] | list[CompiledSegment],
            profiles: Any, *, now: str | datetime | int | None = None,
            previous: Mapping[str, Mapping[str, Any]] | None = None,
            id_key: str | None = None, engine: str = "python") -> Iterator[dict[str, Any]]:
    """Evaluate ``definitions`` over ``profiles``; yield each profile's ``segmentMembership``.

    ``engine="python"`` (the default) is the reference interpreter: ``profiles`` yields profile
    objects or ``(profile, events)`` pairs (see :func:`pqltools.runtime.membership.segment`).
    ``engine="duckdb"`` or ``"spark"`` compiles the definitions to SQL and runs them in one
    query (docs/engines.md); ``profiles`` may then also be a path or glob of NDJSON or Parquet
    files, a DuckDB relation or a Spark DataFrame. Every engine yields the same records; a
    construct an engine cannot compile is a :class:`~pqltools.errors.PQLValidationError`
    (PQL430) naming it, never a silent fallback.
    """
    if engine == "python":
        return interpret(definitions, profiles, now=now, previous=previous, id_key=id_key)
    if engine not in ENGINES:
        raise evaluation_error(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    require_engine(engine)
    from pqltools.engines.api import segment_sql
    return segment_sql(definitions, profiles, engine=engine, now=now, previous=previous,
                       id_key=id_key)


def to_sql(expression: Any, dialect: str = "duckdb", **options: Any) -> str:
    """The SQL of one PQL expression's Boolean meaning for ``dialect`` (``"duckdb"`` or
    ``"spark"``); see :func:`pqltools.engines.api.to_sql` for ``profile``, ``events`` and
    ``now``. Raises :class:`MissingExtraError` when sqlglot is not installed."""
    if dialect in _EXTRAS:
        require_engine(dialect, sql_only=True)
    from pqltools.engines.api import to_sql as build
    return build(expression, dialect, **options)
