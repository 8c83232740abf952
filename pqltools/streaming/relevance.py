"""Which incoming events can change a definition's answer: the simulator's event routing.

An event can only matter to a definition through the places that read ``xEvent``. When each of
them requires a particular ``eventType`` of the event it looks at (``WHAT(eventType =
"commerce.purchases")``, ``xEvent[eventType in ["a", "b"]]``, ``select X from xEvent where
X.eventType.equals("a", false)``), an event of another type changes nothing: it matches no chain
step, passes no filter and binds no variable. :func:`event_types` returns those types (lower
case, a superset of what can match), or None when some reference takes any event (a ``forall``,
``xEvent.count()``, a step with no ``eventType`` condition). The simulator then keeps and
evaluates each event only for the definitions it can concern, which bounds their state and
their cost. Events without a string ``eventType`` go to every definition (a bare ``eventType``
in an event filter falls back to the profile's field when the event has none).
"""

from __future__ import annotations

from pqltools.syntax import ast

__all__ = ["event_types"]

_EVENTS = "xEvent"
_FIELD = "eventType"


def _conjuncts(node: ast.Node | None) -> list[ast.Node]:
    if node is None:
        return []
    if isinstance(node, ast.BoolOp) and node.op == "and":
        return [c for v in node.values for c in _conjuncts(v)]
    return [node]


def _strings(nodes: tuple[ast.Expr, ...]) -> set[str] | None:
    if nodes and all(isinstance(n, ast.String) for n in nodes):
        return {n.value.lower() for n in nodes}  # type: ignore[attr-defined]
    return None


def _required(cond: ast.Node, subject: tuple[str, ...]) -> set[str] | None:
    """The event types ``cond`` admits for the field at ``subject``; None if it admits any."""
    if isinstance(cond, ast.Compare):
        if cond.op == "=":
            for a, b in ((cond.left, cond.right), (cond.right, cond.left)):
                if ast.dotted_path(a) == subject and isinstance(b, ast.String):
                    return {b.value.lower()}
        if cond.op == "in" and ast.dotted_path(cond.left) == subject \
                and isinstance(cond.right, ast.ListLiteral):
            return _strings(cond.right.items)
        return None
    if isinstance(cond, ast.MethodCall) and cond.name == "equals" \
            and ast.dotted_path(cond.receiver) == subject:
        args = cond.args
        if len(args) == 2 and isinstance(args[1], ast.Boolean):
            args = args[:1]
        return _strings(args)
    if isinstance(cond, ast.BoolOp) and cond.op == "or":
        found: set[str] = set()
        for value in cond.values:
            part = _first(_conjuncts(value), subject)
            if part is None:
                return None
            found |= part
        return found
    return None


def _first(conditions: list[ast.Node], subject: tuple[str, ...]) -> set[str] | None:
    for cond in conditions:
        found = _required(cond, subject)
        if found is not None:
            return found
    return None


def _is_events(node: ast.Node) -> bool:
    return isinstance(node, ast.Name) and node.id == _EVENTS


class _Router:
    def __init__(self) -> None:
        self.types: set[str] = set()
        self.any = False
        self.handled: set[int] = set()

    def need(self, found: set[str] | None, events: ast.Node) -> None:
        self.handled.add(id(events))
        if found is None:
            self.any = True
        else:
            self.types |= found

    def visit(self, tree: ast.Node) -> None:
        nested: set[int] = set()  # inner filters of xEvent[a][b], read with the outer one
        for node in tree.walk():
            if isinstance(node, ast.Chain) and _is_events(node.events):
                for step in node.steps:
                    self.need(_first(_conjuncts(step.what) + _conjuncts(step.where), (_FIELD,)),
                              node.events)
            elif isinstance(node, ast.Filter) and id(node) not in nested:
                conditions: list[ast.Node] = []
                inner: ast.Node = node
                while isinstance(inner, ast.Filter):
                    nested.add(id(inner))
                    conditions += _conjuncts(inner.condition)
                    inner = inner.receiver
                if _is_events(inner):
                    self.need(_first(conditions, (_FIELD,)), inner)
            elif isinstance(node, (ast.Select, ast.Quantifier, ast.Aggregate)):
                conditions = [c for b in node.bindings for c in _conjuncts(b.condition)]
                for b in node.bindings:
                    if _is_events(b.source):
                        universal = isinstance(node, ast.Quantifier) and node.kind == "forall"
                        self.need(None if universal else _first(conditions, (b.var, _FIELD)),
                                  b.source)


def event_types(tree: ast.Node) -> frozenset[str] | None:
    """The (lower-case) event types that can change ``tree``'s answer; None for any event.

    An empty set means no event can (a profile-only definition).
    """
    router = _Router()
    router.visit(tree)
    stray = any(_is_events(n) and id(n) not in router.handled for n in tree.walk())
    return None if router.any or stray else frozenset(router.types)
