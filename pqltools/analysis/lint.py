"""The linter: parse, run every enabled rule in one walk, apply configuration and ``noqa``.

:func:`lint` is the library entry point (one expression). :func:`lint_source` is what the CLI
and the language server call for one ``.pql`` file or one JSON definition: it also applies
``-- pql: noqa`` comments, a definition's ``"pqltools": {"noqa": [...]}`` field and the
configuration's ``per-file-ignores``.

Diagnostics are data; nothing here prints. Spans are offsets into the expression text (for a
JSON definition, :meth:`pqltools.definitions.Definition.file_span` maps them into the file).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pqltools.analysis.config import Config
from pqltools.analysis.rules import LintContext, Rule, all_rules
from pqltools.analysis.schema import Schema, load_schema
from pqltools.errors import Diagnostic
from pqltools.records import record
from pqltools.syntax import ast
from pqltools.syntax.parser import Comment, ParseOptions, ParseResult, parse_document

if TYPE_CHECKING:
    from pqltools.definitions import Definition

__all__ = ["CALL_CODES", "Suppressions", "check_calls", "lint", "lint_source", "parse_noqa",
           "presented", "run_rules"]

#: ``-- pql: noqa`` or ``-- pql: noqa: PQL101, PQL205`` (case-insensitive, spaces optional).
_NOQA_RE = re.compile(r"--\s*pql\s*:\s*noqa\b(?:\s*:\s*(?P<codes>[A-Za-z0-9_,\s]*))?",
                      re.IGNORECASE)


def lint(text: str, *, schema: Any = None, config: Config | None = None,
         comments: bool = False) -> list[Diagnostic]:
    """Lint one PQL expression and return every finding, sorted by position.

    ``schema`` is a :class:`pqltools.analysis.schema.Schema`, a path to a schema file, a
    ``{path: type}`` mapping, or None (then ``config.schema`` is used if set). ``config``
    defaults to :class:`Config` defaults (it is not looked up from disk: call
    :meth:`Config.load` for that). ``comments=True`` accepts ``--`` comments and honours
    ``-- pql: noqa`` in them.
    """
    return lint_source(text, comments=comments, config=config, schema=schema)


#: The rules whose findings make an expression impossible to evaluate: unknown function,
#: unknown method, wrong number of arguments. The compiler refuses a tree with any of them.
CALL_CODES = ("PQL101", "PQL102", "PQL103")


def check_calls(tree: ast.Node, text: str | None = None) -> list[Diagnostic]:
    """The findings of the :data:`CALL_CODES` rules on ``tree``, sorted by position.

    ``text`` is the source ``tree`` was parsed from (None for a tree built in Python: the
    findings then point at whole calls rather than at the names inside them).
    """
    from pqltools.analysis.rules import REGISTRY
    from pqltools.analysis.rules import functions as _  # noqa: F401 - registers the call rules

    rules = [REGISTRY[code] for code in CALL_CODES]
    ctx = LintContext(text or "", tree if isinstance(tree, ast.Expr) else None)
    found = [d for node in tree.walk() for rule in rules if isinstance(node, rule.nodes)
             for d in rule.check(node, ctx)]
    return sorted(found, key=lambda d: (d.span.start, d.span.end, d.code))


def lint_source(text: str, *, comments: bool, config: Config | None, schema: Any,
                definition: Definition | None = None,
                filename: str | Path | None = None,
                parsed: ParseResult | None = None) -> list[Diagnostic]:
    """Lint one source (a ``.pql`` file's text or a definition's expression) for the CLI/LSP.

    Besides :func:`lint`'s work this applies ``noqa`` comments (when ``comments``), the
    definition's own ``"pqltools": {"noqa": [...]}`` list, and ``per-file-ignores`` for
    ``filename`` (default: the definition's path). ``parsed`` is a parse of ``text`` the caller
    already has (the language server): it is used when it was made with the options this
    configuration asks for, so the text is not parsed twice.
    """
    config = config or Config()
    options = ParseOptions(comments=comments, max_depth=config.limits.max_depth,
                           max_length=config.limits.max_length)
    if parsed is not None and parsed.text == text and parsed.options == options:
        result = parsed
    else:
        result = parse_document(text, options)
    return presented(_run(result, config, schema, definition), result.comments, text, config,
                     definition, filename)


def presented(found: Iterable[Diagnostic], comments: Iterable[Comment], text: str,
              config: Config, definition: Definition | None = None,
              filename: str | Path | None = None) -> list[Diagnostic]:
    """Raw findings of one source as :func:`lint_source` returns them: configuration applied
    (disabled codes, severities), ``noqa`` and ignores honoured, sorted by position. The
    language server assembles the raw findings of a long ``.pql`` file clause by clause."""
    found = _configured(found, config)
    if filename is None and definition is not None:
        filename = definition.path
    suppress = Suppressions.collect(comments, text, definition,
                                    config.ignored_for_file(filename))
    return sorted((d for d in found if not suppress.hides(d)),
                  key=lambda d: (d.span.start, d.span.end, d.code))


def _run(result: ParseResult, config: Config, schema: Any,
         definition: Definition | None) -> list[Diagnostic]:
    """Syntax diagnostics plus every enabled rule's findings, walking the tree once."""
    return run_rules(result, config, schema, definition)[0]


def run_rules(result: ParseResult, config: Config, schema: Any, definition: Definition | None,
              unfinished: frozenset[str] = frozenset()) -> tuple[list[Diagnostic], LintContext]:
    """:func:`_run`, and the context the rules ran in. The rules whose codes are in
    ``unfinished`` visit their nodes but do not :meth:`~Rule.finish` (the language server
    completes them over a whole document it lints clause by clause)."""
    loaded = _schema(schema, config)
    rules, dispatch = _active_rules(config, loaded is not None)
    ctx = LintContext(result.text, result.expr, config, loaded, definition,
                      list(result.diagnostics), list(result.comments))
    found: list[Diagnostic] = []
    for rule in rules:
        found.extend(rule.check_text(ctx))
    if result.expr is not None:
        for node in result.expr.walk():
            for rule in dispatch.get(type(node), ()):
                found.extend(rule.check(node, ctx))
        for rule in rules:
            if rule.code not in unfinished:
                found.extend(rule.finish(ctx))
    superseding_codes = _superseding(rules)
    superseding = [d.span for d in found if d.code in superseding_codes]
    syntax = [d for d in result.diagnostics
              if not any(s.start <= d.span.start < max(s.end, s.start + 1) for s in superseding)]
    return syntax + found, ctx


_Active = tuple[list[Rule], dict[type[Any], list[Rule]]]


def _active_rules(config: Config, with_schema: bool) -> _Active:
    return _active(config.select, config.ignore, with_schema)


@functools.cache
def _active(select: tuple[str, ...], ignore: tuple[str, ...], with_schema: bool) -> _Active:
    """Enabled rules and their node dispatch table per selection: linting a directory builds
    them once."""
    config = Config(select=select, ignore=ignore)
    rules = [r for r in all_rules()
             if config.is_enabled(r.code, default=r.default_enabled)
             and (with_schema or not r.requires_schema)]
    dispatch: dict[type[Any], list[Rule]] = {}
    for rule in rules:
        for node_type in rule.nodes:
            dispatch.setdefault(node_type, []).append(rule)
    return rules, dispatch


def _superseding(rules: Iterable[Any]) -> set[str]:
    return {r.code for r in rules if r.supersedes_syntax}


def _schema(schema: Any, config: Config) -> Schema | None:
    """The schema to use: the argument (object, path or mapping), else the configured one."""
    if schema is None and config.schema is not None:
        schema = config.schema
    if schema is None:
        return None
    key = (str(schema), _mtime(schema)) if isinstance(schema, (str, Path)) else None
    if key is not None and key in _SCHEMA_CACHE:
        return _SCHEMA_CACHE[key]
    loaded = load_schema(schema)
    if key is not None:
        _SCHEMA_CACHE[key] = loaded
    return loaded


def _mtime(path: str | Path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return -1.0


#: Schemas loaded from files, by (path, mtime): linting a directory reads the schema once.
_SCHEMA_CACHE: dict[tuple[str, float], Schema] = {}


def _configured(diagnostics: Iterable[Diagnostic], config: Config) -> list[Diagnostic]:
    """Drop disabled codes and apply severity overrides. Syntax errors cannot be disabled."""
    out: list[Diagnostic] = []
    for d in diagnostics:
        if not d.code.startswith("PQL0") and not config.is_enabled(d.code):
            continue
        severity = config.severity_for(d.code, d.severity)
        out.append(d if severity is d.severity else replace(d, severity=severity))
    return out


def parse_noqa(comment: str) -> frozenset[str] | None:
    """The codes a ``-- pql: noqa[: codes]`` comment names: empty set = all; None = not noqa."""
    match = _NOQA_RE.search(comment)
    if match is None:
        return None
    codes = match.group("codes") or ""
    return frozenset(c.strip().upper() for c in re.split(r"[,\s]+", codes) if c.strip())


@record(frozen=True)
class Suppressions:
    """Which diagnostics ``noqa`` comments, a definition or ``per-file-ignores`` hide.

    ``everywhere``: code prefixes hidden in the whole expression (``"ALL"`` = all).
    ``by_line``: 1-based line -> codes hidden on that line (empty set = all).
    """

    everywhere: frozenset[str]
    by_line: Mapping[int, frozenset[str]]

    @classmethod
    def collect(cls, comments: Iterable[Comment], text: str,
                definition: Definition | None = None,
                file_ignores: Iterable[str] = ()) -> Suppressions:
        """Read ``noqa`` comments (own line = whole expression, end of line = that line)."""
        everywhere: set[str] = set(file_ignores)
        by_line: dict[int, frozenset[str]] = {}
        for comment in comments:
            codes = parse_noqa(comment.text)
            if codes is None:
                continue
            line_start = text.rfind("\n", 0, comment.span.start) + 1
            own_line = not text[line_start:comment.span.start].strip()
            if own_line:
                everywhere |= codes or {"ALL"}
            else:
                previous = by_line.get(comment.span.line)
                by_line[comment.span.line] = (frozenset() if not codes or previous == frozenset()
                                              else (previous or frozenset()) | codes)
        if definition is not None:
            everywhere |= _definition_noqa(definition)
        return cls(frozenset(everywhere), by_line)

    def hides(self, diagnostic: Diagnostic) -> bool:
        """True when ``diagnostic`` is suppressed. Syntax errors (PQL0xx) never are."""
        code = diagnostic.code
        if code.startswith("PQL0"):
            return False
        if any(p == "ALL" or code.startswith(p) for p in self.everywhere):
            return True
        codes = self.by_line.get(diagnostic.span.line)
        return codes is not None and (not codes or code in codes)


def _definition_noqa(definition: Definition) -> set[str]:
    """``"pqltools": {"noqa": [...]}`` (or ``true`` for all) in the definition object."""
    own = definition.raw.get("pqltools") if isinstance(definition.raw, dict) else None
    if not isinstance(own, dict):
        return set()
    value = own.get("noqa")
    if value is True:
        return {"ALL"}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return {str(v).strip().upper() for v in value if str(v).strip()}
    return set()
