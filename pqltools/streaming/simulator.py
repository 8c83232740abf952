"""A deterministic discrete-event simulator of streaming segment membership.

Records arrive in ingest-time order (:mod:`pqltools.streaming.records`): experience events, profile
attribute updates and clock ticks. Between records the simulator's clock jumps from one
scheduled instant to the next: window expiries (timers from :mod:`.timing`) and the daily batch
run. Every evaluation is the reference interpreter's (:meth:`pqltools.Program.bind`) at the
exact instant, over the data the definition can still see, so the membership after each step is
the batch interpreter's answer at that instant (the property tests/test_stream_properties.py
checks).

* **Streaming definitions** (``classify`` says streaming) are evaluated when an event that can
  concern them arrives (:mod:`.relevance`), when the profile changes, when an audience they read
  with ``inSegment`` changes, and when a timer fires. Exits land on the millisecond a window
  stops holding the event that qualified the profile.
* **Segment of segments** (a streaming definition that reads ``inSegment``): qualification is
  immediate, disqualification waits for the daily batch run (the streaming guide: "If a segment
  of segments is used, profile disqualification will happen every 24 hours").
* **Batch definitions** are evaluated for every known profile at the daily batch time, over all
  events ingested before it (late ones included).
* **Late events** (event time older than ingest time minus the allowed lateness) are not
  evaluated by streaming; batch definitions still see them.
* **State** per profile: the profile, its memberships, and per definition only the events that
  can concern it and that its windows can still reach (:func:`retention`); a definition whose
  windows reach indefinitely back keeps its relevant events.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pqltools.analysis.eligibility import Eligibility, classify
from pqltools.analysis.scope import NameKind, resolve
from pqltools.analysis.windows import _AGGREGATING, event_references
from pqltools.definitions import Definition
from pqltools.errors import PQLError
from pqltools.runtime.context import Clock, Context
from pqltools.runtime.membership import CompiledSegment, compile_segments, profile_id
from pqltools.runtime.timephrases import (
    DAY,
    UNIT_MILLIS,
    UNIT_MONTHS,
    TimestampError,
    iso,
    to_millis,
)
from pqltools.streaming.records import Record, StreamInputError
from pqltools.streaming.relevance import event_types
from pqltools.streaming.timing import TimeDependence, sliding_change
from pqltools.syntax import ast

__all__ = ["Audience", "Simulator", "Transition", "retention"]

#: Statuses of ``segmentMembership`` that count as a member.
_MEMBER = frozenset({"realized", "existing"})
_TIME = ("timestamp",)
#: the cause of a timer's evaluation until it yields a transition (then described in full)
_EXPIRY: dict[str, Any] = {"kind": "expiry"}


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of membership: ``status`` is ``realized`` or ``exited``.

    ``time`` is the instant in epoch milliseconds (``at`` in ISO-8601); ``cause`` says why:
    ``{"kind": "event", "line": 3, "eventType": ...}``, ``{"kind": "profile", "line": 4}``,
    ``{"kind": "expiry", "window": "< 3 hours before now", "timestamp": ...}``,
    ``{"kind": "segment", "audience": ...}`` (an audience it reads changed), ``{"kind":
    "batch"}`` (the daily batch run), ``{"kind": "new-profile", "line": n}`` (the first record
    of a profile: every streaming audience is evaluated) or ``{"kind": "baseline"}`` (the
    initial profiles, evaluated at the first instant).
    """

    profile: str
    audience: str
    status: str
    time: int
    cause: dict[str, Any]

    @property
    def at(self) -> str:
        """The time as ISO-8601 UTC text."""
        return iso(self.time)

    def to_json(self) -> dict[str, Any]:
        """One line of the transition log."""
        return {"time": self.at, "profile": self.profile, "audience": self.audience,
                "status": self.status, "cause": self.cause}


def profile_fields(tree: ast.Node) -> frozenset[str] | None:
    """The profile fields ``tree`` may read (an element field falls back to the profile's);
    None when it reads the profile as a whole (``$1``, ``this``, ``^``)."""
    scopes = resolve(tree)
    names: set[str] = set()
    for node in tree.walk():
        if isinstance(node, (ast.Param, ast.ParentRef, ast.ContextRef)):
            return None
        if isinstance(node, ast.Name):
            try:
                kind = scopes.resolution(node).kind
            except KeyError:
                return None
            if kind is NameKind.THIS:
                return None
            if kind in (NameKind.PROFILE_FIELD, NameKind.ELEMENT_FIELD):
                names.add(node.id)
    return frozenset(names)


_UP = {">": "left", ">=": "left", "<": "right", "<=": "right"}


def grows_with_events(tree: ast.Node) -> bool:
    """True when adding an event can never turn the answer from true to false: no event
    reference is negated (``not``, ``forall``, ``count() = 0``), and events are only counted
    upwards (``count() >= n``, ``COUNT(n)``), never summed, averaged or counted downwards."""
    if any(ref.negated or ref.kind == "path" for ref in event_references(tree)):
        return False
    upward: set[int] = set()
    for node in tree.walk():
        if isinstance(node, ast.Compare) and node.op in _UP:
            side = node.left if _UP[node.op] == "left" else node.right
            if isinstance(side, ast.MethodCall) and side.name == "count":
                upward.add(id(side))
        elif isinstance(node, ast.Aggregate):
            return False
    refs = event_references(tree)
    for node in tree.walk():
        if isinstance(node, ast.MethodCall) and node.name in _AGGREGATING \
                and id(node) not in upward and any(
                    r.aggregate is not None and r.aggregate == node.span for r in refs):
            return False
    return True


def rises_with_segments(tree: ast.Node) -> bool:
    """True when a profile leaving an audience that ``tree`` reads can never turn its answer
    from false to true: every ``inSegment`` names its audience literally and sits under ``and``
    and ``or`` only (no ``not``, comparison or function between it and the root), so the answer
    is a monotone function of those memberships."""
    calls = [n for n in tree.walk() if isinstance(n, ast.Call) and n.name == "inSegment"]
    if any(len(c.args) != 1 or not isinstance(c.args[0], ast.String) for c in calls):
        return False
    allowed: set[int] = set()

    def mark(node: ast.Node) -> None:
        allowed.add(id(node))
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                mark(value)
    mark(tree)
    return all(id(c) in allowed for c in calls)


def times_only(tree: ast.Node) -> bool:
    """True when every read of an event's ``timestamp`` is a time (the subject or reference of
    an ``occurs``, a chain's ordering field), so it may be given as epoch milliseconds instead
    of ISO-8601 text without changing any answer (the interpreter then skips parsing it)."""
    allowed: set[int] = set()
    for node in tree.walk():
        if isinstance(node, ast.Occurs):
            allowed.add(id(node.subject))
            phrase = node.phrase
            refs = [phrase.start, phrase.end] if isinstance(phrase, ast.BetweenTimes) \
                else [phrase.reference]
            allowed.update(id(r) for r in refs)
        elif isinstance(node, ast.Chain) and node.timestamp_field != "timestamp":
            return False
    for node in tree.walk():
        named = (isinstance(node, ast.Attribute) and node.name == "timestamp") or \
            (isinstance(node, ast.Name) and node.id == "timestamp")
        if named and id(node) not in allowed:
            return False
    return True


def retention(tree: ast.Node) -> int | None:
    """How far back (ms) a definition's windows can ever reach from ``now``, read from
    :mod:`pqltools.analysis.windows`; None when some event reference has no bounded window (or
    a ``forall`` needs every event)."""
    if any(isinstance(n, ast.Quantifier) and n.kind == "forall" for n in tree.walk()):
        return None
    longest = 0
    for ref in event_references(tree):
        if ref.window is None or ref.window.lookback is None:
            return None
        longest = max(longest, ref.window.lookback)
    # ``= N units before REF`` is the N-th unit back: the interpreter's window reaches one unit
    # further than the analysis's instant N units back (docs/semantics.md, "occurs")
    extra = 0
    for node in tree.walk():
        if isinstance(node, ast.RelativeTime) and node.comparator == "=" \
                and node.direction == "before" and node.unit is not None:
            unit = UNIT_MILLIS.get(node.unit)
            extra = max(extra, unit if unit is not None else UNIT_MONTHS[node.unit] * 31 * DAY)
    return longest + extra


@dataclass
class Audience:
    """One definition as the simulator runs it."""

    id: str
    program: Any
    streaming: bool
    eligibility: Eligibility
    depends_on: frozenset[str]
    types: frozenset[str] | None
    timing: TimeDependence
    horizon: int | None
    #: root names it may read from the profile (None: it may read anything, as with ``$1``)
    profile_fields: frozenset[str] | None = None
    #: adding an event never turns its answer from true to false (:func:`grows_with_events`)
    monotone: bool = False
    #: its events may carry ``timestamp`` as epoch milliseconds (:func:`times_only`)
    millis: bool = False
    #: an audience it reads leaving can never make it true (:func:`rises_with_segments`)
    rises_with_segments: bool = False
    index: int = 0
    dependents: list[int] = field(default_factory=list)

    @property
    def segment_of_segments(self) -> bool:
        """Reads other audiences: disqualified only at the daily batch run."""
        return bool(self.depends_on)

    def __post_init__(self) -> None:
        #: its windows test only the events' ``timestamp`` (so retention can use it)
        self.by_timestamp = self.timing.event_paths <= {_TIME} and not self.timing.deep
        #: only an event entering a window can make it true, only one leaving make it false
        self.clock_dependent = self.timing.clock_dependent
        #: how far back its windows reach, when only its events' ``timestamp`` decides
        self.reach = self.horizon if self.by_timestamp else None
        self.sliding = self.timing.sliding
        self.single = self.timing.single
        self.sliding_text = self.timing.sliding_text
        self.directional = self.monotone and self.timing.event_windows_only and not any(
            isinstance(n, ast.Not) for n in self.program.tree.walk())


class _Profile:
    """Everything the simulator keeps about one profile."""

    __slots__ = ("attributes", "events", "id", "members", "plans", "since", "times")

    def __init__(self, pid: str, attributes: dict[str, Any], n: int) -> None:
        self.id = pid
        self.attributes = attributes
        #: per audience: the events it can still see, and their ``timestamp`` in ms
        self.events: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        self.times: list[list[int]] = [[] for _ in range(n)]
        self.members: dict[str, bool] = {}
        self.since: dict[str, tuple[str, int]] = {}
        #: per audience: its next re-evaluation ``(time, phrase, timestamp)``, or None (a
        #: timer in the heap whose time is not its audience's plan here is stale)
        self.plans: list[tuple[int, str, int | None] | None] = [None] * n


class Simulator:
    """The simulation state; feed it records in order, read transitions and memberships.

    ``definitions``: :class:`~pqltools.definitions.Definition` objects or a mapping id -> PQL.
    ``rules``: the eligibility rule set (``"2025"`` or ``"legacy"``). ``batch_time``: the
    daily batch run, as milliseconds after 00:00 UTC. ``allowed_lateness``: how much older than
    its ingest time an event may be and still be evaluated by streaming (ms). ``profiles``:
    initial profiles (their ``segmentMembership`` gives the initial memberships, unless
    ``memberships`` maps a profile id to one). ``merge_policy_active_on_edge`` is passed to
    ``classify``. ``shortcuts=False`` keeps every event for every definition and evaluates
    everything a record, a timer or a membership change could concern, leaving out none of the
    work whose result is known (routing, dropping what no window reaches, skipped
    re-evaluations, one-direction timers, shared blank answers): slower, and the same
    transitions (tests/test_stream_properties.py checks it).
    """

    def __init__(self, definitions: Iterable[Definition] | Mapping[str, str], *,
                 rules: str = "2025", batch_time: int = 0, allowed_lateness: int = DAY,
                 profiles: Iterable[Mapping[str, Any]] = (),
                 memberships: Mapping[str, Mapping[str, Any]] | None = None,
                 merge_policy_active_on_edge: bool | None = None,
                 id_key: str | None = None, shortcuts: bool = True) -> None:
        self.rules = rules
        self.shortcuts = shortcuts
        self.batch_time = batch_time % DAY
        self.allowed_lateness = allowed_lateness
        self.id_key = id_key
        self.audiences = _audiences(definitions, rules, merge_policy_active_on_edge)
        if not shortcuts:
            for a in self.audiences:  # every event, kept for ever, every evaluation done
                a.types = None
                a.reach = None
                a.monotone = a.directional = a.rises_with_segments = False
                a.sliding = a.single = None
        self._by_id = {a.id: a for a in self.audiences}
        #: event type -> audiences it can concern (keys: lower case, then spellings seen)
        self._routes: dict[str, list[Audience]] = {}
        self._any_event = [a for a in self.audiences if a.types is None]
        for a in self.audiences:
            for t in a.types or ():
                self._routes.setdefault(t, []).append(a)
        for t, chosen in list(self._routes.items()):
            self._routes[t] = sorted(chosen + self._any_event, key=lambda a: a.index)

        self.profiles: dict[str, _Profile] = {}
        self.now: int | None = None
        self.late: list[Record] = []
        #: (time, sequence, profile, audience index): a heap of planned re-evaluations
        self._timers: list[tuple[int, int, _Profile, int]] = []
        self._seq = 0
        self._clock_at: Clock | None = None
        self._batch_at: int | None = None
        self._blank: dict[tuple[int, int | None], bool] = {}
        self._stored = {pid: m for pid, m in (memberships or {}).items()}
        self.evaluations = 0
        for profile in profiles:
            self._add_profile(profile)

    # ------------------------------------------------------------ input

    def _add_profile(self, profile: Mapping[str, Any]) -> _Profile:
        if not isinstance(profile, Mapping):
            raise StreamInputError("a profile must be a JSON object")
        pid = profile_id(profile, self.id_key)
        if pid is None:
            raise StreamInputError("a profile has no id (give `_id`, `personID`, `id` or an "
                                   "identityMap, or choose the field with id_key)")
        state = _Profile(pid, copy.deepcopy(dict(profile)), len(self.audiences))
        state.members = dict.fromkeys(self._by_id, False)
        stored = self._stored.get(pid, profile.get("segmentMembership"))
        ups = stored.get("ups") if isinstance(stored, Mapping) else None
        if not ups:
            self.profiles[pid] = state
            return state  # the usual case: no membership given
        for audience in self.audiences:
            entry = ups.get(audience.id) if isinstance(ups, Mapping) else None
            status = entry.get("status") if isinstance(entry, Mapping) else None
            if isinstance(entry, Mapping) and isinstance(status, str) \
                    and status.lower() in _MEMBER:
                state.members[audience.id] = True
                state.since[audience.id] = ("existing", _entry_time(entry))
        self.profiles[pid] = state
        return state

    def feed(self, record: Record) -> list[Transition]:
        """Process one record (after running every timer and batch run due before it)."""
        if self.now is not None and record.time < self.now:
            raise StreamInputError(f"records must come in time order, but this one is at "
                                   f"{iso(record.time)}, before {iso(self.now)}", record.line)
        timers = self._timers
        if self._batch_at is not None and self._batch_at > record.time and (
                not timers or timers[0][0] > record.time):
            self.now = record.time  # nothing due: the usual case between events
            out: list[Transition] = []
        else:
            out = self.advance(record.time)
        if record.kind == "tick":
            return out
        assert record.profile is not None
        state = self.profiles.get(record.profile)
        fresh = state is None
        if state is None:
            state = self._add_profile({"_id": record.profile} if self.id_key is None
                                      else _nested(self.id_key, record.profile))
        t = record.time
        touched: list[Audience]
        if record.kind == "profile":
            _merge(state.attributes, record.payload)
            keys = record.payload.keys()
            touched = [a for a in self.audiences if a.streaming and (
                a.profile_fields is None or not a.profile_fields.isdisjoint(keys))]
            cause: dict[str, Any] = {"kind": "profile", "line": record.line}
        else:
            touched = self._route(state, record)
            cause = {"kind": "event", "line": record.line}
            kind = record.payload.get("eventType")
            if isinstance(kind, str):
                cause["eventType"] = kind
        if fresh:  # a new profile: every streaming audience, unless the shared answer holds
            chosen = {a.index for a in touched}
            touched = [a for a in self.audiences if a.streaming and (
                a.index in chosen or self._blank_answer(state, a, t) is not False)]
            cause = {"kind": "new-profile", "line": record.line, **{
                k: v for k, v in cause.items() if k == "eventType"}}
        out += self._evaluate(state, touched, t, cause)
        return out

    def _route(self, state: _Profile, record: Record) -> list[Audience]:
        """Keep the event for the audiences it can concern; the streaming ones to evaluate."""
        event = record.payload
        if type(event) is not dict:
            raise StreamInputError("an event must be a JSON object", record.line)
        try:
            ts = to_millis(event.get("timestamp"))
        except TimestampError:
            raise StreamInputError("an event needs a `timestamp` (ISO-8601 or epoch "
                                   "milliseconds)", record.line) from None
        late = record.time - ts > self.allowed_lateness
        if late:
            self.late.append(record)
        kind = event.get("eventType")
        if type(kind) is str:
            targets = self._routes.get(kind)
            if targets is None:  # first time this spelling is seen: route it by lower case
                targets = self._routes[kind] = self._routes.get(kind.lower(), self._any_event)
        else:
            targets = self.audiences
        touched = []
        parsed: dict[str, Any] | None = None
        t = record.time
        for a in targets:
            if a.streaming and late:
                continue
            reach = a.reach
            if reach is not None and ts < t - reach:
                continue  # its windows can no longer reach it
            i = a.index
            if a.millis:
                if parsed is None:
                    parsed = dict(event)
                    parsed["timestamp"] = ts
                state.events[i].append(parsed)
            else:
                state.events[i].append(event)
            state.times[i].append(ts)
            if a.streaming:
                touched.append(a)
        return touched

    # ------------------------------------------------------------ the clock

    def advance(self, until: int) -> list[Transition]:
        """Run every timer and daily batch run due at or before ``until``; the clock moves
        there."""
        out: list[Transition] = []
        if self.now is None:
            self.now = until
            out += self._baseline(until)
        if self._batch_at is None:
            self._batch_at = self._next_batch(self.now)
        timers = self._timers
        if (not timers or timers[0][0] > until) and self._batch_at > until:
            self.now = max(self.now, until)  # nothing due: the usual case between events
            return out
        while True:
            batch = self._batch_at
            timer = timers[0][0] if timers else None
            if timer is not None and timer <= until and timer < batch:
                t, _, state, index = heapq.heappop(timers)
                planned = state.plans[index]
                if planned is None or planned[0] != t:
                    continue  # superseded by a later evaluation
                state.plans[index] = None
                self.now = t
                audience = self.audiences[index]
                if audience.dependents:
                    out += self._evaluate(state, [audience], t, _expiry(planned))
                    continue
                # the usual case: the cause (its ISO text) is built only for a transition
                changed = self._evaluate_one(state, audience, t, _EXPIRY, False, planned)
                if changed is not None:
                    out.append(changed)
            elif batch <= until:
                self.now = batch
                out += self._batch_run(batch)
                self._batch_at = batch + DAY
            else:
                break
        self.now = max(self.now, until)
        return out

    def _baseline(self, t: int) -> list[Transition]:
        """At the first instant, every streaming audience is evaluated for the initial
        profiles (their given memberships are the state before it)."""
        out: list[Transition] = []
        streamed = [a for a in self.audiences if a.streaming]
        for state in list(self.profiles.values()):
            out += self._evaluate(state, streamed, t, {"kind": "baseline"})
        return out

    def _next_batch(self, t: int) -> int:
        day = t - t % DAY
        run = day + self.batch_time
        return run if run >= t else run + DAY

    def _batch_run(self, t: int) -> list[Transition]:
        out: list[Transition] = []
        chosen = [a for a in self.audiences if not a.streaming or a.segment_of_segments]
        if not chosen:
            return out
        for state in self.profiles.values():
            out += self._evaluate(state, chosen, t, {"kind": "batch"}, batch=True)
        return out

    # ------------------------------------------------------------ evaluation

    def _clock(self, t: int) -> Clock:
        """One clock per instant, shared by every evaluation at it (the interpreter caches the
        windows of ``now``-relative phrases on the clock)."""
        if self._clock_at is None or self._clock_at.now != t:
            self._clock_at = Clock(t)
        return self._clock_at

    def _evaluate(self, state: _Profile, audiences: list[Audience], t: int,
                  cause: dict[str, Any], batch: bool = False) -> list[Transition]:
        out: list[Transition] = []
        # in dependency order (the index), so an audience sees this instant's answer of those
        # it reads; an audience reading one that changed is evaluated too. Up to the first
        # audience others read (the usual case: all of them), no queue is needed.
        for k, audience in enumerate(audiences):
            if audience.dependents:
                break
            changed = self._evaluate_one(state, audience, t, cause, batch)
            if changed is not None:
                out.append(changed)
        else:
            return out
        queue = {a.index: cause for a in audiences[k:]}
        done: set[int] = set()
        members = state.members
        while queue:
            index = min(queue)
            why = queue.pop(index)
            done.add(index)
            audience = self.audiences[index]
            changed = self._evaluate_one(state, audience, t, why, batch)
            if changed is None:
                continue
            out.append(changed)
            exited = changed.status == "exited"
            for i in audience.dependents:
                if i in done or i in queue:
                    continue
                reader = self.audiences[i]
                if not batch and not reader.streaming:
                    continue  # evaluated at the daily batch run only
                if not batch and self.shortcuts:
                    if members[reader.id]:
                        # a member reading audiences stays one until the daily batch run
                        # whatever it answers now (and its data, so its timer, is unchanged)
                        continue
                    if exited and reader.rises_with_segments:
                        continue  # it answered false with this audience in; still false
                queue[i] = {"kind": "segment", "audience": audience.id}
        return out

    def _evaluate_one(self, state: _Profile, audience: Audience, t: int,
                      cause: dict[str, Any], batch: bool,
                      planned: tuple[int, str, int | None] | None = None) -> Transition | None:
        """Evaluate one audience for one profile at ``t``, plan its next timer, and return the
        transition if its membership changed. ``planned``: the timer that fired (its cause,
        built only for a transition)."""
        i = audience.index
        events, times = state.events[i], state.times[i]
        reach = audience.reach
        if reach is not None and times:
            oldest = t - reach
            if min(times) < oldest:  # drop the events its windows can no longer reach
                keep = [k for k, ts in enumerate(times) if ts >= oldest]
                state.events[i] = events = [events[k] for k in keep]
                state.times[i] = times = [times[k] for k in keep]
        members = state.members
        member = members[audience.id]
        if member and audience.monotone and not batch and cause["kind"] == "event":
            # a member stays one when an event is added: only its next change may move
            self._schedule(state, audience, t, events, times, True)
            return None
        try:
            if events:  # the usual case, inline
                self.evaluations += 1
                clock = self._clock_at
                if clock is None or clock.now != t:
                    clock = self._clock(t)
                ctx = Context(state.attributes, events, clock, members)
                ctx.checked = True  # a list of objects (_route keeps nothing else)
                qualifies = bool(audience.program.evaluate_in(ctx))
            else:
                qualifies = self._answer(state, audience, events, t)
        except PQLError as exc:
            where = f" (line {cause['line']})" if "line" in cause else ""
            raise StreamInputError(f"evaluating audience {audience.id!r} for profile "
                                   f"{state.id!r} at {iso(t)}{where}: {exc}") from exc
        if batch:
            if qualifies == member:
                return None
        else:
            deferred = not qualifies and member and audience.segment_of_segments
            if audience.streaming:
                sliding = audience.sliding
                if sliding is not None:  # _schedule's usual case, inline
                    found = sliding_change(sliding, t, times, (
                        "leave" if qualifies or deferred else "enter")
                        if audience.directional else None) if times else None
                    before = state.plans[i]
                    if found is None:
                        state.plans[i] = None
                    else:
                        state.plans[i] = (found[0], audience.sliding_text, found[1])
                        if before is None or before[0] != found[0]:
                            self._seq += 1
                            heapq.heappush(self._timers, (found[0], self._seq, state, i))
                else:
                    self._schedule(state, audience, t, events, times, qualifies or deferred)
            if qualifies == member or deferred:
                return None  # (a segment of segments is disqualified at the daily batch run)
        members[audience.id] = qualifies
        status = "realized" if qualifies else "exited"
        state.since[audience.id] = (status, t)
        return Transition(state.id, audience.id, status, t,
                          cause if planned is None else _expiry(planned))

    def _blank_key(self, state: _Profile, audience: Audience, events: list[Any], t: int
                   ) -> tuple[int, int | None] | None:
        """For a profile nothing is known about yet (no events for the audience, no attribute
        but an id the definition does not read, not a member of any audience it reads), the
        key of the answer all such profiles share; None otherwise."""
        if events:
            return None
        fields = audience.profile_fields
        if fields is None or len(state.attributes) > 1 or fields & state.attributes.keys():
            return None
        if audience.depends_on and any(state.members.get(d) for d in audience.depends_on):
            return None  # (the shared answer is the one with every audience it reads out)
        return (audience.index, t if audience.timing.daily else None)

    def _blank_answer(self, state: _Profile, audience: Audience, t: int) -> bool | None:
        """The shared answer for a profile nothing is known about, if already computed and
        the profile is such a one (its membership, then, cannot change by evaluating)."""
        if not self.shortcuts:
            return None
        key = self._blank_key(state, audience, state.events[audience.index], t)
        if key is None or state.members.get(audience.id):
            return None
        return self._blank.get(key)

    def _answer(self, state: _Profile, audience: Audience, events: list[dict[str, Any]],
                t: int) -> bool:
        """The interpreter's answer (shared by all profiles nothing is known about)."""
        key = self._blank_key(state, audience, events, t) if self.shortcuts else None
        if key is not None:
            cached = self._blank.get(key)
            if cached is not None:
                return cached
        answer = bool(audience.program.evaluate(state.attributes, events, now=self._clock(t),
                                                segments=state.members))
        self.evaluations += 1
        if key is not None:
            self._blank[key] = answer
        return answer

    def _schedule(self, state: _Profile, audience: Audience, t: int,
                  events: list[dict[str, Any]], times: list[int], member: bool) -> None:
        """Plan the next re-evaluation: the first instant the answer may change."""
        i = audience.index
        if not audience.clock_dependent:
            state.plans[i] = None
            return
        direction = ("leave" if member else "enter") if audience.directional else None
        sliding = audience.sliding
        single = audience.single
        plan: tuple[int, str, int | None] | None
        if sliding is not None:  # the usual case: one window sliding over ``timestamp``
            found = sliding_change(sliding, t, times, direction) if times else None
            plan = None if found is None else (found[0], audience.sliding_text, found[1])
        elif single is not None:  # one window (a calendar one) over ``timestamp``
            change = single.next_change(t, times, direction) if times else None
            plan = None if change is None or change[0] <= t else \
                (change[0], audience.sliding_text, change[1])
        else:
            plan = audience.timing.next_instant(t, state.attributes, events, {_TIME: times},
                                                direction)
        planned = state.plans[i]
        state.plans[i] = plan
        if plan is None or (planned is not None and planned[0] == plan[0]):
            return  # nothing to plan, or already in the heap for that instant
        self._seq += 1
        heapq.heappush(self._timers, (plan[0], self._seq, state, i))

    # ------------------------------------------------------------ results

    def members(self) -> dict[str, dict[str, bool]]:
        """Profile id -> audience id -> member now, for every known profile."""
        return {pid: {a.id: s.members.get(a.id, False) for a in self.audiences}
                for pid, s in self.profiles.items()}

    def segment_membership(self) -> dict[str, dict[str, Any]]:
        """Profile id -> ``segmentMembership`` (``ups`` namespace) as it stands now.

        A member that has not changed since the start is ``existing``; otherwise the status of
        its last transition, with that transition's time as ``lastQualificationTime``.
        """
        out: dict[str, dict[str, Any]] = {}
        for pid, state in self.profiles.items():
            ups: dict[str, Any] = {}
            for audience in self.audiences:
                since = state.since.get(audience.id)
                if since is None:
                    continue
                status, when = since
                entry: dict[str, Any] = {"status": status}
                if when >= 0:
                    entry["lastQualificationTime"] = iso(when)
                ups[audience.id] = entry
            out[pid] = {"ups": ups}
        return out

    def run(self, records: Iterable[Record], until: int | None = None) -> Iterator[Transition]:
        """Feed ``records`` in order, then advance to ``until``; yield every transition."""
        for record in records:
            yield from self.feed(record)
        if until is not None:
            if self.now is not None and until < self.now:
                raise StreamInputError(f"--until {iso(until)} is before the last record "
                                       f"({iso(self.now)})")
            yield from self.advance(until)


def _expiry(planned: tuple[int, str, int | None]) -> dict[str, Any]:
    """The cause of a transition at a timer: the window, and the timestamp entering or leaving
    it (as :meth:`.timing.Candidate.describe` words it)."""
    if planned[2] is None:
        return {"kind": "expiry", "window": planned[1]}
    return {"kind": "expiry", "window": planned[1], "timestamp": iso(planned[2])}


def _entry_time(entry: Mapping[str, Any]) -> int:
    try:
        return to_millis(entry.get("lastQualificationTime"))
    except TimestampError:
        return -1


def _nested(key: str, value: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = out
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _merge(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Deep-merge an attribute update: objects merge, null removes, anything else replaces."""
    for key, value in update.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _audiences(definitions: Iterable[Definition] | Mapping[str, str], rules: str,
               merge_policy: bool | None) -> list[Audience]:
    items = list(definitions.items()) if isinstance(definitions, Mapping) else list(definitions)
    compiled: list[CompiledSegment] = compile_segments(
        definitions if isinstance(definitions, Mapping) else items)  # type: ignore[arg-type]
    texts = {seg.id: seg.program.text for seg in compiled}
    originals: dict[str, Any] = {}
    for item in items:
        if isinstance(item, Definition):
            originals[item.id or item.name or item.label] = item
    out: list[Audience] = []
    for index, seg in enumerate(compiled):
        subject = originals.get(seg.id, seg.program.tree)
        result = classify(subject, rules=rules, audiences=texts,
                          merge_policy_active_on_edge=merge_policy)
        out.append(Audience(
            id=seg.id, program=seg.program, streaming=_streamed(subject, result),
            eligibility=result, depends_on=seg.depends_on, types=event_types(seg.program.tree),
            timing=TimeDependence(seg.program.tree, seg.program.text),
            horizon=retention(seg.program.tree),
            profile_fields=profile_fields(seg.program.tree),
            monotone=grows_with_events(seg.program.tree),
            millis=times_only(seg.program.tree),
            rises_with_segments=rises_with_segments(seg.program.tree), index=index))
    positions = {a.id: a.index for a in out}
    for a in out:
        for dep in a.depends_on:
            if dep in positions:
                out[positions[dep]].dependents.append(a.index)
    return out


def _streamed(subject: Any, result: Eligibility) -> bool:
    """Streaming-eligible, and (for a definition whose ``evaluationInfo`` says anything)
    requested as streaming."""
    if "streaming" not in result.eligible:
        return False
    if isinstance(subject, Definition) and subject.evaluation_info:
        return "streaming" in subject.requested_methods
    return True
