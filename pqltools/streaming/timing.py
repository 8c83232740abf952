"""When can a definition's answer change with no new data? The timers of the simulator.

For fixed data (a profile and its events) a definition's answer depends on the evaluation time
``now`` only through:

* its time phrases relative to ``now`` (``occurs < 3 hours before now``, ``WHEN(today)``,
  ``occurs this month``): the answer can change only when a window's edge passes one of the
  timestamps the phrase is tested against;
* ``currentMonth()``, ``currentYear()``, ``currentDayOfMonth()`` and time keywords used as
  values: they change at UTC day boundaries.

:class:`TimeDependence` finds these in the syntax tree once per definition; its
:meth:`~TimeDependence.next_change` gives, for the current data and time ``t``, the earliest
instant after ``t`` at which the answer may differ (None: never). Windows are computed with the
interpreter's own functions (:mod:`pqltools.runtime.timephrases`), so an expiry lands on the
exact millisecond at which the interpreter's answer changes. The instant is a *candidate*: the
simulator re-evaluates then, and nothing happens if the answer did not change.

How each phrase is timed (docs/streaming.md, "Timers"):

* relative to ``now`` with a fixed unit (``< 3 hours before now``, ``after now``): the window
  slides with the clock, so a timestamp ``v`` leaves it ``v - low + 1`` ms after ``t`` and enters
  it ``v - high`` ms after ``t`` (closed form, per window range);
* only calendar references (``today``, ``yesterday``, ``this month``, fixed dates): the window is
  constant until the reference period ends, so the next candidate is that boundary;
* other phrases relative to ``now`` (``< 2 months before now``, ``between today and now``): each
  window edge is a non-decreasing function of ``now``, so the first timestamp to enter or leave
  is found by searching the instant its position changes (``!=`` is split into ``<`` and ``=``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pqltools.analysis.scope import NameKind, Scopes, resolve
from pqltools.runtime.timephrases import (
    NEG_INF,
    POS_INF,
    UNIT_MILLIS,
    Interval,
    TimestampError,
    Window,
    at_window,
    between_window,
    calendar_period,
    day_of,
    iso,
    keyword_interval,
    relative_window,
    to_millis,
)
from pqltools.syntax import ast

__all__ = ["Candidate", "TimeDependence", "sliding_change", "timestamps"]

#: Functions whose value changes with the clock (at UTC day boundaries at the finest).
_CLOCK_FUNCTIONS = frozenset({"currentMonth", "currentYear", "currentDayOfMonth"})
#: How far ahead the edge search looks (about 1,100 years).
_HORIZON = 2**45

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An instant at which a definition's answer may change, and the phrase that causes it.

    ``value`` is the timestamp (ms) that enters or leaves the window (None for a calendar
    boundary or a clock function).
    """

    time: int
    phrase: str
    value: int | None = None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description for the transition log."""
        out: dict[str, Any] = {"window": self.phrase}
        if self.value is not None:
            out["timestamp"] = iso(self.value)
        return out


def timestamps(values: Iterable[Any]) -> Iterator[int]:
    """The epoch milliseconds of every usable timestamp in ``values`` (lists flattened)."""
    for v in values:
        if v is None:
            continue
        if type(v) is list:
            yield from timestamps(v)
            continue
        try:
            yield to_millis(v)
        except TimestampError:
            continue


def _read(obj: Any, path: Path) -> Any:
    for name in path:
        if type(obj) is dict:
            obj = obj.get(name)
        elif type(obj) is list:
            obj = [x.get(name) for x in obj if type(x) is dict]
        else:
            return None
    return obj


# ------------------------------------------------------------------ windows of one phrase


RefFn = Callable[[int], "tuple[Interval, bool] | None"]


def _reference(ref: ast.Node) -> tuple[RefFn, str] | None:
    """``t -> (interval, instant)`` for a reference, and its kind: ``now``, ``calendar``
    (changes at period boundaries) or ``fixed``; None for an expression (``A.timestamp``)."""
    if isinstance(ref, ast.TimeKeyword):
        word = ref.word
        instant = word == "now"
        return (lambda t: (keyword_interval(t, word), instant)), ("now" if instant else "calendar")
    if isinstance(ref, ast.CalendarPeriod):
        relation, unit = ref.relation, ref.unit
        return (lambda t: (calendar_period(t, relation, unit), False)), "calendar"
    if (isinstance(ref, ast.Call) and ref.name == "date" and len(ref.args) == 3
            and all(isinstance(a, ast.Number) and float(a.value).is_integer() for a in ref.args)):
        y, m, d = (int(a.value) for a in ref.args)  # type: ignore[attr-defined]
        try:
            start = datetime(y, m, d, tzinfo=UTC)
        except ValueError:
            return None
        ms = round(start.timestamp() * 1000)
        interval = Interval(ms, ms + 86_400_000)
        return (lambda t: (interval, False)), "fixed"
    return None


def _boundary(ref: ast.Node, t: int) -> int | None:
    """The end of the calendar period a ``calendar`` reference names at ``t``."""
    if isinstance(ref, ast.TimeKeyword) and ref.word != "now":
        return t - t % 86_400_000 + 86_400_000  # the end of the UTC day
    if isinstance(ref, ast.CalendarPeriod):
        return calendar_period(t, "this", ref.unit).end
    return None


def _references(phrase: ast.Node) -> list[ast.Node]:
    if isinstance(phrase, ast.BetweenTimes):
        return [phrase.start, phrase.end]
    return [phrase.reference]  # type: ignore[attr-defined]


WindowAt = Callable[[int], "Window | None"]


def _window_function(phrase: ast.Node, comparator: str | None) -> WindowAt | None:
    """``t -> Window`` computed exactly as the interpreter does; None if a reference is not
    relative to the clock or a fixed date."""
    refs = [_reference(r) for r in _references(phrase)]
    if any(r is None for r in refs):
        return None
    fns = [r[0] for r in refs if r is not None]
    if isinstance(phrase, ast.AtTime):
        (ref,) = fns
        return lambda t: _map(ref(t), at_window)
    if isinstance(phrase, ast.BetweenTimes):
        start, end = fns

        def between(t: int) -> Window | None:
            a, b = start(t), end(t)
            return None if a is None or b is None else between_window(a[0], b[0])
        return between
    assert isinstance(phrase, ast.RelativeTime)
    (ref,) = fns
    p = phrase

    def relative(t: int) -> Window | None:
        r = ref(t)
        return None if r is None else relative_window(comparator, p.amount, p.unit, p.direction,
                                                      r[0], r[1])
    return relative


def _map(r: tuple[Interval, bool] | None, f: Callable[[Interval], Window]) -> Window | None:
    return None if r is None else f(r[0])


@dataclass
class _Phrase:
    """One time phrase relative to the clock, with where its tested timestamps come from."""

    text: str
    kind: str  # "sliding" | "calendar" | "monotone"
    node: ast.Node
    event_paths: frozenset[Path]
    profile_paths: frozenset[Path]
    windows: list[WindowAt] = field(default_factory=list)
    #: the subject is not a plain field of the events or the profile: test every timestamp
    deep: bool = False
    def __post_init__(self) -> None:
        self.refs = _references(self.node)
        #: a calendar window with the period it holds for: (start, end, window, its top)
        self.cached: tuple[int, int, Window, int] | None = None
        #: a sliding window's ranges at time 0 (at time t every finite edge is t later)
        self.offsets: Window = (self.windows[0](0) or ()) if self.kind == "sliding" \
            and self.windows else ()
        #: its references are UTC days (``today``, ``yesterday``, ``tomorrow``): its window
        #: holds until the end of the day
        self.by_day = all(isinstance(r, ast.TimeKeyword) and r.word != "now" for r in self.refs)
        #: the one event path it reads, when it reads nothing else
        self.simple: Path | None = None if self.deep or self.profile_paths \
            or len(self.event_paths) != 1 else next(iter(self.event_paths))

    def next_change(self, t: int, values: list[int], direction: str | None = None
                    ) -> tuple[int, int | None] | None:
        """(instant, timestamp) of the first change after ``t``; None if there is none.

        ``direction`` ``enter`` (``leave``) looks only for a timestamp entering (leaving) the
        window; None for both.
        """
        if not values:
            return None
        if self.kind == "calendar":
            if self.by_day:  # the usual case: the end of the UTC day (as _boundary says)
                end = t - t % 86_400_000 + 86_400_000
            else:
                ends = [b for b in (_boundary(r, t) for r in self.refs) if b is not None]
                if not ends:
                    return None
                end = min(ends)
            if direction is not None and self.windows:
                # constant until the period ends: computed once per period
                cached = self.cached
                if cached is None or not cached[0] <= t < cached[1]:
                    w = self.windows[0](t) or ()
                    cached = self.cached = (t, end, w, max((hi for _, hi in w), default=NEG_INF))
                w = cached[2]
                if direction == "enter":
                    if max(values) <= cached[3]:
                        return None  # none ahead of the window
                elif len(w) == 1:
                    lo, hi = w[0]
                    for v in values:
                        if lo <= v <= hi:
                            break
                    else:
                        return None  # none in the window
                elif not any(lo <= v <= hi for v in values for lo, hi in w):
                    return None
            return (end, None)
        if self.kind == "sliding":
            return sliding_change(self.offsets, t, values, direction)
        best: tuple[int, int] | None = None
        for window_at in self.windows:
            found = _monotone(window_at, t, values, direction)
            if found is not None:
                best = _earlier(best, found)
        return best


def sliding_change(offsets: Window, t: int, values: list[int], direction: str | None = None
                   ) -> tuple[int, int] | None:
    """A window that moves with the clock: each finite edge moves 1 ms per ms (``offsets``:
    its ranges at time 0)."""
    when: int | None = None
    which = 0
    enter, leave = direction != "leave", direction != "enter"
    for lo, hi in offsets:  # loops, not lists: this runs at every evaluation
        if enter and hi != POS_INF:
            edge = hi + t
            first: int | None = None
            for v in values:
                if v > edge and (first is None or v < first):
                    first = v
            if first is not None and (when is None or t + first - edge < when):
                when, which = t + first - edge, first  # enters when the edge reaches it
        if leave and lo != NEG_INF:
            edge = lo + t
            first = None
            for v in values:
                if v >= edge and (first is None or v < first):
                    first = v
            if first is not None and (when is None or t + first - edge + 1 < when):
                when, which = t + first - edge + 1, first  # leaves once the edge passes it
    return None if when is None else (when, which)


def _earlier(a: tuple[int, int] | None, b: tuple[int, int]) -> tuple[int, int]:
    return b if a is None or b[0] < a[0] else a


def _position(window_at: WindowAt, t: int, v: int) -> int:
    """0: the one-range window has not reached ``v`` yet; 1: holds it; 2: has passed it."""
    w = window_at(t)
    if not w:
        return 0
    lo, hi = w[0]
    return 0 if v > hi else 1 if v >= lo else 2


def _monotone(window_at: WindowAt, t: int, values: list[int], direction: str | None = None
              ) -> tuple[int, int] | None:
    """A one-range window whose edges never move back: the first timestamp ahead of it is the
    first to enter, the first inside it the first to leave; search when each does."""
    w = window_at(t)
    lo, hi = w[0] if w else (POS_INF, POS_INF)
    ahead = [v for v in values if v > hi] if direction != "leave" else []
    inside = [v for v in values if lo <= v <= hi] if direction != "enter" else []
    best: tuple[int, int] | None = None
    for v in ([min(ahead)] if ahead else []) + ([min(inside)] if inside else []):
        start = _position(window_at, t, v)
        step = 1
        while step <= _HORIZON and _position(window_at, t + step, v) == start:
            step *= 2
        if step > _HORIZON:
            continue
        low, high = t + step // 2, t + step  # unchanged at low (or low == t), changed at high
        while high - low > 1:
            mid = (low + high) // 2
            if _position(window_at, mid, v) == start:
                low = mid
            else:
                high = mid
        best = _earlier(best, (high, v))
    return best


# ------------------------------------------------------------------ the definition


def _over_events(expr: ast.Node | None) -> bool:
    """``xEvent``, ``xEvent[...]``: an expression whose elements are the events."""
    while isinstance(expr, (ast.Filter, ast.MethodCall)):
        expr = expr.receiver
    return isinstance(expr, ast.Name) and expr.id == "xEvent"


class _Finder:
    """Collects the clock-relative phrases of a tree and the paths their subjects read."""

    def __init__(self, text: str, scopes: Scopes) -> None:
        self.text = text
        self.scopes = scopes
        self.phrases: list[_Phrase] = []
        self.daily = False  # a clock function or a time keyword used as a value
        self.two_sided = False  # an ``occurs != ...`` window (two ranges)
        self.unsupported: list[str] = []

    def source(self, node: ast.Node) -> str:
        return self.text[node.span.start:node.span.end] if self.text else type(node).__name__

    def source_paths(self, subject: ast.Expr) -> tuple[set[Path], set[Path]] | None:
        """Where the values of an ``occurs`` subject live: (event paths, profile paths); None
        when it is not a plain field of an event or of the profile."""
        path = ast.dotted_path(subject)
        root = subject
        while isinstance(root, ast.Attribute):
            root = root.receiver
        if path is None or not isinstance(root, ast.Name):
            return None
        try:
            how = self.scopes.resolution(root)
        except KeyError:
            return None
        if how.kind is NameKind.PROFILE_FIELD:
            return set(), {path}
        if how.kind is NameKind.EVENTS and len(path) > 1:
            return {path[1:]}, set()
        if how.kind is NameKind.VARIABLE and how.binder is not None and len(path) > 1 \
                and how.binder.kind != "let" and _over_events(how.binder.value):
            return {path[1:]}, set()
        if how.kind is NameKind.ELEMENT_FIELD and how.element is not None \
                and how.element.parent is None and _over_events(how.element.collection):
            # an event without the field falls back to the profile's; every event the
            # simulator holds has a `timestamp`
            return {path}, (set() if path == ("timestamp",) else {path})
        return None

    def add(self, phrase: ast.Node, event_paths: set[Path], profile_paths: set[Path],
            deep: bool = False) -> None:
        kinds = {r[1] if r is not None else None
                 for r in (_reference(x) for x in _references(phrase))}
        if "now" not in kinds and None in kinds:
            return  # relative to another timestamp only (``occurs after A.timestamp``)
        text = self.source(phrase)
        if None in kinds:  # ``between today and A.timestamp``: clock and data mixed
            self.unsupported.append(text)
            self.daily = True
            return
        comparator = phrase.comparator if isinstance(phrase, ast.RelativeTime) else None
        if comparator == "!=":
            self.two_sided = True
        if "now" not in kinds:
            window = _window_function(phrase, comparator)
            self.phrases.append(_Phrase(text, "calendar", phrase, frozenset(event_paths),
                                        frozenset(profile_paths),
                                        [window] if window is not None else [], deep=deep))
            return
        sliding = (isinstance(phrase, ast.RelativeTime)
                   and (phrase.unit is None or phrase.amount is None
                        or phrase.unit in UNIT_MILLIS))
        comparators = [comparator] if sliding or comparator != "!=" else ["<", "="]
        windows = [w for w in (_window_function(phrase, c) for c in comparators) if w is not None]
        self.phrases.append(_Phrase(text, "sliding" if sliding else "monotone", phrase,
                                    frozenset(event_paths), frozenset(profile_paths), windows,
                                    deep))

    def walk(self, node: ast.Node) -> None:
        for n in node.walk():
            if isinstance(n, ast.Occurs):
                found = self.source_paths(n.subject)
                if found is None:
                    self.add(n.phrase, set(), set(), deep=True)
                else:
                    self.add(n.phrase, *found)
            elif isinstance(n, ast.Chain):
                field_path = tuple(n.timestamp_field.split("."))
                for step in n.steps:
                    if step.when is not None:
                        self.add(step.when, {field_path}, set())
            elif isinstance(n, ast.Call) and n.name in _CLOCK_FUNCTIONS:
                self.daily = True
        phrase_refs: set[int] = set()
        for n in node.walk():
            phrase = n.phrase if isinstance(n, ast.Occurs) else \
                n.when if isinstance(n, ast.ChainStep) else None
            if phrase is not None:
                phrase_refs |= {id(r) for r in _references(phrase)}
        for n in node.walk():
            if isinstance(n, (ast.TimeKeyword, ast.CalendarPeriod)) and id(n) not in phrase_refs:
                self.daily = True


class TimeDependence:
    """How one definition's answer depends on the clock (see the module docstring).

    ``event_paths`` are the event fields whose timestamps the definition's windows test;
    ``deep`` is True when some phrase tests a value that is not a plain field of an event or of
    the profile (an item of an event, a computed value): every timestamp found anywhere in the
    events and the profile is then a candidate. ``unsupported`` lists phrases that mix the
    clock with data (``between today and A.timestamp``): they are re-checked at every UTC day
    boundary only, so their changes may land late (docs/streaming.md, "Limits").
    """

    def __init__(self, tree: ast.Node, text: str = "") -> None:
        finder = _Finder(text, resolve(tree))
        finder.walk(tree)
        self._phrases = finder.phrases
        self.daily = finder.daily
        self.unsupported = tuple(finder.unsupported)
        self.event_paths = frozenset(p for ph in self._phrases for p in ph.event_paths)
        self.deep = any(ph.deep for ph in self._phrases)
        #: every window tests only event fields with one-range windows, and the time alone
        #: changes nothing else: a timestamp entering a window can only add a match, one
        #: leaving only remove one (what ``direction`` relies on)
        self.event_windows_only = not (finder.daily or finder.two_sided or self.deep or any(
            ph.profile_paths for ph in self._phrases))
        only = self._phrases[0] if len(self._phrases) == 1 and not self.daily else None
        #: the one phrase, when it tests only the events' ``timestamp`` (its
        #: :meth:`_Phrase.next_change` over those timestamps is :meth:`next_change`)
        self.single: _Phrase | None = only if only is not None \
            and only.simple == ("timestamp",) else None
        #: the usual case, one window sliding with the clock over the events' ``timestamp``:
        #: its ranges at time 0 (:func:`sliding_change` gives its next change directly), and
        #: its text
        self.sliding: Window | None = only.offsets if only is not None \
            and only.kind == "sliding" and only.simple == ("timestamp",) else None
        self.sliding_text = only.text if only is not None else ""

    @property
    def clock_dependent(self) -> bool:
        """Whether the answer can change with time alone."""
        return bool(self._phrases) or self.daily

    def next_change(self, t: int, profile: dict[str, Any], events: list[Any],
                    times: dict[Path, list[int]] | None = None,
                    direction: str | None = None) -> Candidate | None:
        """The first instant after ``t`` at which the answer may change, for this data.

        ``times`` may hold the timestamps already read for some event paths (the simulator
        caches ``timestamp``); paths read here are added to it. ``direction`` ``enter``
        (``leave``) considers only timestamps entering (leaving) windows: for a definition that
        only grows with matching events, a non-member can only become one when an event
        enters a window, and a member only stop being one when an event leaves.
        """
        found = self.next_instant(t, profile, events, times, direction)
        return None if found is None else Candidate(*found)

    def next_instant(self, t: int, profile: dict[str, Any], events: list[Any],
                     times: dict[Path, list[int]] | None = None,
                     direction: str | None = None) -> tuple[int, str, int | None] | None:
        """:meth:`next_change` as a tuple ``(time, phrase, value)`` (a :class:`Candidate`'s
        fields), for the simulator's hot path."""
        best: tuple[int, int | None] | None = None
        which: _Phrase | None = None
        if self.daily:
            best = (day_of(t).end, None)
        cache: dict[Path, list[int]] = times if times is not None else {}
        for phrase in self._phrases:
            if not events and not phrase.profile_paths:
                continue
            if phrase.simple is not None and phrase.simple in cache:
                values = cache[phrase.simple]  # only the events' timestamps: no copy
            else:
                values = []
                if phrase.deep:
                    if () not in cache:
                        cache[()] = list(_deep_timestamps(events)) + \
                            list(_deep_timestamps(profile))
                    values += cache[()]
                for path in phrase.event_paths:
                    if path not in cache:
                        cache[path] = list(timestamps(_read(e, path) for e in events))
                    values += cache[path]
                for path in phrase.profile_paths:
                    values += timestamps([_read(profile, path)])
            found = phrase.next_change(t, values, direction)
            if found is not None and found[0] > t and (best is None or found[0] < best[0]):
                best, which = found, phrase
        if best is None:
            return None
        text = which.text if which is not None else "a UTC day boundary (clock function)"
        return (best[0], text, best[1])


def _deep_timestamps(obj: Any) -> Iterator[int]:
    """Every value anywhere in ``obj`` that reads as a timestamp (ISO-8601 text or a number)."""
    if type(obj) is dict:
        for v in obj.values():
            yield from _deep_timestamps(v)
    elif type(obj) is list:
        for v in obj:
            yield from _deep_timestamps(v)
    elif type(obj) is str:
        if len(obj) >= 10 and obj[:4].isdigit() and obj[4] == "-":
            yield from timestamps([obj])
    elif type(obj) in (int, float):
        yield from timestamps([obj])
