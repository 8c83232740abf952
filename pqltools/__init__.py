"""pqltools: a parser, linter, eligibility analyzer, interpreter and language server for PQL.

The public API (everything else is internal):

* syntax: :func:`parse`, :func:`parse_document`, :func:`format`, :func:`to_json`,
  :func:`from_json`, :func:`load_definitions`, the :mod:`ast <pqltools.syntax.ast>` node classes
* analysis: :func:`lint`, :func:`classify`
* runtime: :func:`evaluate`, :func:`evaluate_value`, :func:`compile`, :func:`segment`
* engines: :func:`to_sql` (and ``segment(..., engine="duckdb"|"spark")``)
* streaming: :func:`stream` (the membership simulator, docs/streaming.md)
* errors and diagnostics: :class:`PQLError` and subclasses, :class:`Diagnostic`,
  :class:`Severity`, :class:`Span`

Heavier parts are imported on first use, so ``import pqltools`` (and the ``pql`` command) start
fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pqltools.errors import (
    DefinitionError,
    Diagnostic,
    Edit,
    Fix,
    PQLError,
    PQLEvaluationError,
    PQLSyntaxError,
    PQLValidationError,
    Severity,
    Span,
)
from pqltools.syntax import ast
from pqltools.syntax.parser import ParseOptions, ParseResult, parse, parse_document

if TYPE_CHECKING:
    from pqltools.analysis.eligibility import Eligibility, classify
    from pqltools.analysis.lint import lint
    from pqltools.definitions import Definition, load_definitions
    from pqltools.engines.run import segment, to_sql
    from pqltools.runtime.compiler import Program, compile, evaluate, evaluate_value
    from pqltools.streaming import stream
    from pqltools.syntax.pqljson import from_json, to_json
    from pqltools.syntax.printer import format

_LAZY = {
    "format": "pqltools.syntax.printer",
    "to_json": "pqltools.syntax.pqljson",
    "from_json": "pqltools.syntax.pqljson",
    "load_definitions": "pqltools.definitions",
    "Definition": "pqltools.definitions",
    "lint": "pqltools.analysis.lint",
    "classify": "pqltools.analysis.eligibility",
    "Eligibility": "pqltools.analysis.eligibility",
    "compile": "pqltools.runtime.compiler",
    "Program": "pqltools.runtime.compiler",
    "evaluate": "pqltools.runtime.compiler",
    "evaluate_value": "pqltools.runtime.compiler",
    "segment": "pqltools.engines.run",
    "to_sql": "pqltools.engines.run",
    "stream": "pqltools.streaming",
}

__all__ = [
    "Definition",
    "DefinitionError",
    "Diagnostic",
    "Edit",
    "Eligibility",
    "Fix",
    "PQLError",
    "PQLEvaluationError",
    "PQLSyntaxError",
    "PQLValidationError",
    "ParseOptions",
    "ParseResult",
    "Program",
    "Severity",
    "Span",
    "__version__",
    "ast",
    "classify",
    "compile",
    "evaluate",
    "evaluate_value",
    "format",
    "from_json",
    "lint",
    "load_definitions",
    "parse",
    "parse_document",
    "segment",
    "stream",
    "to_json",
    "to_sql",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the installed metadata on first use (pyproject)
        from pqltools.version import package_version

        return package_version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pqltools' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
