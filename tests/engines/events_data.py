"""Profiles and events for the separate-events tests: the same data nested and apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOW = "2025-06-15T12:00:00Z"


def _buy(day: int, **extra: Any) -> dict[str, Any]:
    return {"eventType": "commerce.purchases", "timestamp": f"2025-06-{day:02d}T10:00:00Z",
            **extra}


def _view(day: int) -> dict[str, Any]:
    return {"eventType": "web.webpagedetails.pageViews",
            "timestamp": f"2025-06-{day:02d}T10:00:00Z"}


#: (profile, its own events, the events kept apart); ids by every rule of ``profile_id``
PROFILES: list[tuple[dict[str, Any], list[Any], list[Any]]] = [
    ({"_id": "a", "homeAddress": {"countryCode": "US"}}, [], [_buy(10), _buy(11)]),
    ({"_id": "b", "homeAddress": {"countryCode": "US"}}, [_buy(12)], [_buy(13), _view(13)]),
    ({"personID": 7, "homeAddress": {"countryCode": "FR"}}, [], [_buy(12), _buy(14)]),
    ({"identityMap": {"ECID": [{"id": "x1"}, {"id": "x2", "primary": True}]},
      "homeAddress": {"countryCode": "US"}}, [], [_buy(13), _buy(14, late={"k": 1})]),
    ({"_id": "quiet", "homeAddress": {"countryCode": "US"}}, [], []),
    ({"_id": "old", "homeAddress": {"countryCode": "US"}}, [], [_buy(1), _view(14)]),
]
IDS = ["a", "b", "7", "x2", "quiet", "old"]
#: events whose identity matches no profile, or that have none
STRAY = [{"profileId": "ghost", **_buy(14)}, {"profileId": "ghost", **_buy(14)}, _buy(14)]

DEFINITIONS = {
    "buyers": ('xEvent[eventType = "commerce.purchases" and timestamp occurs < 30 days before '
               "now].count() >= 2"),
    "us-buyers": 'inSegment("buyers") and homeAddress.countryCode = "US"',
    "late": "xEvent[late.k = 1].count() >= 1",
    "viewers": 'xEvent[eventType = "web.webpagedetails.pageViews"].count() >= 1',
    "no-events": "xEvent.count() = 0",
}
#: who qualifies, by hand (the nested run must say the same)
EXPECTED = {"buyers": {"a", "b", "7", "x2"}, "us-buyers": {"a", "b", "x2"}, "late": {"x2"},
            "viewers": {"b", "old"}, "no-events": {"quiet"}}


def owner(index: int) -> str:
    return IDS[index]


def nested_pairs() -> list[tuple[dict[str, Any], list[Any]]]:
    """Every profile with all its events, as the interpreter takes them."""
    return [(dict(p), own + apart) for p, own, apart in PROFILES]


def separate_events(pad: int = 0) -> list[dict[str, Any]]:
    """The events kept apart, with their owner's id (stray ones interleaved), after ``pad``
    stray page views: the key ``late`` is first seen after them (DuckDB samples 20,480 lines)."""
    out: list[dict[str, Any]] = [{"profileId": "ghost", **_view(1)}] * pad + [STRAY[0]]
    for index, (_, _, apart) in enumerate(PROFILES):
        out += [{"profileId": owner(index), **e} for e in apart]
    out += STRAY[1:]
    return out


def write_ndjson(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_files(tmp: Path, pad: int = 0) -> dict[str, Path]:
    """``nested`` (profiles with all their events), ``profiles`` (their own events only) and
    ``events`` (the rest), as NDJSON."""
    return {
        "nested": write_ndjson(tmp / "nested.ndjson", [{**p, "events": e}
                                                       for p, e in nested_pairs()]),
        "profiles": write_ndjson(tmp / "profiles.ndjson",
                                 [{**p, "events": own} if own else dict(p)
                                  for p, own, _ in PROFILES]),
        "events": write_ndjson(tmp / "events.ndjson", separate_events(pad)),
    }


def qualifying(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Segment id -> ids of the profiles whose record says realized (in IDS order)."""
    out: dict[str, set[str]] = {k: set() for k in DEFINITIONS}
    for pid, record in zip(IDS, records):
        for seg, entry in record.get("ups", {}).items():
            if entry.get("status") in ("realized", "existing"):
                out[seg].add(pid)
    return out
