"""One visitor and one transformer base for every pass over the syntax tree.

Passes (validation, eligibility, formatting, JSON conversion, compilation) subclass these instead of
writing their own dispatch. Methods are looked up once per node class and cached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from pqltools.syntax.ast import Node

T = TypeVar("T")


class Visitor(Generic[T]):
    """Dispatch ``visit(node)`` to ``visit_<ClassName>(node)``, else :meth:`generic_visit`.

    The default :meth:`generic_visit` visits every child and returns None; override it to give a
    default for node kinds a pass does not name.
    """

    _dispatch_cache: ClassVar[dict[type[Node], Callable[[Any, Any], Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch_cache = {}

    def visit(self, node: Node) -> T:
        """Visit ``node`` with the method named after its class."""
        cls = type(node)
        method = self._dispatch_cache.get(cls)
        if method is None:
            method = getattr(type(self), "visit_" + cls.__name__, None) or type(self).generic_visit
            self._dispatch_cache[cls] = method
        return method(self, node)  # type: ignore[no-any-return,unused-ignore]

    def generic_visit(self, node: Node) -> T:
        """Visit every child; return None."""
        for child in node.children():
            self.visit(child)
        return None  # type: ignore[return-value]



class Transformer(Visitor[Node]):
    """A visitor that rebuilds the tree bottom-up.

    The default for every node kind rebuilds it with transformed children (sharing the node when
    nothing changed); override ``visit_<ClassName>`` to replace nodes.
    """

    def generic_visit(self, node: Node) -> Node:
        changes: dict[str, Any] = {}
        for name in node.child_fields:
            value = getattr(node, name)
            if isinstance(value, Node):
                new = self.visit(value)
                if new is not value:
                    changes[name] = new
            elif isinstance(value, tuple) and value and isinstance(value[0], Node):
                items = tuple(self.visit(item) for item in value)
                if any(a is not b for a, b in zip(items, value)):
                    changes[name] = items
        return dataclasses.replace(node, **changes) if changes else node
