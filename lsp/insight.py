"""What the analysis layer knows beyond diagnostics: eligibility verdicts and schema field types.

Hover and document symbols show the verdict of the eligibility analyzer
(:func:`pqltools.analysis.eligibility.classify`, with the configured rule set); hover and
completion show field types from the configured schema (:mod:`pqltools.analysis.schema`), loaded
once per file version.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from pqltools_lsp.clause_facts import classify_clauses
from pqltools_lsp.documents import Region
from pqltools_lsp.memo import PER_DEFINITION, Memo

from pqltools.analysis.config import Config
from pqltools.analysis.eligibility import Eligibility, classify
from pqltools.analysis.schema import Schema, load_schema
from pqltools.definitions import Definition
from pqltools.errors import PQLError
from pqltools.syntax import ast

__all__ = ["eligibility_markdown", "eligibility_summary", "field_children", "field_type"]

log = logging.getLogger(__name__)
_schemas: dict[tuple[Path, float], Schema | None] = {}
_lock = threading.Lock()


#: Verdicts by (expression, definition fingerprint, rule set): in a JSON file only the edited
#: definition is classified again.
_VERDICTS: Memo[tuple[str, str | None, str], Eligibility | None] = Memo(PER_DEFINITION)


def _classify(region: Region, config: Config) -> Eligibility | None:
    definition = region.definition
    key = (region.text, region.fingerprint, config.eligibility_rules)

    def compute() -> Eligibility | None:
        try:
            if definition is None and region.comments:  # a long .pql text: clause by clause
                by_clause = classify_clauses(region.text, config.eligibility_rules)
                if by_clause is not None:
                    return by_clause
            tree = region.parse.expr
            if tree is None:
                return None
            subject: Definition | ast.Expr = definition if definition is not None else tree
            # a definition's expression is not parsed again when it parsed cleanly
            return classify(subject, rules=config.eligibility_rules,
                            parsed=tree if region.parse.ok else None)
        except PQLError:
            return None

    return _VERDICTS.get(key, compute)


def eligibility_summary(region: Region, config: Config) -> str | None:
    """``streaming (eligible: batch, streaming)``: the verdict in one line."""
    result = _classify(region, config)
    if result is None:
        return None
    return f"{result.method} (eligible: {', '.join(sorted(result.eligible))})"


def eligibility_markdown(region: Region, config: Config) -> str | None:
    """The evaluation-method verdict and its reasons, as hover Markdown."""
    result = _classify(region, config)
    if result is None:
        return None
    eligible = ", ".join(sorted(result.eligible))
    head = f"**Evaluation method: {result.method}** (eligible: {eligible}; rules {result.rules})"
    lines = [head, ""]
    if result.requested:
        lines.append(f"`evaluationInfo` requests: {', '.join(sorted(result.requested))}"
                     + (f" — not eligible for {', '.join(sorted(result.unsatisfied))}"
                        if result.unsatisfied else ""))
        lines.append("")
    for reason in result.reasons:
        cites = "; ".join(str(c) for c in reason.citations)
        lines.append(f"- `{reason.rule}`: {reason.message}" + (f" ({cites})" if cites else ""))
    return "\n".join(lines).rstrip()


def _schema(config: Config) -> Schema | None:
    """The configured schema, loaded once per file version (None without one)."""
    path = config.schema
    if path is None:
        return None
    try:
        key = (path, path.stat().st_mtime)
    except OSError:
        return None
    with _lock:
        if key in _schemas:
            return _schemas[key]
    schema: Schema | None
    try:
        schema = load_schema(path)
    except (PQLError, OSError, ValueError):
        log.warning("cannot load schema %s", path, exc_info=True)
        schema = None
    with _lock:
        _schemas[key] = schema
    return schema


def field_type(config: Config, path: tuple[str, ...]) -> str | None:
    """The schema type of a field path (``homeAddress.countryCode`` -> ``string``)."""
    schema = _schema(config)
    found = schema.lookup(path) if schema is not None else None
    if found is None:
        return None
    return f"{found.type}[{found.item_type}]" if found.item_type else found.type


def field_children(config: Config, path: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(name, type)`` of the schema fields directly below ``path`` (top level for ``()``)."""
    schema = _schema(config)
    if schema is None:
        return []
    return [(info.path[-1], info.type) for info in schema.children(path)]
