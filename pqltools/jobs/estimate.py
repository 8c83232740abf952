"""Estimates offline: an audience's size from a deterministic sample of whole profiles.

The sample is chosen by :mod:`pqltools.runtime.sampling` (MD5 of ``"<seed>:<profile id>"``), so
the Python, DuckDB and Spark engines read the same profiles for the same seed and give the same
estimate. The sample size follows Adobe's rule (PREVIEW) unless given: the whole store below
1 million profiles, 1 million profiles up to 20 million, 5% above. The interval is Wilson's, or
Clopper-Pearson's when few sampled profiles match, with a finite-population correction
(:mod:`pqltools.jobs.stats`).

The result has the fields of Adobe's ``GET /estimate/{PREVIEW_ID}`` (``estimatedSize``,
``standardError``, ``confidenceInterval``, ``profilesReadSoFar``, ``profilesMatchedSoFar``,
``totalRows``, ``numRowsToRead``, ``state``) plus ``lowerBound`` and ``upperBound`` (profiles)
and how the sample and interval were made.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pqltools.jobs.common import JobError, Profile, read_profiles, run_segments
from pqltools.jobs.data import count_records
from pqltools.jobs.stats import interval
from pqltools.runtime.compiler import compile as compile_pql
from pqltools.runtime.context import make_clock
from pqltools.runtime.functions import MEMBER_STATUSES
from pqltools.runtime.membership import compiled_segment, namespace_key
from pqltools.runtime.sampling import (
    HASH_DIGITS,
    in_sample,
    sample_condition_sql,
    sample_threshold,
)

__all__ = ["bounds", "default_sample_size", "estimate"]


def default_sample_size(total: int) -> int:
    """Adobe's sample size for a store of ``total`` profiles (PREVIEW)."""
    if total < 1_000_000:
        return total
    if total <= 20_000_000:
        return 1_000_000
    return math.ceil(total * 0.05)


def bounds(matched: int, read: int, total: int, *, confidence: float = 0.95,
           method: str = "auto") -> dict[str, Any]:
    """The estimate fields for ``matched`` of ``read`` sampled profiles out of ``total``."""
    if read == 0:
        return {"estimatedSize": 0, "standardError": None, "lowerBound": 0,
                "upperBound": total, "interval": {"method": "none", "confidence": confidence}}
    result = interval(matched, read, total, confidence=confidence, method=method)
    return {
        "estimatedSize": round(result.proportion * total),
        "standardError": round(result.standard_error * total, 3),
        "lowerBound": math.floor(result.lower * total + 1e-9),
        "upperBound": math.ceil(result.upper * total - 1e-9),
        "interval": {"method": result.method, "confidence": confidence},
    }


def _count(profiles: Any) -> int | None:
    """Records in ``profiles`` when they are files (None for an in-memory iterable)."""
    if isinstance(profiles, (str, Path)) or (isinstance(profiles, (list, tuple)) and profiles
                                              and all(isinstance(p, (str, Path))
                                                      for p in profiles)):
        return count_records(profiles)
    return None


def estimate(expression: str, profiles: str | Path | Iterable[Any], *,
             sample_size: int | None = None, sample_fraction: float | None = None,
             seed: int = 0, engine: str = "python", now: Any = None,
             confidence: float = 0.95, method: str = "auto", events_key: str = "events",
             id_key: str | None = None) -> dict[str, Any]:
    """Estimate how many profiles ``expression`` selects, from a hash sample of ``profiles``.

    ``sample_size`` (profiles) or ``sample_fraction`` (0-1) overrides Adobe's default rule.
    """
    if sample_size is not None and sample_fraction is not None:
        raise ValueError("give a sample size or a sample fraction, not both")
    if sample_size is not None and sample_size < 1:
        raise ValueError(f"the sample size must be at least 1, got {sample_size}")
    if sample_fraction is not None and not 0 < sample_fraction <= 1:
        raise ValueError(f"the sample fraction must be in (0, 1], got {sample_fraction}")
    program = compile_pql(expression)
    total = _count(profiles)
    if total is None:
        profiles = list(profiles)  # type: ignore[arg-type]
        total = len(profiles)
    if sample_fraction is not None:
        fraction = sample_fraction
        target = round(total * fraction)
    else:
        target = min(total, sample_size) if sample_size is not None \
            else default_sample_size(total)
        fraction = target / total if total else 1.0
    threshold = sample_threshold(fraction)
    segments = [compiled_segment("estimate", "estimate", program)]
    errors: list[JobError] = []
    in_sql = _sample_in_duckdb(segments, profiles, engine, seed, fraction, now, id_key)
    if in_sql is not None:
        read, matched = in_sql
    else:
        read, matched = _sample_in_python(segments, profiles, engine, seed, threshold, now,
                                          events_key, id_key, errors)
    fields = bounds(matched, read, total, confidence=confidence, method=method)
    out: dict[str, Any] = {
        "state": "RESULT_READY" if not errors else "FAILED",
        **{k: v for k, v in fields.items() if k != "interval"},
        "confidenceInterval": f"{confidence * 100:g}%",
        "profilesReadSoFar": read,
        "profilesMatchedSoFar": matched,
        "totalRows": total,
        "numRowsToRead": target,
        "error": {"description": "; ".join(f"{e.location}: {e.msg}" for e in errors[:10]),
                  "traceback": ""},
        "interval": fields["interval"],
        "sample": {"seed": seed, "fraction": fraction, "threshold": threshold,
                   "hash": f"substr(md5('<seed>:' || profile id), 1, {HASH_DIGITS}) "
                           "< threshold"},
        "engine": engine,
        "sampledBy": "sql" if in_sql is not None else "python",
    }
    return out


def _sample_in_python(segments: list[Any], profiles: Any, engine: str, seed: int,
                      threshold: str | None, now: Any, events_key: str, id_key: str | None,
                      errors: list[JobError]) -> tuple[int, int]:
    """(profiles read, profiles matched): profiles read in Python, sampled by
    :func:`~pqltools.runtime.sampling.in_sample`, evaluated by ``engine``."""
    stream = read_profiles(profiles, events_key=events_key, id_key=id_key, errors=errors)
    counted: list[Profile] = []

    def sampled() -> Any:
        for p in stream:
            if in_sample(p.id, seed, threshold):
                counted.append(p)
                yield p

    matched = 0
    failed: list[JobError] = []  # sampled profiles the engine could not evaluate
    for _, membership in run_segments(segments, sampled(), engine=engine, now=make_clock(now),
                                      previous=None, id_key=id_key, errors=failed):
        entry = (membership.get(namespace_key(membership)) or {}).get("estimate") or {}
        matched += entry.get("status") in MEMBER_STATUSES
    errors.extend(failed)
    return len(counted) - len(failed), matched


def _sample_in_duckdb(segments: list[Any], profiles: Any, engine: str, seed: int,
                      fraction: float, now: Any, id_key: str | None) -> tuple[int, int] | None:
    """(profiles read, profiles matched) with the sample drawn inside DuckDB, by the SQL of
    :func:`~pqltools.runtime.sampling.sample_condition_sql`; None when that does not apply
    (another engine, data that is not Parquet files, no top-level id column)."""
    if engine != "duckdb" or not isinstance(profiles, (str, Path)):
        return None
    from pqltools.jobs.data import expand_paths

    paths = [str(p) for p in expand_paths(profiles)]
    if not paths or not all(p.endswith(".parquet") for p in paths):
        return None
    import duckdb

    from pqltools.engines.run import segment
    from pqltools.runtime.membership import ID_FIELDS

    con = duckdb.connect()
    try:
        rel = con.read_parquet(paths)
        if id_key is not None:
            parts = id_key.split(".")
            if parts[0] not in rel.columns:
                return None
            id_sql = ".".join('"' + part.replace('"', '""') + '"' for part in parts)
        else:
            present = [f'CAST("{name}" AS VARCHAR)' for name in ID_FIELDS if name in rel.columns]
            if not present:
                return None
            id_sql = f"COALESCE({', '.join(present)})"
        sampled = rel.filter(sample_condition_sql(id_sql, seed, fraction))
        matched = 0
        for membership in segment(segments, sampled, engine="duckdb", now=now):
            entry = (membership.get(namespace_key(membership)) or {}).get("estimate") or {}
            matched += entry.get("status") in MEMBER_STATUSES
        [(read,)] = sampled.aggregate("count(*)").fetchall()
        return int(read), matched
    finally:
        con.close()
