"""Variables of one expression: where each is declared and every place that refers to it.

Go to definition, references, rename and highlighting all ask "which variable is at this
offset?" and "where else is it?". The one name resolver (:func:`pqltools.analysis.scope.resolve`,
which the linter and the compiler use too) answers for ``select``/``exists``/``forall``/
aggregation bindings, ``let``, lambda parameters and chain step labels (``A: WHAT(...)``,
referred to as ``A.timestamp`` in a later step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pqltools_lsp.documents import Region, parsed, parsed_clauses
from pqltools_lsp.memo import PER_DEFINITION, Memo

from pqltools.analysis.scope import resolve
from pqltools.syntax import ast

__all__ = ["Variable", "Variables"]


def _moved(span: tuple[int, int], by: int) -> tuple[int, int]:
    return span[0] + by, span[1] + by

#: id(tree) -> (tree, its variables); the tree is kept so that its id is not reused.
_RESOLVED: Memo[int, tuple[ast.Node, Variables]] = Memo(PER_DEFINITION)


@dataclass(eq=False)
class Variable:
    """One declared variable: name, binder kind, declaration and reference offsets."""

    name: str
    kind: str  # "select", "exists", "forall", "some", "sum"..., "let", "lambda", "chain label"
    declaration: tuple[int, int]
    references: list[tuple[int, int]] = field(default_factory=list)
    #: the plain path the variable ranges over or stands for (``xEvent``), when it is one
    source: tuple[str, ...] | None = None

    def declared_at(self, offset: int) -> bool:
        """Whether ``offset`` falls on the declaring occurrence."""
        return self.declaration[0] <= offset <= self.declaration[1]

    @property
    def occurrences(self) -> list[tuple[int, int]]:
        """Declaration first, then references in source order."""
        return [self.declaration, *sorted(self.references)]


class Variables:
    """The variables of one syntax tree."""

    def __init__(self, variables: list[Variable]) -> None:
        self.all = variables

    def at(self, offset: int) -> Variable | None:
        """The variable whose declaration or reference covers ``offset``."""
        for var in self.all:
            for start, end in var.occurrences:
                if start <= offset <= end:
                    return var
        return None

    @classmethod
    def of_region(cls, region: Region) -> Variables | None:
        """The variables of a region's expression (None when it does not parse).

        A long ``.pql`` text assembled from top-level clauses
        (:mod:`pqltools_lsp.incremental`) has no binder across clauses, so each clause's
        variables (memoised with its parse) are moved to where it stands: an edit resolves
        one clause again, not the whole expression.
        """
        clauses = parsed_clauses(region.text) if region.definition is None and region.comments \
            else None
        if clauses is not None:
            found: list[Variable] = []
            for c in clauses:
                clause = parsed(c.text, region.comments)
                assert clause.expr is not None  # the clauses all parse
                for var in cls.of(clause.expr, clause.text).all:
                    found.append(Variable(
                        var.name, var.kind, _moved(var.declaration, c.start),
                        [_moved(r, c.start) for r in var.references], var.source))
            return cls(found)
        tree = region.parse.expr
        if tree is None:
            return None
        return cls.of(tree, region.text)

    @classmethod
    def of(cls, tree: ast.Node, text: str) -> Variables:
        """Resolve every binder and chain label of ``tree`` (parsed from ``text``), memoised
        per tree (trees are immutable and parses are memoised per text)."""
        return _RESOLVED.get(id(tree), lambda: (tree, cls._resolve(tree, text)))[1]

    @classmethod
    def _resolve(cls, tree: ast.Node, text: str) -> Variables:
        scopes = resolve(tree, text)
        found = [Variable(b.name, b.kind, (b.span.start, b.span.end),
                          [(r.span.start, r.span.end) for r in b.references],
                          ast.dotted_path(b.value) if b.value is not None else None)
                 for b in scopes.binders]
        return cls(found)

