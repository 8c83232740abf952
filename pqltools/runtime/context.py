"""The state one evaluation reads: the profile, its events, the clock, variables and elements."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pqltools.errors import NO_SPAN, Diagnostic, PQLEvaluationError, Severity, Span
from pqltools.runtime.timephrases import TimestampError, to_millis

__all__ = ["Clock", "Context", "evaluation_error", "make_clock"]


class Clock:
    """The evaluation time ``now`` in epoch milliseconds.

    Compiled time windows that depend only on the clock are cached against the clock object, so
    one clock shared by a million evaluations computes ``30 days before now`` once.
    """

    __slots__ = ("now",)

    def __init__(self, now: int) -> None:
        self.now = now


#: Clocks made from the same ``now`` value, so that evaluations given the same time share the
#: clock-cached time windows (``Program.evaluate(..., now="2025-06-15T12:00:00Z")`` in a loop).
_CLOCKS: dict[str | datetime | int, Clock] = {}
_CLOCKS_SIZE = 64


def make_clock(now: str | datetime | int | Clock | None) -> Clock:
    """A clock from an ISO-8601 string, an aware datetime, epoch millis, or None (current time)."""
    if isinstance(now, Clock):
        return now
    if now is None:
        return _new_clock(datetime.now(UTC))
    if isinstance(now, bool) or not isinstance(now, (str, int, datetime)):
        return _new_clock(now)  # unusual input: no caching, the error says what is wrong
    clock = _CLOCKS.get(now)
    if clock is None:
        clock = _new_clock(now)
        if len(_CLOCKS) >= _CLOCKS_SIZE:
            _CLOCKS.clear()
        _CLOCKS[now] = clock
    return clock


def _new_clock(now: str | datetime | int) -> Clock:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise evaluation_error("`now` must be timezone-aware (for example UTC), "
                                   f"got the naive datetime {now.isoformat()}")
        return Clock(round(now.timestamp() * 1000))
    try:
        return Clock(to_millis(now))
    except TimestampError as exc:
        raise evaluation_error(f"`now`: {exc}") from None


class Context:
    """Mutable per-evaluation state. ``vars`` and ``elems`` are saved and restored by binders.

    ``segments`` overrides stored membership for ``inSegment`` (segment-of-segments within one
    :func:`~pqltools.runtime.membership.segment` run).

    One context serves every program evaluated on the same profile (all segments of a
    membership run), so what is derived from the profile's events is derived once: ``stamps``
    holds the epoch milliseconds of each timestamp string already parsed, ``chains`` the events
    of a ``chain`` stamped and sorted by its timestamp field.
    """

    __slots__ = ("chains", "checked", "clock", "elems", "events", "profile", "segments", "stamps",
                 "vars")

    def __init__(self, profile: dict[str, Any], events: Any, clock: Clock,
                 segments: Mapping[str, bool] | None = None) -> None:
        self.profile = profile
        #: the events as given; checked (a list of objects) the first time ``xEvent`` is read
        self.events = events
        self.checked = False
        self.clock = clock
        self.vars: dict[str, Any] = {}
        self.elems: list[Any] = []
        self.segments = segments
        self.stamps: dict[str, int] | None = None
        self.chains: dict[tuple[str, ...], Any] | None = None


def evaluation_error(message: str, span: Span = NO_SPAN, text: str | None = None,
                     code: str = "PQL400") -> PQLEvaluationError:
    """A :class:`PQLEvaluationError` with one diagnostic at ``span``."""
    return PQLEvaluationError([Diagnostic(code, message, Severity.ERROR, span)], text)
