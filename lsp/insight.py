"""What the analysis layer knows beyond diagnostics: eligibility verdicts and schema field types.

The eligibility analyzer (:mod:`pqltools.analysis.eligibility`) and the schema loader
(:mod:`pqltools.analysis.schema`) are optional for the server: a pqltools build without them
still serves every other feature, and hover/completion simply say less.
"""

from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from pqltools.analysis.config import Config
from pqltools.errors import PQLError

from pqltools_lsp.documents import Region

__all__ = ["eligibility_markdown", "eligibility_summary", "field_type", "field_paths"]

log = logging.getLogger(__name__)
_schemas: dict[tuple[Path, float], Any] = {}
_lock = threading.Lock()


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _classify(region: Region, config: Config) -> Any:
    module = _module("pqltools.analysis.eligibility")
    tree = region.parse.expr
    if module is None or tree is None:
        return None
    subject: Any = region.definition if region.definition is not None else tree
    try:
        return module.classify(subject, rules=config.eligibility_rules)
    except PQLError:
        return None


def eligibility_summary(region: Region, config: Config) -> str | None:
    """``streaming`` / ``edge, streaming`` ...: the methods a region is eligible for."""
    result = _classify(region, config)
    if result is None:
        return None
    methods = sorted(str(m) for m in result.eligible)
    return f"{result.method} (eligible: {', '.join(methods)})"


def eligibility_markdown(region: Region, config: Config) -> str | None:
    """The evaluation-method verdict and its reasons, as hover Markdown."""
    result = _classify(region, config)
    if result is None:
        return None
    lines = [f"**Evaluation method: {result.method}** "
             f"(eligible: {', '.join(sorted(str(m) for m in result.eligible))}; "
             f"rules {config.eligibility_rules})"]
    if region.definition is not None and region.definition.requested_methods:
        asked = ", ".join(sorted(region.definition.requested_methods))
        lines.append(f"`evaluationInfo` requests: {asked}")
    for reason in result.reasons:
        rule = getattr(reason, "rule", None) or getattr(reason, "id", "")
        text = getattr(reason, "message", None) or str(reason)
        cite = getattr(reason, "citation", None)
        lines.append(f"- `{rule}`: {text}" + (f" ({cite})" if cite else ""))
    return "\n".join(lines)


def _schema(config: Config) -> Any:
    """The configured schema, loaded once per file version (None without one)."""
    module = _module("pqltools.analysis.schema")
    path = config.schema
    if module is None or path is None:
        return None
    try:
        key = (path, path.stat().st_mtime)
    except OSError:
        return None
    with _lock:
        if key in _schemas:
            return _schemas[key]
    try:
        schema = module.load_schema(path)
    except (PQLError, OSError, ValueError):
        log.warning("cannot load schema %s", path, exc_info=True)
        schema = None
    with _lock:
        _schemas[key] = schema
    return schema


def field_type(config: Config, path: tuple[str, ...]) -> str | None:
    """The schema type of a field path (``homeAddress.countryCode`` -> ``string``)."""
    schema = _schema(config)
    if schema is None:
        return None
    found = schema.lookup(".".join(path))
    return None if found is None else str(getattr(found, "type", found))


def field_paths(config: Config) -> list[tuple[str, str]]:
    """Every ``(dotted path, type)`` of the configured schema (empty without one)."""
    schema = _schema(config)
    if schema is None:
        return []
    return [(p, str(getattr(t, "type", t))) for p, t in schema.paths()]
