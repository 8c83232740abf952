"""Static facts about expressions: the schema path a value comes from and its type.

Both are *best effort*: None means "not knowable statically", and every rule that uses them stays
silent on None. Types use the function catalogue's vocabulary (``string``, ``integer``,
``number``, ``boolean``, ``list``, ``map``, ``object``, ``date``, ``timestamp``).

:class:`StaticInfo` memoises per node identity, so rules sharing it during one lint run do not
recompute paths of the same subtrees.
"""

from __future__ import annotations

from pqltools import catalog
from pqltools.analysis.schema import Schema
from pqltools.analysis.scope import ElementScope, NameKind, Scopes
from pqltools.syntax import ast

__all__ = ["NUMERIC", "StaticInfo", "assignable", "literal_type"]

#: Types ordering comparisons and arithmetic accept.
NUMERIC = frozenset({"integer", "number"})

#: Methods whose result has the receiver's path (a sub-list of the same elements).
_SAME_ELEMENTS = frozenset({"filter", "topN", "bottomN", "distinct", "intersection"})


def literal_type(node: ast.Node) -> str | None:
    """The type of a literal node, None for anything else."""
    if isinstance(node, ast.String):
        return "string"
    if isinstance(node, ast.Boolean):
        return "boolean"
    if isinstance(node, ast.Number):
        return "integer" if isinstance(node.value, int) else "number"
    if isinstance(node, ast.ListLiteral):
        return "list"
    if isinstance(node, ast.ObjectLiteral):
        return "object"
    return None


def assignable(actual: str, expected: str) -> bool:
    """Whether a value of type ``actual`` can be passed where ``expected`` is wanted."""
    if "any" in (actual, expected) or actual == expected:
        return True
    if expected == "number":
        return actual == "integer"
    if expected in ("timestamp", "date"):
        # Timestamps are stored as date-times, dates, epoch milliseconds or ISO strings (§4).
        return actual in ("timestamp", "date", "integer", "string")
    if expected == "object":
        return actual in ("map", "entry")
    return False


class StaticInfo:
    """Schema paths and static types of the nodes of one resolved tree."""

    def __init__(self, scopes: Scopes, schema: Schema | None = None):
        self.scopes = scopes
        self.schema = schema
        self._paths: dict[int, tuple[str, ...] | None] = {}
        self._types: dict[int, str | None] = {}

    # ---- paths -----------------------------------------------------------------------------

    def path(self, node: ast.Node) -> tuple[str, ...] | None:
        """The schema path of the values ``node`` yields (``("xEvent", "productListItems")``
        for ``xEvent[...].productListItems``), or None when it is not a field navigation.

        A variable bound ``from`` a collection has the collection's path (schema lookups step
        into arrays by themselves); an element field has its element scope's collection path
        plus its own name; ``^name`` climbs element scopes.
        """
        key = id(node)
        if key not in self._paths:
            self._paths[key] = None  # guards self-reference through a let
            self._paths[key] = self._compute_path(node)
        return self._paths[key]

    def _compute_path(self, node: ast.Node) -> tuple[str, ...] | None:
        if isinstance(node, ast.Name):
            res = self.scopes.resolution(node)
            if res.kind is NameKind.PROFILE_FIELD:
                return (node.id,)
            if res.kind is NameKind.EVENTS:
                return ("xEvent",)
            if res.kind is NameKind.ELEMENT_FIELD:
                return self._element_path(res.element, node.id)
            if res.kind is NameKind.THIS:
                return self._element_path(res.element, None)
            if res.binder is not None and res.binder.kind != "lambda" and res.binder.value:
                return self.path(res.binder.value)
            return None
        if isinstance(node, ast.Attribute):
            if isinstance(node.receiver, ast.ParentRef):
                target = self.scopes.parent_target(node.receiver)
                return (self._element_path(target, node.name) if target is not None
                        else (node.name,))
            base = self.path(node.receiver)
            return None if base is None else (*base, node.name)
        if isinstance(node, ast.Filter):
            return self.path(node.receiver)
        if isinstance(node, ast.MethodCall):
            if node.name in _SAME_ELEMENTS or node.name == "head":
                return self.path(node.receiver)
            if node.name == "get" and len(node.args) == 1 and isinstance(node.args[0], ast.String):
                base = self.path(node.receiver)
                return None if base is None else (*base, node.args[0].value)
            if node.name == "values":
                base = self.path(node.receiver)
                return None if base is None else (*base, "*")
            return None
        if isinstance(node, ast.Select) and len(node.bindings) == 1:
            return self.path(node.bindings[0].source)
        return None

    def _element_path(self, scope: ElementScope | None, name: str | None
                      ) -> tuple[str, ...] | None:
        if scope is None:
            return None
        base = self.path(scope.collection)
        if base is None:
            return None
        return base if name is None else (*base, name)

    # ---- types -----------------------------------------------------------------------------

    def field_type(self, node: ast.Node) -> str | None:
        """The schema type of the field ``node`` reads (its own type, ignoring arrays passed
        through on the way), or None without a schema or for non-fields."""
        if self.schema is None:
            return None
        path = self.path(node)
        if path is None:
            return None
        info = self.schema.lookup(path)
        return None if info is None or info.type == "any" else info.type

    def type_of(self, node: ast.Node) -> str | None:
        """The static type of ``node``'s value, or None when it cannot be known."""
        key = id(node)
        if key not in self._types:
            self._types[key] = None  # guards self-reference through a let
            self._types[key] = self._compute_type(node)
        return self._types[key]

    def _compute_type(self, node: ast.Node) -> str | None:
        literal = literal_type(node)
        if literal is not None:
            return literal
        if isinstance(node, (ast.Compare, ast.BoolOp, ast.Not, ast.Occurs, ast.Chain,
                             ast.Quantifier)):
            return "boolean"
        if isinstance(node, (ast.Filter, ast.Select)):
            return "list"
        if isinstance(node, ast.Neg):
            return "number"
        if isinstance(node, ast.BinOp):
            sides = (self.type_of(node.left), self.type_of(node.right))
            if all(t in NUMERIC for t in sides):
                return "integer" if sides == ("integer", "integer") and node.op != "/" else "number"
            return None
        if isinstance(node, ast.Aggregate):
            return "number" if node.func in ("sum", "average") else None
        if isinstance(node, ast.Let):
            return self.type_of(node.body)
        if isinstance(node, ast.Call):
            spec = catalog.lookup(node.name, "global")
            return None if spec is None or spec.returns == "any" else spec.returns
        if isinstance(node, ast.MethodCall):
            spec = catalog.lookup(node.name, "method")
            return None if spec is None or spec.returns == "any" else spec.returns
        if isinstance(node, ast.Name):
            res = self.scopes.resolution(node)
            if res.kind is NameKind.EVENTS:
                return "list"
            if res.binder is not None and res.binder.kind == "let" and res.binder.value:
                return self.type_of(res.binder.value)
        if isinstance(node, (ast.Name, ast.Attribute)) and self.schema is not None:
            path = self.path(node)
            info = self.schema.lookup(path) if path is not None else None
            if info is None or info.type == "any":
                return None
            if isinstance(node, ast.Name) and self._is_element_variable(node):
                return info.item_type if info.type == "list" else None
            return "list" if info.through_array and self.navigates_array(node) else info.type
        return None

    def _is_element_variable(self, node: ast.Name) -> bool:
        res = self.scopes.resolution(node)
        return res.kind is NameKind.VARIABLE and res.binder is not None and (
            isinstance(res.binder.node, ast.Binding))

    def navigates_array(self, node: ast.Node) -> bool:
        """True when the source text itself steps through an array with ``.``: some receiver
        of the attribute chain is a list (``xEvent.eventType``), as opposed to a field read
        inside a filter or from a variable bound to one element."""
        while isinstance(node, ast.Attribute):
            if self.type_of(node.receiver) == "list":
                return True
            node = node.receiver
        return False
