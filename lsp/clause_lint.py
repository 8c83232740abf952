"""Linting a long ``.pql`` document clause by clause, with exactly the whole document's findings.

:mod:`pqltools_lsp.incremental` parses a long chain of top-level ``and``/``or`` clauses one
clause at a time; this module does the same for the linter, so that typing a character lints
one clause again instead of walking the whole tree. Each clause is linted alone (memoised by
its text and the configuration), its findings are moved to where the clause stands, and the
few rules that look across clauses are completed at the document level:

* ``CLAUSE_LOCAL`` rules judge a node by its own subtree, the names bound around it (binders
  never reach across top-level clauses: a top-level ``select``/``let``/``exists``... forbids the
  cut) and the raw text inside it. ``constant-condition`` (PQL121) flags a ``true``/``false``
  operand of an ``and``/``or``; for an operand that is a whole clause, its ``finish`` on the
  clause alone (the root is a constant) gives that finding, with the same span and message.
* ``JOINING`` rules also judge the ``and``/``or`` nodes that join the clauses (PQL126 groups
  the equalities of one ``or``): they are run on those few nodes with the document's context.
* ``COUNTED`` rules count across the document (PQL124): each clause gives its aggregations and
  the rule reports on all of them.
* ``NAME_RULES`` (PQL106, PQL107) compare names with every binder of the expression: the
  clause-by-clause answer is kept only when no clause uses a name that another clause binds
  and, where a clause has an unbound-variable finding (whose help lists every binder), no
  other clause binds a name this one does not; otherwise the document is linted whole.

Anything else (a rule not listed here, a configuration whose parser limits differ from the
server's parse, a clause with a syntax error) lints the whole text as before.
``tests/lsp/test_lsp_incremental.py`` checks on generated documents that the result equals
:func:`pqltools.analysis.lint.lint_source` on the whole text.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from pqltools_lsp.documents import parsed, parsed_clauses
from pqltools_lsp.incremental import Clause, Shift, split
from pqltools_lsp.memo import Memo

from pqltools.analysis.config import Config
from pqltools.analysis.lint import _active_rules, _schema, presented, run_rules
from pqltools.analysis.rules import LintContext, Rule
from pqltools.analysis.rules.guardrails import TooManyAggregations
from pqltools.analysis.schema import Schema
from pqltools.errors import Diagnostic, Edit
from pqltools.syntax import ast
from pqltools.syntax.parser import Comment, ParseOptions, ParseResult

__all__ = ["CLAUSE_LOCAL", "COLD_LIMIT", "COUNTED", "JOINING", "MAX_CLAUSES", "NAME_RULES", "forget",
           "lint_clauses", "warm"]

CLAUSE_LOCAL = frozenset({
    "PQL101", "PQL102", "PQL103", "PQL104", "PQL105", "PQL108", "PQL109", "PQL110", "PQL111",
    "PQL120", "PQL121", "PQL122", "PQL123", "PQL125", "PQL127", "PQL130", "PQL131", "PQL132",
    "PQL201", "PQL202", "PQL203",
    "PQL301",  # judges a JSON definition's evaluationInfo: a .pql text has none
})
JOINING = frozenset({"PQL126"})
COUNTED = frozenset({"PQL124"})
NAME_RULES = frozenset({"PQL106", "PQL107"})
_KNOWN = CLAUSE_LOCAL | JOINING | COUNTED | NAME_RULES


@dataclass(frozen=True)
class _Linted:
    """One clause linted alone (spans relative to the clause)."""

    found: tuple[Diagnostic, ...]  # raw findings (before configuration and noqa)
    aggregations: tuple[ast.Node, ...]
    binders: frozenset[str]
    names: frozenset[str]
    unbound: bool  # an unbound-variable finding, whose help lists every binder
    comments: tuple[Comment, ...]  # for noqa
    keep: tuple[object, ...]  # the configuration and schema whose ids key the memo


_LINTED: Memo[tuple[object, ...], _Linted | None] = Memo(4096)
_Moved = tuple[tuple[Diagnostic, ...], tuple[ast.Node, ...], tuple[Comment, ...]]
#: A clause's findings, aggregations and comments moved to where it stands in the document.
_PLACED: Memo[tuple[object, ...], _Moved] = Memo(4096)


def forget() -> None:
    """Drop every memoised clause result (the configuration or the schema changed)."""
    _LINTED.clear()
    _PLACED.clear()


#: More clauses than this are linted whole (the memos would not hold them).
MAX_CLAUSES = 2048
#: Linting a clause alone costs several times its share of a whole lint (each run sets up
#: every rule): with more clauses than this not linted yet (a document just opened, a large
#: paste), the text is linted whole and :func:`warm` lints its clauses after the diagnostics
#: are out, so that the next edit finds them.
COLD_LIMIT = 32


def lint_clauses(text: str, config: Config, filename: str | None,
                 cold_limit: int | None = COLD_LIMIT) -> list[Diagnostic] | None:
    """``lint_source(text, comments=True, config=config, schema=None, filename=filename)``
    assembled from the text's top-level clauses, or None when it must be linted whole (also
    when more than ``cold_limit`` clauses were never linted)."""
    options = ParseOptions(comments=True, max_depth=config.limits.max_depth,
                           max_length=config.limits.max_length)
    if options != ParseOptions(comments=True):
        return None  # other parser limits than the server's parse: lint_source parses again
    clauses = parsed_clauses(text)
    if clauses is None or len(clauses) > MAX_CLAUSES:
        return None
    loaded = _schema(None, config)
    rules, _ = _active_rules(config, loaded is not None)
    codes = {rule.code for rule in rules}
    if not codes <= _KNOWN:
        return None
    key = (id(config), id(loaded))
    known = [_LINTED.peek((c.text, key)) for c in clauses]
    if cold_limit is not None and len({c.text for c, linted in zip(clauses, known, strict=True)
                                       if linted is None}) > cold_limit:
        return None
    found: list[Diagnostic] = []
    aggregations: list[ast.Node] = []
    comments: list[Comment] = []
    pieces: list[_Linted] = []
    for clause, linted in zip(clauses, known, strict=True):
        if linted is None:
            linted = _LINTED.get((clause.text, key),
                                 partial(_lint_text, clause.text, config, loaded))
            if linted is None:
                return None  # a clause with a syntax error: the whole text was parsed whole
        pieces.append(linted)
        if linted.found or linted.aggregations or linted.comments:  # else nothing to move
            moved, counted, noted = _PLACED.get((clause.text, clause.place, key),
                                                partial(_placed, clause, linted))
            found.extend(moved)
            aggregations.extend(counted)
            comments.extend(noted)
    if codes & NAME_RULES and not _names_stay_apart(pieces):
        return None
    root = _joined_root(text, clauses, config) if codes & JOINING else None
    ctx = LintContext(text, root, config, loaded, None, [], comments)
    for rule in rules:
        if rule.code in JOINING and root is not None:
            for node in _joining(root, clauses):
                found.extend(rule.check(node, ctx))
        elif rule.code in COUNTED:
            found.extend(_counter(rule).report(aggregations, ctx))
    return presented(found, comments, text, config, None, filename)


def _joined_root(text: str, clauses: tuple[Clause, ...], config: Config) -> ast.Expr | None:
    """The tree of the whole text when a rule of the joining ``or`` can find something there:
    PQL126 needs ``limits.in-list`` operands of one ``or`` that are single clauses (an ``and``
    of clauses is never an equality); None otherwise, so that no tree of the whole text (whose
    spans move with every edit) is built."""
    single, run = 0, 1
    for clause in clauses[1:]:
        if clause.op == "or":
            single += run == 1
            run = 1
        else:
            run += 1
    single += run == 1
    if single < max(1, config.limits.in_list):
        return None
    return parsed(text, True).expr


def warm(text: str, config: Config) -> None:
    """Lint the clauses of ``text`` that were never linted (see :data:`COLD_LIMIT`)."""
    clauses = split(text, True)
    if clauses is None or len(clauses) > MAX_CLAUSES:
        return
    loaded = _schema(None, config)
    key = (id(config), id(loaded))
    for clause in clauses:
        if (clause.text, key) not in _LINTED:
            _LINTED.get((clause.text, key),
                        partial(_lint_text, clause.text, config, loaded))


def _lint_text(text: str, config: Config, loaded: Schema | None) -> _Linted | None:
    piece = parsed(text, True)
    return _lint(piece, config, loaded) if piece.ok and piece.expr is not None else None


def _lint(piece: ParseResult, config: Config, loaded: Schema | None) -> _Linted:
    found, ctx = run_rules(piece, config, None, None, unfinished=COUNTED)
    aggregations = tuple(node for rule in _active_rules(config, loaded is not None)[0]
                         if rule.code in COUNTED for node in _counter(rule).counted(ctx))
    scopes = ctx.scopes
    return _Linted(tuple(found), aggregations, frozenset(b.name for b in scopes.binders),
                   frozenset(name.id for name, _ in scopes.names()),
                   any(d.code == "PQL107" for d in found), tuple(piece.comments),
                   (config, loaded))


def _counter(rule: Rule) -> TooManyAggregations:
    assert isinstance(rule, TooManyAggregations), f"{rule.code} is not a counting rule"
    return rule


def _names_stay_apart(pieces: Sequence[_Linted]) -> bool:
    """Whether the name rules judge each clause as they judge it in the whole expression."""
    bound: Counter[str] = Counter()
    for piece in pieces:
        bound.update(piece.binders)
    if not bound:
        return True
    for piece in pieces:
        foreign = {name for name, n in bound.items() if n > (name in piece.binders)}
        if piece.names & foreign or (piece.unbound and not foreign <= piece.binders):
            return False
    return True


def _placed(clause: Clause, linted: _Linted) -> _Moved:
    """The clause's findings, aggregations and comments moved to where it stands in the
    document."""
    shift = Shift(*clause.place)
    offset = clause.start
    out = []
    for d in linted.found:
        fix = d.fix
        if fix is not None:
            fix = dataclasses.replace(fix, edits=tuple(
                Edit(e.start + offset, e.end + offset, e.replacement) for e in fix.edits))
        out.append(dataclasses.replace(d, span=shift.span(d.span), fix=fix))
    return (tuple(out), tuple(shift.node(node) for node in linted.aggregations),
            tuple(Comment(c.text, shift.span(c.span)) for c in linted.comments))


def _joining(root: ast.Expr, clauses: Sequence[Clause]) -> list[ast.BoolOp]:
    """The ``and``/``or`` nodes that join the clauses (built by
    :func:`pqltools_lsp.incremental.parse_clauses`), in walk order."""
    assert isinstance(root, ast.BoolOp)
    ops = [c.op for c in clauses[1:]]
    if "or" not in ops:
        return [root]
    sizes = [1]
    for op in ops:
        if op == "or":
            sizes.append(1)
        else:
            sizes[-1] += 1
    groups = [v for v, n in zip(root.values, sizes, strict=True) if n > 1]
    assert all(isinstance(g, ast.BoolOp) for g in groups)
    return [root, *groups]  # type: ignore[list-item]
