"""Segment jobs offline: ``POST /segment/jobs`` run against local definitions and profiles.

:func:`run_segment_job` evaluates the requested audiences over the profiles, writes each
profile's new ``segmentMembership`` (NDJSON or Parquet, one ``{"id", "segmentMembership"}``
record per profile) and returns a segment job response in Adobe's shape (JOBS): ``id``,
``status`` (``SUCCEEDED``/``FAILED``), ``segments`` with their definitions, ``metrics`` and
``errors`` (each with the place it refers to).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pqltools.definitions import Definition
from pqltools.jobs.common import (
    JobError,
    Profile,
    Timer,
    compile_definitions,
    definition_id,
    read_profiles,
    run_segments,
)
from pqltools.jobs.data import MEMBERSHIP_PARQUET_TYPE, output_format, write_records
from pqltools.jobs.requests import SegmentJobRequest
from pqltools.runtime.context import make_clock
from pqltools.runtime.functions import MEMBER_STATUSES
from pqltools.runtime.membership import namespace_key
from pqltools.runtime.timephrases import iso

__all__ = ["SegmentJobResult", "identity_namespaces", "run_segment_job"]

MEMBERSHIP_COLUMNS = {"segmentMembership": MEMBERSHIP_PARQUET_TYPE}


@dataclass
class SegmentJobResult:
    """The response body, and the membership records when no output file was given."""

    response: dict[str, Any]
    memberships: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.response.get("status") == "SUCCEEDED"


def identity_namespaces(profile: dict[str, Any]) -> list[str]:
    """The identity namespaces of a profile's ``identityMap`` (for per-namespace counters)."""
    identities = profile.get("identityMap")
    if not isinstance(identities, dict):
        return []
    return [ns for ns, ids in identities.items() if isinstance(ids, list) and ids]


def select_definitions(request: SegmentJobRequest, definitions: list[Definition],
                       locate: Callable[[int], str | None] | None = None
                       ) -> tuple[list[Definition], list[JobError]]:
    """The definitions the request names (``*``: all of them), and an error per unknown id."""
    by_id: dict[str, Definition] = {}
    for d in definitions:
        by_id.setdefault(definition_id(d), d)
    if "*" in request.segment_ids:
        return list(by_id.values()), []
    chosen: list[Definition] = []
    errors: list[JobError] = []
    for i, seg in enumerate(request.segment_ids):
        if seg in by_id:
            chosen.append(by_id[seg])
        else:
            errors.append(JobError("PQL096", f"segment {seg!r} is not defined in the "
                                   "--definitions given", locate(i) if locate else None))
    # segments the chosen ones read with inSegment run too when defined, as Adobe does
    wanted = {definition_id(d) for d in chosen}
    pending = list(chosen)
    while pending:
        d = pending.pop()
        for dep in _in_segment_ids(d.expression):
            if dep in by_id and dep not in wanted:
                wanted.add(dep)
                chosen.append(by_id[dep])
                pending.append(by_id[dep])
    return chosen, errors


def _in_segment_ids(text: str) -> set[str]:
    """The audiences a definition reads with ``inSegment("...")`` (none if it does not parse:
    compiling it reports why)."""
    from pqltools.errors import PQLError
    from pqltools.runtime.membership import _dependencies  # the runtime's own dependency walk
    from pqltools.syntax.parser import parse

    try:
        return _dependencies(parse(text))
    except PQLError:
        return set()


def run_segment_job(request: SegmentJobRequest, definitions: list[Definition],
                    profiles: str | Path | Iterable[Any], *, engine: str = "python",
                    now: Any = None, output: str | Path | None = None,
                    output_format_name: str | None = None, previous: dict[str, Any] | None = None,
                    events_key: str = "events", id_key: str | None = None,
                    errors: list[JobError] | None = None, job_id: str | None = None,
                    locate: Callable[[int], str | None] | None = None,
                    progress: Callable[[int], None] | None = None) -> SegmentJobResult:
    """Run a segment job offline and return its response (see the module docstring).

    ``profiles`` is a path, directory or glob of NDJSON/Parquet files, or an iterable of
    profiles or ``(profile, events)`` pairs. ``previous`` maps profile ids to their stored
    ``segmentMembership`` (default: each profile's own). ``locate(i)`` names the place of the
    request's i-th segment id, for errors. ``progress(n)`` is called with the number of profiles
    done so far.
    """
    errors = list(errors or [])
    total = Timer()
    clock = make_clock(now)
    chosen, missing = select_definitions(request, definitions, locate)
    errors.extend(missing)
    compiled, compile_errors = compile_definitions(chosen)
    errors.extend(compile_errors)
    requested = set(request.segment_ids)
    ran = {seg.id for seg in compiled}
    reported = [d for d in chosen if definition_id(d) in ran
                and ("*" in requested or definition_id(d) in requested)]
    counters = _Counters([definition_id(d) for d in reported])
    segmentation = Timer()
    stream = read_profiles(profiles, events_key=events_key, id_key=id_key, errors=errors)
    results = run_segments(compiled, stream, engine=engine, now=clock, previous=previous,
                           id_key=id_key, errors=errors)

    def records() -> Iterator[dict[str, Any]]:
        for done, (profile, membership) in enumerate(results, 1):
            prior = previous.get(profile.id) if previous is not None \
                else profile.profile.get("segmentMembership")
            counters.add(profile, membership, prior if isinstance(prior, dict) else {})
            if progress is not None:
                progress(done)
            yield {"id": profile.id, "segmentMembership": membership}

    memberships: list[dict[str, Any]] = []
    out_info: dict[str, Any] | None = None
    if compiled or not errors:
        if output is not None:
            fmt = output_format(output, output_format_name)
            written = write_records(records(), output, fmt, typed=MEMBERSHIP_COLUMNS)
            out_info = {"path": str(output), "format": fmt, "records": written}
        else:
            memberships = list(records())
    segmentation.stop()
    total.stop()
    merge = _merge_policies(reported)
    metrics: dict[str, Any] = {
        "totalTime": total.as_json(),
        "profileSegmentationTime": segmentation.as_json(),
        "totalProfiles": counters.profiles,
        "segmentedProfileCounter": counters.qualified,
        "segmentedProfileByNamespaceCounter": counters.by_namespace,
        "segmentedProfileByStatusCounter": counters.by_status,
        "totalProfilesByMergePolicy": {m: counters.profiles for m in merge},
        "profilesPerSecond": round(counters.profiles / segmentation.seconds, 1)
        if segmentation.seconds > 0 else None,
    }
    stamp = int(total.end * 1000) if total.end else 0
    response: dict[str, Any] = {
        "id": job_id or str(uuid.uuid4()),
        "profileInstanceId": "ups",
        "source": "pqltools",
        "status": "FAILED" if errors else "SUCCEEDED",
        "segments": [_segment_item(d) for d in reported]
        + [{"segmentId": s} for s in request.segment_ids if s != "*"
           and s not in {definition_id(d) for d in reported}],
        "metrics": metrics,
        "errors": [e.as_json() for e in errors],
        "schema": {"name": request.schema_name},
        "properties": {"engine": engine, "evaluationTime": iso(clock.now)},
        "creationTime": int(total.start * 1000),
        "updateTime": stamp,
        "updateEpoch": stamp // 1000,
    }
    if out_info is not None:
        response["output"] = out_info
    return SegmentJobResult(response, memberships)


def _segment_item(d: Definition) -> dict[str, Any]:
    seg_id = definition_id(d)
    inner: dict[str, Any] = {"id": seg_id, "expression": {
        "type": "PQL", "format": "pql/text", "value": d.expression}}
    for key in ("name", "mergePolicyId", "mergePolicy"):
        if key in d.raw:
            inner[key] = d.raw[key]
    return {"segmentId": seg_id, "segment": inner}


def _merge_policies(definitions: list[Definition]) -> list[str]:
    found = {str(d.raw["mergePolicyId"]) for d in definitions
             if isinstance(d.raw.get("mergePolicyId"), str)}
    return sorted(found) or ["default"]


def _status(entry: Any) -> str | None:
    status = entry.get("status") if isinstance(entry, dict) else None
    return status.lower() if isinstance(status, str) else None


class _Counters:
    """The per-segment counters of Adobe's segment job metrics."""

    def __init__(self, segment_ids: list[str]) -> None:
        self.ids = segment_ids
        self.profiles = 0
        self.qualified: dict[str, int] = {s: 0 for s in segment_ids}
        self.by_status: dict[str, dict[str, int]] = {
            s: {"realized": 0, "existing": 0, "exited": 0} for s in segment_ids}
        self.by_namespace: dict[str, Counter[str]] = {s: Counter() for s in segment_ids}

    def add(self, profile: Profile, membership: dict[str, Any], prior: dict[str, Any]) -> None:
        self.profiles += 1
        entries = membership.get(namespace_key(membership), {})
        before = prior.get(namespace_key(prior))
        before = before if isinstance(before, dict) else {}
        namespaces = identity_namespaces(profile.profile)
        for seg in self.ids:
            entry = entries.get(seg)
            status = entry.get("status") if isinstance(entry, dict) else None
            if status == "exited" and _status(before.get(seg)) not in MEMBER_STATUSES:
                continue  # an earlier exit carried over, not one of this run
            if status in self.by_status[seg]:
                self.by_status[seg][status] += 1
                if status != "exited":
                    self.qualified[seg] += 1
                    self.by_namespace[seg].update(namespaces)
