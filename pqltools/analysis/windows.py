"""Event references and their time windows, computed from the syntax tree.

An *event reference* is any part of an expression that reads ``xEvent``: a ``chain`` step, an
``xEvent[...]`` filter (or ``xEvent.filter(...)``/``.exists(...)``), a ``select``/``exists``/
``forall``/aggregation binding over ``xEvent``, or a bare path such as ``xEvent.metrics.x``.

The *window* of a reference is the interval of event times, relative to the evaluation time
``now``, that its time conditions allow: ``WHEN(today)``, ``occurs < 8 days before now``,
``occurs between ...``, ``xEvent[timestamp occurs ...]``, ``select X from xEvent where
X.timestamp occurs ...``. A reference has no window ("none") when nothing restricts its time, and
an "unbounded" one when a time condition exists but reaches indefinitely into the past or names
fixed calendar dates (whose distance from ``now`` grows every day).

Bounds are conservative (docs/eligibility.md, "How windows are computed"): ``today`` may have
started up to 24 hours ago, a month counts 31 days and a year 366, so a window reported as "within
24 hours" never reaches further back than that. The eligibility analyzer, the linter and the
language server share this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pqltools import catalog
from pqltools.analysis.scope import NameKind, Scopes, resolve
from pqltools.errors import Span
from pqltools.syntax.ast import (
    Aggregate,
    AtTime,
    Attribute,
    BetweenTimes,
    Binding,
    BoolOp,
    CalendarPeriod,
    Chain,
    Compare,
    Expr,
    Filter,
    Let,
    MethodCall,
    Name,
    Node,
    Not,
    Number,
    Occurs,
    Quantifier,
    RelativeTime,
    Select,
    TimeKeyword,
    TimePhrase,
    TimeRef,
)
from pqltools.syntax.visitor import Visitor

__all__ = [
    "DAY_MS",
    "HOUR_MS",
    "UNIT_MS",
    "EventReference",
    "Window",
    "condition_window",
    "counted_event_references",
    "describe_duration",
    "event_references",
    "phrase_window",
]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: The longest each unit can be, in milliseconds (calendar units at their maximum, so that a
#: window is never reported shorter than it may be).
UNIT_MS: dict[str, int] = {
    "millisecond": 1,
    "second": 1000,
    "minute": 60_000,
    "hour": HOUR_MS,
    "day": DAY_MS,
    "week": 7 * DAY_MS,
    "month": 31 * DAY_MS,
    "year": 366 * DAY_MS,
    "decade": 3653 * DAY_MS,
    "century": 36525 * DAY_MS,
    "millennium": 365250 * DAY_MS,
}
#: Where each time keyword may lie relative to ``now``: today started at most 24 h ago and ends
#: at most 24 h from now.
_KEYWORD_INTERVALS: dict[str, tuple[int, int]] = {
    "now": (0, 0),
    "today": (-DAY_MS, DAY_MS),
    "yesterday": (-2 * DAY_MS, 0),
    "tomorrow": (0, 2 * DAY_MS),
}
#: Methods that count or aggregate the elements of their receiver.
_AGGREGATING = frozenset(f.name for f in catalog.ALL_FUNCTIONS if f.aggregation)


@dataclass(frozen=True, slots=True)
class Window:
    """An interval of event times in milliseconds relative to ``now`` (negative = past).

    ``start``/``end`` None mean unbounded on that side. ``fixed`` marks a window that involves a
    fixed calendar date (``date(2020, 1, 1)``), which cannot be placed relative to ``now``.
    """

    start: int | None
    end: int | None
    fixed: bool = False

    @property
    def bounded(self) -> bool:
        """True when the window reaches only a finite time into the past."""
        return self.start is not None

    @property
    def lookback(self) -> int | None:
        """How far into the past the window may reach, in ms (None when unbounded)."""
        return None if self.start is None else max(0, -self.start)

    def within(self, limit_ms: int) -> bool:
        """True when the window reaches no further back than ``limit_ms``."""
        back = self.lookback
        return back is not None and back <= limit_ms

    def intersect(self, other: Window) -> Window:
        """The times allowed by both windows."""
        return Window(_max(self.start, other.start), _min(self.end, other.end),
                      self.fixed and other.fixed)

    def hull(self, other: Window) -> Window:
        """The smallest window holding both (for ``or``)."""
        start = None if self.start is None or other.start is None else min(self.start, other.start)
        end = None if self.end is None or other.end is None else max(self.end, other.end)
        return Window(start, end, self.fixed or other.fixed)

    def shifted(self, lo: int | None, hi: int | None) -> Window:
        """The window of a time that lies between ``lo`` and ``hi`` ms from a time in this one."""
        start = None if self.start is None or lo is None else self.start + lo
        end = None if self.end is None or hi is None else self.end + hi
        return Window(start, end, self.fixed)

    def describe(self) -> str:
        """Human wording: ``the last 8 days``, ``up to 24 hours back``, ``unbounded``..."""
        if self.start is None:
            return "fixed dates (unbounded relative to now)" if self.fixed else "unbounded"
        back = self.lookback or 0
        if not back:
            return "only the future" if self.end is None or self.end > 0 else "now"
        if self.end == 0:
            return f"the last {describe_duration(back)}"
        return f"up to {describe_duration(back)} back"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready view: bounds in ms relative to now, lookback, and the wording."""
        return {"start_ms": self.start, "end_ms": self.end, "lookback_ms": self.lookback,
                "fixed": self.fixed, "description": self.describe()}


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def describe_duration(ms: int) -> str:
    """``24 hours``, ``8 days``, ``90 minutes``: the largest unit that divides ``ms`` exactly."""
    for unit, size in (("day", DAY_MS), ("hour", HOUR_MS), ("minute", 60_000),
                       ("second", 1000)):
        if ms % size == 0 and ms >= size:
            n = ms // size
            if unit == "day" and n == 1:
                return "24 hours"
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{ms} milliseconds"


UNBOUNDED = Window(None, None)
FIXED = Window(None, None, fixed=True)


@dataclass(frozen=True, slots=True)
class EventReference:
    """One place where an expression reads ``xEvent``, with what the analyses need to know.

    * ``kind``: ``chain-step``, ``filter``, ``binding`` (select/exists/forall/aggregation
      variable) or ``path`` (``xEvent``/``xEvent.x`` read directly).
    * ``window``: None when nothing restricts its time, else the :class:`Window`.
    * ``time_spans``: the time phrases that produced the window.
    * ``negated``: under an odd number of ``not`` (``forall`` and ``count() = 0`` count as one);
      ``negated_by`` is the span of the innermost of them.
    * ``group``/``ordered``: references of one chain or one multi-variable select share a group;
      ``ordered`` is True when a strict time order ties this reference to an earlier one.
    * ``count``: ``COUNT(n)`` of a chain step; ``aggregate``: the span of a ``count()``/``sum``...
      or ``sum X over`` that aggregates this reference.
    """

    kind: str
    span: Span
    window: Window | None
    negated: bool
    group: int
    ordered: bool = False
    label: str | None = None
    count: int | None = None
    aggregate: Span | None = None
    time_spans: tuple[Span, ...] = field(default=())
    negated_by: Span | None = None

    @property
    def window_status(self) -> str:
        """``none``, ``bounded`` or ``unbounded``."""
        if self.window is None:
            return "none"
        return "bounded" if self.window.bounded else "unbounded"

    @property
    def aggregated(self) -> bool:
        """True for a COUNT step or an aggregation over events."""
        return self.count is not None or self.aggregate is not None

    def describe_window(self) -> str:
        """``no time window`` or the window's wording."""
        return "no time window" if self.window is None else self.window.describe()

    def to_json(self) -> dict[str, object]:
        """A JSON-ready view (positions as 1-based line/column)."""
        return {
            "kind": self.kind, "label": self.label,
            "line": self.span.line, "column": self.span.column,
            "window": self.window_status,
            "interval": None if self.window is None else self.window.to_json(),
            "description": self.describe_window(),
            "negated": self.negated, "ordered": self.ordered, "count": self.count,
            "aggregated": self.aggregated,
        }


# ------------------------------------------------------------------ windows of time phrases


def _reference_interval(ref: TimeRef) -> tuple[int, int] | None:
    """Where a time reference lies relative to now, or None if it is not relative to now."""
    if isinstance(ref, TimeKeyword):
        return _KEYWORD_INTERVALS.get(ref.word)
    if isinstance(ref, CalendarPeriod):
        length = UNIT_MS.get(ref.unit, DAY_MS)
        return {"this": (-length, length), "last": (-2 * length, 0)}.get(
            ref.relation, (0, 2 * length))
    return None


def _offsets(comparator: str | None, amount: int | None, unit: str | None,
             direction: str) -> tuple[int | None, int | None]:
    """The offsets (lo, hi) from the reference that ``CMP N UNIT DIRECTION`` allows."""
    if comparator is None or amount is None or unit is None:
        return {"before": (None, 0), "after": (0, None)}.get(direction, (None, None))
    d = amount * UNIT_MS.get(unit, DAY_MS)
    if comparator == "!=":
        return (None, None)
    if direction == "from":  # undocumented: a distance either side of the reference
        return (-d, d) if comparator in ("<", "<=", "=") else (None, None)
    if comparator in ("<", "<="):
        lo, hi = -d, 0
    elif comparator == "=":
        lo, hi = -d, -d
    else:  # > / >=: at least d away, without limit
        lo, hi = None, -d
    if direction == "after":
        return (None if hi is None else -hi, None if lo is None else -lo)
    return (lo, hi)


def phrase_window(phrase: TimePhrase) -> Window:
    """The window of a time phrase whose references are relative to now (or fixed dates).

    ``< 8 days before now`` -> the last 8 days; ``today`` -> at most the last 24 hours (and the
    rest of the day); ``before today`` -> unbounded; ``on date(2020, 1, 1)`` -> fixed.
    """
    if isinstance(phrase, AtTime):
        r = _reference_interval(phrase.reference)
        return FIXED if r is None else Window(*r)
    if isinstance(phrase, BetweenTimes):
        a, b = _reference_interval(phrase.start), _reference_interval(phrase.end)
        if a is None or b is None:
            return FIXED
        return Window(min(a[0], b[0]), max(a[1], b[1]))
    r = _reference_interval(phrase.reference)
    if r is None:
        return FIXED
    lo, hi = _offsets(phrase.comparator, phrase.amount, phrase.unit, phrase.direction)
    return Window(r[0], r[1]).shifted(lo, hi)


def _root_name(node: Node) -> str | None:
    """The first name of a path (``X`` for ``X.a.b``), None if the path starts elsewhere."""
    while isinstance(node, (Attribute, MethodCall, Filter)):
        node = node.receiver
    return node.id if isinstance(node, Name) else None


def _conjuncts(expr: Expr | None) -> list[Expr]:
    if expr is None:
        return []
    if isinstance(expr, BoolOp) and expr.op == "and":
        out: list[Expr] = []
        for value in expr.values:
            out.extend(_conjuncts(value))
        return out
    return [expr]


@dataclass(frozen=True, slots=True)
class _Relation:
    """``V occurs <offsets> from W.timestamp``: a time relation between two events."""

    subject: str
    other: str
    lo: int | None
    hi: int | None
    strict: bool


SubjectTest = Callable[[Expr], bool]


def condition_window(cond: Expr | None, is_subject: SubjectTest,
                     spans: list[Span] | None = None) -> Window | None:
    """The window a condition imposes on the current event, None when it imposes none.

    ``is_subject(expr)`` tells whether the subject of an ``occurs`` is a time of the event in
    question (``X.timestamp`` for ``select X ...``, a bare ``timestamp`` in element scope). ``and``
    intersects, ``or`` takes the hull (no window if one branch has none), ``not`` of a window
    leaves it unbounded. The spans of the time phrases used are appended to ``spans``.
    """
    if cond is None:
        return None
    if isinstance(cond, BoolOp):
        parts = [condition_window(v, is_subject, spans) for v in cond.values]
        found = [w for w in parts if w is not None]
        if cond.op == "and":
            if not found:
                return None
            result = found[0]
            for w in found[1:]:
                result = result.intersect(w)
            return result
        if len(found) < len(parts):
            return None
        result = found[0]
        for w in found[1:]:
            result = result.hull(w)
        return result
    if isinstance(cond, Not):
        inner = condition_window(cond.operand, is_subject, spans)
        return None if inner is None else UNBOUNDED
    if isinstance(cond, Occurs) and is_subject(cond.subject):
        if _relation_other(cond) is not None:
            return None
        if spans is not None:
            spans.append(cond.phrase.span)
        return phrase_window(cond.phrase)
    return None


def _relation_other(occ: Occurs) -> str | None:
    phrase = occ.phrase
    ref: TimeRef | None = phrase.reference if isinstance(phrase, (RelativeTime, AtTime)) else None
    if ref is None or isinstance(ref, (TimeKeyword, CalendarPeriod)):
        return None
    if isinstance(ref, Attribute):
        return _root_name(ref)
    return None


def _relations(conditions: list[Expr], event_vars: set[str]) -> list[_Relation]:
    """Time relations between event variables: ``F2.ts occurs < 2 weeks after F1.ts``,
    ``F1.timestamp < F2.timestamp``."""
    out: list[_Relation] = []
    for cond in conditions:
        for part in _conjuncts(cond):
            if isinstance(part, Occurs) and isinstance(part.phrase, RelativeTime):
                subject, other = _root_name(part.subject), _relation_other(part)
                if subject in event_vars and other in event_vars and subject != other:
                    p = part.phrase
                    lo, hi = _offsets(p.comparator, p.amount, p.unit, p.direction)
                    assert subject is not None and other is not None
                    out.append(_Relation(subject, other, lo, hi,
                                         p.direction in ("before", "after")))
            elif isinstance(part, Compare) and part.op in ("<", ">"):
                left, right = _root_name(part.left), _root_name(part.right)
                if (left in event_vars and right in event_vars and left != right
                        and isinstance(part.left, Attribute) and isinstance(part.right, Attribute)):
                    assert left is not None and right is not None
                    # left < right: left lies before right
                    before, after = (left, right) if part.op == "<" else (right, left)
                    out.append(_Relation(after, before, 0, None, True))
    return out


# ------------------------------------------------------------------ finding event references


class _Collector(Visitor[None]):
    """Walks an expression once, recording every event reference in source order."""

    def __init__(self, scopes: Scopes) -> None:
        self.scopes = scopes
        self.refs: list[EventReference] = []
        self._negated = False
        self._negators: list[Span] = []
        self._aggregate: Span | None = None
        self._groups = 0
        #: Event variables of the enclosing binders: name -> (group, window). A nested
        #: ``exists B from xEvent where B.timestamp occurs after A.timestamp`` is ordered with A.
        self._outer: dict[str, tuple[int, Window | None]] = {}

    def _kind(self, name: Name) -> NameKind | None:
        try:
            return self.scopes.resolution(name).kind
        except KeyError:
            return None

    def _event_source(self, node: Node) -> list[Expr] | None:
        """The element conditions of an expression that denotes (a subset of) the events.

        ``xEvent`` -> []; ``xEvent[c]`` / ``xEvent.filter(c)`` / ``xEvent.exists(c)`` -> [c];
        ``xEvent.a.b`` -> []; a ``let`` variable bound to such an expression -> its conditions.
        None when ``node`` does not denote events.
        """
        conditions: list[Expr] = []
        while True:
            if isinstance(node, Name):
                kind = self._kind(node)
                if kind is NameKind.EVENTS:
                    return conditions
                binder = self.scopes.resolution(node).binder if kind is NameKind.VARIABLE else None
                if binder is not None and binder.kind == "let" and binder.value is not None:
                    inner = self._event_source(binder.value)
                    return None if inner is None else conditions + inner
                return None
            if isinstance(node, Attribute):
                node = node.receiver
            elif isinstance(node, Filter):
                conditions.append(node.condition)
                node = node.receiver
            elif isinstance(node, MethodCall) and node.name not in _AGGREGATING:
                spec = catalog.lookup(node.name, "method")
                if spec is None:
                    return None
                for i, arg in enumerate(node.args):
                    param = spec.param_for(i)
                    if param is not None and param.element_scope and param.type == "boolean":
                        conditions.append(arg)
                node = node.receiver
            else:
                return None

    def _element_time(self, subject: Expr) -> bool:
        """A time of the current element: a path starting with an element field."""
        node: Node = subject
        while isinstance(node, (Attribute, MethodCall)):
            node = node.receiver
        return isinstance(node, Name) and self._kind(node) is NameKind.ELEMENT_FIELD

    @staticmethod
    def _variable_time(var: str) -> SubjectTest:
        return lambda subject: isinstance(subject, Attribute) and _root_name(subject) == var

    def _group(self) -> int:
        self._groups += 1
        return self._groups - 1

    def _flip(self, node: Node, negator: Span, visit: Callable[[], None] | None = None) -> None:
        self._negated = not self._negated
        self._negators.append(negator)
        if visit is None:
            self.visit(node)
        else:
            visit()
        self._negators.pop()
        self._negated = not self._negated

    def visit_Not(self, node: Not) -> None:
        self._flip(node.operand, node.span)

    def visit_Compare(self, node: Compare) -> None:
        # `xEvent[...].count() = 0` (or `< 1`) asks for the absence of events: a negation.
        if (isinstance(node.left, MethodCall) and node.left.name == "count"
                and isinstance(node.right, Number)
                and (node.op, node.right.value) in (("=", 0), ("<=", 0), ("<", 1))):
            self._flip(node.left, node.span)
            self.visit(node.right)
            return
        self.generic_visit(node)

    def visit_MethodCall(self, node: MethodCall) -> None:
        if node.name in _AGGREGATING:
            outer, self._aggregate = self._aggregate, node.span
            self.visit(node.receiver)
            self._aggregate = outer
            for arg in node.args:
                self.visit(arg)
            return
        self._path_like(node)

    def visit_Name(self, node: Name) -> None:
        self._path_like(node)

    def visit_Attribute(self, node: Attribute) -> None:
        self._path_like(node)

    def visit_Filter(self, node: Filter) -> None:
        self._path_like(node)

    def _path_like(self, node: Expr) -> None:
        conditions = self._event_source(node)
        if conditions is None:
            self.generic_visit(node)
            return
        spans: list[Span] = []
        window: Window | None = None
        for cond in conditions:
            w = condition_window(cond, self._element_time, spans)
            if w is not None:
                window = w if window is None else window.intersect(w)
        kind = "filter" if conditions else "path"
        self._add(kind, node.span, window, self._group(), time_spans=tuple(spans))
        for cond in conditions:
            self.visit(cond)

    def _add(self, kind: str, span: Span, window: Window | None, group: int, *,
             ordered: bool = False, label: str | None = None, count: int | None = None,
             aggregate: Span | None = None, time_spans: tuple[Span, ...] = ()) -> None:
        self.refs.append(EventReference(
            kind, span, window, self._negated, group, ordered=ordered, label=label, count=count,
            aggregate=aggregate or self._aggregate, time_spans=time_spans,
            negated_by=self._negators[-1] if self._negated else None))

    def visit_Let(self, node: Let) -> None:
        # An event-valued let is counted where its variable is used, not where it is declared.
        if self._event_source(node.value) is None:
            self.visit(node.value)
        self.visit(node.body)

    def visit_Chain(self, node: Chain) -> None:
        if self._event_source(node.events) is None:
            self.generic_visit(node)
            return
        group = self._group()
        for i, step in enumerate(node.steps):
            spans: list[Span] = []
            window: Window | None = None
            for clause in (step.what, step.where):
                found = condition_window(clause, self._element_time, spans)
                if found is not None:
                    window = found if window is None else window.intersect(found)
            if step.when is not None:
                spans.append(step.when.span)
                own = phrase_window(step.when)
                window = own if window is None else window.intersect(own)
            self._add("chain-step", step.span, window, group, ordered=i > 0, label=step.label,
                      count=step.count, time_spans=tuple(spans))
            for clause in (step.what, step.where):
                if clause is not None:
                    self.visit(clause)

    def visit_Select(self, node: Select) -> None:
        self._binder(node.bindings, None)

    def visit_Quantifier(self, node: Quantifier) -> None:
        if node.kind == "forall":  # "every event satisfies C" = "no event violates C"
            self._flip(node, node.span, lambda: self._binder(node.bindings, None))
        else:
            self._binder(node.bindings, None)

    def visit_Aggregate(self, node: Aggregate) -> None:
        self._binder(node.bindings, node.span)
        if node.value is not None:
            self.visit(node.value)

    def _binder(self, bindings: tuple[Binding, ...], aggregate: Span | None) -> None:
        event_vars: list[Binding] = []
        for b in bindings:
            if self._event_source(b.source) is not None:
                event_vars.append(b)
            else:
                self.visit(b.source)
        names = {b.var for b in event_vars}
        conditions = [b.condition for b in bindings if b.condition is not None]
        outer = {name: v for name, v in self._outer.items() if name not in names}
        relations = _relations(conditions, names | set(outer))
        windows: dict[str, Window | None] = {}
        spans: dict[str, list[Span]] = {}
        for b in event_vars:
            found_spans: list[Span] = []
            found: Window | None = None
            pairs = [(c, self._variable_time(b.var)) for c in conditions]
            pairs += [(c, self._element_time) for c in self._event_source(b.source) or []]
            for cond, subject in pairs:
                w = condition_window(cond, subject, found_spans)
                if w is not None:
                    found = w if found is None else found.intersect(w)
            windows[b.var] = found
            spans[b.var] = found_spans
        # An event tied to an earlier one (of this binder or an enclosing one) inherits that
        # one's window, shifted by the relation.
        for rel in relations:
            base = windows[rel.other] if rel.other in windows else \
                outer[rel.other][1] if rel.other in outer else None
            if base is not None and rel.subject in windows:
                derived = base.shifted(rel.lo, rel.hi)
                own = windows[rel.subject]
                windows[rel.subject] = derived if own is None else own.intersect(derived)
        local = [b.var for b in event_vars]
        anchors = [name for name in outer
                   if any(r.strict and name in (r.subject, r.other) for r in relations)]
        # Tied to an enclosing event: this binder continues that event's sequence (its group).
        linked = _ordered_with_first(anchors + local, relations) if anchors else \
            _ordered_with_first(local, relations)
        group = outer[anchors[0]][0] if anchors and any(v in linked for v in local) \
            else self._group()
        for i, b in enumerate(event_vars):
            self._add("binding", b.span, windows[b.var], group, label=b.var,
                      ordered=(i > 0 or bool(anchors)) and b.var in linked,
                      time_spans=tuple(spans[b.var]), aggregate=aggregate)
        saved = dict(self._outer)
        self._outer.update({b.var: (group, windows[b.var]) for b in event_vars})
        event_ids = {id(b) for b in event_vars}
        try:
            for b in bindings:
                if id(b) in event_ids:
                    for cond in self._event_source(b.source) or []:
                        self.visit(cond)
                if b.condition is not None:
                    self.visit(b.condition)
        finally:
            self._outer = saved


def _ordered_with_first(names: list[str], relations: list[_Relation]) -> set[str]:
    """The variables tied to the first one by a chain of strict time relations."""
    if not names:
        return set()
    reached = {names[0]}
    changed = True
    while changed:
        changed = False
        for rel in relations:
            if rel.strict and (rel.subject in reached) != (rel.other in reached):
                reached |= {rel.subject, rel.other}
                changed = True
    return reached


def event_references(expr: Node, scopes: Scopes | None = None) -> list[EventReference]:
    """Every event reference of ``expr`` with its window, negation, group and aggregation.

    ``scopes`` is the result of :func:`pqltools.analysis.scope.resolve` on ``expr`` when the
    caller already has it (it tells ``xEvent`` and element fields from variables).
    """
    return counted_event_references(expr, scopes)[0]


def counted_event_references(expr: Node, scopes: Scopes | None = None
                             ) -> tuple[list[EventReference], int]:
    """:func:`event_references`, and how many groups were numbered (0 to that number)."""
    collector = _Collector(scopes if scopes is not None else resolve(expr))
    collector.visit(expr)
    return collector.refs, collector._groups
