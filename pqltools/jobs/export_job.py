"""Export jobs offline: ``POST /export/jobs`` run against local profiles.

:func:`run_export_job` applies every field of Adobe's export job request (EXPORT) to the
profiles and writes the exported records (NDJSON or Parquet), returning an export job response
in Adobe's shape with metrics. How each field is read offline (docs/jobs.md, "Export jobs"):

* ``fields``: comma-separated dotted paths kept in each record (all fields when absent), plus the
  profile id under ``_id``; ``segmentMembership`` is exported whenever segments are filtered on,
  reduced to those segments.
* ``mergePolicy``: the input profiles are already merged, so it is echoed and noted, not applied.
* ``filter.segments``: a profile is exported when, for at least one item, its membership in
  ``segmentNs`` (case-insensitive, default ``ups``) of ``segmentId`` has a status in ``status``
  (default realized and existing) and, with ``filter.segmentQualificationTime``, a
  ``lastQualificationTime`` in ``[startTime, endTime]``.
* ``filter.fromIngestTimestamp``: only profiles whose ``_repo.modifyDate`` (else
  ``_repo.createDate``) is after it; profiles without either are not exported.
* ``filter.emptyProfiles``: a profile with no attribute besides identities, ``_repo`` and
  ``segmentMembership`` (events only) is exported only when true (default false).
* ``additionalFields.eventList``: when present, events are exported under ``events``, reduced to
  its ``fields`` and to those ingested (``_repo.createDate``) after ``filter.fromIngestTimestamp``
  and before ``filter.toIngestTimestamp``; when absent, no events are exported.
* ``destination.segmentPerBatch``: true writes one file per ``filter.segments`` item
  (``OUTPUT`` with the segment id before the suffix) and lists them in ``destination.batches``.
* ``schema.name``: echoed (``_xdm.context.profile`` is the only class exported).
* ``evaluationInfo.segmentation``: true evaluates the filter's segments first (a segment job over
  the same profiles, with ``definitions``), then filters on the new membership.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pqltools.definitions import Definition
from pqltools.jobs.common import JobError, Timer, compile_definitions, read_profiles, run_segments
from pqltools.jobs.data import output_format, write_records
from pqltools.jobs.requests import ExportRequest, SegmentJobRequest
from pqltools.jobs.segment_job import identity_namespaces, select_definitions
from pqltools.runtime.context import make_clock
from pqltools.runtime.membership import namespace_key
from pqltools.runtime.timephrases import TimestampError, to_millis

__all__ = ["ExportResult", "export_record", "run_export_job", "selects"]

#: Profile keys that are not "profile record" attributes (for ``filter.emptyProfiles``).
IDENTITY_KEYS = frozenset({"_id", "id", "personID", "personId", "identityMap", "identities",
                           "_repo", "segmentMembership"})
MERGE_NOTE = ("mergePolicy: the input profiles are already merged; the merge policy is echoed "
              "and not applied")


@dataclass
class ExportResult:
    """The response body, and the exported records when no output file was given."""

    response: dict[str, Any]
    records: list[dict[str, Any]]

    @property
    def succeeded(self) -> bool:
        return self.response.get("status") == "SUCCEEDED"


def _get_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


_MISSING = object()


def project(value: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """``value`` reduced to the dotted ``fields`` (nesting kept; absent fields left out)."""
    out: dict[str, Any] = {}
    for path in fields:
        found = _get_path(value, path)
        if found is _MISSING:
            continue
        parts = path.split(".")
        target = out
        for part in parts[:-1]:
            nxt = target.get(part)
            if not isinstance(nxt, dict):
                nxt = target[part] = {}
            target = nxt
        target[parts[-1]] = copy.deepcopy(found)
    return out


def _ingest_time(record: dict[str, Any]) -> int | None:
    repo = record.get("_repo")
    for key in ("modifyDate", "createDate"):
        value = repo.get(key) if isinstance(repo, dict) else None
        if value is not None:
            try:
                return to_millis(value)
            except TimestampError:
                return None
    return None


def is_empty_profile(profile: dict[str, Any]) -> bool:
    """A profile with no profile-record attribute (only identities, events, membership)."""
    return all(k in IDENTITY_KEYS for k in profile)


def selects(request: ExportRequest, membership: dict[str, Any]) -> list[int]:
    """Indices of the ``filter.segments`` items that ``membership`` satisfies (all: [-1])."""
    if not request.segments:
        return [-1]
    hits: list[int] = []
    for i, seg in enumerate(request.segments):
        entries = membership.get(namespace_key(membership, seg.namespace))
        entry = entries.get(seg.segment_id) if isinstance(entries, dict) else None
        if not isinstance(entry, dict):
            continue
        status = entry.get("status")
        if not isinstance(status, str) or status.lower() not in seg.statuses:
            continue
        if request.qualification_start is not None or request.qualification_end is not None:
            try:
                when = to_millis(entry.get("lastQualificationTime"))
            except TimestampError:
                continue
            if request.qualification_start is not None and when < request.qualification_start:
                continue
            if request.qualification_end is not None and when > request.qualification_end:
                continue
        hits.append(i)
    return hits


def export_record(request: ExportRequest, pid: str, profile: dict[str, Any],
                  events: list[Any] | None, membership: dict[str, Any]) -> dict[str, Any]:
    """The exported record of one selected profile (see the module docstring)."""
    record = project(profile, request.fields) if request.fields else {
        k: copy.deepcopy(v) for k, v in profile.items() if k != "segmentMembership"}
    record = {"_id": pid, **{k: v for k, v in record.items() if k != "_id"}}
    if request.segments:
        reduced: dict[str, Any] = {}
        for seg in request.segments:
            key = namespace_key(membership, seg.namespace)
            entry = (membership.get(key) or {}).get(seg.segment_id)
            if entry is not None:
                reduced.setdefault(key, {})[seg.segment_id] = copy.deepcopy(entry)
        record["segmentMembership"] = reduced
    elif not request.fields or "segmentMembership" in request.fields:
        record["segmentMembership"] = copy.deepcopy(membership)
    if request.event_fields is not None:
        kept = []
        for event in events or []:
            if not isinstance(event, dict):
                continue
            when = _ingest_time(event)
            if request.events_from_ingest is not None and (
                    when is None or when <= request.events_from_ingest):
                continue
            if request.events_to_ingest is not None and (
                    when is None or when >= request.events_to_ingest):
                continue
            kept.append(project(event, request.event_fields) if request.event_fields
                        else copy.deepcopy(event))
        record["events"] = kept
    return record


def run_export_job(request: ExportRequest, profiles: str | Path | Iterable[Any], *,
                   definitions: list[Definition] | None = None,
                   membership: dict[str, Any] | None = None, engine: str = "python",
                   now: Any = None, output: str | Path | None = None,
                   output_format_name: str | None = None, events_key: str = "events",
                   id_key: str | None = None, job_id: str | int | None = None,
                   errors: list[JobError] | None = None) -> ExportResult:
    """Run an export job request offline (see the module docstring for each field).

    ``membership`` maps profile ids to their ``segmentMembership`` (e.g. the output of a segment
    job); by default each profile's own is read. With ``evaluationInfo.segmentation`` true the
    filter's segments are evaluated first from ``definitions``.
    """
    errors = list(errors or [])
    total = Timer()
    clock = make_clock(now)
    stream: Iterator[Any] = read_profiles(profiles, events_key=events_key, id_key=id_key,
                                          errors=errors)
    evaluated: Iterator[tuple[Any, dict[str, Any] | None]]
    if request.evaluate:
        ids = tuple(dict.fromkeys(s.segment_id for s in request.segments)) or ("*",)
        chosen, missing = select_definitions(SegmentJobRequest(ids), definitions or [])
        errors.extend(missing)
        compiled, compile_errors = compile_definitions(chosen)
        errors.extend(compile_errors)
        evaluated = run_segments(compiled, stream, engine=engine, now=clock, previous=membership,
                                 id_key=id_key, errors=errors)
    else:
        evaluated = ((p, None) for p in stream)

    counters = Counter[str]()
    per_segment = Counter[int]()
    skipped = Counter[str]()

    export_time = Timer()
    exported_count = 0

    def selected() -> Iterator[tuple[dict[str, Any], list[int]]]:
        """Each exported record and the ``filter.segments`` items it matched, in input order."""
        nonlocal exported_count
        for p, new_membership in evaluated:
            profile = p.profile
            if new_membership is not None:
                current = new_membership
            elif membership is not None:
                current = membership.get(p.id) or {}
            else:
                current = profile.get("segmentMembership") or {}
            if not request.empty_profiles and is_empty_profile(profile):
                skipped["emptyProfiles"] += 1
                continue
            if request.from_ingest is not None:
                when = _ingest_time(profile)
                if when is None or when <= request.from_ingest:
                    skipped["fromIngestTimestamp"] += 1
                    continue
            hits = selects(request, current if isinstance(current, dict) else {})
            if not hits:
                skipped["segments"] += 1
                continue
            counters.update(identity_namespaces(profile))
            per_segment.update(hits)
            exported_count += 1
            yield export_record(request, p.id, profile, p.events, current), hits

    outputs: list[dict[str, Any]] = []
    destination: dict[str, Any] = {"datasetId": request.dataset_id,
                                   "segmentPerBatch": request.segment_per_batch}
    exported: list[dict[str, Any]] = []
    if output is None:
        exported = [record for record, _ in selected()]
    else:
        fmt = output_format(output, output_format_name)
        if request.segment_per_batch and request.segments:
            kept = list(selected())  # one pass over the profiles feeds every batch file
            batches = []
            for i, seg in enumerate(request.segments):
                path = _batch_path(Path(output), seg.segment_id)
                count = write_records((r for r, hits in kept if i in hits), path, fmt)
                batches.append({"segmentId": seg.segment_id, "segmentNs": seg.namespace,
                                "status": list(seg.statuses), "batchId": str(path),
                                "records": count})
                outputs.append({"path": str(path), "format": fmt, "records": count})
            destination["batches"] = batches
        else:  # streamed: memory holds one record at a time
            count = write_records((record for record, _ in selected()), output, fmt)
            destination["batchId"] = str(output)
            outputs.append({"path": str(output), "format": fmt, "records": count})
    export_time.stop()
    total.stop()
    metrics: dict[str, Any] = {
        "totalTime": total.as_json(),
        "profileExportTime": export_time.as_json(),
        "totalExportedProfileCounter": exported_count,
        "exportedProfileByNamespaceCounter": dict(counters),
        "exportedProfileBySegmentCounter": {
            seg.segment_id: per_segment[i] for i, seg in enumerate(request.segments)},
        "profilesNotExportedByFilter": dict(skipped),
    }
    raw = request.raw
    stamp = int(total.end * 1000) if total.end else 0
    response: dict[str, Any] = {
        "id": job_id if job_id is not None else str(uuid.uuid4()),
        "jobType": "BATCH",
        "destination": destination,
        "fields": raw.get("fields", ""),
        "schema": {"name": request.schema_name},
        "status": "FAILED" if errors else "SUCCEEDED",
        "filter": raw.get("filter", {}),
        "additionalFields": raw.get("additionalFields", {}),
        "mergePolicy": raw.get("mergePolicy", {}),
        "profileInstanceId": "ups",
        "errors": [e.as_json() for e in errors],
        "metrics": metrics,
        "creationTime": int(total.start * 1000),
        "updateTime": stamp,
        "notes": [MERGE_NOTE] if "mergePolicy" in raw else [],
    }
    if "evaluationInfo" in raw:
        response["evaluationInfo"] = raw["evaluationInfo"]
    if outputs:
        response["output"] = outputs
    return ExportResult(response, exported)


def _batch_path(output: Path, segment_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in segment_id)
    return output.with_name(f"{output.stem}.{safe}{output.suffix}")
