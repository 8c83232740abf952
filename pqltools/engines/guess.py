"""A schema guessed from an expression alone, for showing its SQL without data (``to_sql``).

Each path the expression reads gets the type its use suggests: the type of the literal it is
compared with or tested against, a string for ``occurs`` subjects and string methods, a number
inside aggregates, a list for the operands of set methods (``intersects``), a Boolean in
Boolean position; anything else is a string. Fields read inside ``xEvent`` filters and
``chain`` steps over ``xEvent``, ``xEvent`` paths, and variables and chain labels bound over
``xEvent`` are event fields.
"""

from __future__ import annotations

from typing import Any

from pqltools.engines.types import (
    BIGINT,
    BOOLEAN,
    DOUBLE,
    NULL,
    STRING,
    ListOf,
    SqlType,
    Struct,
)
from pqltools.syntax import ast

__all__ = ["guess_schema"]

_STRING_METHODS = {"contains", "doesNotContain", "startsWith", "doesNotStartWith", "endsWith",
                   "doesNotEndWith", "equals", "notEqualTo", "matches", "regexGroup",
                   "getYear", "getMonth", "getDayOfMonth"}
#: methods whose first argument is a number per element (an aggregate, a ranking key)
_NUMBER_METHODS = {"sum", "average", "min", "max", "topN", "bottomN"}
_SET_METHODS = {"intersects", "intersection", "subsetOf", "supersetOf"}


def _literal_type(node: ast.Node) -> SqlType | None:
    if isinstance(node, ast.String):
        return STRING
    if isinstance(node, ast.Boolean):
        return BOOLEAN
    if isinstance(node, ast.Number):
        return DOUBLE if isinstance(node.value, float) else BIGINT
    if isinstance(node, ast.ListLiteral) and node.items:
        return _literal_type(node.items[0])
    return None


class _Guess:
    def __init__(self) -> None:
        self.profile: dict[tuple[str, ...], SqlType] = {}
        self.events: dict[tuple[str, ...], SqlType] = {}
        self.uses_events = False

    def path(self, node: ast.Node, event_vars: set[str], in_events: bool
             ) -> tuple[str, tuple[str, ...]] | None:
        """("profile"|"events", path) of a dotted path, or None."""
        names: list[str] = []
        while isinstance(node, ast.Attribute):
            names.append(node.name)
            node = node.receiver
        if isinstance(node, ast.Filter):
            inner = self.path(node.receiver, event_vars, in_events)
            if inner is not None and inner == ("events", ()):
                return ("events", tuple(reversed(names)))
            return None
        if not isinstance(node, ast.Name):
            return None
        names.append(node.id)
        names.reverse()
        if names[0] == "xEvent":
            self.uses_events = True
            return ("events", tuple(names[1:]))
        if names[0] in event_vars:
            return ("events", tuple(names[1:]))
        return ("events" if in_events else "profile", tuple(names))

    def note(self, node: ast.Node, t: SqlType, event_vars: set[str], in_events: bool) -> None:
        found = self.path(node, event_vars, in_events)
        if found is None or not found[1]:
            return
        where = self.profile if found[0] == "profile" else self.events
        where.setdefault(found[1], t)

    def walk(self, node: ast.Node, event_vars: set[str], in_events: bool) -> None:
        if isinstance(node, (ast.Compare,)):
            for a, b in ((node.left, node.right), (node.right, node.left)):
                t = _literal_type(b)
                self.note(a, t if t is not None else STRING, event_vars, in_events)
        elif isinstance(node, ast.Occurs):
            self.note(node.subject, STRING, event_vars, in_events)
        elif isinstance(node, ast.MethodCall):
            if node.name in _STRING_METHODS:
                self.note(node.receiver, STRING, event_vars, in_events)
            if node.name in _SET_METHODS and node.args:
                # both operands lists, of the other's literal elements' type (else strings)
                for a, b in ((node.receiver, node.args[0]), (node.args[0], node.receiver)):
                    t = _literal_type(b)
                    self.note(a, ListOf(t if t is not None else STRING), event_vars, in_events)
            if node.name in _NUMBER_METHODS and node.args:
                inner = self.path(node.receiver, event_vars, in_events)
                self.note(node.args[0], DOUBLE, event_vars,
                          in_events or inner == ("events", ()))
        if isinstance(node, ast.MethodCall) and node.args:
            self.walk(node.receiver, event_vars, in_events)
            inner = self.path(node.receiver, event_vars, in_events)
            for arg in node.args:
                self.walk(arg, event_vars, in_events or inner == ("events", ()))
            return
        if isinstance(node, ast.Filter):
            self.walk(node.receiver, event_vars, in_events)
            inner = self.path(node.receiver, event_vars, in_events)
            self.walk(node.condition, event_vars, in_events or inner == ("events", ()))
            return
        if isinstance(node, (ast.Select, ast.Quantifier, ast.Aggregate)):
            bound = set(event_vars)
            for binding in node.bindings:
                self.walk(binding.source, bound, in_events)
                if self.path(binding.source, bound, in_events) == ("events", ()):
                    bound.add(binding.var)
                if binding.condition is not None:
                    self.walk(binding.condition, bound, in_events)
            if isinstance(node, ast.Aggregate) and node.value is not None:
                self.note(node.value, DOUBLE, bound, in_events)
                self.walk(node.value, bound, in_events)
            return
        if isinstance(node, ast.Chain):
            self.walk(node.events, event_vars, in_events)
            over_events = self.path(node.events, event_vars, in_events) == ("events", ())
            if over_events:
                self.events.setdefault(tuple(node.timestamp_field.split(".")), STRING)
            labels = set(event_vars)
            for step in node.steps:
                for clause in (step.what, step.when, step.where):
                    if clause is not None:
                        self.walk(clause, labels, in_events or over_events)
                if over_events:
                    labels.add(step.label)
            return
        for child in node.children():
            self.walk(child, event_vars, in_events)


def _tree(paths: dict[tuple[str, ...], SqlType]) -> Struct:
    root: dict[str, Any] = {}
    for path, t in sorted(paths.items()):
        level = root
        for part in path[:-1]:
            nxt = level.setdefault(part, {})
            if not isinstance(nxt, dict):
                nxt = level[part] = {}
            level = nxt
        level.setdefault(path[-1], t)
    return _struct(root)


def _struct(level: dict[str, Any]) -> Struct:
    return Struct(tuple((k, _struct(v) if isinstance(v, dict) else v) for k, v in level.items()))


def guess_schema(tree: ast.Node) -> tuple[Struct, SqlType]:
    """(profile type, events type) guessed from ``tree``."""
    g = _Guess()
    g.walk(tree, set(), False)
    for node in tree.walk():
        if isinstance(node, ast.Name) and node.id == "xEvent":
            g.uses_events = True
    events: SqlType = ListOf(_tree(g.events)) if g.uses_events else NULL
    return _tree(g.profile), events
