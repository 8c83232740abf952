"""The eligibility verdict of a long ``.pql`` text, gathered clause by clause.

Hover (over anything that is not a function, a variable or a field) and the code lens show the
evaluation-method verdict of the whole expression. Its facts
(:class:`pqltools.analysis.eligibility.FactParts`) are read from each top-level clause of
:mod:`pqltools_lsp.incremental` alone, memoised by the clause's text, and put together where
the clauses stand: event references keep their order and their groups are numbered after the
previous clauses' groups, and a month compared without its year is judged against the years
read anywhere in the expression. Clauses bind no name across each other (a top-level binder
forbids the cut), so each clause's references resolve as they do in the whole expression.
``tests/lsp/test_lsp_incremental.py`` checks that the verdict equals
:func:`pqltools.analysis.eligibility.classify` of the whole expression.
"""

from __future__ import annotations

import dataclasses
from functools import partial

from pqltools_lsp.clause_lint import COLD_LIMIT, MAX_CLAUSES
from pqltools_lsp.documents import parsed, parsed_clauses
from pqltools_lsp.incremental import Clause, Shift, split
from pqltools_lsp.memo import Memo

from pqltools.analysis.eligibility import (
    Eligibility,
    FactParts,
    classify_facts,
    fact_parts,
    facts_from,
)
from pqltools.analysis.windows import EventReference
from pqltools.errors import Span

__all__ = ["classify_clauses", "warm"]

#: Each clause's facts, by its text, and moved to where it stands (after how many groups).
_PARTS: Memo[str, FactParts | None] = Memo(4096)
_PLACED: Memo[tuple[str, tuple[int, int, int], int], FactParts] = Memo(4096)


def classify_clauses(text: str, rules: str, cold_limit: int | None = COLD_LIMIT
                     ) -> Eligibility | None:
    """``classify(parse(text, comments=True), rules=rules)`` from the facts of the text's
    top-level clauses, or None when the text is not cut into clauses (or more than
    ``cold_limit`` of them were never read: :func:`warm` reads them)."""
    clauses = parsed_clauses(text)
    if clauses is None or len(clauses) > MAX_CLAUSES:
        return None
    known = [_PARTS.peek(c.text) for c in clauses]
    if cold_limit is not None and len({c.text for c, parts in zip(clauses, known, strict=True)
                                       if parts is None}) > cold_limit:
        return None
    placed: list[FactParts] = []
    groups = 0  # event groups numbered by the clauses before
    for clause, parts in zip(clauses, known, strict=True):
        if parts is None:
            parts = _PARTS.get(clause.text, partial(_parts, clause.text))
            if parts is None:
                return None  # a clause that does not parse alone
        if _located(parts):
            parts = _PLACED.get((clause.text, clause.place, groups),
                                partial(_placed, clause, parts, groups))
        placed.append(parts)  # else nothing in it has a place (its span is not read)
        groups += parts.groups
    return classify_facts(facts_from(_joined(placed, _span(clauses))), rules)


def _span(clauses: tuple[Clause, ...]) -> Span:
    """The span of the whole expression: from its first clause's to its last clause's."""
    first, last = clauses[0], clauses[-1]
    head, tail = parsed(first.text, True).expr, parsed(last.text, True).expr
    assert head is not None and tail is not None
    return Shift(*first.place).span(head.span).cover(Shift(*last.place).span(tail.span))


def _located(parts: FactParts) -> bool:
    """Whether a clause's facts hold anything with a span."""
    return bool(parts.segment_refs or parts.aam or parts.events or parts.multi_entity
                or parts.month_parts or parts.maps)


def warm(text: str) -> None:
    """Read the facts of the clauses of ``text`` never read before."""
    clauses = split(text, True)
    if clauses is None or len(clauses) > MAX_CLAUSES:
        return
    for clause in clauses:
        if clause.text not in _PARTS:
            _PARTS.get(clause.text, partial(_parts, clause.text))


def _parts(text: str) -> FactParts | None:
    piece = parsed(text, True)
    return fact_parts(piece.expr) if piece.ok and piece.expr is not None else None


def _placed(clause: Clause, parts: FactParts, groups: int) -> FactParts:
    """A clause's facts with every span moved to where the clause stands, its event groups
    numbered after the ``groups`` of the clauses before it."""
    shift = Shift(*clause.place)
    move = shift.span

    def event(ref: EventReference) -> EventReference:
        return dataclasses.replace(
            ref, group=ref.group + groups, span=move(ref.span),
            time_spans=tuple(move(s) for s in ref.time_spans),
            aggregate=None if ref.aggregate is None else move(ref.aggregate),
            negated_by=None if ref.negated_by is None else move(ref.negated_by))

    return FactParts(move(parts.span), [(i, move(s)) for i, s in parts.segment_refs],
                     [move(s) for s in parts.aam], [event(r) for r in parts.events],
                     parts.groups, [move(s) for s in parts.multi_entity], parts.with_year,
                     [(move(s), path) for s, path in parts.month_parts],
                     [move(s) for s in parts.maps])


def _joined(placed: list[FactParts], span: Span) -> FactParts:
    """The facts of the clauses' ``and``/``or``: their parts in order (event groups already
    numbered one clause after the other)."""
    joined = FactParts(span, [], [], [], sum(p.groups for p in placed), [], set(), [], [])
    for parts in placed:
        joined.events.extend(parts.events)
        joined.segment_refs.extend(parts.segment_refs)
        joined.aam.extend(parts.aam)
        joined.multi_entity.extend(parts.multi_entity)
        joined.with_year |= parts.with_year
        joined.month_parts.extend(parts.month_parts)
        joined.maps.extend(parts.maps)
    return joined
