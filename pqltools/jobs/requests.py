"""Segmentation API request bodies: read, checked against Adobe's documented constraints, located.

Each reader takes the JSON text of a body and returns a typed request, or raises
:class:`RequestError` naming the file, line and column of the first problem (exit code 2 in the
CLI). :func:`check_body` returns every problem as :class:`~pqltools.errors.Diagnostic` data
instead, for ``pql lint`` (schedules and ad-hoc activation bodies included).

Codes: ``PQL093`` a body the job commands cannot run; ``PQL501``-``PQL509`` findings of
``pql lint`` on request bodies (docs/jobs.md lists them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pqltools.definitions import Definition, locate_strings, request_kind
from pqltools.definitions import _definition as build_definition  # positions into the file
from pqltools.definitions import _json_type as json_type_name  # one naming of JSON types
from pqltools.errors import NO_SPAN, DefinitionError, Diagnostic, Severity, Span

__all__ = [
    "MEMBER_STATUSES_DEFAULT",
    "STATUSES",
    "Body",
    "ExportRequest",
    "RequestError",
    "SegmentFilter",
    "SegmentJobRequest",
    "check_body",
    "parse_body",
    "parse_export_request",
    "parse_preview_request",
    "parse_segment_job_request",
    "parse_time",
    "preview_definition",
]

STATUSES = ("realized", "existing", "exited")
#: ``filter.segments[].status`` when absent: members at the current time (EXPORT).
MEMBER_STATUSES_DEFAULT = ("realized", "existing")
#: Adobe's limit of audiences in one ad-hoc activation job.
ACTIVATION_LIMIT = 80

Where = tuple[Any, ...]


class RequestError(DefinitionError):
    """A request body the job commands cannot run, with the place of the problem."""

    def __init__(self, message: str, *, path: str, span: Span = NO_SPAN,
                 text: str | None = None, code: str = "PQL093") -> None:
        super().__init__(message, path=path, span=span, code=code, text=text)


@dataclass
class Body:
    """A decoded JSON body, its text and the place of every value in it."""

    label: str
    text: str | None
    value: Any
    spans: dict[Where, tuple[int, int]] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)

    def span(self, where: Where, key: bool = False) -> Span:
        """The span of the value at ``where`` (or of its nearest present parent)."""
        if self.text is None:
            return Span(0, 0, 1, 1, 1, 1)
        for n in range(len(where), -1, -1):
            found = self.spans.get(where[:n])
            if found:
                return Span.from_offsets(self.text, *found)
        return Span.from_offsets(self.text, 0, 0)

    def report(self, where: Where, message: str, code: str = "PQL093",
               severity: Severity = Severity.ERROR, offset: tuple[int, int] | None = None) -> None:
        """Record a problem at ``where`` (``offset``: a part of that string value)."""
        span = self.span(where)
        if offset is not None and self.text is not None and span.end - span.start >= 2:
            start = span.start + 1 + offset[0]
            span = Span.from_offsets(self.text, start, span.start + 1 + offset[1])
        self.problems.append(Diagnostic(code, message, severity, span))

    def fail(self) -> None:
        """Raise the first error recorded, if any."""
        for d in self.problems:
            if d.severity is Severity.ERROR:
                raise RequestError(d.message, path=self.label, span=d.span, text=self.text,
                                   code=d.code)

    # -- typed access: each getter reports a wrong type and returns a usable default -------
    def get(self, obj: Any, where: Where, key: str, kinds: tuple[type, ...], what: str,
            default: Any = None, required: bool = False) -> Any:
        """``obj[key]`` when it has one of ``kinds``; a problem (and ``default``) otherwise."""
        if not isinstance(obj, dict) or key not in obj:
            if required:
                self.report(where, f"`{_path(where + (key,))}` is required")
            return default
        value = obj[key]
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            self.report(where + (key,), f"`{_path(where + (key,))}` must be {what}, "
                        f"not {_json_type(value)}")
            return default
        return value


def _path(where: Where) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _json_type(value: Any) -> str:
    """``a string``, ``an array``...: the JSON type of a decoded value, with its article."""
    name = json_type_name(value)
    return f"{_a(name)} {name}" if value is not None else "null"


def parse_body(source: str, text: str | None = None) -> Body:
    """Decode a body from a file (``text`` None: read ``source``) or from ``text``."""
    if text is None:
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        except UnicodeDecodeError as exc:
            raise RequestError(f"file is not UTF-8 text (byte {exc.start})", path=source) from None
        except OSError as exc:
            raise RequestError(f"cannot read file: {exc.strerror or exc}", path=source) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(f"not valid JSON: {exc.msg}", path=source, text=text,
                           span=Span.from_offsets(text, exc.pos, exc.pos)) from None
    except RecursionError:
        raise RequestError("JSON is nested too deeply", path=source, text=text) from None
    return Body(source, text, value, locate_strings(text))


def parse_time(body: Body, obj: Any, where: Where, key: str) -> int | None:
    """An RFC 3339 timestamp at ``obj[key]`` as epoch milliseconds (a problem if malformed)."""
    value = body.get(obj, where, key, (str,), "an RFC 3339 timestamp string")
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        body.report(where + (key,), f"`{_path(where + (key,))}` is not an RFC 3339 timestamp: "
                    f"{value!r} (like 2018-01-01T00:00:00Z)")
        return None
    if parsed.tzinfo is None:
        body.report(where + (key,), f"`{_path(where + (key,))}` has no time zone offset "
                    "(RFC 3339 requires one, e.g. Z)")
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


# -- segment jobs -------------------------------------------------------------------------

@dataclass(frozen=True)
class SegmentJobRequest:
    """``POST /segment/jobs``: the audience ids to evaluate (``*``: every definition given)."""

    segment_ids: tuple[str, ...]
    schema_name: str = "_xdm.context.profile"
    raw: Any = None


def parse_segment_job_request(body: Body) -> SegmentJobRequest:
    """A segment job request: ``[{"segmentId": ...}]`` or ``{"schema", "segments": [...]}``."""
    value = body.value
    where: Where = ()
    schema_name = "_xdm.context.profile"
    kind = request_kind(value)
    if kind not in (None, "segment job request"):
        body.report((), "a segment job request is an array of {\"segmentId\": ...} objects; "
                    f"this is {_a(kind)} {kind} body")
        body.fail()
    if isinstance(value, dict):
        schema = body.get(value, (), "schema", (dict,), "an object", {})
        schema_name = body.get(schema, ("schema",), "name", (str,), "a string", schema_name)
        items = body.get(value, (), "segments", (list,), "an array", None, required=True)
        where = ("segments",)
    elif isinstance(value, list):
        items = value
    else:
        body.report((), "a segment job request is an array of {\"segmentId\": ...} objects")
        items = None
    ids: list[str] = []
    if items is not None and not items:
        body.report(where, "a segment job request names at least one segmentId")
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            body.report(where + (i,), f"segment job item {i} must be an object with `segmentId`")
            continue
        seg = body.get(item, where + (i,), "segmentId", (str,), "a string", required=True)
        if seg is not None and not seg.strip():
            body.report(where + (i, "segmentId"), "`segmentId` is empty")
        elif seg is not None:
            if seg in ids:
                body.report(where + (i, "segmentId"), f"segment {seg!r} is named twice",
                            code="PQL501", severity=Severity.WARNING)
            else:
                ids.append(seg)
    body.fail()
    return SegmentJobRequest(tuple(ids), schema_name, value)


# -- export jobs --------------------------------------------------------------------------

@dataclass(frozen=True)
class SegmentFilter:
    """One ``filter.segments`` item."""

    segment_id: str
    namespace: str = "ups"
    statuses: tuple[str, ...] = MEMBER_STATUSES_DEFAULT


@dataclass(frozen=True)
class ExportRequest:
    """``POST /export/jobs``, every field the offline run uses (see docs/jobs.md)."""

    fields: tuple[str, ...] = ()
    merge_policy: dict[str, Any] | None = None
    segments: tuple[SegmentFilter, ...] = ()
    qualification_start: int | None = None
    qualification_end: int | None = None
    from_ingest: int | None = None
    empty_profiles: bool = False
    event_fields: tuple[str, ...] | None = None  # None: no events exported
    events_from_ingest: int | None = None
    events_to_ingest: int | None = None
    dataset_id: str = ""
    segment_per_batch: bool = False
    schema_name: str = "_xdm.context.profile"
    evaluate: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def _field_list(body: Body, obj: Any, where: Where, key: str) -> tuple[str, ...] | None:
    value = body.get(obj, where, key, (str,), "a comma-separated string of field paths")
    if value is None:
        return None
    out: list[str] = []
    offset = 0
    for part in value.split(","):
        name = part.strip()
        if name:
            if any(not p for p in name.split(".")):
                start = offset + part.index(name)
                body.report(where + (key,), f"field path {name!r} has an empty part",
                            offset=(start, start + len(name)))
            out.append(name)
        offset += len(part) + 1
    return tuple(out)


def parse_export_request(body: Body) -> ExportRequest:
    """An export job request, checked field by field (unknown fields are left alone)."""
    v = body.value
    if not isinstance(v, dict):
        kind = request_kind(v)
        body.report((), "an export job request is a JSON object"
                    + (f"; this is {_a(kind)} {kind} body" if kind else ""))
        body.fail()
    fields = _field_list(body, v, (), "fields") or ()
    merge = body.get(v, (), "mergePolicy", (dict,), "an object")
    if merge is not None:
        body.get(merge, ("mergePolicy",), "id", (str,), "a string")
        body.get(merge, ("mergePolicy",), "version", (int,), "an integer")
    flt = body.get(v, (), "filter", (dict,), "an object", {})
    segments: list[SegmentFilter] = []
    for i, item in enumerate(body.get(flt, ("filter",), "segments", (list,), "an array", [])):
        where = ("filter", "segments", i)
        if not isinstance(item, dict):
            body.report(where, "a `filter.segments` item must be an object with `segmentId`")
            continue
        seg = body.get(item, where, "segmentId", (str,), "a string", required=True)
        ns = body.get(item, where, "segmentNs", (str,), "a string", "ups")
        statuses = body.get(item, where, "status", (list,), "an array of statuses",
                            list(MEMBER_STATUSES_DEFAULT))
        checked: list[str] = []
        for j, status in enumerate(statuses):
            if not isinstance(status, str) or status.lower() not in STATUSES:
                body.report(where + ("status", j), f"status {status!r} is not one of "
                            + ", ".join(STATUSES))
            else:
                checked.append(status.lower())
        if not statuses:
            body.report(where + ("status",), "an empty `status` list exports nobody")
        if seg is not None:
            segments.append(SegmentFilter(seg, ns, tuple(checked)))
    qual = body.get(flt, ("filter",), "segmentQualificationTime", (dict,), "an object", {})
    start = parse_time(body, qual, ("filter", "segmentQualificationTime"), "startTime")
    end = parse_time(body, qual, ("filter", "segmentQualificationTime"), "endTime")
    if start is not None and end is not None and start > end:
        body.report(("filter", "segmentQualificationTime", "endTime"),
                    "`endTime` is before `startTime`: no qualification can match")
    from_ingest = parse_time(body, flt, ("filter",), "fromIngestTimestamp")
    empty = body.get(flt, ("filter",), "emptyProfiles", (bool,), "true or false", False)
    extra = body.get(v, (), "additionalFields", (dict,), "an object", {})
    events = body.get(extra, ("additionalFields",), "eventList", (dict,), "an object")
    event_fields: tuple[str, ...] | None = None
    ev_from = ev_to = None
    if events is not None:
        at: Where = ("additionalFields", "eventList")
        event_fields = _field_list(body, events, at, "fields") or ()
        ev_filter = body.get(events, at, "filter", (dict,), "an object", {})
        ev_from = parse_time(body, ev_filter, at + ("filter",), "fromIngestTimestamp")
        ev_to = parse_time(body, ev_filter, at + ("filter",), "toIngestTimestamp")
    destination = body.get(v, (), "destination", (dict,), "an object", {}, required=True)
    dataset = body.get(destination, ("destination",), "datasetId", (str,), "a string", "",
                       required="destination" in v)
    per_batch = body.get(destination, ("destination",), "segmentPerBatch", (bool,),
                         "true or false", False)
    schema = body.get(v, (), "schema", (dict,), "an object", {}, required=True)
    schema_name = body.get(schema, ("schema",), "name", (str,), "a string",
                           "_xdm.context.profile", required="schema" in v)
    info = body.get(v, (), "evaluationInfo", (dict,), "an object", {})
    evaluate = body.get(info, ("evaluationInfo",), "segmentation", (bool,), "true or false",
                        False)
    body.fail()
    return ExportRequest(fields, merge, tuple(segments), start, end, from_ingest, empty,
                         event_fields, ev_from, ev_to, dataset, per_batch, schema_name, evaluate,
                         v)


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


# -- previews ----------------------------------------------------------------------------

def parse_preview_request(body: Body) -> str:
    """The PQL text of a preview request (``POST /preview``): ``predicateExpression``, whose
    ``predicateType`` must be ``pql/text`` (the only one Adobe accepts)."""
    v = body.value
    text = body.get(v, (), "predicateExpression", (str,), "a PQL string", "", required=True)
    kind = body.get(v, (), "predicateType", (str,), "a string", "pql/text")
    if kind != "pql/text":
        body.report(("predicateType",), f"predicateType {kind!r}: Adobe's preview accepts "
                    "pql/text only")
    body.get(v, (), "predicateModel", (str,), "a schema class name")
    body.fail()
    return str(text)


def preview_definition(body: Body) -> Definition | None:
    """A preview request's ``predicateExpression`` as a :class:`Definition` whose positions
    point into the body's file (so ``pql lint`` runs the PQL rules on it); None for another
    body or a predicate that is not PQL text."""
    v = body.value
    if request_kind(v) != "preview request" or not isinstance(v.get("predicateExpression"), str) \
            or v.get("predicateType", "pql/text") != "pql/text":
        return None
    spans = {("expression", "value"): body.spans[("predicateExpression",)]} \
        if ("predicateExpression",) in body.spans else {}
    item = {"name": "predicateExpression", "expression": {
        "type": "PQL", "format": "pql/text", "value": v["predicateExpression"]}}
    return build_definition(body.label, body.text, spans, (), 0, item)


# -- lint: schedules and ad-hoc activation bodies -------------------------------------------

def check_body(body: Body) -> list[Diagnostic] | None:
    """Lint findings for a request body, or None when ``body`` is not one we know.

    Schedules (``POST /config/schedules``) and ad-hoc activation bodies (``activationInfo``)
    are checked against the documented constraints; segment job and export job requests are
    checked as the job commands read them.
    """
    kind = request_kind(body.value)
    checks: dict[str, Callable[[Body], None]] = {
        "schedule": _check_schedule,
        "ad-hoc activation request": _check_activation,
        "segment job request": _quiet(parse_segment_job_request),
        "export job": _quiet(parse_export_request),
        "preview request": _quiet(parse_preview_request),
    }
    check = checks.get(kind or "")
    if check is None:
        return None
    check(body)
    # the generic checks report with PQL093 (what the job commands exit on); lint says PQL501
    return [_lint_code(d) for d in body.problems]


def _quiet(parse: Callable[[Body], Any]) -> Callable[[Body], None]:
    def run(body: Body) -> None:
        try:
            parse(body)
        except RequestError:
            pass  # the problems stay recorded on the body
    return run


SCHEDULE_TYPES = ("batch_segmentation", "export")
SCHEDULE_STATES = ("active", "inactive")


def _check_schedule(body: Body) -> None:
    v = body.value
    name = body.get(v, (), "name", (str,), "a string", required=True)
    if name is not None and not name.strip():
        body.report(("name",), "`name` is empty", code="PQL501")
    kind = body.get(v, (), "type", (str,), "a string", required=True)
    if kind is not None and kind not in SCHEDULE_TYPES:
        body.report(("type",), f"schedule type {kind!r} is not one of "
                    + ", ".join(SCHEDULE_TYPES), code="PQL501")
    props = body.get(v, (), "properties", (dict,), "an object", None, required=True)
    if isinstance(props, dict):
        segments = body.get(props, ("properties",), "segments", (list,), "an array", None,
                            required=kind == "batch_segmentation")
        _check_schedule_segments(body, segments)
    state = body.get(v, (), "state", (str,), "a string")
    if state is not None and state not in SCHEDULE_STATES:
        body.report(("state",), f"state {state!r} is not one of " + ", ".join(SCHEDULE_STATES),
                    code="PQL501")
    cron = body.get(v, (), "schedule", (str,), "a cron expression string")
    if cron is not None:
        from pqltools.jobs.cron import check_cron

        for message, code, (start, end) in check_cron(cron):
            body.report(("schedule",), message, code=code, offset=(start, end))


def _check_schedule_segments(body: Body, segments: list[Any] | None) -> None:
    if segments is None:
        return
    where: Where = ("properties", "segments")
    if not segments:
        body.report(where, "`properties.segments` is empty: the schedule evaluates nothing "
                    '(use ["*"] for every segment)', code="PQL502", severity=Severity.WARNING)
    seen: set[str] = set()
    for i, seg in enumerate(segments):
        if not isinstance(seg, str) or not seg.strip():
            body.report(where + (i,), "a `properties.segments` item must be a segment id "
                        "string (or \"*\")", code="PQL502")
        elif seg in seen:
            body.report(where + (i,), f"segment {seg!r} is listed twice", code="PQL502",
                        severity=Severity.WARNING)
        else:
            seen.add(seg)
    if "*" in seen and len(seen) > 1:
        body.report(where, '"*" already includes every segment; the other ids are redundant',
                    code="PQL502", severity=Severity.WARNING)


def _check_activation(body: Body) -> None:
    v = body.value
    info = body.get(v, (), "activationInfo", (dict,), "an object mapping destination ids to "
                    "arrays of audience ids", None, required=True)
    audiences: set[str] = set()
    if isinstance(info, dict):
        if not info:
            body.report(("activationInfo",), "`activationInfo` names no destination",
                        code="PQL505")
        for dest, ids in info.items():
            where: Where = ("activationInfo", dest)
            if not dest.strip():
                body.report(where, "a destination id is empty", code="PQL505")
            if not isinstance(ids, list):
                body.report(where, f"destination {dest!r} must map to an array of audience ids, "
                            f"not {_json_type(ids)}", code="PQL505")
                continue
            if not ids:
                body.report(where, f"destination {dest!r} activates no audience", code="PQL505",
                            severity=Severity.WARNING)
            seen: set[str] = set()
            for i, seg in enumerate(ids):
                if not isinstance(seg, str) or not seg.strip():
                    body.report(where + (i,), "an audience id must be a non-empty string",
                                code="PQL505")
                elif seg in seen:
                    body.report(where + (i,), f"audience {seg!r} is listed twice for "
                                f"destination {dest!r}", code="PQL505",
                                severity=Severity.WARNING)
                else:
                    seen.add(seg)
            audiences |= seen
        if len(audiences) > ACTIVATION_LIMIT:
            body.report(("activationInfo",), f"{len(audiences)} audiences in one ad-hoc "
                        f"activation job: Adobe allows at most {ACTIVATION_LIMIT} (the job "
                        "fails)", code="PQL506")
    export_ids = body.get(v, (), "exportIds", (list,), "an array of export job ids")
    if export_ids is not None:
        body.report(("exportIds",), "`exportIds` is only read by version 1 of the ad-hoc "
                    "activation API; version 2 ignores it", code="PQL507",
                    severity=Severity.INFO)
        for i, item in enumerate(export_ids):
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                body.report(("exportIds", i), "an export job id must be a string or number",
                            code="PQL507")


def _lint_code(d: Diagnostic) -> Diagnostic:
    if d.code != "PQL093":
        return d
    return Diagnostic("PQL501", d.message, d.severity, d.span, d.fix, d.help)
