"""Name resolution: what every bare name in an expression refers to, decided once.

PQL has one kind of bare identifier (:class:`~pqltools.syntax.ast.Name`) for five different
things: a profile field, a field of the current element inside an element scope, a variable,
``xEvent`` and ``this``. :func:`resolve` decides which, by the rule of docs/semantics.md
"Names" (reference §3.3). The linter, the language server (go to definition, references,
rename, highlighting) and the compiler (:mod:`pqltools.runtime.compiler`) all read this one
result, so they cannot disagree about a name.

* Variables are declared by ``select``/``exists``/``forall``/aggregation bindings (sequential:
  the source of binding *i* sees variables 1..i-1, its ``where`` sees 1..i, an aggregation's
  value expression sees them all), ``let x = v in body`` (only ``body`` sees ``x``), lambda
  parameters (the lambda body) and chain step labels (the later steps of the chain). Nested
  binders see outer variables; the innermost declaration of a name wins.
* Element scopes: a filter's condition (``a[cond]``), the element-scope arguments of methods
  (``catalog.ParamSpec.element_scope``: ``filter``, ``topN``, ``sum``...; a lambda argument
  binds the element to its parameter instead) and a chain step's ``WHAT``/``WHEN``/``WHERE``.
* **A name equal to a variable in scope is that variable, even inside an element scope**: the
  meaning of a name never depends on the data. Otherwise ``xEvent`` and ``this`` are
  themselves; otherwise the name is an element field inside an element scope (read from the
  innermost element that has it, then outer elements, then the profile) and a profile field
  outside. ``this.X`` reads an element field named like a variable.

The result (:class:`Scopes`) lists every binder with its references, the resolution of every
name, the element scope ``^``/``^^`` climb to, and the names that look like a variable used
outside the binder that declares it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import field

from pqltools import catalog
from pqltools.errors import Span
from pqltools.records import record
from pqltools.syntax import ast
from pqltools.syntax.visitor import Visitor

__all__ = ["Binder", "ElementScope", "NameKind", "Resolution", "Scopes", "resolve"]


class NameKind(str, enum.Enum):
    """What a bare name refers to."""

    VARIABLE = "variable"
    PROFILE_FIELD = "profile-field"
    ELEMENT_FIELD = "element-field"
    EVENTS = "xEvent"
    THIS = "this"


@record(eq=False)
class Binder:
    """One variable declaration.

    ``kind`` is the binding construct: ``select``, ``exists``, ``forall``, ``some``, ``sum``,
    ``average``, ``min``, ``max``, ``let``, ``lambda`` or ``chain label``. ``node`` is the
    :class:`~pqltools.syntax.ast.Binding`, ``Let``, ``Lambda`` or ``ChainStep`` that declares
    it; ``owner`` is the enclosing Select/Quantifier/Aggregate for bindings and the Chain for
    labels (else ``node``). ``span`` covers the declared name. ``value`` is what the variable
    ranges over (a binding's source, a label's events) or stands for (a let's value); None for
    lambda parameters.
    """

    name: str
    kind: str
    node: ast.Node
    owner: ast.Node
    span: Span
    value: ast.Expr | None
    references: list[ast.Name] = field(default_factory=list)


@record(eq=False)
class ElementScope:
    """A region where bare names are fields of the current element of ``collection``.

    ``node`` opens it (a Filter, a MethodCall or a Chain); ``parent`` is the enclosing element
    scope, if any.
    """

    node: ast.Node
    collection: ast.Expr
    parent: ElementScope | None

    @property
    def depth(self) -> int:
        """How many element scopes enclose this one, itself included."""
        depth = 0
        scope_: ElementScope | None = self
        while scope_ is not None:
            depth, scope_ = depth + 1, scope_.parent
        return depth


@record(frozen=True, eq=False)
class Resolution:
    """What one name refers to; ``binder`` for variables, ``element`` inside element scopes."""

    kind: NameKind
    binder: Binder | None = None
    element: ElementScope | None = None


@record
class Scopes:
    """The result of :func:`resolve` over one tree (nodes are keyed by identity)."""

    binders: list[Binder] = field(default_factory=list)
    element_scopes: list[ElementScope] = field(default_factory=list)
    _names: dict[int, tuple[ast.Name, Resolution]] = field(default_factory=dict)
    _parents: dict[int, ElementScope | None] = field(default_factory=dict)
    _opened: dict[int, ElementScope] = field(default_factory=dict)

    def resolution(self, name: ast.Name) -> Resolution:
        """How ``name`` (a node of the resolved tree) resolves."""
        return self._names[id(name)][1]

    def names(self) -> Iterator[tuple[ast.Name, Resolution]]:
        """Every name of the tree with its resolution, in source order."""
        return iter(sorted(self._names.values(), key=lambda item: item[0].span.start))

    def parent_target(self, ref: ast.ParentRef) -> ElementScope | None:
        """The element scope ``^``/``^^`` refers to; None means the profile root."""
        return self._parents.get(id(ref))

    def scope_opened_by(self, node: ast.Node) -> ElementScope | None:
        """The element scope that ``node`` (a Filter, MethodCall or Chain) opens, if any."""
        return self._opened.get(id(node))

    def unbound_variables(self) -> list[ast.Name]:
        """Names that are not variables here but equal a variable declared elsewhere."""
        declared = {b.name for b in self.binders}
        return [name for name, res in self.names()
                if res.kind is not NameKind.VARIABLE and name.id in declared]

    def binder_at(self, offset: int) -> Binder | None:
        """The binder whose declaration or one of whose references covers ``offset``."""
        for binder in self.binders:
            spans = [binder.span, *(r.span for r in binder.references)]
            if any(s.start <= offset <= s.end for s in spans):
                return binder
        return None


def resolve(root: ast.Node, text: str | None = None) -> Scopes:
    """Resolve every name under ``root``.

    ``text`` is the source the tree was parsed from; with it, binder spans cover just the
    declared name (``let S``, lambda parameters), otherwise the declaring node's span.
    """
    resolver = _Resolver(text)
    resolver.visit(root)
    for binder in resolver.scopes.binders:
        binder.references.sort(key=lambda name: name.span.start)
    return resolver.scopes


class _Resolver(Visitor[None]):
    """Walks the tree with a stack of visible variables and a stack of element scopes."""

    def __init__(self, text: str | None):
        self.text = text
        self.scopes = Scopes()
        self.variables: list[Binder] = []
        self.element: ElementScope | None = None

    # ---- names

    def visit_Name(self, node: ast.Name) -> None:
        for binder in reversed(self.variables):
            if binder.name == node.id:
                binder.references.append(node)
                self._record(node, Resolution(NameKind.VARIABLE, binder=binder))
                return
        if node.id == "xEvent":
            res = Resolution(NameKind.EVENTS)
        elif node.id == "this":
            res = Resolution(NameKind.THIS, element=self.element)
        elif self.element is not None:
            res = Resolution(NameKind.ELEMENT_FIELD, element=self.element)
        else:
            res = Resolution(NameKind.PROFILE_FIELD)
        self._record(node, res)

    def visit_ParentRef(self, node: ast.ParentRef) -> None:
        target = self.element
        for _ in range(node.levels):
            target = target.parent if target is not None else None
        self.scopes._parents[id(node)] = target

    def _record(self, node: ast.Name, res: Resolution) -> None:
        self.scopes._names[id(node)] = (node, res)

    # ---- element scopes

    def visit_Filter(self, node: ast.Filter) -> None:
        self.visit(node.receiver)
        self._in_element(node, node.receiver, [node.condition])

    def visit_MethodCall(self, node: ast.MethodCall) -> None:
        self.visit(node.receiver)
        spec = catalog.lookup(node.name, "method")
        scoped: list[ast.Node] = []
        for index, arg in enumerate(node.args):
            param = spec.param_for(index) if spec is not None else None
            if param is not None and param.element_scope and not isinstance(arg, ast.Lambda):
                scoped.append(arg)
            else:
                self.visit(arg)
        if scoped:
            self._in_element(node, node.receiver, scoped)

    def visit_Chain(self, node: ast.Chain) -> None:
        self.visit(node.events)
        scope = self._open(node, node.events)
        pushed = 0
        try:
            for step in node.steps:
                self._inside(scope, [step])
                start = step.span.start
                span = (Span.from_offsets(self.text, start, start + len(step.label))
                        if self.text is not None else step.span)
                self._push(Binder(step.label, "chain label", step, node, span, node.events))
                pushed += 1
        finally:
            del self.variables[len(self.variables) - pushed:]

    def _in_element(self, node: ast.Node, collection: ast.Expr, body: list[ast.Node]) -> None:
        self._inside(self._open(node, collection), body)

    def _open(self, node: ast.Node, collection: ast.Expr) -> ElementScope:
        scope = ElementScope(node, collection, self.element)
        self.scopes.element_scopes.append(scope)
        self.scopes._opened[id(node)] = scope
        return scope

    def _inside(self, scope: ElementScope, body: list[ast.Node]) -> None:
        saved, self.element = self.element, scope
        try:
            for child in body:
                self.visit(child)
        finally:
            self.element = saved

    # ---- binders

    def visit_Select(self, node: ast.Select) -> None:
        self._bindings(node, "select", node.bindings, None)

    def visit_Quantifier(self, node: ast.Quantifier) -> None:
        self._bindings(node, node.kind, node.bindings, None)

    def visit_Aggregate(self, node: ast.Aggregate) -> None:
        self._bindings(node, node.func, node.bindings, node.value)

    def _bindings(self, owner: ast.Node, kind: str, bindings: tuple[ast.Binding, ...],
                  value: ast.Expr | None) -> None:
        pushed = 0
        try:
            for binding in bindings:
                self.visit(binding.source)
                span = self._name_span(binding.var, binding.span)
                self._push(Binder(binding.var, kind, binding, owner, span, binding.source))
                pushed += 1
                if binding.condition is not None:
                    self.visit(binding.condition)
            if value is not None:
                self.visit(value)
        finally:
            del self.variables[len(self.variables) - pushed:]

    def visit_Let(self, node: ast.Let) -> None:
        self.visit(node.value)
        span = self._name_span(node.name, node.span, after="let")
        self._push(Binder(node.name, "let", node, node, span, node.value))
        try:
            self.visit(node.body)
        finally:
            self.variables.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        start = node.span.start
        for param in node.params:
            span = self._name_span(param, node.span, start)
            self._push(Binder(param, "lambda", node, node, span, None))
            start = max(start, span.end) if span is not node.span else start
        try:
            self.visit(node.body)
        finally:
            del self.variables[len(self.variables) - len(node.params):]

    def _push(self, binder: Binder) -> None:
        self.scopes.binders.append(binder)
        self.variables.append(binder)

    def _name_span(self, name: str, within: Span, start: int | None = None,
                   after: str = "") -> Span:
        """The span of the first ``name`` token in ``within`` from ``start`` (past keyword
        ``after``); ``within`` itself when there is no text or no such token."""
        if self.text is None or within.end <= within.start:
            return within
        pattern = (rf"\b{after}\s+" if after else "") + rf"(?<![\w$])({re.escape(name)})(?!\w)"
        flags = re.IGNORECASE if after else 0
        match = re.compile(pattern, flags).search(self.text, start or within.start, within.end)
        if match is None:
            return within
        return Span.from_offsets(self.text, match.start(1), match.end(1))
