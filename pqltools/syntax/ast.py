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

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

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


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every syntax node. ``span`` is where the node stands in the source."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)

    #: Names of the fields that hold child nodes (filled in for each subclass below).
    child_fields: ClassVar[tuple[str, ...]] = ()

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


@dataclass(frozen=True, slots=True)
class String(Expr):
    """A double-quoted string literal; ``value`` has its escapes resolved."""

    value: str


@dataclass(frozen=True, slots=True)
class Number(Expr):
    """An integer (``int``) or decimal (``float``) literal. ``-201`` is one negative Number."""

    value: int | float


@dataclass(frozen=True, slots=True)
class Boolean(Expr):
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True, slots=True)
class ListLiteral(Expr):
    """``[a, b, c]``."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectEntry(Node):
    """One ``"key": value`` pair of an object literal."""

    key: str
    value: Expr


@dataclass(frozen=True, slots=True)
class ObjectLiteral(Expr):
    """``{"count": G.count(), "sum": G.sum(x)}`` (computed attributes)."""

    entries: tuple[ObjectEntry, ...]


# ---------------------------------------------------------------- names and paths


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A bare identifier: a profile field, an element field, a variable, ``xEvent`` or ``this``.

    Which one it is depends on scope (see docs/language.md); the parser does not decide.
    """

    id: str


@dataclass(frozen=True, slots=True)
class Attribute(Expr):
    """``receiver.name``: field navigation."""

    receiver: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Param(Expr):
    """``$1``, ``$2``: positional query parameters (``$1`` is the profile)."""

    position: int


@dataclass(frozen=True, slots=True)
class ParentRef(Expr):
    """``^`` (``levels=1``) or ``^^`` (``levels=2``): an enclosing filter's element.

    ``^name`` and ``^.name`` both parse as ``Attribute(ParentRef(1), "name")``.
    """

    levels: int


@dataclass(frozen=True, slots=True)
class ContextRef(Expr):
    """Decisioning context data: ``@{schemaId}`` or ``@event{...}``; ``text`` is between braces."""

    kind: str  # "" for @{...}, "event" for @event{...}
    text: str


# ---------------------------------------------------------------- operators


@dataclass(frozen=True, slots=True)
class Not(Expr):
    """``not x`` / ``!x``."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    """Unary minus on a non-literal operand."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    """``a and b and c`` (``op="and"``) or ``a or b`` (``op="or"``), n-ary, at least 2 values."""

    op: str
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """A comparison-level infix operator; ``op`` is one of :data:`COMPARE_OPS`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    """Arithmetic; ``op`` is one of :data:`ARITH_OPS`."""

    op: str
    left: Expr
    right: Expr


# ---------------------------------------------------------------- calls


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A global function call ``name(args)`` (``if``, ``date``, ``inSegment``...)."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MethodCall(Expr):
    """``receiver.name(args)``."""

    receiver: Expr
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Filter(Expr):
    """``receiver[condition]``: the elements for which ``condition`` holds (element scope)."""

    receiver: Expr
    condition: Expr


# ---------------------------------------------------------------- binders


@dataclass(frozen=True, slots=True)
class Binding(Node):
    """``var from source [where condition]`` inside select/exists/forall/aggregation."""

    var: str
    source: Expr
    condition: Expr | None = None


@dataclass(frozen=True, slots=True)
class Select(Expr):
    """``select V1 from A1 where C1, V2 from A2 where C2``."""

    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class Quantifier(Expr):
    """``exists``/``forall``/``some`` ``V from A where C`` (``:`` is a synonym of ``where``)."""

    kind: str
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class Aggregate(Expr):
    """``sum EXPR over V from A where C`` or ``sum V from A where C`` (``value`` is None)."""

    func: str
    value: Expr | None
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class Let(Expr):
    """``let name = value in body``."""

    name: str
    value: Expr
    body: Expr


@dataclass(frozen=True, slots=True)
class Lambda(Expr):
    """``(a, b) => body``."""

    params: tuple[str, ...]
    body: Expr


# ---------------------------------------------------------------- time


@dataclass(frozen=True, slots=True)
class TimeKeyword(Node):
    """``now`` (an instant) or ``today``/``yesterday``/``tomorrow`` (UTC days)."""

    word: str


@dataclass(frozen=True, slots=True)
class CalendarPeriod(Node):
    """``this month``, ``last year``, ``next week``: a whole calendar period."""

    relation: str
    unit: str


#: What a time phrase can refer to: a keyword, a calendar period, or any expression
#: (``date(2020, 1, 1)``, ``Order1.timestamp``).
TimeRef = TimeKeyword | CalendarPeriod | Expr


@dataclass(frozen=True, slots=True)
class RelativeTime(Node):
    """``[< 8 days] before now``: ``comparator``/``amount``/``unit`` are all set or all None."""

    comparator: str | None
    amount: int | None
    unit: str | None
    direction: str
    reference: TimeRef


@dataclass(frozen=True, slots=True)
class AtTime(Node):
    """``[on] today`` / ``last month`` / ``on date(2019, 12, 31)``: within the referenced time."""

    reference: TimeRef


@dataclass(frozen=True, slots=True)
class BetweenTimes(Node):
    """``between START and END`` (inclusive)."""

    start: TimeRef
    end: TimeRef


TimePhrase = RelativeTime | AtTime | BetweenTimes


@dataclass(frozen=True, slots=True)
class Occurs(Expr):
    """``subject occurs PHRASE``."""

    subject: Expr
    phrase: TimePhrase


# ---------------------------------------------------------------- sequences


@dataclass(frozen=True, slots=True)
class ChainStep(Node):
    """``LABEL: WHAT(pred) WHEN(phrase) COUNT(n) WHERE(pred)``; any clause may be absent."""

    label: str
    what: Expr | None = None
    when: TimePhrase | None = None
    count: int | None = None
    where: Expr | None = None


@dataclass(frozen=True, slots=True)
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
