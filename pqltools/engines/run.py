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
            id_key: str | None = None, engine: str = "python", events: Any = None,
            identity_key: str = "profileId") -> Iterator[dict[str, Any]]:
    """Evaluate ``definitions`` over ``profiles``; yield each profile's ``segmentMembership``.

    ``engine="python"`` (the default) is the reference interpreter: ``profiles`` yields profile
    objects or ``(profile, events)`` pairs (see :func:`pqltools.runtime.membership.segment`).
    ``engine="duckdb"`` or ``"spark"`` compiles the definitions to SQL and runs them in one
    query (docs/engines.md); ``profiles`` may then also be a path or glob of NDJSON or Parquet
    files (each profile's events under its ``events`` key), a DuckDB relation or a Spark
    DataFrame. Every engine yields the same records; a construct an engine cannot compile is a
    :class:`~pqltools.errors.PQLValidationError` (PQL430) naming it, never a silent fallback.

    ``events`` is a separate events input, one event per row, joined to the profiles by
    identity as ``pql eval --events`` does: an event belongs to the profile whose id (``id_key``,
    else ``_id``, ``personID``, ``personId``, ``id``, else the primary identity of
    ``identityMap``) equals the event's value at the dotted ``identity_key`` (as text); it comes
    after the profile's own events, in input order; an event matching no profile is ignored. On
    the SQL engines ``events`` is a path or glob of NDJSON or Parquet files, a DuckDB relation /
    Spark DataFrame, or an iterable of event objects, and the join runs in SQL; on the
    interpreter it is an iterable of event objects or an NDJSON path.

    Each record is the profile's new ``segmentMembership``: entries of other namespaces and of
    audiences not in the run are carried over from the previous membership (``previous[id]``
    when ``previous`` is given, else the profile's own ``segmentMembership``), as in
    :func:`pqltools.runtime.membership.membership_record`.
    """
    if engine == "python":
        if events is not None:
            profiles = with_events(profiles, events, identity_key, id_key)
        return interpret(definitions, profiles, now=now, previous=previous, id_key=id_key)
    if engine not in ENGINES:
        raise evaluation_error(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    require_engine(engine)
    from pqltools.engines.api import segment_sql
    return segment_sql(definitions, profiles, engine=engine, now=now, previous=previous,
                       id_key=id_key, events=events, identity_key=identity_key)


def with_events(profiles: Iterable[Any], events: Any, identity_key: str = "profileId",
                id_key: str | None = None) -> Iterator[tuple[Any, list[Any]]]:
    """The interpreter's join of a separate events input: ``(profile, events)`` pairs, each
    profile's own events (of a pair) followed by the events whose ``identity_key`` is its id.

    ``events`` is an iterable of event objects or the path of an NDJSON file; they are grouped
    in memory (the interpreter holds them; the SQL engines join in SQL)."""
    import json
    from pathlib import Path

    from pqltools.runtime.membership import profile_id
    if isinstance(events, (str, Path)):
        with Path(events).open(encoding="utf-8") as stream:
            items = [json.loads(line) for line in stream if line.strip()]
    else:
        items = list(events)
    owned: dict[str, list[Any]] = {}
    for event in items:
        if not isinstance(event, Mapping):
            raise evaluation_error("events must be a list of JSON objects")
        owner = profile_id(event, identity_key)
        if owner is not None:
            owned.setdefault(owner, []).append(event)
    for item in profiles:
        profile, own = item if isinstance(item, tuple) and len(item) == 2 else (item, None)
        pid = profile_id(profile, id_key) if isinstance(profile, Mapping) else None
        joined = owned.get(pid, []) if pid is not None else []
        yield profile, (own if isinstance(own, list) else []) + joined


def to_sql(expression: Any, dialect: str = "duckdb", **options: Any) -> str:
    """The SQL of one PQL expression's Boolean meaning for ``dialect`` (``"duckdb"`` or
    ``"spark"``); see :func:`pqltools.engines.api.to_sql` for ``profile``, ``events`` and
    ``now``. Raises :class:`MissingExtraError` when sqlglot is not installed."""
    if dialect in _EXTRAS:
        require_engine(dialect, sql_only=True)
    from pqltools.engines.api import to_sql as build
    return build(expression, dialect, **options)
