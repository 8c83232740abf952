"""The one visitor base for passes over the syntax tree.

Name resolution (``analysis/scope``), time windows (``analysis/windows``), formatting
(``syntax/printer``), ``pql/json`` conversion (``syntax/pqljson``) and compilation
(``runtime/compiler``) subclass :class:`Visitor` instead of writing their own dispatch. The
linter does not: its rules declare the node classes they look at and the lint engine walks each
tree once (``Node.walk``). Methods are looked up once per node class and cached.
"""

from __future__ import annotations

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
