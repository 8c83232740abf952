"""Batch engines: PQL compiled to SQL (sqlglot expression nodes) for DuckDB and Spark SQL.

The interpreter (:mod:`pqltools.runtime`) stays the reference; these engines must give its
answers or refuse a construct with a :class:`~pqltools.errors.PQLValidationError` naming it.
Entry points are :func:`pqltools.segment` (``engine="duckdb"|"spark"``) and
:func:`pqltools.to_sql`; docs/engines.md describes both. Needs the extras ``pqltools[duckdb]``
(duckdb, sqlglot) and ``pqltools[spark]`` (pyspark).
"""
