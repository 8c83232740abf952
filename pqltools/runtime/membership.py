"""Segment membership: evaluate definitions over profiles and emit ``segmentMembership`` maps.

:func:`segment` is the offline equivalent of a batch segment job: for every profile it evaluates
every definition (segment-of-segments in dependency order, so ``inSegment("B")`` sees this run's
answer for B) and returns the profile's ``segmentMembership`` in Adobe's shape (reference 11.2)::

    {"ups": {"<segment id>": {"status": "realized", "lastQualificationTime": "..."}}}

Status transitions (docs/semantics.md, "Membership"): qualifying now and not a member before ->
``realized``; qualifying and a member before (realized or existing) -> ``existing``; not
qualifying but a member before -> ``exited``; not qualifying and not a member -> no entry (an
earlier ``exited`` entry is kept until it is 30 days old). Entries of other namespaces and of
audiences not in this run are carried over unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pqltools.definitions import Definition
from pqltools.errors import NO_SPAN, Diagnostic, PQLValidationError, Severity
from pqltools.records import record
from pqltools.runtime.compiler import Program, compile
from pqltools.runtime.context import Clock, Context, evaluation_error, make_clock
from pqltools.runtime.functions import MEMBER_STATUSES
from pqltools.runtime.timephrases import DAY, TimestampError, iso, to_millis
from pqltools.syntax import ast

__all__ = [
    "EXITED_RETENTION_DAYS",
    "NAMESPACE",
    "CompiledSegment",
    "compile_segments",
    "membership_record",
    "namespace_key",
    "profile_id",
    "segment",
]

#: The namespace of audiences evaluated by the Segmentation Service.
NAMESPACE = "ups"
#: Exited memberships older than this (by lastQualificationTime) are dropped (reference 11.2).
EXITED_RETENTION_DAYS = 30
#: Where :func:`profile_id` looks for a profile's id, in order.
ID_FIELDS = ("_id", "personID", "personId", "id")


@record(frozen=True)
class CompiledSegment:
    """One definition ready to run: its audience id, label and program."""

    id: str
    label: str
    program: Program
    depends_on: frozenset[str]


def _definition_items(definitions: Iterable[Definition] | Mapping[str, str]
                      ) -> list[tuple[str, str, str]]:
    if isinstance(definitions, Mapping):
        return [(str(k), str(k), v) for k, v in definitions.items()]
    items = []
    for d in definitions:
        seg_id = d.id or d.name or d.label
        items.append((seg_id, d.label, d.expression))
    return items


def _dependencies(tree: ast.Node) -> set[str]:
    return {node.args[0].value for node in tree.walk()
            if isinstance(node, ast.Call) and node.name == "inSegment" and node.args
            and isinstance(node.args[0], ast.String)}


def compile_segments(definitions: Iterable[Definition] | Mapping[str, str]
                     ) -> list[CompiledSegment]:
    """Compile definitions and order them so that every segment comes after those it reads.

    ``definitions`` is a list of :class:`~pqltools.definitions.Definition` (the id is the
    definition's ``id``, else its ``name``, else its label) or a mapping id -> PQL text. Raises
    :class:`~pqltools.errors.PQLValidationError` naming the cycle when segments depend on each
    other in a loop, or a duplicate id.
    """
    return order_segments([compiled_segment(seg_id, label, compile(text))
                           for seg_id, label, text in _definition_items(definitions)])


def compiled_segment(seg_id: str, label: str, program: Program) -> CompiledSegment:
    """A :class:`CompiledSegment` for an already compiled program (its dependencies found)."""
    return CompiledSegment(seg_id, label, program, frozenset(_dependencies(program.tree)))


def order_segments(segments: list[CompiledSegment]) -> list[CompiledSegment]:
    """``segments`` in dependency order (raises on a cycle or a duplicate id)."""
    compiled: dict[str, CompiledSegment] = {}
    for seg in segments:
        if seg.id in compiled:
            raise _run_error(f"two definitions have the id {seg.id!r}")
        compiled[seg.id] = seg
    ordered: list[CompiledSegment] = []
    state: dict[str, int] = {}  # 1 = in progress, 2 = done
    for start in compiled:
        _visit(start, compiled, state, ordered)
    return ordered


def _visit(start: str, compiled: dict[str, CompiledSegment], state: dict[str, int],
           ordered: list[CompiledSegment]) -> None:
    # iterative depth-first search, so a long chain of segments cannot exhaust the stack
    stack: list[tuple[str, Iterator[str]]] = []
    if state.get(start):
        return
    state[start] = 1
    stack.append((start, iter(sorted(compiled[start].depends_on))))
    while stack:
        node, deps = stack[-1]
        for dep in deps:
            if dep not in compiled:
                continue  # read from stored membership
            if state.get(dep) == 1:
                cycle = [n for n, _ in stack]
                cycle = cycle[cycle.index(dep):] + [dep]
                raise _run_error("segments depend on each other in a cycle: "
                                 + " -> ".join(f"inSegment({c!r})" for c in cycle))
            if not state.get(dep):
                state[dep] = 1
                stack.append((dep, iter(sorted(compiled[dep].depends_on))))
                break
        else:
            stack.pop()
            state[node] = 2
            ordered.append(compiled[node])


def _run_error(message: str) -> PQLValidationError:
    return PQLValidationError([Diagnostic("PQL420", message, Severity.ERROR, NO_SPAN)])


def profile_id(profile: Mapping[str, Any], key: str | None = None) -> str | None:
    """A profile's id: the dotted ``key`` if given, else ``_id``, ``personID``, ``personId``,
    ``id``, else the primary identity in ``identityMap`` (else its first identity)."""
    if key is not None:
        v: Any = profile
        for part in key.split("."):
            v = v.get(part) if isinstance(v, Mapping) else None
        return None if v is None or isinstance(v, (dict, list)) else str(v)
    for name in ID_FIELDS:
        v = profile.get(name)
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            return str(v)
    identities = profile.get("identityMap")
    if isinstance(identities, Mapping):
        first: str | None = None
        for entries in identities.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                    if entry.get("primary") is True:
                        return str(entry["id"])
                    first = first or str(entry["id"])
        return first
    return None


def _split(item: Any) -> tuple[Any, Any]:
    if isinstance(item, tuple) and len(item) == 2:
        return item[0], item[1]
    return item, None


def _status(entry: Any) -> str | None:
    status = entry.get("status") if isinstance(entry, Mapping) else None
    return status.lower() if isinstance(status, str) else None


def _entry_time(entry: Mapping[str, Any]) -> int | None:
    try:
        return to_millis(entry.get("lastQualificationTime"))
    except TimestampError:
        return None


def namespace_key(membership: Mapping[str, Any], namespace: str = NAMESPACE) -> str:
    """The key under which ``membership`` holds ``namespace``, matched case-insensitively.

    Adobe's documents show both ``ups`` and ``UPS``: the input's casing is kept on write, and a
    membership without the namespace gets it in lower case.
    """
    if namespace in membership:
        return namespace
    wanted = namespace.lower()
    return next((k for k in membership if isinstance(k, str) and k.lower() == wanted), namespace)


def _expired(entry: Any, now: int) -> bool:
    """An ``exited`` entry whose lastQualificationTime is more than 30 days before ``now``."""
    if _status(entry) != "exited":
        return False
    when = _entry_time(entry)
    return when is not None and now - when > EXITED_RETENTION_DAYS * DAY


def _carried(entries: Mapping[str, Any], now: int, skip: Mapping[str, Any] = {}) -> dict[str, Any]:
    """Entries kept as they were (minus expired exits and those in ``skip``), deep-copied."""
    return {k: copy.deepcopy(v) for k, v in entries.items()
            if k not in skip and not _expired(v, now)}


def membership_for(segments: list[CompiledSegment], profile: Any, events: Any, clock: Clock,
                   previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The new ``segmentMembership`` of one profile (see the module docstring)."""
    if previous is None and isinstance(profile, Mapping):
        previous = profile.get("segmentMembership")
    return membership_record(_answers(segments, profile, events, clock), previous, clock.now)


def _answers(segments: list[CompiledSegment], profile: Any, events: Any,
             clock: Clock) -> dict[str, bool]:
    """Segment id -> qualifies, in dependency order, for one profile.

    One context serves every segment: events are checked, timestamps parsed and chains sorted
    once per profile.
    """
    results: dict[str, bool] = {}
    if not segments:
        return results
    if type(profile) is not dict:
        segments[0].program.evaluate(profile, events, now=clock)  # raises the usual error
    context = Context(profile, events, clock, results)
    for seg in segments:
        results[seg.id] = seg.program.evaluate_in(context)
    return results


def membership_record(results: Mapping[str, bool], previous: Any, now: int) -> dict[str, Any]:
    """The new ``segmentMembership`` from this run's answers (segment id -> qualifies, in run
    order) and the previous membership; shared by the interpreter and the SQL engines.

    The ``ups`` namespace is found case-insensitively and written back under the input's
    casing; an entry that had a ``timestamp`` gets the new one; exited entries more than 30
    days old are dropped in every namespace.
    """
    previous = previous if isinstance(previous, Mapping) else {}
    key = namespace_key(previous)
    old = previous.get(key)
    old = old if isinstance(old, Mapping) else {}
    stamp = iso(now)
    out_ns: dict[str, Any] = {}
    for seg_id, qualifies in results.items():
        prior = old.get(seg_id)
        before = _status(prior)
        was_member = before in MEMBER_STATUSES
        if qualifies or was_member:
            status = ("existing" if was_member else "realized") if qualifies else "exited"
            entry = {"status": status, "lastQualificationTime": stamp}
            if isinstance(prior, Mapping) and "timestamp" in prior:
                entry["timestamp"] = stamp
            out_ns[seg_id] = entry
        elif before == "exited" and not _expired(prior, now):
            out_ns[seg_id] = copy.deepcopy(dict(prior))  # type: ignore[arg-type]
    out_ns.update(_carried(old, now, skip=results))
    out: dict[str, Any] = {}
    for ns, entries in previous.items():
        if ns != key:
            out[ns] = _carried(entries, now) if isinstance(entries, Mapping) \
                else copy.deepcopy(entries)
    out[key] = out_ns
    return out


def qualifying(segments: list[CompiledSegment], profile: Any, events: Any,
               clock: Clock) -> list[str]:
    """The ids of the ``segments`` (in dependency order) that ``profile`` qualifies for.

    What :func:`membership_for` decides, without building membership records: for callers that
    only need the answer (``pql eval`` printing ids).
    """
    return [seg_id for seg_id, member in _answers(segments, profile, events, clock).items()
            if member]


def segment(definitions: Iterable[Definition] | Mapping[str, str] | list[CompiledSegment],
            profiles: Iterable[Any], *, now: str | datetime | int | None = None,
            previous: Mapping[str, Mapping[str, Any]] | None = None,
            id_key: str | None = None) -> Iterator[dict[str, Any]]:
    """Evaluate ``definitions`` over ``profiles``; yield each profile's ``segmentMembership``.

    ``profiles`` yields profile objects, or ``(profile, events)`` pairs. ``now`` is the
    evaluation time (default: the current UTC time, fixed for the whole run). The previous
    membership of a profile is ``previous[profile id]`` when ``previous`` is given (ids found by
    :func:`profile_id` with ``id_key``), else the profile's own ``segmentMembership``. Results are
    yielded lazily, one per profile, in input order. Raises
    :class:`~pqltools.errors.PQLValidationError` for a dependency cycle and
    :class:`~pqltools.errors.PQLEvaluationError` for an unusable profile.

    This is the reference interpreter; :func:`pqltools.segment` (``pqltools.engines.run``)
    adds the SQL engines.
    """
    if isinstance(definitions, list) and definitions and isinstance(definitions[0],
                                                                    CompiledSegment):
        ordered = order_segments(definitions)
    else:
        ordered = compile_segments(definitions)  # type: ignore[arg-type]
    clock = make_clock(now)
    return _run(ordered, profiles, clock, previous, id_key)


def _run(ordered: list[CompiledSegment], profiles: Iterable[Any], clock: Clock,
         previous: Mapping[str, Mapping[str, Any]] | None,
         id_key: str | None) -> Iterator[dict[str, Any]]:
    for item in profiles:
        profile, events = _split(item)
        prior: Mapping[str, Any] | None = None
        if previous is not None:
            if not isinstance(profile, Mapping):
                raise evaluation_error("a profile must be a JSON object")
            pid = profile_id(profile, id_key)
            prior = previous.get(pid, {}) if pid is not None else {}
        yield membership_for(ordered, profile, events, clock, prior)
