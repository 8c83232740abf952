"""The typed PQL syntax tree.

Every node is an immutable (frozen, slotted) dataclass with exact fields and a ``span``. Spans are
excluded from equality, so two trees compare equal when they mean the same source, wherever the
source stood: ``parse(format(tree)) == tree`` is the formatter's round-trip property.

Node kinds, by role:

* literals: :class:`String`, :class:`Number`, :class:`Boolean`, :class:`ListLiteral`,
  :class:`ObjectLiteral` (with :class:`ObjectEntry`)
* names and paths: :class:`Name` (a field of the profile or current element, a variable, or
  ``xEvent``), :class:`Attribute` (``receiver.name``), :class:`Param` (``$1``),
  :class:`ParentRef` (``^``, ``^^``), :class:`ContextRef` (``@{...}``)
* operators: :class:`Not`, :class:`Neg`, :class:`BoolOp` (n-ary ``and``/``or``),
  :class:`Compare` (``= != < <= > >= in notIn like matches``), :class:`BinOp` (``+ - * / %``)
* calls: :class:`Call` (global function), :class:`MethodCall`, :class:`Filter` (``a[cond]``)
* binders: :class:`Select`, :class:`Quantifier`, :class:`Aggregate` (``sum X over ...``),
  :class:`Let`, :class:`Lambda`, with :class:`Binding` (``V from SOURCE where COND``)
* time: :class:`Occurs` with a phrase (:class:`RelativeTime`, :class:`AtTime`,
  :class:`BetweenTimes`) over references (:class:`TimeKeyword`, :class:`CalendarPeriod` or any
  expression)
* sequences: :class:`Chain` with :class:`ChainStep`
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError, field
from operator import attrgetter
from typing import Any, ClassVar, TypeVar, dataclass_transform

from pqltools.errors import NO_SPAN, Span

__all__ = [
    "AGGREGATES",
    "ARITH_OPS",
    "COMPARE_OPS",
    "DIRECTIONS",
    "PERIOD_RELATIONS",
    "QUANTIFIERS",
    "TIME_KEYWORDS",
    "TIME_UNITS",
    "Aggregate",
    "AtTime",
    "Attribute",
    "BetweenTimes",
    "BinOp",
    "Binding",
    "BoolOp",
    "Boolean",
    "CalendarPeriod",
    "Call",
    "Chain",
    "ChainStep",
    "Compare",
    "ContextRef",
    "Expr",
    "Filter",
    "Lambda",
    "Let",
    "ListLiteral",
    "MethodCall",
    "Name",
    "Neg",
    "Node",
    "Not",
    "Number",
    "ObjectEntry",
    "ObjectLiteral",
    "Occurs",
    "Param",
    "ParentRef",
    "Quantifier",
    "RelativeTime",
    "Select",
    "String",
    "TimeKeyword",
    "TimePhrase",
    "TimeRef",
    "dotted_path",
]

#: Infix operators at comparison level (non-associative).
COMPARE_OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "notIn", "like", "matches")
#: Arithmetic operators.
ARITH_OPS = ("+", "-", "*", "/", "%")
#: Canonical (singular, lower-case) time units, smallest first.
TIME_UNITS = (
    "millisecond", "second", "minute", "hour", "day", "week", "month", "year", "decade",
    "century", "millennium",
)
#: Time references that are words.
TIME_KEYWORDS = ("now", "today", "yesterday", "tomorrow")
#: Directions of a relative time phrase.
DIRECTIONS = ("before", "after", "from")
#: ``this``/``last``/``next`` UNIT.
PERIOD_RELATIONS = ("this", "last", "next")
#: Quantifier keywords (``exists``/``forall`` documented; ``some`` seen in an Adobe example).
QUANTIFIERS = ("exists", "forall", "some")
#: Prefix aggregation keywords (``sum X over ...``).
AGGREGATES = ("sum", "average", "min", "max")


_N = TypeVar("_N", bound=type)
_SET = object.__setattr__


@dataclass_transform(eq_default=True, frozen_default=True, field_specifiers=(field,))
def _node(cls: _N) -> _N:
    """What ``@dataclass(frozen=True, slots=True)`` makes of ``cls``, at a fraction of the cost.

    ``dataclass`` compiles six methods per class with ``exec``; for 34 node classes that was the
    largest single cost of ``pql``'s start-up (issue 9). Here only ``__init__`` is compiled (its
    signature must name the fields); ``__eq__``, ``__hash__``, ``__repr__``, the frozen
    ``__setattr__``/``__delattr__`` and pickling are shared by every node (defined on
    :class:`Node`, reading the class's ``_compare``/``_repr`` getters). The result behaves as
    the dataclass did: same constructor (``span`` keyword-only), frozen (assignment raises
    :class:`~dataclasses.FrozenInstanceError`), ``__slots__``, equality and hash over the
    fields but not ``span``, the same ``repr``, ``__match_args__``, and
    :func:`dataclasses.fields`/:func:`~dataclasses.replace`/:func:`~dataclasses.asdict` work.
    Field annotations must be plain (no ``field(...)`` defaults) except ``Node.span``.
    """
    inherited: dict[str, dataclasses.Field[Any]] = dict(getattr(cls, "__dataclass_fields__", {}))
    namespace = dict(cls.__dict__)
    own: list[str] = []
    for name, annotation in namespace.get("__annotations__", {}).items():
        if str(annotation).startswith("ClassVar"):
            continue
        default = namespace.pop(name, dataclasses.MISSING)
        spec = default if isinstance(default, dataclasses.Field) else field(default=default)
        spec.name, spec.type = name, annotation
        if spec.kw_only is dataclasses.MISSING:
            spec.kw_only = False
        # what dataclasses.fields() selects on (a regular field, not a ClassVar or InitVar)
        spec._field_type = dataclasses._FIELD  # type: ignore[attr-defined,union-attr,unused-ignore]
        inherited.pop(name, None)
        inherited[name] = spec
        own.append(name)
    all_fields = inherited
    positional = [f for f in all_fields.values() if not f.kw_only]
    keyword = [f for f in all_fields.values() if f.kw_only]
    defaults = {f"_d_{f.name}": f.default for f in all_fields.values()
                if f.default is not dataclasses.MISSING}

    def param(f: dataclasses.Field[Any]) -> str:
        return f.name if f.default is dataclasses.MISSING else f"{f.name}=_d_{f.name}"

    params = ["self", *map(param, positional)]
    if keyword:
        params += ["*", *map(param, keyword)]
    body = "".join(f"    _set(self, {f.name!r}, {f.name})\n" for f in all_fields.values())
    source = f"def __init__({', '.join(params)}):\n{body or '    pass'}\n"
    scope: dict[str, Any] = {"_set": _SET, **defaults}
    exec(source, scope)  # noqa: S102 - field names only, from this module's class bodies
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    for name in ("__dict__", "__weakref__"):
        namespace.pop(name, None)
    namespace["__slots__"] = tuple(own)
    namespace["__init__"] = init
    namespace["__match_args__"] = tuple(f.name for f in positional)
    namespace["__dataclass_fields__"] = all_fields
    compared = [f.name for f in all_fields.values() if f.compare]
    shown = [f.name for f in all_fields.values() if f.repr]
    get = attrgetter(*compared) if compared else (lambda _: ())
    namespace["_compare"] = (lambda node: (get(node),)) if len(compared) == 1 else get
    namespace["_repr"] = tuple(shown)
    new = type(cls)(cls.__name__, cls.__bases__, namespace)
    return new  # type: ignore[return-value,unused-ignore]


@_node
class Node:
    """Base of every syntax node. ``span`` is where the node stands in the source."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)

    #: Names of the fields that hold child nodes (filled in for each subclass below).
    child_fields: ClassVar[tuple[str, ...]] = ()

    # the methods @dataclass would generate for each class (see _node)
    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = self.__class__._compare  # type: ignore[attr-defined]
            return bool(key(self) == key(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.__class__._compare(self))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        names = self.__class__._repr  # type: ignore[attr-defined]
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[object]:
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def __setstate__(self, state: list[object]) -> None:
        for name, value in zip(self.__dataclass_fields__, state, strict=True):
            _SET(self, name, value)

    def children(self) -> Iterator[Node]:
        """The direct child nodes, in source order."""
        for name in self.child_fields:
            value = getattr(self, name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, pre-order, without recursion."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


class Expr(Node):
    """Marker base for nodes that are expressions (have a value)."""

    __slots__ = ()


# ---------------------------------------------------------------- literals


@_node
class String(Expr):
    """A double-quoted string literal; ``value`` has its escapes resolved."""

    value: str


@_node
class Number(Expr):
    """An integer (``int``) or decimal (``float``) literal. ``-201`` is one negative Number."""

    value: int | float


@_node
class Boolean(Expr):
    """``true`` or ``false``."""

    value: bool


@_node
class ListLiteral(Expr):
    """``[a, b, c]``."""

    items: tuple[Expr, ...]


@_node
class ObjectEntry(Node):
    """One ``"key": value`` pair of an object literal."""

    key: str
    value: Expr


@_node
class ObjectLiteral(Expr):
    """``{"count": G.count(), "sum": G.sum(x)}`` (computed attributes)."""

    entries: tuple[ObjectEntry, ...]


# ---------------------------------------------------------------- names and paths


@_node
class Name(Expr):
    """A bare identifier: a profile field, an element field, a variable, ``xEvent`` or ``this``.

    Which one it is depends on scope (see docs/language.md); the parser does not decide.
    """

    id: str


@_node
class Attribute(Expr):
    """``receiver.name``: field navigation."""

    receiver: Expr
    name: str


@_node
class Param(Expr):
    """``$1``, ``$2``: positional query parameters (``$1`` is the profile)."""

    position: int


@_node
class ParentRef(Expr):
    """``^`` (``levels=1``) or ``^^`` (``levels=2``): an enclosing filter's element.

    ``^name`` and ``^.name`` both parse as ``Attribute(ParentRef(1), "name")``.
    """

    levels: int


@_node
class ContextRef(Expr):
    """Decisioning context data: ``@{schemaId}`` or ``@event{...}``; ``text`` is between braces."""

    kind: str  # "" for @{...}, "event" for @event{...}
    text: str


# ---------------------------------------------------------------- operators


@_node
class Not(Expr):
    """``not x`` / ``!x``."""

    operand: Expr


@_node
class Neg(Expr):
    """Unary minus on a non-literal operand."""

    operand: Expr


@_node
class BoolOp(Expr):
    """``a and b and c`` (``op="and"``) or ``a or b`` (``op="or"``), n-ary, at least 2 values."""

    op: str
    values: tuple[Expr, ...]


@_node
class Compare(Expr):
    """A comparison-level infix operator; ``op`` is one of :data:`COMPARE_OPS`."""

    op: str
    left: Expr
    right: Expr


@_node
class BinOp(Expr):
    """Arithmetic; ``op`` is one of :data:`ARITH_OPS`."""

    op: str
    left: Expr
    right: Expr


# ---------------------------------------------------------------- calls


@_node
class Call(Expr):
    """A global function call ``name(args)`` (``if``, ``date``, ``inSegment``...)."""

    name: str
    args: tuple[Expr, ...]


@_node
class MethodCall(Expr):
    """``receiver.name(args)``."""

    receiver: Expr
    name: str
    args: tuple[Expr, ...]


@_node
class Filter(Expr):
    """``receiver[condition]``: the elements for which ``condition`` holds (element scope)."""

    receiver: Expr
    condition: Expr


# ---------------------------------------------------------------- binders


@_node
class Binding(Node):
    """``var from source [where condition]`` inside select/exists/forall/aggregation."""

    var: str
    source: Expr
    condition: Expr | None = None


@_node
class Select(Expr):
    """``select V1 from A1 where C1, V2 from A2 where C2``."""

    bindings: tuple[Binding, ...]


@_node
class Quantifier(Expr):
    """``exists``/``forall``/``some`` ``V from A where C`` (``:`` is a synonym of ``where``)."""

    kind: str
    bindings: tuple[Binding, ...]


@_node
class Aggregate(Expr):
    """``sum EXPR over V from A where C`` or ``sum V from A where C`` (``value`` is None)."""

    func: str
    value: Expr | None
    bindings: tuple[Binding, ...]


@_node
class Let(Expr):
    """``let name = value in body``."""

    name: str
    value: Expr
    body: Expr


@_node
class Lambda(Expr):
    """``(a, b) => body``."""

    params: tuple[str, ...]
    body: Expr


# ---------------------------------------------------------------- time


@_node
class TimeKeyword(Node):
    """``now`` (an instant) or ``today``/``yesterday``/``tomorrow`` (UTC days)."""

    word: str


@_node
class CalendarPeriod(Node):
    """``this month``, ``last year``, ``next week``: a whole calendar period."""

    relation: str
    unit: str


#: What a time phrase can refer to: a keyword, a calendar period, or any expression
#: (``date(2020, 1, 1)``, ``Order1.timestamp``).
TimeRef = TimeKeyword | CalendarPeriod | Expr


@_node
class RelativeTime(Node):
    """``[< 8 days] before now``: ``comparator``/``amount``/``unit`` are all set or all None."""

    comparator: str | None
    amount: int | None
    unit: str | None
    direction: str
    reference: TimeRef


@_node
class AtTime(Node):
    """``[on] today`` / ``last month`` / ``on date(2019, 12, 31)``: within the referenced time."""

    reference: TimeRef


@_node
class BetweenTimes(Node):
    """``between START and END`` (inclusive)."""

    start: TimeRef
    end: TimeRef


TimePhrase = RelativeTime | AtTime | BetweenTimes


@_node
class Occurs(Expr):
    """``subject occurs PHRASE``."""

    subject: Expr
    phrase: TimePhrase


# ---------------------------------------------------------------- sequences


@_node
class ChainStep(Node):
    """``LABEL: WHAT(pred) WHEN(phrase) COUNT(n) WHERE(pred)``; any clause may be absent."""

    label: str
    what: Expr | None = None
    when: TimePhrase | None = None
    count: int | None = None
    where: Expr | None = None


@_node
class Chain(Expr):
    """``chain(events, timestamp_field, [steps])``: an ordered sequence of events."""

    events: Expr
    timestamp_field: str
    steps: tuple[ChainStep, ...]


_CHILD_FIELDS: dict[type[Node], tuple[str, ...]] = {
    ListLiteral: ("items",),
    ObjectEntry: ("value",),
    ObjectLiteral: ("entries",),
    Attribute: ("receiver",),
    Not: ("operand",),
    Neg: ("operand",),
    BoolOp: ("values",),
    Compare: ("left", "right"),
    BinOp: ("left", "right"),
    Call: ("args",),
    MethodCall: ("receiver", "args"),
    Filter: ("receiver", "condition"),
    Binding: ("source", "condition"),
    Select: ("bindings",),
    Quantifier: ("bindings",),
    Aggregate: ("value", "bindings"),
    Let: ("value", "body"),
    Lambda: ("body",),
    RelativeTime: ("reference",),
    AtTime: ("reference",),
    BetweenTimes: ("start", "end"),
    Occurs: ("subject", "phrase"),
    ChainStep: ("what", "when", "where"),
    Chain: ("events", "steps"),
}
for _cls, _names in _CHILD_FIELDS.items():
    _cls.child_fields = _names
del _cls, _names


def dotted_path(node: Node) -> tuple[str, ...] | None:
    """``("homeAddress", "countryCode")`` for ``homeAddress.countryCode``; None if not a plain path.

    A plain path is a :class:`Name` followed by zero or more :class:`Attribute` steps.
    """
    parts: list[str] = []
    while isinstance(node, Attribute):
        parts.append(node.name)
        node = node.receiver
    if not isinstance(node, Name):
        return None
    parts.append(node.id)
    parts.reverse()
    return tuple(parts)
