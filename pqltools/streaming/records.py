"""The simulator's input: an ordered stream of records, one JSON object per line (NDJSON).

Three kinds of record (``type`` may be left out when the keys make it plain)::

    {"type": "event", "profileId": "p1", "ingestTime": "2025-06-01T10:00:02Z",
     "event": {"eventType": "commerce.purchases", "timestamp": "2025-06-01T10:00:00Z", ...}}
    {"type": "profile", "profileId": "p1", "ingestTime": "2025-06-01T11:00:00Z",
     "attributes": {"homeAddress": {"country": "US"}}}
    {"type": "tick", "time": "2025-06-01T13:00:00Z"}

* ``ingestTime`` (alias ``time``) is when the record reaches the simulator; records must come in
  non-decreasing ingest time. An event without one arrives at its own ``timestamp``.
* The event's ``timestamp`` is its event time (it may be earlier than the ingest time: a late
  event, or later).
* ``attributes`` is deep-merged into the profile: objects merge, ``null`` removes a field,
  anything else replaces it.
* A ``tick`` only moves the clock (timers and batch runs due by then fire).

Times are ISO-8601 text (UTC when no offset is given) or epoch milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pqltools.errors import Diagnostic, PQLError, Severity, Span
from pqltools.runtime.timephrases import TimestampError, to_millis

__all__ = ["Record", "StreamInputError", "parse_duration", "parse_record", "read_records"]

#: The code of stream input errors: invalid profile data (pqltools.codes).
STREAM_INPUT_CODE = "PQL094"
_KINDS = ("event", "profile", "tick")


class StreamInputError(PQLError):
    """The stream input is unusable; the message names the file and line when known."""

    def __init__(self, message: str, line: int | None = None, path: str = "<stream>") -> None:
        self.path = path
        self.line = line
        span = Span(0, 0, line or 1, 1, line or 1, 1)
        super().__init__([Diagnostic(STREAM_INPUT_CODE, message, Severity.ERROR, span)])

    def _summary(self) -> str:
        message = self.diagnostics[0].message
        return f"{self.path}:{self.line}: {message}" if self.line else message

    def __str__(self) -> str:
        return self._summary()  # the path may be filled in after the error was raised


@dataclass(frozen=True, slots=True)
class Record:
    """One input record: ``kind`` (event/profile/tick), ``time`` (ingest time, epoch ms), the
    ``profile`` id, the ``payload`` (the event, or the attribute update) and its ``line``."""

    kind: str
    time: int
    profile: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    line: int | None = None


def _time(value: Any, what: str, line: int | None) -> int:
    try:
        if isinstance(value, bool):
            raise TimestampError("a boolean is not a timestamp")
        return to_millis(value)
    except TimestampError as exc:
        raise StreamInputError(f"{what}: {exc}", line) from None


def parse_record(obj: Any, line: int | None = None) -> Record:
    """A :class:`Record` from one decoded JSON object (see the module docstring)."""
    if not isinstance(obj, dict):
        raise StreamInputError("a record must be a JSON object", line)
    kind = obj.get("type")
    if kind is None:
        kind = "event" if "event" in obj else "profile" if "attributes" in obj else \
            "tick" if "time" in obj else None
    if kind not in _KINDS:
        raise StreamInputError(f"unknown record type {kind!r} (expected event, profile or "
                               "tick)", line)
    when = obj.get("ingestTime", obj.get("time"))
    if kind == "tick":
        if when is None:
            raise StreamInputError("a tick needs a `time`", line)
        return Record("tick", _time(when, "tick time", line), line=line)
    pid = obj.get("profileId", obj.get("profile"))
    if isinstance(pid, int) and not isinstance(pid, bool):
        pid = str(pid)
    if not isinstance(pid, str) or not pid:
        raise StreamInputError(f"an {kind} record needs a `profileId` (a string)", line)
    if kind == "profile":
        attributes = obj.get("attributes")
        if not isinstance(attributes, dict):
            raise StreamInputError("a profile record needs `attributes` (a JSON object)", line)
        if when is None:
            raise StreamInputError("a profile record needs an `ingestTime`", line)
        return Record("profile", _time(when, "ingestTime", line), pid, attributes, line)
    event = obj.get("event")
    if not isinstance(event, dict):
        raise StreamInputError("an event record needs `event` (a JSON object)", line)
    if "timestamp" not in event:
        raise StreamInputError("the event needs a `timestamp` (its event time)", line)
    event_time = _time(event["timestamp"], "event timestamp", line)
    ingest = event_time if when is None else _time(when, "ingestTime", line)
    return Record("event", ingest, pid, event, line)


def read_records(source: str | Path | Iterable[str], *, path: str | None = None
                 ) -> Iterator[Record]:
    """Records from an NDJSON file (a path) or from lines of text; blank lines are skipped."""
    if isinstance(source, (str, Path)):
        name = path or str(source)
        try:
            lines: Iterable[str] = Path(source).read_text("utf-8").splitlines()
        except OSError as exc:
            raise StreamInputError(f"cannot read {name}: {exc.strerror}", path=name) from None
    else:
        name, lines = path or "<stream>", source
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StreamInputError(f"not JSON: {exc.msg} (column {exc.colno})", number,
                                   name) from None
        try:
            yield parse_record(obj, number)
        except StreamInputError as exc:
            exc.path = name
            raise


_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration(text: str | int) -> int:
    """``"24h"``, ``"90m"``, ``"2d"``, ``"1500ms"`` or a number of milliseconds -> ms."""
    if isinstance(text, int):
        return text
    raw = text.strip().lower()
    for unit in ("ms", "s", "m", "h", "d"):
        if raw.endswith(unit) and raw[:-len(unit)].strip().isdigit():
            return int(raw[:-len(unit)]) * _UNITS[unit]
    if raw.isdigit():
        return int(raw)
    raise ValueError(f"{text!r} is not a duration (examples: 24h, 90m, 2d, 1500ms)")
