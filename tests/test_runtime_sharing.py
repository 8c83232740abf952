"""Work derived from a profile's events is done once per profile, however many tests read it.

Timestamps are parsed once per event for all ``occurs`` tests and ``chain`` terms of all segments
evaluated on a profile; a chain's events are stamped and sorted once per timestamp field.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from pqltools.runtime import compiler
from pqltools.runtime.membership import NAMESPACE, segment

NOW = "2025-06-15T12:00:00Z"
EVENTS = [
    {"eventType": "view", "timestamp": "2025-06-10T10:00:00Z"},
    {"eventType": "cart", "timestamp": "2025-06-11T10:00:00Z"},
    {"eventType": "buy", "timestamp": "2025-06-12T10:00:00Z"},
    {"eventType": "view", "timestamp": "2025-05-01T10:00:00Z"},
]
SEGMENTS = {
    "recent": 'xEvent[timestamp occurs < 7 days before now].count() >= 3',
    "recent-views": 'xEvent[eventType = "view" and timestamp occurs < 30 days before now]'
                    '.count() = 1',
    "funnel": 'chain(xEvent, timestamp, [A: WHAT(eventType = "view") WHEN(< 30 days before now),'
              ' B: WHAT(eventType = "cart"), C: WHAT(eventType = "buy")])',
    "funnel-2": 'chain(xEvent, timestamp, [A: WHAT(eventType = "cart"), '
                'B: WHAT(eventType = "buy")]) and inSegment("funnel")',
}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts every timestamp string the compiled programs parse (both parsing paths)."""
    seen: Counter[str] = Counter()
    real = compiler.to_millis

    class CountingDatetime(datetime):
        @classmethod
        def fromisoformat(cls, text: str) -> datetime:  # type: ignore[override]
            seen[text] += 1
            return datetime.fromisoformat(text)

    def counting_to_millis(v: Any) -> int:
        if type(v) is str:
            seen[v] += 1
        return real(v)

    monkeypatch.setattr(compiler, "datetime", CountingDatetime)
    monkeypatch.setattr(compiler, "to_millis", counting_to_millis)
    return seen


def test_each_timestamp_parsed_once_per_profile(parses: Counter[str]) -> None:
    profiles = [({"_id": "a"}, EVENTS), ({"_id": "b"}, list(reversed(EVENTS)))]
    results = list(segment(SEGMENTS, profiles, now=NOW))
    statuses = [{k: v["status"] for k, v in r[NAMESPACE].items()} for r in results]
    assert statuses == [dict.fromkeys(SEGMENTS, "realized")] * 2
    # two profiles, four segments: each distinct timestamp parsed once per profile
    assert parses == Counter({e["timestamp"]: 2 for e in EVENTS})


def test_chain_sorts_once_per_profile_and_field(monkeypatch: pytest.MonkeyPatch) -> None:
    sorts: list[int] = []
    original_first = compiler._first

    def counting_first(pair: tuple[int, Any]) -> int:
        sorts.append(pair[0])
        return original_first(pair)

    monkeypatch.setattr(compiler, "_first", counting_first)
    program_a = compiler.compile(SEGMENTS["funnel"])
    program_b = compiler.compile(SEGMENTS["funnel-2"].split(" and inSegment")[0])
    ctx = compiler.Context({"_id": "a"}, EVENTS, compiler.make_clock(NOW))
    assert program_a.evaluate_in(ctx) and program_b.evaluate_in(ctx)
    assert len(sorts) == len(EVENTS)  # one sort of the four events, shared by both chains


def test_bound_evaluator_forgets_the_previous_profile() -> None:
    evaluate = compiler.compile(SEGMENTS["funnel"]).bind(now=NOW)
    later = [dict(e, timestamp=e["timestamp"].replace("T10:", "T11:")) for e in EVENTS]
    assert evaluate({}, EVENTS) is True
    assert evaluate({}, [EVENTS[2], EVENTS[1], EVENTS[0]]) is True
    assert evaluate({}, [dict(EVENTS[0], eventType="buy")]) is False
    assert evaluate({}, later) is True
    assert evaluate({}, []) is False
