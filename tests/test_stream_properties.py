"""The property that defines the streaming simulator's correctness (issue 13).

At every clock tick, for every streaming-eligible definition (segment of segments aside: its
disqualification waits for the daily batch run by design) and every known profile, the
simulator's membership equals what the batch interpreter computes at that instant over all the
events ingested so far (late ones, which streaming leaves to batch, excluded): zero divergences.
Ticks are placed at random and right at window edges (an event time plus the window's length,
minus one, plus zero, plus one millisecond), where an exit landing one millisecond early or late
would show. Segments of segments join the property one way: whenever the interpreter says a
profile qualifies (reading the simulator's memberships of the audiences it names), the simulator
has it as a member (qualification is immediate; only exits wait for the batch run).

A second property checks the simulator's shortcuts (events routed only to the definitions they
can concern, state dropped once no window reaches it, members of definitions that only grow
not re-evaluated on a new event, timers for one direction, answers shared by blank profiles,
segments of segments not re-evaluated when their answer cannot change): with
``shortcuts=False`` the simulator keeps every event and evaluates everything a record, a timer
or a membership change could concern, and both must log the same transitions at the same
instants, with the same final memberships. The streams mix event types spelled in other cases,
events without an ``eventType`` (an event filter's ``eventType`` then falls back to the
profile's) and profiles that set ``eventType``, so that a wrong route or a wrong skip shows.

The number of examples is the Hypothesis profile's (tests/conftest.py: 200 in CI); the long run
is ``HYPOTHESIS_PROFILE=fuzz python -m pytest tests/test_stream_properties.py`` (20,000
examples each).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import pqltools
from pqltools.runtime.timephrases import iso, shift
from pqltools.streaming import Simulator, parse_record

HOUR = 3_600_000
DAY = 24 * HOUR
START = 1_748_736_000_000  # 2025-06-01T00:00:00Z
TYPES = ("a", "b", "c")

#: Definitions streaming-eligible under rules="2025" ({t}, {u}: event types; {n}: hours).
TEMPLATES_2025 = (
    'xEvent[eventType = "{t}" and timestamp occurs {cmp} {n} hours before now]',
    'xEvent[eventType = "{t}" and timestamp occurs < {m} minutes before now]',
    ('chain(xEvent, timestamp, [A: WHAT(eventType = "{t}") WHEN(today), '
    'B: WHAT(eventType = "{u}") WHEN(< {n} hours before now)])'),
    ('select A from xEvent where A.eventType = "{t}" and A.timestamp occurs < {n} hours before now '
    'and not (exists B from xEvent where B.eventType = "{u}" and B.timestamp occurs after '
    'A.timestamp)'),
    'country = "US" and xEvent[eventType = "{t}" and timestamp occurs today]',
    'chain(xEvent, timestamp, [A: WHAT(eventType = "{t}") WHEN(< {n} hours before now) COUNT(2)])',
    'xEvent[eventType = "{t}" and timestamp occurs < {n} hours before now].count() >= 2',
    'CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals("{T}", false)) WHEN(today)])',
    'country = "US"',
)
#: Eligible only under rules="legacy" (single events with any window), or exercising the
#: calendar and monotone timers.
TEMPLATES_LEGACY = (
    'xEvent[eventType = "{t}" and timestamp occurs {cmp} {n} days before now]',
    'xEvent[eventType = "{t}" and timestamp occurs < 1 months before now]',
    'xEvent[eventType = "{t}" and timestamp occurs yesterday]',
    'xEvent[eventType = "{t}" and timestamp occurs this week]',
    'xEvent[eventType = "{t}" and timestamp occurs != {n} hours before now]',
    'xEvent[eventType = "{t}" and timestamp occurs between yesterday and now]',
    'xEvent[eventType = "{t}" and timestamp occurs after now]',
    'not (xEvent[eventType = "{t}" and timestamp occurs < {n} hours before now])',
    'select X from xEvent where X.eventType = "{t}" and X.timestamp occurs > {n} hours before now',
    'chain(xEvent, timestamp, [A: WHAT(eventType = "{t}")])',
    'xEvent[timestamp occurs < {n} hours before now].count() = 1',
)
#: Segments of segments ({p}, {q}: ids of definitions drawn before them).
TEMPLATES_SEGMENTS = (
    'inSegment("{p}") and inSegment("{q}")',
    'inSegment("{p}") or country = "US"',
    'inSegment("{p}") and xEvent[eventType = "{t}" and timestamp occurs < {n} hours before now]',
    'not inSegment("{p}")',
    'inSegment("{p}") and not (xEvent[eventType = "{t}" and timestamp occurs today])',
)


@st.composite
def definitions(draw: st.DrawFn, rules: str, segments: bool = False) -> dict[str, str]:
    pool = TEMPLATES_2025 + (TEMPLATES_LEGACY if rules == "legacy" else ())
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))
    if segments:
        chosen += draw(st.lists(st.sampled_from(TEMPLATES_SEGMENTS), max_size=2))
    out = {}
    for i, template in enumerate(chosen):
        t, u = draw(st.sampled_from(TYPES)), draw(st.sampled_from(TYPES))
        earlier = sorted(out) or ["d0"]
        out[f"d{i}"] = template.format(
            t=t, u=u, T=t.upper(), n=draw(st.integers(1, 20)), m=draw(st.integers(1, 90)),
            p=draw(st.sampled_from(earlier)), q=draw(st.sampled_from(earlier)),
            cmp=draw(st.sampled_from(["<", "<=", "=", ">", ">="] if rules == "legacy"
                                     else ["<", "<="])))
    return out


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records in ingest order: events (some late, some stamped ahead), attribute updates and
    ticks, for up to three profiles over a few days."""
    records: list[tuple[int, int, dict[str, Any]]] = []
    t = START + draw(st.integers(0, DAY))
    for _ in range(draw(st.integers(1, 14))):
        t += draw(st.sampled_from([0, 1, 1000, 60_000, HOUR, 3 * HOUR, DAY]))
        pid = draw(st.sampled_from(["p1", "p2", "p3"]))
        if draw(st.integers(0, 9)) == 0:
            field, value = draw(st.sampled_from([("country", "US"), ("country", "FR"),
                                                 ("country", None), ("eventType", "a"),
                                                 ("eventType", None)]))
            records.append((t, 0, {"type": "profile", "profileId": pid, "ingestTime": iso(t),
                                   "attributes": {field: value}}))
            continue
        lag = draw(st.sampled_from([0, 0, 0, 1, 5000, HOUR, 2 * DAY, -HOUR]))
        ts = t - lag
        stamp: Any = ts if draw(st.booleans()) else iso(ts)
        event: dict[str, Any] = {"timestamp": stamp}
        kind = draw(st.sampled_from(TYPES + ("A", "B", None)))  # other cases, none at all
        if kind is not None:
            event["eventType"] = kind
        records.append((t, 0, {"type": "event", "profileId": pid, "ingestTime": iso(t),
                               "event": event}))
        # ticks right at the edges of the windows this event can fall out of
        for length in draw(st.lists(st.sampled_from([0, HOUR, 2 * HOUR, 3 * HOUR, 20 * HOUR, DAY,
                                                     60_000, 7 * DAY, "month"]), max_size=2)):
            edge = shift(ts, 1, "month") if length == "month" else ts + int(length)
            for delta in (-1, 0, 1):
                records.append((max(t, edge + delta), 1, {"type": "tick"}))
    for _ in range(draw(st.integers(0, 6))):
        records.append((START + draw(st.integers(0, 5 * DAY)), 1, {"type": "tick"}))
    records.append((t + DAY, 1, {"type": "tick"}))
    records.sort(key=lambda r: (r[0], r[1]))
    out = []
    for when, _, record in records:
        if record["type"] == "tick":
            record = {"type": "tick", "time": when}
        out.append(record)
    return out


def check(rules: str, defs: dict[str, str], records: list[dict[str, Any]]) -> None:
    sim = Simulator(defs, rules=rules, allowed_lateness=DAY)
    streaming = [a for a in sim.audiences if a.streaming and not a.segment_of_segments]
    readers = [a for a in sim.audiences if a.streaming and a.segment_of_segments]
    programs = {a.id: pqltools.compile(defs[a.id]) for a in streaming + readers}
    seen: dict[str, list[Any]] = {}
    attributes: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(records, 1):
        record = parse_record(raw, index)
        if record.kind == "event":
            assert record.profile is not None
            if record.time - pqltools.streaming.records.to_millis(record.payload["timestamp"]) \
                    <= DAY:
                seen.setdefault(record.profile, []).append(record.payload)
        elif record.kind == "profile":
            assert record.profile is not None
            profile = attributes.setdefault(record.profile, {"_id": record.profile})
            for key, value in record.payload.items():
                if value is None:
                    profile.pop(key, None)
                else:
                    profile[key] = value
        sim.feed(record)
        if record.kind != "tick":
            continue
        members = sim.members()
        for pid in members:
            profile = attributes.get(pid, {"_id": pid})
            for audience in streaming:
                expected = programs[audience.id].evaluate(profile, seen.get(pid, []),
                                                          now=record.time)
                assert members[pid][audience.id] == expected, (
                    f"{audience.id} = {defs[audience.id]!r} for {pid} at {iso(record.time)}: "
                    f"simulator {members[pid][audience.id]}, batch interpreter {expected}")
            for audience in readers:  # qualification is immediate, exits wait for batch
                qualifies = programs[audience.id].evaluate(
                    profile, seen.get(pid, []), now=record.time, segments=members[pid])
                assert members[pid][audience.id] or not qualifies, (
                    f"{audience.id} = {defs[audience.id]!r} for {pid} at {iso(record.time)}: "
                    "the interpreter qualifies the profile, the simulator does not")


@given(st.data())
def test_simulator_matches_batch_interpreter_2025(data: st.DataObject) -> None:
    check("2025", data.draw(definitions("2025", segments=True)), data.draw(streams()))


@given(st.data())
def test_simulator_matches_batch_interpreter_legacy(data: st.DataObject) -> None:
    check("legacy", data.draw(definitions("legacy", segments=True)), data.draw(streams()))


def transitions(sim: Simulator, record: Any) -> list[tuple[int, str, str, str]]:
    return sorted((t.time, t.profile, t.audience, t.status) for t in sim.feed(record))


@given(st.data())
def test_shortcuts_change_no_transition(data: st.DataObject) -> None:
    rules = data.draw(st.sampled_from(["2025", "legacy"]))
    defs = data.draw(definitions(rules, segments=True))
    fast = Simulator(defs, rules=rules, allowed_lateness=DAY)
    full = Simulator(defs, rules=rules, allowed_lateness=DAY, shortcuts=False)
    for index, raw in enumerate(data.draw(streams()), 1):
        record = parse_record(raw, index)
        assert transitions(fast, record) == transitions(full, record), (defs, index)
    assert fast.segment_membership() == full.segment_membership()
    assert fast.evaluations <= full.evaluations


def test_the_property_covers_streaming_definitions() -> None:
    """The templates are streaming-eligible (so the property is about streaming evaluation)."""
    for rules, pool in (("2025", TEMPLATES_2025), ("legacy", TEMPLATES_LEGACY)):
        for template in pool:
            text = template.format(t="a", u="b", T="A", n=3, m=30, cmp="<")
            assert "streaming" in pqltools.classify(text, rules=rules).eligible, (rules, text)
