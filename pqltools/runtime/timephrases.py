"""Time in the interpreter: timestamps as UTC epoch milliseconds, intervals, calendar arithmetic.

Every instant is an ``int`` of milliseconds since 1970-01-01T00:00Z, so that comparing an event
time with a window is two integer comparisons. Units up to ``week`` are fixed durations; ``month``
and longer move along the calendar (2024-01-31 + 1 month = 2024-02-29). Weeks start on Monday
(ISO 8601). See docs/semantics.md, "Time".
"""

from __future__ import annotations

import calendar
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pqltools.records import record
from pqltools.runtime.values import type_name

__all__ = [
    "UNIT_MILLIS",
    "Interval",
    "TimestampError",
    "Window",
    "calendar_period",
    "day_of",
    "from_millis",
    "iso",
    "keyword_interval",
    "relative_window",
    "shift",
    "to_millis",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
#: Fixed-length units.
UNIT_MILLIS = {
    "millisecond": 1, "second": SECOND, "minute": MINUTE, "hour": HOUR, "day": DAY,
    "week": 7 * DAY,
}
#: Calendar units, as a number of months.
UNIT_MONTHS = {"month": 1, "year": 12, "decade": 120, "century": 1200, "millennium": 12000}
#: Beyond any timestamp a profile can hold: the open ends of a window.
NEG_INF = -(2**62)
POS_INF = 2**62
#: Python's datetime range, in milliseconds: calendar arithmetic saturates at these ends.
_MIN_MS = round((datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)
_MAX_MS = round((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)


class TimestampError(ValueError):
    """A value that should be a timestamp is not one (the message says why)."""


@record(frozen=True, slots=True)
class Interval:
    """A period of time ``[start, end)`` in epoch milliseconds: a day, a month, ``date(...)``."""

    start: int
    end: int

    def __str__(self) -> str:
        if self.end - self.start == DAY and self.start % DAY == 0:
            return from_millis(self.start).date().isoformat()
        return f"[{iso(self.start)}, {iso(self.end)})"


#: A window is a tuple of closed ``(low, high)`` ranges of epoch milliseconds.
Window = tuple[tuple[int, int], ...]


def to_millis(v: Any) -> int:
    """Epoch milliseconds of a timestamp: an ISO-8601 string (UTC if no offset) or epoch millis.

    Raises :class:`TimestampError` for anything else.
    """
    t = type(v)
    if t is int:
        return v  # type: ignore[no-any-return]
    if t is str:
        try:
            parsed = datetime.fromisoformat(v)
        except ValueError:
            raise TimestampError(f"{v!r} is not an ISO-8601 timestamp") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return round(parsed.timestamp() * 1000)
    if t is float:
        if not math.isfinite(v):
            raise TimestampError(f"{v!r} is not a timestamp")
        return int(v)
    if isinstance(v, Interval):
        return v.start
    raise TimestampError(f"a {type_name(v)} is not a timestamp (expected an ISO-8601 string or "
                         "epoch milliseconds)")


def from_millis(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds (clamped to datetime's range)."""
    return _EPOCH + timedelta(milliseconds=max(_MIN_MS, min(_MAX_MS, ms)))


def iso(ms: int) -> str:
    """``2024-05-01T12:00:00.000+00:00``: the ISO-8601 text of epoch milliseconds, UTC."""
    if type(ms) is int and 0 <= ms <= _MAX_MS:  # the usual case, without a datetime
        seconds, millis = divmod(ms, 1000)
        y, mo, d, h, mi, s = time.gmtime(seconds)[:6]
        return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{millis:03d}+00:00"
    return from_millis(ms).isoformat(timespec="milliseconds")


def _add_months(ms: int, months: int) -> int:
    dt = from_millis(ms)
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(total, 12)
    if year < 1:
        return _MIN_MS
    if year > 9999:
        return _MAX_MS
    month += 1
    # clamp the day: Jan 31 + 1 month is the last day of February (December 9999 included)
    last_day = calendar.monthrange(year, month)[1]
    moved = dt.replace(year=year, month=month, day=min(dt.day, last_day))
    return round((moved - _EPOCH).total_seconds() * 1000)


def shift(ms: int, amount: int, unit: str) -> int:
    """``ms`` moved by ``amount`` units (negative: back in time), calendar-aware from months up."""
    fixed = UNIT_MILLIS.get(unit)
    if fixed is not None:
        return ms + amount * fixed
    return _add_months(ms, amount * UNIT_MONTHS[unit])


def _truncate(ms: int, unit: str) -> int:
    fixed = UNIT_MILLIS.get(unit)
    if fixed is not None and unit != "week":
        return ms - ms % fixed
    dt = from_millis(ms)
    day_start = datetime(dt.year, dt.month, dt.day, tzinfo=UTC)
    if unit == "week":
        start = day_start - timedelta(days=dt.weekday())
    elif unit == "month":
        start = day_start.replace(day=1)
    else:
        span = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}[unit]
        start = datetime(max(1, dt.year - dt.year % span), 1, 1, tzinfo=UTC)
    return round((start - _EPOCH).total_seconds() * 1000)


def calendar_period(now: int, relation: str, unit: str) -> Interval:
    """``this``/``last``/``next`` UNIT: the whole calendar period around ``now`` (UTC)."""
    start = _truncate(now, unit)
    offset = {"this": 0, "last": -1, "next": 1}[relation]
    start = shift(start, offset, unit)
    return Interval(start, shift(start, 1, unit))


def day_of(ms: int) -> Interval:
    """The UTC day holding ``ms``."""
    start = ms - ms % DAY
    return Interval(start, start + DAY)


def keyword_interval(now: int, word: str) -> Interval:
    """``now`` (a one-millisecond interval) or ``today``/``yesterday``/``tomorrow`` (UTC days)."""
    if word == "now":
        return Interval(now, now + 1)
    today = day_of(now)
    offset = {"today": 0, "yesterday": -DAY, "tomorrow": DAY}[word]
    return Interval(today.start + offset, today.end + offset)


def at_window(ref: Interval) -> Window:
    """``occurs [on] REF``: within the reference."""
    return ((ref.start, ref.end - 1),)


def between_window(start: Interval, end: Interval) -> Window:
    """``occurs between A and B``: from the start of A to the end of B, both included."""
    return ((start.start, end.end - 1),)


def relative_window(comparator: str | None, amount: int | None, unit: str | None,
                    direction: str, ref: Interval, instant: bool) -> Window:
    """The window of ``[CMP N UNIT] before|after|from REF`` (docs/semantics.md, "occurs").

    Without an amount: ``before`` is strictly before the reference, ``after`` strictly after it,
    ``from`` at or after its start. With one, the distance is measured from the start of the
    reference (``before``, ``from``) or its end (``after``); an instant reference (``now``, a
    timestamp) includes distance 0, a period (``today``) excludes itself for before/after.
    """
    if comparator is None or amount is None or unit is None:
        if direction == "before":
            return ((NEG_INF, ref.start - 1),)
        if direction == "after":
            return ((ref.end, POS_INF),)
        return ((ref.start, POS_INF),)
    if direction == "before":
        anchor = ref.start
        nearest = anchor if instant else anchor - 1
        edge = shift(anchor, -amount, unit)
        beyond = shift(anchor, -(amount + 1), unit)
        ranges = {
            "<": ((edge + 1, nearest),),
            "<=": ((edge, nearest),),
            ">": ((NEG_INF, edge - 1),),
            ">=": ((NEG_INF, edge),),
            "=": ((beyond + 1, edge),),
            "!=": ((NEG_INF, beyond), (edge + 1, nearest)),
        }
    else:
        anchor = ref.start if (instant or direction == "from") else ref.end
        edge = shift(anchor, amount, unit)
        beyond = shift(anchor, amount + 1, unit)
        ranges = {
            "<": ((anchor, edge - 1),),
            "<=": ((anchor, edge),),
            ">": ((edge + 1, POS_INF),),
            ">=": ((edge, POS_INF),),
            "=": ((edge, beyond - 1),),
            "!=": ((anchor, edge - 1), (beyond, POS_INF)),
        }
    return tuple((lo, hi) for lo, hi in ranges[comparator] if lo <= hi)
