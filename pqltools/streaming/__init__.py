"""Streaming segmentation, simulated: membership that changes as events arrive and as windows
expire (docs/streaming.md).

* :func:`stream` — run definitions over an ordered stream of records; an iterator of
  :class:`Transition` (``realized``/``exited``, the exact time, and why);
  :meth:`StreamRun.segment_membership` gives the final memberships.
* :class:`Simulator` — the same, driven record by record (``feed``, ``advance``, ``members``).
* :mod:`.records` — the NDJSON input; :mod:`.timing` — when windows expire;
  :mod:`.relevance` — which events can concern which definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pqltools.definitions import Definition
from pqltools.runtime.timephrases import DAY, TimestampError, to_millis
from pqltools.streaming.records import (
    Record,
    StreamInputError,
    parse_duration,
    parse_record,
    read_records,
)
from pqltools.streaming.simulator import Audience, Simulator, Transition, retention

__all__ = [
    "Audience",
    "Record",
    "Simulator",
    "StreamInputError",
    "StreamRun",
    "Transition",
    "parse_batch_time",
    "parse_duration",
    "parse_record",
    "read_records",
    "retention",
    "stream",
]


class StreamRun:
    """The iterator :func:`stream` returns: transitions in time order; the simulator (and the
    final memberships) stay readable after it is exhausted."""

    def __init__(self, simulator: Simulator, records: Iterable[Record], until: int | None,
                 source: str = "<stream>"):
        self.simulator = simulator
        self.source = source
        self._it = simulator.run(records, until)

    def __iter__(self) -> Iterator[Transition]:
        return self

    def __next__(self) -> Transition:
        try:
            return next(self._it)
        except StreamInputError as exc:
            if exc.path == "<stream>":
                exc.path = self.source  # errors of the simulator name the input file too
            raise

    def segment_membership(self) -> dict[str, dict[str, Any]]:
        """Profile id -> its ``segmentMembership`` at the current simulated time."""
        return self.simulator.segment_membership()


def parse_batch_time(text: str | int) -> int:
    """``"02:30"`` (UTC, ``HH:MM[:SS]``) or milliseconds after midnight -> ms after midnight."""
    if isinstance(text, int):
        return text % DAY
    parts = text.strip().split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a time of day (HH:MM or HH:MM:SS, UTC)")
    h, m, s = (int(p) for p in parts + ["0"] * (3 - len(parts)))
    if h > 23 or m > 59 or s > 59:
        raise ValueError(f"{text!r} is not a time of day (HH:MM or HH:MM:SS, UTC)")
    return ((h * 60 + m) * 60 + s) * 1000


def _records(source: str | Path | Iterable[Record | Mapping[str, Any]]) -> Iterator[Record]:
    if isinstance(source, (str, Path)):
        yield from read_records(source)
        return
    for index, item in enumerate(source, 1):
        yield item if isinstance(item, Record) else parse_record(dict(item), index)


def stream(definitions: Iterable[Definition] | Mapping[str, str],
           records: str | Path | Iterable[Record | Mapping[str, Any]], *,
           profiles: Iterable[Mapping[str, Any]] = (),
           memberships: Mapping[str, Mapping[str, Any]] | None = None,
           until: str | int | datetime | None = None, rules: str = "2025",
           batch_time: str | int = "00:00", allowed_lateness: str | int = "24h",
           merge_policy_active_on_edge: bool | None = None,
           id_key: str | None = None) -> StreamRun:
    """Simulate streaming segmentation; iterate the result for the membership transitions.

    ``definitions``: segment definitions (``load_definitions``) or a mapping id -> PQL text;
    those ``classify`` (with ``rules``) finds streaming-eligible are evaluated as events arrive,
    the others at the daily ``batch_time`` (UTC ``"HH:MM"``). ``records``: an NDJSON path or
    record objects (:mod:`pqltools.streaming.records`), in ingest-time order. ``profiles``: initial
    profiles (their ``segmentMembership`` are the initial memberships unless ``memberships``
    maps a profile id to one). ``until``: after the last record, move the clock to this time so
    that the expiries due by then happen. ``allowed_lateness``: events older than their ingest
    time by more than this (``"24h"``, or ms) are left to batch evaluation.

    Raises :class:`StreamInputError` for unusable input (naming its line) and the usual
    ``PQLSyntaxError``/``PQLValidationError`` for definitions that are not valid PQL.
    """
    end: int | None = None
    if until is not None:
        try:
            end = round(until.timestamp() * 1000) if isinstance(until, datetime) \
                else to_millis(until)
        except TimestampError as exc:
            raise StreamInputError(f"until: {exc}") from None
    simulator = Simulator(definitions, rules=rules, batch_time=parse_batch_time(batch_time),
                          allowed_lateness=parse_duration(allowed_lateness), profiles=profiles,
                          memberships=memberships,
                          merge_policy_active_on_edge=merge_policy_active_on_edge, id_key=id_key)
    source = str(records) if isinstance(records, (str, Path)) else "<stream>"
    return StreamRun(simulator, _records(records), end, source)
