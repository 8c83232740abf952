"""The streaming simulator (pqltools.stream / pql stream): exact expiries, routing, bounded
state, segment of segments, batch runs, late events, input errors and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pqltools
from pqltools.cli import main
from pqltools.runtime.timephrases import iso, shift, to_millis
from pqltools.streaming import (
    Simulator,
    StreamInputError,
    parse_batch_time,
    parse_duration,
    parse_record,
    read_records,
    retention,
)
from pqltools.streaming.relevance import event_types
from pqltools.streaming.simulator import grows_with_events, profile_fields, times_only
from pqltools.streaming.timing import TimeDependence
from pqltools.syntax.parser import parse

HOUR = 3_600_000
DAY = 24 * HOUR
RED_SHOES = ('select X from xEvent where X.eventType = "commerce.purchases" and '
             'X.productListItems.color = "red" and X.timestamp occurs < 3 hours before now')
EXAMPLES = Path(__file__).parent.parent / "examples" / "streaming"


def event(pid: str, at: str, kind: str, stamp: str | None = None, **fields: Any
          ) -> dict[str, Any]:
    return {"type": "event", "profileId": pid, "ingestTime": at,
            "event": {"eventType": kind, "timestamp": stamp or at, **fields}}


def purchase(pid: str, at: str, color: str = "red") -> dict[str, Any]:
    return event(pid, at, "commerce.purchases", productListItems=[{"color": color}])


def log(run: Any) -> list[tuple[str, str, str, str, str]]:
    return [(t.at[:19], t.profile, t.audience, t.status, t.cause["kind"]) for t in run]


def test_red_shoes_exit_three_hours_after_the_purchase_with_no_new_event() -> None:
    run = pqltools.stream({"red-shoes": RED_SHOES},
                          [purchase("alice", "2025-06-01T10:00:00Z")],
                          until="2025-06-02T00:00:00Z")
    transitions = list(run)
    assert log(transitions) == [
        ("2025-06-01T10:00:00", "alice", "red-shoes", "realized", "new-profile"),
        ("2025-06-01T13:00:00", "alice", "red-shoes", "exited", "expiry")]
    exit_ = transitions[1]
    assert exit_.time == to_millis("2025-06-01T13:00:00Z")  # to the millisecond
    assert exit_.cause == {"kind": "expiry", "window": "< 3 hours before now",
                           "timestamp": "2025-06-01T10:00:00.000+00:00"}
    assert run.segment_membership() == {"alice": {"ups": {"red-shoes": {
        "status": "exited", "lastQualificationTime": "2025-06-01T13:00:00.000+00:00"}}}}


def test_the_exit_lands_on_the_millisecond_the_interpreter_changes_its_answer() -> None:
    at = to_millis("2025-06-01T10:00:00Z")
    program = pqltools.compile(RED_SHOES)
    events = [{"eventType": "commerce.purchases", "timestamp": iso(at),
               "productListItems": [{"color": "red"}]}]
    (_, exit_) = list(pqltools.stream({"r": RED_SHOES}, [purchase("a", iso(at))],
                                      until=at + DAY))
    assert program.evaluate({}, events, now=exit_.time - 1) is True
    assert program.evaluate({}, events, now=exit_.time) is False


def test_a_later_event_moves_the_exit() -> None:
    run = pqltools.stream({"r": RED_SHOES}, [purchase("a", "2025-06-01T10:00:00Z"),
                                             purchase("a", "2025-06-01T12:00:00Z")],
                          until="2025-06-02T00:00:00Z")
    assert log(run) == [("2025-06-01T10:00:00", "a", "r", "realized", "new-profile"),
                        ("2025-06-01T15:00:00", "a", "r", "exited", "expiry")]


def test_blue_shoes_do_not_qualify() -> None:
    assert list(pqltools.stream({"r": RED_SHOES}, [purchase("a", "2025-06-01T10:00:00Z",
                                                            "blue")],
                                  until="2025-06-03T00:00:00Z")) == []


@pytest.mark.parametrize(("expression", "stamp", "expected"), [
    # calendar month arithmetic (the monotone timer search): exit one calendar month later
    ('xEvent[eventType = "a" and timestamp occurs < 1 months before now]',
     "2025-01-15T08:00:00Z", [("realized", "2025-01-15T08:00:00"),
                              ("exited", "2025-02-15T08:00:00")]),
    # today: exit at the end of the UTC day
    ('xEvent[eventType = "a" and timestamp occurs today]', "2025-06-01T23:59:59Z",
     [("realized", "2025-06-01T23:59:59"), ("exited", "2025-06-02T00:00:00")]),
    # `> 2 hours before now`: an event qualifies only once it is old enough (an entry timer)
    ('xEvent[eventType = "a" and timestamp occurs > 2 hours before now]',
     "2025-06-01T10:00:00Z", [("realized", "2025-06-01T12:00:00")]),
])
def test_timers(expression: str, stamp: str, expected: list[tuple[str, str]]) -> None:
    run = pqltools.stream({"d": expression}, [event("p", stamp, "a")], rules="legacy",
                          until="2025-07-01T00:00:00Z")
    assert [(t.status, t.at[:19]) for t in run] == expected


def test_an_event_stamped_ahead_enters_its_window_when_the_time_comes() -> None:
    records = [event("p", "2025-06-01T10:00:00Z", "a", stamp="2025-06-01T11:00:00Z")]
    run = pqltools.stream({"d": 'xEvent[eventType = "a" and timestamp occurs between '
                                'yesterday and now]'}, records, rules="legacy",
                          until="2025-06-03T00:00:00Z")
    assert [(t.status, t.at[:19]) for t in run] == [("realized", "2025-06-01T11:00:00"),
                                                    ("exited", "2025-06-03T00:00:00")]


def test_negated_ordered_event_exits_on_the_purchase() -> None:
    cart = ('select A from xEvent where A.eventType = "addToCart" and A.timestamp occurs today '
            'and not (exists B from xEvent where B.eventType = "purchase" and B.timestamp '
            'occurs after A.timestamp)')
    run = pqltools.stream({"cart": cart}, [event("p", "2025-06-01T09:00:00Z", "addToCart"),
                                           event("p", "2025-06-01T10:00:00Z", "purchase")])
    assert log(run) == [("2025-06-01T09:00:00", "p", "cart", "realized", "new-profile"),
                        ("2025-06-01T10:00:00", "p", "cart", "exited", "event")]


def test_profile_attribute_updates_are_events_too() -> None:
    records = [{"type": "profile", "profileId": "p", "ingestTime": "2025-06-01T10:00:00Z",
                "attributes": {"homeAddress": {"country": "US", "city": "Austin"}}},
               {"type": "profile", "profileId": "p", "ingestTime": "2025-06-01T11:00:00Z",
                "attributes": {"homeAddress": {"country": None}}}]
    sim = Simulator({"us": 'homeAddress.country = "US"'})
    transitions = [t for r in records for t in sim.feed(parse_record(r, 1))]
    assert [(t.status, t.cause["kind"]) for t in transitions] == [
        ("realized", "new-profile"), ("exited", "profile")]
    assert sim.profiles["p"].attributes["homeAddress"] == {"city": "Austin"}


def test_segment_of_segments_qualifies_at_once_and_exits_at_the_daily_batch_run() -> None:
    defs = {"shoes": RED_SHOES, "us": 'homeAddress.country = "US"',
            "us-shoes": 'inSegment("shoes") and inSegment("us")'}
    profiles = [{"_id": "p", "homeAddress": {"country": "US"}}]
    run = pqltools.stream(defs, [purchase("p", "2025-06-01T10:00:00Z")], profiles=profiles,
                          batch_time="02:30", until="2025-06-03T00:00:00Z")
    assert log(run) == [
        ("2025-06-01T10:00:00", "p", "us", "realized", "baseline"),
        ("2025-06-01T10:00:00", "p", "shoes", "realized", "event"),
        ("2025-06-01T10:00:00", "p", "us-shoes", "realized", "segment"),
        ("2025-06-01T13:00:00", "p", "shoes", "exited", "expiry"),
        # "If a segment of segments is used, profile disqualification will happen every 24 hours"
        ("2025-06-02T02:30:00", "p", "us-shoes", "exited", "batch")]


def test_batch_definitions_run_at_the_batch_time_only() -> None:
    defs = {"week": 'xEvent[eventType = "a" and timestamp occurs < 7 days before now]'
                    '.count() >= 2'}
    sim = Simulator(defs, batch_time=parse_batch_time("03:00"))
    assert [a.streaming for a in sim.audiences] == [False]
    records = [event("p", "2025-06-01T10:00:00Z", "a"), event("p", "2025-06-01T11:00:00Z", "a")]
    out = list(sim.run([parse_record(r, i) for i, r in enumerate(records, 1)],
                       until=to_millis("2025-06-10T00:00:00Z")))
    assert [(t.status, t.at[:19], t.cause["kind"]) for t in out] == [
        ("realized", "2025-06-02T03:00:00", "batch"), ("exited", "2025-06-09T03:00:00", "batch")]


def test_late_events_are_left_to_batch() -> None:
    defs = {"d": 'xEvent[eventType = "a" and timestamp occurs today]'}
    records = [event("p", "2025-06-02T12:00:00Z", "a", stamp="2025-06-02T09:00:00Z"),
               event("q", "2025-06-02T12:00:00Z", "a", stamp="2025-06-02T11:00:00Z")]
    run = pqltools.stream(defs, records, allowed_lateness="2h")
    assert log(run) == [("2025-06-02T12:00:00", "q", "d", "realized", "new-profile")]
    assert [r.profile for r in run.simulator.late] == ["p"]


def test_state_is_bounded_by_the_windows() -> None:
    """A month of page views and purchases: each definition keeps only the events its windows
    can still see (and of the types it reads); a definition without a window keeps its own."""
    defs = {"views-15m": 'xEvent[eventType = "view" and timestamp occurs < 15 minutes '
                         'before now]',
            "buy-today": 'chain(xEvent, timestamp, [A: WHAT(eventType = "buy") WHEN(today)])',
            "ever-refund": 'chain(xEvent, timestamp, [A: WHAT(eventType = "refund")])'}
    sim = Simulator(defs, rules="legacy")
    start = to_millis("2025-06-01T00:00:00Z")
    t = start
    most = [0, 0, 0]
    for i in range(3000):
        t += 15 * 60_000  # one record every 15 minutes, for a month
        kind = ("view", "buy", "other")[i % 3]
        sim.feed(parse_record(event("p", iso(t), kind), i))
        most = [max(m, len(e)) for m, e in zip(most, sim.profiles["p"].events, strict=True)]
    views, buys, refunds = sim.profiles["p"].events
    assert most[0] <= 1 and most[1] <= 33  # 15 minutes: one view; a day: 32 buys at most
    assert all(e["eventType"] == "view" for e in views)
    assert all(to_millis(e["timestamp"]) >= t - DAY - HOUR for e in buys)
    assert refunds == []  # no refund arrived: no other event is kept for it
    assert [a.horizon for a in sim.audiences] == [15 * 60_000, DAY, None]


def test_initial_profiles_and_memberships() -> None:
    profiles = [{"_id": "p", "homeAddress": {"country": "FR"},
                 "segmentMembership": {"ups": {"us": {"status": "existing"},
                                               "fr": {"status": "realized"}}}}]
    defs = {"us": 'homeAddress.country = "US"', "fr": 'homeAddress.country = "FR"'}
    sim = Simulator(defs, profiles=profiles)
    out = sim.feed(parse_record(event("p", "2025-06-01T10:00:00Z", "x"), 1))
    # the baseline at the first instant: "us" no longer holds; then the event concerns neither
    assert [(t.audience, t.status, t.cause) for t in out] == [
        ("us", "exited", {"kind": "baseline"})]
    out = sim.feed(parse_record({"type": "profile", "profileId": "p", "ingestTime":
                                 "2025-06-01T11:00:00Z", "attributes": {"x": 1}}, 2))
    assert out == []  # neither reads x
    out = sim.feed(parse_record({"type": "profile", "profileId": "p", "ingestTime":
                                 "2025-06-01T12:00:00Z",
                                 "attributes": {"homeAddress": {"country": "DE"}}}, 3))
    assert [(t.audience, t.status) for t in out] == [("fr", "exited")]
    assert sim.members() == {"p": {"us": False, "fr": False}}


def test_existing_member_untouched_keeps_its_status() -> None:
    profiles = [{"_id": "p", "homeAddress": {"country": "US"},
                 "segmentMembership": {"ups": {"us": {
                     "status": "existing", "lastQualificationTime": "2025-05-01T00:00:00Z"}}}}]
    run = pqltools.stream({"us": 'homeAddress.country = "US"'}, [], profiles=profiles)
    assert list(run) == []
    assert run.segment_membership() == {"p": {"ups": {"us": {
        "status": "existing", "lastQualificationTime": "2025-05-01T00:00:00.000+00:00"}}}}


@pytest.mark.parametrize(("lines", "message"), [
    (['{"type": "tick", "time": "2025-06-02T00:00:00Z"}',
      '{"type": "tick", "time": "2025-06-01T00:00:00Z"}'], ("<stream>:2: records must come in "
     "time order")),
    (['{"type": "event", "profileId": "p", "event": {"eventType": "a"}}'],
     "<stream>:1: the event needs a `timestamp`"),
    ([('{"type": "event", "profileId": "p", "ingestTime": "yesterday-ish", '
      '"event": {"timestamp": 0}}')], ("<stream>:1: ingestTime: 'yesterday-ish' is not an "
     "ISO-8601 timestamp")),
    (['{"type": "bogus"}'], "<stream>:1: unknown record type 'bogus'"),
    (["", "{not json"], "<stream>:2: not JSON"),
    (['{"type": "event", "event": {"timestamp": 0}}'], ("<stream>:1: an event record needs a "
     "`profileId`")),
])
def test_input_errors_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(StreamInputError) as info:
        list(pqltools.stream({"d": "a = 1"}, read_records(lines)))
    assert str(info.value).startswith(message)


def test_durations_and_batch_times() -> None:
    assert [parse_duration(x) for x in ("24h", "90m", "2d", "1500ms", "30s", "7")] == [
        DAY, 90 * 60_000, 2 * DAY, 1500, 30_000, 7]
    assert parse_batch_time("02:30") == 9_000_000 and parse_batch_time("23:59:59") == 86_399_000
    for bad in ("24:00", "2:3:4:5", "noon"):
        with pytest.raises(ValueError):
            parse_batch_time(bad)
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.parametrize(("expression", "types"), [
    (('chain(xEvent, timestamp, [A: WHAT(eventType = "v"), B: WHAT(eventType.equals("B", '
     'false))])'), {"v", "b"}),
    ('xEvent[eventType in ["a", "b"]][timestamp occurs today]', {"a", "b"}),
    ('select A from xEvent where A.eventType = "a", B from xEvent where B.eventType = "b"',
     {"a", "b"}),
    ('xEvent[eventType = "a" or eventType = "c"]', {"a", "c"}),
    ('forall X from xEvent: X.eventType = "a"', None),
    ('xEvent.count() > 2', None),
    ('chain(xEvent, timestamp, [A: WHAT(x = 1)])', None),
    ('homeAddress.country = "US"', set()),
])
def test_event_routing(expression: str, types: set[str] | None) -> None:
    found = event_types(parse(expression))
    assert (None if found is None else set(found)) == types


def test_definition_facts() -> None:
    assert retention(parse('xEvent[timestamp occurs < 3 hours before now]')) == 3 * HOUR
    assert retention(parse('xEvent[timestamp occurs before now]')) is None
    assert retention(parse('forall X from xEvent: X.timestamp occurs today')) is None
    assert grows_with_events(parse('xEvent[eventType = "a"].count() >= 2'))
    assert not grows_with_events(parse('xEvent[eventType = "a"].count() < 2'))
    assert not grows_with_events(parse('not xEvent[eventType = "a"]'))
    assert times_only(parse('xEvent[timestamp occurs today]'))
    assert not times_only(parse('xEvent[timestamp.getMonth() = 3]'))
    assert profile_fields(parse('a.b = 1 and xEvent[c = 2]')) == {"a", "c"}
    assert profile_fields(parse('$1.a = 1')) is None
    clock = TimeDependence(parse('birthDate.getMonth() = currentMonth()'))
    assert clock.daily and clock.clock_dependent
    assert not TimeDependence(parse('a = 1')).clock_dependent


@pytest.mark.parametrize("stamp", ["2025-01-15T00:00:00Z", "2025-01-31T00:00:00Z",
                                   "2024-02-29T12:00:00Z"])
def test_timer_candidates_for_a_monthly_window(stamp: str) -> None:
    """Calendar months: the timer is the instant the interpreter's answer flips (January 31
    leaves `< 1 months before now` on March 1, when one month before now passes it)."""
    text = 'xEvent[timestamp occurs < 1 months before now]'
    timing, program = TimeDependence(parse(text)), pqltools.compile(text)
    at = to_millis(stamp)
    events = [{"timestamp": iso(at)}]
    found = timing.next_change(at, {}, events)
    assert found is not None and found.time >= shift(at, 1, "month")
    assert program.evaluate({}, events, now=found.time - 1)
    assert not program.evaluate({}, events, now=found.time)


# ---------------------------------------------------------------- the command line


def test_cli_red_shoes_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "stream", str(EXAMPLES / "red-shoes.json"), str(EXAMPLES / "red-shoes.ndjson"),
        "--until", "2025-06-02T06:00:00Z", "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert [(x["time"][:19], x["profile"], x["audience"], x["status"]) for x in lines[:-1]] == [
        ("2025-06-01T10:00:02", "alice", "red-shoes", "realized"),
        ("2025-06-01T12:00:00", "bob", "red-shoes", "realized"),
        ("2025-06-01T13:00:00", "alice", "red-shoes", "exited"),
        ("2025-06-01T15:00:00", "bob", "red-shoes", "exited"),
        ("2025-06-02T00:00:00", "bob", "big-spender-week", "realized")]
    assert lines[2]["cause"]["kind"] == "expiry"
    assert lines[-1]["segmentMembership"]["bob"]["ups"]["big-spender-week"]["status"] == \
        "realized"


def test_cli_text_and_profiles(tmp_path: Path) -> None:
    defs = tmp_path / "us.pql"
    defs.write_text('homeAddress.country = "US"')
    profiles = tmp_path / "profiles.ndjson"
    profiles.write_text(json.dumps({"_id": "p", "homeAddress": {"country": "US"},
                                    "segmentMembership": {"ups": {"us": {
                                        "status": "existing"}}}}) + "\n")
    records = tmp_path / "events.ndjson"
    records.write_text(json.dumps({"type": "profile", "profileId": "p", "ingestTime":
                                   "2025-06-01T10:00:00Z", "attributes": {"homeAddress": {
                                       "country": "CA"}}}) + "\n")
    result = CliRunner().invoke(main, ["stream", str(defs), str(records), "--profiles",
                                       str(profiles)])
    assert result.exit_code == 0, result.output
    assert "2025-06-01T10:00:00.000+00:00  p  us  exited    profile update at line 1" in \
        result.output
    assert '"status": "exited"' in result.output


def test_cli_bad_input_exits_2_with_the_line(tmp_path: Path) -> None:
    defs = tmp_path / "d.pql"
    defs.write_text("a = 1")
    records = tmp_path / "events.ndjson"
    records.write_text('{"type": "tick", "time": 5}\n{"type": "tick", "time": 1}\n')
    result = CliRunner().invoke(main, ["stream", str(defs), str(records)])
    assert result.exit_code == 2
    assert f"{records}:2: records must come in time order" in result.output
    result = CliRunner().invoke(main, ["stream", str(defs), str(records), "--batch-time", "x"])
    assert result.exit_code == 2 and "--batch-time" in result.output


def test_an_nth_unit_back_window_keeps_what_it_still_reaches() -> None:
    """``= 1 hours before now`` holds the hour before the last one (from 2 hours back, plus one
    millisecond): the events it still reaches are kept, so the exit lands when the later event
    leaves, not when the analysis's one-hour look-back would drop both."""
    at = to_millis("2025-06-01T00:00:00Z")
    text = 'xEvent[eventType = "b" and timestamp occurs = 1 hours before now]'
    records = [event("p", iso(at), "b"), event("p", iso(at + 1), "b")]
    assert retention(parse(text)) == 2 * HOUR
    got = [(t.time - at, t.status) for t in pqltools.stream({"d": text}, records,
                                                           until=at + DAY)]
    assert got == [(HOUR, "realized"), (2 * HOUR + 1, "exited")]
    program = pqltools.compile(text)
    events = [r["event"] for r in records]
    assert program.evaluate({}, events, now=at + 2 * HOUR) is True
    assert program.evaluate({}, events, now=at + 2 * HOUR + 1) is False
