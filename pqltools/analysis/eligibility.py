"""Which evaluation method (streaming, edge, batch) a segment definition qualifies for, and why.

:func:`classify` answers locally what Adobe decides server-side. It extracts *facts* from the
syntax tree once (event references with their time windows from :mod:`.windows`, ``inSegment``
references, AAM and multi-entity references, "ignore year" patterns, map lookups), then runs a
*rule set*: ``"2025"`` (reference §13.1, the rules in force since May 20, 2025) or ``"legacy"``
(§13.2). Every rule is an object with a stable id, a summary, the documents it comes from and a
check; each check returns :class:`Reason` objects that exclude methods, support them, or note an
assumption. The result, :class:`Eligibility`, holds the eligible methods (batch always), the
method Adobe would use, and every reason with the span of the expression that caused it.

Where Adobe's documents contradict each other, each rule set picks one side and its reasons say
which document they follow; docs/eligibility.md lists the choices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pqltools.analysis.scope import resolve
from pqltools.analysis.windows import (
    DAY_MS,
    EventReference,
    counted_event_references,
)
from pqltools.definitions import Definition, load_definitions
from pqltools.errors import Diagnostic, PQLError, Severity, Span
from pqltools.syntax.ast import Call, MethodCall, Node, Param, String, dotted_path
from pqltools.syntax.parser import parse

__all__ = [
    "ELIGIBILITY_CODE",
    "EVALUATION_METHODS",
    "RULE_SETS",
    "SOURCES",
    "AudienceInfo",
    "Citation",
    "Eligibility",
    "EligibilityRule",
    "FactParts",
    "Facts",
    "Reason",
    "classify",
    "classify_facts",
    "fact_parts",
    "facts_from",
    "gather_facts",
    "requested_method_diagnostics",
]

#: Methods in order of preference when several are possible and none is requested.
EVALUATION_METHODS = ("streaming", "edge", "batch")
STREAMING = frozenset({"streaming"})
EDGE = frozenset({"edge"})
BOTH = frozenset({"streaming", "edge"})
#: 24 hours: the streaming/edge look-back limit.
LIMIT_MS = DAY_MS
#: segmentMembership namespaces that hold Adobe Audience Manager segments and traits (§11.1).
AAM_NAMESPACES = frozenset({"aam", "aamsegments", "aamtraits"})
#: Date-part methods that compare a date without its year ("ignore year" heuristic).
_YEARLESS = frozenset({"getMonth", "getDayOfMonth"})
#: Lint code of the requested-method check.
ELIGIBILITY_CODE = "PQL301"

#: Document keys (reference §0) -> the document they name.
SOURCES: dict[str, str] = {
    "M-STREAM": "help/segmentation/methods/streaming-segmentation.md (a31fecb6)",
    "M-EDGE": "help/segmentation/methods/edge-segmentation.md (6ffcd3c9)",
    "M-BATCH": "help/segmentation/methods/batch-segmentation.md (8c0b15a5)",
    "ELIG": "help/segmentation/eligibility-criteria-update.md (24f2421c)",
    "G-STREAM": "help/segmentation/methods/streaming-segmentation.md (the version before the "
                "May 2025 update: the streaming segmentation guide quoted in issue 13)",
    "A-STREAM": "help/segmentation/api/streaming-segmentation.md (ad58a752)",
    "U-STREAM": "help/segmentation/ui/streaming-segmentation.md (d4d27fa6)",
    "A-EDGE": "help/segmentation/api/edge-segmentation.md (23df35d7)",
    "U-EDGE": "help/segmentation/ui/edge-segmentation.md (83946891)",
    "SEGDEF": "help/segmentation/api/segment-definitions.md (23ece1d6)",
    "SB-FR": "fr-FR help/segmentation/ui/segment-builder.md (1b4771e9)",
}


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: a document key of reference §0 and the section in it."""

    document: str
    section: str

    @property
    def source(self) -> str:
        """The document's repository path and commit."""
        return SOURCES.get(self.document, self.document)

    def __str__(self) -> str:
        return f"{self.document} \u00a7 {self.section}"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule applied.

    ``effect`` is ``excludes`` (the rule rules out ``methods``), ``supports`` (the expression is
    one of the eligible query types for ``methods``) or ``note`` (an assumption or a fact that
    changes nothing). ``span`` is the part of the expression that caused it. ``assumed`` marks
    an exclusion that rests on a conservative assumption (an audience nothing is known about).
    ``advice`` says what to change (exclusions only).
    """

    rule: str
    message: str
    span: Span
    effect: str
    methods: frozenset[str]
    citations: tuple[Citation, ...]
    assumed: bool = False
    advice: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view (positions are 1-based line/column inside the expression)."""
        return {
            "rule": self.rule, "effect": self.effect, "methods": sorted(self.methods),
            "assumed": self.assumed, "message": self.message, "advice": self.advice,
            "span": {"start": self.span.start, "end": self.span.end, "line": self.span.line,
                     "column": self.span.column},
            "citations": [{"document": c.document, "section": c.section, "source": c.source}
                          for c in self.citations],
        }


@dataclass(frozen=True, slots=True)
class AudienceInfo:
    """What is known about an audience referenced with ``inSegment``.

    ``method`` is how it is evaluated (``streaming``/``edge``/``batch``, None if unknown),
    ``profile_only`` whether its definition reads only profile attributes (None if unknown),
    ``aam`` whether it is an Audience Manager segment or trait.
    """

    method: str | None = None
    profile_only: bool | None = None
    aam: bool = False


#: What ``audiences`` may map an id to: known facts, a definition (object, JSON envelope or PQL
#: text) or a ``{"method": ..., "profileOnly": ...}`` object.
AudienceEntry = AudienceInfo | Definition | str | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """One reference to another audience: ``inSegment(id)`` or ``segmentMembership.get(ns).get(id)``."""

    id: str | None
    span: Span
    info: AudienceInfo | None


@dataclass
class Facts:
    """Everything the rules look at, extracted from one expression."""

    span: Span
    events: list[EventReference]
    segments: list[SegmentRef]
    aam: list[Span]
    multi_entity: list[Span]
    ignore_year: list[Span]
    maps: list[Span]
    merge_policy_active_on_edge: bool | None

    @property
    def profile_only(self) -> bool:
        """No events and no audience references: only profile attributes."""
        return not self.events and not self.segments


#: (message, span, effect, methods); effect ``assumes`` is an exclusion by assumption.
Outcome = tuple[str, Span, str, frozenset[str]]
_ASSUMED = "assumes"


@dataclass(frozen=True)
class EligibilityRule:
    """One eligibility rule: a stable id, a summary, its documents and its check."""

    id: str
    summary: str
    citations: tuple[Citation, ...]
    check: Callable[[Facts], Iterable[Outcome]]
    #: What to change when the rule excludes a method.
    advice: str = ""

    def apply(self, facts: Facts) -> list[Reason]:
        """Run the check; each finding becomes a :class:`Reason` naming this rule."""
        out: list[Reason] = []
        for message, span, effect, methods in self.check(facts):
            excludes = effect in ("excludes", _ASSUMED)
            out.append(Reason(self.id, message, span, "excludes" if excludes else effect,
                              methods, self.citations, assumed=effect == _ASSUMED,
                              advice=self.advice if excludes and self.advice else None))
        return out


def _excl(message: str, span: Span, methods: frozenset[str] = BOTH) -> Outcome:
    return (message, span, "excludes", methods)


def _assume(message: str, span: Span, methods: frozenset[str] = BOTH) -> Outcome:
    return (message, span, _ASSUMED, methods)


def _supp(message: str, span: Span, methods: frozenset[str] = BOTH) -> Outcome:
    return (message, span, "supports", methods)


def _note(message: str, span: Span) -> Outcome:
    return (message, span, "note", frozenset())


def _at(ref: EventReference) -> str:
    """How a message names an event reference (its span says where it is)."""
    if ref.kind == "chain-step":
        return f"chain step {ref.label}"
    return f"event variable {ref.label}" if ref.kind == "binding" else "the event reference"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _window_span(ref: EventReference) -> Span:
    return ref.time_spans[0] if ref.time_spans else ref.span


def _audience(seg: SegmentRef) -> str:
    return f'audience "{seg.id}"' if seg.id is not None else "an audience given by an expression"


# ------------------------------------------------------------------ checks shared by both sets


def _merge_policy(excluded: frozenset[str], who: str) -> Callable[[Facts], list[Outcome]]:
    def check(f: Facts) -> list[Outcome]:
        if f.merge_policy_active_on_edge is False:
            return [_excl(f"The merge policy is not active on edge, and {who} must use a merge "
                          "policy that is.", f.span, excluded)]
        if f.merge_policy_active_on_edge is None:
            return [_note("The merge policy was not given; assuming it is active on edge "
                          "(pass merge_policy_active_on_edge=False or "
                          "--no-merge-policy-active-on-edge if it is not).", f.span)]
        return []
    return check


def _aam(f: Facts) -> list[Outcome]:
    found = [_excl("References an Adobe Audience Manager segment or trait, which only batch "
                   "evaluation supports.", span) for span in f.aam]
    found += [_excl(f"{_cap(_audience(s))} is an Audience Manager segment or trait, which "
                    "only batch evaluation supports.", s.span)
              for s in f.segments if s.info is not None and s.info.aam]
    return found


def _multi_entity(f: Facts) -> list[Outcome]:
    return [_excl("Reads a second entity (positional parameter); multi-entity segmentation is "
                  "batch-only.", span) for span in f.multi_entity]


def _ignore_year(f: Facts) -> list[Outcome]:
    return [_excl("Compares a date's month or day without its year (\"ignore year\"), which "
                  "streaming and edge do not support.", span) for span in f.ignore_year]


def _profile_only(f: Facts) -> list[Outcome]:
    if not f.profile_only:
        return []
    return [_supp("Profile-only query: eligible for streaming and for edge (edge evaluates "
                  "profile-only audiences daily, not in real time).", f.span)]


def _multi_event_lookback(supported: frozenset[str]) -> Callable[[Facts], list[Outcome]]:
    def check(f: Facts) -> list[Outcome]:
        if len(f.events) < 2:
            return []
        late = [r for r in f.events if r.window is None or not r.window.within(LIMIT_MS)]
        if not late:
            return [_supp(f"Multiple events ({len(f.events)}), each within 24 hours.", f.span,
                          supported)]
        return _late_events(late)
    return check


def _late_events(late: list[EventReference]) -> list[Outcome]:
    return [_excl(f"With several events, each must lie within 24 hours, but {_at(r)} has "
                  f"{r.describe_window()}.", _window_span(r)) for r in late]


def _unordered(f: Facts) -> list[EventReference]:
    """Events not tied to the first one by a strict time order (other chain or select, or an
    unrelated variable of the same select)."""
    group = f.events[0].group
    return [r for r in f.events[1:] if r.group != group or not r.ordered]


def _multi_event_order(excluded: frozenset[str]) -> Callable[[Facts], list[Outcome]]:
    def check(f: Facts) -> list[Outcome]:
        if len(f.events) < 2:
            return []
        loose = _unordered(f)
        if not loose:
            return [_supp("The events are in a strict time order (chain steps or "
                          "`occurs before/after` between them).", f.span, STREAMING)]
        return [_excl(f"{_cap(_at(r))} is not tied to the other events by a strict time "
                      "order (one chain, or `occurs before/after` between select variables).",
                      r.span, excluded) for r in loose]
    return check


def _negation(multi_only: bool) -> Callable[[Facts], list[Outcome]]:
    def check(f: Facts) -> list[Outcome]:
        if not f.events:
            return []
        if multi_only and len(f.events) < 2:
            ref = f.events[0]
            return [_supp("A negated single event is an eligible query type; the negation rule "
                          "applies to event-history (multi-event) queries only.",
                          ref.negated_by or ref.span)] if ref.negated else []
        if all(r.negated for r in f.events):
            what = "the only event is" if len(f.events) == 1 else "every event is"
            return [_excl(f"The entire event condition is a negation ({what} negated); at "
                          "least one event must be positive.",
                          f.events[0].negated_by or f.events[0].span)]
        negated = [r for r in f.events if r.negated]
        return [_note(f"{_cap(_at(r))} is negated, which is allowed because another "
                      "event is not.", r.negated_by or r.span) for r in negated]
    return check


def _insegment_event(f: Facts) -> list[Outcome]:
    if not f.events or not f.segments:
        return []
    out: list[Outcome] = []
    for seg in f.segments:
        profile_only = seg.info.profile_only if seg.info is not None else None
        if profile_only is None:
            out.append(_assume(f"Combines events with {_audience(seg)}, whose definition is "
                               "unknown; this is eligible only when the referenced audience is "
                               "profile-only, so the conservative answer is batch (pass "
                               "`audiences`).", seg.span))
        elif not profile_only:
            out.append(_excl(f"Combines events with {_audience(seg)}, which is not profile-only; "
                             "events may be combined only with profile-only audiences.", seg.span))
        else:
            out.append(_supp(f"Combines events with {_audience(seg)}, which is profile-only: "
                             "allowed.", seg.span))
    return out


def _count(f: Facts) -> list[Outcome]:
    out: list[Outcome] = []
    for ref in f.events:
        if not ref.aggregated:
            continue
        what = f"COUNT({ref.count})" if ref.count is not None else "An aggregation"
        span = ref.aggregate or ref.span
        if ref.window is not None and ref.window.within(LIMIT_MS):
            out.append(_supp(f"{what} counts events within 24 hours (a frequency query).", span))
        else:
            out.append(_excl(f"{what} counts events over "
                             f"{ref.describe_window()}; counting history beyond 24 hours is "
                             "batch-only.", span))
    return out


# ------------------------------------------------------------------ 2025 rules (§13.1)


def _single_event_no_window_2025(f: Facts) -> list[Outcome]:
    if len(f.events) == 1 and f.events[0].window is None:
        ref = f.events[0]
        return [_excl(f"The single event ({_at(ref)}) has no time window; a single event "
                      "without one is evaluated in batch.", ref.span)]
    return []


def _single_event_window_2025(f: Facts) -> list[Outcome]:
    if len(f.events) != 1 or f.events[0].window is None:
        return []
    ref = f.events[0]
    assert ref.window is not None
    if ref.window.within(LIMIT_MS):
        return [_supp(f"The single event's window ({ref.describe_window()}) is within 24 "
                      "hours.", _window_span(ref))]
    return [_excl(f"The single event's window reaches {ref.describe_window()}, beyond 24 hours "
                  "(following M-STREAM's one-day look-back, not A-STREAM's \"no limit\").",
                  _window_span(ref))]


def _multi_event_edge_2025(f: Facts) -> list[Outcome]:
    if len(f.events) < 2:
        return []
    return [_excl("Several events are not an edge query type under the current rules (the edge "
                  "table lists single events only).", f.events[1].span, EDGE)]


def _segments_2025(f: Facts) -> list[Outcome]:
    if f.events or not f.segments:
        return []
    out: list[Outcome] = [_supp("Segment of segments: eligible for streaming (disqualification "
                                "happens every 24 hours).", f.span, STREAMING)]
    for seg in f.segments:
        method = seg.info.method if seg.info is not None else None
        if method is None:
            out.append(_assume(f"The evaluation method of {_audience(seg)} is unknown; edge "
                               "allows only batch or edge audiences (following M-EDGE), so edge "
                               "is not assumed (pass `audiences`).", seg.span, EDGE))
        elif method == "streaming":
            out.append(_excl(f"{_cap(_audience(seg))} is evaluated by streaming; edge "
                             "allows only batch or edge audiences (following M-EDGE, not "
                             "A-EDGE).", seg.span, EDGE))
        else:
            out.append(_supp(f"{_cap(_audience(seg))} is a {method} audience: allowed on "
                             "edge.", seg.span, EDGE))
    return out


def _maps_2025(f: Facts) -> list[Outcome]:
    return [_note("Map lookup: the current rules do not restrict maps (the pre-2025 edge guide "
                  "lists map queries as eligible).", span) for span in f.maps[:1]]


# ------------------------------------------------------------------ legacy rules (§13.2)


def _single_event_legacy(f: Facts) -> list[Outcome]:
    if len(f.events) != 1:
        return []
    ref = f.events[0]
    if ref.window is None:
        return [_supp("Single event with no time restriction: eligible for streaming and edge.",
                      ref.span)]
    extra = "" if ref.window.within(LIMIT_MS) else (
        " (following A-STREAM's \"no look-back limit\" for single events, and the `< 8 days "
        "before now` edge example over its \"24 hours\" text)")
    return [_supp(f"Single event with a time window ({ref.describe_window()}): eligible for "
                  f"streaming and edge{extra}.", _window_span(ref))]


def _segments_legacy(f: Facts) -> list[Outcome]:
    if f.events or not f.segments:
        return []
    return [_supp("Segment of segments (batch or streaming audiences, following A-EDGE and "
                  "A-STREAM): eligible for streaming and edge; disqualification happens every "
                  "24 hours.", f.span)]


def _maps_legacy(f: Facts) -> list[Outcome]:
    return [_supp("Query referring to a map: an edge-eligible query type.", span, EDGE)
            for span in f.maps[:1]]


# ------------------------------------------------------------------ the rule sets


def _c(document: str, section: str) -> Citation:
    return Citation(document, section)


#: What to change, by the part of the rule id after the rule-set prefix (shared by both sets).
ADVICE: dict[str, str] = {
    "MERGE-POLICY": "Use a merge policy that is active on edge.",
    "AAM": "Keep Audience Manager data in a batch audience; streaming and edge cannot use it.",
    "MULTI-ENTITY": "Keep multi-entity conditions in a batch audience.",
    "IGNORE-YEAR": "Compare the full date (for example `birthDate occurs today`) instead of "
                   "the month and day alone.",
    "SINGLE-EVENT-NO-WINDOW": "Add a window of at most 24 hours (`WHEN(today)`, `timestamp "
                              "occurs < 24 hours before now`), or put the event in a batch "
                              "audience and reference it with inSegment.",
    "SINGLE-EVENT-WINDOW": "Narrow the window to 24 hours, or combine a streaming audience for "
                           "the last 24 hours with a batch audience for the longer window "
                           "(inSegment(A) or inSegment(B)).",
    "MULTI-EVENT-LOOKBACK": "Keep every event within 24 hours (`WHEN(today)`).",
    "MULTI-EVENT-ORDER": "Put the events in one chain in the order they must happen, or make "
                         "one audience per event and combine them: inSegment(A) and "
                         "inSegment(B).",
    "MULTI-EVENT-EDGE": "Use streaming, or one edge audience per event combined with "
                        "inSegment.",
    "NEGATION": "Add a positive event condition, or keep the absence check in a batch "
                "audience.",
    "SEGMENT-OF-SEGMENTS": "Reference only batch or edge audiences, or pass what they are "
                           "with `audiences` / --audiences.",
    "INSEGMENT-EVENT": "Reference a profile-only audience (move event conditions into their "
                       "own audience), or pass what the audience is with `audiences` / "
                       "--audiences.",
    "COUNT": "Count events within 24 hours (`WHEN(< 24 hours before now) COUNT(n)`), or keep "
             "the count in a batch audience.",
}


def _rule(rule_id: str, summary: str, citations: tuple[Citation, ...],
          check: Callable[[Facts], Iterable[Outcome]]) -> EligibilityRule:
    suffix = rule_id.split("-", 2)[2]
    return EligibilityRule(rule_id, summary, citations, check, ADVICE.get(suffix, ""))


RULES_2025: tuple[EligibilityRule, ...] = (
    _rule("ELIG-2025-MERGE-POLICY", "Streaming and edge need a merge policy active on edge.",
          (_c("ELIG", "Merge policy"), _c("M-STREAM", "Eligibility"), _c("M-EDGE", "Eligibility")),
          _merge_policy(BOTH, "streaming and edge audiences")),
    _rule("ELIG-2025-AAM", "Audience Manager segments or traits make a definition batch-only.",
          (_c("M-STREAM", "Not eligible"),), _aam),
    _rule("ELIG-2025-MULTI-ENTITY", "Multi-entity segmentation is batch-only.",
          (_c("M-STREAM", "Not eligible"),), _multi_entity),
    _rule("ELIG-2025-IGNORE-YEAR", "Definitions using \"ignore year\" are ineligible.",
          (_c("M-STREAM", "Not eligible"), _c("M-EDGE", "Not eligible")), _ignore_year),
    _rule("ELIG-2025-PROFILE-ONLY", "Profile-only queries are streaming- and edge-eligible.",
          (_c("M-STREAM", "Eligible query types"), _c("M-EDGE", "Eligible query types")),
          _profile_only),
    _rule("ELIG-2025-SINGLE-EVENT-NO-WINDOW", "A single event with no time window is batch.",
          (_c("ELIG", "Ruleset"),), _single_event_no_window_2025),
    _rule("ELIG-2025-SINGLE-EVENT-WINDOW",
          "A single event must lie within 24 hours (longer windows are batch).",
          (_c("ELIG", "Ruleset"), _c("ELIG", "Time window"), _c("M-STREAM", "Guidelines")),
          _single_event_window_2025),
    _rule("ELIG-2025-MULTI-EVENT-LOOKBACK",
          "Multiple events must all lie within a 24-hour window.",
          (_c("M-STREAM", "Eligible query types"), _c("M-STREAM", "Guidelines"),
           _c("ELIG", "Time window")), _multi_event_lookback(STREAMING)),
    _rule("ELIG-2025-MULTI-EVENT-ORDER",
          "Multiple events need a strict time order (combine separate events with inSegment).",
          (_c("M-STREAM", "Guidelines"), _c("ELIG", "Combining audiences")),
          _multi_event_order(BOTH)),
    _rule("ELIG-2025-MULTI-EVENT-EDGE", "Multiple events are not an edge query type.",
          (_c("M-EDGE", "Eligible query types"),), _multi_event_edge_2025),
    _rule("ELIG-2025-NEGATION", "The entire event condition cannot be a negation.",
          (_c("M-STREAM", "Guidelines"),), _negation(multi_only=False)),
    _rule("ELIG-2025-SEGMENT-OF-SEGMENTS",
          "inSegment-only definitions: streaming; edge only over batch or edge audiences.",
          (_c("ELIG", "Combining audiences"), _c("M-STREAM", "Combine audiences"),
           _c("M-EDGE", "Eligible query types")), _segments_2025),
    _rule("ELIG-2025-INSEGMENT-EVENT",
          "Events combined with inSegment need the referenced audience to be profile-only.",
          (_c("ELIG", "Including batch data"), _c("M-EDGE", "Not eligible"),
           _c("M-STREAM", "Combine audiences")), _insegment_event),
    _rule("ELIG-2025-COUNT", "Counting or aggregating events must stay within 24 hours.",
          (_c("ELIG", "Time window"), _c("A-EDGE", "Frequency query")), _count),
    _rule("ELIG-2025-MAP", "Map lookups do not change eligibility.",
          (_c("M-STREAM", "Eligible query types"), _c("A-EDGE", "Query referring to a map")),
          _maps_2025),
)

RULES_LEGACY: tuple[EligibilityRule, ...] = (
    _rule("ELIG-LEGACY-MERGE-POLICY", "Edge needs a merge policy active on edge.",
          (_c("A-EDGE", "Merge policy"), _c("U-EDGE", "Merge policy")),
          _merge_policy(EDGE, "edge audiences")),
    _rule("ELIG-LEGACY-AAM", "Audience Manager segments or traits make a definition batch-only.",
          (_c("G-STREAM", "Not eligible"), _c("A-STREAM", "Not eligible"),
           _c("U-STREAM", "Not eligible")), _aam),
    _rule("ELIG-LEGACY-MULTI-ENTITY", "Multi-entity segmentation is batch-only.",
          (_c("G-STREAM", "Not eligible"), _c("A-STREAM", "Not eligible"),
           _c("U-STREAM", "Not eligible")), _multi_entity),
    _rule("ELIG-LEGACY-IGNORE-YEAR",
          "Definitions using \"ignore year\" in their time constraints are ineligible.",
          (_c("G-STREAM", "Not eligible"),), _ignore_year),
    _rule("ELIG-LEGACY-PROFILE-ONLY", "Profile-only queries are streaming- and edge-eligible.",
          (_c("A-STREAM", "Query types"), _c("A-EDGE", "Single profile attribute")),
          _profile_only),
    _rule("ELIG-LEGACY-SINGLE-EVENT",
          "A single event, with or without a time window, is streaming- and edge-eligible.",
          (_c("G-STREAM", "Guidelines"), _c("A-STREAM", "Query types"),
           _c("A-EDGE", "Single event within a time window")), _single_event_legacy),
    _rule("ELIG-LEGACY-MULTI-EVENT-LOOKBACK",
          "Multiple events must all lie within the last 24 hours.",
          (_c("G-STREAM", "Guidelines"), _c("A-STREAM", "Guidelines"),
           _c("A-EDGE", "Multiple incoming hits")), _multi_event_lookback(BOTH)),
    _rule("ELIG-LEGACY-MULTI-EVENT-ORDER",
          "Streaming needs a strict time order between events (edge accepts independent hits).",
          (_c("G-STREAM", "Guidelines"), _c("A-EDGE", "Multiple incoming hits")),
          _multi_event_order(STREAMING)),
    _rule("ELIG-LEGACY-NEGATION",
          "In an event-history query the entire event condition cannot be a negation.",
          (_c("G-STREAM", "Guidelines"), _c("A-EDGE", "Negated single event")),
          _negation(multi_only=True)),
    _rule("ELIG-LEGACY-SEGMENT-OF-SEGMENTS",
          "Segment of segments (batch or streaming audiences) is streaming- and edge-eligible.",
          (_c("G-STREAM", "Eligible query types"), _c("A-EDGE", "Segment of segments")),
          _segments_legacy),
    _rule("ELIG-LEGACY-INSEGMENT-EVENT",
          "A single event with inSegment is eligible only if the target is profile-only.",
          (_c("G-STREAM", "Not eligible"), _c("A-STREAM", "Not eligible")), _insegment_event),
    _rule("ELIG-LEGACY-COUNT", "Counting or aggregating events must stay within 24 hours.",
          (_c("A-EDGE", "Frequency query"),), _count),
    _rule("ELIG-LEGACY-MAP", "A query referring to a map is edge-eligible.",
          (_c("A-EDGE", "Query referring to a map"),), _maps_legacy),
)

#: EligibilityRule-set name -> its rules.
RULE_SETS: dict[str, tuple[EligibilityRule, ...]] = {"2025": RULES_2025, "legacy": RULES_LEGACY}

#: The reason given when ``evaluationInfo`` asks for a method the expression cannot have.
REQUESTED_ID = "ELIG-REQUESTED-METHOD"
REQUESTED_CITATIONS = (_c("SEGDEF", "evaluationInfo"), _c("SB-FR", "Evaluation method"))


# ------------------------------------------------------------------ facts


def _segment_refs(expr: Node) -> tuple[list[tuple[str | None, Span]], list[Span]]:
    """Audience references (id, span) and Audience Manager lookups (spans) of ``expr``.

    ``inSegment(id)`` and ``segmentMembership.get(ns).get(id)`` reference audiences;
    ``segmentMembership.get("AAM")`` (or ``AAMSegments``/``AAMTraits``) reads AAM membership.
    """
    refs: list[tuple[str | None, Span]] = []
    aam: list[Span] = []
    for node in expr.walk():
        if isinstance(node, Call) and node.name == "inSegment":
            refs.append((_string_arg(node.args), node.span))
        elif isinstance(node, MethodCall) and node.name == "get":
            ns = _membership_namespace(node)
            if ns is not None and ns.lower() in AAM_NAMESPACES:
                aam.append(node.span)
            elif isinstance(node.receiver, MethodCall):
                outer = _membership_namespace(node.receiver)
                if outer is not None and outer.lower() not in AAM_NAMESPACES:
                    refs.append((_string_arg(node.args), node.span))
    return refs, aam


def _string_arg(args: tuple[Node, ...]) -> str | None:
    return args[0].value if args and isinstance(args[0], String) else None


def _membership_namespace(node: MethodCall) -> str | None:
    """``"ups"`` for ``segmentMembership.get("ups")``, else None."""
    if node.name != "get" or dotted_path(node.receiver) != ("segmentMembership",):
        return None
    return _string_arg(node.args)


def _yearless_dates(expr: Node) -> list[Span]:
    """Month/day-of-month parts of a date whose year is never compared."""
    return _yearless(*_year_parts(expr))


_Path = tuple[str, ...] | None


def _year_parts(expr: Node) -> tuple[set[_Path], list[tuple[Span, _Path]]]:
    """The paths whose year is read, and each month/day-of-month part with its path."""
    with_year = {dotted_path(n.receiver) for n in expr.walk()
                 if isinstance(n, MethodCall) and n.name == "getYear"}
    parts = [(n.span, dotted_path(n.receiver)) for n in expr.walk()
             if isinstance(n, MethodCall) and n.name in _YEARLESS]
    return with_year, parts


def _yearless(with_year: set[_Path], parts: list[tuple[Span, _Path]]) -> list[Span]:
    return [span for span, path in parts if path is None or path not in with_year]


def _maps(expr: Node) -> list[Span]:
    return [n.span for n in expr.walk() if isinstance(n, MethodCall)
            and n.name in ("get", "keys", "values") and _membership_namespace(n) is None
            and not (isinstance(n.receiver, MethodCall) and _membership_namespace(n.receiver))]


@dataclass
class FactParts:
    """What :func:`gather_facts` reads from a tree, before audiences are looked up and dates
    are matched with their years: the facts of an ``and``/``or`` of clauses that bind no name
    across each other are their clauses' parts put together (the language server gathers them
    clause by clause). ``groups`` counts the event groups numbered in ``events``."""

    span: Span
    segment_refs: list[tuple[str | None, Span]]
    aam: list[Span]
    events: list[EventReference]
    groups: int
    multi_entity: list[Span]
    with_year: set[_Path]
    month_parts: list[tuple[Span, _Path]]
    maps: list[Span]


def fact_parts(expr: Node) -> FactParts:
    """The :class:`FactParts` of one expression."""
    refs, aam = _segment_refs(expr)
    events, groups = counted_event_references(expr, resolve(expr))
    with_year, month_parts = _year_parts(expr)
    return FactParts(expr.span, refs, aam, events, groups,
                     [n.span for n in expr.walk() if isinstance(n, Param) and n.position >= 2],
                     with_year, month_parts, _maps(expr))


def gather_facts(expr: Node, *, audiences: Mapping[str, AudienceEntry] | None = None,
                 merge_policy_active_on_edge: bool | None = None,
                 rules: str = "2025", seen: frozenset[str] = frozenset()) -> Facts:
    """Extract what the eligibility rules look at from a parsed expression.

    ``seen`` holds the ids of audiences being classified further up (a reference back to one
    of them is a cycle and counts as unknown).
    """
    return facts_from(fact_parts(expr), audiences=audiences, rules=rules, seen=seen,
                      merge_policy_active_on_edge=merge_policy_active_on_edge)


def facts_from(parts: FactParts, *, audiences: Mapping[str, AudienceEntry] | None = None,
               merge_policy_active_on_edge: bool | None = None, rules: str = "2025",
               seen: frozenset[str] = frozenset()) -> Facts:
    """The :class:`Facts` of an expression from its :class:`FactParts` (see
    :func:`gather_facts`)."""
    segments = [SegmentRef(ref_id, span, _audience_info(ref_id, audiences, rules, seen))
                for ref_id, span in parts.segment_refs]
    return Facts(
        span=parts.span,
        events=parts.events,
        segments=segments,
        aam=parts.aam,
        multi_entity=parts.multi_entity,
        ignore_year=_yearless(parts.with_year, parts.month_parts),
        maps=parts.maps,
        merge_policy_active_on_edge=merge_policy_active_on_edge,
    )


def _audience_info(ref_id: str | None, audiences: Mapping[str, AudienceEntry] | None,
                   rules: str, seen: frozenset[str]) -> AudienceInfo | None:
    """What ``audiences`` tells about ``ref_id``; None when nothing (or a cycle)."""
    if ref_id is None or audiences is None or ref_id not in audiences or ref_id in seen:
        return None
    entry = audiences[ref_id]
    if isinstance(entry, AudienceInfo):
        return entry
    if isinstance(entry, Mapping) and "expression" not in entry:
        namespace = str(entry.get("namespace", "")).lower()
        profile_only = entry.get("profileOnly", entry.get("profile_only"))
        method = entry.get("method")
        return AudienceInfo(
            method=method if method in EVALUATION_METHODS else None,
            profile_only=profile_only if isinstance(profile_only, bool) else None,
            aam=namespace in AAM_NAMESPACES or entry.get("originName") == "AUDIENCE_MANAGER")
    try:
        if isinstance(entry, Mapping):
            entry = load_definitions(dict(entry))[0]
        result = _classify(entry, rules, audiences, None, seen | {ref_id})
    except PQLError:  # an unusable audience definition is an unknown audience
        return None
    facts = result.facts
    profile_only = not facts.events and all(
        s.info is not None and s.info.profile_only for s in facts.segments)
    aam = bool(facts.aam) or any(s.info is not None and s.info.aam for s in facts.segments)
    return AudienceInfo(result.method, profile_only, aam)


# ------------------------------------------------------------------ classification


@dataclass(frozen=True)
class Eligibility:
    """The answer: the method Adobe would use, every eligible method, and the reasons.

    ``method`` is the requested method (``evaluationInfo``) when one is eligible, batch when a
    definition requests only ineligible methods or none, and for a bare expression the first
    eligible of streaming, edge, batch. ``eligible`` always holds batch. ``events`` lists each
    event reference with the window found for it. ``requested``/``unsatisfied`` are set for
    definitions.
    """

    method: str
    eligible: frozenset[str]
    reasons: tuple[Reason, ...]
    events: tuple[EventReference, ...]
    rules: str
    facts: Facts = field(repr=False, compare=False)
    requested: frozenset[str] | None = None
    unsatisfied: frozenset[str] = frozenset()

    @property
    def satisfiable(self) -> bool:
        """True unless the definition asks for a method it is not eligible for."""
        return not self.unsatisfied

    def reasons_for(self, method: str) -> list[Reason]:
        """The reasons that exclude ``method``."""
        return [r for r in self.reasons if r.effect == "excludes" and method in r.methods]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view of the whole result."""
        return {
            "method": self.method,
            "eligible": [m for m in EVALUATION_METHODS if m in self.eligible],
            "rules": self.rules,
            "requested": None if self.requested is None else
            [m for m in EVALUATION_METHODS if m in self.requested],
            "unsatisfied": [m for m in EVALUATION_METHODS if m in self.unsatisfied],
            "events": [e.to_json() for e in self.events],
            "reasons": [r.to_json() for r in self.reasons],
        }


Classifiable = str | Node | Definition


def classify(expression_or_definition: Classifiable, *, rules: str = "2025",
             audiences: Mapping[str, AudienceEntry] | None = None,
             merge_policy_active_on_edge: bool | None = None,
             parsed: Node | None = None) -> Eligibility:
    """Decide whether a definition is streaming-, edge- or batch-evaluated, and why.

    ``expression_or_definition`` is PQL text, a parsed expression, or a
    :class:`~pqltools.definitions.Definition` (its ``evaluationInfo`` is then checked too).
    ``rules`` is ``"2025"`` (current rules) or ``"legacy"`` (pre-May-2025). ``audiences`` maps
    ids used in ``inSegment`` to what is known about them (an :class:`AudienceInfo`, a
    ``{"method": ..., "profileOnly": ...}`` object, a definition or its PQL text); unknown
    audiences are reported and answered conservatively. Raises
    :class:`~pqltools.errors.PQLSyntaxError` for text that is not PQL and ``ValueError`` for an
    unknown rule set. ``parsed``: the expression of a definition, already parsed without
    syntax errors by the caller (the language server has it), so that it is not parsed again.
    """
    if rules not in RULE_SETS:
        raise ValueError(f"unknown eligibility rule set {rules!r} "
                         f"(expected one of {', '.join(RULE_SETS)})")
    return _classify(expression_or_definition, rules, audiences, merge_policy_active_on_edge,
                     frozenset(), parsed)


def _classify(subject: Classifiable, rules: str, audiences: Mapping[str, AudienceEntry] | None,
              merge_policy: bool | None, seen: frozenset[str],
              parsed: Node | None = None) -> Eligibility:
    definition = subject if isinstance(subject, Definition) else None
    if isinstance(subject, Node):
        expr = subject
    elif parsed is not None:
        expr = parsed
    else:
        expr = parse(subject.expression if isinstance(subject, Definition) else subject)
    if definition is not None and definition.id:
        seen = seen | {definition.id}
    facts = gather_facts(expr, audiences=audiences, rules=rules, seen=seen,
                         merge_policy_active_on_edge=merge_policy)
    return classify_facts(facts, rules, definition)


def classify_facts(facts: Facts, rules: str = "2025",
                   definition: Definition | None = None) -> Eligibility:
    """:func:`classify` from the facts of the expression (of ``definition``, when given)."""
    reasons: list[Reason] = []
    for rule in RULE_SETS[rules]:
        reasons.extend(rule.apply(facts))
    excluded = frozenset().union(*(r.methods for r in reasons if r.effect == "excludes"))
    eligible = frozenset(EVALUATION_METHODS) - excluded | {"batch"}
    requested: frozenset[str] | None = None
    unsatisfied: frozenset[str] = frozenset()
    if definition is not None:
        requested = frozenset(definition.requested_methods)
        unsatisfied = requested - eligible
        granted = [m for m in EVALUATION_METHODS if m in requested and m in eligible]
        method = granted[0] if granted else "batch"
        reasons.extend(_requested_reasons(requested, unsatisfied, facts.span, reasons))
    else:
        method = next(m for m in EVALUATION_METHODS if m in eligible)
    return Eligibility(method, eligible, tuple(reasons), tuple(facts.events), rules, facts,
                       requested, unsatisfied)


def _requested_reasons(requested: frozenset[str], unsatisfied: frozenset[str], span: Span,
                       reasons: list[Reason]) -> list[Reason]:
    if not requested:
        return [Reason(REQUESTED_ID, "evaluationInfo requests no method, so the definition "
                       "is evaluated in batch.", span, "note", frozenset(),
                       REQUESTED_CITATIONS)]
    out: list[Reason] = []
    for method in (m for m in EVALUATION_METHODS if m in unsatisfied):
        why = [r.rule for r in reasons if r.effect == "excludes" and method in r.methods]
        out.append(Reason(REQUESTED_ID, f"evaluationInfo asks for {method} "
                          f"({_INFO_KEY[method]}), but the expression is not {method}-eligible "
                          f"({', '.join(dict.fromkeys(why))}); Adobe evaluates it in batch "
                          "instead, without telling.", span, "excludes", frozenset({method}),
                          REQUESTED_CITATIONS))
    return out


_INFO_KEY = {"streaming": "continuous", "edge": "synchronous", "batch": "batch"}


def requested_method_diagnostics(definition: Definition,
                                 eligibility: Eligibility | None = None, *,
                                 rules: str = "2025",
                                 severity: Severity = Severity.INFO) -> list[Diagnostic]:
    """One diagnostic per streaming/edge method ``evaluationInfo`` asks for but cannot get.

    ``eligibility`` is the classification of the definition's expression (computed when not
    given). Exclusions that rest only on assumptions (audiences nothing is known about) are not
    reported. The span is that of the first reason excluding the method, inside
    ``definition.expression``.
    """
    result = eligibility or classify(definition, rules=rules)
    out: list[Diagnostic] = []
    for method in (m for m in EVALUATION_METHODS if m != "batch"):
        if method not in definition.requested_methods or method in result.eligible:
            continue
        blockers = [r for r in result.reasons_for(method) if r.rule != REQUESTED_ID]
        if not blockers or all(r.assumed for r in blockers):
            continue
        first = next(r for r in blockers if not r.assumed)
        only = ("only batch-eligible" if result.eligible == {"batch"}
                else f"not {method}-eligible")
        out.append(Diagnostic(
            ELIGIBILITY_CODE,
            f"evaluationInfo asks for {method} ({_INFO_KEY[method]}.enabled) but the expression "
            f"is {only}: {first.message} ({first.rule})",
            severity, first.span,
            help=(f"{first.advice} " if first.advice else "") + "Adobe evaluates it in batch "
                 "instead; `pql classify` lists every reason.",
        ))
    return out


def rules_markdown() -> str:
    """The rule tables of docs/eligibility.md, generated from :data:`RULE_SETS`."""
    lines: list[str] = []
    for name, rules in RULE_SETS.items():
        title = "Current rules (`rules=\"2025\"`, §13.1)" if name == "2025" else \
            "Pre-2025 rules (`rules=\"legacy\"`, §13.2)"
        lines += [f"### {title}", "", "| Rule id | What it says | Documents | What to change |",
                  "| --- | --- | --- | --- |"]
        for rule in rules:
            cites = "; ".join(f"{c.document} \u00a7 {c.section}" for c in rule.citations)
            lines.append(f"| `{rule.id}` | {rule.summary} | {cites} | {rule.advice or '—'} |")
        lines.append("")
    lines += ["### Both rule sets", "", "| Rule id | What it says | Documents |",
              "| --- | --- | --- |",
              f"| `{REQUESTED_ID}` | evaluationInfo asks for a method the expression is not "
              f"eligible for; Adobe evaluates it in batch. | "
              + "; ".join(f"{c.document} \u00a7 {c.section}" for c in REQUESTED_CITATIONS)
              + " |", "", "Document keys:", ""]
    lines += [f"* **{key}**: `{path}`" for key, path in SOURCES.items()]
    return "\n".join(lines) + "\n"
