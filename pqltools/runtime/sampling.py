"""Deterministic sampling of whole profiles by a hash of the profile id.

An estimate reads a sample of the profile store. So that the Python interpreter, DuckDB and Spark
pick *the same* profiles for the same seed, the choice is a function of the profile id and the
seed alone, written with what all three have built in: MD5 of ``"<seed>:<id>"`` as lowercase hex,
whose first :data:`HASH_DIGITS` hex digits are compared, as a string, with a threshold. Strings of
equal length over ``0-9a-f`` compare like the numbers they spell, so no engine has to convert hex
to an integer (DuckDB, Spark and Python disagree on how to do that, not on string order).

:func:`sample_threshold` turns a fraction into the threshold, :func:`in_sample` is the Python
test, and :func:`sample_condition_sql` is the SQL one, valid in DuckDB and Spark SQL, which every
SQL engine uses instead of writing its own.
"""

from __future__ import annotations

import hashlib

__all__ = [
    "HASH_DIGITS",
    "in_sample",
    "sample_condition_sql",
    "sample_key",
    "sample_threshold",
]

#: Hex digits of the MD5 compared: 48 bits, so fractions down to 1e-14 are honoured.
HASH_DIGITS = 12


def sample_threshold(fraction: float) -> str | None:
    """The hex threshold for ``fraction`` (0 < fraction < 1); None means "every profile".

    A profile is in the sample when its key is below the threshold, so the expected share of
    profiles sampled is ``fraction`` to within 2**-48.
    """
    if not 0.0 <= fraction:
        raise ValueError(f"a sample fraction must be between 0 and 1, got {fraction!r}")
    if fraction >= 1.0:
        return None
    return format(int(fraction * 16**HASH_DIGITS), f"0{HASH_DIGITS}x")


def sample_key(profile_id: str, seed: int) -> str:
    """The first :data:`HASH_DIGITS` hex digits of ``md5("<seed>:<profile id>")``."""
    digest = hashlib.md5(f"{seed}:{profile_id}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:HASH_DIGITS]


def in_sample(profile_id: str, seed: int, threshold: str | None) -> bool:
    """Whether the profile with this id is in the sample of ``seed`` at ``threshold``."""
    return threshold is None or sample_key(profile_id, seed) < threshold


def sample_condition_sql(id_sql: str, seed: int, fraction: float) -> str:
    """A SQL condition (DuckDB and Spark SQL) true for the profiles :func:`in_sample` keeps.

    ``id_sql`` is the SQL expression of the profile id (a column name, a cast...). The seed and
    threshold are integer and hex literals, so nothing user-given is spliced into the text.
    """
    threshold = sample_threshold(fraction)
    if threshold is None:
        return "TRUE"
    seed = int(seed)
    return (f"substr(md5(concat('{seed}:', CAST({id_sql} AS STRING))), 1, {HASH_DIGITS})"
            f" < '{threshold}'")
