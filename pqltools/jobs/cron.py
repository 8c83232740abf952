"""Checking a schedule's cron expression (Adobe's Quartz-style format) with cronsim.

Adobe's schedules take 6 or 7 fields: seconds, minutes, hours, day of month, month, day of week
(1-7, SUN=1) and an optional year, with ``?`` for "no specific value" in one of the two day
fields. The parsing and the evaluation are cronsim's (a maintained, dependency-free parser that
reads the same seconds-first 6-field layout and supports ``L``, ``LW`` and ``#``); this module
only translates what Quartz spells differently (``?``, day-of-week numbering, ``nW``, the year
field) and points each problem at the field that has it. On top of parsing, the schedule must
fire at most once in any 24 hours (Adobe: "Jobs can only be scheduled to run once a day"); that
is checked on the next firings cronsim computes.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

__all__ = ["FIELD_NAMES", "check_cron", "next_runs", "to_cronsim"]

FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_CRONSIM_FIELDS = {"second": 0, "minute": 1, "hour": 2, "day-of-month": 3, "month": 4,
                   "day-of-week": 5}
#: Where the firing-frequency check starts; any fixed instant works, a fixed one keeps the
#: result reproducible.
_ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
_FIRINGS_CHECKED = 60

Problem = tuple[str, str, tuple[int, int]]  # message, code, (start, end) inside the expression


class _Bad(Exception):
    def __init__(self, field: int, message: str) -> None:
        super().__init__(message)
        self.field = field


def _fields(expr: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", expr)]


def _dow_value(token: str) -> str:
    if token.isdigit():
        number = int(token)
        if not 1 <= number <= 7:
            raise _Bad(5, f"day-of-week {number} is out of range: Adobe's cron numbers the days "
                       "1-7 (SUN=1) or names them SUN-SAT")
        return str(number - 1)
    return token


def _dow_term(term: str) -> str:
    if term in ("*", "?"):
        return "*"
    m = re.fullmatch(r"(\w+?)(L|#\d+)", term)
    if m:
        return _dow_value(m.group(1)) + m.group(2)
    m = re.fullmatch(r"(\*|\w+)(?:-(\w+))?(/\d+)?", term)
    if m:
        start = m.group(1) if m.group(1) == "*" else _dow_value(m.group(1))
        end = f"-{_dow_value(m.group(2))}" if m.group(2) else ""
        return start + end + (m.group(3) or "")
    return term  # cronsim says what is wrong with it


def _dom_term(term: str) -> str:
    if term == "?":
        return "*"
    m = re.fullmatch(r"(\d+)W", term)  # nearest weekday: same firing count as the day itself
    return m.group(1) if m else term


def _check_year(text: str) -> None:
    for term in text.split(","):
        m = re.fullmatch(r"(\*|\d{4})(?:-(\d{4}))?(?:/(\d+))?", term)
        years = [int(y) for y in (m.groups()[:2] if m else ()) if y and y != "*"]
        if not m or any(not 1970 <= y <= 2099 for y in years) or (
                len(years) == 2 and years[0] > years[1]) or m.group(3) == "0":
            raise _Bad(6, f"bad year {term!r}: years are 1970-2099, with , - * /")


def to_cronsim(expr: str) -> str:
    """The 6-field cronsim expression for an Adobe (Quartz) one; raises ValueError if malformed.

    The year field, when present, is checked and dropped (cronsim has none).
    """
    problems = check_cron(expr, frequency=False)
    if problems:
        raise ValueError(problems[0][0])
    return _translate([f[0] for f in _fields(expr.upper())])


def _translate(parts: list[str]) -> str:
    dom = ",".join(_dom_term(t) for t in parts[3].split(","))
    dow = ",".join(_dow_term(t) for t in parts[5].split(","))
    return " ".join([parts[0], parts[1], parts[2], dom, parts[4], dow])


def check_cron(expr: str, *, frequency: bool = True) -> list[Problem]:
    """Problems of a schedule's cron expression, each with its place inside ``expr``.

    ``PQL503``: the expression is malformed; ``PQL504``: it fires more than once in 24 hours.
    """
    from cronsim import CronSim, CronSimError

    fields = _fields(expr)
    whole = (0, max(1, len(expr)))
    if len(fields) == 5:
        minute, hour, dom, month, dow = (f[0] for f in fields)
        suggestion = (f"0 {minute} {hour} {dom} {month} ?" if dow in ("*", "?")
                      else f"0 {minute} {hour} ? {month} {dow}")
        return [((f"5 fields: Adobe's schedules use the 6- or 7-field Quartz format, seconds "
                 f"first (did you mean {suggestion!r}?)"), "PQL503", whole)]
    if len(fields) not in (6, 7):
        return [((f"{len(fields)} fields: Adobe's schedules use 6 or 7 (seconds, minutes, hours, "
                 "day of month, month, day of week, optional year)"), "PQL503", whole)]
    parts = [f[0].upper() for f in fields]

    def at(index: int) -> tuple[int, int]:
        return fields[index][1], fields[index][2]

    if parts[3] == "?" and parts[5] == "?":
        return [("`?` in both day-of-month and day-of-week: give a value in one of them",
                 "PQL503", at(5))]
    if parts[3] != "?" and parts[5] != "?":
        return [(("one of day-of-month and day-of-week must be `?` in Adobe's cron format "
                 "(e.g. `0 0 1 * * ?`)"), "PQL503", at(5))]
    for index in (0, 1, 2, 3, 4):
        if "?" in parts[index] and index != 3:
            return [((f"`?` is only allowed in day-of-month and day-of-week, not in "
                     f"{FIELD_NAMES[index]}"), "PQL503", at(index))]
    try:
        if len(parts) == 7:
            _check_year(parts[6])
        translated = _translate(parts)
        runs = CronSim(translated, _ORIGIN)
    except _Bad as bad:
        return [(str(bad), "PQL503", at(bad.field))]
    except CronSimError as exc:
        name = str(exc).removeprefix("Bad ").strip()
        field: int | None = _CRONSIM_FIELDS.get(name)
        where = at(field) if field is not None else whole
        shown = f" {fields[field][0]!r}" if field is not None else ""
        return [((f"bad {FIELD_NAMES[field] if field is not None else 'expression'}{shown} "
                 f"({exc})"), "PQL503", where)]
    if not frequency:
        return []
    try:
        times = [next(runs) for _ in range(_FIRINGS_CHECKED)]
    except StopIteration:
        return [("the schedule never fires", "PQL503", whole)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    shortest = min(gaps) if gaps else timedelta(days=1)
    if shortest < timedelta(hours=24):
        return [((f"fires more than once a day (runs as close as {_duration(shortest)} apart): "
                 "Adobe runs a schedule at most once in 24 hours"), "PQL504", whole)]
    return []


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def next_runs(expr: str, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` firings of an Adobe cron expression after ``start`` (UTC)."""
    from cronsim import CronSim

    runs = CronSim(to_cronsim(expr), start)
    return [next(runs) for _ in range(count)]
